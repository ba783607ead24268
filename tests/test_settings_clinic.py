"""The Clinic tab of /settings (issue 13): name, currency, country, listing and logo, edited by
the owner only, audited with old and new values, nothing half-saved; the landing page lists
only listed clinics; the public logo route (status codes, caching headers, no other clinic's
logo)."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from medspa.api import v1
from medspa.api.app import api
from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.payments.models import Payment
from medspa.domain.practice.models import ClinicLogo, Organization
from medspa.domain.practice.profile import (CURRENCY_LOCKED, LOGO_MAX, LOGO_MAX_BYTES, LOGO_NOT_IMAGE,
                                            LOGO_TOO_LARGE, LOGO_TOO_MANY_PIXELS, process_logo)
from medspa.domain.practice.profile_actions import (ClinicProfileInput, do_remove_logo, do_set_logo,
                                                    do_update_clinic, fetch_clinic_profile, fetch_listed_clinics,
                                                    fetch_public_logo)
from medspa.domain.scheduling.actions.online import fetch_clinic
from tests.conftest import utc
from tests.factories import build_clinic

CLOCK = FixedClock(utc(2026, 7, 1, 16))


def _png(size=(64, 48), mode="RGBA", color=(10, 120, 110, 255), fmt="PNG") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    img = Image.new(mode, size, color if mode == "RGBA" else color[:3])
    img.save(out, fmt)
    return out.getvalue()


def _org(clinic, owner_engine) -> Organization:
    with Session(owner_engine) as s:
        return s.get(Organization, clinic.org_id)


def _audit(clinic, action: str) -> list[dict]:
    with clinic.session() as s:
        return [e.detail for e in s.exec(select(AuditEvent).where(AuditEvent.action == action)
                                         .order_by(AuditEvent.id))]


def _form(**kw) -> ClinicProfileInput:
    base = {"name": "Glow Aesthetics", "currency": "USD", "country": "US", "listed": False}
    return ClinicProfileInput(**{**base, **kw})


def test_owner_changes_the_clinic_audited_with_old_and_new_values(clinic, owner_engine):
    owner = clinic.staff_actor("owner")
    got = do_update_clinic(owner, _form(name="  Glow Aesthetics ", currency="eur", country="de", listed=True),
                           engine=clinic.engine)
    assert (got.name, got.currency, got.country, got.listed, got.logo_url) == ("Glow Aesthetics", "EUR", "DE", True, "")
    org = _org(clinic, owner_engine)
    assert (org.name, org.currency, org.country, org.listed) == ("Glow Aesthetics", "EUR", "DE", True)
    [detail] = _audit(clinic, "clinic.update")
    assert detail["changes"] == {"name": ["Test Clinic", "Glow Aesthetics"], "currency": ["USD", "EUR"],
                                 "country": ["", "DE"], "listed": [False, True]}
    # the same values again: nothing changes, no second audit row
    do_update_clinic(owner, _form(currency="EUR", country="DE", listed=True), engine=clinic.engine)
    assert len(_audit(clinic, "clinic.update")) == 1
    assert fetch_clinic_profile(owner, engine=clinic.engine).name == "Glow Aesthetics"


def test_bad_fields_get_a_message_each_and_nothing_is_saved(clinic, owner_engine):
    owner = clinic.staff_actor("owner")
    with pytest.raises(ValidationFailed) as err:
        do_update_clinic(owner, _form(name="   ", currency="XYZ", country="ZZ", listed=True), engine=clinic.engine)
    assert set(err.value.fields) == {"name", "currency", "country"}
    with pytest.raises(ValidationFailed) as err:
        do_update_clinic(owner, _form(name="A\x00B" + "x" * 10, listed=True), engine=clinic.engine)
    assert set(err.value.fields) == {"name"}
    with pytest.raises(ValidationFailed):
        do_update_clinic(owner, _form(name="x" * 121), engine=clinic.engine)
    with pytest.raises(ValidationFailed) as err:
        do_update_clinic(owner, ClinicProfileInput("Ok", "USD", "US", "yes"), engine=clinic.engine)  # type: ignore[arg-type]
    assert set(err.value.fields) == {"listed"}
    org = _org(clinic, owner_engine)
    assert (org.name, org.currency, org.country, org.listed) == ("Test Clinic", "USD", "", False)
    assert _audit(clinic, "clinic.update") == []


def test_the_currency_is_locked_once_the_clinic_has_taken_a_payment(clinic, owner_engine):
    owner = clinic.staff_actor("owner")
    do_update_clinic(owner, _form(currency="CAD"), engine=clinic.engine)  # no payment yet: allowed
    with clinic.session() as s:
        s.add(Payment(org_id=clinic.org_id, amount_cents=5000, currency="CAD", status="succeeded", gateway="test",
                      idempotency_key="clinic-currency-test"))
        s.commit()
    assert fetch_clinic_profile(owner, engine=clinic.engine).currency_locked is True
    with pytest.raises(ValidationFailed) as err:
        do_update_clinic(owner, _form(name="Renamed", currency="USD"), engine=clinic.engine)
    assert err.value.fields == {"currency": CURRENCY_LOCKED}
    assert _org(clinic, owner_engine).name == "Glow Aesthetics"  # the whole form was refused
    do_update_clinic(owner, _form(name="Renamed", currency="CAD"), engine=clinic.engine)  # other fields still change
    assert _org(clinic, owner_engine).name == "Renamed"


@pytest.mark.parametrize("role", ["manager", "provider", "front_desk", "lab"])
def test_only_the_owner_may(clinic, role):
    actor = clinic.staff_actor(role)
    for call in (lambda: fetch_clinic_profile(actor, engine=clinic.engine),
                 lambda: do_update_clinic(actor, _form(), engine=clinic.engine),
                 lambda: do_set_logo(actor, _png(), clock=CLOCK, engine=clinic.engine),
                 lambda: do_remove_logo(actor, clock=CLOCK, engine=clinic.engine)):
        with pytest.raises(PermissionDenied):
            call()


def test_the_app_role_cannot_change_another_clinic(clinic, engine, owner_engine):
    other = build_clinic(engine, owner_engine)
    with clinic.session() as s:  # scoped to `clinic`: the other clinic's row is not updatable
        result = s.execute(text("update organization set name = 'Hijacked' where id = :id"), {"id": other.org_id})
        assert result.rowcount == 0
        with pytest.raises(DBAPIError):  # nor a column outside the grant
            s.execute(text("update organization set slug = 'x' where id = :id"), {"id": clinic.org_id})
        s.rollback()
    assert _org(other, owner_engine).name == "Test Clinic"


def test_the_landing_page_lists_only_listed_clinics(clinic, engine, owner_engine):
    hidden = build_clinic(engine, owner_engine)
    do_update_clinic(clinic.staff_actor("owner"), _form(name="Aaa Listed Clinic", listed=True), engine=clinic.engine)
    do_set_logo(clinic.staff_actor("owner"), _png(), clock=CLOCK, engine=clinic.engine)
    version = _org(clinic, owner_engine).logo_version
    listed = {c.slug: c for c in fetch_listed_clinics(limit=1000, engine=engine)}
    assert clinic.slug in listed and hidden.slug not in listed
    assert listed[clinic.slug].name == "Aaa Listed Clinic"
    assert listed[clinic.slug].logo_url == f"/clinics/{clinic.slug}/logo?v={version}"
    # an unlisted clinic's booking page still works
    assert fetch_clinic(hidden.slug, engine=engine).org_id == hidden.org_id
    assert fetch_clinic(clinic.slug, engine=engine).logo_url == f"/clinics/{clinic.slug}/logo?v={version}"


# ---------------------------------------------------------------- logo checks


def test_a_logo_is_re_encoded_as_png_and_downscaled():
    big = process_logo(_png((2400, 1200), mode="RGB", fmt="JPEG"))
    assert (big.content_type, big.width, big.height) == ("image/png", LOGO_MAX, LOGO_MAX // 2)
    assert big.data.startswith(b"\x89PNG")
    small = process_logo(_png((64, 48), fmt="WEBP"))
    assert (small.width, small.height) == (64, 48)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "Choose an image to upload."),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", LOGO_NOT_IMAGE),  # a text file renamed .png
    (b"%PDF-1.4 not an image at all" * 10, LOGO_NOT_IMAGE),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, LOGO_NOT_IMAGE),  # a PNG signature and nothing real
    (b"x" * (LOGO_MAX_BYTES + 1), LOGO_TOO_LARGE),
])
def test_bad_logos_are_refused_with_a_message(data, message):
    with pytest.raises(ValidationFailed) as err:
        process_logo(data)
    assert err.value.fields == {"logo": message}


def test_a_gif_and_a_truncated_png_are_refused():
    with pytest.raises(ValidationFailed):
        process_logo(_png(fmt="GIF", mode="RGB"))
    with pytest.raises(ValidationFailed) as err:
        process_logo(_png((300, 300), mode="RGB", color=(1, 2, 3))[:-40])
    assert err.value.fields == {"logo": LOGO_NOT_IMAGE}


@pytest.mark.parametrize("side", [5_000, 20_000])  # 25 MP (our limit); 400 MP (Pillow's own bomb guard too)
def test_an_image_bomb_is_refused_before_it_is_decoded(side):
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG")  # many megapixels in a few dozen kilobytes
    data = out.getvalue()
    assert len(data) < LOGO_MAX_BYTES
    with pytest.raises(ValidationFailed) as err:
        process_logo(data)
    assert err.value.fields == {"logo": LOGO_TOO_MANY_PIXELS}


def test_set_replace_and_remove_a_logo_audited(clinic, owner_engine):
    owner = clinic.staff_actor("owner")
    do_set_logo(owner, _png(), clock=CLOCK, engine=clinic.engine)
    v1_ = _org(clinic, owner_engine).logo_version
    got = do_set_logo(owner, _png((900, 300), mode="RGB", fmt="JPEG"), clock=CLOCK, engine=clinic.engine)
    v2_ = _org(clinic, owner_engine).logo_version
    assert v2_ > v1_ and got.logo_url == f"/clinics/{clinic.slug}/logo?v={v2_}"
    with clinic.session() as s:
        [row] = s.exec(select(ClinicLogo)).all()
        assert (row.id, row.width, row.height, row.content_type) == (v2_, 512, 171, "image/png")
    first, second = _audit(clinic, "clinic.logo.set")
    assert first["changes"]["logo"][0] is None and first["changes"]["logo"][1]["version"] == v1_
    assert second["changes"]["logo"][0] == {"version": v1_, "width": 64, "height": 48}
    assert second["changes"]["logo"][1]["version"] == v2_
    with pytest.raises(ValidationFailed):  # a bad upload leaves the current logo as it was
        do_set_logo(owner, b"not an image", clock=CLOCK, engine=clinic.engine)
    assert _org(clinic, owner_engine).logo_version == v2_
    assert do_remove_logo(owner, clock=CLOCK, engine=clinic.engine).logo_url == ""
    assert _org(clinic, owner_engine).logo_version is None
    [removed] = _audit(clinic, "clinic.logo.remove")
    assert removed["changes"]["logo"] == [{"version": v2_, "width": 512, "height": 171}, None]
    do_remove_logo(owner, clock=CLOCK, engine=clinic.engine)  # again: nothing to remove, no audit row
    assert len(_audit(clinic, "clinic.logo.remove")) == 1
    # a logo after the removal gets a version never used before: no browser shows a cached old one
    do_set_logo(owner, _png(), clock=CLOCK, engine=clinic.engine)
    assert _org(clinic, owner_engine).logo_version > v2_


def test_the_staff_header_shows_the_clinics_name_and_logo(clinic):
    from medspa.domain.identity.actions import fetch_clinic_header

    desk = clinic.staff_actor("front_desk")
    first = fetch_clinic_header(desk, engine=clinic.engine)
    assert (first.name, first.logo_url) == ("Test Clinic", "")
    do_set_logo(clinic.staff_actor("owner"), _png(), clock=CLOCK, engine=clinic.engine)
    header = fetch_clinic_header(desk, engine=clinic.engine)
    assert header.name == "Test Clinic" and header.logo_url.startswith(f"/clinics/{clinic.slug}/logo?v=")


# ---------------------------------------------------------------- the public route


@pytest.fixture
def http(engine):
    api.dependency_overrides[v1.get_db_engine] = lambda: engine
    yield TestClient(api)
    api.dependency_overrides.clear()


def test_the_public_logo_route(http, clinic, owner_engine):
    assert http.get("/clinics/no-such-clinic/logo").status_code == 404
    assert http.get("/clinics/BAD_slug!/logo").status_code == 404
    r = http.get(f"/clinics/{clinic.slug}/logo")  # a clinic without a logo
    assert r.status_code == 404 and r.headers["cache-control"] == "no-store"
    do_set_logo(clinic.staff_actor("owner"), _png(), clock=CLOCK, engine=clinic.engine)
    v = _org(clinic, owner_engine).logo_version
    r = http.get(f"/clinics/{clinic.slug}/logo?v={v}")  # no cookie, no sign-in
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    assert r.headers["etag"] == f'"{clinic.org_id}-{v}"'
    assert r.headers["cache-control"] == "public, max-age=86400"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.content.startswith(b"\x89PNG")
    assert http.get(f"/clinics/{clinic.slug}/logo").headers["cache-control"] == "public, max-age=300"
    assert http.get(f"/clinics/{clinic.slug}/logo?v={v + 1000}").headers["cache-control"] == "public, max-age=300"
    again = http.get(f"/clinics/{clinic.slug}/logo?v={v}", headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert http.get(f"/clinics/{clinic.slug}/logo?x=1").status_code == 404
    assert http.get(f"/clinics/{clinic.slug}/logo?v=1&v=2").status_code == 404
    assert http.head(f"/clinics/{clinic.slug}/logo?v={v}").status_code == 200
    do_remove_logo(clinic.staff_actor("owner"), clock=CLOCK, engine=clinic.engine)
    assert http.get(f"/clinics/{clinic.slug}/logo?v={v}").status_code == 404


def test_the_logo_route_never_answers_with_another_clinics_logo(http, clinic, engine, owner_engine):
    other = build_clinic(engine, owner_engine)
    do_set_logo(other.staff_actor("owner"), _png(color=(200, 0, 0, 255)), clock=CLOCK, engine=other.engine)
    # the clinic without a logo does not get its neighbour's
    assert http.get(f"/clinics/{clinic.slug}/logo").status_code == 404
    with pytest.raises(NotFound):
        fetch_public_logo(clinic.slug, engine=engine)
    # and the logo rows are tenant rows: a session of one clinic sees no other's
    with clinic.session() as s:
        assert s.exec(select(ClinicLogo)).all() == []
    assert http.get(f"/clinics/{other.slug}/logo").status_code == 200


def test_a_rename_notifies_open_calendars_and_their_views_carry_the_name(clinic, db_urls):
    import psycopg

    from medspa.domain.scheduling.calendar import calendar_day, calendar_week
    from datetime import date

    owner = clinic.staff_actor("owner")
    with psycopg.connect(db_urls[0], autocommit=True) as listener:
        listener.execute("LISTEN calendar_changed")
        do_update_clinic(owner, _form(name="Test Clinic", country="US"), engine=clinic.engine)  # name unchanged
        do_update_clinic(owner, _form(name="Renamed Clinic", country="US"), engine=clinic.engine)
        got = [n.payload for n in listener.notifies(timeout=2, stop_after=2)]
    assert got == [f"{clinic.org_id}:0"]  # one, for the rename only: "every location of the clinic"
    with clinic.session() as s:
        day = calendar_day(s, clinic.staff_actor(), location_id=clinic.location_id, day=date(2026, 7, 15))
        week = calendar_week(s, clinic.staff_actor(), location_id=clinic.location_id, day=date(2026, 7, 15))
    assert day.clinic_name == week.clinic_name == "Renamed Clinic"


def test_a_currency_change_before_the_first_payment_moves_the_services_and_visits_audited(
        clinic, engine, owner_engine):
    """Services (whose currency bookings and deposits take) and the visits booked so far (no
    money taken: the clinic has no payment) follow the clinic's currency in the same
    transaction; the audit row says how many rows moved; another clinic is untouched."""
    from medspa.domain.catalog.models import Service
    from medspa.domain.scheduling.models import Appointment
    from medspa.domain.scheduling.service import hold_slot

    other = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        visit = hold_slot(s, clinic.system, location_id=clinic.location_id, service_id=clinic.services["botox"],
                          start_at=utc(2026, 7, 15, 14), now=CLOCK.now(), source="staff", confirm=True)
        s.commit()
        visit_id, services = visit.id, len(s.exec(select(Service.id)).all())
    do_update_clinic(clinic.staff_actor("owner"), _form(currency="EUR"), engine=clinic.engine)
    with clinic.session() as s:
        assert set(s.exec(select(Service.currency)).all()) == {"EUR"}
        assert s.get(Appointment, visit_id).currency == "EUR"
    with other.session() as s:
        assert set(s.exec(select(Service.currency)).all()) == {"USD"}
    [detail] = _audit(clinic, "clinic.update")
    assert detail["changes"]["currency"] == ["USD", "EUR"]
    assert (detail["services_moved"], detail["appointments_moved"], detail["ledger_lines_moved"]) == (services, 1, 0)
    do_update_clinic(clinic.staff_actor("owner"), _form(name="Renamed", currency="EUR"), engine=clinic.engine)
    assert "services_moved" not in _audit(clinic, "clinic.update")[-1]  # no currency change: nothing moves


def test_the_currency_pickers_offer_only_currencies_in_use():
    """A new user found 307 entries with the Andorran peseta and the old afghani."""
    from datetime import date

    from medspa.domain.practice.clinics import currencies

    codes = dict(currencies(date(2026, 1, 1)))
    assert {"USD", "EUR", "GBP", "JPY", "AUD", "CHF"} <= set(codes)
    assert not {"ADP", "AFA", "DEM", "FRF"} & set(codes)
    assert codes["GBP"] == "British Pound" and 140 <= len(codes) <= 170
