"""Reconciliation: every payment whose fate is open is settled, so a charge never outlives its
booking (issue 11; DESIGN.md, money flow 3 and 4).

Open payments carry `reconcile_after` (payments.service.record_pending sets it; settling
clears it): pending ones (the booking crashed or timed out after recording them, before or
after the gateway call), deposits still waiting for 3-D Secure whose webhook never came, and
succeeded ones whose refund the gateway refused. From `reconcile_after` on (the hold's expiry
plus a grace period, see payments.service.reconcile_after_of: never while the booking request
may still be running) the job claims them ONE AT A TIME, each in its own transaction, with
`SELECT ... FOR UPDATE SKIP LOCKED`: two workers never settle the same payment, and the
booking request and the webhook, which lock the same row, wait for the claim to commit and
then find it settled.

Settling asks the gateway what became of the idempotency key (`PaymentGateway.lookup`: the
test gateway's stored answer; Stripe's PaymentIntent by id, else by the key in its metadata),
records it (forward-only) and then:

- succeeded, the slot still held, or released but free again (and the visit still ahead) ->
  the booking is confirmed: ledger line, confirmation and receipt, audit (as a booking would);
- succeeded, the slot gone -> refunded in full (deposit_paid + charge_voided lines, audit
  refund.issue) and the client is told (messaging.money_notices.queue_refund_notice);
- declined, or never charged (the gateway never saw the key) -> failed, the hold released;
  but a late-cancel / no-show fee's card charge the gateway never saw is sent now with its
  key (payments.fees: the fee stands, only the call was lost), then settled as it answers;
- still waiting for 3-D Secure past the hold -> the intent is canceled, the hold released
  (when the cancel finds it succeeded after all, it is settled as a success).

A checkout's balance payment (purpose "balance", pending past the checkout request's window,
CHECKOUT_WINDOW_SECONDS + grace) is settled by payments.checkout.settle_balance: charged ->
the checkout is recorded (sale, deposit_applied, processing_fee lines, the visit completed,
the receipt) unless the visit was checked out by another payment meanwhile (then refunded in
full); never charged or declined -> failed (the visit stays checked in, nothing to undo);
3-D Secure still waiting -> the intent is canceled first.

A gateway that does not answer, or refuses a refund, leaves the payment open: reconcile_after
moves on by a back-off (1, 2, 4 ... 60 minutes) and the next run tries again.

Pending refunds (payments.service.begin_refund records each `pending` with its key and a
reconcile_after before the gateway call: one the gateway did not answer, or whose step was
killed between its commit and the call, payments.refunds) are sent by `claim_next_refund` /
payments.refunds.settle_refund with the SAME key and amount until the gateway answers: Stripe replays a refund it made (an answer that was lost), so the money goes
back once. Locks are taken payment first, then refund (as refund_payment and the refund
webhook do), each SKIP LOCKED: two workers never ask for the same refund at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.money_notices import queue_refund_notice
from medspa.domain.payments.checkout import settle_balance
from medspa.domain.payments.gateway import ChargeResult, PaymentGateway
from medspa.domain.payments.fees import FEE_PURPOSE, fee_charge_result, settle_fee_payment
from medspa.domain.payments.models import (LedgerEntry, OPEN_PAYMENT_STATUSES, Payment, PaymentStatus, Refund,
                                           RefundStatus)
from medspa.domain.payments.refunds import OtherGateway
from medspa.domain.payments.service import apply_charge_outcome, ledger_deposit_paid, mark_settled, refund_payment
from medspa.domain.scheduling.booking import finalize_paid_booking, void_charge
from medspa.domain.scheduling.models import AppointmentStatus
from medspa.domain.scheduling.service import HoldLost, get_appointment, release_hold, revive_hold

log = logging.getLogger(__name__)

KEPT_BY_VISIT = (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED,
                 AppointmentStatus.NO_SHOW)
MAX_BACKOFF_SECONDS = 3600


def backoff_seconds(attempts: int) -> int:
    """How long to wait after the `attempts`-th failed try to settle a payment: 60 s doubled
    per attempt, at most an hour (60, 120, 240, ... 3600)."""
    return min(60 * 2 ** max(0, attempts - 1), MAX_BACKOFF_SECONDS)


def claim_next(session: Session, now: datetime, skip: set[int] | None = None) -> Payment | None:
    """The next open payment of the session's clinic due at `now` (reconcile_after <= now,
    oldest first), locked FOR UPDATE SKIP LOCKED: a payment another worker (or a booking
    request, or a webhook) holds is passed over, never waited for. None when nothing is due.
    skip: ids this run already handled (never claimed twice in one run)."""
    stmt = select(Payment).where(Payment.reconcile_after.is_not(None), Payment.reconcile_after <= now)
    if skip:
        stmt = stmt.where(Payment.id.not_in(skip))
    return session.exec(stmt.order_by(Payment.reconcile_after, Payment.id).limit(1)
                        .with_for_update(skip_locked=True)).first()


def postpone(session: Session, payment: Payment, now: datetime, reason: str) -> None:
    """Try `payment` again later: attempts + 1, reconcile_after = now + backoff_seconds."""
    payment.reconcile_attempts += 1
    payment.reconcile_after = now + timedelta(seconds=backoff_seconds(payment.reconcile_attempts))
    session.add(payment)
    log.warning("payment %s not settled (%s): next try at %s", payment.id, reason, payment.reconcile_after)


class StillOpen(Exception):
    """The gateway has no final answer yet (a payment still processing): try later."""


def _gateway_outcome(session: Session, payment: Payment, gateway: PaymentGateway) -> ChargeResult:
    """What the gateway says about the payment's idempotency key, a waiting 3-D Secure canceled.
    A fee's card charge the gateway never saw is sent now with that key (payments.fees
    .fee_charge_result): the fee was applied and committed, only the call was lost."""
    outcome = gateway.lookup(org_id=payment.org_id, idempotency_key=payment.idempotency_key,
                             gateway_payment_id=payment.gateway_payment_id or "")
    if outcome is None and payment.purpose == FEE_PURPOSE and payment.status == PaymentStatus.PENDING:
        return fee_charge_result(session, payment, gateway)
    if outcome is None:
        return ChargeResult(status=PaymentStatus.FAILED, message="Never charged (found by reconciliation).")
    if outcome.status == PaymentStatus.REQUIRES_ACTION:
        return gateway.cancel(org_id=payment.org_id, idempotency_key=payment.idempotency_key,
                              gateway_payment_id=outcome.gateway_payment_id or payment.gateway_payment_id or "")
    return outcome


def settle_payment(session: Session, actor: Actor, payment: Payment, gateway: PaymentGateway,
                   now: datetime) -> str:
    """Settle one claimed (locked) payment; returns the outcome: "confirmed", "refunded",
    "failed", "kept" (a late cancellation kept the deposit), "checked_out" (a checkout's
    balance payment that was charged: its sale recorded, payments.checkout.settle_balance),
    "settled" (nothing was left to do), "needs_action" (a fee's charge sent now that waits
    for 3-D Secure: the fee unpaid, needs action; the payment postponed, the next run cancels
    the intent) or "refund_failed" (the gateway refused the refund: the caller postpones it).
    Raises GatewayUnavailable, OtherGateway, StillOpen (the caller rolls back and postpones
    it). The caller commits."""
    if payment.gateway != gateway.name:
        raise OtherGateway(f"payment {payment.id} is a {payment.gateway} payment, this gateway is {gateway.name}")
    if payment.status in OPEN_PAYMENT_STATUSES:
        apply_charge_outcome(session, actor, payment, _gateway_outcome(session, payment, gateway), now,
                             source="reconciliation")
        if payment.purpose == FEE_PURPOSE and payment.status == PaymentStatus.REQUIRES_ACTION:
            settle_fee_payment(session, actor, payment, now)  # sent just now: unpaid, needs action, as live
            postpone(session, payment, now, "the fee's charge waits for 3-D Secure")  # the next run cancels it
            return "needs_action"
        if payment.status in OPEN_PAYMENT_STATUSES:  # e.g. Stripe "processing": cannot be canceled, wait
            raise StillOpen(f"payment {payment.id} is still {payment.status} at the gateway")
    if payment.purpose == "balance" and payment.appointment_id is not None:
        return settle_balance(session, actor, payment, gateway, now)  # a checkout's: the sale, or a refund
    if payment.purpose == FEE_PURPOSE:  # a fee's card charge: the fee row follows (payments.fees)
        settle_fee_payment(session, actor, payment, now)
        mark_settled(payment)
        return "settled"
    if payment.purpose != "deposit" or payment.appointment_id is None:
        mark_settled(payment)
        return "settled"
    appt = get_appointment(session, payment.appointment_id, lock=True)
    if payment.status in (PaymentStatus.DECLINED, PaymentStatus.FAILED):
        release_hold(session, actor, appt.id, now=now, reason="payment failed")
        mark_settled(payment)
        return "failed"
    if payment.status != PaymentStatus.SUCCEEDED:  # refunded (in part or in full) meanwhile
        mark_settled(payment)
        return "settled"
    if appt.status in KEPT_BY_VISIT:
        ledger_deposit_paid(session, payment, now)
        mark_settled(payment)
        return "confirmed"
    if appt.status == AppointmentStatus.CANCELLED:
        return _settle_cancelled(session, actor, payment, appt, gateway, now)
    if appt.status == AppointmentStatus.EXPIRED and not revive_hold(session, actor, appt.id, now=now):
        return _void(session, actor, payment, appt, gateway, now)
    try:
        with session.begin_nested():
            finalize_paid_booking(session, actor, appt.id, payment, now)
    except HoldLost:
        return _void(session, actor, payment, appt, gateway, now)
    mark_settled(payment)
    return "confirmed"


def _void(session: Session, actor: Actor, payment: Payment, appt, gateway: PaymentGateway, now: datetime) -> str:
    """The slot is gone: refund in full, tell the client."""
    release_hold(session, actor, appt.id, now=now, reason="slot lost before confirmation")
    refund = void_charge(session, actor, payment, gateway, now)
    if refund is None:
        return "refund_failed"
    queue_refund_notice(session, appt, refunded_cents=payment.amount_cents,
                        pending=refund.status == RefundStatus.PENDING)
    return "refunded"


def _settle_cancelled(session: Session, actor: Actor, payment: Payment, appt, gateway: PaymentGateway,
                      now: datetime) -> str:
    """A cancelled visit with its deposit still taken: kept when the policy kept it at the
    cancellation (appointment.cancellation_keeps_deposit; NULL on visits cancelled before that
    column: kept when late) or a deposit_forfeited line says so, else refunded."""
    kept = session.exec(select(LedgerEntry.id).where(LedgerEntry.payment_id == payment.id,
                                                     LedgerEntry.entry_type == "deposit_forfeited")).first()
    ledger_deposit_paid(session, payment, now)
    keeps = appt.cancellation_keeps_deposit if appt.cancellation_keeps_deposit is not None \
        else bool(appt.cancellation_late)
    if kept is not None or keeps:
        if kept is None:
            session.add(LedgerEntry(org_id=payment.org_id, client_id=payment.client_id,
                                    appointment_id=appt.id, payment_id=payment.id, entry_type="deposit_forfeited",
                                    amount_cents=0, currency=payment.currency, created_at=now))
        mark_settled(payment)
        return "kept"
    if refund_payment(session, actor, payment, gateway, now=now, reason="cancelled: deposit due back") is None:
        return "refund_failed"
    record(session, actor, "payment.reconciled", "payment", payment.id, client_id=payment.client_id, at=now,
           outcome="refunded after cancellation")
    return "refunded"


def claim_next_refund(session: Session, now: datetime, skip: set[int] | None = None) -> tuple[Payment, Refund] | None:
    """The next pending refund of the session's clinic due at `now` (reconcile_after <= now,
    oldest first) with its payment, both locked: the payment FOR UPDATE SKIP LOCKED first
    (the order refund_payment and the refund webhook use), then the refund, SKIP LOCKED too.
    A refund whose payment or row another worker holds is passed over. None when none is due.
    skip: refund ids this run already handled."""
    stmt = select(Refund.id, Refund.payment_id).where(Refund.status == RefundStatus.PENDING,
                                                      Refund.reconcile_after.is_not(None),
                                                      Refund.reconcile_after <= now)
    if skip:
        stmt = stmt.where(Refund.id.not_in(skip))
    for refund_id, payment_id in session.exec(stmt.order_by(Refund.reconcile_after, Refund.id).limit(50)).all():
        payment = session.exec(select(Payment).where(Payment.id == payment_id)
                               .with_for_update(skip_locked=True)).first()
        if payment is None:
            continue
        refund = session.exec(select(Refund).where(Refund.id == refund_id, Refund.status == RefundStatus.PENDING)
                              .with_for_update(skip_locked=True)).first()
        if refund is not None:
            return payment, refund
    return None


def postpone_refund(session: Session, refund: Refund, now: datetime, reason: str) -> None:
    """Ask the gateway about `refund` again later: attempts + 1, reconcile_after = now + backoff_seconds."""
    refund.reconcile_attempts += 1
    refund.reconcile_after = now + timedelta(seconds=backoff_seconds(refund.reconcile_attempts))
    session.add(refund)
    log.warning("refund %s not settled (%s): next try at %s", refund.id, reason, refund.reconcile_after)
