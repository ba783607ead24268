"""Checkout at the desk (medspa/domain/payments/checkout.py): the sale nets the deposit paid,
the balance is charged with its processing fee, a visit is checked out once."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.catalog.service import add_service
from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.domain.payments.checkout import checkout_quote, checkout_visit
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway, card_fee_cents
from medspa.domain.payments.invariant import money_violations
from medspa.domain.payments.models import LedgerEntry, Payment, TestGatewayCharge
from medspa.domain.payments.service import issue_refund
from medspa.domain.payments.stripe_gateway import _fee_cents
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import cancel_appointment, change_status
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
GOOD = CardDetails("4242 4242 4242 4242", 12, 2030, "123")
DECLINE = CardDetails("4000 0000 0000 0002", 12, 2030, "123")
DAY = date(2026, 7, 15)


def ny(h: int, m: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).astimezone(timezone.utc)


def book(clinic, service: str, start: datetime, n: int, booked_at: datetime) -> int:
    """An online booking with its deposit (taken at booked_at); returns the appointment id."""
    clock = FixedClock(booked_at)
    appt = book_online(clinic.engine, clinic.public, OnlineBooking(
        location_id=clinic.location_id, service_id=clinic.services[service], start_at=start,
        client=ClientInput(f"Ana{n}", "Silva", f"ana{n}-{clinic.slug}@example.com", f"+1212555{n:04d}"),
        card=GOOD), TestPaymentGateway(clinic.engine, clock.now), clock)
    return appt.id


def checked_in(clinic, service: str, start: datetime, n: int = 1, booked_at: datetime | None = None) -> int:
    appt_id = book(clinic, service, start, n, booked_at or start - timedelta(days=14))
    with clinic.session() as s:
        change_status(s, clinic.staff_actor(), appt_id, "check_in", now=start - timedelta(minutes=5))
        s.commit()
    return appt_id


def gateway(clinic, now: datetime) -> TestPaymentGateway:
    return TestPaymentGateway(clinic.engine, lambda: now)


def charged(clinic) -> list[str]:
    """The idempotency keys the test gateway charged (succeeded) for balances."""
    with clinic.session() as s:
        return [r.idempotency_key for r in s.exec(select(TestGatewayCharge).order_by(TestGatewayCharge.id))
                if r.idempotency_key.startswith("checkout-") and r.result["status"] == "succeeded"]


def violations(s, now: datetime) -> list[tuple[str, int | None]]:
    return [(v.kind, v.payment_id) for v in money_violations(s, now)]


def lines(s, appt_id: int) -> list[tuple[str, int]]:
    return [(e.entry_type, e.amount_cents) for e in s.exec(
        select(LedgerEntry).where(LedgerEntry.appointment_id == appt_id).order_by(LedgerEntry.id))]


def test_test_gateway_fee_is_stripe_us_card_pricing():
    # 2.9% + 30 cents (https://stripe.com/pricing), 2.9% rounded half up
    assert card_fee_cents(30000) == 870 + 30
    assert card_fee_cents(5000) == 145 + 30
    assert card_fee_cents(1750) == 51 + 30  # 50.75 -> 51
    assert card_fee_cents(50) == 1 + 30     # 1.45 -> 1
    assert card_fee_cents(0) == 0


def test_stripe_fee_comes_from_the_expanded_balance_transaction():
    assert _fee_cents({"latest_charge": {"balance_transaction": {"fee": 1045}}}) == 1045
    assert _fee_cents({"latest_charge": {"balance_transaction": "txn_123"}}) == 0  # not expanded
    assert _fee_cents({"latest_charge": "ch_123"}) == 0
    assert _fee_cents({"latest_charge": None}) == 0


def test_checkout_applies_the_deposit_charges_the_balance_and_completes_the_visit(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt_id = checked_in(clinic, "botox", ny(10))
    desk = clinic.staff_actor("front_desk")
    now = ny(10, 40)
    with clinic.session() as s:
        quote = checkout_quote(s, desk, appt_id)
        assert (quote.price_cents, quote.applied_cents, quote.balance_cents, quote.checked_out,
                quote.can_check_out) == (35000, 5000, 30000, False, True)
    out = checkout_visit(clinic.engine, desk, appt_id, gateway=gateway(clinic, now), now=now, card=GOOD)
    with clinic.session() as s:
        assert (out.status, out.price_cents, out.applied_cents, out.balance_cents, out.fee_cents,
                out.card_last4) == ("succeeded", 35000, 5000, 30000, 900, "4242")
        pay = s.get(Payment, out.payment_id)
        assert (pay.purpose, pay.status, pay.amount_cents, pay.fee_cents, pay.idempotency_key,
                pay.reconcile_after) == ("balance", "succeeded", 30000, 900, f"checkout-{appt_id}-attempt-1", None)
        assert lines(s, appt_id) == [("deposit_paid", 5000), ("processing_fee", -175), ("sale", 35000),
                                     ("deposit_applied", -5000), ("processing_fee", -900)]
        assert sum(a for _, a in lines(s, appt_id)) == 35000 - 175 - 900  # the price, less both fees
        appt = s.get(Appointment, appt_id)
        assert (appt.status, appt.completed_at) == ("completed", now)
        actions = [a.action for a in s.exec(select(AuditEvent).where(AuditEvent.occurred_at == now)
                                              .order_by(AuditEvent.id))]
        # the pending payment committed before the gateway call, then the outcome
        assert actions == ["payment.pending", "payment.succeeded", "appointment.complete", "checkout.complete"]
        quote = checkout_quote(s, desk, appt_id)
        assert (quote.checked_out, quote.paid_cents, quote.can_check_out) == (True, 30000, False)
    # twice -> refused, nothing more written
    with pytest.raises(ValidationFailed) as exc:
        checkout_visit(clinic.engine, desk, appt_id, gateway=gateway(clinic, now), now=now, card=GOOD)
    assert exc.value.fields == {"appointment": "This visit is already checked out."}
    with clinic.session() as s:
        assert len(lines(s, appt_id)) == 5
        assert len(s.exec(select(Payment).where(Payment.purpose == "balance")).all()) == 1
        assert violations(s, now) == []


def test_a_completed_visit_can_be_checked_out_and_stays_completed(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt_id = checked_in(clinic, "botox", ny(10))
    with clinic.session() as s:
        change_status(s, clinic.staff_actor(), appt_id, "complete", now=ny(10, 30))
        s.commit()
    out = checkout_visit(clinic.engine, clinic.staff_actor("provider"), appt_id,
                         gateway=gateway(clinic, ny(10, 45)), now=ny(10, 45), card=GOOD)
    with clinic.session() as s:
        assert out.status == "succeeded"
        appt = s.get(Appointment, appt_id)
        assert (appt.status, appt.completed_at) == ("completed", ny(10, 30))


def test_zero_balance_needs_no_card_and_no_payment(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        svc = add_service(s, clinic.system, category="Consultations", name="Consult", duration_minutes=30,
                          price_cents=5000, deposit_cents=5000, provider_ids=clinic.provider_ids)
        s.commit()
    clinic.services["consult"] = svc.id
    appt_id = checked_in(clinic, "consult", ny(11))
    with clinic.session() as s:
        assert checkout_quote(s, clinic.staff_actor(), appt_id).balance_cents == 0
    out = checkout_visit(clinic.engine, clinic.staff_actor(), appt_id, gateway=gateway(clinic, ny(11, 30)),
                         now=ny(11, 30))
    with clinic.session() as s:
        assert (out.status, out.balance_cents, out.fee_cents, out.payment_id) == ("succeeded", 0, 0, None)
        assert lines(s, appt_id) == [("deposit_paid", 5000), ("processing_fee", -175), ("sale", 5000),
                                     ("deposit_applied", -5000)]
        assert s.exec(select(Payment).where(Payment.purpose == "balance")).all() == []
        assert s.get(Appointment, appt_id).status == "completed"


def test_no_deposit_visit_charges_the_full_price(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt_id = checked_in(clinic, "laser", ny(12))  # no deposit
    with pytest.raises(ValidationFailed) as exc:  # a balance needs a card
        checkout_visit(clinic.engine, clinic.staff_actor(), appt_id, gateway=gateway(clinic, ny(12, 30)),
                       now=ny(12, 30))
    assert set(exc.value.fields) == {"card_number"}
    out = checkout_visit(clinic.engine, clinic.staff_actor(), appt_id, gateway=gateway(clinic, ny(12, 30)),
                         now=ny(12, 30), card=GOOD)
    with clinic.session() as s:
        assert s.exec(select(Payment).where(Payment.purpose == "balance")).one().idempotency_key == (
            f"checkout-{appt_id}-attempt-1")  # the refused attempt wrote nothing
        assert (out.applied_cents, out.balance_cents, out.fee_cents) == (0, 15000, 465)
        assert lines(s, appt_id) == [("sale", 15000), ("processing_fee", -465)]


def test_declined_card_writes_only_the_declined_payment_then_a_new_attempt_succeeds(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt_id = checked_in(clinic, "botox", ny(10))
    desk = clinic.staff_actor()
    out = checkout_visit(clinic.engine, desk, appt_id, gateway=gateway(clinic, ny(10, 40)), now=ny(10, 40),
                         card=DECLINE)
    with clinic.session() as s:
        assert (out.status, out.message) == ("declined", "Your card was declined.")
        pay = s.get(Payment, out.payment_id)
        assert (pay.status, pay.fee_cents, pay.idempotency_key, pay.failure_message, pay.reconcile_after) == (
            "declined", 0, f"checkout-{appt_id}-attempt-1", "Your card was declined.", None)
        assert lines(s, appt_id) == [("deposit_paid", 5000), ("processing_fee", -175)]  # the deposit only
        assert s.get(Appointment, appt_id).status == "checked_in"
        assert [a.action for a in s.exec(select(AuditEvent).where(AuditEvent.occurred_at == ny(10, 40))
                                         .order_by(AuditEvent.id))] == ["payment.pending", "payment.declined"]
        assert checkout_quote(s, desk, appt_id).can_check_out
    # a mistyped card: field message, nothing written
    with pytest.raises(ValidationFailed) as exc:
        checkout_visit(clinic.engine, desk, appt_id, gateway=gateway(clinic, ny(10, 42)), now=ny(10, 42),
                       card=CardDetails("4242 4242 4242 4241", 12, 2030, "123"))
    assert exc.value.fields == {"card_number": "Your card number is invalid."}
    out = checkout_visit(clinic.engine, desk, appt_id, gateway=gateway(clinic, ny(10, 45)), now=ny(10, 45),
                         card=GOOD)
    with clinic.session() as s:
        assert out.status == "succeeded"
        assert s.get(Payment, out.payment_id).idempotency_key == f"checkout-{appt_id}-attempt-2"
        assert lines(s, appt_id)[2:] == [("sale", 35000), ("deposit_applied", -5000), ("processing_fee", -900)]
        assert violations(s, ny(10, 45)) == []


def test_two_desks_at_once_one_checkout_wins(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt_id = checked_in(clinic, "botox", ny(10))
    results: list[object] = []
    barrier = threading.Barrier(2)

    def attempt(role: str) -> None:
        barrier.wait(10)
        try:
            results.append(checkout_visit(clinic.engine, clinic.staff_actor(role), appt_id,
                                          gateway=gateway(clinic, ny(10, 40)), now=ny(10, 40), card=GOOD))
        except ValidationFailed as exc:
            results.append(exc)

    threads = [threading.Thread(target=attempt, args=(r,)) for r in ("front_desk", "manager")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    wins = [r for r in results if not isinstance(r, ValidationFailed)]
    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(wins) == 1 and wins[0].status == "succeeded"
    assert [r.fields for r in refused] == [{"appointment": "This visit is already checked out."}]
    with clinic.session() as s:
        assert [t for t, _ in lines(s, appt_id)].count("sale") == 1
        assert len(s.exec(select(Payment).where(Payment.purpose == "balance")).all()) == 1
        assert charged(clinic) == [f"checkout-{appt_id}-attempt-1"]  # one charge at the gateway
        assert violations(s, ny(10, 40)) == []


def test_the_database_refuses_a_second_sale_line(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt_id = checked_in(clinic, "botox", ny(10))
    with clinic.session() as s:
        for _ in range(2):
            s.add(LedgerEntry(org_id=clinic.org_id, appointment_id=appt_id, entry_type="sale", amount_cents=35000))
        with pytest.raises(IntegrityError, match="uq_ledger_sale_once"):
            s.flush()


def test_only_checked_in_or_completed_visits_are_checked_out(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    confirmed = book(clinic, "botox", ny(10), 1, ny(10) - timedelta(days=14))
    cancelled = book(clinic, "botox", ny(11), 2, ny(11) - timedelta(days=14))
    no_show = book(clinic, "botox", ny(12), 3, ny(12) - timedelta(days=14))
    desk = clinic.staff_actor()
    with clinic.session() as s:
        cancel_appointment(s, desk, cancelled, now=ny(9))
        change_status(s, desk, no_show, "no_show", now=ny(12, 30))
        s.commit()
    expected = {confirmed: "A confirmed visit cannot be checked out; check the client in first.",
                cancelled: "A cancelled visit cannot be checked out.",
                no_show: "A no show visit cannot be checked out."}
    for appt_id, message in expected.items():
        with pytest.raises(ValidationFailed) as exc:
            checkout_visit(clinic.engine, desk, appt_id, gateway=gateway(clinic, ny(13)), now=ny(13), card=GOOD)
        assert exc.value.fields == {"appointment": message}
    with clinic.session() as s:
        for appt_id in expected:
            assert not checkout_quote(s, desk, appt_id).can_check_out
        assert s.exec(select(Payment).where(Payment.purpose == "balance")).all() == []


def test_other_clinic_sees_not_found_and_lab_client_public_are_denied(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    other = build_clinic(engine, owner_engine)
    appt_id = checked_in(clinic, "botox", ny(10))
    with pytest.raises(NotFound):
        checkout_visit(other.engine, other.staff_actor(), appt_id, gateway=gateway(other, ny(10, 40)),
                       now=ny(10, 40), card=GOOD)
    with other.session() as s:
        with pytest.raises(NotFound):
            checkout_quote(s, other.staff_actor("owner"), appt_id)
    for actor in (Actor(org_id=clinic.org_id, role="lab"), Actor.client(clinic.org_id, 1),
                  Actor.public(clinic.org_id)):
        with pytest.raises(PermissionDenied):
            checkout_visit(clinic.engine, actor, appt_id, gateway=gateway(clinic, ny(10, 40)), now=ny(10, 40),
                           card=GOOD)
        with clinic.session() as s:
            with pytest.raises(PermissionDenied):
                checkout_quote(s, actor, appt_id)
    with clinic.session() as s:
        assert lines(s, appt_id) == [("deposit_paid", 5000), ("processing_fee", -175)]


def test_refund_of_the_balance_is_a_sale_refund_and_keeps_the_fee(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt_id = checked_in(clinic, "botox", ny(10))
    out = checkout_visit(clinic.engine, clinic.staff_actor(), appt_id, gateway=gateway(clinic, ny(10, 40)),
                         now=ny(10, 40), card=GOOD)
    with clinic.session() as s:
        issue_refund(s, clinic.staff_actor("manager"), out.payment_id, gateway(clinic, ny(11)), now=ny(11),
                     reason="unhappy with the result", amount_cents=10000)
        s.commit()
        assert lines(s, appt_id)[-1] == ("sale_refunded", -10000)
        assert [t for t, _ in lines(s, appt_id)].count("processing_fee") == 2  # neither fee comes back
        assert s.get(Payment, out.payment_id).status == "partially_refunded"
        assert checkout_quote(s, clinic.staff_actor(), appt_id).checked_out


def test_a_deposit_above_the_price_is_applied_up_to_the_price_and_the_rest_refunded(engine, owner_engine):
    """Breaker pass: a $75 deposit on a visit whose price became $50 left $25 on nobody's
    account (the visit's ledger summed to the whole deposit). The excess goes back to the
    card at checkout, so the visit's ledger sums to its price less fees."""
    clinic = build_clinic(engine, owner_engine)
    appt_id = checked_in(clinic, "botox", ny(10))
    desk = clinic.staff_actor("front_desk")
    now = ny(10, 40)
    with clinic.session() as s:
        appt = s.get(Appointment, appt_id)
        appt.price_cents = 3000  # a price cut below the $50 deposit at the desk
        s.add(appt)
        s.commit()
    out = checkout_visit(clinic.engine, desk, appt_id, gateway=gateway(clinic, now), now=now)  # no card: nothing due
    with clinic.session() as s:
        assert (out.status, out.applied_cents, out.balance_cents, out.refunded_cents) == ("succeeded", 3000, 0, 2000)
        assert lines(s, appt_id) == [("deposit_paid", 5000), ("processing_fee", -175), ("sale", 3000),
                                     ("deposit_applied", -3000), ("deposit_refunded", -2000)]
        assert sum(a for _, a in lines(s, appt_id)) == 3000 - 175
        deposit = s.exec(select(Payment).where(Payment.appointment_id == appt_id, Payment.purpose == "deposit")).one()
        assert deposit.status == "partially_refunded"
