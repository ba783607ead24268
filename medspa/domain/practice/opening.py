"""When a location is open: its weekly opening hours and its closures (read side).

Availability (scheduling/availability.py) intersects providers' working hours with these.
A location with no opening-hours rows is open whenever its providers work.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, time, timedelta

from sqlmodel import Session, select

from medspa.domain.practice.opening_models import LocationClosure, LocationHours

Span = tuple[time, time]


def opening_hours(session: Session, location_id: int) -> dict[int, list[Span]] | None:
    """weekday (0 = Monday) -> sorted [(start, end)] wall times, or None when the location has
    no opening hours at all (then only working hours count)."""
    rows = session.exec(select(LocationHours).where(LocationHours.location_id == location_id))
    week: dict[int, list[Span]] = defaultdict(list)
    for row in rows:
        week[row.weekday].append((row.start_time, row.end_time))
    if not week:
        return None
    return {day: sorted(spans) for day, spans in week.items()}


def closures_query(location_id: int, first: date, last: date):
    """SELECT (start_date, end_date) of the location's closures touching first..last (closed_days'
    rows; availability reads them in one round trip with the staff exceptions). The arguments may
    be bound parameters, for a statement built once."""
    return select(LocationClosure.start_date, LocationClosure.end_date).where(
        LocationClosure.location_id == location_id, LocationClosure.start_date <= last,
        LocationClosure.end_date >= first)


def days_closed(rows, first: date, last: date) -> set[date]:
    """The local dates from `first` to `last` covered by closure rows (start_date, end_date)."""
    days: set[date] = set()
    for start, end in rows:
        day = max(start, first)
        while day <= min(end, last):
            days.add(day)
            day += timedelta(days=1)
    return days


def closed_days(session: Session, location_id: int, first: date, last: date) -> set[date]:
    """The local dates from `first` to `last` (inclusive) on which the location is closed."""
    return days_closed(session.exec(closures_query(location_id, first, last)), first, last)


def clip(spans: list[Span], opening: list[Span] | None) -> list[Span]:
    """Working spans cut to the opening spans of that day (None: no opening hours, unchanged)."""
    if opening is None:
        return spans
    out = []
    for ws, we in spans:
        for os_, oe in opening:
            lo, hi = max(ws, os_), min(we, oe)
            if lo < hi:
                out.append((lo, hi))
    return out
