"""Shared pieces of the analytics reports: the permission, the visit filter, ratios.

See medspa/domain/analytics/service.py for the conventions (local dates, inclusive ranges).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from medspa.domain.scheduling.models import AppointmentStatus

PERMISSION = "report.read"
DUE_STATUSES = (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)
BOOKED_STATUSES = (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED,
                   AppointmentStatus.NO_SHOW)

# the local date of a visit, and the common filter on range and location.
# `a.start_at >= :lo AND a.start_at < :hi` is a coarse UTC window around the local range (see
# _params); it changes no result, it only lets PostgreSQL use the (org_id, start_at) and
# (org_id, location_id, start_at) indexes of migrations 0001/0011 instead of computing the local
# date of every appointment of the clinic's history. The exact local-date test follows it.
_LOCAL_DAY = "(a.start_at AT TIME ZONE l.time_zone)::date"
_VISITS = f"""
    FROM appointment a JOIN location l ON l.id = a.location_id
    WHERE a.start_at >= :lo AND a.start_at < :hi
      AND {_LOCAL_DAY} BETWEEN :start AND :end
      AND (CAST(:loc AS bigint) IS NULL OR a.location_id = CAST(:loc AS bigint))
"""

# the same appointments counted per location, local day, provider and status by the database
# (visit_daily, migration 0054, exact by triggers on appointment): only the statuses confirmed,
# checked_in, completed, no_show and cancelled; visits = count, late = those with
# cancellation_late, seconds = sum of end_at - start_at. The figures that are such counts or
# sums (no-shows, cancellations, provider minutes, the monthly counts) read it: a year is a few
# thousand rows instead of every visit. Minutes = the seconds summed, then / 60 (the visits'
# minutes summed: equal for whole-minute visits, which every appointment is).
_DAY_VISITS = """
    FROM visit_daily d
    WHERE d.local_day BETWEEN :start AND :end
      AND (CAST(:loc AS bigint) IS NULL OR d.location_id = CAST(:loc AS bigint))
"""
_DAY_MINUTES = "(sum(d.seconds)::numeric / 60)"


def utc_window(start: date, end: date) -> tuple[datetime, datetime]:
    """[lo, hi) in UTC that holds every instant whose local date in any zone is in start..end.

    UTC offsets lie between -12:00 and +14:00 (IANA zones), so local midnight of `start` is
    after start - 1 day 00:00 UTC and local midnight after `end` is before end + 2 days 00:00
    UTC. Used as a sargable pre-filter in front of the exact local-date predicate."""
    return (datetime.combine(start - timedelta(days=1), time.min, tzinfo=timezone.utc),
            datetime.combine(end + timedelta(days=2), time.min, tzinfo=timezone.utc))


def _params(start: date, end: date, location_id: int | None, **extra) -> dict:
    """Bind parameters of the reports: local dates start..end (inclusive), the location (None:
    all) and the UTC window lo/hi of `utc_window` that _VISITS filters on first."""
    if end < start:
        raise ValueError("end is before start")
    lo, hi = utc_window(start, end)
    return {"start": start, "end": end, "loc": location_id, "lo": lo, "hi": hi, **extra}


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


REPORT_WORK_MEM = "64MB"


def tune_report_session(session) -> None:
    """Give the reports of this transaction the memory their sorts and hashes need, and no JIT.

    The dashboard's figures over a year of visits sort and hash a few hundred thousand rows
    (rebooking's window over visits and bookings, revenue's ledger-to-visit join); with the
    server's default work_mem (4MB) those spill to temporary files in batches. A year of ledger
    lines is costed above PostgreSQL's JIT thresholds (jit is on by default since 12): on
    PostgreSQL 15 the ticket summary's distinct clients spent 373 ms compiling (inlining and
    optimization) for a 1.1 s scan, more than the compiled code could save in a query of under
    a second (bench/dashboard.py). Both are local to the transaction (set_config(..., true)). Call it right after
    opening the reports' session (the dashboard's analytics/actions.py, bench/dashboard.py)."""
    from sqlalchemy import text

    session.execute(text("SELECT set_config('work_mem', :work_mem, true), set_config('jit', 'off', true)"),
                    {"work_mem": REPORT_WORK_MEM})
