"""Owners' analytics: retention of new clients by monthly cohort (issue 5, owners' dashboard).

Same conventions as medspa/domain/analytics/service.py (read its module docstring): `start`
and `end` are local dates, both inclusive; `location_id` None means every location; every
function needs `report.read`; the counting happens in PostgreSQL (one statement per call).

Definitions (the one-line form is definitions.py "retention")
- A client's first visit = their first completed visit at the clinic, any location (earliest
  start, then lowest id): the same rule as service.new_clients. Their cohort = the local month
  (at that visit's location) of that visit. With a location filter, a cohort holds only the
  clients whose first visit was at that location.
- Cohorts are whole calendar months: a range covers every cohort month it touches, from the
  month of `start` to the month of `end`, months without new clients included (size 0).
- Returned within N days = the client has another completed visit (at any location) that
  starts after the first visit's start and no later than the first visit's local wall-clock
  start + N days (so a DST change in between does not move the window by an hour).
- returned_N is None ("not known yet", a blank cell) while the window is not over for every
  possible member of the cohort: until `now` reaches local midnight at the end of the cohort
  month's last day + N days, in the zone of the location (the latest of the clinic's
  locations without a filter). A cohort still filling up or still inside its window would
  otherwise show a misleadingly low number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session

from medspa.domain.analytics.common import PERMISSION, _params, _ratio, utc_window
from medspa.domain.identity.actor import Actor

WINDOWS = (90, 180, 365)
_LOC = "(CAST(:loc AS bigint) IS NULL OR {col} = CAST(:loc AS bigint))"

# members of the cohorts of the months :m_first..:m_last (timestamps at the 1st of a month):
# (month, client_id, id = first visit, start_at, local_start, time_zone, second_at). Each
# client's first completed visit and the next one starting after it are kept by the database in
# client_first_visit (migration 0012, exact by triggers on appointment); :mlo..:mhi is a coarse
# UTC window around the local months (common.utc_window) that the (org_id, first_start_at)
# index serves, the exact local-month test follows it.
_MEMBERS = f"""
    firsts AS (
        SELECT f.client_id, f.first_appointment_id AS id, f.first_location_id AS location_id,
               f.first_start_at AS start_at, f.second_start_at AS second_at, l.time_zone,
               f.first_start_at AT TIME ZONE l.time_zone AS local_start
        FROM client_first_visit f JOIN location l ON l.id = f.first_location_id
        WHERE f.first_start_at >= :mlo AND f.first_start_at < :mhi),
    members AS (
        SELECT to_char(f.local_start, 'YYYY-MM') AS month, f.client_id, f.id, f.start_at, f.local_start,
               f.time_zone, f.second_at
        FROM firsts f
        WHERE f.local_start >= CAST(:m_first AS timestamp)
          AND f.local_start < CAST(:m_last AS timestamp) + interval '1 month'
          AND {_LOC.format(col="f.location_id")})"""


def _returned(days: str) -> str:
    """SQL: the member m came back for another completed visit within `days` days. second_at is
    the earliest completed visit starting after the first visit's start, so any such visit
    within the window exists iff that one is within it."""
    return f"""(m.second_at IS NOT NULL
        AND m.second_at <= (m.local_start + make_interval(days => {days})) AT TIME ZONE m.time_zone)"""


def _closed(days: int) -> str:
    """SQL: every window of cohort month mo (first_day) is over at :now, in every zone in scope."""
    return f"""coalesce((SELECT bool_and(CAST(:now AS timestamptz) >=
                    (mo.first_day + interval '1 month' + make_interval(days => {days})) AT TIME ZONE z.time_zone)
                FROM location z WHERE {_LOC.format(col="z.id")}), false)"""


def _month_params(start: date, end: date, location_id: int | None, **extra) -> dict:
    m_first, m_last = start.replace(day=1), end.replace(day=1)
    month_end = (m_last + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    mlo, mhi = utc_window(m_first, month_end)
    return _params(start, end, location_id, m_first=m_first, m_last=m_last, mlo=mlo, mhi=mhi, **extra)


@dataclass(frozen=True)
class Cohort:
    """New clients of one local month ("YYYY-MM") and how many came back (module docstring).

    returned_N is None while the N-day window is not over for the whole cohort; the rates are
    None then, and when the cohort is empty.
    """

    month: str
    size: int
    returned_90: int | None
    returned_180: int | None
    returned_365: int | None

    @property
    def rate_90(self) -> float | None:
        return None if self.returned_90 is None else _ratio(self.returned_90, self.size)

    @property
    def rate_180(self) -> float | None:
        return None if self.returned_180 is None else _ratio(self.returned_180, self.size)

    @property
    def rate_365(self) -> float | None:
        return None if self.returned_365 is None else _ratio(self.returned_365, self.size)


def retention(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
              now: datetime) -> list[Cohort]:
    """One Cohort per month touched by start..end (local dates), oldest first, with 90-, 180-
    and 365-day returns (module docstring). `now` (tz-aware) decides which windows are over.

    Raises ValueError when end < start, PermissionDenied without report.read.
    """
    actor.require(PERMISSION)
    counts = ", ".join(f"count(*) FILTER (WHERE r{n}) AS r{n}" for n in WINDOWS)
    flags = ", ".join(f"{_returned(str(n))} AS r{n}" for n in WINDOWS)
    cells = ", ".join(f"CASE WHEN {_closed(n)} THEN coalesce(c.r{n}, 0) END" for n in WINDOWS)
    rows = session.execute(text(f"""
        WITH {_MEMBERS},
        flags AS (SELECT m.month, {flags} FROM members m),
        counts AS (SELECT month, count(*) AS size, {counts} FROM flags GROUP BY month),
        months AS (
            SELECT to_char(g, 'YYYY-MM') AS month, g AS first_day
            FROM generate_series(CAST(:m_first AS timestamp), CAST(:m_last AS timestamp), interval '1 month') AS g)
        SELECT mo.month, coalesce(c.size, 0), {cells}
        FROM months mo LEFT JOIN counts c ON c.month = mo.month
        ORDER BY mo.month"""), _month_params(start, end, location_id, now=now)).all()
    return [Cohort(r[0], int(r[1]), *(None if x is None else int(x) for x in r[2:])) for r in rows]


def retention_rows(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                   now: datetime, month: str, within_days: int) -> list[tuple[int, int, bool]]:
    """(client id, first visit's appointment id, returned within `within_days` days) of every
    member of cohort `month` ("YYYY-MM", one of the months touched by start..end), by client id.

    The count equals Cohort.size and the returned ones equal Cohort.returned_N (when it is not
    None: the rows give the returns seen so far). Raises ValueError for a malformed month, a
    month outside the range or within_days < 1; PermissionDenied without report.read.
    """
    actor.require(PERMISSION)
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ValueError("month must be YYYY-MM")
    first = date(int(month[:4]), int(month[5:]), 1)
    if not (start.replace(day=1) <= first <= end.replace(day=1)):
        raise ValueError("month is outside the range")
    if within_days < 1:
        raise ValueError("within_days must be at least 1")
    return [(r[0], r[1], bool(r[2])) for r in session.execute(text(f"""
        WITH {_MEMBERS}
        SELECT m.client_id, m.id, {_returned("CAST(:days AS int)")} FROM members m
        WHERE m.month = :month ORDER BY m.client_id"""),
        _month_params(start, end, location_id, month=month, days=within_days)).all()]
