"""Delivery of outbox email: enqueueing in the writer's transaction, the claim, the outcome.

Enqueueing: every service that writes outbox messages adds them through `add_messages`. With
a mail server set up (SMTP_HOST), each email gets a `deliver_email` job deferred on the
session's own connection, in the same transaction (JOBS.md §4): the job exists exactly when
the message does (a rolled-back booking leaves neither). The job is written through a
never-opened sync JobManager, which works in a web worker and inside the job worker's own
process alike (the worker's open async app cannot defer on a sync connection). The task
name is the contract with medspa.jobs.email (the domain never imports the jobs package).
Without a mail server nothing is deferred: the email stays `queued`, labelled "not sent: no
mail server set up".

The claim (`claim_email`): the row locked (FOR UPDATE SKIP LOCKED: a concurrent claimer
skips it), status `sending`, attempts + 1, the job id stored, a Message-ID made once; the
caller commits before handing the mail over, so two deliveries never both send it. A row
already `sending` is claimable again only by the job that claimed it (a retry after its
worker died): at worst one duplicate, with the same Message-ID.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid

from procrastinate import manager, tasks
from procrastinate.sync_psycopg_connector import SyncPsycopgConnector
from sqlalchemy import and_, or_
from sqlmodel import Session, select

from medspa.domain.messaging.models import MessageStatus, OutboxMessage
from medspa.domain.practice.models import Organization
from medspa.settings import Settings, get_settings

DELIVER_EMAIL_TASK = "deliver_email"
DELIVERY_QUEUE = "default"
# only ever used with connection=: never opened, so it works whatever this process runs
_JOBS = manager.JobManager(SyncPsycopgConnector())


def add_messages(session: Session, messages: list[OutboxMessage], *,
                 settings: Settings | None = None) -> list[OutboxMessage]:
    """Add `messages` to the outbox in the session's transaction and, with a mail server set
    up, defer one delivery job per email in that same transaction; returns `messages`."""
    session.add_all(messages)
    if not messages:
        return messages
    session.flush()
    if (settings or get_settings()).mail_enabled:
        defer_email_jobs(session, [m for m in messages if m.channel == "email"])
    return messages


def defer_email_jobs(session: Session, messages: list[OutboxMessage]) -> list[int]:
    """Defer a `deliver_email` job per (flushed) message on the session's connection: the
    jobs commit or roll back with the transaction. Returns the job ids."""
    if not messages:
        return []
    raw = session.connection().connection.driver_connection
    deferrer = tasks.configure_task(name=DELIVER_EMAIL_TASK, job_manager=_JOBS, connection=raw,
                                    queue=DELIVERY_QUEUE)
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


def _claimable(message_id: int, job_id: int | None):
    mine = and_(OutboxMessage.status == MessageStatus.SENDING.value, OutboxMessage.job_id == job_id)
    state = or_(OutboxMessage.status == MessageStatus.QUEUED.value, mine) if job_id is not None \
        else OutboxMessage.status == MessageStatus.QUEUED.value
    return (select(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.channel == "email", state)
            .with_for_update(skip_locked=True))


def claim_email(session: Session, message_id: int, *, job_id: int | None, sender_domain: str) -> ClaimedEmail | None:
    """Claim email `message_id` of the session's clinic for sending (see the module); None when
    it is not claimable (sent, failed, claimed by another delivery, locked right now)."""
    row = session.exec(_claimable(message_id, job_id)).first()
    if row is None:
        return None
    row.status = MessageStatus.SENDING.value
    row.attempts += 1
    row.job_id = job_id
    if not row.message_id:
        row.message_id = make_msgid(idstring=f"outbox-{row.id}", domain=sender_domain)
    org = session.get(Organization, row.org_id)
    session.add(row)
    session.flush()
    return ClaimedEmail(row.id, row.to_address, row.subject, row.body, row.message_id, row.attempts,
                        org.name if org else "", org.reply_to_email if org else None)


def _row(session: Session, message_id: int) -> OutboxMessage:
    return session.exec(select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()).one()


def mark_sent(session: Session, message_id: int, *, provider_id: str, now: datetime) -> None:
    """The server accepted the email."""
    row = _row(session, message_id)
    row.status, row.provider_id, row.sent_at, row.failure_reason = MessageStatus.SENT.value, provider_id, now, None
    session.add(row)


def mark_failed(session: Session, message_id: int, *, reason: str) -> None:
    """The server refused the email for good (5xx): failed with its reason, not retried."""
    row = _row(session, message_id)
    row.status, row.failure_reason = MessageStatus.FAILED.value, reason[:1000]
    session.add(row)


def release_for_retry(session: Session, message_id: int, *, reason: str) -> None:
    """A temporary failure (4xx, connection): back to queued with the reason; the job retries
    and the retry's claim reuses the stored Message-ID."""
    row = _row(session, message_id)
    row.status, row.failure_reason = MessageStatus.QUEUED.value, reason[:1000]
    session.add(row)


def requeue_for_delivery(session: Session, message: OutboxMessage, *, settings: Settings | None = None) -> list[int]:
    """Put `message` (a row of the session, locked by the caller) back in line for delivery:
    status `queued`, failure_reason and job_id cleared, attempts and Message-ID kept; with a
    mail server set up an email gets a new `deliver_email` job in the session's transaction.
    Returns the deferred job ids ([] when nothing is deferred: no mail server, or a channel
    without a sender yet). The one place a channel's delivery is started again: SMS adds
    its job here."""
    message.status, message.failure_reason, message.job_id = MessageStatus.QUEUED.value, None, None
    session.add(message)
    session.flush()
    if message.channel == "email" and (settings or get_settings()).mail_enabled:
        return defer_email_jobs(session, [message])
    return []
