"""Contacts marked undeliverable or opted out (table contact_suppression, one row per clinic,
channel and address, with its `kind`):

- 'undeliverable': written in the transaction that records a permanent failure about the
  address itself (an email hard bounce, an invalid or non-mobile number: messaging.failures),
  lifted when an owner or manager resends to the contact from the outbox page
  (`lift_suppression`, audited).
- 'opted_out': the number replied STOP (the inbound webhook, messaging.inbound) or Twilio
  refused the send with 21610 ("the recipient replied STOP"). Only the client can lift it, by
  texting START (`lift_opt_out`): a resend from the outbox page never does (`opt_out_refusal`
  says why), because carriers and the TCPA hold the sender to the client's STOP.

Every claim reads both (a message to a suppressed contact fails there, without contacting the
provider).

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
UNDELIVERABLE = "undeliverable"
OPTED_OUT = "opted_out"
KINDS = (UNDELIVERABLE, OPTED_OUT)
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
                     message_id: int | None, now: datetime, kind: str = UNDELIVERABLE) -> ContactSuppression:
    """Mark `address` on `channel` ("email" / "sms") for clinic `org_id` as `kind` (UNDELIVERABLE
    or OPTED_OUT), learnt from outbox message `message_id` (None: from an inbound text) with the
    provider's `reason`, at `now` (aware UTC). A contact already marked keeps its first row
    (INSERT ... ON CONFLICT: two failures at once never collide), except that an opt-out
    turns an 'undeliverable' mark into 'opted_out' (the stronger one: no resend lifts it).
    Returns the suppression in force. Raises ValueError for an unknown channel or kind."""
    if channel not in CHANNELS or kind not in KINDS:
        raise ValueError(f"unknown channel or kind {channel!r} {kind!r}")
    address = normal_address(channel, address)
    session.flush()
    statement = insert(ContactSuppression).values(
        org_id=org_id, channel=channel, address=address, reason=reason[:1000], message_id=message_id, created_at=now,
        kind=kind)
    if kind == OPTED_OUT:
        statement = statement.on_conflict_do_update(
            index_elements=["org_id", "channel", "address"],
            set_={"kind": OPTED_OUT, "reason": reason[:1000], "created_at": now, "message_id": message_id},
            where=ContactSuppression.kind != OPTED_OUT)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=["org_id", "channel", "address"])
    session.execute(statement)
    return session.exec(select(ContactSuppression).where(
        ContactSuppression.channel == channel, ContactSuppression.address == address)
        .execution_options(populate_existing=True)).first()


def refusal_reason(suppression: ContactSuppression) -> str:
    """Why a message to a suppressed contact was not sent, as owners read it:
    "not sent: +1 415-555-0123 marked undeliverable on 2026-07-01 (Twilio 21211: ...)"
    (the date is the UTC day it was marked)."""
    day = suppression.created_at.date().isoformat()
    what = "opted out (replied STOP)" if suppression.kind == OPTED_OUT else "marked undeliverable"
    text = f"not sent: {display_address(suppression.channel, suppression.address)} {what} on {day} ({suppression.reason})"
    return text[:1000]


def opt_out_refusal(session: Session, channel: str, address: str) -> str:
    """Why the outbox page may not resend to `address` on `channel` ("" when it may): an opted-out
    number is lifted only by the client texting START, never by a resend."""
    suppression = active_suppression(session, channel, address) if address else None
    if suppression is None or suppression.kind != OPTED_OUT:
        return ""
    return (f"{display_address(channel, address)} opted out (replied STOP) on {suppression.created_at.date().isoformat()}: "
            "no text goes to it until the client texts START to the clinic's number. A resend cannot lift an opt-out.")


def lift_opt_out(session: Session, channel: str, address: str) -> ContactSuppression | None:
    """Remove the 'opted_out' mark of `address` on `channel` in the session's clinic (the client
    texted START); an 'undeliverable' mark stays. Returns the removed row (its data still
    readable for the audit row), or None when the number was not opted out."""
    suppression = active_suppression(session, channel, address)
    if suppression is None or suppression.kind != OPTED_OUT:
        return None
    session.delete(suppression)
    session.flush()
    return suppression


def lift_suppression(session: Session, actor: Actor, channel: str, address: str, *, now: datetime) -> bool:
    """Lift the suppression of `address` on `channel` in the actor's clinic (the outbox page's
    resend to the contact calls it in its transaction), with an audit row "contact.unsuppress"
    naming the client of the message that learnt it, at `now` (aware UTC). The next message to
    the contact is sent again. Returns False when the contact was not suppressed or opted out
    (an opt-out is lifted only by START: nothing written). Raises PermissionDenied without
    outbox.manage (the outbox page's permission)."""
    actor.require(LIFT_PERMISSION)
    suppression = active_suppression(session, channel, address)
    if suppression is None or suppression.kind == OPTED_OUT:
        return False
    learnt_from = session.get(OutboxMessage, suppression.message_id) if suppression.message_id else None
    record(session, actor, "contact.unsuppress", "contact_suppression", suppression.id,
           client_id=learnt_from.client_id if learnt_from else None, at=now, channel=suppression.channel,
           address=suppression.address, reason=suppression.reason,
           marked_at=suppression.created_at.isoformat())
    session.delete(suppression)
    session.flush()
    return True
