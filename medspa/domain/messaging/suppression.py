"""Contacts marked undeliverable (table contact_suppression, one row per clinic, channel and
address): written in the transaction that records a permanent failure about the address
itself (an email hard bounce, an invalid, non-mobile or opted-out number: see
messaging.failures), read by every claim (a message to a suppressed contact fails there,
without contacting the provider), and lifted when an owner or manager resends to the
contact from the outbox page (`lift_suppression`, audited).

Addresses are compared as stored on outbox messages: an email lower-cased and stripped, a
phone number in E.164 ("+14155550123").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.models import ContactSuppression, OutboxMessage
from medspa.domain.phones import display_address

CHANNELS = ("email", "sms")
# the outbox page's permission (owners and managers: list, open, resend), whose resend lifts the mark
LIFT_PERMISSION = "outbox.manage"


def normal_address(channel: str, address: str) -> str:
    """The form a suppression is kept under: an email stripped and lower-cased, a number stripped."""
    address = (address or "").strip()
    return address.lower() if channel == "email" else address


def active_suppression(session: Session, channel: str, address: str) -> ContactSuppression | None:
    """The suppression of `address` on `channel` in the session's clinic, or None."""
    return session.exec(select(ContactSuppression).where(
        ContactSuppression.channel == channel,
        ContactSuppression.address == normal_address(channel, address))).first()


def suppress_contact(session: Session, *, org_id: int, channel: str, address: str, reason: str,
                     message_id: int | None, now: datetime) -> ContactSuppression:
    """Mark `address` undeliverable on `channel` ("email" / "sms") for clinic `org_id`, learnt
    from outbox message `message_id` with the provider's `reason`, at `now` (aware UTC). A
    contact already marked keeps its first row (INSERT ... ON CONFLICT DO NOTHING: two
    failures at once never collide). Returns the suppression in force. Raises ValueError for
    an unknown channel."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    address = normal_address(channel, address)
    session.flush()
    session.execute(insert(ContactSuppression).values(
        org_id=org_id, channel=channel, address=address, reason=reason[:1000], message_id=message_id, created_at=now,
    ).on_conflict_do_nothing(index_elements=["org_id", "channel", "address"]))
    return active_suppression(session, channel, address)


def refusal_reason(suppression: ContactSuppression) -> str:
    """Why a message to a suppressed contact was not sent, as owners read it:
    "not sent: +1 415-555-0123 marked undeliverable on 2026-07-01 (Twilio 21211: ...)"
    (the date is the UTC day it was marked)."""
    day = suppression.created_at.date().isoformat()
    text = (f"not sent: {display_address(suppression.channel, suppression.address)} marked undeliverable on {day} "
            f"({suppression.reason})")
    return text[:1000]


def lift_suppression(session: Session, actor: Actor, channel: str, address: str, *, now: datetime) -> bool:
    """Lift the suppression of `address` on `channel` in the actor's clinic (the outbox page's
    resend to the contact calls it in its transaction), with an audit row "contact.unsuppress"
    naming the client of the message that learnt it, at `now` (aware UTC). The next message to
    the contact is sent again. Returns False when the contact was not suppressed (nothing
    written). Raises PermissionDenied without outbox.manage (the outbox page's permission)."""
    actor.require(LIFT_PERMISSION)
    suppression = active_suppression(session, channel, address)
    if suppression is None:
        return False
    learnt_from = session.get(OutboxMessage, suppression.message_id) if suppression.message_id else None
    record(session, actor, "contact.unsuppress", "contact_suppression", suppression.id,
           client_id=learnt_from.client_id if learnt_from else None, at=now, channel=suppression.channel,
           address=suppression.address, reason=suppression.reason,
           marked_at=suppression.created_at.isoformat())
    session.delete(suppression)
    session.flush()
    return True
