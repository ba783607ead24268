"""A visit's fee terms (new-user trial of issue 16, findings 1, 2, 10 and 11): a visit charged
only the fees it was booked under (none when they were never recorded), one sentence of the
cancellation / no-show terms shown everywhere before and after booking, and one clear message
per bad fee amount on the Locations fee dialog. Real PostgreSQL; the clock is injected."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import ValidationFailed
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.fee_actions import do_set_fees, parse_fee
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.payments.models import PolicyFee
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.actions.desk import do_book_for_client, do_change_status
from medspa.domain.scheduling.actions.manage import fetch_managed_visit
from medspa.domain.scheduling.actions.online import do_book_online, do_hold_slot, fetch_booking, fetch_hold_terms
from medspa.domain.scheduling.booking import OnlineBooking
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.policy import (NOTHING_PAID_RULE, FeeQuote, FeeTerms, MAX_FLAT_FEE_CENTS,
                                             location_terms, terms_sentence, visit_terms)
from tests.conftest import utc
from tests.factories import build_clinic
from tests.test_api import client  # noqa: E402,F401  (the API test client fixture)

NY = ZoneInfo("America/New_York")
NOW = utc(2026, 7, 1, 16)
START = datetime.combine(date(2026, 7, 15), time(10), tzinfo=NY).astimezone(timezone.utc)
AFTER = START + timedelta(minutes=40)
CARD = CardDetails("4242 4242 4242 4242", 12, 2030, "123")
FEES = (FeeTerms("flat", 4000), FeeTerms("percent", 5000))  # $40 late, 50 % no-show
BOTOX_TERMS = ("Cancellations more than 24 hours ahead are free. Later ones cost $40.00 (taken from the deposit "
               "first). A missed visit costs 50% of the price ($175.00, taken from the deposit first).")
LASER_TERMS = ("Cancellations more than 24 hours ahead are free. Later ones cost $40.00. A missed visit costs "
               "50% of the price ($75.00).")


def _set_fees(engine, clinic, late: FeeTerms, no_show: FeeTerms) -> None:
    do_set_fees(clinic.staff_actor("owner"), clinic.location_id, late, no_show, engine=engine)


def _book(engine, clinic, service: str = "botox", email: str = "ana@example.com", start=START):
    req = OnlineBooking(location_id=clinic.location_id, service_id=clinic.services[service], start_at=start,
                        client=ClientInput("Ana", "Silva", email, "(212) 555-0147"), card=CARD)
    clock = FixedClock(NOW)
    return do_book_online(clinic.public, req, clock=clock, engine=engine, gateway=TestPaymentGateway(engine, clock.now))


def _no_show(engine, clinic, appointment_id: int) -> list[PolicyFee]:
    do_change_status(clinic.staff_actor(), appointment_id, "no_show", clock=FixedClock(AFTER), engine=engine,
                     gateway=TestPaymentGateway(engine, lambda: AFTER))
    with clinic.session() as s:
        return list(s.exec(select(PolicyFee).where(PolicyFee.appointment_id == appointment_id)))


# --- finding 1: only the fees a visit was booked under -------------------------------------------

def test_a_fee_set_after_booking_charges_nothing(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    visit = _book(engine, clinic)  # no fee when booked
    _set_fees(engine, clinic, *FEES)
    assert _no_show(engine, clinic, visit.id) == []


def test_a_fee_set_before_booking_is_charged(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    _set_fees(engine, clinic, *FEES)
    visit = _book(engine, clinic)
    [fee] = _no_show(engine, clinic, visit.id)
    assert (fee.kind, fee.fee_cents, fee.applied_cents, fee.charge_cents) == ("no_show", 17500, 5000, 12500)


def test_a_visit_whose_terms_were_never_recorded_is_charged_no_fee(engine, owner_engine):
    """Trial: a demo visit (booked terms NULL) was charged a 50% no-show fee set later."""
    clinic = build_clinic(engine, owner_engine)
    _set_fees(engine, clinic, *FEES)
    visit = _book(engine, clinic)
    with clinic.session() as s:
        row = s.get(Appointment, visit.id)
        row.booked_late_cancel_fee_cents = row.booked_no_show_fee_cents = None  # booked before fees existed
        s.add(row)
        s.commit()
        assert visit_terms(row, s.get(Location, clinic.location_id)).endswith("Later ones keep the deposit.")
    assert _no_show(engine, clinic, visit.id) == []


def test_every_booking_path_records_the_terms(engine, owner_engine):
    """Online, desk and series bookings (the waitlist offer's hold and the API book through the
    same hold_slot) record the booked fees; nothing else in medspa creates an Appointment."""
    from medspa.domain.scheduling.actions.series import do_book_series, do_plan_series
    from medspa.domain.scheduling.series import Recurrence

    clinic = build_clinic(engine, owner_engine)
    _set_fees(engine, clinic, *FEES)
    online = _book(engine, clinic).id
    clock = FixedClock(NOW)
    desk = do_book_for_client(clinic.staff_actor(), location_id=clinic.location_id,
                              service_id=clinic.services["botox"], provider_id=None, start_at=START + timedelta(hours=2),
                              client_id=None, new_client=ClientInput("Mo", "Ray", "mo@example.com", ""),
                              clock=clock, engine=engine)
    kw = dict(location_id=clinic.location_id, service_id=clinic.services["botox"], provider_id=clinic.provider_ids[0],
              client_id=None, recurrence=Recurrence("weekly", 1, count=2), first_start=START + timedelta(days=1))
    with clinic.session() as s:
        kw["client_id"] = s.get(Appointment, desk).client_id
    plan = do_plan_series(clinic.staff_actor(), clock=clock, engine=engine, **kw)
    series = do_book_series(clinic.staff_actor(), picks={c.index: c.start_at for c in plan.checks if c.free},
                            clock=clock, engine=engine, **kw)
    ids = [online, desk] + [a for _, a in series.booked]
    with clinic.session() as s:
        rows = [s.get(Appointment, i) for i in ids]
        assert [(r.booked_window_hours, r.booked_late_cancel_fee_cents, r.booked_no_show_fee_cents)
                for r in rows] == [(24, 4000, 17500)] * len(ids)
    root = Path(__file__).resolve().parents[1] / "medspa"
    makers = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                    if re.search(r"\bAppointment\(", p.read_text()) and p.name != "models.py")
    assert makers == ["domain/scheduling/service.py"]  # hold_slot, which calls record_booked_rule


# --- finding 2: one sentence of the terms, everywhere --------------------------------------------

@pytest.mark.parametrize("args, sentence", [
    ((24, True, 5000, FeeQuote(4000), FeeQuote(17500, 5000)), BOTOX_TERMS),
    ((24, True, 0, FeeQuote(4000), None),
     "Cancellations more than 24 hours ahead are free. Later ones cost $40.00."),
    ((24, True, 0, None, FeeQuote(7500)), NOTHING_PAID_RULE + " A missed visit costs $75.00."),
    ((24, True, 0, None, None), "Cancellations are free: nothing was paid in advance."),
    ((48, True, 5000, None, None),
     "Cancellations more than 48 hours ahead are refunded in full. Later ones keep the deposit."),
    ((24, False, 5000, None, None), "Cancellations are refunded in full, however close to the visit."),
    ((0, True, 5000, FeeQuote(4000), None),
     "Cancellations before the visit starts are free. Later ones cost $40.00 (taken from the deposit first)."),
    ((24, True, None, FeeQuote(4000), FeeQuote(None, 5000)),
     "Cancellations more than 24 hours ahead are free. Later ones cost $40.00 (taken from any deposit first). "
     "A missed visit costs 50% of the price (taken from any deposit first)."),
    ((24, True, 5000, FeeQuote(0), FeeQuote(0)),
     "Cancellations more than 24 hours ahead are refunded in full. Later ones keep the deposit."),
])
def test_the_terms_sentence(args, sentence):
    assert terms_sentence(*args) == sentence


def test_the_terms_before_booking_are_the_terms_after(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    _set_fees(engine, clinic, *FEES)
    held = do_hold_slot(clinic.public, clinic.location_id, clinic.services["laser"], START, clock=FixedClock(NOW),
                        engine=engine)
    assert held.terms == LASER_TERMS  # the card / details step, before the card is saved
    assert fetch_hold_terms(clinic.public, held.hold_id, engine=engine) == LASER_TERMS  # a waitlist offer's hold
    with clinic.session() as s:
        loc = s.get(Location, clinic.location_id)
        assert location_terms(loc, price_cents=15000, deposit_cents=0) == LASER_TERMS
        assert location_terms(loc) == ("Cancellations more than 24 hours ahead are free. Later ones cost $40.00 "
                                       "(taken from any deposit first). A missed visit costs 50% of the price "
                                       "(taken from any deposit first).")


@pytest.mark.parametrize("service, terms", [("laser", LASER_TERMS), ("botox", BOTOX_TERMS)])
def test_confirmation_page_email_sms_and_manage_page_state_the_fees(engine, owner_engine, service, terms):
    """Trial: the no-deposit confirmation said "cancelling costs nothing" and the deposit one
    "Later ones keep the deposit" while the email stated the fees."""
    clinic = build_clinic(engine, owner_engine)
    _set_fees(engine, clinic, *FEES)
    visit = _book(engine, clinic, service)
    assert visit.policy == terms  # the booking page's confirmation (and the API's answer)
    assert fetch_booking(clinic.public, visit.token, engine=engine).policy == terms
    assert fetch_managed_visit(clinic.public, visit.token, clock=FixedClock(NOW), engine=engine).policy == terms
    with clinic.session() as s:
        sent = {m.channel: m.body for m in s.exec(select(OutboxMessage).where(
            OutboxMessage.appointment_id == visit.id, OutboxMessage.kind == "booking_confirmation"))}
    assert terms in sent["email"] and f". {terms} Ref " in sent["sms"]


def test_the_api_answer_carries_the_terms(client, engine, owner_engine):  # noqa: F811
    clinic = build_clinic(engine, owner_engine)
    _set_fees(engine, clinic, *FEES)
    body = {"location_id": clinic.location_id, "service_id": clinic.services["laser"], "provider_id": None,
            "start": START.isoformat(), "client": {"first_name": "Ana", "last_name": "Silva",
                                                   "email": "ana@example.com", "phone": "(212) 555-0147"},
            "payment": {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    r = client.post(f"/api/v1/{clinic.slug}/bookings", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["cancellation_policy"] == LASER_TERMS
    status = client.get(f"/api/v1/{clinic.slug}/bookings/{r.json()['token']}").json()
    assert status["cancellation_policy"] == LASER_TERMS


def test_the_series_confirmation_states_the_terms(engine, owner_engine):
    from medspa.domain.scheduling.actions.series import do_book_series, do_plan_series
    from medspa.domain.scheduling.series import Recurrence

    clinic = build_clinic(engine, owner_engine)
    _set_fees(engine, clinic, *FEES)
    clock = FixedClock(NOW)
    first = do_book_for_client(clinic.staff_actor(), location_id=clinic.location_id,
                               service_id=clinic.services["laser"], provider_id=None, start_at=START - timedelta(days=3),
                               client_id=None, new_client=ClientInput("Mo", "Ray", "mo@example.com", "(212) 555-0170"),
                               clock=clock, engine=engine)
    with clinic.session() as s:
        client_id = s.get(Appointment, first).client_id
    kw = dict(location_id=clinic.location_id, service_id=clinic.services["botox"], provider_id=clinic.provider_ids[0],
              client_id=client_id, recurrence=Recurrence("weekly", 1, count=3), first_start=START)
    plan = do_plan_series(clinic.staff_actor(), clock=clock, engine=engine, **kw)
    do_book_series(clinic.staff_actor(), picks={c.index: c.start_at for c in plan.checks if c.free},
                   clock=clock, engine=engine, **kw)
    with clinic.session() as s:
        body = s.exec(select(OutboxMessage.body).where(OutboxMessage.kind == "series_confirmation",
                                                       OutboxMessage.channel == "email")).one()
    assert f"First visit: {BOTOX_TERMS}\n" in body  # its $50 deposit
    assert ("Other visits: Cancellations more than 24 hours ahead are free. Later ones cost $40.00. A missed visit "
            "costs 50% of the price ($175.00).\n") in body


# --- finding 11: one clear message per bad fee amount ------------------------------------------------

@pytest.mark.parametrize("term, amount, message", [
    ("flat", "-10", "A fee cannot be negative"),
    ("percent", "-5", "A fee cannot be negative"),
    ("flat", "0", "Enter an amount above zero, or choose No fee"),
    ("percent", "0", "Enter a percent above zero, or choose No fee"),
    ("flat", "99999999", "At most 100,000, the highest price a service may have"),
    ("percent", "101", "At most 100% of the service price"),
    ("percent", "99999999", "At most 100% of the service price"),
    ("flat", "abc", "Enter an amount like 19.99"),
    ("percent", "abc", "Enter a percent like 50 or 12.5"),
    ("flat", "1.234", "Use at most two decimals"),
    ("flat", "", "Enter the amount"),
    ("percent", "", "Enter the percent"),
])
def test_each_bad_fee_amount_gets_its_own_message(term, amount, message):
    with pytest.raises(ValidationFailed) as err:
        parse_fee("no_show", term, amount)
    assert err.value.fields == {"no_show_fee": message}


def test_good_fee_amounts_parse_up_to_the_limits():
    from medspa.domain.catalog.editing import MAX_PRICE_CENTS

    assert MAX_FLAT_FEE_CENTS == MAX_PRICE_CENTS
    assert parse_fee("late_cancel", "flat", "$100,000") == FeeTerms("flat", MAX_FLAT_FEE_CENTS)
    assert parse_fee("late_cancel", "flat", "40") == FeeTerms("flat", 4000)
    assert parse_fee("late_cancel", "percent", "100%") == FeeTerms("percent", 10_000)
    assert parse_fee("late_cancel", "percent", "12.5") == FeeTerms("percent", 1250)


def test_the_portal_card_states_the_fee_not_a_kept_deposit(engine, owner_engine):
    from medspa.domain.identity.actor import Actor
    from medspa.domain.portal.service import portal_overview

    clinic = build_clinic(engine, owner_engine)
    _set_fees(engine, clinic, *FEES)
    visit = _book(engine, clinic)
    with clinic.session() as s:
        client_id = s.get(Appointment, visit.id).client_id
        actor = Actor.client(clinic.org_id, client_id)
        early = portal_overview(s, actor, now=NOW).upcoming[0].policy
        late = portal_overview(s, actor, now=START - timedelta(hours=2)).upcoming[0].policy
    assert early == ("Free cancellation until Tue, Jul 14, 2026, 10:00 AM EDT (America/New_York); later it costs "
                     "$40.00 (taken from the deposit first).")
    assert late == "Inside the cancellation window: cancelling now costs $40.00 (taken from the deposit first)."
