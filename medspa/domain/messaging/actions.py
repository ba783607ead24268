"""Use cases of the outbox: delivering one message, email or SMS (the one action of the
`deliver_email` and `deliver_sms` jobs), giving up on one whose job failed for good
(`do_give_up_delivery`), and applying one Twilio status callback.

`do_deliver_message` runs three steps, each its own transaction:
1. claim (domain.messaging.claims.claim_message) and COMMIT: status `sending`, attempts + 1
   (an email gets a stable Message-ID, an SMS its sender number and status callback URL); a
   second delivery of the same message now finds nothing to claim. A message to a suppressed
   contact (or an SMS without a sender number) fails here, no provider contacted.
2. hand the message to the provider: the SMTP server or Twilio's REST API (no transaction
   open while it talks);
3. record the outcome: `sent` with the provider id (the SMTP answer, the Twilio Message SID);
   `failed` with the provider's reason on a permanent refusal (returned, so the job succeeds
   and is not retried; the contact marked when the refusal is about it, an SMS's fallback
   email written: claims.fail_for_good); or back to `queued` on a temporary failure,
   re-raised as TemporaryFailure so the job retries with back-off; on the job's last attempt
   (`last_attempt`) a temporary failure fails the message instead ("gave up after N tries:
   <reason>"), so it never waits `queued` with no job behind it and an owner can resend it.

The one-duplicate window: between the provider accepting the message (step 2) and step 3's
commit. A worker dying there leaves the row `sending`; the stalled job's retry (same job id)
claims it again and sends it once more: an email with the same Message-ID (receivers can
drop it), an SMS as a second text (Twilio has no idempotency key for message creation). For
an email the window also covers an SMTP timeout while waiting for the 250 after the data
(the server may have accepted it: retried as temporary, the copy has the same Message-ID). For
an SMS the window also covers an answer lost to a timeout after Twilio accepted the POST
(retried as temporary), unless its status callback arrives first and settles the message.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Callable

from sqlalchemy.engine import Engine
from sqlmodel import select

from medspa.clock import Clock
from medspa.domain.messaging.attachments import Attachment, load_attachments
from medspa.domain.messaging.callbacks import apply_status_callback
from medspa.domain.messaging.claims import ClaimedSms, Refused, claim_message, fail_for_good
from medspa.domain.messaging.delivery import (
    DELIVER_EMAIL_TASK,
    DELIVER_SMS_TASK,
    ClaimedEmail,
    attempts_of,
    enabled_channels,
    mark_sent,
    release_for_retry,
)
from medspa.domain.messaging.failures import PermanentFailure, TemporaryFailure
from medspa.domain.messaging.models import MessageStatus, OutboxMessage
from medspa.domain.messaging.smtp import Email, send_email
from medspa.domain.messaging.twilio import Sms, read_status_callback, send_sms, signature_valid
from medspa.domain.work import atomic, now_of
from medspa.settings import Settings, get_settings


class DeliveryOutcome(StrEnum):
    """What one delivery run did."""

    SENT = "sent"
    FAILED = "failed"  # refused for good (or refused at the claim): not retried
    SKIPPED = "skipped"  # nothing to claim: sent, failed, or another delivery holds it


Sender = Callable[[Settings, Email], str]
SmsSender = Callable[[Settings, Sms], str]


def _hand_over(settings: Settings, claimed: ClaimedEmail | ClaimedSms, send: Sender, text: SmsSender, now: datetime,
               attachments: tuple[Attachment, ...]) -> str:
    if isinstance(claimed, ClaimedSms):
        return text(settings, Sms(from_number=claimed.from_number, to=claimed.to, body=claimed.body,
                                  status_callback=claimed.status_callback))
    return send(settings, Email(
        from_name=settings.mail_from_name or claimed.clinic_name, from_address=settings.mail_from_address,
        to=claimed.to, subject=claimed.subject, text=claimed.text, message_id=claimed.message_id,
        reply_to=claimed.reply_to, attachments=attachments, date=now, list_unsubscribe=claimed.list_unsubscribe))


def do_deliver_message(message_id: int, org_id: int, *, job_id: int | None = None, settings: Settings | None = None,
                       clock: Clock | None = None, engine: Engine | None = None,
                       send: Sender = send_email, text: SmsSender = send_sms,
                       last_attempt: bool = False) -> DeliveryOutcome:
    """Deliver outbox message `message_id` (email or SMS) of clinic `org_id` once (see the
    module). Only the channels whose provider `settings` sets up are claimed (SKIPPED
    otherwise). Raises TemporaryFailure when the job should retry; `send` is the SMTP adapter
    and `text` the Twilio adapter (tests may wrap them); `last_attempt`: the job will not be
    retried, so a temporary failure fails the message (FAILED) rather than raising."""
    settings = settings or get_settings()
    channels = enabled_channels(settings)
    if not channels:
        return DeliveryOutcome.SKIPPED
    with atomic(org_id, engine=engine) as work:
        claimed = claim_message(work.session, message_id, job_id=job_id, channels=channels, settings=settings,
                                now=now_of(clock))
    if claimed is None:
        return DeliveryOutcome.SKIPPED
    if isinstance(claimed, Refused):
        return DeliveryOutcome.FAILED
    attachments = load_attachments(message_id, org_id, engine=engine) if isinstance(claimed, ClaimedEmail) else ()
    try:
        provider_id = _hand_over(settings, claimed, send, text, now_of(clock), attachments)
    except PermanentFailure as exc:
        with atomic(org_id, engine=engine) as work:
            fail_for_good(work.session, message_id, reason=exc.reason, suppress=exc.suppress, now=now_of(clock),
                          settings=settings, opt_out=exc.opt_out)
        return DeliveryOutcome.FAILED
    except TemporaryFailure as exc:
        with atomic(org_id, engine=engine) as work:
            if last_attempt:
                tries = attempts_of(work.session, message_id)
                fail_for_good(work.session, message_id, reason=f"gave up after {tries} tries: {exc.reason}",
                              suppress=False, now=now_of(clock), settings=settings)
            else:
                release_for_retry(work.session, message_id, reason=exc.reason)
        if last_attempt:
            return DeliveryOutcome.FAILED
        raise
    with atomic(org_id, engine=engine) as work:
        mark_sent(work.session, message_id, provider_id=provider_id, now=now_of(clock))
    return DeliveryOutcome.SENT


DELIVERY_TASKS = frozenset({DELIVER_EMAIL_TASK, DELIVER_SMS_TASK})
WORKER_STOPPED = "the worker stopped during delivery"


def do_give_up_delivery(message_id: int, org_id: int, *, cause: str, settings: Settings | None = None,
                        clock: Clock | None = None, engine: Engine | None = None) -> bool:
    """The delivery job of message `message_id` of clinic `org_id` failed for good (the stalled-
    job sweep gave up on it, or its last run raised something unexpected): fail the message in
    its clinic's transaction, "gave up after N tries: <cause>" (N: its claims so far; an SMS
    gets its fallback email), so it never waits `queued` / `sending` with no job behind it and
    an owner can resend it from /outbox. A message already sent, delivered or failed is left as
    it is. Returns True when it failed the message."""
    with atomic(org_id, engine=engine) as work:
        status = work.session.exec(select(OutboxMessage.status).where(OutboxMessage.id == message_id)
                                   .with_for_update()).first()
        if status not in (MessageStatus.QUEUED.value, MessageStatus.SENDING.value):
            return False
        tries = attempts_of(work.session, message_id)
        fail_for_good(work.session, message_id, reason=f"gave up after {tries} tries: {cause}", suppress=False,
                      now=now_of(clock), settings=settings or get_settings())
        return True


class SmsNotConfigured(Exception):
    """No Twilio account is set up: a status callback cannot be verified."""


class InvalidTwilioRequest(Exception):
    """The request does not carry a valid X-Twilio-Signature for its URL and parameters."""


def do_apply_twilio_status(path_and_query: str, params: list[tuple[str, str]], signature: str | None, *,
                           settings: Settings | None = None, clock: Clock | None = None,
                           engine: Engine | None = None) -> str:
    """Verify and apply one Twilio status callback (messaging.callbacks).

    path_and_query: the request's path and raw query string ("/api/v1/webhooks/twilio/status?
    org=3&message=42"); the signed URL is the public base URL (PUBLIC_BASE_URL) + it, as it
    was given to Twilio. params: the form-encoded POST parameters, in order, repeats kept.
    signature: the X-Twilio-Signature header. Returns what changed ("sent", "delivered",
    "failed", "unchanged", "ignored"). Raises SmsNotConfigured without TWILIO_ACCOUNT_SID /
    TWILIO_AUTH_TOKEN, InvalidTwilioRequest for a missing or wrong signature (nothing read)."""
    settings = settings or get_settings()
    if not settings.sms_enabled:
        raise SmsNotConfigured("Twilio is not configured")
    if not signature_valid(settings.twilio_auth_token, settings.base_url + path_and_query, params, signature):
        raise InvalidTwilioRequest("bad or missing X-Twilio-Signature")
    callback = read_status_callback(path_and_query.partition("?")[2], params)
    if callback.org_id is None:
        return "ignored"
    with atomic(callback.org_id, engine=engine) as work:
        return apply_status_callback(work.session, callback, now=now_of(clock), settings=settings)

