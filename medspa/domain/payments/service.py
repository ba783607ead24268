"""Recording charges and refunds, and the client ledger (integer cents throughout).

A deposit is recorded before the gateway is called (`record_pending`, committed on its own)
and the gateway's answer then moves that row forward (`apply_charge_outcome`); a crash in
between leaves a `pending` row with its idempotency key, which reconciliation
(payments/reconcile.py) settles by asking the gateway about that key.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.money import format_money
from medspa.domain.payments.gateway import ChargeRequest, ChargeResult, PaymentGateway, RefundResult
from medspa.domain.payments.models import LedgerEntry, Payment, PaymentStatus, Refund, RefundStatus
from medspa.domain.payments.stripe_gateway import GatewayUnavailable
from medspa.domain.scheduling.models import Appointment


def next_idempotency_key(session: Session, appointment_id: int, purpose: str = "deposit",
                         prefix: str | None = None) -> str:
    """"<prefix>-<appointment id>-attempt-<n>", n = earlier Payment rows of this purpose + 1.

    prefix defaults to the purpose ("deposit-7-attempt-1"); checkout uses purpose "balance"
    with prefix "checkout" ("checkout-7-attempt-1")."""
    attempts = session.exec(select(func.count()).select_from(Payment).where(
        Payment.appointment_id == appointment_id, Payment.purpose == purpose)).one()
    return f"{prefix or purpose}-{appointment_id}-attempt-{attempts + 1}"


FORWARD = {
    PaymentStatus.PENDING: {PaymentStatus.SUCCEEDED, PaymentStatus.DECLINED, PaymentStatus.FAILED,
                            PaymentStatus.REQUIRES_ACTION},
    PaymentStatus.REQUIRES_ACTION: {PaymentStatus.SUCCEEDED, PaymentStatus.DECLINED, PaymentStatus.FAILED},
    # the gateway took the money after the app gave up (a late 3-D Secure, a charge that landed
    # after reconciliation found none): the success is recorded so that it can be refunded
    PaymentStatus.DECLINED: {PaymentStatus.SUCCEEDED},
    PaymentStatus.FAILED: {PaymentStatus.SUCCEEDED},
}
"""The charge outcomes a payment may move to from each status; every other move is refused
(forward-only: a late or replayed answer never undoes a settled one). Refunds move a
succeeded payment on (refund_payment)."""


def reconcile_after_of(created_at: datetime, hold_expires_at: datetime | None, grace_seconds: int) -> datetime:
    """From when reconciliation may settle a payment created at `created_at` for a hold that
    lapses at `hold_expires_at` (None: no hold): `grace_seconds` after the later of the two.

    Why after the hold's expiry: until then the booking request (or the client's 3-D Secure)
    may still be running and will settle the payment itself; the gateway call it makes is
    bounded (Stripe's client times out after 80 s, with 2 retries) and far shorter than a hold.
    Why a grace on top: the booking's last transaction may still be committing, and Stripe's
    Search API, which finds an intent whose id was never recorded, lags up to about a minute."""
    start = max(created_at, hold_expires_at) if hold_expires_at is not None else created_at
    return start + timedelta(seconds=grace_seconds)


def open_deposit(session: Session, appointment_id: int, purpose: str = "deposit") -> Payment | None:
    """The appointment's deposit payment (or `purpose`: "balance" at checkout) whose outcome is
    unknown (pending), if any: a retry of the booking (of the checkout) reuses it and its
    idempotency key, so the gateway replays the first answer instead of charging twice (Stripe: https://docs.stripe.com/api/idempotent_requests).
    Not locked: the caller holds the appointment's lock (which serialises submissions), and
    locking the payment after the appointment would invert reconciliation's order (payment,
    then appointment)."""
    return session.exec(select(Payment).where(Payment.appointment_id == appointment_id, Payment.purpose == purpose,
                                              Payment.status == PaymentStatus.PENDING)
                        .order_by(Payment.id.desc())).first()


def record_pending(session: Session, actor: Actor, *, appointment: Appointment, request: ChargeRequest, gateway: str,
                   now: datetime, grace_seconds: int, purpose: str = "deposit",
                   until: datetime | None = None) -> Payment:
    """The Payment row of a charge about to be sent: status pending, the request's idempotency
    key, amount (integer cents) and currency, the appointment and its client, and
    reconcile_after (reconcile_after_of `until`: the instant up to which the request may still
    settle the payment itself; default the hold's expiry, for a deposit). Audit
    payment.pending. The caller commits BEFORE calling the gateway, so no charge can exist
    without its row."""
    until = appointment.hold_expires_at if until is None else until
    payment = Payment(org_id=actor.org_id, appointment_id=appointment.id, client_id=appointment.client_id,
                      purpose=purpose, amount_cents=request.amount_cents, currency=request.currency,
                      status=PaymentStatus.PENDING, gateway=gateway, idempotency_key=request.idempotency_key,
                      created_at=now, reconcile_after=reconcile_after_of(now, until, grace_seconds))
    session.add(payment)
    session.flush()
    record(session, actor, "payment.pending", "payment", payment.id, client_id=appointment.client_id, at=now,
           amount_cents=request.amount_cents, purpose=purpose, idempotency_key=request.idempotency_key)
    return payment


def apply_charge_outcome(session: Session, actor: Actor, payment: Payment, result: ChargeResult, now: datetime,
                         **audit: object) -> bool:
    """Move `payment` (locked by the caller) to the gateway's answer `result` when FORWARD
    allows it: status, gateway_payment_id, card_last4, message, fee_cents (succeeded only);
    declined/failed are settled (reconcile_after NULL). Audit payment.<status> with `audit`
    as details. Returns False, changing nothing, for a move FORWARD refuses (the row was
    settled by someone else: the webhook, reconciliation)."""
    status = PaymentStatus(result.status)
    if status not in FORWARD.get(PaymentStatus(payment.status), set()):
        return False
    previous = payment.status
    payment.status = status
    payment.gateway_payment_id = result.gateway_payment_id or payment.gateway_payment_id
    payment.card_last4 = result.card_last4 or payment.card_last4
    payment.failure_message = "" if status == PaymentStatus.SUCCEEDED else (result.message or "")[:500]
    if status == PaymentStatus.SUCCEEDED:
        payment.fee_cents = max(0, int(result.fee_cents or 0))
    if status in (PaymentStatus.DECLINED, PaymentStatus.FAILED):
        payment.reconcile_after = None
    session.add(payment)
    session.flush()
    record(session, actor, f"payment.{status}", "payment", payment.id, client_id=payment.client_id, at=now,
           amount_cents=payment.amount_cents, purpose=payment.purpose, previous=str(previous), **audit)
    return True


def mark_settled(payment: Payment) -> None:
    """Nothing is left to settle on `payment` (confirmed with its ledger line, refunded, or
    never charged): reconciliation stops looking at it."""
    payment.reconcile_after = None


def ledger_processing_fee(session: Session, payment: Payment, now: datetime) -> LedgerEntry | None:
    """The processing_fee line (-payment.fee_cents) of a succeeded payment; None when the fee
    is 0 (unknown or free). The caller writes it once, with the payment's first ledger line;
    a later refund never reverses it (Stripe keeps its fee on refunds)."""
    if not payment.fee_cents:
        return None
    entry = LedgerEntry(org_id=payment.org_id, client_id=payment.client_id, appointment_id=payment.appointment_id,
                        payment_id=payment.id, entry_type="processing_fee", amount_cents=-payment.fee_cents,
                        currency=payment.currency, created_at=now)
    session.add(entry)
    return entry


def ledger_deposit_paid(session: Session, payment: Payment, now: datetime) -> LedgerEntry | None:
    """The deposit_paid line for a succeeded payment, with its processing_fee line (when the
    gateway reported a fee), once (None if deposit_paid already exists)."""
    exists = session.exec(select(LedgerEntry.id).where(LedgerEntry.payment_id == payment.id,
                                                       LedgerEntry.entry_type == "deposit_paid")).first()
    if exists:
        return None
    entry = LedgerEntry(org_id=payment.org_id, client_id=payment.client_id, appointment_id=payment.appointment_id,
                        payment_id=payment.id, entry_type="deposit_paid", amount_cents=payment.amount_cents,
                        currency=payment.currency, created_at=now)
    session.add(entry)
    ledger_processing_fee(session, payment, now)
    return entry


REFUNDABLE_STATUSES = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)
REFUND_RETRY_SECONDS = 60
"""A pending refund whose gateway did not answer is asked again (same key, same amount) by
reconciliation from this many seconds on, then with its back-off (payments.reconcile)."""


def refunded_cents(session: Session, payment_id: int) -> int:
    """What of a payment is refunded or on its way back: the sum of its succeeded and pending
    Refund rows (integer cents; a failed refund returned nothing)."""
    return int(session.exec(select(func.coalesce(func.sum(Refund.amount_cents), 0))
                            .where(Refund.payment_id == payment_id, Refund.status != RefundStatus.FAILED)).one())


def returned_cents(session: Session, payment_id: int) -> int:
    """What of a payment went back for sure: its succeeded Refund rows (integer cents)."""
    return int(session.exec(select(func.coalesce(func.sum(Refund.amount_cents), 0))
                            .where(Refund.payment_id == payment_id, Refund.status == RefundStatus.SUCCEEDED)).one())


def refund_payment(session: Session, actor: Actor, payment: Payment, gateway: PaymentGateway, *, now: datetime,
                   reason: str, entry_type: str | None = None, amount_cents: int | None = None) -> Refund | None:
    """Refund what is left of a captured payment (or amount_cents of it) at the gateway and on
    the ledger. The payment row is locked (FOR UPDATE) before its refunds are counted.

    Any number of partial refunds, together at most the amount paid (pending ones count):
    succeeded -> partially_refunded -> refunded (when the succeeded refunds reach amount_cents;
    then settled). Each refund has its own idempotency key "refund-<payment id>-<n>", n = the
    payment's Refund rows so far + 1 (failed ones included: a refused refund's stored answer
    is never replayed for the next try). The Refund row is written `pending` with its key and
    entry_type BEFORE the gateway call; the answer settles it (apply_refund_outcome):
    succeeded -> the negative ledger line; refused -> failed with the reason (audit
    refund.failed, returns None). The gateway not answering (GatewayUnavailable: down, timed
    out, answer lost) leaves it pending with reconcile_after = now + REFUND_RETRY_SECONDS:
    reconciliation asks again with the same key and amount (Stripe replays a refund it made,
    https://docs.stripe.com/api/idempotent_requests), and the pending Refund is returned (no
    ledger line: the client's ledger never shows it as done). The payment then needs no
    reconciliation of its own (the refund carries the open fate).
    entry_type: the ledger line (negative); default deposit_refunded for a deposit,
    sale_refunded for a checkout's balance payment. The processing fee is not returned
    (Stripe keeps it), so its processing_fee line stays. Returns None when nothing is
    refundable (not captured, already refunded in full, amount_cents not in 1..what is
    left) or the gateway refused.
    All of it in the caller's transaction: only for steps that someone retries whole when
    the process dies after the gateway call (reconciliation voiding a charge whose slot is
    gone, a checkout's balance or a booking's deposit, both recorded pending first; the
    Stripe webhook, delivered again): the retry derives the same key, and Stripe replays the
    refund. A user's step that nobody would retry (a cancellation, a checkout refunding a
    deposit above the price, a manager's refund) commits its pending row first
    (begin_refund) and sends it after (payments.refunds.send_refunds_now, send_refund).
    """
    refund = begin_refund(session, actor, payment, now=now, reason=reason, entry_type=entry_type,
                          amount_cents=amount_cents)
    return send_refund(session, actor, payment, refund, gateway, now) if refund is not None else None


def begin_refund(session: Session, actor: Actor, payment: Payment, *, now: datetime, reason: str,
                 entry_type: str | None = None, amount_cents: int | None = None) -> Refund | None:
    """The pending Refund row of a refund about to be sent (refund_payment's first half): the
    payment locked, what is left computed (pending refunds count), the key
    "refund-<payment id>-<n>", status pending, reconcile_after = now + REFUND_RETRY_SECONDS,
    audit refund.pending. None when nothing is refundable or amount_cents (integer cents) is not
    in 1..what is left. A caller that can commits it before calling the gateway
    (actions.do_issue_refund), so no refund can exist at the gateway without its row."""
    if payment.status not in REFUNDABLE_STATUSES:
        return None
    if entry_type is None:
        entry_type = "sale_refunded" if payment.purpose == "balance" else "deposit_refunded"
    # the row lock (the caller's, taken again here for callers that did not) serialises refunds
    # of one payment: their count (the key) and their sum (what is left) cannot race
    session.exec(select(Payment.id).where(Payment.id == payment.id).with_for_update()).one()
    left = payment.amount_cents - refunded_cents(session, payment.id)
    amount = left if amount_cents is None else amount_cents
    if not 0 < amount <= left:
        return None
    count = session.exec(select(func.count()).select_from(Refund).where(Refund.payment_id == payment.id)).one()
    key = f"refund-{payment.id}-{count + 1}"
    refund = Refund(org_id=payment.org_id, payment_id=payment.id, amount_cents=amount, currency=payment.currency,
                    reason=reason, status=RefundStatus.PENDING, idempotency_key=key, entry_type=entry_type,
                    created_at=now, reconcile_after=now + timedelta(seconds=REFUND_RETRY_SECONDS))
    session.add(refund)
    session.flush()
    record(session, actor, "refund.pending", "payment", payment.id, client_id=payment.client_id, at=now,
           amount_cents=amount, idempotency_key=key)
    return refund


def send_refund(session: Session, actor: Actor, payment: Payment, refund: Refund, gateway: PaymentGateway,
                now: datetime) -> Refund | None:
    """Send a pending `refund` of `payment` (both locked by the caller) to the gateway with its
    key and amount and settle it with the answer (apply_refund_outcome). A gateway that does not
    answer (GatewayUnavailable) leaves it pending (audit refund.unanswered; reconciliation asks
    again) and the pending refund is returned; the payment needs no reconciliation of its own."""
    try:
        result = gateway.refund(org_id=payment.org_id, gateway_payment_id=payment.gateway_payment_id or "",
                                amount_cents=refund.amount_cents, idempotency_key=refund.idempotency_key or "")
    except GatewayUnavailable as exc:
        record(session, actor, "refund.unanswered", "payment", payment.id, client_id=payment.client_id, at=now,
               amount_cents=refund.amount_cents, idempotency_key=refund.idempotency_key or "",
               cause=exc.cause or exc.message)
        mark_settled(payment)
        session.add(payment)
        return refund
    return apply_refund_outcome(session, actor, payment, refund, result, now)


def apply_refund_outcome(session: Session, actor: Actor, payment: Payment, refund: Refund, result: RefundResult,
                         now: datetime, **audit: object) -> Refund | None:
    """Settle a pending `refund` of `payment` (both locked by the caller) with the gateway's
    answer: succeeded -> status succeeded, gateway_refund_id, the negative ledger line
    (refund.entry_type), the payment's status, audit refund.issue; returns the refund.
    failed -> status failed with the gateway's message (audit refund.failed); returns None.
    A refund already settled is left as it is (succeeded: returned; failed: None)."""
    if refund.status != RefundStatus.PENDING:
        return refund if refund.status == RefundStatus.SUCCEEDED else None
    refund.reconcile_after = None
    if result.status != "succeeded":  # RefundResult: succeeded | failed
        refund.status, refund.failure_message = RefundStatus.FAILED, (result.message or "")[:500]
        session.add(refund)
        record(session, actor, "refund.failed", "payment", payment.id, client_id=payment.client_id, at=now,
               message=result.message, idempotency_key=refund.idempotency_key or "", **audit)
        return None
    refund.status = RefundStatus.SUCCEEDED
    refund.gateway_refund_id = result.gateway_refund_id or refund.gateway_refund_id
    session.add(refund)
    session.flush()
    _book_refund(session, actor, payment, refund, now, idempotency_key=refund.idempotency_key or "", **audit)
    return refund


REFUND_FAILURE_REASONS = {
    "lost_or_stolen_card": "the card was reported lost or stolen",
    "expired_or_canceled_card": "the card has expired or was closed",
    "charge_for_pending_refund_disputed": "the client disputed the payment while the refund was pending",
    "insufficient_funds": "the clinic's Stripe balance could not cover it",
    "declined": "the card's bank declined it",
    "merchant_request": "it was canceled from the Stripe Dashboard",
    "unknown": "the card's bank sent it back without a reason",
}
"""Stripe's Refund.failure_reason values (https://docs.stripe.com/api/refunds/object), for people."""


def refund_failure_text(failure_reason: str) -> str:
    """Why a refund failed, in a sentence fragment for staff, from Stripe's failure_reason."""
    return REFUND_FAILURE_REASONS.get(failure_reason, REFUND_FAILURE_REASONS["unknown"])


def reverse_refund(session: Session, actor: Actor, payment: Payment, refund: Refund, message: str,
                   now: datetime, **audit: object) -> bool:
    """A refund that had succeeded failed afterwards (Stripe's refund.failed: the card's bank
    sent the money back to the clinic's Stripe balance; Stripe does not retry it). Both rows
    locked by the caller. The refund becomes failed with `message`, a positive refund_reversed
    ledger line gives back its negative line (same refund id), the payment's status follows
    what is still returned (succeeded / partially_refunded), and audit refund.reversed.
    Reconciliation is not reopened: the same card would send it back again, so the clinic
    returns the money another way (the caller tells the owners). Returns False (nothing
    changed) when the refund is not a succeeded one."""
    if refund.status != RefundStatus.SUCCEEDED:
        return False
    refund.status, refund.failure_message = RefundStatus.FAILED, message[:500]
    session.add(refund)
    session.flush()
    returned = returned_cents(session, payment.id)
    payment.status = (PaymentStatus.PARTIALLY_REFUNDED if returned > 0 else PaymentStatus.SUCCEEDED)
    session.add(payment)
    session.add(LedgerEntry(org_id=payment.org_id, client_id=payment.client_id, appointment_id=payment.appointment_id,
                            payment_id=payment.id, refund_id=refund.id, entry_type="refund_reversed",
                            amount_cents=refund.amount_cents, currency=payment.currency, created_at=now))
    record(session, actor, "refund.reversed", "payment", payment.id, client_id=payment.client_id, at=now,
           amount_cents=refund.amount_cents, message=message, idempotency_key=refund.idempotency_key or "", **audit)
    return True


def _book_refund(session: Session, actor: Actor, payment: Payment, refund: Refund, now: datetime,
                 **audit: object) -> None:
    """The ledger side of a succeeded (flushed) refund: the payment's status (partially_refunded,
    or refunded and settled when the succeeded refunds reach the amount paid), the negative
    ledger line (refund.entry_type, default by purpose) and the audit row refund.issue."""
    entry_type = refund.entry_type or ("sale_refunded" if payment.purpose == "balance" else "deposit_refunded")
    payment.status = (PaymentStatus.REFUNDED if returned_cents(session, payment.id) >= payment.amount_cents
                      else PaymentStatus.PARTIALLY_REFUNDED)
    if payment.status == PaymentStatus.REFUNDED:
        mark_settled(payment)
    session.add(payment)
    session.add(LedgerEntry(org_id=payment.org_id, client_id=payment.client_id, appointment_id=payment.appointment_id,
                            payment_id=payment.id, refund_id=refund.id, entry_type=entry_type,
                            amount_cents=-refund.amount_cents, currency=payment.currency, created_at=now))
    record(session, actor, "refund.issue", "payment", payment.id, client_id=payment.client_id, at=now,
           amount_cents=refund.amount_cents, reason=refund.reason, **audit)


def record_refund(session: Session, actor: Actor, payment: Payment, *, amount_cents: int, gateway_refund_id: str,
                  now: datetime, reason: str, entry_type: str | None = None, **audit: object) -> Refund | None:
    """Record a refund the gateway made that the app holds no row for (one the Stripe webhook
    reports whose answer was lost): the Refund row (succeeded), the negative ledger line
    (entry_type; default deposit_refunded / sale_refunded by the payment's purpose), the status
    (partially_refunded, or refunded and settled when the refunds reach the amount paid) and
    the audit row refund.issue with `audit`. The payment row is locked first; at most what is
    left is recorded (integer cents). None when nothing is left or the payment holds no money."""
    session.exec(select(Payment.id).where(Payment.id == payment.id).with_for_update()).one()
    if payment.status not in REFUNDABLE_STATUSES:
        return None
    amount = min(amount_cents, payment.amount_cents - refunded_cents(session, payment.id))
    if amount <= 0:
        return None
    if entry_type is None:
        entry_type = "sale_refunded" if payment.purpose == "balance" else "deposit_refunded"
    refund = Refund(org_id=payment.org_id, payment_id=payment.id, amount_cents=amount, currency=payment.currency,
                    reason=reason, gateway_refund_id=gateway_refund_id or None, created_at=now,
                    status=RefundStatus.SUCCEEDED, entry_type=entry_type)
    session.add(refund)
    session.flush()
    _book_refund(session, actor, payment, refund, now, **audit)
    return refund


def pending_refunds(session: Session, payment_id: int) -> list[Refund]:
    """A payment's refunds still waiting for the gateway's answer, oldest first."""
    return list(session.exec(select(Refund).where(Refund.payment_id == payment_id,
                                                  Refund.status == RefundStatus.PENDING).order_by(Refund.id)))


def refund_line(refund: Refund) -> str:
    """How a refund reads on the client's ledger, the portal and the desk: "Refund of $50.00
    pending" while the gateway has not answered, "Refund of $50.00" once it succeeded,
    "Refund of $50.00 failed: <reason>" when refused (never "refunded" before it is)."""
    amount = format_money(refund.amount_cents, refund.currency)
    if refund.status == RefundStatus.PENDING:
        return f"Refund of {amount} pending"
    if refund.status == RefundStatus.FAILED:
        return f"Refund of {amount} failed: {refund.failure_message or 'refused by the payment provider'}"
    return f"Refund of {amount}"


def succeeded_deposit(session: Session, appointment_id: int) -> Payment | None:
    """The appointment's succeeded deposit payment, if any."""
    return session.exec(select(Payment).where(Payment.appointment_id == appointment_id, Payment.purpose == "deposit",
                                              Payment.status == PaymentStatus.SUCCEEDED)).first()


def held_deposit(session: Session, appointment_id: int) -> tuple[Payment, int] | None:
    """The visit's deposit still held, the one place for it (a fee, its preview and waiver, a
    cancellation's refund): (its deposit payment not refunded in full, REFUNDABLE_STATUSES;
    amount_cents - refunded_cents, refunds succeeded or pending). None when none is left."""
    payment = session.exec(select(Payment).where(Payment.appointment_id == appointment_id,
                                                 Payment.purpose == "deposit", Payment.status.in_(REFUNDABLE_STATUSES))
                           .order_by(Payment.id)).first()
    left = payment.amount_cents - refunded_cents(session, payment.id) if payment is not None else 0
    return (payment, left) if left > 0 else None


def deposit_payment(session: Session, appointment_id: int) -> Payment | None:
    """The appointment's deposit payment that took money (succeeded, partially refunded or
    refunded), if any."""
    return session.exec(select(Payment).where(
        Payment.appointment_id == appointment_id, Payment.purpose == "deposit",
        Payment.status.in_(REFUNDABLE_STATUSES + (PaymentStatus.REFUNDED,))).order_by(Payment.id)).first()


def refunded_deposit_cents(session: Session, appointment_id: int, status: str = RefundStatus.SUCCEEDED) -> int:
    """Cents refunded so far on the appointment's deposit (its succeeded refunds summed; 0 when
    none). status=RefundStatus.PENDING: the cents of its refunds still waiting for the
    gateway's answer (shown as "Refund of $x pending", never as refunded)."""
    return int(session.exec(select(func.coalesce(func.sum(Refund.amount_cents), 0)).join(
        Payment, Payment.id == Refund.payment_id).where(
        Payment.appointment_id == appointment_id, Payment.purpose == "deposit", Refund.status == status)).one())


def settle_cancellation(session: Session, actor: Actor, appointment: Appointment, *, keep: bool,
                        now: datetime) -> Refund | None:
    """After a cancellation, in its transaction: keep the deposit still held (held_deposit; a
    deposit_forfeited line) when `keep` (CancelOutcome.keeps_deposit), else write its refund
    pending (begin_refund) WITHOUT calling the gateway: the caller commits, then sends it
    (payments.refunds.send_refunds_now; a crash in between leaves it to reconciliation, same
    key). Returns the pending Refund, or None (kept, or nothing held). Cancellations call this
    through payments.fees.settle_cancellation (a late-cancel fee settles by the fee first)."""
    payment, _ = held_deposit(session, appointment.id) or (None, 0)
    if payment is None:
        return None
    if keep:
        session.add(LedgerEntry(org_id=payment.org_id, client_id=payment.client_id, appointment_id=appointment.id,
                                payment_id=payment.id, entry_type="deposit_forfeited", amount_cents=0,
                                currency=payment.currency, created_at=now))
        return None
    return begin_refund(session, actor, payment, now=now, reason="cancelled outside the window"
                        if not appointment.cancellation_late else "cancelled: the clinic refunds late cancellations")


def deposit_refund_cents(session: Session, appointment_id: int) -> tuple[int, int]:
    """(refunded, pending): integer cents of the appointment's deposit that went back for sure
    and that is on its way (a refund the gateway has not confirmed yet)."""
    return (refunded_deposit_cents(session, appointment_id),
            refunded_deposit_cents(session, appointment_id, RefundStatus.PENDING))


def client_ledger(session: Session, client_id: int) -> list[LedgerEntry]:
    """A client's ledger lines, oldest first."""
    return list(session.exec(select(LedgerEntry).where(LedgerEntry.client_id == client_id)
                             .order_by(LedgerEntry.created_at, LedgerEntry.id)))


def check_refundable(session: Session, actor: Actor, payment_id: int, *, reason: str,
                     amount_cents: int | None = None) -> Payment:
    """The payment (locked) a manager or owner may refund now: refund.issue, refundable,
    amount_cents (integer cents) in 1..what is left, a reason. Raises PermissionDenied,
    NotFound (unknown payment, other clinic), ValidationFailed (not refundable, bad amount)."""
    actor.require("refund.issue")
    payment = session.get(Payment, payment_id, with_for_update=True)
    if payment is None:
        raise NotFound("payment")
    if payment.status not in REFUNDABLE_STATUSES:
        raise ValidationFailed({"payment": f"A {payment.status.replace('_', ' ')} payment cannot be refunded"})
    left = payment.amount_cents - refunded_cents(session, payment.id)
    if amount_cents is not None and not 0 < amount_cents <= left:
        raise ValidationFailed({"amount_cents": "Refund between 1 cent and the amount paid"
                                if left == payment.amount_cents else
                                f"Refund between 1 cent and {format_money(left, payment.currency)}, "
                                "what is not refunded yet"})
    if not reason.strip():
        raise ValidationFailed({"reason": "Say why the money goes back"})
    return payment


def issue_refund(session: Session, actor: Actor, payment_id: int, gateway: PaymentGateway, *, now: datetime,
                 reason: str, amount_cents: int | None = None) -> Refund:
    """A discretionary refund by a manager or owner (refund.issue): what is left of the
    payment, or amount_cents (integer cents) of it; any number of partial refunds, together at
    most the amount paid (refund_payment: each its own idempotency key). In the caller's
    transaction; returns the Refund, `pending` when the gateway did not answer.

    Raises NotFound (unknown payment, other clinic), ValidationFailed (not refundable, bad
    amount, refused by the gateway).
    """
    payment = check_refundable(session, actor, payment_id, reason=reason, amount_cents=amount_cents)
    refund = refund_payment(session, actor, payment, gateway, now=now, reason=reason.strip()[:200],
                            amount_cents=amount_cents)
    if refund is None:
        raise ValidationFailed({"payment": "The payment provider refused the refund; try again"})
    return refund
