"""Booking online at a location that requires a card on file (issue 16 section 1): the card
is saved at booking (SetupIntent with Stripe's test cards), checked, the deposit charged on
it; a booking waiting for its card is confirmed once by the webhook or reconciliation."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.service import ClientInput
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.actions import do_reconcile_payments
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.payments.cards import card_for_visit, card_label, card_waiting_ids
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.payments.models import CardSetup, LedgerEntry, Payment, SavedCard
from medspa.domain.payments.webhooks import handle_stripe_event
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.booking import ActionRequired, CardDeclined, OnlineBooking, book_online

from medspa.domain.scheduling.models import Appointment
from tests.conftest import utc
from tests.factories import build_clinic
from tests.fake_stripe import sign_header

NY = ZoneInfo("America/New_York")
SLOT = datetime.combine(date(2026, 7, 15), time(10), tzinfo=NY).astimezone(timezone.utc)
SECRET = "whsec_test_cards"


def card(number: str) -> CardDetails:
    return CardDetails(number, 12, 2030, "123")


def request(clinic, number: str, service: str = "botox", email: str = "mia@example.com") -> OnlineBooking:
    return OnlineBooking(location_id=clinic.location_id, service_id=clinic.services[service], start_at=SLOT,
                         client=ClientInput("Mia", "Wong", email, "+1 212 555 0199"), card=card(number))


@pytest.fixture
def clock():
    return FixedClock(utc(2026, 7, 1, 12))


@pytest.fixture
def clinic(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        s.get(Location, clinic.location_id).card_required = True
        s.commit()
    return clinic


def setups(clinic) -> list[CardSetup]:
    with clinic.session() as s:
        return list(s.exec(select(CardSetup).order_by(CardSetup.id)))


def setup_event(clinic, setup: CardSetup, event_type: str = "setup_intent.succeeded", event_id: str = "1") -> bytes:
    return json.dumps({"id": f"evt_{clinic.org_id}_{event_id}", "object": "event", "type": event_type, "api_version": "2024-06-20",
                       "data": {"object": {"id": setup.setup_intent_id, "object": "setup_intent",
                                           "status": "succeeded", "payment_method": "pm_x",
                                           "metadata": {"org_id": str(clinic.org_id),
                                                        "idempotency_key": setup.idempotency_key}}}}).encode()


def deliver(engine, body: bytes, gateway, clock) -> str:
    return handle_stripe_event(engine, body, sign_header(body, SECRET, int(clock.now().timestamp())), SECRET,
                               gateway, clock)


def test_card_saved_at_booking_and_the_deposit_charged_on_it(engine, clinic, clock):
    gateway = TestPaymentGateway(engine, clock.now)
    appt = book_online(engine, clinic.public, request(clinic, "4242 4242 4242 4242"), gateway, clock)
    assert appt.status == "confirmed"
    with clinic.session() as s:
        saved = s.exec(select(SavedCard)).one()
        assert (saved.client_id, saved.brand, saved.last4, saved.exp_month, saved.exp_year, saved.gateway) == (
            appt.client_id, "visa", "4242", 12, 2030, "test")
        assert card_label(card_for_visit(s, s.get(Appointment, appt.id))) == "Visa ••4242"
        pay = s.exec(select(Payment).where(Payment.appointment_id == appt.id)).one()
        # the deposit went on the saved card (its payment method), not on typed card details
        assert (pay.status, pay.amount_cents, pay.card_last4) == ("succeeded", 5000, "4242")
        assert [(e.entry_type, e.amount_cents) for e in s.exec(select(LedgerEntry).where(
            LedgerEntry.appointment_id == appt.id))] == [("deposit_paid", 5000), ("processing_fee", -175)]
    [setup] = setups(clinic)
    assert (setup.status, setup.idempotency_key, setup.saved_card_id, setup.reconcile_after) == (
        "succeeded", f"setup-{appt.id}-attempt-1", saved.id, None)


def test_free_service_at_a_card_required_location_saves_the_card_and_charges_nothing(engine, clinic, clock):
    gateway = TestPaymentGateway(engine, clock.now)
    appt = book_online(engine, clinic.public, request(clinic, "5555 5555 5555 4444", service="laser"), gateway, clock)
    assert appt.status == "confirmed"
    with clinic.session() as s:
        assert card_label(card_for_visit(s, s.get(Appointment, appt.id))) == "Mastercard ••4444"
        assert s.exec(select(Payment)).all() == []


def test_declined_card_is_reported_at_the_card_field_and_keeps_the_hold(engine, clinic, clock):
    gateway = TestPaymentGateway(engine, clock.now)
    with pytest.raises(CardDeclined) as exc:
        book_online(engine, clinic.public, request(clinic, "4000 0000 0000 0002"), gateway, clock)
    assert exc.value.message == "Your card was declined." and exc.value.decline_code == "generic_decline"
    assert exc.value.hold_id is not None
    with clinic.session() as s:
        assert s.get(Appointment, exc.value.hold_id).status == "held"
        assert s.exec(select(SavedCard)).all() == [] and s.exec(select(Payment)).all() == []
    # another card on the same hold books it
    retry = request(clinic, "4242424242424242")
    retry.hold_id = exc.value.hold_id
    appt = book_online(engine, clinic.public, retry, gateway, clock)
    assert (appt.id, appt.status) == (exc.value.hold_id, "confirmed")
    assert [s.status for s in setups(clinic)] == ["declined", "succeeded"]


def test_card_that_saves_but_declines_charges_fails_the_deposit(engine, clinic, clock):
    gateway = TestPaymentGateway(engine, clock.now)
    with pytest.raises(CardDeclined) as exc:
        book_online(engine, clinic.public, request(clinic, "4000000000000341"), gateway, clock)
    assert exc.value.decline_code == "card_declined"
    with clinic.session() as s:
        assert s.get(Appointment, exc.value.hold_id).status == "held"
        assert s.exec(select(Payment.status)).all() == ["declined"]


def test_card_needing_authentication_waits_then_the_webhook_confirms_once(engine, clinic, clock):
    gateway = TestPaymentGateway(engine, clock.now)
    with pytest.raises(ActionRequired) as exc:
        book_online(engine, clinic.public, request(clinic, "4000 0025 0000 3155"), gateway, clock)
    assert exc.value.card_setup is True and exc.value.client_secret
    hold_id = exc.value.appointment_id
    [setup] = setups(clinic)
    assert setup.status == "requires_action"
    with clinic.session() as s:
        assert s.get(Appointment, hold_id).status == "held"
        assert card_waiting_ids(s, [hold_id]) == {hold_id}  # "Waiting for card" on the calendar
    gateway.authenticate_setup(org_id=clinic.org_id, idempotency_key=setup.idempotency_key)  # the bank says yes
    assert deliver(engine, setup_event(clinic, setup), gateway, clock) == "confirmed"
    assert deliver(engine, setup_event(clinic, setup), gateway, clock) == "duplicate"
    assert deliver(engine, setup_event(clinic, setup, event_id="2"), gateway, clock) == "ignored"  # settled
    with clinic.session() as s:
        appt = s.get(Appointment, hold_id)
        assert appt.status == "confirmed"
        assert card_waiting_ids(s, [hold_id]) == set()
        assert card_label(card_for_visit(s, appt)) == "Visa ••3155"
        assert s.exec(select(Payment.status, Payment.amount_cents)).all() == [("succeeded", 5000)]
        assert len(s.exec(select(SavedCard)).all()) == 1
        confirmations = s.exec(select(OutboxMessage).where(OutboxMessage.appointment_id == hold_id,
                                                           OutboxMessage.kind == "booking_confirmation")).all()
        assert sorted(m.channel for m in confirmations) == ["email", "sms"]  # once each


def test_setup_failed_webhook_keeps_the_hold_for_another_card(engine, clinic, clock):
    gateway = TestPaymentGateway(engine, clock.now)
    with pytest.raises(ActionRequired) as exc:
        book_online(engine, clinic.public, request(clinic, "4000002760003184"), gateway, clock)
    [setup] = setups(clinic)
    assert deliver(engine, setup_event(clinic, setup, "setup_intent.setup_failed"), gateway, clock) == "declined"
    with clinic.session() as s:
        assert s.get(Appointment, exc.value.appointment_id).status == "held"  # until it lapses
        assert s.exec(select(SavedCard)).all() == []
    assert setups(clinic)[0].status == "declined"


def test_reconciliation_confirms_a_booking_whose_card_was_confirmed_later(engine, clinic, clock):
    gateway = TestPaymentGateway(engine, clock.now)
    with pytest.raises(ActionRequired) as exc:
        book_online(engine, clinic.public, request(clinic, "4000 0025 0000 3155", service="laser"), gateway, clock)
    [setup] = setups(clinic)
    gateway.authenticate_setup(org_id=clinic.org_id, idempotency_key=setup.idempotency_key)
    assert do_reconcile_payments(clock=clock, engine=engine, gateway=gateway) == []  # not due: the hold still runs
    later = FixedClock(clock.now() + timedelta(minutes=30))
    done = do_reconcile_payments(clock=later, engine=engine, gateway=gateway)
    assert [r.outcome for r in done if r.org_id == clinic.org_id] == [f"card setup {setup.id}: confirmed"]
    assert do_reconcile_payments(clock=later, engine=engine, gateway=gateway) == []  # nothing twice
    with clinic.session() as s:
        assert s.get(Appointment, exc.value.appointment_id).status == "confirmed"


def test_reconciliation_gives_up_on_a_card_never_confirmed(engine, clinic, clock):
    gateway = TestPaymentGateway(engine, clock.now)
    with pytest.raises(ActionRequired) as exc:
        book_online(engine, clinic.public, request(clinic, "4000002760003184", service="laser"), gateway, clock)
    later = FixedClock(clock.now() + timedelta(minutes=30))
    done = do_reconcile_payments(clock=later, engine=engine, gateway=gateway)
    assert [r.outcome.split(": ")[1] for r in done if r.org_id == clinic.org_id] == ["declined"]
    with clinic.session() as s:
        assert s.get(Appointment, exc.value.appointment_id).status == "expired"
    assert setups(clinic)[0].failure_message == "The card was not confirmed by the bank in time."


def test_location_without_card_required_books_as_before(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    appt = book_online(engine, clinic.public, request(clinic, "4242424242424242"), gateway, clock)
    assert appt.status == "confirmed"
    with clinic.session() as s:
        assert s.exec(select(SavedCard)).all() == [] and setups(clinic) == []
        assert card_for_visit(s, s.get(Appointment, appt.id)) is None


# ---------------------------------------------------------------- shown on the visit


def test_visit_panel_calendar_and_day_list_show_the_card_and_flag_one_expiring_before_the_visit(engine, clinic, clock):
    from medspa.domain.scheduling.daylist import arrivals
    from medspa.domain.scheduling.detail import appointment_detail

    gateway = TestPaymentGateway(engine, clock.now)
    good = book_online(engine, clinic.public, request(clinic, "4242424242424242"), gateway, clock)
    # a card valid through June 2026... booked for a visit on 15 July 2026: flagged
    old = OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["laser"],
                        start_at=SLOT + timedelta(hours=2), client=ClientInput("Lea", "Kim", "lea@example.com",
                                                                               "+1 212 555 0111"),
                        card=CardDetails("5555555555554444", 7, 2026, "123"))
    expiring = book_online(engine, clinic.public, old, gateway, clock)
    desk = clinic.staff_actor("front_desk")
    with clinic.session() as s:
        d = appointment_detail(s, desk, good.id, now=clock.now())
        assert (d.card_on_file, d.card_warning) == ("Visa ••4242", "")
        e = appointment_detail(s, desk, expiring.id, now=clock.now())
        assert e.card_on_file == "Mastercard ••4444"
        assert e.card_warning == ""  # valid through the end of July: the 15 July visit is fine
        card = s.exec(select(SavedCard).where(SavedCard.client_id == expiring.client_id)).one()
        card.exp_month = 6
        s.add(card)
        s.flush()
        e = appointment_detail(s, desk, expiring.id, now=clock.now())
        assert e.card_warning == ("Card Mastercard ••4444 expires 06/26, before this visit: "
                                  "ask the client for a new card.")
        with pytest.raises(PermissionDenied):  # the lab reads no calendar at all (issue 17: /lab only)
            appointment_detail(s, clinic.staff_actor("lab"), expiring.id, now=clock.now())
        day = arrivals(s, desk, location_id=clinic.location_id, now=SLOT - timedelta(hours=1))
        alerts = {r.visit.appointment_id: [(a.kind, a.text) for a in r.visit.alerts] for r in day.rows}
        assert ("card", "Card Mastercard ••4444 expired (06/26)") in alerts[expiring.id]
        assert not [a for a in alerts[good.id] if a[0] == "card"]
        s.rollback()


def test_a_booking_waiting_for_its_card_is_labelled_on_the_calendar_and_panel(engine, clinic, clock):
    from medspa.domain.scheduling.calendar import calendar_day
    from medspa.domain.scheduling.detail import appointment_detail

    gateway = TestPaymentGateway(engine, clock.now)
    with pytest.raises(ActionRequired) as exc:
        book_online(engine, clinic.public, request(clinic, "4000002500003155"), gateway, clock)
    desk = clinic.staff_actor("front_desk")
    with clinic.session() as s:
        day = calendar_day(s, desk, location_id=clinic.location_id, day=date(2026, 7, 15), now=clock.now())
        [block] = [b for b in day.blocks if b.appointment_id == exc.value.appointment_id]
        assert (block.status_label, block.client_name) == ("Waiting for card", "Mia Wong")
        d = appointment_detail(s, desk, exc.value.appointment_id, now=clock.now())
        assert (d.status_label, d.client_name, d.card_on_file) == ("Waiting for card", "Mia Wong", "")
        s.rollback()


def test_location_setting_require_a_card_on_file(engine, owner_engine):
    from medspa.domain.practice.location_actions import do_update_location, fetch_locations
    from medspa.domain.practice.locations import LocationInput
    from medspa.features.settings.location_text import details_of, parse_details

    clinic = build_clinic(engine, owner_engine)
    owner = clinic.staff_actor("owner")
    [row] = fetch_locations(owner, engine=engine)
    assert row.card_required is False and details_of(row)["card_required"] == "false"
    form = {**details_of(row), "card_required": "true"}
    data, errors = parse_details(form)
    assert errors == {} and data.card_required is True
    row = do_update_location(owner, clinic.location_id, data, engine=engine)
    assert row.card_required is True
    with clinic.session() as s:
        assert s.get(Location, clinic.location_id).card_required is True
    assert parse_details({**form, "card_required": "maybe"})[1] == {
        "card_required": "Choose whether booking online needs a card on file"}
    from medspa.domain.errors import ValidationFailed
    with pytest.raises(ValidationFailed):
        do_update_location(owner, clinic.location_id, LocationInput("Main", "America/New_York", card_required="yes"),
                           engine=engine)


def test_client_profile_shows_the_card_on_file(engine, clinic, clock):
    from medspa.domain.clients.models import Client
    from medspa.domain.clients.profile import client_profile

    gateway = TestPaymentGateway(engine, clock.now)
    appt = book_online(engine, clinic.public, request(clinic, "4242424242424242"), gateway, clock)
    with clinic.session() as s:
        client = s.get(Client, appt.client_id)
        assert client_profile(s, clinic.staff_actor("front_desk"), client, now=clock.now()).card_on_file == (
            "Visa ••4242 · expires 12/30")
        assert client_profile(s, clinic.staff_actor("lab"), client, now=clock.now()).card_on_file == ""


# ---------------------------------------------------------------- a crash between the card and the booking


def _waiting(engine, clinic, clock, service="botox"):
    """A booking waiting for its card (3-D Secure on the setup) and the bank's yes: (hold id, setup, gateway)."""
    gateway = TestPaymentGateway(engine, clock.now)
    with pytest.raises(ActionRequired) as exc:
        book_online(engine, clinic.public, request(clinic, "4000 0025 0000 3155", service=service), gateway, clock)
    [setup] = setups(clinic)
    gateway.authenticate_setup(org_id=clinic.org_id, idempotency_key=setup.idempotency_key)
    return exc.value.appointment_id, setup, gateway


def _deposits(clinic, hold_id):
    with clinic.session() as s:
        return s.exec(select(Payment.status, Payment.amount_cents, Payment.idempotency_key)
                      .where(Payment.appointment_id == hold_id)).all()


def _crash_once(monkeypatch, module, name):
    """Make module.name raise once (the process dies there), then behave again."""
    real = getattr(module, name)

    def dies(*args, **kwargs):
        monkeypatch.setattr(module, name, real)
        raise RuntimeError("the process died here")

    monkeypatch.setattr(module, name, dies)


def test_a_crash_after_the_setup_answer_is_recorded_still_confirms_the_booking(engine, clinic, clock):
    """Breaker finding 4: the setup's answer recorded (apply_setup_answer committed), the process
    dies before complete_card_booking: reconciliation finishes the booking once, its deposit
    charged off-session with the usual key, and the hold never lapses meanwhile."""
    from medspa.domain.scheduling.actions.online import do_expire_lapsed_holds
    from medspa.domain.scheduling.card_step import apply_setup_answer

    hold_id, setup, gateway = _waiting(engine, clinic, clock)
    result = gateway.lookup_setup(org_id=clinic.org_id, idempotency_key=setup.idempotency_key,
                                  setup_intent_id=setup.setup_intent_id)
    assert apply_setup_answer(engine, clinic.system, setup.id, result, clock) == "card_saved"
    # ... the process dies here. Later, the jobs run:
    outcomes = []
    for minutes in (5, 11, 20, 40, 90):
        later = FixedClock(clock.now() + timedelta(minutes=minutes))
        do_expire_lapsed_holds(clock=later, engine=engine)  # the hold lapsed at +10: kept for reconciliation
        done = do_reconcile_payments(clock=later, engine=engine, gateway=TestPaymentGateway(engine, later.now))
        outcomes += [(minutes, r.outcome) for r in done if r.org_id == clinic.org_id]
    assert outcomes == [(20, f"card setup {setup.id}: confirmed")]
    with clinic.session() as s:
        assert s.get(Appointment, hold_id).status == "confirmed"
        assert s.get(CardSetup, setup.id).reconcile_after is None
    assert _deposits(clinic, hold_id) == [("succeeded", 5000, f"deposit-{hold_id}-attempt-1")]


def test_a_free_visit_whose_setup_answer_was_recorded_before_a_crash_is_confirmed_by_reconciliation(
        engine, clinic, clock):
    from medspa.domain.scheduling.card_step import apply_setup_answer

    hold_id, setup, gateway = _waiting(engine, clinic, clock, service="laser")
    result = gateway.lookup_setup(org_id=clinic.org_id, idempotency_key=setup.idempotency_key,
                                  setup_intent_id=setup.setup_intent_id)
    assert apply_setup_answer(engine, clinic.system, setup.id, result, clock) == "card_saved"
    later = FixedClock(clock.now() + timedelta(minutes=30))
    done = do_reconcile_payments(clock=later, engine=engine, gateway=gateway)
    assert [r.outcome for r in done if r.org_id == clinic.org_id] == [f"card setup {setup.id}: confirmed"]
    assert do_reconcile_payments(clock=later, engine=engine, gateway=gateway) == []  # nothing twice
    with clinic.session() as s:
        assert s.get(Appointment, hold_id).status == "confirmed"
    assert _deposits(clinic, hold_id) == []


def test_a_webhook_redelivered_after_a_crash_finishes_the_booking(engine, clinic, clock, monkeypatch):
    """The webhook recorded the event and the card, then died before the booking step: the
    redelivery (same event id) finishes it once it is due (until then the hold is kept), and a
    later one changes nothing."""
    from medspa.domain.scheduling import card_step
    from medspa.domain.scheduling.actions.online import do_expire_lapsed_holds

    hold_id, setup, gateway = _waiting(engine, clinic, clock)
    _crash_once(monkeypatch, card_step, "complete_card_booking")
    with pytest.raises(RuntimeError):
        deliver(engine, setup_event(clinic, setup), gateway, clock)
    soon = FixedClock(clock.now() + timedelta(minutes=5))  # the live step may still be running: not due
    assert deliver(engine, setup_event(clinic, setup), gateway, soon) == "duplicate"
    lapsed = FixedClock(clock.now() + timedelta(minutes=11))
    do_expire_lapsed_holds(clock=lapsed, engine=engine)
    with clinic.session() as s:
        assert s.get(Appointment, hold_id).status == "held"  # the card is saved: the time is kept
    later = FixedClock(clock.now() + timedelta(minutes=15))
    gw_later = TestPaymentGateway(engine, later.now)
    assert deliver(engine, setup_event(clinic, setup), gw_later, later) == "confirmed"
    assert deliver(engine, setup_event(clinic, setup), gw_later, later) == "duplicate"
    assert do_reconcile_payments(clock=later, engine=engine, gateway=gw_later) == []
    with clinic.session() as s:
        assert s.get(Appointment, hold_id).status == "confirmed"
    assert _deposits(clinic, hold_id) == [("succeeded", 5000, f"deposit-{hold_id}-attempt-1")]


def test_a_crash_after_the_card_is_saved_at_booking_still_confirms_the_booking(engine, clinic, clock, monkeypatch):
    """The booking request saved the card and died before opening the deposit: reconciliation
    charges it on the saved card off-session and confirms the visit."""
    from medspa.domain.scheduling import booking

    gateway = TestPaymentGateway(engine, clock.now)
    _crash_once(monkeypatch, booking, "_open_payment")
    with pytest.raises(RuntimeError):
        book_online(engine, clinic.public, request(clinic, "4242424242424242"), gateway, clock)
    [setup] = setups(clinic)
    assert setup.status == "succeeded"
    hold_id = setup.appointment_id
    assert do_reconcile_payments(clock=clock, engine=engine, gateway=gateway) == []  # the hold still runs
    later = FixedClock(clock.now() + timedelta(minutes=30))
    done = do_reconcile_payments(clock=later, engine=engine, gateway=TestPaymentGateway(engine, later.now))
    assert [r.outcome for r in done if r.org_id == clinic.org_id] == [f"card setup {setup.id}: confirmed"]
    with clinic.session() as s:
        assert s.get(Appointment, hold_id).status == "confirmed"
    assert _deposits(clinic, hold_id) == [("succeeded", 5000, f"deposit-{hold_id}-attempt-1")]


def test_a_card_saved_whose_visit_was_cancelled_meanwhile_charges_nothing(engine, clinic, clock):
    from medspa.domain.scheduling.card_step import apply_setup_answer
    from medspa.domain.scheduling.service import cancel_appointment

    hold_id, setup, gateway = _waiting(engine, clinic, clock)
    result = gateway.lookup_setup(org_id=clinic.org_id, idempotency_key=setup.idempotency_key,
                                  setup_intent_id=setup.setup_intent_id)
    assert apply_setup_answer(engine, clinic.system, setup.id, result, clock) == "card_saved"
    with clinic.session() as s:
        cancel_appointment(s, clinic.staff_actor("front_desk"), hold_id, now=clock.now(), reason="client_request")
        s.commit()
    later = FixedClock(clock.now() + timedelta(minutes=30))
    done = do_reconcile_payments(clock=later, engine=engine, gateway=gateway)
    assert [r.outcome for r in done if r.org_id == clinic.org_id] == [f"card setup {setup.id}: ignored"]
    assert do_reconcile_payments(clock=later, engine=engine, gateway=gateway) == []
    assert _deposits(clinic, hold_id) == []
