"""Collecting an unpaid late-cancel / no-show fee (trial finding 5): "Charge card on file again"
(payment.take) writes a new attempt on the fee's row, locked so two presses charge once; the
panel's words say how to collect it otherwise (checkout does not include a fee)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.payments.cards import card_for_visit, card_label
from medspa.domain.payments.fees import NO_CARD, begin_fee_charge
from medspa.domain.payments.models import PolicyFee, PolicyFeeStatus
from medspa.domain.scheduling.models import Appointment


RETRY_PERMISSION = "payment.take"
NOT_IN_CHECKOUT = ("Checkout does not include this fee: collect it from the client at the desk, or charge it "
                   "here once they have a card on file.")


def collect_fee_words(session: Session, actor: Actor, row: PolicyFee, appointment: Appointment) -> tuple[str, str]:
    """How the desk collects an unpaid fee (unpaid_needs_action with a remainder): (the card the
    actor may charge it to again, "Visa ••4242", when they have payment.take and the client has
    a card on file; a hint in words otherwise). ("", "") for a fee that is not unpaid."""
    if row.status != PolicyFeeStatus.UNPAID or not row.charge_cents:
        return "", ""
    card = card_for_visit(session, appointment)
    if card is not None and actor.can(RETRY_PERMISSION):
        return card_label(card), ""
    if card is not None:
        return "", "A manager or the front desk (payments) can charge the card on file again."
    return "", NOT_IN_CHECKOUT


def retry_fee_charge(session: Session, actor: Actor, fee_id: int, *, now: datetime, grace_seconds: int = 120) -> None:
    """Write a new off-session charge of an unpaid fee's remainder on the client's card on file
    (payment.take): the fee row is locked, so of two presses (two tabs, a double click) only one
    writes an attempt; the other finds it charging or paid and is refused. The new Payment's
    idempotency key is fee-<appointment id>-<kind>-attempt-<n+1> (begin_fee_charge); the caller
    commits and sends it (send_fee_charges_now), whose answer settles the fee as the first
    attempt's did. Raises PermissionDenied, NotFound, ValidationFailed ({"fee": ...}: not
    unpaid, nothing to charge, no card on file)."""
    actor.require(RETRY_PERMISSION)
    row = fee_of_id(session, fee_id)
    if row.status != PolicyFeeStatus.UNPAID or not row.charge_cents:
        raise ValidationFailed({"fee": "This fee is not waiting to be collected"
                                       + (" (its card charge is under way)" if row.status == PolicyFeeStatus.CHARGING
                                          else "")})
    appointment = session.get(Appointment, row.appointment_id)
    if card_for_visit(session, appointment) is None:
        raise ValidationFailed({"fee": NO_CARD})
    begin_fee_charge(session, actor, appointment, row, now=now, grace_seconds=grace_seconds)
    row.updated_at = now
    session.add(row)
    session.flush()
    record(session, actor, "policy_fee.retry", "appointment", row.appointment_id, client_id=row.client_id, at=now,
           kind=row.kind, charge_cents=row.charge_cents, attempt=row.attempts)


def fee_of_id(session: Session, fee_id: int) -> PolicyFee:
    """Fee `fee_id`, locked FOR UPDATE and read afresh. Raises NotFound."""
    row = session.exec(select(PolicyFee).where(PolicyFee.id == fee_id).with_for_update()
                       .execution_options(populate_existing=True)).first()
    if row is None:
        raise NotFound("fee")
    return row
