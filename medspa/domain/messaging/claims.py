"""Claiming an outbox message (email or SMS) for delivery, and failing one for good.

`claim_message` locks the message (messaging.delivery.lock_claimable) and then:
- a message to a suppressed contact (messaging.suppression) fails right there, without
  contacting the provider: `failed`, reason "not sent: <address> marked undeliverable on
  <day> (<the provider's reason>)"; an SMS also gets its fallback email. Returns Refused.
- a visit-timed message (reminder, pre-visit, follow-ups) whose visit changed since it was
  written (cancelled, moved, no longer no-show / completed: messaging.reminders.
  stale_visit_refusal) fails right there too, "not sent: the visit was cancelled" /
  "... moved", with no fallback email (there is nothing to say any more). Returns Refused.
- an SMS whose clinic has no sender number (location, clinic, TWILIO_FROM_NUMBER: see
  `sms_sender`) fails the same way ("not sent: no SMS sender number set up").
- else the message is claimed (status `sending`, attempts + 1, the job id): an email gets its
  Message-ID (ClaimedEmail; a marketing one to a client also its unsubscribe link, sent as
  the List-Unsubscribe and List-Unsubscribe-Post headers), an SMS its sender and status callback URL, which names this
  attempt (ClaimedSms; messaging.callbacks applies only the current attempt's callbacks).

`fail_for_good` is the one way a message fails permanently: `failed` with the reason, the
contact marked when the failure is about it (suppress=True), and an SMS's fallback email
(messaging.fallback), all in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session

from medspa.domain.messaging.delivery import (ClaimedEmail, email_claim, lock_claimable, mark_failed,
                                              take_claim)
from medspa.domain.messaging.fallback import write_fallback_email
from medspa.domain.messaging.marketing import is_marketing_kind
from medspa.domain.messaging.models import NOT_SENT, OutboxMessage
from medspa.domain.messaging.reminders import stale_visit_refusal
from medspa.domain.messaging.suppression import (OPTED_OUT, UNDELIVERABLE, active_suppression, refusal_reason,
                                                 suppress_contact)
from medspa.domain.messaging.twilio import status_callback_url
from medspa.domain.messaging.unsubscribe import unsubscribe_url
from medspa.domain.practice.models import Location, Organization
from medspa.domain.scheduling.models import Appointment
from medspa.settings import Settings

NO_SENDER = f"{NOT_SENT} no SMS sender number set up (the location's, the clinic's or TWILIO_FROM_NUMBER)"


@dataclass(frozen=True)
class ClaimedSms:
    """What the sender needs of a claimed SMS: E.164 numbers, the text, the StatusCallback URL."""

    id: int
    to: str
    body: str
    from_number: str
    status_callback: str
    attempts: int


@dataclass(frozen=True)
class Refused:
    """The message failed at its claim, no provider contacted (`reason` as stored)."""

    id: int
    reason: str


Claimed = ClaimedEmail | ClaimedSms | Refused


def sms_sender(session: Session, message: OutboxMessage, default: str) -> str:
    """The E.164 number an SMS is sent from: its visit's location's sms_from_number when set,
    else the clinic's (organization.sms_from_number), else `default` (TWILIO_FROM_NUMBER);
    "" when none is set."""
    if message.appointment_id is not None:
        appointment = session.get(Appointment, message.appointment_id)
        location = session.get(Location, appointment.location_id) if appointment else None
        if location is not None and location.sms_from_number:
            return location.sms_from_number
    org = session.get(Organization, message.org_id)
    return (org.sms_from_number if org and org.sms_from_number else default) or ""


def claim_message(session: Session, message_id: int, *, job_id: int | None, channels: tuple[str, ...],
                  settings: Settings, now: datetime) -> Claimed | None:
    """Claim message `message_id` of the session's clinic on one of `channels` (see the module).

    settings: the sender domain of Message-IDs (mail_from_address), the default SMS sender
    (twilio_from_number), the public base URL of the status callback, and whose providers
    are set up (for a fallback email's job). now: aware UTC, for a refusal. Returns None when
    there is nothing to claim (sent, delivered, failed, another channel, claimed by another
    delivery, locked right now)."""
    row = lock_claimable(session, message_id, job_id=job_id, channels=channels)
    if row is None:
        return None
    stale = stale_visit_refusal(session, row)
    if stale is not None:
        row.job_id = job_id
        session.add(row)
        mark_failed(session, row.id, reason=stale)
        return Refused(row.id, stale)
    suppression = active_suppression(session, row.channel, row.to_address)
    sender = sms_sender(session, row, settings.twilio_from_number) if row.channel == "sms" else ""
    refusal = refusal_reason(suppression) if suppression is not None else (
        NO_SENDER if row.channel == "sms" and not sender else None)
    if refusal is not None:
        row.job_id = job_id
        fail_for_good(session, row.id, reason=refusal, suppress=False, now=now, settings=settings)
        return Refused(row.id, refusal)
    if row.channel == "email":
        domain = settings.mail_from_address.rpartition("@")[2] or "localhost"
        claimed = email_claim(session, row, job_id=job_id, sender_domain=domain)
        if row.client_id is not None and is_marketing_kind(row.kind):
            claimed = replace(claimed, list_unsubscribe=unsubscribe_url(row.org_id, row.client_id, "email",
                                                                        settings=settings))
        return claimed
    take_claim(session, row, job_id=job_id)
    return ClaimedSms(row.id, row.to_address, row.body, sender,
                      status_callback_url(settings.base_url, row.org_id, row.id, row.attempts), row.attempts)


def fail_for_good(session: Session, message_id: int, *, reason: str, suppress: bool, now: datetime,
                  settings: Settings | None = None, opt_out: bool = False) -> OutboxMessage | None:
    """Fail message `message_id` permanently in the session's transaction: `failed` with
    `reason`; with `suppress`, its address or number marked undeliverable (reason, this
    message, `now`), or with `opt_out` (Twilio 21610) marked 'opted_out' (that number only,
    never the client's email); an SMS's fallback email written (with its job when `settings`
    has a mail server). Returns the fallback email, or None."""
    mark_failed(session, message_id, reason=reason)
    row = session.get(OutboxMessage, message_id)
    if suppress or opt_out:
        suppress_contact(session, org_id=row.org_id, channel=row.channel, address=row.to_address, reason=reason,
                         message_id=row.id, now=now, kind=OPTED_OUT if opt_out else UNDELIVERABLE)
    return write_fallback_email(session, row, settings=settings) if row.channel == "sms" else None
