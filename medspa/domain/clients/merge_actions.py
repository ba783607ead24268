"""Use cases of merging duplicate clients (permission client.merge: owner, manager).

Each runs in one tenant transaction through clients/merge.py (which audits both clients) and
returns a frozen summary, never ORM rows. `engine` is for tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.clients.merge import merge_clients, undo_merge
from medspa.domain.clients.models import ClientMerge
from medspa.domain.identity.actor import Actor
from medspa.domain.work import atomic, now_of


@dataclass(frozen=True)
class MergeOutcome:
    """A merge (or its undo): its id, the two clients, how many rows of each kind moved
    ({"table.column": count}), the survivor's fields it filled, and until when it can be
    undone (aware UTC)."""

    merge_id: int
    survivor_id: int
    absorbed_id: int
    moved: dict[str, int]
    filled: tuple[str, ...]
    undo_until: datetime
    undone: bool


def _outcome(merge: ClientMerge) -> MergeOutcome:
    return MergeOutcome(merge.id, merge.survivor_id, merge.absorbed_id,
                        {key: len(ids) for key, ids in merge.moved.items()}, tuple(sorted(merge.filled)),
                        merge.undo_until, merge.undone_at is not None)


def do_merge_clients(actor: Actor, survivor_id: int, absorbed_id: int, *, clock: Clock | None = None,
                     engine: Engine | None = None) -> MergeOutcome:
    """Merge `absorbed_id` into `survivor_id`. Raises PermissionDenied, NotFound, ValidationFailed."""
    with atomic(actor.org_id, engine=engine) as work:
        return _outcome(merge_clients(work.session, actor, survivor_id, absorbed_id, now_of(clock)))


def do_undo_merge(actor: Actor, merge_id: int, *, clock: Clock | None = None,
                  engine: Engine | None = None) -> MergeOutcome:
    """Undo merge `merge_id` within its window. Raises PermissionDenied, NotFound, ValidationFailed."""
    with atomic(actor.org_id, engine=engine) as work:
        return _outcome(undo_merge(work.session, actor, merge_id, now_of(clock)))
