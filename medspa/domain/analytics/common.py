"""Shared pieces of the analytics reports: the permission, the visit filter, ratios.

See medspa/domain/analytics/service.py for the conventions (local dates, inclusive ranges).
"""

from __future__ import annotations

from datetime import date

PERMISSION = "report.read"
DUE_STATUSES = ("completed", "no_show")
BOOKED_STATUSES = ("confirmed", "checked_in", "completed", "no_show")

# the local date of a visit, and the common filter on range and location
_LOCAL_DAY = "(a.start_at AT TIME ZONE l.time_zone)::date"
_VISITS = f"""
    FROM appointment a JOIN location l ON l.id = a.location_id
    WHERE {_LOCAL_DAY} BETWEEN :start AND :end
      AND (CAST(:loc AS bigint) IS NULL OR a.location_id = CAST(:loc AS bigint))
"""


def _params(start: date, end: date, location_id: int | None, **extra) -> dict:
    if end < start:
        raise ValueError("end is before start")
    return {"start": start, "end": end, "loc": location_id, **extra}


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else num / den
