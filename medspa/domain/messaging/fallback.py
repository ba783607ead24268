"""The email an SMS falls back to when it failed for good (issue 10: "an SMS that fails for good
falls back to email when the client has one").

Written in the transaction that marks the SMS failed (messaging.claims.fail_for_good: a
permanent refusal by Twilio, a failed / undelivered status callback, a suppressed number at
the claim, no sender number), through the normal add path (messaging.delivery.add_messages),
so its `deliver_email` job is deferred in that transaction when a mail server is set up.

The email: the SMS's kind, client and visit, the SMS text as its body, the subject "A message
from <clinic>", fallback_for_id = the SMS's id, dedupe key "<the SMS's dedupe key>-fallback"
("fallback-<sms id>" for an SMS without one). Never twice for one SMS (checked here, and the
unique index uq_outbox_fallback_for); none when the SMS has no client, the client has no
email, that email address is itself suppressed, or the visit's own email of the same kind to
that address is already in the outbox and not failed (the confirmation and the cancellation
notice are written as an email + SMS pair: the email already says it in full).
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from medspa.domain.clients.models import Client
from medspa.domain.messaging.delivery import add_messages
from medspa.domain.messaging.models import MessageStatus, OutboxMessage
from medspa.domain.messaging.suppression import active_suppression
from medspa.domain.practice.models import Organization
from medspa.settings import Settings


def fallback_key(sms: OutboxMessage) -> str:
    """The dedupe key of `sms`'s fallback email (at most 200 characters, the column's size)."""
    return f"{sms.dedupe_key}-fallback"[:200] if sms.dedupe_key else f"fallback-{sms.id}"


def _email_twin_alive(session: Session, sms: OutboxMessage, address: str) -> bool:
    """True when the visit's email of the SMS's kind to `address` is in the outbox, not failed."""
    if sms.appointment_id is None:
        return False
    return session.exec(select(OutboxMessage.id).where(
        OutboxMessage.channel == "email", OutboxMessage.kind == sms.kind,
        OutboxMessage.appointment_id == sms.appointment_id,
        func.lower(OutboxMessage.to_address) == address.lower(),
        OutboxMessage.status != MessageStatus.FAILED.value)).first() is not None


def write_fallback_email(session: Session, sms: OutboxMessage, *,
                         settings: Settings | None = None) -> OutboxMessage | None:
    """Add the fallback email of the failed SMS `sms` (see the module) and defer its delivery
    job in the session's transaction (`settings`: whose providers are set up; None: the
    process's). Returns the email, or None when none is due (not an SMS, no client, no email,
    a suppressed email address, the visit's own email already queued or sent, already written)."""
    if sms.channel != "sms" or sms.client_id is None:
        return None
    key = fallback_key(sms)
    written = session.exec(select(OutboxMessage.id).where(
        (OutboxMessage.fallback_for_id == sms.id) | (OutboxMessage.dedupe_key == key))).first()
    if written is not None:
        return None
    client = session.get(Client, sms.client_id)
    if client is None or not client.email or active_suppression(session, "email", client.email) is not None:
        return None
    if _email_twin_alive(session, sms, client.email):
        return None
    org = session.get(Organization, sms.org_id)
    email = OutboxMessage(
        org_id=sms.org_id, channel="email", kind=sms.kind, to_address=client.email,
        subject=f"A message from {org.name if org else 'your clinic'}", body=sms.body, client_id=client.id,
        appointment_id=sms.appointment_id, dedupe_key=key, fallback_for_id=sms.id)
    add_messages(session, [email], settings=settings)
    return email
