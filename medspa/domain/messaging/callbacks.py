"""Twilio's status callbacks applied to outbox SMS (the carrier's delivery receipt).

The clinic comes from the signed callback URL (`?org=<id>&message=<id>`, built by
messaging.twilio.status_callback_url when the SMS was claimed; the signature covers it), the
way the Stripe webhook takes it from its signed payload: the caller opens that clinic's tenant
transaction, so row-level security keeps a callback from ever touching another clinic's
message.

Each callback is bound to one delivery attempt: the URL also names the attempt
(`&attempt=<n>`: the message's attempts after the claim that sent it), signed with the rest.
The SMS is the message of the URL, and the callback applies only when it names the row's
current attempt and, when the row has recorded a Message SID, that SID; when the send step
has not recorded the SID yet (the callback overtook its commit, or the answer timed out after
Twilio accepted), the row adopts it while that attempt is still in progress (`sending`, or
`queued` for its job's retry). A resend (messaging.delivery.requeue_for_delivery) clears the
previous attempt's SID and job and the next claim counts a new attempt, so a late or replayed
callback of an earlier attempt never touches a resent message nor re-marks its number
("ignored"). A callback URL without an attempt (an SMS sent before attempts were named) is
matched by its SID only.

Twilio's statuses map onto ours: sent -> `sent`, delivered -> `delivered` (delivered_at),
undelivered / failed -> `failed` with "Twilio <ErrorCode>: <message>" (messaging.claims.
fail_for_good: the number marked for 30005 / 30006, the fallback email); every other status
(queued, accepted, sending, read, ...) changes nothing. `delivered` and `failed` are final and
`sent` never follows them, so a replayed or late callback changes nothing (order-tolerant and
idempotent): a late "sent" after "delivered" answers "unchanged".
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from medspa.domain.messaging.claims import fail_for_good
from medspa.domain.messaging.models import MessageStatus, OutboxMessage
from medspa.domain.messaging.twilio import StatusCallback
from medspa.settings import Settings

TARGETS = {"sent": MessageStatus.SENT, "delivered": MessageStatus.DELIVERED,
           "undelivered": MessageStatus.FAILED, "failed": MessageStatus.FAILED}
FINAL = (MessageStatus.DELIVERED.value, MessageStatus.FAILED.value)


def _in_progress(row: OutboxMessage) -> bool:
    """The row's current attempt is still being sent: claimed, or back in line for its own job's
    retry (a resend clears the job id, so a resent row waiting for its new claim is not)."""
    return row.status == MessageStatus.SENDING or (row.status == MessageStatus.QUEUED and row.job_id is not None)


def _find(session: Session, callback: StatusCallback) -> tuple[OutboxMessage | None, bool]:
    """The SMS the callback names (locked), and whether the callback is about its current attempt."""
    if callback.message_id is None or callback.attempt is None:  # an older URL: by its SID only
        row = session.exec(select(OutboxMessage).where(
            OutboxMessage.channel == "sms", OutboxMessage.provider_id == callback.sid).with_for_update()).first()
        return row, row is not None
    row = session.exec(select(OutboxMessage).where(
        OutboxMessage.id == callback.message_id, OutboxMessage.channel == "sms").with_for_update()).first()
    if row is None or row.attempts != callback.attempt:
        return row, False
    return row, row.provider_id == callback.sid if row.provider_id else _in_progress(row)


def apply_status_callback(session: Session, callback: StatusCallback, *, now: datetime,
                          settings: Settings | None = None) -> str:
    """Apply one verified status callback in the session's (the callback's clinic's)
    transaction (see the module). now: aware UTC (delivered_at, a suppression's date);
    settings: whose providers are set up, for a fallback email's job.

    Returns "sent", "delivered" or "failed" (what changed), "unchanged" (already there or
    final) or "ignored" (no such SMS of this clinic, a callback of an earlier attempt or of
    another SID than the one recorded, or a status we do not track)."""
    target = TARGETS.get(callback.status)
    row, current = _find(session, callback) if callback.sid and target is not None else (None, False)
    if row is None or not current:
        return "ignored"
    if row.status in FINAL or (target == MessageStatus.SENT and row.status == MessageStatus.SENT):
        return "unchanged"
    row.provider_id = row.provider_id or callback.sid
    if target == MessageStatus.FAILED:
        session.add(row)
        fail_for_good(session, row.id, reason=callback.failure_reason, suppress=callback.suppresses, now=now,
                      settings=settings, opt_out=callback.opts_out)
        return "failed"
    row.status, row.sent_at, row.failure_reason = target.value, row.sent_at or now, None
    if target == MessageStatus.DELIVERED:
        row.delivered_at = now
    session.add(row)
    return target.value
