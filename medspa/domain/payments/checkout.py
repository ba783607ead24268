"""Checkout: the sale of a visit at the desk, netting the deposit already paid (issue 5).

Money flow (integer cents, one currency per visit):

- sale = the visit's price_cents (appointment.price_cents, copied from the service at booking);
- applied = the deposit already paid and not refunded (succeeded deposit payments minus their
  refunds), at most the price; a deposit above the price (the price was lowered after
  booking) is refunded to the card at checkout for the excess;
- balance = sale - applied, charged through the gateway with the idempotency key
  "checkout-<appointment id>-attempt-<n>" (n = earlier balance payments + 1, so a retry after
  a decline is a new attempt and a replayed request gets the gateway's stored answer);
  a zero balance charges nothing and needs no card.

On success, in the caller's transaction: the Payment row (purpose "balance", its fee), the
ledger lines `sale` (+price), `deposit_applied` (-applied, when > 0) and `processing_fee`
(-fee of the balance payment, when the gateway reported one), the audit row
"checkout.complete", a checked-in visit becomes completed (scheduling's change_status), and
the client's receipt email (messaging.notices.queue_checkout_receipt; none for a declined or
3-D Secure attempt).
So the visit's ledger sums to price - fees: the deposit, counted when it was paid, is not
counted again (analytics/revenue.py).

A visit is checked out once: the appointment row is locked for the whole checkout and the
unique partial index uq_ledger_sale_once (migration 0010) refuses a second `sale` line
whatever the writer. Who: payment.take (owner, manager, provider, front desk).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.errors import UniqueViolation
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.notices import queue_checkout_receipt
from medspa.domain.payments.gateway import CardDetails, ChargeRequest, PaymentGateway
from medspa.domain.payments.models import CAPTURED_PAYMENT_STATUSES, LedgerEntry, Payment, PaymentStatus, Refund
from medspa.domain.payments.service import (
    ledger_processing_fee,
    next_idempotency_key,
    record_charge,
    refund_payment,
)
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.scheduling.service import change_status, get_appointment

PERMISSION = "payment.take"
CHECKOUT_STATUSES = (AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)
ALREADY = "This visit is already checked out."


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

    status: succeeded (sale recorded), declined (only the declined Payment row and its audit
    row were written; `message` is the gateway's user-facing text), requires_action (the
    card needs 3-D Secure, which the desk cannot complete: nothing but the pending Payment row
    was written; `client_secret` for a page that can). fee_cents: the balance payment's fee.
    payment_id: the balance Payment row (None for a zero balance). refunded_cents: the part of
    the deposit above the price, refunded to the card at checkout.
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


def deposit_available_cents(session: Session, appointment_id: int) -> int:
    """The visit's deposit still held: succeeded (or partly/fully refunded) deposit payments
    minus their refunds, in integer cents (0 when none was paid)."""
    paid = session.exec(select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
        Payment.appointment_id == appointment_id, Payment.purpose == "deposit",
        Payment.status.in_(CAPTURED_PAYMENT_STATUSES))).one()
    refunded = session.exec(select(func.coalesce(func.sum(Refund.amount_cents), 0))
                            .join(Payment, Payment.id == Refund.payment_id)
                            .where(Payment.appointment_id == appointment_id, Payment.purpose == "deposit")).one()
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
            Payment.appointment_id == appt.id, Payment.purpose == "balance",
            Payment.status.in_(CAPTURED_PAYMENT_STATUSES))).one())
        return CheckoutQuote(appt.id, appt.status, appt.currency, sale.amount_cents, applied,
                             sale.amount_cents - applied, True, paid, False)
    applied = min(deposit_available_cents(session, appt.id), appt.price_cents)
    return CheckoutQuote(appt.id, appt.status, appt.currency, appt.price_cents, applied, appt.price_cents - applied,
                         False, 0, appt.status in CHECKOUT_STATUSES)


def finalize_checkout(session: Session, actor: Actor, appt: Appointment, payment: Payment | None, *,
                      applied_cents: int, now: datetime) -> LedgerEntry:
    """Write a checkout's effects for a locked, not yet checked out visit: the sale,
    deposit_applied and processing_fee ledger lines, the audit row, and checked in ->
    completed. payment: the succeeded balance payment (None for a zero balance).

    Raises ValidationFailed({"appointment": ALREADY}) when another sale line exists (the
    unique index uq_ledger_sale_once); the caller then rolls back.
    """
    sale = LedgerEntry(org_id=appt.org_id, client_id=appt.client_id, appointment_id=appt.id,
                       payment_id=payment.id if payment else None, entry_type="sale",
                       amount_cents=appt.price_cents, currency=appt.currency, created_at=now)
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
           price_cents=appt.price_cents, applied_cents=applied_cents,
           balance_cents=appt.price_cents - applied_cents, payment_id=payment.id if payment else None,
           fee_cents=payment.fee_cents if payment else 0)
    session.flush()
    return sale


def checkout_visit(session: Session, actor: Actor, appointment_id: int, *, gateway: PaymentGateway, now: datetime,
                   card: CardDetails | None = None, payment_method_id: str | None = None) -> Checkout:
    """Check a visit out: sell it at its price, apply the deposit paid, charge the balance.

    appointment_id: a checked-in or completed visit of the actor's clinic. gateway: the
    deployment's PaymentGateway; card (offline test gateway) or payment_method_id (Stripe)
    pays the balance and is not needed when the balance is 0. now: aware UTC instant.
    Returns Checkout with status succeeded, declined or requires_action (see Checkout); the
    caller commits in every case (a declined attempt's Payment row must stay so the next
    attempt gets a new idempotency key).

    Raises PermissionDenied (no payment.take), NotFound (unknown or other clinic),
    ValidationFailed: {"appointment": "This visit is already checked out."} or a visit
    that is not checked in/completed (held, confirmed, cancelled, no-show...); card field
    messages from the gateway (nothing written); GatewayUnavailable from Stripe (nothing
    written, retry).
    """
    actor.require(PERMISSION)
    if now.tzinfo is None:
        raise ValidationFailed({"now": "Give the instant with its UTC offset"})
    appt = get_appointment(session, appointment_id, lock=True)  # one checkout at a time per visit
    if _sale(session, appt.id) is not None:
        raise ValidationFailed({"appointment": ALREADY})
    if appt.status not in CHECKOUT_STATUSES:
        raise ValidationFailed({"appointment": f"A {appt.status.replace('_', ' ')} visit cannot be checked out; "
                                               "check the client in first."
                                if appt.status == AppointmentStatus.CONFIRMED else
                                f"A {appt.status.replace('_', ' ')} visit cannot be checked out."})
    available = deposit_available_cents(session, appt.id)
    applied = min(available, appt.price_cents)
    balance = appt.price_cents - applied
    payment = None
    if balance > 0:
        if card is None and not payment_method_id:
            raise ValidationFailed({"card_number": "Enter your card details."})
        request = ChargeRequest(
            org_id=actor.org_id, amount_cents=balance, currency=appt.currency,
            idempotency_key=next_idempotency_key(session, appt.id, "balance", prefix="checkout"),
            description=f"Checkout of appointment {appt.id}", card=card, payment_method_id=payment_method_id,
            metadata={"org_id": str(actor.org_id), "appointment_id": str(appt.id), "purpose": "balance"})
        result = gateway.charge(request)  # ValidationFailed / GatewayUnavailable: nothing written
        payment = record_charge(session, actor, appointment=appt, request=request, result=result,
                                gateway=gateway.name, now=now, purpose="balance")
        if result.status != PaymentStatus.SUCCEEDED:
            message = result.message or "Your card was declined."
            if result.status == PaymentStatus.REQUIRES_ACTION:
                message = ("This card needs the cardholder's bank to confirm the payment, which cannot be done "
                           "at the desk. Use another card.")
            return Checkout(appt.id, result.status, appt.currency, appt.price_cents, applied, balance,
                            payment_id=payment.id, message=message, client_secret=result.client_secret,
                            card_last4=result.card_last4)
    finalize_checkout(session, actor, appt, payment, applied_cents=applied, now=now)
    refunded = _refund_excess_deposit(session, actor, appt, available - applied, gateway=gateway, now=now)
    queue_checkout_receipt(session, appt, applied_cents=applied, payment=payment, refunded_cents=refunded)
    return Checkout(appt.id, PaymentStatus.SUCCEEDED, appt.currency, appt.price_cents, applied, balance,
                    fee_cents=payment.fee_cents if payment else 0, payment_id=payment.id if payment else None,
                    card_last4=payment.card_last4 if payment else "", refunded_cents=refunded)


def _refund_excess_deposit(session: Session, actor: Actor, appt: Appointment, excess_cents: int, *,
                           gateway: PaymentGateway, now: datetime) -> int:
    """A deposit above the price (the price was lowered after booking) goes back to the card,
    so no money sits on the client's account unrecorded; returns the cents refunded (0 when
    there is no excess, or the gateway refused: refund_payment then audits refund.failed and
    a manager can refund it from the payment)."""
    if excess_cents <= 0:
        return 0
    deposit = session.exec(select(Payment).where(
        Payment.appointment_id == appt.id, Payment.purpose == "deposit", Payment.status == PaymentStatus.SUCCEEDED)
        .order_by(Payment.id)).first()
    if deposit is None:
        return 0
    refund = refund_payment(session, actor, deposit, gateway, now=now, reason="deposit above the visit's price",
                            amount_cents=min(excess_cents, deposit.amount_cents))
    return refund.amount_cents if refund else 0
