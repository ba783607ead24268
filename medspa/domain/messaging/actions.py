"""Use cases of the outbox: delivering one email (the `deliver_email` job's one action).

`do_deliver_message` runs three steps, each its own transaction:
1. claim (domain.messaging.delivery.claim_email) and COMMIT: status `sending`, a stable
   Message-ID; a second delivery of the same message now finds nothing to claim;
2. hand the email to the SMTP server (no transaction open while the server talks);
3. record the outcome: `sent` (with the server's answer as provider_id), `failed` with the
   server's reason on a 5xx (returned, so the job succeeds and is not retried), or back to
   `queued` on a 4xx / connection error, re-raised as TemporaryFailure so the job retries
   with back-off; the retry's claim keeps the Message-ID.

The one-duplicate window: between the server accepting the data (step 2) and step 3's
commit. A worker dying there leaves the row `sending`; the stalled job's retry (same job id)
claims it again and sends it once more with the same Message-ID.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Callable

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.messaging.attachments import load_attachments
from medspa.domain.messaging.delivery import claim_email, mark_failed, mark_sent, release_for_retry
from medspa.domain.messaging.smtp import Email, PermanentFailure, TemporaryFailure, send_email
from medspa.domain.work import atomic, now_of
from medspa.settings import Settings, get_settings


class DeliveryOutcome(StrEnum):
    """What one delivery run did."""

    SENT = "sent"
    FAILED = "failed"  # refused for good: not retried
    SKIPPED = "skipped"  # nothing to claim: sent, failed, or another delivery holds it


Sender = Callable[[Settings, Email], str]


def do_deliver_message(message_id: int, org_id: int, *, job_id: int | None = None, settings: Settings | None = None,
                       clock: Clock | None = None, engine: Engine | None = None,
                       send: Sender = send_email) -> DeliveryOutcome:
    """Deliver outbox email `message_id` of clinic `org_id` once (see the module). Raises
    TemporaryFailure when the job should retry; `send` is the SMTP adapter (tests may wrap it)."""
    settings = settings or get_settings()
    if not settings.mail_enabled:
        return DeliveryOutcome.SKIPPED
    domain = settings.mail_from_address.rpartition("@")[2] or "localhost"
    with atomic(org_id, engine=engine) as work:
        claimed = claim_email(work.session, message_id, job_id=job_id, sender_domain=domain)
    if claimed is None:
        return DeliveryOutcome.SKIPPED
    email = Email(from_name=settings.mail_from_name or claimed.clinic_name, from_address=settings.mail_from_address,
                  to=claimed.to, subject=claimed.subject, text=claimed.text, message_id=claimed.message_id,
                  reply_to=claimed.reply_to, attachments=load_attachments(message_id, org_id, engine=engine))
    try:
        provider_id = send(settings, email)
    except PermanentFailure as exc:
        with atomic(org_id, engine=engine) as work:
            mark_failed(work.session, message_id, reason=exc.reason)
        return DeliveryOutcome.FAILED
    except TemporaryFailure as exc:
        with atomic(org_id, engine=engine) as work:
            release_for_retry(work.session, message_id, reason=exc.reason)
        raise
    with atomic(org_id, engine=engine) as work:
        mark_sent(work.session, message_id, provider_id=provider_id, now=now_of(clock))
    return DeliveryOutcome.SENT
