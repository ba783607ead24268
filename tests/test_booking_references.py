"""Booking references (issue 12, part 3): one short display code for people ("K7M2-Q9XD", unique
per clinic) shown everywhere, and a separate unguessable token for the anonymous lookup;
every appointment has both, rows from before migration 0021 included."""

from __future__ import annotations

import base64
import re
import secrets
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.gateway import TestPaymentGateway
from medspa.domain.scheduling import service as scheduling_service
from medspa.domain.scheduling.actions.calendar import find_visit_by_code
from medspa.domain.scheduling.actions.desk import do_cancel_visit
from medspa.domain.scheduling.actions.online import fetch_booking
from medspa.domain.scheduling.booking import book_online
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.references import (
    ALPHABET,
    format_display_code,
    is_booking_token,
    new_booking_token,
    new_display_code,
    manage_url,
    normalise_display_code,
)
from medspa.domain.scheduling.service import hold_slot
from medspa.settings import PROJECT_ROOT, get_settings
from medspa.features.calendar.state import CalendarState, DetailState
from tests.factories import build_clinic
from tests.test_booking import NY, at, clock, request  # noqa: F401 - fixture
from tests.test_handlers import app_settings, call, clinic_with_visit, run, state_for  # noqa: F401 - fixture

CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{8}")
SHOWN = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
codes = st.text(alphabet=ALPHABET, min_size=8, max_size=8)


# ------------------------------------------------------------------------------ the format


def test_alphabet_is_crockford_without_lookalikes():
    assert ALPHABET == "0123456789ABCDEFGHJKMNPQRSTVWXYZ" and len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)
    for _ in range(200):
        assert CODE.fullmatch(new_display_code())
    token = new_booking_token()
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token) and is_booking_token(token)  # 32 * 6 = 192 bits
    assert len({new_booking_token() for _ in range(1000)}) == 1000


@given(codes)
def test_normalise_undoes_the_display_form(code):
    assert SHOWN.fullmatch(format_display_code(code))
    assert normalise_display_code(format_display_code(code)) == code


@given(codes, st.data())
def test_what_people_type_reads_as_the_code(code, data):
    typed = "".join(data.draw(st.sampled_from({"0": "0Oo", "1": "1IiLl"}.get(ch, ch + ch.lower()))) for ch in code)
    cut = data.draw(st.integers(0, 8))
    typed = f"  {typed[:cut]}{data.draw(st.sampled_from(['', '-', ' ', ' - ']))}{typed[cut:]} "
    assert normalise_display_code(typed) == code


@pytest.mark.parametrize("text_", ["", "K7M2-Q9X", "K7M2-Q9XDD", "K7M2-Q9XU", "K7M2*Q9XD", "ÄBCDEFGH", "x" * 500])
def test_what_is_no_code_is_refused(text_):
    assert normalise_display_code(text_) is None


def test_a_display_code_is_never_a_token():
    code = new_display_code()
    assert not is_booking_token(code) and not is_booking_token(format_display_code(code))


def test_the_sql_function_gives_distinct_codes_of_the_alphabet(owner_engine):
    with owner_engine.connect() as conn:
        distinct, good = conn.execute(text(
            r"select count(distinct c), count(*) filter (where c ~ '^[0-9A-HJKMNP-TV-Z]{8}$') "
            "from (select medspa_display_code(n) as c from generate_series(1, 200000) as n) as t")).one()
        edge = conn.execute(text("select medspa_display_code(0), medspa_display_code(1099511627775)")).one()
    assert (distinct, good) == (200000, 200000)
    assert edge[0] != edge[1] and all(CODE.fullmatch(c) for c in edge)


# ------------------------------------------------------------------------------ creation


def _book(engine, clinic, clock, hour=10, n=1):
    return book_online(engine, clinic.public, request(clinic, at(NY, hour), n=n), TestPaymentGateway(engine, clock.now),
                       clock)


def test_a_booking_has_both_and_a_code_clash_in_the_clinic_is_retried(engine, owner_engine, clock, monkeypatch):
    clinic = build_clinic(engine, owner_engine)
    first = _book(engine, clinic, clock, 10, n=1)
    assert CODE.fullmatch(first.display_code) and len(first.booking_token) == 32
    fresh = new_display_code()
    tries = iter([first.display_code, first.display_code, fresh])
    monkeypatch.setattr(scheduling_service, "new_display_code", lambda: next(tries))
    second = _book(engine, clinic, clock, 11, n=2)
    assert second.display_code == fresh and second.status == "confirmed"
    # the same code in another clinic is fine: unique per clinic only
    other = build_clinic(engine, owner_engine)
    monkeypatch.setattr(scheduling_service, "new_display_code", lambda: first.display_code)
    elsewhere = _book(engine, other, clock, 10)
    assert elsewhere.display_code == first.display_code and elsewhere.org_id != first.org_id


def test_a_code_that_keeps_clashing_fails_after_five_tries(engine, owner_engine, clock, monkeypatch):
    clinic = build_clinic(engine, owner_engine)
    taken = _book(engine, clinic, clock, 10).display_code
    calls = []
    monkeypatch.setattr(scheduling_service, "new_display_code", lambda: calls.append(1) or taken)
    with clinic.session() as s, pytest.raises(IntegrityError):
        hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                  start_at=at(NY, 12), now=clock.now(), confirm=True)
    assert len(calls) == 5  # the first code and four fresh ones


def test_the_database_refuses_a_duplicate_code_in_one_clinic(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    appt = _book(engine, clinic, clock)
    with clinic.session() as s, pytest.raises(IntegrityError, match="uq_appointment_display_code"):
        s.add(Appointment(org_id=clinic.org_id, display_code=appt.display_code, location_id=clinic.location_id,
                          service_id=clinic.services["botox"], provider_id=clinic.provider_ids[0],
                          start_at=appt.start_at + timedelta(days=3), end_at=appt.end_at + timedelta(days=3)))
        s.flush()


# ------------------------------------------------------------------------------ lookups


def test_anonymous_lookup_takes_the_token_only(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    appt = _book(engine, clinic, clock)
    visit = fetch_booking(clinic.public, appt.booking_token, engine=engine)
    assert (visit.id, visit.reference, visit.token) == (appt.id, format_display_code(appt.display_code),
                                                        appt.booking_token)
    for wrong in (appt.display_code, format_display_code(appt.display_code), appt.booking_token.swapcase(),
                  appt.booking_token[:-1], "", "../" + appt.booking_token):
        with pytest.raises(NotFound):
            fetch_booking(clinic.public, wrong, engine=engine)
    other = build_clinic(engine, owner_engine)
    with pytest.raises(NotFound):
        fetch_booking(other.public, appt.booking_token, engine=engine)


def test_the_desk_finds_a_visit_by_its_code_in_its_own_clinic_only(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    appt = _book(engine, clinic, clock)
    typed = format_display_code(appt.display_code).lower().replace("0", "o").replace("1", "l")
    found = find_visit_by_code(clinic.staff_actor(), f" {typed} ", clock=clock, engine=engine)
    assert (found.detail.id, found.location_id, found.day) == (appt.id, clinic.location_id, at(NY, 10).date())
    assert found.detail.reference == format_display_code(appt.display_code)
    with clinic.session() as s:  # opening it is a read of the visit, audited like the panel
        reads = s.execute(text("select count(*) from audit_event where action = 'appointment.read' "
                               "and object_id = :id"), {"id": str(appt.id)}).scalar()
    assert reads == 1
    other = build_clinic(engine, owner_engine)  # RLS: another clinic's desk cannot see it
    with pytest.raises(NotFound):
        find_visit_by_code(other.staff_actor(), appt.display_code, clock=clock, engine=engine)
    with pytest.raises(NotFound):
        find_visit_by_code(clinic.staff_actor(), appt.booking_token, clock=clock, engine=engine)
    with pytest.raises(PermissionDenied):
        find_visit_by_code(clinic.public, appt.display_code, clock=clock, engine=engine)


# ------------------------------------------------------------------------------ what people read


def test_every_message_shows_the_same_display_code(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    appt = _book(engine, clinic, clock)
    do_cancel_visit(clinic.staff_actor(), appt.id, clock=clock, engine=engine,
                    gateway=TestPaymentGateway(engine, clock.now))
    shown = format_display_code(appt.display_code)
    with clinic.session() as s:
        messages = {(m.kind, m.channel): m.body for m in s.exec(
            select(OutboxMessage).where(OutboxMessage.appointment_id == appt.id))}
    assert f"Booking reference: {shown}\n" in messages[("booking_confirmation", "email")]
    assert messages[("booking_confirmation", "sms")].endswith(f"Ref {shown}")
    assert f"Booking reference: {shown}\n" in messages[("cancellation_notice", "email")]
    for body in messages.values():  # the token is a key: only inside the email's manage link (issue 15)
        link = manage_url(clinic.slug, appt.booking_token, get_settings().base_url)
        assert appt.booking_token not in body.replace(link, "")
        assert set(re.findall(r"\b[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\b", body)) <= {shown}


# ------------------------------------------------------------------------------ the migration


def test_rows_from_before_the_migration_get_a_code_and_keep_their_token(db_urls, engine, owner_engine, clock):
    from alembic import command
    from alembic.config import Config

    from medspa import migrate

    clinic = build_clinic(engine, owner_engine)
    other = build_clinic(engine, owner_engine)
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["urls"] = db_urls
    command.downgrade(config, "0020")
    # the old shapes: a 32-character base32 reference and a demo seed's token_urlsafe(16)
    old = {clinic.org_id: base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=").lower(),
           other.org_id: secrets.token_urlsafe(16)}
    try:
        for org_id, reference in old.items():
            with owner_engine.begin() as conn:
                conn.execute(text("select set_config('app.org_id', :org, true)"), {"org": str(org_id)})
                loc, svc, prov = conn.execute(text(
                    "select l.id, s.id, m.id from location l, service s, staff_member m "
                    "where l.org_id = :org and s.name = 'Botox' and m.org_id = :org limit 1"), {"org": org_id}).one()
                conn.execute(text(
                    "insert into appointment (org_id, reference, location_id, service_id, provider_id, start_at, "
                    "end_at, status, price_cents, deposit_cents, currency, source, notes, created_at) "
                    "values (:org, :ref, :loc, :svc, :prov, '2026-07-20 14:00+00', '2026-07-20 14:30+00', "
                    "'confirmed', 35000, 0, 'USD', 'staff', '', now())"),
                    {"org": org_id, "ref": reference, "loc": loc, "svc": svc, "prov": prov})
    finally:
        migrate.upgrade(*db_urls)
    with owner_engine.connect() as conn:
        nulls = conn.execute(text("select count(*) from pg_attribute where attrelid = 'appointment'::regclass "
                                  "and attname in ('display_code', 'booking_token') and attnotnull")).scalar()
    assert nulls == 2
    for org_id, token in old.items():
        c = clinic if org_id == clinic.org_id else other
        visit = fetch_booking(c.public, token, engine=engine)
        assert SHOWN.fullmatch(visit.reference) and visit.token == token
        found = find_visit_by_code(c.staff_actor(), visit.reference, clock=clock, engine=engine)
        assert found.detail.id == visit.id
        with c.session() as s:
            code = s.execute(text("select display_code = medspa_display_code(id) from appointment where id = :id"),
                             {"id": visit.id}).scalar()
        assert code is True


# ------------------------------------------------------------------------------ the calendar's search box


def test_the_calendar_search_box_opens_a_visit_of_its_own_clinic(engine, owner_engine, app_settings):  # noqa: F811
    a, a_appt, a_token = clinic_with_visit(engine, owner_engine)
    b, b_appt, _ = clinic_with_visit(engine, owner_engine)
    with a.session() as s:
        a_code = s.get(Appointment, a_appt).display_code
    with b.session() as s:
        b_code = s.get(Appointment, b_appt).display_code
    state = state_for(DetailState, a_token)
    run(call(DetailState.find_code, state, {"code": format_display_code(b_code)}))
    assert state.panel_open is False and state.find_error == "No visit with that code in this clinic."
    run(call(DetailState.find_code, state, {"code": "K7M2-Q9X"}))
    assert state.find_error == "A booking code has 8 letters and digits, e.g. K7M2-Q9XD."
    run(call(DetailState.find_code, state, {"code": ["not", "text"]}))
    assert state.find_error == "Type the booking code, e.g. K7M2-Q9XD."
    run(call(DetailState.find_code, state, {"code": format_display_code(a_code).lower()}))
    assert state.panel_open is True and state.detail.id == a_appt and state.find_error == ""
    assert state.detail.reference == format_display_code(a_code)
    cal = run(state.get_state(CalendarState))
    assert (cal.location_id, cal.day, cal.span) == (a.location_id, "2026-07-01", "day")
    signed_out = state_for(DetailState, None)
    run(call(DetailState.find_code, signed_out, {"code": a_code}))
    assert signed_out.panel_open is False
