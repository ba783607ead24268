"""Late-cancel and no-show fees (issue 16, section 1): the location's fee settings, the deposit
applied to the fee first (refund max(0, deposit - fee), charge max(0, fee - deposit)), once
per visit and kind (a double press or two racing requests charge once), nothing for the
clinic's own cancellations, the manager's waiver, percent rounding half up, and the property
fee + refund == paid + charged for any deposit, fee, percent and price. Real PostgreSQL; the
clock is injected."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.payments.fee_actions import do_set_fees, do_waive_fee, fetch_visit_fees, parse_fee
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.payments.models import LedgerEntry, Payment, PolicyFee, Refund
from medspa.domain.portal.actions import do_cancel_own_visit
from medspa.domain.identity.actor import Actor
from medspa.domain.scheduling.actions.desk import do_cancel_visit, do_change_status
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.policy import FeeTerms, fee_cents, fee_due, settle_fee
from medspa.domain.scheduling.service import InvalidTransition
from tests.card_support import save_test_card
from tests.conftest import utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
NOW = utc(2026, 7, 1, 16)
CARD = CardDetails("4242 4242 4242 4242", 12, 2030, "123")
START = datetime.combine(date(2026, 7, 15), time(10), tzinfo=NY).astimezone(timezone.utc)
BOUNDARY = START - timedelta(hours=24)
DEPOSIT = 5000  # botox: $350, deposit $50 (tests/factories.build_clinic)
PRICE = 35000


def _clinic(engine, owner_engine, late: FeeTerms = FeeTerms(), no_show: FeeTerms = FeeTerms()):
    clinic = build_clinic(engine, owner_engine)
    do_set_fees(clinic.staff_actor("owner"), clinic.location_id, late, no_show, engine=engine)
    return clinic


def _book(engine, clinic, email: str = "ana@example.com") -> Appointment:
    req = OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=START,
                        client=ClientInput("Ana", "Silva", email, "(212) 555-0147"), card=CARD)
    clock = FixedClock(NOW)
    return book_online(engine, clinic.public, req, TestPaymentGateway(engine, clock.now), clock)


def _gw(engine, at):
    return TestPaymentGateway(engine, lambda: at)


def _fees(clinic, appt_id) -> list[PolicyFee]:
    with clinic.session() as s:
        return list(s.exec(select(PolicyFee).where(PolicyFee.appointment_id == appt_id)))


def _refunded(clinic, appt_id) -> int:
    """Cents that went back to the client on the visit (succeeded refunds)."""
    with clinic.session() as s:
        return sum(s.exec(select(Refund.amount_cents).join(Payment, Payment.id == Refund.payment_id)
                          .where(Payment.appointment_id == appt_id, Refund.status == "succeeded")).all())


# --- the pure rule ------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(deposit=st.integers(0, 10**7), price=st.integers(0, 10**7), bp=st.integers(0, 10_000),
       flat=st.integers(0, 10**7), use_percent=st.booleans())
def test_deposit_applied_first_adds_up_for_any_deposit_fee_percent_and_rounding(deposit, price, bp, flat,
                                                                                 use_percent):
    terms = FeeTerms("percent", bp) if use_percent else FeeTerms("flat", flat)
    fee = fee_cents(terms, price)
    if use_percent:  # half up to whole cents, by integer arithmetic: floor(price*bp/10000 + 1/2)
        assert fee == (2 * price * bp + 10_000) // 20_000
    else:
        assert fee == flat
    s = settle_fee(deposit, fee)
    assert min(s.kept, s.refund, s.charge) >= 0
    assert s.fee + s.refund == s.deposit + s.charge  # fee + refund == paid + charged
    assert s.kept + s.refund == deposit and s.kept + s.charge == fee
    assert (s.refund, s.charge, s.kept) == (max(0, deposit - fee), max(0, fee - deposit), min(deposit, fee))


@pytest.mark.parametrize("price, bp, cents", [(333, 2500, 83), (50, 2500, 13), (35000, 3333, 11666),
                                              (35000, 5000, 17500), (1, 5000, 1), (1, 4999, 0), (0, 10000, 0)])
def test_percent_fees_round_half_up_to_whole_cents(price, bp, cents):
    assert fee_cents(FeeTerms("percent", bp), price) == cents


def test_fee_settings_parse_and_refuse_bad_input():
    assert parse_fee("no_show", "flat", "75") == FeeTerms("flat", 7500)
    assert parse_fee("no_show", "percent", "12.5%") == FeeTerms("percent", 1250)
    assert parse_fee("no_show", "none", "whatever") == FeeTerms()
    for term, amount, message in (("flat", "", "Enter the amount"), ("flat", "-3", "A fee cannot be negative"),
                                  ("percent", "101", "At most 100% of the service price"), ("percent", "abc", "Enter a percent"),
                                  ("flat", "0", "Enter an amount above zero"), ("bogus", "1", "Choose no fee")):
        with pytest.raises(ValidationFailed) as err:
            parse_fee("no_show", term, amount)
        assert message in err.value.fields["no_show_fee"]


# --- late cancellation under a 24 h policy ---------------------------------------------------

@pytest.mark.parametrize("offset, late", [(-timedelta(minutes=1), False), (timedelta(0), False),
                                          (timedelta(microseconds=1), True), (timedelta(hours=23), True)])
def test_a_client_cancellation_around_the_24h_boundary_owes_the_fee_only_when_late(engine, owner_engine, offset,
                                                                                   late):
    clinic = _clinic(engine, owner_engine, late=FeeTerms("flat", 2000))  # fee below the deposit
    appt = _book(engine, clinic)
    moment = BOUNDARY + offset
    message = do_cancel_own_visit(Actor.client(clinic.org_id, appt.client_id), appt.id, clock=FixedClock(moment),
                                  engine=engine, gateway=_gw(engine, moment))
    fees = _fees(clinic, appt.id)
    if not late:  # early: no fee, the whole deposit back
        assert fees == [] and _refunded(clinic, appt.id) == DEPOSIT
        assert message == "Your visit is cancelled and your deposit of $50.00 is being refunded."
        return
    [fee] = fees
    assert (fee.kind, fee.status, fee.fee_cents, fee.applied_cents, fee.refund_cents, fee.charge_cents) == (
        "late_cancel", "paid", 2000, 2000, 3000, 0)
    assert _refunded(clinic, appt.id) == 3000  # deposit 50 - fee 20
    assert message == ("Your visit is cancelled. A late-cancellation fee of $20.00 applies: $20.00 of your "
                       "deposit was kept for it and $30.00 of your deposit is being refunded.")
    with clinic.session() as s:
        lines = s.exec(select(LedgerEntry.entry_type, LedgerEntry.amount_cents).where(
            LedgerEntry.appointment_id == appt.id, LedgerEntry.entry_type != "processing_fee")
            .order_by(LedgerEntry.id)).all()
    assert lines == [("deposit_paid", 5000), ("fee_from_deposit", 0), ("deposit_refunded", -3000)]
    assert sum(a for _, a in lines) == 2000  # the clinic kept the fee


def test_a_fee_above_the_deposit_keeps_the_deposit_and_leaves_the_rest_unpaid_without_a_card(engine, owner_engine):
    clinic = _clinic(engine, owner_engine, late=FeeTerms("flat", 7500))
    appt = _book(engine, clinic)
    moment = BOUNDARY + timedelta(hours=2)
    result = do_cancel_visit(clinic.staff_actor(), appt.id, "illness", clock=FixedClock(moment), engine=engine,
                             gateway=_gw(engine, moment))
    [fee] = _fees(clinic, appt.id)
    assert (fee.status, fee.applied_cents, fee.refund_cents, fee.charge_cents, fee.charged_cents) == (
        "unpaid_needs_action", 5000, 0, 2500, 0)
    assert fee.reason.startswith("No card on file")
    assert (result.result.kept_cents, result.result.refunded_cents) == (5000, 0)
    assert fee.fee_cents + fee.refund_cents == fee.deposit_cents + fee.charge_cents
    assert _refunded(clinic, appt.id) == 0
    from medspa.domain.messaging.models import OutboxMessage
    with clinic.session() as s:
        body = s.exec(select(OutboxMessage.body).where(OutboxMessage.appointment_id == appt.id,
                                                       OutboxMessage.kind == "cancellation_notice",
                                                       OutboxMessage.channel == "email")).one()
    assert ("A late-cancellation fee of $75.00 applies: $50.00 of your deposit was kept for it and the clinic "
            "will contact you about the remaining $25.00.") in body


def test_with_no_fee_set_the_late_deposit_rule_stays_as_it_was(engine, owner_engine):
    clinic = _clinic(engine, owner_engine)
    appt = _book(engine, clinic)
    moment = BOUNDARY + timedelta(hours=2)
    result = do_cancel_visit(clinic.staff_actor(), appt.id, clock=FixedClock(moment), engine=engine,
                             gateway=_gw(engine, moment)).result
    assert _fees(clinic, appt.id) == [] and (result.kept_cents, _refunded(clinic, appt.id)) == (5000, 0)


@pytest.mark.parametrize("reason", ["clinic", "weather"])
def test_the_clinic_cancelling_late_charges_nothing_and_refunds_the_deposit(engine, owner_engine, reason):
    clinic = _clinic(engine, owner_engine, late=FeeTerms("flat", 7500))
    appt = _book(engine, clinic)
    moment = BOUNDARY + timedelta(hours=20)
    result = do_cancel_visit(clinic.staff_actor(), appt.id, reason, clock=FixedClock(moment), engine=engine,
                             gateway=_gw(engine, moment)).result
    assert result.late is True  # late by the clock, but the clinic's doing
    assert _fees(clinic, appt.id) == []
    assert (result.kept_cents, _refunded(clinic, appt.id)) == (0, DEPOSIT)


def test_a_client_picking_the_clinic_reason_still_owes_the_fee(engine, owner_engine):
    clinic = _clinic(engine, owner_engine, late=FeeTerms("flat", 1000))
    appt = _book(engine, clinic)
    moment = BOUNDARY + timedelta(hours=3)
    do_cancel_own_visit(Actor.client(clinic.org_id, appt.client_id), appt.id, reason="clinic",
                        clock=FixedClock(moment), engine=engine, gateway=_gw(engine, moment))
    [fee] = _fees(clinic, appt.id)
    assert (fee.fee_cents, fee.refund_cents) == (1000, 4000)


def test_percent_fee_of_the_visit_price_rounds_half_up(engine, owner_engine):
    clinic = _clinic(engine, owner_engine, late=FeeTerms("percent", 3333))  # 33.33 % of $350 = $116.655
    appt = _book(engine, clinic)
    moment = BOUNDARY + timedelta(hours=1)
    do_cancel_visit(clinic.staff_actor(), appt.id, clock=FixedClock(moment), engine=engine,
                    gateway=_gw(engine, moment))
    [fee] = _fees(clinic, appt.id)
    assert (fee.fee_cents, fee.applied_cents, fee.charge_cents) == (11666, 5000, 6666)


def test_a_visit_keeps_the_lower_fee_it_was_booked_under(engine, owner_engine):
    clinic = _clinic(engine, owner_engine, late=FeeTerms("flat", 2000))
    appt = _book(engine, clinic)
    owner = clinic.staff_actor("owner")
    do_set_fees(owner, clinic.location_id, FeeTerms("flat", 9000), FeeTerms(), engine=engine)  # raised later
    moment = BOUNDARY + timedelta(hours=1)
    do_cancel_visit(clinic.staff_actor(), appt.id, clock=FixedClock(moment), engine=engine,
                    gateway=_gw(engine, moment))
    [fee] = _fees(clinic, appt.id)
    assert fee.fee_cents == 2000
    _invariant_holds(clinic, moment)  # a cancelled visit's deposit kept in part for its fee is not stranded
    with clinic.session() as s:  # a visit booked with no fee set keeps the deposit rule alone
        stored = s.get(Appointment, appt.id)
        stored.booked_late_cancel_fee_cents = 0
        from medspa.domain.practice.models import Location
        assert fee_due(stored, s.get(Location, clinic.location_id), "late_cancel") is None


# --- no-show ------------------------------------------------------------------------------

def _no_show_clinic(engine, owner_engine, fee: int = 7500):
    clinic = _clinic(engine, owner_engine, no_show=FeeTerms("flat", fee))
    return clinic, _book(engine, clinic)


AFTER = START + timedelta(minutes=40)


def test_no_show_pressed_twice_charges_once(engine, owner_engine):
    clinic, appt = _no_show_clinic(engine, owner_engine, fee=3000)
    desk = clinic.staff_actor()
    detail = do_change_status(desk, appt.id, "no_show", clock=FixedClock(AFTER), engine=engine,
                              gateway=_gw(engine, AFTER))
    assert detail.status == "no_show"
    with pytest.raises(InvalidTransition):
        do_change_status(desk, appt.id, "no_show", clock=FixedClock(AFTER), engine=engine, gateway=_gw(engine, AFTER))
    [fee] = _fees(clinic, appt.id)
    assert (fee.kind, fee.status, fee.applied_cents, fee.refund_cents) == ("no_show", "paid", 3000, 2000)
    assert _refunded(clinic, appt.id) == 2000


def test_two_tabs_racing_to_mark_a_no_show_charge_once(engine, owner_engine):
    clinic, appt = _no_show_clinic(engine, owner_engine, fee=1500)
    desk = clinic.staff_actor()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def press():
        barrier.wait()
        try:
            do_change_status(desk, appt.id, "no_show", clock=FixedClock(AFTER), engine=engine,
                             gateway=_gw(engine, AFTER))
            outcomes.append("ok")
        except InvalidTransition:
            outcomes.append("refused")

    threads = [threading.Thread(target=press) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["ok", "refused"]
    [fee] = _fees(clinic, appt.id)
    assert fee.refund_cents == 3500 and _refunded(clinic, appt.id) == 3500
    with clinic.session() as s:
        assert len(s.exec(select(Refund).join(Payment, Payment.id == Refund.payment_id)
                          .where(Payment.appointment_id == appt.id)).all()) == 1


def test_the_fee_row_is_unique_per_visit_and_kind(engine, owner_engine):
    """Whatever path races (a retry, another worker), the database refuses a second fee row."""
    from sqlalchemy.exc import IntegrityError

    clinic, appt = _no_show_clinic(engine, owner_engine)
    do_change_status(clinic.staff_actor(), appt.id, "no_show", clock=FixedClock(AFTER), engine=engine,
                     gateway=_gw(engine, AFTER))
    with clinic.session() as s:
        s.add(PolicyFee(org_id=clinic.org_id, appointment_id=appt.id, kind="no_show", status="paid", fee_cents=0))
        with pytest.raises(IntegrityError):
            s.flush()


# --- waive ----------------------------------------------------------------------------------

def test_a_manager_waives_a_fee_with_a_reason_and_the_deposit_goes_back(engine, owner_engine):
    clinic, appt = _no_show_clinic(engine, owner_engine, fee=2000)
    do_change_status(clinic.staff_actor(), appt.id, "no_show", clock=FixedClock(AFTER), engine=engine,
                     gateway=_gw(engine, AFTER))
    [view] = fetch_visit_fees(clinic.staff_actor("manager"), appt.id, engine=engine)
    assert view.waivable and view.line == ("No-show fee $20.00: paid ($20.00 from the deposit, $30.00 of the "
                                           "deposit refunded)")
    [desk_view] = fetch_visit_fees(clinic.staff_actor(), appt.id, engine=engine)
    assert not desk_view.waivable
    with pytest.raises(PermissionDenied):
        do_waive_fee(clinic.staff_actor(), view.id, "nope", clock=FixedClock(AFTER), engine=engine)
    with pytest.raises(ValidationFailed) as err:
        do_waive_fee(clinic.staff_actor("manager"), view.id, "  ", clock=FixedClock(AFTER), engine=engine)
    assert err.value.fields == {"reason": "Say why the fee is waived"}
    later = AFTER + timedelta(hours=1)
    waived = do_waive_fee(clinic.staff_actor("manager"), view.id, "Family emergency", clock=FixedClock(later),
                          engine=engine, gateway=_gw(engine, later))
    assert (waived.status, waived.line) == ("waived", "No-show fee $20.00: waived (Family emergency)")
    assert _refunded(clinic, appt.id) == DEPOSIT  # 30 at the no-show + 20 at the waiver
    with pytest.raises(ValidationFailed):
        do_waive_fee(clinic.staff_actor("manager"), view.id, "again", clock=FixedClock(later), engine=engine)
    _invariant_holds(clinic, later)
    with clinic.session() as s:
        [event] = s.exec(select(AuditEvent).where(AuditEvent.action == "policy_fee.waive")).all()
        assert event.detail["reason"] == "Family emergency" and event.detail["refund_cents"] == 2000


# --- the remainder on the saved card (cards on file) -------------------------------------------

def _save_card(engine, clinic, client_id: int, number: str) -> None:
    """Save a test card for the client as the booking's card step does (tests.card_support)."""
    save_test_card(engine, clinic, client_id, number, at=NOW, key=f"setup-{client_id}-attempt-1")


@pytest.mark.parametrize("number, status, charged, reason", [
    ("4242424242424242", "paid", 2500, ""),
    ("4000002760003184", "unpaid_needs_action", 0, "The card needs the client's authentication"),
    ("4000000000000341", "unpaid_needs_action", 0, "The card was declined: Your card was declined."),
])
def test_the_rest_of_a_no_show_fee_is_charged_off_session_to_the_saved_card(engine, owner_engine, number, status,
                                                                           charged, reason):
    clinic, appt = _no_show_clinic(engine, owner_engine, fee=7500)  # deposit $50, fee $75: $25 on the card
    _save_card(engine, clinic, appt.client_id, number)
    detail = do_change_status(clinic.staff_actor(), appt.id, "no_show", clock=FixedClock(AFTER), engine=engine,
                              gateway=_gw(engine, AFTER))  # never an error page, whatever the card says
    assert detail.status == "no_show"
    [fee] = _fees(clinic, appt.id)
    assert (fee.status, fee.charge_cents, fee.charged_cents, fee.attempts) == (status, 2500, charged, 1)
    assert fee.reason.startswith(reason) and fee.card_label.endswith(number[-4:])
    assert fee.fee_cents + fee.refund_cents == fee.deposit_cents + fee.charged_cents + (fee.charge_cents - charged)
    with clinic.session() as s:
        [payment] = s.exec(select(Payment).where(Payment.appointment_id == appt.id, Payment.purpose == "fee")).all()
        lines = dict(s.exec(select(LedgerEntry.entry_type, LedgerEntry.amount_cents).where(
            LedgerEntry.appointment_id == appt.id, LedgerEntry.entry_type.in_(("fee_charged", "fee_from_deposit")))).all())
    assert payment.idempotency_key == f"fee-{appt.id}-no_show-attempt-1" and payment.amount_cents == 2500
    assert lines == ({"fee_from_deposit": 0, "fee_charged": 2500} if charged else {"fee_from_deposit": 0})
    # the visit's panel and a retry of the send change nothing: no second attempt, no loop
    from medspa.domain.payments.fees import send_fee_charges_now
    send_fee_charges_now(engine, clinic.system, appt.id, _gw(engine, AFTER), AFTER)
    with clinic.session() as s:
        assert len(s.exec(select(Payment).where(Payment.appointment_id == appt.id, Payment.purpose == "fee")).all()) == 1
    [view] = fetch_visit_fees(clinic.staff_actor("manager"), appt.id, engine=engine)
    assert ("unpaid, needs action" in view.line) == (status != "paid")
    _invariant_holds(clinic, AFTER + timedelta(minutes=5))


def _invariant_holds(clinic, at) -> None:
    """The money invariant (payments.invariant) finds nothing wrong in the clinic."""
    from medspa.domain.payments.invariant import money_violations

    with clinic.session() as s:
        assert money_violations(s, at) == []


def test_a_late_cancel_fee_needing_authentication_stays_unpaid_and_reconciliation_does_not_retry(engine,
                                                                                                 owner_engine):
    from medspa.domain.payments.reconcile import settle_payment

    clinic = _clinic(engine, owner_engine, late=FeeTerms("flat", 9000))
    appt = _book(engine, clinic)
    _save_card(engine, clinic, appt.client_id, "4000002760003184")
    moment = BOUNDARY + timedelta(hours=5)
    message = do_cancel_own_visit(Actor.client(clinic.org_id, appt.client_id), appt.id, clock=FixedClock(moment),
                                  engine=engine, gateway=_gw(engine, moment))
    assert message == ("Your visit is cancelled. A late-cancellation fee of $90.00 applies: $50.00 of your deposit "
                       "was kept for it and the clinic will contact you about the remaining $40.00.")
    later = moment + timedelta(minutes=10)
    with clinic.session() as s:  # reconciliation cancels the waiting intent; the fee stays unpaid, needs action
        payment = s.exec(select(Payment).where(Payment.appointment_id == appt.id, Payment.purpose == "fee")
                         .with_for_update()).one()
        assert payment.status == "requires_action"
        settle_payment(s, clinic.system, payment, _gw(engine, later), later)
        s.commit()
        assert (payment.status, payment.reconcile_after) == ("failed", None)
        fee = s.exec(select(PolicyFee).where(PolicyFee.appointment_id == appt.id)).one()
        assert (fee.status, fee.reason.startswith("The card needs"), fee.attempts) == ("unpaid_needs_action", True, 1)


# --- the fee in words before it happens -----------------------------------------------------

def test_the_panel_the_portal_and_the_confirmation_state_the_fee(engine, owner_engine):
    from medspa.domain.messaging.models import OutboxMessage
    from medspa.domain.portal import service as portal
    from medspa.domain.scheduling.detail import appointment_detail

    clinic = _clinic(engine, owner_engine, late=FeeTerms("flat", 7500), no_show=FeeTerms("percent", 5000))
    appt = _book(engine, clinic)
    moment = BOUNDARY + timedelta(hours=1)
    with clinic.session() as s:
        panel = appointment_detail(s, clinic.staff_actor(), appt.id, now=moment)
        early = appointment_detail(s, clinic.staff_actor(), appt.id, now=BOUNDARY)
        preview = portal.cancel_preview(s, Actor.client(clinic.org_id, appt.client_id), appt.id, now=moment)
        body = s.exec(select(OutboxMessage.body).where(OutboxMessage.appointment_id == appt.id,
                                                       OutboxMessage.kind == "booking_confirmation",
                                                       OutboxMessage.channel == "email")).one()
    assert panel.cancel_late and panel.cancel_policy == (
        "Inside the 24-hour window: A late-cancellation fee of $75.00 applies: $50.00 of the deposit goes toward "
        "it, $25.00 is due (no card on file).")
    assert panel.cancel_policy_clinic == ("Inside the 24-hour window: No fee: cancelled for the clinic's reason. "
                                          "The $50.00 deposit is refunded.")
    assert panel.no_show_preview == ""  # not the visit's day yet: no no-show
    assert not early.cancel_late and "will be refunded" in early.cancel_policy
    assert preview.late and preview.message == (
        "You are cancelling inside the cancellation window. A late-cancellation fee of $75.00 applies: $50.00 of "
        "your deposit goes toward it, $25.00 is due.")
    assert ("Cancellations more than 24 hours ahead are free. Later ones cost $75.00 (taken from the deposit first). "
            "A missed visit costs 50% of the price ($175.00, taken from the deposit first).") in body


# --- checkout offers the next visit ---------------------------------------------------------

def test_checkout_offers_the_next_visit_and_books_it_as_the_visits_rebooking(engine, owner_engine):
    from medspa.domain.clients.rebook_actions import do_book_again, fetch_checkout_rebook
    from medspa.domain.payments.checkout import checkout_visit

    clinic = _clinic(engine, owner_engine)
    appt = _book(engine, clinic)
    desk = clinic.staff_actor()
    at = START + timedelta(minutes=35)
    do_change_status(desk, appt.id, "check_in", clock=FixedClock(START), engine=engine)
    checkout_visit(engine, desk, appt.id, gateway=_gw(engine, at), now=at, card=CARD, grace_seconds=120)
    got = fetch_checkout_rebook(desk, appt.id, clock=FixedClock(at), engine=engine)
    assert (got.client_id, got.location_id, got.offer.source_id) == (appt.client_id, clinic.location_id, appt.id)
    # no history of the service: from 4 weeks after the visit (clients.rebook.CHECKOUT_INTERVAL)
    assert got.weeks == 4 and got.offer.start == START + timedelta(weeks=4)  # same weekday and time are free
    assert got.offer.label.endswith("with Provider 1")
    booked = do_book_again(desk, got.client_id, appt.id, start_at=got.offer.start, provider_id=got.offer.provider_id,
                           clock=FixedClock(at), engine=engine, rebooked_from=True)
    again = do_book_again(desk, got.client_id, appt.id, start_at=got.offer.start, provider_id=got.offer.provider_id,
                          clock=FixedClock(at), engine=engine, rebooked_from=True)
    assert again.already and again.appointment_id == booked.appointment_id  # a second press books nothing
    with clinic.session() as s:
        new = s.get(Appointment, booked.appointment_id)
        assert (new.status, new.rebooked_from_id, new.service_id) == ("confirmed", appt.id, appt.service_id)
    with pytest.raises(PermissionDenied):
        fetch_checkout_rebook(Actor(org_id=clinic.org_id, role="lab", label="lab"), appt.id, engine=engine)


def test_the_next_visit_follows_the_clients_usual_interval(engine, owner_engine):
    from medspa.domain.clients.rebook import usual_interval

    clinic = _clinic(engine, owner_engine)
    appt = _book(engine, clinic)
    with clinic.session() as s:
        visit = s.get(Appointment, appt.id)
        visit.status = "completed"
        assert usual_interval(s, visit) == timedelta(weeks=4)
        earlier = Appointment(org_id=clinic.org_id, location_id=clinic.location_id, service_id=visit.service_id,
                              provider_id=visit.provider_id, client_id=visit.client_id,
                              start_at=visit.start_at - timedelta(weeks=12, days=2),
                              end_at=visit.end_at - timedelta(weeks=12, days=2), status="completed")
        s.add(earlier)
        s.flush()
        assert usual_interval(s, visit) == timedelta(weeks=12)  # 12 weeks 2 days, in whole weeks
        earlier.start_at, earlier.end_at = visit.start_at - timedelta(weeks=40), visit.end_at - timedelta(weeks=40)
        s.flush()
        assert usual_interval(s, visit) == timedelta(weeks=26)  # kept within 26 weeks
        s.rollback()


def test_a_late_cancel_fee_charged_to_the_card_then_waived_gives_everything_back(engine, owner_engine):
    clinic = _clinic(engine, owner_engine, late=FeeTerms("flat", 8000))
    appt = _book(engine, clinic)
    _save_card(engine, clinic, appt.client_id, "4242424242424242")
    moment = BOUNDARY + timedelta(hours=6)
    result = do_cancel_visit(clinic.staff_actor(), appt.id, "client_request", clock=FixedClock(moment),
                             engine=engine, gateway=_gw(engine, moment))
    assert result.detail.fee_line == "Late-cancel fee $80.00: paid ($50.00 from the deposit, $30.00 charged to " \
                                     "Visa ••4242)"
    [fee] = _fees(clinic, appt.id)
    assert (fee.status, fee.charged_cents, fee.fee_cents + fee.refund_cents) == ("paid", 3000, 5000 + 3000)
    _invariant_holds(clinic, moment + timedelta(minutes=5))
    later = moment + timedelta(hours=1)
    do_waive_fee(clinic.staff_actor("owner"), fee.id, "Goodwill", clock=FixedClock(later), engine=engine,
                 gateway=_gw(engine, later))
    with clinic.session() as s:
        lines = s.exec(select(LedgerEntry.entry_type, LedgerEntry.amount_cents).where(
            LedgerEntry.appointment_id == appt.id, LedgerEntry.entry_type != "processing_fee")
            .order_by(LedgerEntry.id)).all()
    assert lines == [("deposit_paid", 5000), ("fee_from_deposit", 0), ("fee_charged", 3000),
                     ("deposit_refunded", -5000), ("fee_refunded", -3000)]
    _invariant_holds(clinic, later + timedelta(minutes=5))


# --- breaker findings on main 10bd63a (docs: /work/notes/breaker_report.md 1, 2, 3, 9) ------------

def _fee_payments(clinic, appt_id) -> list[Payment]:
    with clinic.session() as s:
        return list(s.exec(select(Payment).where(Payment.appointment_id == appt_id, Payment.purpose == "fee")
                           .order_by(Payment.id)))


def _net_paid(clinic, appt_id) -> int:
    """What the client paid in the end on the visit: money taken minus succeeded refunds (cents)."""
    with clinic.session() as s:
        paid = sum(s.exec(select(Payment.amount_cents).where(
            Payment.appointment_id == appt_id,
            Payment.status.in_(("succeeded", "partially_refunded", "refunded")))).all())
    return paid - _refunded(clinic, appt_id)


def _refund_part_of_the_deposit(engine, clinic, appt_id, cents: int) -> None:
    from medspa.domain.payments.actions import do_issue_refund

    with clinic.session() as s:
        dep = s.exec(select(Payment).where(Payment.appointment_id == appt_id, Payment.purpose == "deposit")).one()
    do_issue_refund(clinic.staff_actor("owner"), dep.id, reason="goodwill", amount_cents=cents,
                    clock=FixedClock(NOW), engine=engine, gateway=_gw(engine, NOW))
    with clinic.session() as s:
        assert s.get(Payment, dep.id).status == "partially_refunded"


def test_a_no_show_fee_counts_what_is_left_of_a_partly_refunded_deposit_and_its_waiver_too(engine, owner_engine):
    """Breaker 1: deposit $50, $10 refunded before the visit, no-show fee $30: the $40 left
    covers it, $10 goes back, nothing is charged; waived, the $30 goes back as well."""
    clinic, appt = _no_show_clinic(engine, owner_engine, fee=3000)
    _refund_part_of_the_deposit(engine, clinic, appt.id, 1000)
    do_change_status(clinic.staff_actor(), appt.id, "no_show", clock=FixedClock(AFTER), engine=engine,
                     gateway=_gw(engine, AFTER))
    [fee] = _fees(clinic, appt.id)
    assert (fee.deposit_cents, fee.applied_cents, fee.refund_cents, fee.charge_cents, fee.status) == (
        4000, 3000, 1000, 0, "paid")
    assert _net_paid(clinic, appt.id) == 3000 and _fee_payments(clinic, appt.id) == []
    _invariant_holds(clinic, AFTER + timedelta(minutes=5))
    later = AFTER + timedelta(hours=1)
    do_waive_fee(clinic.staff_actor("manager"), fee.id, "Goodwill", clock=FixedClock(later), engine=engine,
                 gateway=_gw(engine, later))
    assert _net_paid(clinic, appt.id) == 0
    _invariant_holds(clinic, later + timedelta(minutes=5))


def test_a_late_cancel_fee_and_its_preview_count_what_is_left_of_a_partly_refunded_deposit(engine, owner_engine):
    from medspa.domain.payments.fees import late_fee_preview
    from medspa.domain.practice.models import Location

    clinic = _clinic(engine, owner_engine, late=FeeTerms("flat", 2000))
    appt = _book(engine, clinic)
    _refund_part_of_the_deposit(engine, clinic, appt.id, 1000)
    with clinic.session() as s:
        words = late_fee_preview(s, s.get(Appointment, appt.id), s.get(Location, clinic.location_id), client=True)
    assert words == ("A late-cancellation fee of $20.00 applies: $20.00 of your deposit goes toward it, the other "
                     "$20.00 is refunded.")
    moment = BOUNDARY + timedelta(hours=2)
    do_cancel_visit(clinic.staff_actor(), appt.id, "illness", clock=FixedClock(moment), engine=engine,
                    gateway=_gw(engine, moment))
    [fee] = _fees(clinic, appt.id)
    assert (fee.deposit_cents, fee.applied_cents, fee.refund_cents, fee.charge_cents) == (4000, 2000, 2000, 0)
    assert _net_paid(clinic, appt.id) == 2000
    _invariant_holds(clinic, moment + timedelta(minutes=5))


def test_an_early_cancel_refunds_what_is_left_of_a_partly_refunded_deposit(engine, owner_engine):
    """The deposit rule (no fee owed) also refunds the $40 still held, not nothing."""
    clinic = _clinic(engine, owner_engine, late=FeeTerms("flat", 2000))
    appt = _book(engine, clinic)
    _refund_part_of_the_deposit(engine, clinic, appt.id, 1000)
    moment = BOUNDARY - timedelta(hours=2)
    do_cancel_visit(clinic.staff_actor(), appt.id, "illness", clock=FixedClock(moment), engine=engine,
                    gateway=_gw(engine, moment))
    assert _fees(clinic, appt.id) == [] and _net_paid(clinic, appt.id) == 0
    _invariant_holds(clinic, moment + timedelta(minutes=5))


@pytest.mark.parametrize("number, status, charged, reason", [
    ("4242424242424242", "paid", 3000, ""),
    ("4000002760003184", "unpaid_needs_action", 0, "The card needs the client's authentication"),
    ("4000000000000341", "unpaid_needs_action", 0, "The card was declined: Your card was declined."),
])
def test_a_fee_charge_never_sent_is_sent_by_reconciliation_with_the_same_key(engine, owner_engine, number, status,
                                                                             charged, reason):
    """Breaker 2: the process dies between the cancellation's commit and the fee's charge:
    reconciliation sends the charge with the payment's own key (never "declined", never a
    second attempt), and a charge waiting for 3-D Secure is canceled on a later run."""
    from medspa.domain.payments.actions import do_reconcile_payments
    from tests.gateway_faults import Crash, CrashingGateway

    clinic = _clinic(engine, owner_engine, late=FeeTerms("flat", 8000))
    appt = _book(engine, clinic)
    _save_card(engine, clinic, appt.client_id, number)
    moment = BOUNDARY + timedelta(hours=2)
    with pytest.raises(Crash):
        do_cancel_visit(clinic.staff_actor(), appt.id, "illness", clock=FixedClock(moment), engine=engine,
                        gateway=CrashingGateway(_gw(engine, moment), "before_gateway"))
    [fee] = _fees(clinic, appt.id)
    [pay] = _fee_payments(clinic, appt.id)
    assert (fee.status, pay.status) == ("charging", "pending")
    for i in range(3):
        t = moment + timedelta(minutes=10 * (i + 1))
        do_reconcile_payments(clock=FixedClock(t), engine=engine, gateway=_gw(engine, t))
    [fee] = _fees(clinic, appt.id)
    [pay] = _fee_payments(clinic, appt.id)
    assert (fee.status, fee.charged_cents, fee.attempts) == (status, charged, 1)
    assert fee.reason.startswith(reason), fee.reason
    assert pay.idempotency_key == f"fee-{appt.id}-late_cancel-attempt-1" and pay.reconcile_after is None
    assert pay.status == {"paid": "succeeded"}.get(status, pay.status)
    if number == "4000002760003184":
        assert pay.status == "failed"  # the waiting intent was canceled by the next run
    assert _net_paid(clinic, appt.id) == 5000 + charged
    _invariant_holds(clinic, moment + timedelta(hours=1))


def test_a_fee_charge_reconciliation_cannot_send_stays_charging_and_is_tried_again(engine, owner_engine):
    from medspa.domain.payments.actions import do_reconcile_payments
    from medspa.domain.payments.stripe_gateway import GatewayUnavailable
    from tests.gateway_faults import Crash, CrashingGateway, Wrapped

    class Down(Wrapped):
        def charge(self, request):
            raise GatewayUnavailable("The payment service is not answering.", cause="APIConnectionError")

    clinic = _clinic(engine, owner_engine, late=FeeTerms("flat", 8000))
    appt = _book(engine, clinic)
    _save_card(engine, clinic, appt.client_id, "4242424242424242")
    moment = BOUNDARY + timedelta(hours=2)
    with pytest.raises(Crash):
        do_cancel_visit(clinic.staff_actor(), appt.id, "illness", clock=FixedClock(moment), engine=engine,
                        gateway=CrashingGateway(_gw(engine, moment), "before_gateway"))
    t = moment + timedelta(minutes=10)
    [done] = [r for r in do_reconcile_payments(clock=FixedClock(t), engine=engine, gateway=Down(_gw(engine, t)))
              if r.refund_id is None]
    assert done.outcome == "postponed: GatewayUnavailable"
    [fee] = _fees(clinic, appt.id)
    assert fee.status == "charging"
    t = moment + timedelta(hours=1)
    do_reconcile_payments(clock=FixedClock(t), engine=engine, gateway=_gw(engine, t))
    [fee] = _fees(clinic, appt.id)
    assert (fee.status, fee.charged_cents, len(_fee_payments(clinic, appt.id))) == ("paid", 3000, 1)


def test_a_waived_fee_whose_charge_succeeds_later_is_given_back(engine, owner_engine):
    """Breaker 3: the fee's card needs 3-D Secure (unpaid, needs action), a manager waives it,
    then the PaymentIntent succeeds (the client authenticated, or the webhook is late): the fee
    stays waived and the charge goes back (fee_charged then fee_refunded on the ledger)."""
    from medspa.domain.payments.actions import do_reconcile_payments
    from medspa.domain.payments.webhooks import _on_succeeded

    clinic, appt = _no_show_clinic(engine, owner_engine, fee=7500)
    _save_card(engine, clinic, appt.client_id, "4000002760003184")
    do_change_status(clinic.staff_actor(), appt.id, "no_show", clock=FixedClock(AFTER), engine=engine,
                     gateway=_gw(engine, AFTER))
    [fee] = _fees(clinic, appt.id)
    assert fee.status == "unpaid_needs_action"
    later = AFTER + timedelta(minutes=2)
    do_waive_fee(clinic.staff_actor("manager"), fee.id, "first time", clock=FixedClock(later), engine=engine,
                 gateway=_gw(engine, later))
    with clinic.session() as s:
        pay = s.exec(select(Payment).where(Payment.appointment_id == appt.id, Payment.purpose == "fee")
                     .with_for_update()).one()
        assert pay.status == "requires_action"
        _on_succeeded(s, clinic.system, pay, _gw(engine, later), later + timedelta(minutes=1), "evt_late")
        s.commit()
    with clinic.session() as s:
        pay = s.exec(select(Payment).where(Payment.appointment_id == appt.id, Payment.purpose == "fee")).one()
        refunds = s.exec(select(Refund).where(Refund.payment_id == pay.id)).all()
    assert pay.status == "succeeded" and [(r.amount_cents, r.status) for r in refunds] == [(2500, "pending")]
    [fee] = _fees(clinic, appt.id)
    assert fee.status == "waived"
    t = later + timedelta(minutes=5)  # reconciliation sends the pending refund (its own key)
    do_reconcile_payments(clock=FixedClock(t), engine=engine, gateway=_gw(engine, t))
    assert _net_paid(clinic, appt.id) == 0
    with clinic.session() as s:
        lines = s.exec(select(LedgerEntry.entry_type, LedgerEntry.amount_cents).where(
            LedgerEntry.appointment_id == appt.id, LedgerEntry.entry_type.in_(("fee_charged", "fee_refunded")))
            .order_by(LedgerEntry.id)).all()
    assert lines == [("fee_charged", 2500), ("fee_refunded", -2500)]
    _invariant_holds(clinic, t + timedelta(minutes=5))


@pytest.mark.parametrize("fee, card, words", [
    (2000, None, "A late-cancellation fee of $20.00 applies: $20.00 of your deposit was kept for it and $30.00 "
                 "of your deposit is being refunded."),
    (7500, "4242424242424242", "A late-cancellation fee of $75.00 applies: $50.00 of your deposit was kept for it "
                               "and $25.00 was charged to your card on file."),
    (9000, None, "A late-cancellation fee of $90.00 applies: $50.00 of your deposit was kept for it and the "
                 "clinic will contact you about the remaining $40.00."),
])
def test_a_late_move_counted_as_a_late_cancel_tells_the_fee(engine, owner_engine, fee, card, words):
    """Breaker 9: the manage link's late move that counts as a late cancellation tells the
    late-cancel fee as a cancellation does (payments.fees.client_fee_sentence)."""
    from medspa.domain.practice.models import Location
    from medspa.domain.scheduling.actions import manage

    clinic = _clinic(engine, owner_engine, late=FeeTerms("flat", fee))
    with clinic.session() as s:
        s.get(Location, clinic.location_id).late_reschedule_is_late_cancel = True
        s.commit()
    appt = _book(engine, clinic)
    if card:
        _save_card(engine, clinic, appt.client_id, card)
    at = BOUNDARY + timedelta(hours=3)
    shown = manage.fetch_managed_visit(clinic.public, appt.booking_token, clock=FixedClock(at), engine=engine)
    assert shown.terms.startswith(f"Moving it now counts as a late cancellation. A late-cancellation fee of "
                                  f"${fee // 100}.00 applies: "), shown.terms  # told before, as the preview says it
    assert shown.terms.endswith("The new visit is paid in full at the clinic.")
    moved = manage.do_reschedule_by_token(clinic.public, appt.booking_token, START + timedelta(hours=4),
                                          clock=FixedClock(at), engine=engine, gateway=_gw(engine, at))
    assert moved.message.startswith("Your visit is moved to ")
    assert moved.message.endswith(f"As the policy says, this counted as a late cancellation. {words} The new visit "
                                  "is paid in full at the clinic."), moved.message
