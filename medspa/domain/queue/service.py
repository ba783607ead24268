"""The job queue seen from the domain: its dead letters (jobs.read, owner only).

The queue's tables belong to procrastinate (migration 0016; medspa/jobs runs them). A job
that failed its last attempt stays `failed`: that is the dead-letter state. The tables have
no org_id and no row-level security, so the clinic filter is here: a job about one clinic
carries `org_id` in its arguments (the convention of medspa/jobs) and only that clinic's
owner sees it; a job about every clinic (hold expiry, queue housekeeping) has no org_id and
every owner sees it, since it concerns them all. Job arguments hold ids, but a delivery job
shows its message's failure reason, which names the recipient ("550 5.1.1 <ana@...>", "not
sent: +1 212-555-0147 marked undeliverable"), so every load writes one audit row
("jobs.failed.read", with how many jobs and which outbox messages it showed), like
outbox.search.

The error: procrastinate keeps no exception text (the worker's log has it). A job about an
outbox message (its arguments carry `message_id`: email, later SMS) shows that message's last
failure reason, read through row-level security (only the clinic's own messages).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session

from medspa.domain.audit.service import record
from medspa.domain.identity.actor import Actor

PERMISSION = "jobs.read"


@dataclass(frozen=True)
class FailedJob:
    """A dead letter: the job, how often it ran (attempts), when it last failed and what it was about."""

    id: int
    task_name: str
    queue: str
    attempts: int
    failed_at: datetime | None
    args: dict
    clinic_wide: bool  # about every clinic (no org_id in its arguments)
    error: str = ""  # the outbox message's last failure reason ("" when none is known)
    message_id: int | None = None  # the outbox message the job was about, if any
    message_status: str = ""  # that message's delivery status now


_FAILED = text("""
    select j.id, j.task_name, j.queue_name, j.attempts, j.args,
           (select max(e.at) from procrastinate_events e where e.job_id = j.id and e.type = 'failed') as failed_at,
           m.id as message_id, m.status as message_status, m.failure_reason
    from procrastinate_jobs j
    left join outbox_message m
      on m.id = case when j.args ->> 'message_id' ~ '^[0-9]{1,18}$' then (j.args ->> 'message_id')::bigint end
    where j.status = 'failed'
      and (j.args ->> 'org_id' = cast(:org_id as text) or not (j.args ? 'org_id'))
    order by j.id desc
    limit :limit
""")


def list_failed_jobs(session: Session, actor: Actor, *, now: datetime | None = None,
                     limit: int = 50) -> list[FailedJob]:
    """The newest dead letters of the actor's clinic and of every clinic (jobs.read); limit 1-200.
    Writes the "jobs.failed.read" audit row (at `now`, aware UTC) in the caller's transaction."""
    actor.require(PERMISSION)
    rows = session.execute(_FAILED, {"org_id": str(actor.org_id), "limit": max(1, min(int(limit), 200))}).all()
    record(session, actor, "jobs.failed.read", "procrastinate_job", "", at=now, results=len(rows),
           outbox_messages=[r.message_id for r in rows if r.message_id is not None])
    return [FailedJob(r.id, r.task_name, r.queue_name, r.attempts, r.failed_at, dict(r.args),
                      "org_id" not in r.args, r.failure_reason or "", r.message_id, r.message_status or "")
            for r in rows]
