"""Delivery of outbox email and SMS: enqueueing in the writer's transaction, the claim, the outcome.

Enqueueing: every service that writes outbox messages adds them through `add_messages`, which
defers each message's delivery job on the session's own connection, in the same transaction
(JOBS.md §4): the job exists exactly when the message does (a rolled-back booking leaves
neither). `defer_delivery_jobs` routes: an email gets a `deliver_email` job when a mail server
is set up (SMTP_HOST), an SMS a `deliver_sms` job when Twilio is (TWILIO_ACCOUNT_SID and
TWILIO_AUTH_TOKEN). The job is written through a never-opened sync JobManager, which works in
a web worker and inside the job worker's own process alike (the worker's open async app cannot
defer on a sync connection). The task names are the contract with medspa.jobs.email and
medspa.jobs.sms (the domain never imports the jobs package). Without its channel's provider
nothing is deferred: the message stays `queued`, labelled "not sent: no mail server set up" /
"not sent: no SMS provider set up".

The claim (`lock_claimable` + `take_claim`, used by `claim_email` and messaging.claims): the
row locked (FOR UPDATE SKIP LOCKED: a concurrent claimer skips it), status `sending`, attempts
+ 1, the job id stored (an email also gets its Message-ID, made once); the caller commits
before handing the message over, so two deliveries never both send it. A row already
`sending` is claimable again only by the job that claimed it (a retry after its worker died):
at worst one duplicate (an email with the same Message-ID).

The outcome never moves a message backwards: an SMS whose status callback arrived before the
send step recorded its answer (delivered, or failed) keeps that status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid

from procrastinate import manager, tasks
from procrastinate.sync_psycopg_connector import SyncPsycopgConnector
from sqlalchemy import and_, or_, text
from sqlmodel import Session, select

from medspa.domain.messaging.models import MessageStatus, OutboxMessage
from medspa.domain.practice.models import Organization
from medspa.settings import Settings, get_settings

DELIVER_EMAIL_TASK = "deliver_email"
DELIVER_SMS_TASK = "deliver_sms"
DELIVERY_QUEUE = "default"
# only ever used with connection=: never opened, so it works whatever this process runs
_JOBS = manager.JobManager(SyncPsycopgConnector())


def add_messages(session: Session, messages: list[OutboxMessage], *,
                 settings: Settings | None = None) -> list[OutboxMessage]:
    """Add `messages` to the outbox in the session's transaction and defer one delivery job per
    message whose channel has a provider set up (defer_delivery_jobs), in that same
    transaction; returns `messages`."""
    session.add_all(messages)
    if not messages:
        return messages
    session.flush()
    defer_delivery_jobs(session, messages, settings=settings)
    return messages


def enabled_channels(settings: Settings) -> tuple[str, ...]:
    """The channels whose provider is set up: "email" with SMTP_HOST, "sms" with Twilio."""
    return tuple(c for c, on in (("email", settings.mail_enabled), ("sms", settings.sms_enabled)) if on)


def defer_delivery_jobs(session: Session, messages: list[OutboxMessage], *,
                        settings: Settings | None = None) -> list[int]:
    """Defer the delivery job of each (flushed) message on the session's connection, routed by
    channel: `deliver_email` for an email when a mail server is set up, `deliver_sms` for an
    SMS when Twilio is; a message whose channel has no provider gets none. The jobs commit or
    roll back with the transaction. Returns the job ids (emails' first)."""
    channels = enabled_channels(settings or get_settings())
    job_ids = []
    for channel, task in (("email", DELIVER_EMAIL_TASK), ("sms", DELIVER_SMS_TASK)):
        if channel in channels:
            job_ids += _defer(session, task, [m for m in messages if m.channel == channel])
    return job_ids


def defer_email_jobs(session: Session, messages: list[OutboxMessage]) -> list[int]:
    """Defer a `deliver_email` job per (flushed) message on the session's connection: the
    jobs commit or roll back with the transaction. Returns the job ids."""
    return _defer(session, DELIVER_EMAIL_TASK, messages)


def _defer(session: Session, task: str, messages: list[OutboxMessage]) -> list[int]:
    if not messages:
        return []
    raw = session.connection().connection.driver_connection
    deferrer = tasks.configure_task(name=task, job_manager=_JOBS, connection=raw, queue=DELIVERY_QUEUE)
    return deferrer.batch_defer(*({"message_id": m.id, "org_id": m.org_id} for m in messages))


@dataclass(frozen=True)
class ClaimedEmail:
    """What the sender needs of a claimed email (no ORM row leaves the transaction)."""

    id: int
    to: str
    subject: str
    text: str
    message_id: str
    attempts: int
    clinic_name: str
    reply_to: str | None
    # a marketing email's unsubscribe link (List-Unsubscribe, RFC 8058 one-click): "" otherwise
    list_unsubscribe: str = ""


def _claimable(message_id: int, job_id: int | None, channels: tuple[str, ...] = ("email",)):
    mine = and_(OutboxMessage.status == MessageStatus.SENDING.value, OutboxMessage.job_id == job_id)
    state = or_(OutboxMessage.status == MessageStatus.QUEUED.value, mine) if job_id is not None \
        else OutboxMessage.status == MessageStatus.QUEUED.value
    return (select(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.channel.in_(channels), state)
            .with_for_update(skip_locked=True))


def lock_claimable(session: Session, message_id: int, *, job_id: int | None,
                   channels: tuple[str, ...]) -> OutboxMessage | None:
    """Message `message_id` of the session's clinic, locked, when one of `channels` may claim it
    now: `queued`, or `sending` under this same `job_id` (see the module). None when it is
    sent, delivered, failed, of another channel, claimed by another delivery or locked now."""
    return session.exec(_claimable(message_id, job_id, channels)).first()


def take_claim(session: Session, row: OutboxMessage, *, job_id: int | None) -> OutboxMessage:
    """Mark the locked `row` claimed by `job_id`: status `sending`, attempts + 1 (flushed; the
    caller commits before handing the message over)."""
    row.status = MessageStatus.SENDING.value
    row.attempts += 1
    row.job_id = job_id
    session.add(row)
    session.flush()
    return row


def claim_email(session: Session, message_id: int, *, job_id: int | None, sender_domain: str) -> ClaimedEmail | None:
    """Claim email `message_id` of the session's clinic for sending (see the module); None when
    it is not claimable (sent, failed, claimed by another delivery, locked right now). Does not
    look at suppressed contacts: messaging.claims.claim_message does, before it claims."""
    row = lock_claimable(session, message_id, job_id=job_id, channels=("email",))
    return email_claim(session, row, job_id=job_id, sender_domain=sender_domain) if row is not None else None


def email_claim(session: Session, row: OutboxMessage, *, job_id: int | None, sender_domain: str) -> ClaimedEmail:
    """Claim the locked email `row` (take_claim) and give it its Message-ID, made once at the
    first claim (`<...outbox-<id>@sender_domain>`) and kept by every retry."""
    take_claim(session, row, job_id=job_id)
    if not row.message_id:
        row.message_id = make_msgid(idstring=f"outbox-{row.id}", domain=sender_domain)
        session.add(row)
        session.flush()
    org = session.get(Organization, row.org_id)
    return ClaimedEmail(row.id, row.to_address, row.subject, row.body, row.message_id, row.attempts,
                        org.name if org else "", org.reply_to_email if org else None)


def _row(session: Session, message_id: int) -> OutboxMessage:
    return session.exec(select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()).one()


SETTLED = (MessageStatus.SENT.value, MessageStatus.DELIVERED.value, MessageStatus.FAILED.value)


def mark_sent(session: Session, message_id: int, *, provider_id: str, now: datetime) -> None:
    """The provider accepted the message (`provider_id`: the SMTP answer, the Twilio SID). A
    message a status callback already settled (sent, delivered, failed) keeps its status; it
    only gains the provider id and sent_at it lacks."""
    row = _row(session, message_id)
    if row.status in SETTLED:
        row.provider_id, row.sent_at = row.provider_id or provider_id, row.sent_at or now
        if row.status != MessageStatus.FAILED:
            row.failure_reason = None
        session.add(row)
        return
    row.status, row.provider_id, row.sent_at, row.failure_reason = MessageStatus.SENT.value, provider_id, now, None
    session.add(row)


def mark_failed(session: Session, message_id: int, *, reason: str) -> None:
    """The server refused the email for good (5xx): failed with its reason, not retried."""
    row = _row(session, message_id)
    row.status, row.failure_reason = MessageStatus.FAILED.value, reason[:1000]
    session.add(row)


def attempts_of(session: Session, message_id: int) -> int:
    """How many times message `message_id` was claimed so far (0 when there is no such row)."""
    return session.exec(select(OutboxMessage.attempts).where(OutboxMessage.id == message_id)).first() or 0


def release_for_retry(session: Session, message_id: int, *, reason: str) -> None:
    """A temporary failure (4xx, connection): back to queued with the reason; the job retries
    and the retry's claim reuses the stored Message-ID. A message a status callback settled
    meanwhile (Twilio had accepted an SMS whose answer timed out) stays as it is."""
    row = _row(session, message_id)
    if row.status in SETTLED:
        return
    row.status, row.failure_reason = MessageStatus.QUEUED.value, reason[:1000]
    session.add(row)


def requeue_for_delivery(session: Session, message: OutboxMessage, *, settings: Settings | None = None) -> list[int]:
    """Put `message` (a row of the session, locked by the caller) back in line for delivery:
    status `queued`; failure_reason, job_id and the previous attempt's provider_id, sent_at and
    delivered_at cleared (so no status callback of that attempt can find or settle the new one:
    messaging.callbacks); attempts and Message-ID kept. The history stays in the caller's audit
    row (outbox.message.resend, with the previous provider id) and in the earlier failure's
    audit trail. With a provider for its channel set up the message gets a new delivery job in
    the session's transaction (defer_delivery_jobs). Returns the deferred job ids ([] when its
    channel has no provider). The one place a message's delivery is started again."""
    message.status, message.failure_reason, message.job_id = MessageStatus.QUEUED.value, None, None
    message.provider_id, message.sent_at, message.delivered_at = None, None, None
    session.add(message)
    session.flush()
    return defer_delivery_jobs(session, [message], settings=settings)


_PENDING = text("""
    select exists (select 1 from procrastinate_jobs
                   where task_name in (:email, :sms) and status in ('todo', 'doing')
                     and args ->> 'message_id' = :message_id)
""")


def has_pending_delivery_job(session: Session, message_id: int) -> bool:
    """Whether a delivery job (deliver_email / deliver_sms) of message `message_id` waits or runs
    (procrastinate status todo or doing): the app role reads the queue (migration 0016)."""
    return bool(session.execute(_PENDING, {"email": DELIVER_EMAIL_TASK, "sms": DELIVER_SMS_TASK,
                                           "message_id": str(message_id)}).scalar())
