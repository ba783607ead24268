"""Recording charges and refunds, and the client ledger (integer cents throughout)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.identity.actor import Actor
from medspa.domain.payments.gateway import ChargeRequest, ChargeResult, PaymentGateway
from medspa.domain.payments.models import LedgerEntry, Payment, PaymentStatus, Refund
from medspa.domain.scheduling.models import Appointment


def next_idempotency_key(session: Session, appointment_id: int, purpose: str = "deposit",
                         prefix: str | None = None) -> str:
    """"<prefix>-<appointment id>-attempt-<n>", n = earlier Payment rows of this purpose + 1.

    prefix defaults to the purpose ("deposit-7-attempt-1"); checkout uses purpose "balance"
    with prefix "checkout" ("checkout-7-attempt-1")."""
    attempts = session.exec(select(func.count()).select_from(Payment).where(
        Payment.appointment_id == appointment_id, Payment.purpose == purpose)).one()
    return f"{prefix or purpose}-{appointment_id}-attempt-{attempts + 1}"


def record_charge(session: Session, actor: Actor, *, appointment: Appointment, request: ChargeRequest,
                  result: ChargeResult, gateway: str, now: datetime, purpose: str = "deposit") -> Payment:
    """Store the gateway's answer as a Payment row (any status) with its audit row.

    fee_cents is kept only for a succeeded charge (result.fee_cents, integer cents)."""
    payment = Payment(org_id=actor.org_id, appointment_id=appointment.id, client_id=appointment.client_id,
                      purpose=purpose, amount_cents=request.amount_cents, currency=request.currency,
                      status=result.status, gateway=gateway, gateway_payment_id=result.gateway_payment_id or None,
                      idempotency_key=request.idempotency_key, failure_message=result.message,
                      card_last4=result.card_last4,
                      fee_cents=max(0, int(result.fee_cents or 0)) if result.status == PaymentStatus.SUCCEEDED else 0,
                      created_at=now)
    session.add(payment)
    session.flush()
    record(session, actor, f"payment.{result.status}", "payment", payment.id, client_id=appointment.client_id,
           at=now, amount_cents=request.amount_cents, purpose=purpose)
    return payment


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


def refund_payment(session: Session, actor: Actor, payment: Payment, gateway: PaymentGateway, *, now: datetime,
                   reason: str, entry_type: str | None = None, amount_cents: int | None = None) -> Refund | None:
    """Refund a succeeded payment in full (or amount_cents) at the gateway and on the ledger.

    entry_type: the ledger line (negative); default deposit_refunded for a deposit,
    sale_refunded for a checkout's balance payment. The processing fee is not returned
    (Stripe keeps it), so its processing_fee line stays. Idempotent per payment: the gateway
    key is "refund-<payment id>". Returns None if the payment is not refundable (already
    refunded, not succeeded).
    """
    if payment.status != PaymentStatus.SUCCEEDED:
        return None
    if entry_type is None:
        entry_type = "sale_refunded" if payment.purpose == "balance" else "deposit_refunded"
    amount = payment.amount_cents if amount_cents is None else amount_cents
    result = gateway.refund(org_id=payment.org_id, gateway_payment_id=payment.gateway_payment_id or "",
                            amount_cents=amount, idempotency_key=f"refund-{payment.id}")
    if result.status != "succeeded":  # RefundResult: succeeded | failed
        record(session, actor, "refund.failed", "payment", payment.id, client_id=payment.client_id, at=now,
               message=result.message)
        return None
    refund = Refund(org_id=payment.org_id, payment_id=payment.id, amount_cents=amount, currency=payment.currency,
                    reason=reason, gateway_refund_id=result.gateway_refund_id, created_at=now)
    session.add(refund)
    payment.status = (PaymentStatus.REFUNDED if amount == payment.amount_cents
                      else PaymentStatus.PARTIALLY_REFUNDED)
    session.add(payment)
    session.flush()
    session.add(LedgerEntry(org_id=payment.org_id, client_id=payment.client_id, appointment_id=payment.appointment_id,
                            payment_id=payment.id, refund_id=refund.id, entry_type=entry_type,
                            amount_cents=-amount, currency=payment.currency, created_at=now))
    record(session, actor, "refund.issue", "payment", payment.id, client_id=payment.client_id, at=now,
           amount_cents=amount, reason=reason)
    return refund


def succeeded_deposit(session: Session, appointment_id: int) -> Payment | None:
    """The appointment's succeeded deposit payment, if any."""
    return session.exec(select(Payment).where(Payment.appointment_id == appointment_id, Payment.purpose == "deposit",
                                              Payment.status == PaymentStatus.SUCCEEDED)).first()


def settle_cancellation(session: Session, actor: Actor, appointment: Appointment, *, late: bool,
                        gateway: PaymentGateway, now: datetime) -> int:
    """After a cancellation: refund the deposit (outside the window) or record it as kept.

    Returns the refunded cents (0 when kept or none was paid).
    """
    payment = succeeded_deposit(session, appointment.id)
    if payment is None:
        return 0
    if late:
        session.add(LedgerEntry(org_id=payment.org_id, client_id=payment.client_id, appointment_id=appointment.id,
                                payment_id=payment.id, entry_type="deposit_forfeited", amount_cents=0,
                                currency=payment.currency, created_at=now))
        return 0
    refund = refund_payment(session, actor, payment, gateway, now=now, reason="cancelled outside the window")
    return refund.amount_cents if refund else 0


def client_ledger(session: Session, client_id: int) -> list[LedgerEntry]:
    """A client's ledger lines, oldest first."""
    return list(session.exec(select(LedgerEntry).where(LedgerEntry.client_id == client_id)
                             .order_by(LedgerEntry.created_at, LedgerEntry.id)))


def issue_refund(session: Session, actor: Actor, payment_id: int, gateway: PaymentGateway, *, now: datetime,
                 reason: str, amount_cents: int | None = None) -> Refund:
    """A discretionary refund by a manager or owner (refund.issue), in full or amount_cents.

    Raises NotFound (unknown payment, other clinic), ValidationFailed (not refundable, bad amount).
    """
    from medspa.domain.errors import NotFound, ValidationFailed

    actor.require("refund.issue")
    payment = session.get(Payment, payment_id, with_for_update=True)
    if payment is None:
        raise NotFound("payment")
    if payment.status != PaymentStatus.SUCCEEDED:
        raise ValidationFailed({"payment": f"A {payment.status.replace('_', ' ')} payment cannot be refunded"})
    if amount_cents is not None and not 0 < amount_cents <= payment.amount_cents:
        raise ValidationFailed({"amount_cents": "Refund between 1 cent and the amount paid"})
    if not reason.strip():
        raise ValidationFailed({"reason": "Say why the money goes back"})
    refund = refund_payment(session, actor, payment, gateway, now=now, reason=reason.strip()[:200],
                            amount_cents=amount_cents)
    if refund is None:
        raise ValidationFailed({"payment": "The payment provider refused the refund; try again"})
    return refund
