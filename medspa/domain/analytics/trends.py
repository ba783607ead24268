"""Owners' analytics over time: monthly trends and the busiest hours (issue 5).

Same conventions as medspa/domain/analytics/service.py (read its module docstring): `start`
and `end` are local dates, both inclusive; `location_id` None means every location; every
function needs `report.read`; the counting happens in PostgreSQL (one statement per call).

Definitions (source: issue 5, owners' dashboard; the one-line forms are in definitions.py)
- Monthly trend: one point per calendar month touched by the range, months without visits
  included with zeros. A visit belongs to the month of its location's local date (cut at the
  location's local midnight, like every daily figure). A point covers only the part of the
  range inside its month (point.start..point.end), and its counts are by construction those
  of the daily figures over that part: due / no_shows = no_show_rate(start=point.start,
  end=point.end); cancellations / late_cancellations = cancellations(...); completed /
  rebooked / rebooked_before_leaving = rebooking(...) (visits, rebooked, before leaving; the
  same SQL). So a dashboard opens a point with the existing *_rows over (point.start,
  point.end). scheduled = visits of the month with status confirmed, checked in, completed,
  no-show or cancelled (held and expired slots never were appointments); cancellation rate =
  cancellations / scheduled.
- Busiest hours: visits booked (confirmed, checked in, completed, no-show; not cancelled) by
  their location's local weekday (0 = Monday) and the local hour they start in (0-23). On a
  DST day the repeated hour counts its visits once in that hour; the skipped hour has none.

The monthly counts read visit_daily and the rebooking flags visit_rebooking (migration 0054,
kept exact by triggers; see service.py's "Where the figures are read"); busiest hours reads
the visits of the range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlmodel import Session

from medspa.domain.analytics.common import PERMISSION, _DAY_VISITS, _VISITS, _params, _ratio
from medspa.domain.analytics.service import REBOOKING_WINDOW_DAYS, _rebooking_flags_sql
from medspa.domain.identity.actor import Actor

_BOOKED_IN = "('confirmed', 'checked_in', 'completed', 'no_show')"
_SCHEDULED_IN = "('confirmed', 'checked_in', 'completed', 'no_show', 'cancelled')"

# the months touched by :start..:end, with the part of the range inside each (local dates)
_MONTHS = """
    SELECT to_char(g, 'YYYY-MM') AS month,
           greatest(CAST(g AS date), CAST(:start AS date)) AS m_start,
           least(CAST(g + interval '1 month' - interval '1 day' AS date), CAST(:end AS date)) AS m_end
    FROM generate_series(date_trunc('month', CAST(:start AS timestamp)), CAST(:end AS timestamp),
                         interval '1 month') AS g"""


@dataclass(frozen=True)
class TrendPoint:
    """One local month of the trend (module docstring).

    month is "YYYY-MM"; start..end (local dates, inclusive) is the part of the requested range
    inside that month. completed = completed visits with a client (the rebooking denominator,
    equal to rebooking(...).visits); the rates are None when their denominator is 0.
    """

    month: str
    start: date
    end: date
    due: int
    no_shows: int
    scheduled: int
    cancellations: int
    late_cancellations: int
    completed: int
    rebooked: int
    rebooked_before_leaving: int

    @property
    def no_show_rate(self) -> float | None:
        return _ratio(self.no_shows, self.due)

    @property
    def cancellation_rate(self) -> float | None:
        return _ratio(self.cancellations, self.scheduled)

    @property
    def rebooking_rate(self) -> float | None:
        return _ratio(self.rebooked, self.completed)

    @property
    def before_leaving_rate(self) -> float | None:
        return _ratio(self.rebooked_before_leaving, self.completed)


def monthly_trend(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                  now: datetime, within_days: int = REBOOKING_WINDOW_DAYS) -> list[TrendPoint]:
    """One TrendPoint per local month touched by start..end, oldest first (module docstring).

    within_days: the rebooking window in days (as service.rebooking). Raises ValueError when
    end < start, PermissionDenied without report.read.
    """
    actor.require(PERMISSION)
    rows = session.execute(text(f"""
        WITH months AS ({_MONTHS}),
        counts AS (           -- the visits' counts per local day (common._DAY_VISITS)
            SELECT to_char(d.local_day, 'YYYY-MM') AS month,
                   sum(d.visits) FILTER (WHERE d.status IN ('completed', 'no_show')) AS due,
                   sum(d.visits) FILTER (WHERE d.status = 'no_show') AS no_shows,
                   sum(d.visits) AS scheduled,
                   sum(d.visits) FILTER (WHERE d.status = 'cancelled') AS cancellations,
                   sum(d.late) FILTER (WHERE d.status = 'cancelled') AS late
            {_DAY_VISITS} AND d.status IN {_SCHEDULED_IN}
            GROUP BY 1),
        reb AS (
            SELECT to_char(f.day, 'YYYY-MM') AS month, count(*) AS completed,
                   count(*) FILTER (WHERE f.rebooked) AS rebooked,
                   count(*) FILTER (WHERE f.before_leaving) AS before_leaving
            FROM ({_rebooking_flags_sql("day, rebooked OR before_leaving AS rebooked, before_leaving",
                                        within_days)}) AS f
            GROUP BY 1)
        SELECT m.month, m.m_start, m.m_end,
               coalesce(c.due, 0), coalesce(c.no_shows, 0), coalesce(c.scheduled, 0),
               coalesce(c.cancellations, 0), coalesce(c.late, 0),
               coalesce(r.completed, 0), coalesce(r.rebooked, 0), coalesce(r.before_leaving, 0)
        FROM months m LEFT JOIN counts c ON c.month = m.month LEFT JOIN reb r ON r.month = m.month
        ORDER BY m.month"""), _params(start, end, location_id, days=within_days)).all()
    return [TrendPoint(r[0], r[1], r[2], *(int(x) for x in r[3:])) for r in rows]


@dataclass(frozen=True)
class HourCell:
    """Visits booked starting in one local hour (0-23) of one local weekday (0 = Monday)."""

    weekday: int
    hour: int
    visits: int


_WEEKDAY = "(EXTRACT(ISODOW FROM a.start_at AT TIME ZONE l.time_zone)::int - 1)"
_HOUR = "EXTRACT(HOUR FROM a.start_at AT TIME ZONE l.time_zone)::int"


def busiest_hours(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                  now: datetime) -> list[HourCell]:
    """Booked visits on local days start..end by local weekday and starting hour; only the
    non-zero cells, ordered by weekday then hour (module docstring).

    Raises ValueError when end < start, PermissionDenied without report.read.
    """
    actor.require(PERMISSION)
    rows = session.execute(text(f"""
        SELECT {_WEEKDAY}, {_HOUR}, count(*) {_VISITS} AND a.status IN {_BOOKED_IN}
        GROUP BY 1, 2 ORDER BY 1, 2"""), _params(start, end, location_id)).all()
    return [HourCell(int(r[0]), int(r[1]), int(r[2])) for r in rows]


def busiest_hours_rows(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                       now: datetime, weekday: int, hour: int) -> list[int]:
    """Appointment ids behind one cell of busiest_hours (weekday 0 = Monday, hour 0-23 local),
    ordered by start; their count equals the cell's visits.

    Raises ValueError for a weekday outside 0-6, an hour outside 0-23 or end < start.
    """
    actor.require(PERMISSION)
    if not (0 <= weekday <= 6 and 0 <= hour <= 23):
        raise ValueError("weekday must be 0-6 and hour 0-23")
    return [r[0] for r in session.execute(text(f"""
        SELECT a.id {_VISITS} AND a.status IN {_BOOKED_IN} AND {_WEEKDAY} = :wd AND {_HOUR} = :hr
        ORDER BY a.start_at, a.id"""), _params(start, end, location_id, wd=weekday, hr=hour)).all()]
