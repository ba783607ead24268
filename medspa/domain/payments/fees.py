"""Late-cancel and no-show fees (issue 16): applied once per visit and kind, the deposit first.

The rule (how much, when, whose reasons) lives in scheduling.policy (fee_due, settle_fee,
CLINIC_REASONS); this module applies it to money:

1. In the transaction that cancels the visit late (a client's cancellation, or the desk's for
   a reason that is not the clinic's) or marks it a no-show, `apply_policy_fee` writes the
   PolicyFee row (unique per visit and kind: a second press, another tab or a retry finds it
   and does nothing), keeps min(deposit, fee) of the deposit still held (a fee_from_deposit
   line; payments.service.held_deposit: what is left of one partly refunded before), writes
   the refund of max(0, deposit - fee) pending (payments.service.begin_refund: sent after
   the commit) and, when max(0, fee - deposit) is left and the client has a saved card,
   the off-session charge's Payment row pending (purpose "fee", idempotency key
   "fee-<appointment id>-<kind>-attempt-<n>"), so no charge can exist without its row.
2. After the commit, `send_fee_charges_now` sends the pending charge once and records the
   answer: succeeded -> paid (a fee_charged line); the card needs the client's
   authentication, was declined, or there is no card -> unpaid_needs_action with the reason
   (shown on the client's profile and the visit; never retried automatically). A gateway that
   does not answer, or a process that stops before the call, leaves the payment pending:
   reconciliation sends it (`fee_charge_result`, same key: the gateway replays, never charges
   twice) and settles the fee (`settle_fee_payment`).
3. A manager waives a fee with a reason (`waive_fee`, permission fee.waive): what the fee
   took is given back (the deposit part and the card charge, refunds written pending and sent
   after the commit); an unpaid remainder is simply no longer due. A charge still waiting for
   3-D Secure that succeeds after the waiver is refunded in full (settle_fee_payment).

Services take a session and never commit; amounts are integer cents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from medspa.db import tenant_session
from medspa.domain.audit.service import record
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.notices import queue_fee_notice
from medspa.domain.money import format_money
from medspa.domain.payments.cards import card_for_visit, card_label
from medspa.domain.payments.fee_words import client_fee_sentence, waived_fee_sentence
from medspa.domain.payments.gateway import ChargeRequest, ChargeResult, PaymentGateway
from medspa.domain.payments.models import (LedgerEntry, Payment, PaymentStatus, PolicyFee, PolicyFeeStatus,
                                           Refund, SavedCard)
from medspa.domain.payments import service as deposits
from medspa.domain.payments.service import (apply_charge_outcome, begin_refund, ledger_processing_fee,
                                            held_deposit, mark_settled, record_pending)
from medspa.domain.payments.stripe_gateway import GatewayUnavailable
from medspa.domain.practice.service import get_location
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.policy import FEE_KIND_LABELS, FEE_KINDS, fee_due, is_clinic_reason, settle_fee

FEE_PURPOSE = "fee"
NO_CARD = "No card on file: collect it from the client"
NEEDS_AUTH = "The card needs the client's authentication (3-D Secure): collect it from the client"
WAIVE_REASON_MAX = 300


@dataclass(frozen=True)
class AppliedFee:
    """What applying a fee wrote in the caller's transaction: the fee row's id and status, and
    the deposit refund to send after the commit (payments.refunds.send_refunds_now)."""

    fee_id: int
    status: str
    refund_ids: tuple[int, ...] = ()


def fee_of(session: Session, appointment_id: int, kind: str, *, lock: bool = False) -> PolicyFee | None:
    """The visit's `kind` fee row, if any (lock: FOR UPDATE, read afresh)."""
    stmt = select(PolicyFee).where(PolicyFee.appointment_id == appointment_id, PolicyFee.kind == kind)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.exec(stmt).first()


def fees_of_visit(session: Session, appointment_id: int) -> list[PolicyFee]:
    """The visit's fee rows, oldest first."""
    return list(session.exec(select(PolicyFee).where(PolicyFee.appointment_id == appointment_id)
                             .order_by(PolicyFee.id)))


def fees_of_client(session: Session, client_id: int) -> list[PolicyFee]:
    """A client's fee rows, newest first."""
    return list(session.exec(select(PolicyFee).where(PolicyFee.client_id == client_id)
                             .order_by(PolicyFee.created_at.desc(), PolicyFee.id.desc())))


def fee_applies(appointment: Appointment, location, kind: str) -> int | None:
    """The fee in cents that `kind` costs this visit now (scheduling.policy.fee_due), None when
    no fee is set (the deposit rule alone applies)."""
    return fee_due(appointment, location, kind)


def apply_policy_fee(session: Session, actor: Actor, appointment: Appointment, kind: str, *, now: datetime,
                     grace_seconds: int = 120) -> AppliedFee | None:
    """Apply the `kind` fee ("late_cancel" | "no_show") to `appointment` (locked by the caller,
    already cancelled late / marked no-show) in the caller's transaction. None when the location
    charges no such fee for this visit (scheduling.policy.fee_due None): the caller applies the
    deposit rule as before. Once per visit and kind: an existing row is returned untouched
    (also when another transaction inserted it first: the unique constraint decides).

    Writes the PolicyFee row (settle_fee: kept, refund, charge), the fee_from_deposit line
    (0 cents) for the kept part, the deposit refund pending (begin_refund), and for a remainder
    the pending off-session charge (status charging) or, with no saved card, unpaid_needs_action
    (NO_CARD). Audit policy_fee.apply. The caller commits, sends the refund and then the charge
    (send_fee_charges_now)."""
    if kind not in FEE_KINDS:
        raise ValueError(kind)
    fee = fee_applies(appointment, get_location(session, appointment.location_id), kind)
    if fee is None:
        return None
    existing = fee_of(session, appointment.id, kind)
    if existing is not None:
        return AppliedFee(existing.id, existing.status)
    deposit, paid = held_deposit(session, appointment.id) or (None, 0)  # a deposit partly refunded: what is left
    st = settle_fee(paid, fee)
    status = PolicyFeeStatus.NONE_DUE if fee == 0 else PolicyFeeStatus.PAID
    row = PolicyFee(org_id=appointment.org_id, appointment_id=appointment.id, client_id=appointment.client_id,
                    kind=kind, status=status, fee_cents=fee, deposit_cents=paid, applied_cents=st.kept,
                    refund_cents=st.refund, charge_cents=st.charge, currency=appointment.currency,
                    created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # another transaction applied it first: theirs stands
        other = fee_of(session, appointment.id, kind)
        if other is None:
            raise
        return AppliedFee(other.id, other.status)
    refund_ids: tuple[int, ...] = ()
    if deposit is not None and st.kept:
        session.add(LedgerEntry(org_id=appointment.org_id, client_id=appointment.client_id,
                                appointment_id=appointment.id, payment_id=deposit.id, entry_type="fee_from_deposit",
                                amount_cents=0, currency=deposit.currency, created_at=now))
    if deposit is not None and st.refund:
        refund = begin_refund(session, actor, deposit, now=now, amount_cents=st.refund,
                              reason=f"{FEE_KIND_LABELS[kind]} of {format_money(fee, row.currency)} "
                                     "taken from the deposit; the rest goes back")
        refund_ids = (refund.id,) if refund is not None else ()
    if st.charge:
        begin_fee_charge(session, actor, appointment, row, now=now, grace_seconds=grace_seconds)
    session.add(row)
    session.flush()
    record(session, actor, "policy_fee.apply", "appointment", appointment.id, client_id=appointment.client_id,
           at=now, kind=kind, fee_cents=fee, deposit_cents=paid, kept_cents=st.kept, refund_cents=st.refund,
           charge_cents=st.charge, status=str(row.status))
    tell_fee_outcome(session, row, appointment)
    return AppliedFee(row.id, row.status, refund_ids)


def begin_fee_charge(session: Session, actor: Actor, appointment: Appointment, row: PolicyFee, *, now: datetime,
                  grace_seconds: int) -> None:
    """The pending Payment of the fee's remainder on the saved card (status charging), or
    unpaid_needs_action when the client has no card."""
    card = card_for_visit(session, appointment)
    if card is None:
        row.status, row.reason = PolicyFeeStatus.UNPAID, NO_CARD
        return
    row.attempts += 1
    request = _fee_request(row, appointment.id, f"fee-{appointment.id}-{row.kind}-attempt-{row.attempts}", card)
    payment = record_pending(session, actor, appointment=appointment, request=request, gateway=card.gateway,
                             now=now, grace_seconds=grace_seconds, purpose=FEE_PURPOSE, until=now)
    row.status, row.payment_id, row.card_label = PolicyFeeStatus.CHARGING, payment.id, card_label(card)[:40]


def _fee_request(row: PolicyFee, appointment_id: int, key: str, card: SavedCard) -> ChargeRequest:
    """The off-session charge of a fee's remainder (row.charge_cents) on the saved `card`."""
    return ChargeRequest(org_id=row.org_id, amount_cents=row.charge_cents, currency=row.currency,
                         idempotency_key=key, description=FEE_KIND_LABELS[row.kind],
                         payment_method_id=card.payment_method_id, customer_id=card.gateway_customer_id,
                         off_session=True,
                         metadata={"org_id": str(row.org_id), "appointment_id": str(appointment_id), "fee": row.kind})


def charging_fee_ids(session: Session, appointment_id: int) -> tuple[int, ...]:
    """The visit's fees whose card charge is written pending and not sent yet (status charging)."""
    return tuple(session.exec(select(PolicyFee.id).where(PolicyFee.appointment_id == appointment_id,
                                                         PolicyFee.status == PolicyFeeStatus.CHARGING)))


def send_fee_charge(session: Session, actor: Actor, fee_id: int, gateway: PaymentGateway, now: datetime) -> str:
    """Send the pending card charge of fee `fee_id` (locked here) once and record the answer
    (settle_fee_payment). A fee not charging (already settled by another request or the
    reconciliation) is left as it is. GatewayUnavailable: the payment stays pending for
    reconciliation (the same key; the gateway replays), the fee stays charging. Returns the
    fee's status. The caller commits."""
    row = session.exec(select(PolicyFee).where(PolicyFee.id == fee_id).with_for_update()
                       .execution_options(populate_existing=True)).first()
    if row is None:
        raise NotFound("fee")
    if row.status != PolicyFeeStatus.CHARGING or row.payment_id is None:
        return row.status
    payment = session.exec(select(Payment).where(Payment.id == row.payment_id).with_for_update()
                           .execution_options(populate_existing=True)).one()
    if payment.status == PaymentStatus.PENDING:
        try:
            result = fee_charge_result(session, payment, gateway)
        except GatewayUnavailable as exc:
            record(session, actor, "payment.unanswered", "payment", payment.id, client_id=payment.client_id, at=now,
                   cause=exc.cause or exc.message)
            return row.status
        apply_charge_outcome(session, actor, payment, result, now, fee=row.kind)
    return settle_fee_payment(session, actor, payment, now)


def fee_charge_result(session: Session, payment: Payment, gateway: PaymentGateway) -> ChargeResult:
    """Send the card charge of the fee whose pending Payment is `payment` with the payment's own
    idempotency key (the gateway replays a charge it already made: never twice) and return the
    answer, unrecorded: failed when the saved card was removed or the gateway refused the
    request itself. Used by send_fee_charge and by reconciliation for a charge the gateway never
    received (the process stopped between the fee's commit and the call). Raises
    GatewayUnavailable (nothing sent or the answer lost: the payment stays pending)."""
    row = session.exec(select(PolicyFee).where(PolicyFee.payment_id == payment.id)).first()
    card = card_for_visit(session, session.get(Appointment, row.appointment_id)) if row is not None else None
    if row is None or card is None:
        return ChargeResult(status=PaymentStatus.FAILED, message="The saved card was removed before the charge")
    try:
        return gateway.charge(_fee_request(row, row.appointment_id, payment.idempotency_key, card))
    except ValidationFailed as exc:  # the gateway refused the request itself (e.g. a bad card)
        return ChargeResult(status=PaymentStatus.FAILED, message="; ".join(exc.fields.values()))


def settle_fee_payment(session: Session, actor: Actor, payment: Payment, now: datetime) -> str:
    """Move the fee whose charge is `payment` (purpose "fee", locked by the caller) on by the
    payment's status: succeeded -> paid (fee_charged line with its processing_fee line), or,
    when a manager waived the fee while its charge waited (3-D Secure, a late webhook), the
    fee stays waived and the whole charge is refunded (the fee_charged line, then its refund
    written pending as fee_refunded: begin_refund, sent by reconciliation's refund pass; audit
    policy_fee.charge_returned);
    requires_action -> unpaid_needs_action (NEEDS_AUTH; the intent is left to reconciliation,
    which cancels it: no retry loop); declined / failed -> unpaid_needs_action with the
    gateway's message; pending -> unchanged. Used after the charge and by reconciliation and
    the webhook. Returns the fee's status ("" when the payment is no fee's)."""
    row = session.exec(select(PolicyFee).where(PolicyFee.payment_id == payment.id).with_for_update()
                       .execution_options(populate_existing=True)).first()
    if row is None:
        return ""
    action = ""
    if payment.status == PaymentStatus.SUCCEEDED and row.charged_cents == 0:
        row.charged_cents = payment.amount_cents
        session.add(LedgerEntry(org_id=payment.org_id, client_id=payment.client_id,
                                appointment_id=payment.appointment_id, payment_id=payment.id,
                                entry_type="fee_charged", amount_cents=payment.amount_cents,
                                currency=payment.currency, created_at=now))
        ledger_processing_fee(session, payment, now)
        mark_settled(payment)
        if row.status == PolicyFeeStatus.WAIVED:  # waived while the charge waited: the money goes back
            begin_refund(session, actor, payment, now=now, entry_type="fee_refunded",
                         reason=f"{FEE_KIND_LABELS[row.kind]} waived before its charge went through")
            action = "policy_fee.charge_returned"
        else:
            row.status, row.reason = PolicyFeeStatus.PAID, ""
    elif row.status == PolicyFeeStatus.CHARGING and payment.status == PaymentStatus.REQUIRES_ACTION:
        row.status, row.reason = PolicyFeeStatus.UNPAID, NEEDS_AUTH
    elif row.status == PolicyFeeStatus.CHARGING and payment.status in (PaymentStatus.DECLINED, PaymentStatus.FAILED):
        row.status = PolicyFeeStatus.UNPAID
        row.reason = f"The card was declined: {payment.failure_message or 'no reason given'}"[:500]
    else:
        return row.status
    row.updated_at = now
    session.add(row)
    session.flush()
    record(session, actor, action or f"policy_fee.{row.status}", "appointment", row.appointment_id,
           client_id=row.client_id, at=now, kind=row.kind, fee_cents=row.fee_cents, charged_cents=row.charged_cents,
           reason=row.reason)
    if not action:
        tell_fee_outcome(session, row)
    return row.status


def check_waivable(session: Session, actor: Actor, fee_id: int, reason: object) -> tuple[PolicyFee, str]:
    """The fee (locked) a manager may waive now with `reason` (stripped). Raises PermissionDenied
    (fee.waive), NotFound, ValidationFailed ({"reason": ...} empty or too long; {"fee": ...}
    already waived, nothing due, or its card charge still waiting for the gateway)."""
    actor.require("fee.waive")
    row = session.exec(select(PolicyFee).where(PolicyFee.id == fee_id).with_for_update()
                       .execution_options(populate_existing=True)).first()
    if row is None:
        raise NotFound("fee")
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or "\x00" in text:
        raise ValidationFailed({"reason": "Say why the fee is waived"})
    if len(text) > WAIVE_REASON_MAX:
        raise ValidationFailed({"reason": f"Keep the reason under {WAIVE_REASON_MAX} characters"})
    if row.status == PolicyFeeStatus.WAIVED:
        raise ValidationFailed({"fee": "This fee is already waived"})
    if row.status == PolicyFeeStatus.NONE_DUE:
        raise ValidationFailed({"fee": "Nothing is due for this fee"})
    if row.status == PolicyFeeStatus.CHARGING:
        raise ValidationFailed({"fee": "The card charge is still waiting for the payment provider; try again "
                                       "in a minute"})
    return row, text


def waive_fee(session: Session, actor: Actor, fee_id: int, reason: str, *, now: datetime) -> tuple[int, ...]:
    """Waive a fee (fee.waive: owner, manager) with a reason: status waived, who and when, and
    what the fee took goes back: the deposit part kept for it (applied_cents, refunded on the
    deposit payment) and a card charge (charged_cents, refunded as fee_refunded), each written
    pending (begin_refund) for the caller to send after the commit; an unpaid remainder is no
    longer due. Audit policy_fee.waive. Returns the refund ids. Raises as check_waivable."""
    row, text = check_waivable(session, actor, fee_id, reason)
    refunds: list[Refund] = []
    if row.applied_cents:
        deposit, held = held_deposit(session, row.appointment_id) or (None, 0)
        if deposit is not None:  # at most what is still held (a manager may have refunded some meanwhile)
            refund = begin_refund(session, actor, deposit, now=now, amount_cents=min(row.applied_cents, held),
                                  reason=f"{FEE_KIND_LABELS[row.kind]} waived: {text}"[:200])
            refunds += [refund] if refund is not None else []
    if row.charged_cents and row.payment_id is not None:
        charge = session.get(Payment, row.payment_id)
        refund = begin_refund(session, actor, charge, now=now, amount_cents=row.charged_cents,
                              entry_type="fee_refunded", reason=f"{FEE_KIND_LABELS[row.kind]} waived: {text}"[:200])
        refunds += [refund] if refund is not None else []
    previous = row.status
    row.status, row.waive_reason, row.waived_by_user_id, row.waived_at, row.updated_at = (
        PolicyFeeStatus.WAIVED, text, actor.user_id, now, now)
    session.add(row)
    session.flush()
    record(session, actor, "policy_fee.waive", "appointment", row.appointment_id, client_id=row.client_id, at=now,
           kind=row.kind, fee_cents=row.fee_cents, previous=str(previous), reason=text,
           refund_cents=sum(r.amount_cents for r in refunds))
    from_deposit = sum(r.amount_cents for r in refunds if r.payment_id != row.payment_id)
    queue_fee_notice(session, session.get(Appointment, row.appointment_id), key=f"fee-{row.kind}-waived",
                     subject=f"{FEE_KIND_LABELS[row.kind]} waived",
                     sentence=waived_fee_sentence(row, from_deposit, sum(r.amount_cents for r in refunds)
                                                  - from_deposit))
    return tuple(r.id for r in refunds)


def tell_fee_outcome(session: Session, row: PolicyFee, appointment: Appointment | None = None) -> None:
    """Tell the client what a no-show fee did once it is settled (paid from the deposit and/or
    the card, or unpaid and needing action: messaging.notices.queue_fee_notice with
    client_fee_sentence; one message per outcome and attempt, dedupe key
    fee-no_show-<status>-<attempts>). A late-cancel fee is told in the cancellation notice;
    a fee still charging or with nothing due is told nothing yet."""
    if row.kind != "no_show" or row.status not in (PolicyFeeStatus.PAID, PolicyFeeStatus.UNPAID):
        return
    appointment = appointment or session.get(Appointment, row.appointment_id)
    queue_fee_notice(session, appointment, key=f"fee-{row.kind}-{row.status}-{row.attempts}",
                     subject="No-show fee", sentence=client_fee_sentence(row))


def fee_line(row: PolicyFee) -> str:
    """A fee in words for the client's profile and the visit's panel, e.g. "No-show fee $75.00:
    paid ($50.00 from the deposit, $25.00 charged to Visa ••4242)", "Late-cancel fee $75.00:
    unpaid, needs action: The card was declined: ...", "... waived: first time"."""
    label = f"{FEE_KIND_LABELS.get(row.kind, row.kind)} {format_money(row.fee_cents, row.currency)}"
    money = lambda cents: format_money(cents, row.currency)  # noqa: E731
    if row.status == PolicyFeeStatus.WAIVED:
        return f"{label}: waived ({row.waive_reason})"
    if row.status == PolicyFeeStatus.NONE_DUE:
        return f"{label}: nothing due"
    parts = []
    if row.applied_cents:
        parts.append(f"{money(row.applied_cents)} from the deposit")
    if row.refund_cents:
        parts.append(f"{money(row.refund_cents)} of the deposit refunded")
    if row.status == PolicyFeeStatus.PAID:
        if row.charged_cents:
            parts.append(f"{money(row.charged_cents)} charged" + (f" to {row.card_label}" if row.card_label else ""))
        return f"{label}: paid ({', '.join(parts)})" if parts else f"{label}: paid"
    if row.status == PolicyFeeStatus.CHARGING:
        return f"{label}: charging {money(row.charge_cents)} to {row.card_label or 'the saved card'}"
    due = f"{money(row.charge_cents)} unpaid, needs action: {row.reason}"
    return f"{label}: {', '.join(parts + [due])}"


def owes_late_cancel_fee(appointment: Appointment) -> bool:
    """Whether a cancelled `appointment` is one the late-cancel fee applies to (amount aside):
    cancelled late (cancellation_late) by the client (any reason they gave), or by the desk or a
    job for a reason that is not the clinic's own (scheduling.policy.CLINIC_REASONS: "clinic",
    "weather" charge nothing; "client_request", "illness", "other" do, and a manager may waive)."""
    if not appointment.cancellation_late:
        return False
    return appointment.cancelled_by == "client" or not is_clinic_reason(appointment.cancellation_reason)


def apply_cancellation_fee(session: Session, actor: Actor, appointment: Appointment, *,
                           now: datetime) -> AppliedFee | None:
    """The late-cancel fee of a just-cancelled `appointment` (apply_policy_fee, kind
    late_cancel) when it owes one (owes_late_cancel_fee) and the location sets one; then the
    deposit is not "kept by the policy" as a whole (appointment.cancellation_keeps_deposit False:
    the fee row says what was kept). None otherwise: the deposit rule applies as before."""
    if not owes_late_cancel_fee(appointment):
        return None
    applied = apply_policy_fee(session, actor, appointment, "late_cancel", now=now)
    if applied is not None and appointment.cancellation_keeps_deposit:
        appointment.cancellation_keeps_deposit = False
        session.add(appointment)
    return applied


def settle_cancellation(session: Session, actor: Actor, appointment: Appointment, *, keep: bool,
                        now: datetime) -> Refund | None:
    """Settle the deposit of a just-cancelled `appointment` in the cancellation's transaction
    (every cancellation path calls this): a late cancellation that owes the location's
    late-cancel fee (apply_cancellation_fee) settles by the fee: the deposit applied to it
    first, max(0, deposit - fee) refunded (that pending Refund is returned) and the rest of the
    fee written as a pending card charge that the caller sends after the commit
    (send_fee_charges_now). Otherwise the deposit rule as before
    (payments.service.settle_cancellation: kept when `keep`, else refunded)."""
    applied = apply_cancellation_fee(session, actor, appointment, now=now)
    if applied is not None:
        return session.get(Refund, applied.refund_ids[0]) if applied.refund_ids else None
    return deposits.settle_cancellation(session, actor, appointment, keep=keep, now=now)


def send_fee_charges_now(engine, actor: Actor, appointment_id: int, gateway: PaymentGateway,
                         now: datetime) -> None:
    """After the commit that applied a fee: send each of the visit's pending fee charges, each in
    its own transaction (send_fee_charge). A crash or an unanswered gateway leaves the payment
    pending for reconciliation; nothing here raises for a declined card."""
    with tenant_session(actor.org_id, engine) as session:
        ids = charging_fee_ids(session, appointment_id)
    for fee_id in ids:
        with tenant_session(actor.org_id, engine) as session:
            send_fee_charge(session, actor, fee_id, gateway, now)
            session.commit()


def visit_fee_sentence(session: Session, appointment_id: int, kind: str = "late_cancel") -> str:
    """The visit's `kind` fee told to the client (client_fee_sentence), "" when it has none:
    the one sentence of a cancellation's notice and page and of a late move's message."""
    row = fee_of(session, appointment_id, kind)
    return client_fee_sentence(row) if row is not None else ""


CLINIC_REASON_NO_FEE = "No fee: cancelled for the clinic's reason"


def _split_before(session: Session, appointment: Appointment, fee_cents: int):
    """(settlement, money formatter, card on file or None) of a fee of `fee_cents` on
    `appointment` before it is applied: the same split apply_policy_fee makes
    (scheduling.policy.settle_fee on the deposit still held), for the previews' words."""
    _, held = held_deposit(session, appointment.id) or (None, 0)
    return (settle_fee(held, fee_cents), lambda cents: format_money(cents, appointment.currency),
            card_for_visit(session, appointment))


def late_fee_preview(session: Session, appointment: Appointment, location, *, client: bool,
                     reason: str | None = None) -> str:
    """What a late cancellation of `appointment` would cost under the late-cancel fee, in words,
    before it happens ("" when the location sets no fee for it: the deposit rule's words
    apply). client: worded for the client cancelling ("your deposit") or for the desk (the
    clinic's own reasons charge nothing). reason (desk only): the reason picked on the cancel
    form; a clinic reason (scheduling.policy.CLINIC_REASONS) -> CLINIC_REASON_NO_FEE (and the
    deposit held is refunded), another -> the fee alone; None -> the fee and a note that the
    clinic's reasons charge nothing. The caller knows the cancellation would be late."""
    fee = fee_applies(appointment, location, "late_cancel")
    if fee is None:
        return ""
    if not client and reason is not None and is_clinic_reason(reason):
        _, held = held_deposit(session, appointment.id) or (None, 0)
        refund = f" The {format_money(held, appointment.currency)} deposit is refunded." if held else ""
        return f"{CLINIC_REASON_NO_FEE}.{refund}"
    st, money, card = _split_before(session, appointment, fee)
    your = "your" if client else "the"
    parts = []
    if st.kept:
        parts.append(f"{money(st.kept)} of {your} deposit goes toward it")
    if st.refund:
        parts.append(f"the other {money(st.refund)} is refunded")
    if st.charge:
        parts.append(f"{money(st.charge)} is charged to {'your' if client else 'the'} {card_label(card)}" if card
                     else f"{money(st.charge)} is due{'' if client else ' (no card on file)'}")
    head = f"A late-cancellation fee of {money(fee)} applies"
    text = f"{head}: {', '.join(parts)}." if parts else f"{head}."
    if client or reason is not None:
        return text
    return f"{text} Cancelling for the clinic's own reason (clinic, weather) charges nothing."


def no_show_fee_preview(session: Session, appointment: Appointment, location) -> str:
    """What marking `appointment` a no-show would cost, in words for the desk's confirmation,
    before it happens (the same split apply_policy_fee makes: scheduling.policy.settle_fee on
    the deposit still held): "A no-show fee of $75.00 applies: $50.00 from the deposit, $25.00
    charged to Visa ••4242." (or "$25.00 unpaid: no card on file, collect it from the client",
    "the other $20.00 of the deposit refunded"); "No fee applies." when the location sets no
    no-show fee for this visit (fee_due None or 0)."""
    fee = fee_applies(appointment, location, "no_show")
    if not fee:
        return "No fee applies."
    st, money, card = _split_before(session, appointment, fee)
    parts = []
    if st.kept:
        parts.append(f"{money(st.kept)} from the deposit")
    if st.refund:
        parts.append(f"the other {money(st.refund)} of the deposit refunded")
    if st.charge:
        parts.append(f"{money(st.charge)} charged to {card_label(card)}" if card
                     else f"{money(st.charge)} unpaid: no card on file, collect it from the client")
    return f"A no-show fee of {money(fee)} applies: {', '.join(parts)}."

