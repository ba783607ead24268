"""Online booking with a deposit: CF-1, TZ-3, declines, refunds, the ledger and the outbox."""

from __future__ import annotations

import re
import threading
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import ValidationFailed
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.payments.models import LedgerEntry, Payment, TestGatewayCharge
from medspa.domain.payments.refunds import send_refunds_now
from medspa.domain.payments.service import settle_cancellation
from medspa.domain.scheduling.availability import find_slots
from medspa.domain.scheduling.booking import CardDeclined, OnlineBooking, book_online
from medspa.domain.scheduling.models import Appointment, Occupancy
from medspa.domain.scheduling.service import SlotTaken, cancel_appointment, hold_slot
from tests.conftest import utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
GOOD = CardDetails("4242 4242 4242 4242", 12, 2030, "123")
DECLINE = CardDetails("4000 0000 0000 0002", 12, 2030, "123")


def at(zone: ZoneInfo, h: int, m: int = 0, day: date = date(2026, 7, 15)) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=zone).astimezone(timezone.utc)


def person(n: int = 1) -> ClientInput:
    return ClientInput(f"Ana{n}", "Silva", f"ana{n}@example.com", "(212) 555-0147")


def request(clinic, start, n=1, card=GOOD, service="botox", provider_id=None) -> OnlineBooking:
    return OnlineBooking(location_id=clinic.location_id, service_id=clinic.services[service], start_at=start,
                         client=person(n), card=card, provider_id=provider_id)


@pytest.fixture
def clock():
    return FixedClock(utc(2026, 7, 1, 12))


def test_book_with_deposit_confirms_and_writes_ledger_and_outbox(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    appt = book_online(engine, clinic.public, request(clinic, at(NY, 10)), gateway, clock)
    assert appt.status == "confirmed" and appt.deposit_cents == 5000
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{8}", appt.display_code) and len(appt.booking_token) == 32
    with clinic.session() as s:
        pay = s.exec(select(Payment).where(Payment.appointment_id == appt.id)).one()
        assert (pay.status, pay.amount_cents, pay.idempotency_key, pay.card_last4) == (
            "succeeded", 5000, f"deposit-{appt.id}-attempt-1", "4242")
        ledger = s.exec(select(LedgerEntry).where(LedgerEntry.appointment_id == appt.id)).all()
        # Stripe's 2.9% + 30 cents on $50.00 (the test gateway's fee, https://stripe.com/pricing)
        assert [(e.entry_type, e.amount_cents) for e in ledger] == [("deposit_paid", 5000), ("processing_fee", -175)]
        assert pay.fee_cents == 175
        kinds = sorted((m.channel, m.kind) for m in s.exec(select(OutboxMessage).where(
            OutboxMessage.appointment_id == appt.id)))
        assert kinds == [("email", "booking_confirmation"), ("email", "deposit_receipt"), ("sms", "booking_confirmation")]
        occ = s.exec(select(Occupancy).where(Occupancy.appointment_id == appt.id)).all()
        assert [o.status for o in occ] == ["booked"]


def test_declined_card_keeps_the_hold_for_another_card_and_charges_nothing(engine, owner_engine, clock):
    """Issue 15: a declined card no longer gives the time back: the client keeps the hold for
    the rest of its time (10 minutes from the pick) to try another card; nothing is charged."""
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    with pytest.raises(CardDeclined) as declined:
        book_online(engine, clinic.public, request(clinic, at(NY, 10), card=DECLINE), gateway, clock)
    assert declined.value.message == "Your card was declined."
    assert declined.value.held_until == clock.now() + timedelta(minutes=10)
    with clinic.session() as s:
        (appt,) = s.exec(select(Appointment)).all()
        assert (appt.id, appt.status, appt.hold_expires_at) == (declined.value.hold_id, "held", declined.value.held_until)
        assert [o.status for o in s.exec(select(Occupancy))] == ["held"]
        assert s.exec(select(Payment.status)).all() == ["declined"]
        assert s.exec(select(func.count()).select_from(LedgerEntry)).one() == 0
        slots = find_slots(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                           start_date=date(2026, 7, 15), end_date=date(2026, 7, 15), now=clock.now())
        assert at(NY, 10) not in [sl.start for sl in slots]  # nobody else can take it meanwhile
    with pytest.raises(SlotTaken):
        book_online(engine, clinic.public, request(clinic, at(NY, 10), n=2), gateway, clock)


@pytest.mark.parametrize("pass_hold_id", [True, False], ids=["booking-page", "api"])
def test_a_retry_with_a_good_card_confirms_the_same_appointment(engine, owner_engine, clock, pass_hold_id):
    """The booking page passes its hold_id; the API's second POST of the same booking finds the
    client's declined hold itself. Either way ONE appointment, one succeeded payment."""
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    with pytest.raises(CardDeclined) as declined:
        book_online(engine, clinic.public, request(clinic, at(NY, 10), card=DECLINE), gateway, clock)
    clock.advance(minutes=4)
    retry = request(clinic, at(NY, 10))
    retry.hold_id = declined.value.hold_id if pass_hold_id else None
    appt = book_online(engine, clinic.public, retry, gateway, clock)
    assert (appt.id, appt.status) == (declined.value.hold_id, "confirmed")
    with clinic.session() as s:
        assert s.exec(select(Appointment.id, Appointment.status)).all() == [(appt.id, "confirmed")]
        pays = s.exec(select(Payment.status, Payment.idempotency_key).order_by(Payment.id)).all()
        assert pays == [("declined", f"deposit-{appt.id}-attempt-1"), ("succeeded", f"deposit-{appt.id}-attempt-2")]
        assert [(e.entry_type, e.amount_cents) for e in s.exec(select(LedgerEntry))] == [
            ("deposit_paid", 5000), ("processing_fee", -175)]
        assert [o.status for o in s.exec(select(Occupancy))] == ["booked"]


def test_after_a_decline_the_page_may_book_its_hold_with_corrected_details(engine, owner_engine, clock):
    """The booking page's retry names its hold (hold_id, from its server-side state): a client
    who corrected their email after the decline still gets that very hold."""
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    with pytest.raises(CardDeclined) as declined:
        book_online(engine, clinic.public, request(clinic, at(NY, 10), card=DECLINE), gateway, clock)
    retry = request(clinic, at(NY, 10), n=2)
    retry.hold_id = declined.value.hold_id
    appt = book_online(engine, clinic.public, retry, gateway, clock)
    assert (appt.id, appt.status) == (declined.value.hold_id, "confirmed")
    with clinic.session() as s:
        assert s.exec(text("select c.email from appointment a join client c on c.id = a.client_id")).scalar() == (
            "ana2@example.com")


def test_a_declined_hold_lapses_at_its_expiry_and_frees_the_slot(engine, owner_engine, clock):
    """A hold whose only payment was declined has no money on it: the expiry sweep releases
    it at hold_expires_at like any hold, and then anyone can book the time."""
    from medspa.domain.scheduling.actions.online import do_expire_lapsed_holds

    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    with pytest.raises(CardDeclined) as declined:
        book_online(engine, clinic.public, request(clinic, at(NY, 10), card=DECLINE), gateway, clock)
    clock.advance(minutes=9)
    assert [e for e in do_expire_lapsed_holds(clock=clock, engine=engine) if e.org_id == clinic.org_id] == []
    clock.advance(minutes=1)  # exactly hold_expires_at
    swept = [e.appointment_id for e in do_expire_lapsed_holds(clock=clock, engine=engine) if e.org_id == clinic.org_id]
    assert swept == [declined.value.hold_id]
    with clinic.session() as s:
        assert s.exec(select(Appointment.status)).all() == ["expired"]
        assert [o.status for o in s.exec(select(Occupancy))] == ["released"]
        slots = find_slots(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                           start_date=date(2026, 7, 15), end_date=date(2026, 7, 15), now=clock.now())
        assert at(NY, 10) in [sl.start for sl in slots]
    other = book_online(engine, clinic.public, request(clinic, at(NY, 10), n=2), gateway, clock)
    assert other.status == "confirmed" and other.id != declined.value.hold_id


def test_a_lapsed_declined_hold_is_taken_by_the_next_booking_without_the_sweep(engine, owner_engine, clock):
    """Past its expiry the declined hold is free for the next hold at once (hold_slot's own
    release of lapsed holds), no sweep needed."""
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    with pytest.raises(CardDeclined) as declined:
        book_online(engine, clinic.public, request(clinic, at(NY, 10), card=DECLINE), gateway, clock)
    clock.advance(minutes=11)
    other = book_online(engine, clinic.public, request(clinic, at(NY, 10), n=2), gateway, clock)
    assert other.status == "confirmed" and other.id != declined.value.hold_id
    with clinic.session() as s:
        assert s.get(Appointment, declined.value.hold_id).status == "expired"


def test_bad_input_writes_nothing(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    bad = request(clinic, at(NY, 10), card=CardDetails("4242 4242 4242 4241", 13, 2020, "12"))
    bad.client = ClientInput("", "Silva", "not-an-email", "12")
    with pytest.raises(ValidationFailed) as err:
        book_online(engine, clinic.public, bad, gateway, clock)
    assert set(err.value.fields) == {"first_name", "email", "phone", "card_number", "exp_month", "exp_year", "cvc"}
    with clinic.session() as s:
        assert s.exec(select(func.count()).select_from(Appointment)).one() == 0
        assert s.exec(text("select count(*) from client")).scalar() == 0


def test_gateway_replays_answer_for_a_reused_idempotency_key(engine, owner_engine, clock):
    from medspa.domain.payments.gateway import ChargeRequest

    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    first = gateway.charge(ChargeRequest(clinic.org_id, 5000, "USD", "deposit-1-attempt-1", card=DECLINE))
    again = gateway.charge(ChargeRequest(clinic.org_id, 5000, "USD", "deposit-1-attempt-1", card=GOOD))
    assert first == again and again.status == "declined"
    with clinic.session() as s:
        assert s.exec(select(func.count()).select_from(TestGatewayCharge)).one() == 1


def test_cf1_ten_simultaneous_bookings_one_wins(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine, weekly={2: [(time(10), time(10, 30))]})  # one free slot
    gateway = TestPaymentGateway(engine, clock.now)
    start = at(NY, 10)
    results: list[object] = []
    barrier = threading.Barrier(10)

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            results.append(book_online(engine, clinic.public, request(clinic, start, n), gateway, clock))
        except SlotTaken as exc:
            results.append(exc)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    wins = [r for r in results if isinstance(r, Appointment)]
    assert len(wins) == 1 and sum(isinstance(r, SlotTaken) for r in results) == 9
    with clinic.session() as s:
        assert s.exec(select(func.count()).select_from(Appointment).where(Appointment.status == "confirmed")).one() == 1
        kept = s.exec(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))).one()
        assert kept == 5000 - 175  # at most one deposit kept (less its processing fee)
        assert s.exec(select(func.count()).select_from(Payment).where(Payment.status == "succeeded")).one() == 1


def test_cf1_one_room_wanted_by_two_providers(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine, providers=2)
    start = at(NY, 10)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def attempt(provider_id: int) -> None:
        barrier.wait()
        with clinic.session() as s:
            try:
                hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["facial"],
                          start_at=start, now=clock.now(), provider_id=provider_id)
                s.commit()
                outcomes.append("held")
            except SlotTaken:
                outcomes.append("taken")

    threads = [threading.Thread(target=attempt, args=(p,)) for p in clinic.provider_ids]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert sorted(outcomes) == ["held", "taken"]


def test_cancellation_outside_window_refunds_inside_keeps(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    early = book_online(engine, clinic.public, request(clinic, at(NY, 10), 1), gateway, clock)
    late = book_online(engine, clinic.public, request(clinic, at(NY, 11), 2), gateway, clock)
    desk = clinic.staff_actor("front_desk")
    with clinic.session() as s:
        out = cancel_appointment(s, desk, early.id, now=clock.now())  # two weeks ahead: refund
        refund = settle_cancellation(s, desk, out.appointment, keep=out.keeps_deposit, now=clock.now())
        assert not out.late and (refund.status, refund.amount_cents) == ("pending", 5000)  # sent after commit
        when = at(NY, 11) - timedelta(hours=23)  # inside the 24 h window: keep
        out2 = cancel_appointment(s, desk, late.id, now=when)
        assert out2.late and settle_cancellation(s, desk, out2.appointment, keep=True, now=when) is None
        s.commit()
    assert send_refunds_now(engine, desk, [refund.id], gateway, clock.now()) == {refund.id: "refunded"}
    with clinic.session() as s:
        lines = s.exec(select(LedgerEntry.appointment_id, LedgerEntry.entry_type, LedgerEntry.amount_cents)
                       .order_by(LedgerEntry.id)).all()
    assert [(a == early.id, t, c) for a, t, c in lines] == [
        (True, "deposit_paid", 5000), (True, "processing_fee", -175), (False, "deposit_paid", 5000),
        (False, "processing_fee", -175), (False, "deposit_forfeited", 0), (True, "deposit_refunded", -5000)]


def test_tz3_messages_show_clinic_time_with_zone(engine, owner_engine, clock):
    from medspa.domain.scheduling.service import get_appointment
    from medspa.domain.scheduling.booking import finalize_paid_booking

    clinic = build_clinic(engine, owner_engine, time_zone="Europe/Berlin")
    berlin = ZoneInfo("Europe/Berlin")
    desk = clinic.staff_actor()
    with clinic.session() as s:
        from medspa.domain.clients.service import find_or_create_client

        client = find_or_create_client(s, desk, person(3))
        appt = hold_slot(s, desk, location_id=clinic.location_id, service_id=clinic.services["laser"],
                         start_at=at(berlin, 10), now=clock.now(), client_id=client.id)
        finalize_paid_booking(s, desk, appt.id, None, clock.now())
        s.commit()
        msgs = s.exec(select(OutboxMessage).where(OutboxMessage.appointment_id == appt.id)).all()
    assert at(berlin, 10) == utc(2026, 7, 15, 8)
    assert len(msgs) == 2
    for m in msgs:
        assert "10:00 AM CEST (Europe/Berlin)" in m.body and "8:00" not in m.body


def test_mn1_money_parsing_and_rounding():
    from medspa.domain.money import apply_percentage, parse_to_cents

    assert [parse_to_cents(v) for v in ("19.99", "8.20", "1.10")] == [1999, 820, 110]
    assert int(19.99 * 100) == 1998  # why floats are banned
    assert apply_percentage(110, "7") == 118
    assert apply_percentage(150, "7") == 161  # round half up; half-even would give 160


def test_no_card_needed_when_there_is_no_deposit(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    appt = book_online(engine, clinic.public, request(clinic, at(NY, 10), card=None, service="laser"), gateway, clock)
    assert appt.status == "confirmed" and appt.deposit_cents == 0
    with clinic.session() as s:
        assert s.exec(select(func.count()).select_from(Payment)).one() == 0
        assert s.exec(select(func.count()).select_from(LedgerEntry)).one() == 0


def test_discretionary_refunds_need_refund_issue_and_never_exceed_the_payment(engine, owner_engine, clock):
    from medspa.domain.identity.actor import PermissionDenied
    from medspa.domain.payments.service import issue_refund

    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    appt = book_online(engine, clinic.public, request(clinic, at(NY, 10)), gateway, clock)
    with clinic.session() as s:
        pay = s.exec(select(Payment).where(Payment.appointment_id == appt.id)).one()
        with pytest.raises(PermissionDenied):
            issue_refund(s, clinic.staff_actor("front_desk"), pay.id, gateway, now=clock.now(), reason="goodwill")
        with pytest.raises(ValidationFailed):
            issue_refund(s, clinic.staff_actor("manager"), pay.id, gateway, now=clock.now(), reason=" ")
        refund = issue_refund(s, clinic.staff_actor("manager"), pay.id, gateway, now=clock.now(),
                              reason="goodwill", amount_cents=2000)
        s.commit()
        assert refund.amount_cents == 2000
        lines = s.exec(select(LedgerEntry.entry_type, LedgerEntry.amount_cents).order_by(LedgerEntry.id)).all()
        assert lines == [("deposit_paid", 5000), ("processing_fee", -175), ("deposit_refunded", -2000)]
        with pytest.raises(ValidationFailed):  # more than what is left (issue 11: partial refunds add up)
            issue_refund(s, clinic.staff_actor("owner"), pay.id, gateway, now=clock.now(), reason="again",
                         amount_cents=3001)
        s.rollback()
        issue_refund(s, clinic.staff_actor("owner"), pay.id, gateway, now=clock.now(), reason="the rest")
        s.commit()
        assert s.get(Payment, pay.id).status == "refunded"
        with pytest.raises(ValidationFailed):  # nothing left
            issue_refund(s, clinic.staff_actor("owner"), pay.id, gateway, now=clock.now(), reason="again")


def test_the_console_reads_the_outbox_newest_first(engine, owner_engine, clock):
    """`medspa outbox` (the system role, outbox.read); staff read it on /outbox (outbox.manage)."""
    from medspa.domain.identity.actor import PermissionDenied
    from medspa.domain.messaging.service import list_outbox

    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    book_online(engine, clinic.public, request(clinic, at(NY, 10)), gateway, clock)
    with clinic.session() as s:
        kinds = [m.kind for m in list_outbox(s, clinic.system)]
        assert sorted(kinds) == ["booking_confirmation", "booking_confirmation", "deposit_receipt"]
        for role in ("front_desk", "lab", "owner"):
            with pytest.raises(PermissionDenied):
                list_outbox(s, clinic.staff_actor(role))


def _at_once(*calls):
    """Run the calls in threads released together; (results, unexpected errors)."""
    barrier = threading.Barrier(len(calls))
    out, errors = [], []

    def go(call):
        barrier.wait()
        try:
            out.append(call())
        except ValidationFailed as exc:
            out.append(exc.fields)
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=go, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out, errors


def test_two_desks_booking_one_client_at_the_same_time_book_once(engine, owner_engine, clock):
    """Breaker finding 5: two desks booking the same client at the same time (two providers,
    so the occupancy constraint does not meet) both passed refuse_double_booking's check
    before either inserted. The check now runs under the client's lock: one wins, the other
    gets the usual refusal, every time."""
    from medspa.domain.clients.service import create_client
    from medspa.domain.scheduling.actions.desk import do_book_for_client

    clinic = build_clinic(engine, owner_engine, providers=2)
    with clinic.session() as s:
        client_id = create_client(s, clinic.staff_actor(), person(1)).id
        s.commit()
    for hour in (9, 10, 11, 13, 14):
        calls = [lambda p=p, hour=hour: do_book_for_client(
            clinic.staff_actor("front_desk"), location_id=clinic.location_id, service_id=clinic.services["botox"],
            provider_id=clinic.provider_ids[p], start_at=at(NY, hour), client_id=client_id, new_client=None,
            clock=clock, engine=engine) for p in (0, 1)]
        out, errors = _at_once(*calls)
        assert errors == []
        assert sorted(map(type, out), key=str) == [dict, int], out
        assert [o for o in out if isinstance(o, dict)] == [{"start": "You already have a booking at this time"}]
    with clinic.session() as s:
        rows = s.exec(select(Appointment.start_at).where(Appointment.client_id == client_id)).all()
    assert sorted(rows) == [at(NY, h) for h in (9, 10, 11, 13, 14)]
