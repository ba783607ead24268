"""Editing a row from a validated form (settings: services, locations, closures, rooms and
devices, time off): the row locked for the change, and which fields change for the audit
row's {field: [old, new]}."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlmodel import Session

from medspa.domain.errors import NotFound

T = TypeVar("T")


def row_for_edit(session: Session, model: type[T], row_id: Any, name: str) -> T:
    """The session's clinic's `model` row `row_id`, locked FOR UPDATE for the change. Raises
    NotFound(name) for any other id (another clinic's: row-level security hides it; not an
    int: a hostile event argument)."""
    row = (session.get(model, row_id, with_for_update=True)
           if isinstance(row_id, int) and not isinstance(row_id, bool) else None)
    if row is None:
        raise NotFound(name)
    return row


def apply_changes(row: Any, clean: Any, fields: Iterable[str]) -> dict[str, list]:
    """Copy each of `fields` from `clean` (a validated form) onto `row` where it differs;
    returns {field: [old, new]} of the changed ones ({} when nothing changed: no audit row)."""
    changes: dict[str, list] = {}
    for key in fields:
        old, new = getattr(row, key), getattr(clean, key)
        if old != new:
            changes[key] = [old, new]
            setattr(row, key, new)
    return changes
