"""Notices about money the client is owed back, written in the transaction that moves it.

`queue_owner_alert`: money the clinic must act on (a dispute, a refund the bank sent back), an
email to every active owner, once per (subject row, owner).

`queue_refund_notice`: the deposit was charged but the booking could not be kept (the slot was
taken while the payment was in doubt), so reconciliation refunded it in full. An email and,
with a phone, an SMS (messaging.service.visit_messages: dedupe keys refund-email-<appointment
id>, refund-sms-<appointment id>), so a re-run adds nothing twice. Clinic time with the zone
named (TZ-3); money is integer cents formatted in the visit's currency.
"""

from __future__ import annotations

from sqlmodel import Session
from sqlmodel import select

from medspa.domain.identity.models import UserAccount
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.messaging.service import add_new_messages, templated_messages, visit_facts
from medspa.domain.money import format_money
from medspa.domain.scheduling.models import Appointment


def queue_refund_notice(session: Session, appointment: Appointment, *, refunded_cents: int,
                        pending: bool = False) -> list[OutboxMessage]:
    """Tell the client that `appointment` (service, clinic time with zone, location) is not
    booked and that `refunded_cents` (integer cents of the visit's currency) went back to
    their card, or, with `pending` (the gateway has not confirmed the refund yet), that it is
    on its way: never "refunded" before it is. Nothing for a client with neither email nor
    phone, or when already queued for this appointment; returns the messages added. Call it
    in the refund's transaction."""
    facts = visit_facts(session, appointment)
    if facts is None:
        return []
    return add_new_messages(session, templated_messages(
        session, appointment, facts.client, kind="deposit_refund", key="refund",
        extra={"refund": {"amount": format_money(refunded_cents, appointment.currency), "pending": pending}}))


def queue_owner_alert(session: Session, org_id: int, *, kind: str, subject: str, body: str, dedupe_prefix: str,
                      client_id: int | None = None, appointment_id: int | None = None) -> list[OutboxMessage]:
    """An email to every active owner of clinic `org_id` (the session's tenant) about money to
    act on; dedupe key `<dedupe_prefix>-<user id>`, so a redelivered event adds nothing twice.
    Returns the messages added. Call it in the transaction that recorded what happened."""
    owners = session.exec(select(UserAccount).where(UserAccount.role == "owner", UserAccount.active.is_(True))
                          .order_by(UserAccount.id)).all()
    return add_new_messages(session, [OutboxMessage(
        org_id=org_id, channel="email", kind=kind, to_address=u.email, subject=subject, body=body,
        client_id=client_id, appointment_id=appointment_id, dedupe_key=f"{dedupe_prefix}-{u.id}") for u in owners])
