"""Use cases of the owners' dashboard (report.read: owner and manager): one transaction each.

Reads, run by the page (features/dashboard) in a worker thread. Every one checks the
permission first; a drill-down names clients, so it writes its audit row (report.drill or
report.export) in its own transaction before it commits. `engine` is for tests (None: the
app's engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Engine

from medspa.domain.analytics.common import PERMISSION, tune_report_session
from medspa.domain.analytics.timeliness import ChartTimeliness, chart_timeliness
from medspa.domain.analytics.dashboard import DashboardFigures, dashboard_figures, report_locations
from medspa.domain.analytics.drills import Drill, drill
from medspa.domain.identity.actor import Actor
from medspa.domain.work import atomic

__all__ = ["LocationChoice", "fetch_chart_timeliness", "fetch_dashboard", "fetch_drill", "fetch_report_locations"]


@dataclass(frozen=True)
class LocationChoice:
    """One location of the clinic for the dashboard's filter."""

    id: int
    name: str
    time_zone: str  # IANA zone


def fetch_report_locations(actor: Actor, *, engine: Engine | None = None) -> list[LocationChoice]:
    """The clinic's locations by name. Raises PermissionDenied without report.read."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return [LocationChoice(*row) for row in report_locations(work.session, actor)]


def fetch_dashboard(actor: Actor, *, start: date, end: date, location_id: int | None, now: datetime,
                    head: bool = True, history: bool = True, engine: Engine | None = None) -> DashboardFigures:
    """The raw figures of the dashboard for local days start..end (inclusive) at one location
    (None: all); `head`/`history` pick the halves (analytics.dashboard.dashboard_figures).
    No client names, no audit row. Raises PermissionDenied without report.read, ValueError
    when end < start."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        tune_report_session(work.session)
        return dashboard_figures(work.session, actor, start=start, end=end, location_id=location_id, now=now,
                                 head=head, history=history)


def fetch_drill(actor: Actor, key: str, arg: str = "", *, start: date, end: date, location_id: int | None,
                now: datetime, export: bool = False, engine: Engine | None = None) -> Drill:
    """The rows behind one figure (analytics.drills), with one audit row: report.drill, or
    report.export when `export` (a download). Raises UnknownFigure for a key or argument that
    names no figure, PermissionDenied without report.read."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        tune_report_session(work.session)
        return drill(work.session, actor, key, arg, start=start, end=end, location_id=location_id, now=now,
                     export=export)


def fetch_chart_timeliness(actor: Actor, *, start: date, end: date, location_id: int | None, now: datetime,
                           engine: Engine | None = None) -> ChartTimeliness:
    """Charts signed within 24 h / 72 h of the visit's end (issue 18; analytics.timeliness): counts
    only, no audit row. Raises PermissionDenied without report.read, ValueError when end < start."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return chart_timeliness(work.session, actor, start=start, end=end, location_id=location_id, now=now)
