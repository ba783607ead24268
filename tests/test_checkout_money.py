"""Issue 11, checkout: the balance payment is recorded pending before the gateway call, and a
crash between the steps is repaired by reconciliation; a 3-D Secure balance payment that the
webhook reports later is put on the ledger (payments/checkout.py, payments/reconcile.py,
payments/webhooks.py). Every test ends with the money invariant empty.

A crash is simulated as in tests/test_reconcile.py: one step of the checkout request raises
(Crash); what it committed stays. Reconciliation then runs on a clock past the checkout's
window (CHECKOUT_WINDOW_SECONDS) plus the grace period.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

import medspa.domain.payments.checkout as checkout_module
from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.actions import do_reconcile_payments
from medspa.domain.payments.checkout import CHECKOUT_WINDOW_SECONDS, checkout_quote, checkout_visit
from medspa.domain.payments.gateway import TestPaymentGateway
from medspa.domain.payments.invariant import money_violations
from medspa.domain.payments.models import Payment, TestGatewayCharge
from medspa.domain.payments.stripe_gateway import GatewayUnavailable, StripeGateway
from medspa.domain.payments.webhooks import handle_stripe_event
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import change_status
from tests.factories import build_clinic
from tests.fake_stripe import FakeStripe, sign_header
from tests.gateway_faults import Crash, CrashingGateway
from tests.test_checkout import DECLINE, GOOD, checked_in, lines, ny

NOW = ny(10, 40)
PAST_WINDOW = timedelta(seconds=CHECKOUT_WINDOW_SECONDS + 120 + 1)  # the window + the 120 s grace
CHECKED_OUT = [("deposit_paid", 5000), ("processing_fee", -175), ("sale", 35000), ("deposit_applied", -5000),
               ("processing_fee", -900)]


@pytest.fixture
def fake():
    server = FakeStripe().start()
    yield server
    server.stop()


def crash_checkout(clinic, gateway, when: str, monkeypatch, card=GOOD, appt_id=None, **pay) -> int:
    """A checkout of a checked-in botox visit ($350, $50 deposit) that dies at `when`;
    returns the appointment id."""
    appt_id = appt_id or checked_in(clinic, "botox", ny(10))
    gw = gateway
    if when == "while_recording":
        def die(*args, **kwargs):
            raise Crash("killed while recording the answer")

        monkeypatch.setattr(checkout_module, "settle_balance", die)
    else:
        gw = CrashingGateway(gateway, when)
    with pytest.raises(Crash):
        checkout_visit(clinic.engine, clinic.staff_actor(), appt_id, gateway=gw, now=NOW, card=card, **pay)
    monkeypatch.undo()
    return appt_id


def balance_payments(clinic, appt_id) -> list[Payment]:
    with clinic.session() as s:
        return list(s.exec(select(Payment).where(Payment.appointment_id == appt_id, Payment.purpose == "balance")
                           .order_by(Payment.id)))


def violations(clinic, now: datetime):
    with clinic.session() as s:
        return [(v.kind, v.payment_id) for v in money_violations(s, now)]


def ledger(clinic, appt_id):
    with clinic.session() as s:
        return lines(s, appt_id)


def status(clinic, appt_id) -> str:
    with clinic.session() as s:
        return s.get(Appointment, appt_id).status


def reconcile(clinic, gateway, at: datetime) -> list[str]:
    return [r.outcome for r in do_reconcile_payments(clock=FixedClock(at), engine=clinic.engine, gateway=gateway)
            if r.org_id == clinic.org_id]


def charges(clinic) -> list[tuple[str, str]]:
    with clinic.session() as s:
        return [(r.idempotency_key, r.result["status"]) for r in s.exec(select(TestGatewayCharge)
                                                                         .order_by(TestGatewayCharge.id))
                if r.idempotency_key.startswith("checkout-")]


# ---- the fault, and every crash point settled by reconciliation ---------------------------------

@pytest.mark.parametrize("when", ["before_gateway", "after_gateway", "while_recording"])
def test_checkout_crash_points_are_settled_by_reconciliation(engine, owner_engine, monkeypatch, when):
    """Before issue 11 step 2 the balance Payment was written after the gateway answered, in
    the transaction that held the visit: a crash there left a charge with no row at all."""
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, lambda: NOW)
    appt_id = crash_checkout(clinic, gateway, when, monkeypatch)
    (payment,) = balance_payments(clinic, appt_id)
    assert (payment.status, payment.idempotency_key, payment.amount_cents) == (
        "pending", f"checkout-{appt_id}-attempt-1", 30000)
    assert payment.reconcile_after == NOW + timedelta(seconds=CHECKOUT_WINDOW_SECONDS + 120)
    assert status(clinic, appt_id) == "checked_in" and ledger(clinic, appt_id) == CHECKED_OUT[:2]
    assert violations(clinic, NOW) == []  # the request may still be running
    later = NOW + PAST_WINDOW
    assert violations(clinic, later) == [("unsettled_payment", payment.id)]  # overdue until reconciled
    assert reconcile(clinic, gateway, NOW + timedelta(minutes=5)) == []  # not inside the window
    done = reconcile(clinic, gateway, later)
    (payment,) = balance_payments(clinic, appt_id)
    if when == "before_gateway":  # never charged: failed, the visit still checked in, the desk can retry
        assert done == ["failed"] and charges(clinic) == []
        assert (payment.status, status(clinic, appt_id), ledger(clinic, appt_id)) == (
            "failed", "checked_in", CHECKED_OUT[:2])
        out = checkout_visit(clinic.engine, clinic.staff_actor(), appt_id, gateway=gateway, now=later, card=GOOD)
        assert (out.status, balance_payments(clinic, appt_id)[-1].idempotency_key) == (
            "succeeded", f"checkout-{appt_id}-attempt-2")
    else:  # charged: the checkout is recorded as the request would have
        assert done == ["checked_out"] and charges(clinic) == [(f"checkout-{appt_id}-attempt-1", "succeeded")]
        assert (payment.status, payment.fee_cents, status(clinic, appt_id)) == ("succeeded", 900, "completed")
        with clinic.session() as s:
            receipts = s.exec(select(OutboxMessage).where(OutboxMessage.appointment_id == appt_id,
                                                          OutboxMessage.kind == "checkout_receipt")).all()
            actions = list(s.exec(select(AuditEvent.action).where(
                AuditEvent.actor_label == "payment reconciliation").order_by(AuditEvent.id)))
            assert checkout_quote(s, clinic.staff_actor(), appt_id).paid_cents == 30000
        assert len(receipts) == 1
        assert actions == ["payment.succeeded", "appointment.complete", "checkout.complete"]
    assert ledger(clinic, appt_id) == CHECKED_OUT
    assert balance_payments(clinic, appt_id)[-1].reconcile_after is None
    assert violations(clinic, later) == []
    assert reconcile(clinic, gateway, later + timedelta(hours=1)) == []  # settled once


def test_a_retry_after_a_crash_reuses_the_pending_key_and_charges_once(engine, owner_engine, monkeypatch):
    """The desk presses again (another card even) before reconciliation ran: the pending
    attempt's key is reused and the gateway replays the first charge instead of a second."""
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, lambda: NOW)
    appt_id = crash_checkout(clinic, gateway, "after_gateway", monkeypatch)
    out = checkout_visit(clinic.engine, clinic.staff_actor(), appt_id, gateway=gateway, now=NOW + timedelta(minutes=1),
                         card=DECLINE)
    assert (out.status, out.card_last4) == ("succeeded", "4242")  # the stored answer of the first card
    assert charges(clinic) == [(f"checkout-{appt_id}-attempt-1", "succeeded")]
    assert [p.status for p in balance_payments(clinic, appt_id)] == ["succeeded"]
    assert ledger(clinic, appt_id) == CHECKED_OUT
    assert reconcile(clinic, gateway, NOW + PAST_WINDOW) == []
    assert violations(clinic, NOW + PAST_WINDOW) == []


def test_a_gateway_that_does_not_answer_leaves_the_attempt_for_a_retry(engine, owner_engine):
    class Lost(CrashingGateway):
        def charge(self, request):
            self.inner.charge(request)
            raise GatewayUnavailable("The payment service is not answering. Please try again.")

    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, lambda: NOW)
    appt_id = checked_in(clinic, "botox", ny(10))
    with pytest.raises(GatewayUnavailable):
        checkout_visit(clinic.engine, clinic.staff_actor(), appt_id, gateway=Lost(gateway, ""), now=NOW, card=GOOD)
    assert [p.status for p in balance_payments(clinic, appt_id)] == ["pending"]
    out = checkout_visit(clinic.engine, clinic.staff_actor(), appt_id, gateway=gateway, now=NOW, card=GOOD)
    assert out.status == "succeeded" and len(charges(clinic)) == 1
    assert violations(clinic, NOW + PAST_WINDOW) == []


def test_a_decline_the_request_never_recorded_is_settled_failed(engine, owner_engine, monkeypatch):
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, lambda: NOW)
    appt_id = crash_checkout(clinic, gateway, "after_gateway", monkeypatch, card=DECLINE)
    assert reconcile(clinic, gateway, NOW + PAST_WINDOW) == ["failed"]
    (payment,) = balance_payments(clinic, appt_id)
    assert (payment.status, payment.failure_message) == ("declined", "Your card was declined.")
    assert status(clinic, appt_id) == "checked_in" and ledger(clinic, appt_id) == CHECKED_OUT[:2]
    assert violations(clinic, NOW + PAST_WINDOW) == []


# ---- 3-D Secure at checkout (Stripe) ---------------------------------------------------------

def stripe_checkout(clinic, gateway, pm: str, appt_id: int, at: datetime = NOW):
    return checkout_visit(clinic.engine, clinic.staff_actor(), appt_id, gateway=gateway, now=at, payment_method_id=pm)


def deliver(clinic, fake, gateway, pi_id: str, at: datetime) -> str:
    body = fake.event(pi_id, "payment_intent.succeeded")
    header = sign_header(body, "whsec_x", int(at.timestamp()))
    return handle_stripe_event(clinic.engine, body, header, "whsec_x", gateway, FixedClock(at))


def test_a_3ds_balance_the_webhook_reports_later_is_checked_out(engine, owner_engine, fake):
    """Before: payment_intent.succeeded marked the balance payment succeeded and wrote no
    ledger line (a stranded charge that `medspa check` reports); now the checkout is recorded."""
    clinic = build_clinic(engine, owner_engine)
    gateway = StripeGateway(fake.api_key, fake.url)
    appt_id = checked_in(clinic, "botox", ny(10))
    out = stripe_checkout(clinic, gateway, "pm_card_threeDSecure2Required", appt_id)
    assert out.status == "requires_action" and out.client_secret and "Use another card" in out.message
    (payment,) = balance_payments(clinic, appt_id)
    assert payment.status == "requires_action" and payment.reconcile_after is not None
    fake.complete_action(payment.gateway_payment_id)  # the cardholder's bank confirmed it
    at = NOW + timedelta(minutes=2)
    assert deliver(clinic, fake, gateway, payment.gateway_payment_id, at) == "checked_out"
    (payment,) = balance_payments(clinic, appt_id)
    assert (payment.status, payment.reconcile_after) == ("succeeded", None)
    assert ledger(clinic, appt_id) == CHECKED_OUT[:4]  # Stripe's event carries no fee
    assert status(clinic, appt_id) == "completed"
    assert deliver(clinic, fake, gateway, payment.gateway_payment_id, at) == "succeeded"  # a second event: nothing
    assert len(ledger(clinic, appt_id)) == 4
    assert reconcile(clinic, gateway, NOW + PAST_WINDOW) == []
    assert violations(clinic, NOW + PAST_WINDOW) == []


def test_a_late_3ds_success_after_another_card_paid_is_refunded(engine, owner_engine, fake):
    clinic = build_clinic(engine, owner_engine)
    gateway = StripeGateway(fake.api_key, fake.url)
    appt_id = checked_in(clinic, "botox", ny(10))
    assert stripe_checkout(clinic, gateway, "pm_card_threeDSecure2Required", appt_id).status == "requires_action"
    out = stripe_checkout(clinic, gateway, "pm_card_visa", appt_id, NOW + timedelta(minutes=1))  # another card
    assert out.status == "succeeded"
    first, second = balance_payments(clinic, appt_id)
    assert (first.idempotency_key, second.idempotency_key) == (f"checkout-{appt_id}-attempt-1",
                                                               f"checkout-{appt_id}-attempt-2")
    fake.complete_action(first.gateway_payment_id)  # the first card's bank confirmed it after all
    assert deliver(clinic, fake, gateway, first.gateway_payment_id, NOW + timedelta(minutes=3)) == "voided"
    first, second = balance_payments(clinic, appt_id)
    assert (first.status, first.reconcile_after, second.status) == ("refunded", None, "succeeded")
    assert ledger(clinic, appt_id)[2:] == [("sale", 35000), ("deposit_applied", -5000),
                                           ("balance_paid", 30000), ("sale_refunded", -30000)]
    assert [r.params["amount"] for r in fake.posts_to("/v1/refunds")] == ["30000"]
    assert sum(a for _, a in ledger(clinic, appt_id)) == 35000 - 175  # paid once (less the deposit's fee)
    assert violations(clinic, NOW + PAST_WINDOW) == []


def test_a_3ds_balance_never_confirmed_is_canceled_by_reconciliation(engine, owner_engine, fake):
    clinic = build_clinic(engine, owner_engine)
    gateway = StripeGateway(fake.api_key, fake.url)
    appt_id = checked_in(clinic, "botox", ny(10))
    assert stripe_checkout(clinic, gateway, "pm_card_threeDSecure2Required", appt_id).status == "requires_action"
    assert reconcile(clinic, gateway, NOW + PAST_WINDOW) == ["failed"]
    (payment,) = balance_payments(clinic, appt_id)
    assert payment.status == "failed" and fake.intents[payment.gateway_payment_id]["status"] == "canceled"
    assert status(clinic, appt_id) == "checked_in" and ledger(clinic, appt_id) == CHECKED_OUT[:2]
    assert violations(clinic, NOW + PAST_WINDOW) == []


def test_a_completed_visit_settled_by_reconciliation_stays_completed(engine, owner_engine, monkeypatch):
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, lambda: NOW)
    appt_id = checked_in(clinic, "botox", ny(10))
    with clinic.session() as s:
        change_status(s, clinic.staff_actor(), appt_id, "complete", now=ny(10, 30))
        s.commit()
    crash_checkout(clinic, gateway, "after_gateway", monkeypatch, appt_id=appt_id)
    assert reconcile(clinic, gateway, NOW + PAST_WINDOW) == ["checked_out"]
    with clinic.session() as s:
        appt = s.get(Appointment, appt_id)
        assert (appt.status, appt.completed_at) == ("completed", ny(10, 30))
    assert violations(clinic, NOW + PAST_WINDOW) == []


def test_the_test_gateway_answers_one_key_sent_twice_at_once_with_one_charge(engine, owner_engine):
    """Two tabs send the same pending attempt's key at the same moment: before, the second
    insert of the key's answer failed with a unique violation (the checkout errored out, found
    as a flaky two-desks test); now both get the first answer, like Stripe's replay."""
    import threading

    from medspa.domain.payments.gateway import ChargeRequest

    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, lambda: NOW)
    request = ChargeRequest(org_id=clinic.org_id, amount_cents=30000, currency="USD", idempotency_key="checkout-x-1",
                            card=GOOD)
    for attempt in range(5):
        request.idempotency_key = f"checkout-race-{attempt}"
        answers: list = []
        barrier = threading.Barrier(2)

        def send():
            barrier.wait(10)
            answers.append(gateway.charge(request))

        threads = [threading.Thread(target=send) for _ in range(2)]
        [t.start() for t in threads]
        [t.join(30) for t in threads]
        assert len(answers) == 2 and answers[0].gateway_payment_id == answers[1].gateway_payment_id
    assert len(charges(clinic)) == 5
