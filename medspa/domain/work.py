"""The unit of work of every domain action: one tenant transaction, effects after commit.

Actions (`medspa/domain/<area>/actions.py`) are the only callers. Zulip's
`zerver/actions/` is the model: an action opens ONE transaction, checks the permission,
changes rows through the area's services, writes the audit row in that transaction,
commits, and only then runs what must not happen for a rolled-back change (messages to
send, live pushes, jobs to enqueue):

    def do_cancel(actor: Actor, appointment_id: int, *, clock: Clock | None = None,
                  engine: Engine | None = None) -> CancelOutcome:
        with atomic(actor.org_id, engine=engine) as work:
            result = cancel_visit(work.session, actor, appointment_id, now=now_of(clock))
            work.on_commit(lambda: notify(...))
            return CancelOutcome(...)          # frozen dataclass, never an ORM row

Leaving the block normally commits (reads commit too: a read of protected health
information writes its audit row); an exception rolls back and no effect runs.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterator

from sqlalchemy.engine import Engine
from sqlmodel import Session

from medspa.clock import Clock, app_clock
from medspa.db import get_engine, tenant_session

log = logging.getLogger(__name__)


@dataclass
class Work:
    """One open unit of work: its session and the effects queued for after the commit."""

    session: Session
    engine: Engine
    _effects: list[Callable[[], None]] = field(default_factory=list)

    def on_commit(self, effect: Callable[[], None]) -> None:
        """Run `effect()` once the transaction has committed (never after a rollback)."""
        self._effects.append(effect)

    def commit(self) -> None:
        """Commit now and run the effects queued so far (for an action that must keep one
        step even when a later one fails, e.g. a declined payment attempt); the session
        stays usable for the next transaction."""
        self.session.commit()
        self.session.info.pop(ROLLBACK_EFFECTS, None)  # committed: nothing to undo any more
        self._run_effects()

    def _run_effects(self) -> None:
        effects, self._effects = self._effects, []
        for effect in effects:
            try:
                effect()
            except Exception:  # noqa: BLE001 - the change is committed; an effect never undoes it
                log.exception("after-commit effect failed")


ROLLBACK_EFFECTS = "medspa.on_rollback"


def on_rollback(session: Session, effect: Callable[[], None]) -> None:
    """Run `effect()` if the transaction of `session` does not commit: the action raised, or
    the commit itself failed. For what a service did outside the database before the commit,
    e.g. a file written to the media store for a row that then never lands. Services call it;
    `atomic` runs the effects (newest first) or, once committed, forgets them."""
    session.info.setdefault(ROLLBACK_EFFECTS, []).append(effect)


def _undo(session: Session) -> None:
    for effect in reversed(session.info.pop(ROLLBACK_EFFECTS, [])):
        try:
            effect()
        except Exception:  # noqa: BLE001 - best effort; the original error is what the caller sees
            log.exception("rollback effect failed")


def engine_of(engine: Engine | None) -> Engine:
    """The engine an action works on: `engine` when the caller passed one (tests), else the
    app-role engine of this process. The one place actions resolve it."""
    return engine or get_engine()


@contextmanager
def atomic(org_id: int | None, *, engine: Engine | None = None) -> Iterator[Work]:
    """A tenant transaction scoped to clinic `org_id` (None: only non-tenant tables).

    Commits when the block ends normally, then runs the queued effects; rolls back on any
    exception, also one raised by the commit, and then runs the `on_rollback` effects.
    `engine` defaults to the app-role engine (tests pass their own).
    """
    engine = engine_of(engine)
    with tenant_session(org_id, engine) as session:
        work = Work(session, engine)
        try:
            yield work
            session.commit()
        except BaseException:
            _undo(session)
            raise
        session.info.pop(ROLLBACK_EFFECTS, None)
    work._run_effects()


def now_of(clock: Clock | None, now: datetime | None = None) -> datetime:
    """The action's "now" (aware UTC): `now` when the caller gave an instant, else
    `clock.now()`, else the app clock (FROZEN_NOW or real time)."""
    return now if now is not None else (clock or app_clock()).now()
