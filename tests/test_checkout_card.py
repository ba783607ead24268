"""Checkout with the client's card on file (trial finding 6): the desk charges "Visa ••4242"
on-session through the typed-card checkout path (the same pending payment, key and
settlement); a decline or a bank asking for authentication leaves only the attempt's payment
row and a message; a card not on file for this client is refused with nothing written. Also
the next-visit offer's day (finding 12). Real PostgreSQL; the clock is injected."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.rebook_actions import fetch_checkout_rebook
from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import ValidationFailed
from medspa.domain.payments.cards import CARD_GONE, save_card
from medspa.domain.payments.checkout import ACTION_AT_DESK, checkout_visit
from medspa.domain.payments.gateway import CardDetails, SetupRequest, TestPaymentGateway
from medspa.domain.payments.models import LedgerEntry, Payment, SavedCard
from medspa.domain.scheduling.actions.desk import do_change_status
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.models import Appointment
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 7, 1, 16, tzinfo=timezone.utc)
START = datetime.combine(date(2026, 7, 15), time(10), tzinfo=NY).astimezone(timezone.utc)
AT = START + timedelta(minutes=35)
TYPED = CardDetails("4242 4242 4242 4242", 12, 2030, "123")


def _gw(engine, at=AT):
    return TestPaymentGateway(engine, lambda: at)


def _checked_in(engine, owner_engine, email="ana@example.com"):
    clinic = build_clinic(engine, owner_engine)
    req = OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=START,
                        client=ClientInput("Ana", "Silva", email, "(212) 555-0147"), card=TYPED)
    appt = book_online(engine, clinic.public, req, _gw(engine, NOW), FixedClock(NOW))
    do_change_status(clinic.staff_actor(), appt.id, "check_in", clock=FixedClock(START), engine=engine)
    return clinic, appt


def _save(clinic, engine, client_id: int, number: str, *, exp_year: int = 2030, key: str = "setup-t-1") -> int:
    """A card on file for the client, saved through the test gateway (Stripe's test numbers)."""
    gw = _gw(engine, NOW)
    result = gw.setup_card(SetupRequest(org_id=clinic.org_id, idempotency_key=key,
                                        card=CardDetails(number, 12, exp_year, "123")))
    if result.status == "requires_action":
        result = gw.authenticate_setup(org_id=clinic.org_id, idempotency_key=key)
    with clinic.session() as s:
        card = save_card(s, clinic.system, client_id=client_id, gateway="test", result=result, now=NOW)
        s.commit()
        return card.id


def _balance_payments(clinic, appt_id) -> list[Payment]:
    with clinic.session() as s:
        return list(s.exec(select(Payment).where(Payment.appointment_id == appt_id, Payment.purpose == "balance")
                           .order_by(Payment.id)))


def _ledger(clinic, appt_id) -> list[tuple[str, int]]:
    with clinic.session() as s:
        return [(e.entry_type, e.amount_cents) for e in s.exec(
            select(LedgerEntry).where(LedgerEntry.appointment_id == appt_id).order_by(LedgerEntry.id))]


def test_checkout_charges_the_card_on_file_on_session_through_the_typed_card_path(engine, owner_engine):
    clinic, appt = _checked_in(engine, owner_engine)
    card_id = _save(clinic, engine, appt.client_id, "4242 4242 4242 4242")
    desk = clinic.staff_actor()
    out = checkout_visit(engine, desk, appt.id, gateway=_gw(engine), now=AT, saved_card_id=card_id, grace_seconds=120)
    assert (out.status, out.balance_cents, out.applied_cents, out.card_last4) == ("succeeded", 30000, 5000, "4242")
    [pay] = _balance_payments(clinic, appt.id)
    assert (pay.status, pay.amount_cents, pay.idempotency_key) == ("succeeded", 30000, f"checkout-{appt.id}-attempt-1")
    assert _ledger(clinic, appt.id)[-3:] == [("sale", 35000), ("deposit_applied", -5000), ("processing_fee", -900)]
    with clinic.session() as s:
        assert s.get(Appointment, appt.id).status == "completed"
        stored = s.exec(select(SavedCard).where(SavedCard.id == card_id)).one()
    # the charge went to the saved payment method with its customer, on-session (the client is there)
    request = _gw(engine).lookup(org_id=clinic.org_id, idempotency_key=pay.idempotency_key)
    assert request.status == "succeeded" and request.card_last4 == stored.last4
    with pytest.raises(ValidationFailed) as again:  # once only, whatever the card
        checkout_visit(engine, desk, appt.id, gateway=_gw(engine), now=AT, saved_card_id=card_id, grace_seconds=120)
    assert again.value.fields == {"appointment": "This visit is already checked out."}


def test_the_request_is_on_session_with_the_saved_customer(engine, owner_engine, monkeypatch):
    clinic, appt = _checked_in(engine, owner_engine)
    card_id = _save(clinic, engine, appt.client_id, "5555 5555 5555 4444")
    sent = []
    gw = _gw(engine)
    real = gw.charge
    monkeypatch.setattr(gw, "charge", lambda request: sent.append(request) or real(request))
    checkout_visit(engine, clinic.staff_actor(), appt.id, gateway=gw, now=AT, saved_card_id=card_id,
                   grace_seconds=120)
    with clinic.session() as s:
        saved = s.get(SavedCard, card_id)
    [req] = sent
    assert (req.card, req.payment_method_id, req.customer_id, req.off_session, req.amount_cents) == (
        None, saved.payment_method_id, saved.gateway_customer_id, False, 30000)
    assert req.customer_id.startswith("cus_test_")


def test_a_declined_card_on_file_leaves_the_visit_open_and_another_card_pays(engine, owner_engine):
    clinic, appt = _checked_in(engine, owner_engine)
    card_id = _save(clinic, engine, appt.client_id, "4000 0000 0000 0341")  # saves, declines when charged
    desk = clinic.staff_actor()
    out = checkout_visit(engine, desk, appt.id, gateway=_gw(engine), now=AT, saved_card_id=card_id, grace_seconds=120)
    assert (out.status, out.message) == ("declined", "Your card was declined.")
    assert [p.status for p in _balance_payments(clinic, appt.id)] == ["declined"]
    assert "sale" not in dict(_ledger(clinic, appt.id))
    with clinic.session() as s:
        assert s.get(Appointment, appt.id).status == "checked_in"
    typed = checkout_visit(engine, desk, appt.id, gateway=_gw(engine), now=AT, card=TYPED, grace_seconds=120)
    assert typed.status == "succeeded"
    assert [p.idempotency_key for p in _balance_payments(clinic, appt.id)] == [
        f"checkout-{appt.id}-attempt-1", f"checkout-{appt.id}-attempt-2"]


def test_a_card_on_file_that_needs_authentication_tells_the_desk_to_use_another(engine, owner_engine):
    clinic, appt = _checked_in(engine, owner_engine)
    card_id = _save(clinic, engine, appt.client_id, "4000 0027 6000 3184")  # authentication on every charge
    out = checkout_visit(engine, clinic.staff_actor(), appt.id, gateway=_gw(engine), now=AT, saved_card_id=card_id,
                         grace_seconds=120)
    assert (out.status, out.message) == ("requires_action", ACTION_AT_DESK)
    assert [p.status for p in _balance_payments(clinic, appt.id)] == ["requires_action"]
    assert "sale" not in dict(_ledger(clinic, appt.id))


def test_a_card_not_on_file_for_this_client_writes_nothing(engine, owner_engine):
    clinic, appt = _checked_in(engine, owner_engine)
    desk = clinic.staff_actor()
    other, _ = None, None
    with clinic.session() as s:
        from medspa.domain.clients.service import create_client
        other = create_client(s, clinic.system, ClientInput("Bo", "Lee", "bo@example.com", ""), region="US").id
        s.commit()
    foreign = _save(clinic, engine, other, "4242 4242 4242 4242", key="setup-t-2")
    expired = _save(clinic, engine, appt.client_id, "5555 5555 5555 4444", exp_year=2026, key="setup-t-3")
    with clinic.session() as s:  # expired: valid through June 2026, the visit is in July
        card = s.get(SavedCard, expired)
        card.exp_month = 6
        s.add(card)
        s.commit()
    cases = [(foreign, CARD_GONE), (10**12, CARD_GONE), (expired, "Mastercard ••4444 expired 06/26: type another card.")]
    for card_id, message in cases:
        with pytest.raises(ValidationFailed) as err:
            checkout_visit(engine, desk, appt.id, gateway=_gw(engine), now=AT, saved_card_id=card_id,
                           grace_seconds=120)
        assert err.value.fields == {"saved_card": message}
    with pytest.raises(ValidationFailed) as both:
        checkout_visit(engine, desk, appt.id, gateway=_gw(engine), now=AT, saved_card_id=foreign, card=TYPED,
                       grace_seconds=120)
    assert set(both.value.fields) == {"saved_card"}
    assert _balance_payments(clinic, appt.id) == []


def test_the_next_visit_offer_names_its_local_day(engine, owner_engine):
    """Finding 12: "Pick another time" opens the calendar on the offered day, not today."""
    clinic, appt = _checked_in(engine, owner_engine)
    desk = clinic.staff_actor()
    checkout_visit(engine, desk, appt.id, gateway=_gw(engine), now=AT, card=TYPED, grace_seconds=120)
    got = fetch_checkout_rebook(desk, appt.id, clock=FixedClock(AT), engine=engine)
    assert got.offer.start == START + timedelta(weeks=4)
    assert got.day == date(2026, 8, 12)  # the offer's day in New York


def test_the_panel_offers_the_card_on_file_of_a_visit_to_check_out(engine, owner_engine):
    from medspa.domain.scheduling.actions.calendar import fetch_appointment_detail
    from medspa.features.calendar.layout import detail_view

    clinic, appt = _checked_in(engine, owner_engine)
    clock = FixedClock(AT)
    assert fetch_appointment_detail(clinic.staff_actor(), appt.id, clock=clock, engine=engine).checkout_card_id == 0
    card_id = _save(clinic, engine, appt.client_id, "4242 4242 4242 4242")
    desk = fetch_appointment_detail(clinic.staff_actor("front_desk"), appt.id, clock=clock, engine=engine)
    assert (desk.checkout_card_id, desk.card_on_file) == (card_id, "Visa ••4242")
    view = detail_view(desk)
    assert (view.checkout_card_id, view.checkout_card, view.balance) == (card_id, "Visa ••4242", "$300.00")
    checkout_visit(engine, clinic.staff_actor(), appt.id, gateway=_gw(engine), now=AT, saved_card_id=card_id,
                   grace_seconds=120)
    done = fetch_appointment_detail(clinic.staff_actor("front_desk"), appt.id, clock=clock, engine=engine)
    assert done.checked_out and done.checkout_card_id == 0  # nothing left to charge
