"""Use cases of the job queue: the dead-letter read for owners (a page comes with the outbox
page of issue 10). `engine` is for tests (None: the app's engine)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from medspa.domain.identity.actor import Actor
from medspa.domain.queue.service import PERMISSION, FailedJob, list_failed_jobs
from medspa.domain.work import atomic


def fetch_failed_jobs(actor: Actor, *, limit: int = 50, engine: Engine | None = None) -> list[FailedJob]:
    """The jobs that failed for good (newest first): the clinic's own and those about every
    clinic. Raises PermissionDenied without jobs.read (owners only)."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return list_failed_jobs(work.session, actor, limit=limit)
