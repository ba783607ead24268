"""Checkout: the sale of a visit at the desk, netting the deposit already paid (issues 5, 11).

Money flow (integer cents, one currency per visit):

- sale = the visit's price_cents (appointment.price_cents, copied from the service at booking);
- applied = the deposit already paid and not refunded (succeeded deposit payments minus their
  refunds), at most the price; a deposit above the price (the price was lowered after
  booking) is refunded to the card at checkout for the excess;
- balance = sale - applied, charged through the gateway with the idempotency key
  "checkout-<appointment id>-attempt-<n>" (n = earlier balance payments + 1, so a retry after
  a decline is a new attempt; a retry while an attempt is still pending reuses its key, and
  the gateway replays its stored answer instead of charging twice: Stripe,
  https://docs.stripe.com/api/idempotent_requests); a zero balance charges nothing and needs
  no card.

Like the deposit (scheduling/booking.py), no transaction is open while the gateway is called
(checkout_visit):
1. `open_checkout`, its own committed transaction: permission, the visit locked, not checked
   out yet, checked in or completed, the card typed correctly; then the Payment row `pending`
   (purpose "balance", its key, reconcile_after = now + CHECKOUT_WINDOW_SECONDS + grace)
   BEFORE the gateway is called. A zero balance is checked out right there (nothing charged).
2. the charge, no transaction open;
3. `record_checkout_charge`, one transaction: the answer moves the payment forward
   (payments.service.apply_charge_outcome) and `settle_balance` acts on it. Succeeded: the
   ledger lines `sale` (+deposit applied + balance paid: the price), `deposit_applied`
   (-applied, when > 0) and `processing_fee` (-fee of the balance payment, when the gateway
   reported one), the audit row "checkout.complete", a checked-in visit becomes completed
   (scheduling's change_status) and the client's receipt email
   (messaging.notices.queue_checkout_receipt). Declined: only the declined payment; the visit
   stays checked in, the desk sees the gateway's message and may try another card (a new
   attempt, a new key). 3-D Secure: the payment waits (requires_action); the desk is told to
   use another card.
A crash between the steps leaves the pending payment: reconciliation (payments/reconcile.py)
asks the gateway about its key and settles it with `settle_balance` (charged -> checked out
as above; never charged -> failed). The Stripe webhook settles a late 3-D Secure success the
same way. A balance payment that succeeds for a visit already checked out by another payment
(or that can no longer be checked out) is refunded in full: `balance_paid` (+) and
`sale_refunded` (-) lines, so no money stays without its sale.

So the visit's ledger sums to price - fees: the deposit, counted when it was paid, is not
counted again (analytics/revenue.py).

A visit is checked out once: every step locks the visit's row, a second request reuses the
pending attempt (one charge per key), and the unique partial index uq_ledger_sale_once
(migration 0010) refuses a second `sale` line whatever the writer. Who: payment.take (owner,
manager, provider, front desk); reconciliation and the webhook settle as the system actor.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from psycopg.errors import UniqueViolation
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from medspa.db import tenant_session

from medspa.domain.audit.service import record
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.notices import queue_checkout_receipt
from medspa.domain.payments.cards import chargeable_card
from medspa.domain.payments.gateway import CardDetails, ChargeRequest, ChargeResult, PaymentGateway, validate_card
from medspa.domain.payments.models import (CAPTURED_PAYMENT_STATUSES, OPEN_PAYMENT_STATUSES, LedgerEntry, Payment,
                                           PaymentStatus, Refund, RefundStatus)
from medspa.domain.payments.refunds import send_refunds_now
from medspa.domain.payments.service import (
    apply_charge_outcome,
    begin_refund,
    ledger_processing_fee,
    mark_settled,
    next_idempotency_key,
    open_deposit,
    record_pending,
    refund_payment,
)
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.scheduling.service import DEFAULT_GRACE_SECONDS, change_status, get_appointment

PERMISSION = "payment.take"
CHECKOUT_STATUSES = (AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)
ALREADY = "This visit is already checked out."
ACTION_AT_DESK = ("This card needs the cardholder's bank to confirm the payment, which cannot be done "
                  "at the desk. Use another card.")
CHECKOUT_WINDOW_SECONDS = 300
"""How long after its start a checkout request may still settle its own balance payment: the
gateway call is bounded (Stripe's client times out after 80 s and retries twice), far below
this. Reconciliation leaves the payment alone until then (plus the grace period)."""


@dataclass(frozen=True)
class CheckoutQuote:
    """What checking a visit out means now (all amounts integer cents of `currency`).

    can_check_out: the visit is checked in or completed and not checked out yet.
    checked_out: a sale line exists; paid_cents is then the balance paid at checkout (0 when
    the deposit covered the price) and applied/balance are what that checkout used.
    """

    appointment_id: int
    visit_status: str
    currency: str
    price_cents: int
    applied_cents: int
    balance_cents: int
    checked_out: bool
    paid_cents: int
    can_check_out: bool


@dataclass(frozen=True)
class Checkout:
    """The outcome of checkout_visit (integer cents of `currency`).

    status: succeeded (sale recorded), declined (only the Payment row, now declined, and its
    audit rows were written; `message` is the gateway's user-facing text), requires_action
    (the card needs 3-D Secure, which the desk cannot complete: nothing but the waiting
    Payment row was written; `client_secret` for a page that can; reconciliation cancels it
    later, the webhook settles a late success), pending (the gateway is still processing:
    reconciliation settles it). fee_cents: the balance payment's fee.
    payment_id: the balance Payment row (None for a zero balance). refunded_cents: the part of
    the deposit above the price, refunded to the card at checkout; pending_refund_cents: that
    refund while the gateway has not confirmed it (reconciliation sends it again); refund_ids:
    the refund written with the checkout, sent once it committed.
    """

    appointment_id: int
    status: str
    currency: str
    price_cents: int
    applied_cents: int
    balance_cents: int
    fee_cents: int = 0
    payment_id: int | None = None
    message: str = ""
    client_secret: str = ""
    card_last4: str = ""
    refunded_cents: int = 0
    pending_refund_cents: int = 0
    refund_ids: tuple[int, ...] = ()


def deposit_available_cents(session: Session, appointment_id: int) -> int:
    """The visit's deposit still held: succeeded (or partly/fully refunded) deposit payments
    minus their refunds (succeeded or pending: a pending one is on its way back), in integer
    cents (0 when none was paid)."""
    paid = session.exec(select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
        Payment.appointment_id == appointment_id, Payment.purpose == "deposit",
        Payment.status.in_(CAPTURED_PAYMENT_STATUSES))).one()
    refunded = session.exec(select(func.coalesce(func.sum(Refund.amount_cents), 0))
                            .join(Payment, Payment.id == Refund.payment_id)
                            .where(Payment.appointment_id == appointment_id, Payment.purpose == "deposit",
                                   Refund.status != RefundStatus.FAILED)).one()
    return max(0, int(paid) - int(refunded))


def _sale(session: Session, appointment_id: int) -> LedgerEntry | None:
    return session.exec(select(LedgerEntry).where(LedgerEntry.appointment_id == appointment_id,
                                                  LedgerEntry.entry_type == "sale")).first()


def _applied_of(session: Session, appointment_id: int) -> int:
    return -int(session.exec(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
        LedgerEntry.appointment_id == appointment_id, LedgerEntry.entry_type == "deposit_applied")).one())


def is_checked_out(session: Session, appointment_id: int) -> bool:
    """True when the visit has its sale line (no permission check: a fact for read models)."""
    return _sale(session, appointment_id) is not None


def checkout_quote(session: Session, actor: Actor, appointment_id: int) -> CheckoutQuote:
    """Price, deposit applied and balance due of a visit, or what its checkout took.

    Needs payment.take. Raises PermissionDenied, NotFound (unknown, other clinic).
    """
    actor.require(PERMISSION)
    appt = get_appointment(session, appointment_id)
    sale = _sale(session, appt.id)
    if sale is not None:
        applied = _applied_of(session, appt.id)
        paid = int(session.exec(select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
            Payment.id == sale.payment_id, Payment.status.in_(CAPTURED_PAYMENT_STATUSES))).one())
        return CheckoutQuote(appt.id, appt.status, appt.currency, sale.amount_cents, applied,
                             sale.amount_cents - applied, True, paid, False)
    applied = min(deposit_available_cents(session, appt.id), appt.price_cents)
    return CheckoutQuote(appt.id, appt.status, appt.currency, appt.price_cents, applied, appt.price_cents - applied,
                         False, 0, appt.status in CHECKOUT_STATUSES)


def finalize_checkout(session: Session, actor: Actor, appt: Appointment, payment: Payment | None, *,
                      applied_cents: int, now: datetime) -> LedgerEntry:
    """Write a checkout's effects for a locked, not yet checked out visit: the sale,
    deposit_applied and processing_fee ledger lines, the audit row, and checked in ->
    completed. payment: the succeeded balance payment (None for a zero balance); the sale is
    applied_cents + its amount (the price, unless the price changed after the payment was
    opened: the sale is what the visit was paid).

    Raises ValidationFailed({"appointment": ALREADY}) when another sale line exists (the
    unique index uq_ledger_sale_once); the caller then rolls back.
    """
    sale_cents = applied_cents + payment.amount_cents if payment is not None else appt.price_cents
    sale = LedgerEntry(org_id=appt.org_id, client_id=appt.client_id, appointment_id=appt.id,
                       payment_id=payment.id if payment else None, entry_type="sale",
                       amount_cents=sale_cents, currency=appt.currency, created_at=now)
    session.add(sale)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        if isinstance(exc.orig, UniqueViolation):
            raise ValidationFailed({"appointment": ALREADY}) from exc
        raise
    if applied_cents > 0:
        deposit = session.exec(select(Payment.id).where(
            Payment.appointment_id == appt.id, Payment.purpose == "deposit",
            Payment.status.in_((PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)))
        .order_by(Payment.id)).first()
        session.add(LedgerEntry(org_id=appt.org_id, client_id=appt.client_id, appointment_id=appt.id,
                                payment_id=deposit, entry_type="deposit_applied", amount_cents=-applied_cents,
                                currency=appt.currency, created_at=now))
    if payment is not None:
        ledger_processing_fee(session, payment, now)
    if appt.status == AppointmentStatus.CHECKED_IN:
        change_status(session, actor, appt.id, "complete", now=now)
    record(session, actor, "checkout.complete", "appointment", appt.id, client_id=appt.client_id, at=now,
           price_cents=sale_cents, applied_cents=applied_cents,
           balance_cents=sale_cents - applied_cents, payment_id=payment.id if payment else None,
           fee_cents=payment.fee_cents if payment else 0)
    session.flush()
    return sale


@dataclass(frozen=True)
class OpenedCheckout:
    """What open_checkout decided (committed). done: the finished Checkout when nothing is to
    be charged (a zero balance, checked out in that transaction); else payment_id, the pending
    balance payment, and request, the charge to send (its idempotency key)."""

    appointment_id: int
    currency: str
    price_cents: int
    applied_cents: int
    balance_cents: int
    payment_id: int | None = None
    request: ChargeRequest | None = None
    done: Checkout | None = None


DEPOSIT_WAITING = "The deposit charge is still waiting for the payment provider: try again in a few minutes."


def _check_can_check_out(session: Session, appt: Appointment) -> None:
    """ValidationFailed {"appointment": ...}: checked out already, not checked in / completed, or its
    deposit charge still open (a series deposit on the card on file): never the price AND the deposit."""
    if _sale(session, appt.id) is not None:
        raise ValidationFailed({"appointment": ALREADY})
    if session.exec(select(Payment.id).where(Payment.appointment_id == appt.id, Payment.purpose == "deposit",
                                             Payment.status.in_(OPEN_PAYMENT_STATUSES))).first() is not None:
        raise ValidationFailed({"appointment": DEPOSIT_WAITING})
    if appt.status not in CHECKOUT_STATUSES:
        raise ValidationFailed({"appointment": f"A {appt.status.replace('_', ' ')} visit cannot be checked out; "
                                               "check the client in first."
                                if appt.status == AppointmentStatus.CONFIRMED else
                                f"A {appt.status.replace('_', ' ')} visit cannot be checked out."})


def open_checkout(session: Session, actor: Actor, appointment_id: int, *, gateway: PaymentGateway, now: datetime,
                  card: CardDetails | None = None, payment_method_id: str | None = None,
                  saved_card_id: int | None = None,
                  grace_seconds: int = DEFAULT_GRACE_SECONDS) -> OpenedCheckout:
    """Step 1 of checkout_visit, in the caller's transaction, which commits it BEFORE the
    gateway is called: the checks, then the pending balance payment (an attempt of this visit
    still pending is reused with its key), or the whole checkout when the balance is 0 (the
    excess deposit refunded, the receipt queued).

    Raises PermissionDenied (no payment.take), NotFound (unknown or other clinic),
    ValidationFailed: {"appointment": ALREADY}, a visit that is not checked in or completed,
    {"card_number": "Enter your card details."} for a balance without a card, the card's field
    messages (validate_card), {"saved_card": ...} (chargeable_card); nothing is written then.

    saved_card_id: charge the client's card on file instead (cards.chargeable_card): ON-SESSION
    with its payment method and gateway customer, as the client is at the desk (off_session is
    for charges while they are away, e.g. the no-show fee); a bank asking for authentication
    answers requires_action (ACTION_AT_DESK). The same payment, key and settlement as a typed card.
    """
    actor.require(PERMISSION)
    if now.tzinfo is None:
        raise ValidationFailed({"now": "Give the instant with its UTC offset"})
    appt = get_appointment(session, appointment_id, lock=True)  # one checkout step at a time per visit
    _check_can_check_out(session, appt)
    available = deposit_available_cents(session, appt.id)
    applied = min(available, appt.price_cents)
    balance = appt.price_cents - applied
    if balance <= 0:
        finalize_checkout(session, actor, appt, None, applied_cents=applied, now=now)
        refund = _begin_excess_refund(session, actor, appt, available - applied, now=now)
        refunding = refund.amount_cents if refund is not None else 0
        queue_checkout_receipt(session, appt, applied_cents=applied, payment=None, refunding_cents=refunding)
        return OpenedCheckout(appt.id, appt.currency, appt.price_cents, applied, balance, done=Checkout(
            appt.id, PaymentStatus.SUCCEEDED, appt.currency, appt.price_cents, applied, balance,
            pending_refund_cents=refunding, refund_ids=(refund.id,) if refund is not None else ()))
    customer_id = ""
    if saved_card_id is not None:
        if card is not None or payment_method_id:
            raise ValidationFailed({"saved_card": "Charge the card on file or type a card, not both."})
        on_file = chargeable_card(session, appt.client_id, saved_card_id, gateway.name, now)
        payment_method_id, customer_id = on_file.payment_method_id, on_file.gateway_customer_id
    if card is None and not payment_method_id:
        raise ValidationFailed({"card_number": "Enter your card details."})
    if card is not None:
        validate_card(card, now)
    payment = open_deposit(session, appt.id, purpose="balance")
    request = ChargeRequest(
        org_id=actor.org_id, amount_cents=payment.amount_cents if payment else balance, currency=appt.currency,
        idempotency_key=payment.idempotency_key if payment else next_idempotency_key(
            session, appt.id, "balance", prefix="checkout"),
        description=f"Checkout of appointment {appt.id}", card=card, payment_method_id=payment_method_id,
        customer_id=customer_id,
        metadata={"org_id": str(actor.org_id), "appointment_id": str(appt.id), "purpose": "balance"})
    if payment is None:
        payment = record_pending(session, actor, appointment=appt, request=request, gateway=gateway.name, now=now,
                                 grace_seconds=grace_seconds, purpose="balance",
                                 until=now + timedelta(seconds=CHECKOUT_WINDOW_SECONDS))
    return OpenedCheckout(appt.id, appt.currency, appt.price_cents, applied, payment.amount_cents,
                          payment_id=payment.id, request=request)


def settle_balance(session: Session, actor: Actor, payment: Payment, gateway: PaymentGateway, now: datetime) -> str:
    """Act on the known outcome of a balance payment (locked by the caller; its visit is
    locked here): the one place checkout, reconciliation and the webhook settle one. Returns

    - "failed": declined or never charged: nothing to undo (no sale was written), settled;
    - "checked_out": succeeded, the visit not checked out yet and checked in or completed:
      finalize_checkout with this payment and the receipt queued, settled;
    - "settled": this payment's checkout is already recorded, or it was refunded since;
    - "refunded": succeeded, but the visit was checked out by another payment (or can no
      longer be checked out): refunded in full (balance_paid and sale_refunded lines, refund
      key refund-<payment id>-<n>, audit refund.issue), settled;
    - "refund_failed": as "refunded" but the gateway refused the refund (audit refund.failed):
      the payment stays open (reconcile_after set) and reconciliation retries.
    Raises GatewayUnavailable from the refund (the caller rolls back). The caller commits."""
    if payment.status in (PaymentStatus.DECLINED, PaymentStatus.FAILED):
        mark_settled(payment)
        return "failed"
    if payment.status != PaymentStatus.SUCCEEDED:
        mark_settled(payment)
        return "settled"
    appt = get_appointment(session, payment.appointment_id, lock=True)
    sale = _sale(session, appt.id)
    if sale is not None and sale.payment_id == payment.id:
        mark_settled(payment)
        return "settled"
    if sale is None and appt.status in CHECKOUT_STATUSES:
        applied = min(deposit_available_cents(session, appt.id), appt.price_cents)
        finalize_checkout(session, actor, appt, payment, applied_cents=applied, now=now)
        queue_checkout_receipt(session, appt, applied_cents=applied, payment=payment)
        mark_settled(payment)
        session.add(payment)
        return "checked_out"
    return _void_balance(session, actor, payment, gateway, now)


def _void_balance(session: Session, actor: Actor, payment: Payment, gateway: PaymentGateway, now: datetime) -> str:
    """A balance charge that is not the visit's sale goes back in full: the balance_paid line
    (+amount, once) with its processing_fee line, then the refund (sale_refunded line)."""
    exists = session.exec(select(LedgerEntry.id).where(LedgerEntry.payment_id == payment.id,
                                                       LedgerEntry.entry_type == "balance_paid")).first()
    if exists is None:
        session.add(LedgerEntry(org_id=payment.org_id, client_id=payment.client_id,
                                appointment_id=payment.appointment_id, payment_id=payment.id,
                                entry_type="balance_paid", amount_cents=payment.amount_cents,
                                currency=payment.currency, created_at=now))
        ledger_processing_fee(session, payment, now)
    refund = refund_payment(session, actor, payment, gateway, now=now, entry_type="sale_refunded",
                            reason="a second payment for a visit already checked out")
    if refund is None:
        payment.reconcile_after = payment.reconcile_after or now
        session.add(payment)
        return "refund_failed"
    mark_settled(payment)
    session.add(payment)
    return "refunded"


def record_checkout_charge(session: Session, actor: Actor, payment: Payment, result: ChargeResult,
                           gateway: PaymentGateway, now: datetime, opened: OpenedCheckout) -> Checkout | None:
    """Step 3 of checkout_visit, one transaction: the gateway's `result` moves the locked
    pending `payment` forward and settle_balance acts on it. Returns the Checkout (succeeded,
    declined, requires_action or pending), or None when this request's payment did not make
    the sale (another request or the webhook recorded it first, or the visit was checked out
    by another payment and this one was refunded): the caller commits, then reports ALREADY."""
    apply_charge_outcome(session, actor, payment, result, now)
    figures = (opened.appointment_id, opened.currency, opened.price_cents, opened.applied_cents,
               opened.balance_cents)
    if payment.status in (PaymentStatus.REQUIRES_ACTION, PaymentStatus.PENDING):
        message = ACTION_AT_DESK if payment.status == PaymentStatus.REQUIRES_ACTION else (
            "The payment is still being processed; it is settled within minutes. Check the visit again shortly.")
        return Checkout(figures[0], payment.status, *figures[1:], payment_id=payment.id, message=message,
                        client_secret=result.client_secret, card_last4=result.card_last4)
    outcome = settle_balance(session, actor, payment, gateway, now)
    if outcome == "failed":
        return Checkout(figures[0], PaymentStatus.DECLINED, *figures[1:], payment_id=payment.id,
                        message=result.message or payment.failure_message or "Your card was declined.",
                        card_last4=result.card_last4)
    if outcome != "checked_out":
        return None
    return Checkout(figures[0], PaymentStatus.SUCCEEDED, *figures[1:], fee_cents=payment.fee_cents,
                    payment_id=payment.id, card_last4=payment.card_last4)


def checkout_visit(engine: Engine, actor: Actor, appointment_id: int, *, gateway: PaymentGateway, now: datetime,
                   card: CardDetails | None = None, payment_method_id: str | None = None,
                   saved_card_id: int | None = None, grace_seconds: int = DEFAULT_GRACE_SECONDS) -> Checkout:
    """Check a visit out: sell it at its price, apply the deposit paid, charge the balance, in
    three steps with no transaction open during the gateway call (module docstring).

    appointment_id: a checked-in or completed visit of the actor's clinic. gateway: the
    deployment's PaymentGateway; card (offline test gateway) or payment_method_id (Stripe)
    pays the balance and is not needed when the balance is 0; saved_card_id instead charges
    the client's card on file on-session (open_checkout). now: aware UTC instant.
    grace_seconds: Settings.reconcile_grace_seconds. Every step commits on its own. Returns
    Checkout with status succeeded, declined, requires_action or pending (see Checkout).

    Raises PermissionDenied (no payment.take), NotFound (unknown or other clinic),
    ValidationFailed: {"appointment": "This visit is already checked out."} or a visit that
    is not checked in/completed (held, confirmed, cancelled, no-show...); card field messages
    (nothing written; from the gateway after step 1: the attempt is recorded failed);
    GatewayUnavailable from the charge (the pending payment stays: a retry reuses its key,
    reconciliation settles it otherwise).
    """
    with tenant_session(actor.org_id, engine) as session:
        opened = open_checkout(session, actor, appointment_id, gateway=gateway, now=now, card=card,
                               payment_method_id=payment_method_id, saved_card_id=saved_card_id,
                               grace_seconds=grace_seconds)
        session.commit()
    if opened.done is not None:
        return _send_checkout_refunds(engine, actor, opened.done, gateway, now)
    try:
        result = gateway.charge(opened.request)
    except ValidationFailed as exc:
        result = ChargeResult(status=PaymentStatus.FAILED,
                              message="; ".join(str(v) for v in exc.fields.values())[:500])
        with tenant_session(actor.org_id, engine) as session:
            payment = session.get(Payment, opened.payment_id, with_for_update=True)
            apply_charge_outcome(session, actor, payment, result, now)
            mark_settled(payment)
            session.commit()
        raise
    with tenant_session(actor.org_id, engine) as session:
        payment = session.get(Payment, opened.payment_id, with_for_update=True)
        out = record_checkout_charge(session, actor, payment, result, gateway, now, opened)
        session.commit()
    if out is None:
        raise ValidationFailed({"appointment": ALREADY})
    return out


def _begin_excess_refund(session: Session, actor: Actor, appt: Appointment, excess_cents: int, *,
                         now: datetime) -> Refund | None:
    """A deposit above the price (the price was lowered after booking) goes back to the card,
    so no money sits on the client's account unrecorded: its refund is written pending here,
    in the checkout's transaction, and sent once that commits (payments.refunds: a crash in
    between leaves it to reconciliation, never a refund the app does not know of). None when
    there is no excess (integer cents) or no succeeded deposit."""
    if excess_cents <= 0:
        return None
    deposit = session.exec(select(Payment).where(
        Payment.appointment_id == appt.id, Payment.purpose == "deposit", Payment.status == PaymentStatus.SUCCEEDED)
        .order_by(Payment.id)).first()
    if deposit is None:
        return None
    return begin_refund(session, actor, deposit, now=now, reason="deposit above the visit's price",
                        amount_cents=min(excess_cents, deposit.amount_cents))


def _send_checkout_refunds(engine: Engine, actor: Actor, done: Checkout, gateway: PaymentGateway,
                           now: datetime) -> Checkout:
    """Send the committed checkout's pending refund and report what became of it: refunded,
    or still pending (the gateway did not answer or refused: the desk panel shows the
    refund's line)."""
    if not done.refund_ids:
        return done
    send_refunds_now(engine, actor, done.refund_ids, gateway, now)
    with tenant_session(actor.org_id, engine) as session:
        refunds = [session.get(Refund, refund_id) for refund_id in done.refund_ids]
    refunded = sum(r.amount_cents for r in refunds if r is not None and r.status == RefundStatus.SUCCEEDED)
    pending = sum(r.amount_cents for r in refunds if r is not None and r.status == RefundStatus.PENDING)
    return replace(done, refunded_cents=refunded, pending_refund_cents=pending)
