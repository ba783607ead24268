"""Editing a row from a validated form: which fields change, for the audit row's
{field: [old, new]} (settings: services, locations, rooms and devices)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


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
