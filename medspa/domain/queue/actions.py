"""Use cases of the job queue: the dead-letter read for owners (a page comes with the outbox
page of issue 10), audited. `clock` and `engine` are for tests (None: the app's engine)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.identity.actor import Actor
from medspa.domain.queue.service import PERMISSION, FailedJob, list_failed_jobs
from medspa.domain.work import atomic, now_of


def fetch_failed_jobs(actor: Actor, *, limit: int = 50, clock: Clock | None = None,
                      engine: Engine | None = None) -> list[FailedJob]:
    """The jobs that failed for good (newest first): the clinic's own and those about every
    clinic, with the "jobs.failed.read" audit row (their messages' failure reasons name
    recipients). Raises PermissionDenied without jobs.read (owners only)."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return list_failed_jobs(work.session, actor, now=now_of(clock), limit=limit)
