"""The reminder tick's use case: write every visit-timed message due now (reminders, pre-visit
instructions, post-care, no-show follow-ups, review requests, birthdays: messaging.reminders)
in every clinic, one transaction per clinic.

Concurrency: ticks of one clinic are serialised by a transaction-level advisory lock taken
with pg_try_advisory_xact_lock (TICK_LOCK, clinic id): a second tick running at the same time
(two workers, a retry overlapping a slow run, a manual run) skips that clinic instead of
waiting, and the first writes what is due. Dedupe keys do the rest: whatever runs later finds
the messages written and adds nothing. The messages' delivery jobs are deferred in the same
transaction (messaging.delivery.add_messages), so a message exists exactly when its job does.

The outbox is the record of what was sent; no audit row is written per message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.messaging.reminders import queue_due_messages
from medspa.domain.scheduling.booking import organization_ids
from medspa.domain.work import atomic, now_of

log = logging.getLogger(__name__)

TICK_LOCK = 19_002  # first key of the advisory lock (second: the clinic id)


@dataclass(frozen=True)
class TickResult:
    """What one tick wrote: `written` {kind: count} over all clinics, `skipped` the clinics
    another tick was working on, `failed` the clinics whose transaction raised."""

    written: dict[str, int]
    skipped: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()

    @property
    def total(self) -> int:
        """How many messages were written."""
        return sum(self.written.values())


def do_send_due_messages(*, clock: Clock | None = None, engine: Engine | None = None,
                         org_ids: list[int] | None = None) -> TickResult:
    """Write the visit-timed messages due at the clock's now in every clinic (`org_ids`: only
    those; None: all) (see the module); each clinic in its own transaction, one clinic's
    failure (logged) does not stop the others. Raises the first clinic's error after all
    clinics ran, so the job shows it."""
    now = now_of(clock)
    if org_ids is None:
        with atomic(None, engine=engine) as work:
            org_ids = organization_ids(work.session)
    written: dict[str, int] = {}
    skipped, failed, first_error = [], [], None
    for org_id in org_ids:
        try:
            with atomic(org_id, engine=engine) as work:
                locked = work.session.execute(text("select pg_try_advisory_xact_lock(:k, :org)"),
                                              {"k": TICK_LOCK, "org": org_id}).scalar()
                if not locked:
                    skipped.append(org_id)
                    continue
                for message in queue_due_messages(work.session, org_id, now):
                    written[message.kind] = written.get(message.kind, 0) + 1
        except Exception as exc:  # the next clinic still gets its reminders
            log.exception("reminder tick: clinic %s failed", org_id)
            failed.append(org_id)
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    return TickResult(written, tuple(skipped), tuple(failed))
