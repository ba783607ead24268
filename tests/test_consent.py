"""Signed, versioned consent (domain/clinical/consent*.py) on real PostgreSQL: versioning and
the database guards, hash pinning, the chart gate, signature validation, what a signature
keeps, the PDF, permissions on every read, audit rows, and the merge moving signatures."""

from __future__ import annotations

import base64
import io
import uuid
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.merge import merge_clients
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.clinical import consent_actions as actions
from medspa.domain.clinical.consent import (edit_template, list_templates, required_consents, set_service_consent,
                                            text_sha256, visit_consents)
from medspa.domain.clinical.consent_models import ConsentSignature, ConsentVersion
from medspa.domain.clinical.consent_signing import (StaleConsent, client_signatures, consents_to_sign,
                                                    png_from_data_url, sign_consent, signature_pdf)
from medspa.domain.clinical.service import ChartLocked, LineInput, save_chart, sign_chart
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import hold_slot
from tests.conftest import utc
from tests.consent_support import MemoryStore

NOW = utc(2026, 7, 1, 16)
NY = ZoneInfo("America/New_York")


def _png(w: int = 400, h: int = 150, *, stroke: bool = True) -> bytes:
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    if stroke:
        ImageDraw.Draw(img).line([(20, 100), (120, 40), (220, 110), (380, 30)], fill=(0, 0, 0, 255), width=3)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _visit(clinic, *, service: str = "botox", day: date = date(2026, 7, 15), hour: int = 10,
           client_id: int | None = None) -> tuple[int, int]:
    with clinic.session() as s:
        if client_id is None:
            client_id = find_or_create_client(s, clinic.system, ClientInput(
                "Zoë", "Stone", f"zoe-{uuid.uuid4().hex[:8]}@example.com", "+12125550160")).id
        start = datetime.combine(day, time(hour), tzinfo=NY).astimezone(timezone.utc)
        appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services[service],
                         start_at=start, now=NOW, client_id=client_id, confirm=True)
        s.commit()
        return appt.id, client_id


def _client_actor(clinic, client_id: int) -> Actor:
    return Actor.client(clinic.org_id, client_id, ip="198.51.100.7", user_agent="Mozilla/5.0 (iPhone) Test")


def _todo(clinic, actor, client_id, **kw):
    with clinic.session() as s:
        out = consents_to_sign(s, actor, client_id, NOW, **kw)
        s.commit()
        return out


def _sign(clinic, actor, client_id, item, store, **kw):
    kw.setdefault("method", "typed")
    kw.setdefault("typed_name", "Zoë Stone")
    with clinic.session() as s:
        out = sign_consent(s, actor, client_id, item.version_id, item.sha256, now=NOW, store=store, **kw)
        s.commit()
        return out


def _templates(clinic):
    with clinic.session() as s:
        out = {t.key: t for t in list_templates(s, clinic.staff_actor("owner"), NOW)}
        s.commit()
        return out


def _edit(clinic, key: str, body_suffix: str, actor=None):
    t = _templates(clinic)[key]
    with clinic.session() as s:
        out = edit_template(s, actor or clinic.staff_actor("manager"), t.id, t.title, t.body + body_suffix, NOW)
        s.commit()
        return out


def _audit(clinic, action: str) -> list:
    with clinic.session() as s:
        return s.execute(text("select actor_role, client_id, object_id, detail from audit_event where action = :a "
                              "order by id"), {"a": action}).all()


# ---------------------------------------------------------------------------- requirements


def test_category_defaults_and_the_per_service_choice(clinic):
    with clinic.session() as s:
        assert [r.key for r in required_consents(s, clinic.services["botox"], now=NOW)] == ["neuromodulator"]
        assert [r.key for r in required_consents(s, clinic.services["laser"], now=NOW)] == ["laser_ipl"]
        assert [r.key for r in required_consents(s, clinic.services["facial"], now=NOW)] == ["general"]
        s.commit()
    t = _templates(clinic)
    assert set(t) == {"neuromodulator", "filler", "laser_ipl", "peel", "microneedling", "general", "photo_use"}
    with clinic.session() as s:  # botox also asks for the photo-use consent, and no longer for the default
        set_service_consent(s, clinic.staff_actor("manager"), clinic.services["botox"], t["photo_use"].id, True, NOW)
        set_service_consent(s, clinic.staff_actor("manager"), clinic.services["botox"], t["neuromodulator"].id,
                            False, NOW)
        assert [r.key for r in required_consents(s, clinic.services["botox"])] == ["photo_use"]
        with pytest.raises(NotFound):
            set_service_consent(s, clinic.staff_actor("front_desk"), clinic.services["botox"], t["filler"].id, True, NOW)


# ---------------------------------------------------------------------------- versioning and hashing


def test_unsigned_version_is_edited_in_place_signed_one_makes_a_new_version(clinic):
    store = MemoryStore()
    assert _edit(clinic, "neuromodulator", "\n\nClinic addition.") == (1, False)
    t = _templates(clinic)["neuromodulator"]
    assert t.version == 1 and t.body.endswith("Clinic addition.") and len(t.versions) == 1
    assert t.versions[0].sha256 == text_sha256(t.title, t.body)
    appt, client_id = _visit(clinic)
    item = _todo(clinic, _client_actor(clinic, client_id), client_id)[0]
    _sign(clinic, _client_actor(clinic, client_id), client_id, item, store)
    assert _edit(clinic, "neuromodulator", " More.") == (2, True)
    t = _templates(clinic)["neuromodulator"]
    assert [(v.version, v.signatures) for v in t.versions] == [(2, 0), (1, 1)]
    assert _edit(clinic, "neuromodulator", "") == (2, False)  # the same text saves nothing
    assert [r[3]["new_version"] for r in _audit(clinic, "consent.template_edit")] == [False, True]


def test_the_database_refuses_changes_of_signed_versions_and_of_signatures(clinic):
    store = MemoryStore()
    appt, client_id = _visit(clinic)
    item = _todo(clinic, _client_actor(clinic, client_id), client_id)[0]
    _sign(clinic, _client_actor(clinic, client_id), client_id, item, store)
    for sql in ("update consent_version set body = body || ' x' where id = :v",
                "update consent_version set sha256 = repeat('a', 64) where id = :v",
                "update consent_signature set text_sha256 = repeat('b', 64) where version_id = :v",
                "update consent_signature set signed_at = signed_at - interval '1 day' where version_id = :v"):
        with clinic.session() as s, pytest.raises(DBAPIError, match="read-only|append-only"):
            s.execute(text(sql), {"v": item.version_id})
    with clinic.session() as s, pytest.raises(DBAPIError):  # no DELETE grant, and the trigger besides
        s.execute(text("delete from consent_signature where version_id = :v"), {"v": item.version_id})
    with clinic.session() as s:
        assert s.exec(select(ConsentVersion.sha256).where(ConsentVersion.id == item.version_id)).one() == item.sha256


def test_an_old_signature_does_not_satisfy_a_new_version(clinic):
    store = MemoryStore()
    appt, client_id = _visit(clinic)
    me = _client_actor(clinic, client_id)
    item = _todo(clinic, me, client_id)[0]
    _sign(clinic, me, client_id, item, store)
    with clinic.session() as s:
        assert visit_consents(s, [s.get(Appointment, appt)])[appt].missing == []
    _edit(clinic, "neuromodulator", "\n\nNew risk paragraph.")
    with clinic.session() as s:
        status = visit_consents(s, [s.get(Appointment, appt)])[appt]
        assert status.missing == [item.title] and status.signed == [] and status.label == "Consents 0/1"
    again = [c for c in _todo(clinic, me, client_id) if c.required]
    assert len(again) == 1 and again[0].version == 2 and again[0].sha256 != item.sha256
    with pytest.raises(StaleConsent) as stale:  # the page still shows version 1
        _sign(clinic, me, client_id, item, store)
    assert stale.value.current.version == 2 and "New risk paragraph." in stale.value.current.body
    with pytest.raises(StaleConsent):  # right version, a text hash that is not the one stored
        _sign(clinic, me, client_id, again[0].__class__(**{**again[0].__dict__, "sha256": item.sha256}), store)
    _sign(clinic, me, client_id, again[0], store)
    with clinic.session() as s:
        assert visit_consents(s, [s.get(Appointment, appt)])[appt].label == "Consents signed"


# ---------------------------------------------------------------------------- the chart gate


def test_chart_signing_waits_for_the_current_consent(clinic):
    store = MemoryStore()
    appt, client_id = _visit(clinic, day=date(2026, 7, 1), hour=14)
    nurse = clinic.staff_actor("provider", clinic.provider_ids[0])  # the visit's provider signs (issue 18)
    with clinic.session() as s:
        save_chart(s, nurse, appt, [LineInput("Botox", "C3709C3", "20", "glabella")], "ok", NOW)
        s.commit()
    with clinic.session() as s, pytest.raises(ChartLocked, match="Consent to neuromodulator treatment"):
        sign_chart(s, nurse, appt, NOW)
    desk = Actor(org_id=clinic.org_id, role="front_desk", label="Desk Dana", user_id=None, ip="203.0.113.4")
    item = _todo(clinic, desk, client_id, appointment_id=appt)[0]
    _sign(clinic, desk, client_id, item, store, appointment_id=appt)
    _edit(clinic, "neuromodulator", "\n\nUpdated.")  # a new version before the chart is signed
    with clinic.session() as s, pytest.raises(ChartLocked, match="current version"):
        sign_chart(s, nurse, appt, NOW)
    item = _todo(clinic, desk, client_id, appointment_id=appt)[0]
    _sign(clinic, desk, client_id, item, store, appointment_id=appt)
    with clinic.session() as s:
        assert sign_chart(s, nurse, appt, NOW).status == "signed"
        s.commit()


# ---------------------------------------------------------------------------- signing


def test_a_drawn_signature_keeps_time_ip_agent_version_hash_and_a_pdf(clinic):
    store = MemoryStore()
    appt, client_id = _visit(clinic)
    me = _client_actor(clinic, client_id)
    todo = _todo(clinic, me, client_id)
    assert [(c.key, c.required) for c in todo] == [("neuromodulator", True), ("photo_use", False)]
    assert todo[0].for_label.startswith("Needed for Botox on Wed, Jul 15")
    png = _png()
    done = _sign(clinic, me, client_id, todo[0], store, method="drawn", signature_png=png)
    assert done.how == "Drawn in the portal" and done.signed_label.startswith("Wed, Jul 1, 2026, 12:00 PM EDT")
    with clinic.session() as s:
        sig = s.get(ConsentSignature, done.id)
        assert (sig.signed_at, sig.ip, sig.user_agent, sig.version_id, sig.text_sha256, sig.method, sig.signer) == (
            NOW, "198.51.100.7", "Mozilla/5.0 (iPhone) Test", todo[0].version_id, todo[0].sha256, "drawn", "portal")
        assert store.files[sig.signature_key] == png and sig.pdf_key.endswith(".pdf")
    pdf = PdfReader(io.BytesIO(store.files[sig.pdf_key]))
    body = " ".join(" ".join(p.extract_text() for p in pdf.pages).split())
    for expected in ("Test Clinic", "Zoë Stone", todo[0].title, "Version 1", "Wed, Jul 1, 2026, 12:00 PM EDT",
                     "198.51.100.7", todo[0].sha256, "Mozilla/5.0 (iPhone) Test", "Drawn in the portal",
                     "Possible effects include pain"):
        assert expected in body, expected
    assert any(page.images for page in pdf.pages)  # the signature image
    assert [r[0:2] for r in _audit(clinic, "consent.sign")] == [("client", client_id)]


def test_photo_use_needs_a_choice_and_the_pdf_says_it(clinic):
    store = MemoryStore()
    _, client_id = _visit(clinic)
    me = _client_actor(clinic, client_id)
    photo = [c for c in _todo(clinic, me, client_id) if c.key == "photo_use"][0]
    with pytest.raises(ValidationFailed) as bad:
        _sign(clinic, me, client_id, photo, store)
    assert "choice" in bad.value.fields
    done = _sign(clinic, me, client_id, photo, store, choice="marketing")
    assert done.choice_label.startswith("Also for marketing")
    assert [c.key for c in _todo(clinic, me, client_id)] == ["neuromodulator"]
    with clinic.session() as s:
        pdf = signature_pdf(s, me, done.id, NOW, store)
    assert "My choice: Also for marketing" in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()


@pytest.mark.parametrize(("kw", "field", "words"), [
    ({"method": "drawn", "signature_png": b""}, "signature", "Draw your signature"),
    ({"method": "drawn", "signature_png": b"GIF89a" + b"\0" * 100}, "signature", "not a PNG"),
    ({"method": "drawn", "signature_png": b"\x89PNG\r\n\x1a\n" + b"\0" * 100}, "signature", "not a PNG"),
    ({"method": "drawn", "signature_png": _png(stroke=False)}, "signature", "empty"),
    ({"method": "drawn", "signature_png": b"\x89PNG\r\n\x1a\n" + b"\0" * (301 * 1024)}, "signature", "too large"),
    ({"method": "typed", "typed_name": " "}, "typed_name", "full name"),
    ({"method": "typed", "typed_name": "12"}, "typed_name", "full name"),
    ({"method": "stamp"}, "method", "draw"),
])
def test_bad_signatures_are_refused_and_nothing_is_written(clinic, kw, field, words):
    store = MemoryStore()
    _, client_id = _visit(clinic)
    me = _client_actor(clinic, client_id)
    item = _todo(clinic, me, client_id)[0]
    with pytest.raises(ValidationFailed) as bad:
        _sign(clinic, me, client_id, item, store, **kw)
    assert words in bad.value.fields[field]
    assert store.files == {}
    with clinic.session() as s:
        assert s.exec(select(ConsentSignature)).all() == []


def test_png_from_data_url():
    png = _png()
    assert png_from_data_url("data:image/png;base64," + base64.b64encode(png).decode()) == png
    assert png_from_data_url("") == b""
    for bad in ("data:image/jpeg;base64,AAAA", "data:image/png;base64,!!!", 42, "x" * 10):
        with pytest.raises(ValidationFailed):
            png_from_data_url(bad)


# ---------------------------------------------------------------------------- who may do what


@pytest.mark.parametrize("role", ["owner", "manager", "provider", "front_desk"])
def test_staff_with_consent_collect_sign_with_the_client(clinic, role):
    store = MemoryStore()
    appt, client_id = _visit(clinic)
    staff = Actor(org_id=clinic.org_id, role=role, label=f"Staff {role}", ip="203.0.113.9", user_agent="iPad")
    item = _todo(clinic, staff, client_id, appointment_id=appt)[0]
    done = _sign(clinic, staff, client_id, item, store, method="drawn", signature_png=_png(), appointment_id=appt)
    assert done.how == f"Drawn on a tablet with Staff {role}"


@pytest.mark.parametrize("role", ["lab", "public", "system"])
def test_others_cannot_collect(clinic, role):
    store = MemoryStore()
    _, client_id = _visit(clinic)
    item = _todo(clinic, _client_actor(clinic, client_id), client_id)[0]
    actor = {"public": clinic.public, "system": clinic.system}.get(role) or clinic.staff_actor(role)
    with pytest.raises(NotFound):
        _todo(clinic, actor, client_id)
    with pytest.raises(NotFound):
        _sign(clinic, actor, client_id, item, store)


def test_a_client_signs_and_reads_only_their_own(clinic):
    store = MemoryStore()
    _, mine = _visit(clinic)
    _, theirs = _visit(clinic, hour=11)
    me = _client_actor(clinic, mine)
    item = _todo(clinic, me, mine)[0]
    with pytest.raises(NotFound):
        _sign(clinic, me, theirs, item, store)
    with pytest.raises(NotFound):
        _todo(clinic, me, theirs)
    other = _sign(clinic, _client_actor(clinic, theirs), theirs, item, store)
    with clinic.session() as s:
        with pytest.raises(NotFound):
            signature_pdf(s, me, other.id, NOW, store)
        with pytest.raises(NotFound):
            client_signatures(s, me, theirs, NOW)


@pytest.mark.parametrize("role", ["manager", "front_desk", "lab", "public", "system"])
def test_only_provider_and_owner_read_signed_consents_and_pdfs(clinic, role):
    store = MemoryStore()
    _, client_id = _visit(clinic)
    item = _todo(clinic, _client_actor(clinic, client_id), client_id)[0]
    done = _sign(clinic, _client_actor(clinic, client_id), client_id, item, store)
    actor = {"public": clinic.public, "system": clinic.system}.get(role) or clinic.staff_actor(role)
    with clinic.session() as s:
        with pytest.raises(NotFound):
            client_signatures(s, actor, client_id, NOW)
        with pytest.raises(NotFound):
            signature_pdf(s, actor, done.id, NOW, store)
    assert _audit(clinic, "consent.read") == [] and _audit(clinic, "consent.download") == []


@pytest.mark.parametrize("role", ["provider", "owner"])
def test_provider_and_owner_read_each_read_audited(engine, clinic, role):
    store = MemoryStore()
    _, client_id = _visit(clinic)
    item = _todo(clinic, _client_actor(clinic, client_id), client_id)[0]
    done = _sign(clinic, _client_actor(clinic, client_id), client_id, item, store)
    staff = clinic.staff_actor(role)
    clock = FixedClock(NOW)
    listed = actions.fetch_signed_consents(staff, client_id, clock=clock, engine=engine)
    assert [(c.id, c.title, c.version) for c in listed] == [(done.id, item.title, 1)]
    pdf = actions.fetch_consent_pdf(staff, done.id, store=store, clock=clock, engine=engine)
    assert pdf.data.startswith(b"%PDF") and pdf.filename == f"consent-{done.id}-2026-07-01.pdf"
    assert [r[0:3] for r in _audit(clinic, "consent.read")] == [(role, client_id, str(client_id))]
    assert [r[0:3] for r in _audit(clinic, "consent.download")] == [(role, client_id, str(done.id))]


def test_a_tampered_pdf_is_not_served(clinic):
    store = MemoryStore()
    _, client_id = _visit(clinic)
    me = _client_actor(clinic, client_id)
    done = _sign(clinic, me, client_id, _todo(clinic, me, client_id)[0], store)
    key = next(k for k in store.files if k.endswith(".pdf"))
    store.files[key] = store.files[key] + b"%tampered"
    with clinic.session() as s, pytest.raises(NotFound):
        signature_pdf(s, me, done.id, NOW, store)


def test_templates_are_read_and_edited_by_owner_and_manager_only(clinic):
    for role in ("provider", "front_desk", "lab"):
        with clinic.session() as s, pytest.raises(NotFound):
            list_templates(s, clinic.staff_actor(role), NOW)
    t = _templates(clinic)["peel"]
    with clinic.session() as s, pytest.raises(NotFound):
        edit_template(s, clinic.staff_actor("provider"), t.id, t.title, t.body + " x", NOW)
    with clinic.session() as s, pytest.raises(ValidationFailed) as bad:
        edit_template(s, clinic.staff_actor("owner"), t.id, "", "short", NOW)
    assert set(bad.value.fields) == {"title", "body"}


def test_another_clinic_sees_nothing(engine, owner_engine, clinic):
    from tests.factories import build_clinic

    store = MemoryStore()
    other = build_clinic(engine, owner_engine)
    _, client_id = _visit(other)
    me = _client_actor(other, client_id)
    done = _sign(other, me, client_id, _todo(other, me, client_id)[0], store)
    with clinic.session() as s:
        for fn, arg in ((client_signatures, client_id), (signature_pdf, done.id)):
            with pytest.raises(NotFound):
                fn(s, clinic.staff_actor("owner"), arg, NOW, *((store,) if fn is signature_pdf else ()))


def test_merge_moves_signatures_and_they_still_count(clinic):
    store = MemoryStore()
    appt, absorbed = _visit(clinic)
    _, survivor = _visit(clinic, hour=11)
    me = _client_actor(clinic, absorbed)
    done = _sign(clinic, me, absorbed, _todo(clinic, me, absorbed)[0], store)
    with clinic.session() as s:
        merge = merge_clients(s, clinic.staff_actor("owner"), survivor, absorbed, NOW)
        s.commit()
        assert merge.moved["consent_signature.client_id"] == [done.id]
        assert s.get(ConsentSignature, done.id).client_id == survivor
    with clinic.session() as s:
        assert visit_consents(s, [s.get(Appointment, appt)])[appt].missing == []


def test_visit_consents_is_batched(clinic):
    visits = [_visit(clinic, service=svc, hour=h) for svc, h in (("botox", 9), ("facial", 11), ("laser", 14))]
    with clinic.session() as s:
        rows = [s.get(Appointment, a) for a, _ in visits]
        visit_consents(s, rows[:1], now=NOW)  # the built-in templates exist from here on
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        conn = s.connection()
        event.listen(conn, "before_cursor_execute", count)
        out = visit_consents(s, rows, now=NOW)
        event.remove(conn, "before_cursor_execute", count)
    assert [out[a].required for a, _ in visits] == [["Consent to neuromodulator treatment (botulinum toxin)"],
                                                     ["Consent to aesthetic treatment"],
                                                     ["Consent to laser and IPL treatment"]]
    assert len(statements) <= 6  # the same few queries for any number of visits


# ---------------------------------------------------------------------------- the tablet view and the demo seed


def test_the_tablet_view_shows_only_first_name_visit_and_consents(clinic):
    from medspa.domain.clinical.consent_signing import tablet_visit

    appt, client_id = _visit(clinic)
    with clinic.session() as s:
        visit = tablet_visit(s, clinic.staff_actor("front_desk"), appt, NOW)
        s.commit()
    assert (visit.client_id, visit.first_name, visit.service) == (client_id, "Zoë", "Botox")
    assert visit.when == "Wed, Jul 15, 2026, 10:00 AM EDT (America/New_York)"
    assert [(c.key, c.required) for c in visit.items] == [("neuromodulator", True), ("photo_use", False)]
    for actor, bad in ((clinic.staff_actor("lab"), appt), (_client_actor(clinic, client_id), appt),
                       (clinic.staff_actor("front_desk"), 10**12), (clinic.staff_actor("front_desk"), True)):
        with clinic.session() as s, pytest.raises(NotFound):
            tablet_visit(s, actor, bad, NOW)


def test_demo_seed_signs_the_consents_of_recent_completed_visits(clinic, tmp_path):
    from medspa.demo.consents import seed_consents
    from medspa.domain.scheduling.service import change_status
    from medspa.settings import Settings

    appt, client_id = _visit(clinic, day=date(2026, 7, 1), hour=14)
    with clinic.session() as s:
        change_status(s, clinic.system, appt, "check_in", now=utc(2026, 7, 1, 17, 55))
        change_status(s, clinic.system, appt, "complete", now=utc(2026, 7, 1, 18, 40))
        s.commit()
    assert seed_consents(clinic.engine, clinic.org_id, utc(2026, 7, 2), Settings(media_dir=tmp_path)) == 1
    with clinic.session() as s:
        sig = s.exec(select(ConsentSignature)).one()
        assert (sig.client_id, sig.method, sig.typed_name, sig.appointment_id) == (client_id, "typed", "Zoë Stone", appt)
        assert visit_consents(s, [s.get(Appointment, appt)])[appt].label == "Consents signed"
    assert list(tmp_path.rglob("*.pdf"))


def test_the_settings_list_of_services_per_template(clinic):
    from medspa.domain.clinical.consent import service_choices

    t = _templates(clinic)
    manager = clinic.staff_actor("manager")
    with clinic.session() as s:
        rows = {c.name: (c.by_default, c.choice, c.required) for c in service_choices(s, manager, t["general"].id, NOW)}
        assert rows == {"Botox": (False, "default", False), "HydraFacial": (True, "default", True),
                        "Laser underarms": (False, "default", False)}
        set_service_consent(s, manager, clinic.services["botox"], t["general"].id, True, NOW)
        set_service_consent(s, manager, clinic.services["facial"], t["general"].id, False, NOW)
        rows = {c.name: (c.choice, c.required) for c in service_choices(s, manager, t["general"].id, NOW)}
        assert rows["Botox"] == ("required", True) and rows["HydraFacial"] == ("not_required", False)
        assert [r.key for r in required_consents(s, clinic.services["facial"])] == []
        set_service_consent(s, manager, clinic.services["facial"], t["general"].id, None, NOW)  # back to the default
        assert [r.key for r in required_consents(s, clinic.services["facial"])] == ["general"]
        with pytest.raises(NotFound):
            service_choices(s, clinic.staff_actor("provider"), t["general"].id, NOW)
        s.commit()
    assert len(_audit(clinic, "consent.service_choice")) == 3


def test_the_signed_pdf_names_its_own_clinic_not_another(engine, owner_engine):
    """Regression (CI): the PDF took the first organization row it could read, and every clinic's
    row is readable (the landing page lists them): an earlier clinic's name was printed on it."""
    from sqlmodel import Session

    from medspa.domain.practice.models import Organization
    from tests.factories import build_clinic

    first = build_clinic(engine, owner_engine)  # an earlier clinic (its row read before ours)
    clinic = build_clinic(engine, owner_engine)
    own = f"Own Clinic {uuid.uuid4().hex[:8]}"
    with Session(owner_engine) as s:
        s.get(Organization, first.org_id).name = "Other Clinic Ltd"
        s.get(Organization, clinic.org_id).name = own
        s.commit()
    store = MemoryStore()
    appt, client_id = _visit(clinic)
    me = _client_actor(clinic, client_id)
    todo = _todo(clinic, me, client_id)
    done = _sign(clinic, me, client_id, todo[0], store, method="typed", typed_name="Zoë Stone")
    with clinic.session() as s:
        sig = s.get(ConsentSignature, done.id)
    body = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(store.files[sig.pdf_key])).pages).split())
    assert own in body and "Other Clinic Ltd" not in body
