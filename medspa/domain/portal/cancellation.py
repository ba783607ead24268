"""A client cancelling their own upcoming visit in the portal or through the booking's manage
link: the cancellation commits with
the deposit kept (the location's policy: scheduling.policy) or its refund written pending,
then the refund is sent (payments.refunds.send_refunds_now) and the outcome is worded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.notices import queue_cancellation_notice
from medspa.domain.money import format_money
from medspa.domain.payments.fees import settle_cancellation, visit_fee_sentence
from medspa.domain.payments.service import deposit_payment, deposit_refund_cents, succeeded_deposit
from medspa.domain.portal.service import PortalUnavailable, own_appointment
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.scheduling.service import cancel_appointment, get_appointment, holds_visit


@dataclass(frozen=True)
class OwnCancellation:
    """A client's cancellation of their own visit, committed: late (inside the window), kept
    (the policy keeps the deposit) and the deposit refund written pending with it (sent after
    the commit)."""

    appointment_id: int
    late: bool
    refund_ids: tuple[int, ...] = ()
    kept: bool = False


def client_side_visit(session: Session, actor: Actor, appointment_id: int, *, token: str | None = None,
                      lock: bool = False) -> Appointment:
    """The visit a client-side actor may act on: a portal client's own (own_appointment) or,
    for a visitor of the manage link (a public actor), the visit whose booking `token` they hold
    (scheduling.service.holds_visit). Raises NotFound for anything else. lock: FOR UPDATE."""
    if actor.role != "public":
        return own_appointment(session, actor, appointment_id, lock=lock)
    appt = get_appointment(session, appointment_id, lock=lock)
    if not holds_visit(actor, appt, token):
        raise NotFound("appointment")
    return appt


def cancel_own_appointment(session: Session, actor: Actor, appointment_id: int, *, now: datetime,
                           reason: str = "client_request", note: str = "",
                           token: str | None = None) -> OwnCancellation:
    """Cancel an own upcoming visit by the location's policy, settle its deposit (kept when the
    policy keeps it; else its refund written pending: payments.fees.settle_cancellation)
    and queue the cancellation notice (messaging.notices) in the same transaction. `reason`
    (scheduling.policy.CANCEL_REASONS code) and `note` are recorded with it. The actor is the
    portal's client, or the manage link's visitor holding the visit's booking `token`
    (client_side_visit): the one cancel rule of a client either way.

    The caller commits, sends the refund (payments.refunds.send_refunds_now), then words the
    outcome (own_cancellation_message). Raises NotFound, PortalUnavailable, ValidationFailed.
    """
    appt = client_side_visit(session, actor, appointment_id, token=token, lock=True)  # a double click waits
    if appt.status != AppointmentStatus.CONFIRMED or appt.start_at <= now:
        raise PortalUnavailable("This visit can no longer be cancelled online. Please call the clinic.")
    paid = succeeded_deposit(session, appt.id)
    outcome = cancel_appointment(session, actor, appt.id, now=now, reason=reason, note=note, token=token)
    refund = settle_cancellation(session, actor, outcome.appointment, keep=outcome.keeps_deposit, now=now)
    queue_cancellation_notice(session, outcome.appointment, paid_cents=paid.amount_cents if paid else 0,
                              refunding_cents=refund.amount_cents if refund is not None else 0,
                              kept=outcome.keeps_deposit,
                              fee_sentence=visit_fee_sentence(session, outcome.appointment.id))
    return OwnCancellation(appt.id, outcome.late, (refund.id,) if refund is not None else (), outcome.keeps_deposit)


def own_cancellation_message(session: Session, actor: Actor, cancelled: OwnCancellation, *,
                             token: str | None = None) -> str:
    """The client's own cancellation in plain words, once its refund was sent: the deposit
    being refunded (sent or still waiting for the gateway: card refunds take days to show),
    kept, or a refund the gateway refused (the clinic will contact them). `token`: the manage
    link's, for a public actor (client_side_visit)."""
    client_side_visit(session, actor, cancelled.appointment_id, token=token)
    fee_words = visit_fee_sentence(session, cancelled.appointment_id)
    if fee_words:
        return f"Your visit is cancelled. {fee_words}"
    paid = deposit_payment(session, cancelled.appointment_id)
    if paid is None:
        return "Your visit is cancelled."
    refunded, pending = deposit_refund_cents(session, cancelled.appointment_id)
    if refunded or pending:
        return (f"Your visit is cancelled and your deposit of {format_money(refunded + pending, paid.currency)} "
                "is being refunded.")
    if cancelled.kept:
        return f"Your visit is cancelled. Your deposit of {format_money(paid.amount_cents, paid.currency)} was kept."
    return "Your visit is cancelled. The refund could not be completed online; the clinic will contact you."

