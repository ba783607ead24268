"""The owners' dashboard as raw figures: what one filter (range, location) shows, unformatted.

Services (a session, no commit). `dashboard_figures` runs every report of the dashboard for
one filter and returns numbers and the analytics dataclasses; the page (features/dashboard)
turns them into labels, money strings, chart rows and CSV. The windows of the history charts
(12 months of trends, 24 months of cohorts) and the previous period of the change markers are
defined here, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from medspa.domain.analytics import cohorts as co
from medspa.domain.analytics import revenue as rv
from medspa.domain.analytics import service as an
from medspa.domain.analytics import trends as tr
from medspa.domain.analytics.common import PERMISSION
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location, Organization, StaffMember


def previous_range(start: date, end: date) -> tuple[date, date]:
    """The same number of days immediately before start..end (both inclusive)."""
    n = (end - start).days + 1
    return start - timedelta(days=n), start - timedelta(days=1)


def trend_window(end: date) -> tuple[date, date]:
    """The monthly charts' window: the 12 local months up to `end` (from the 1st, 11 months back)."""
    month = end.year * 12 + end.month - 1 - 11
    return date(month // 12, month % 12 + 1, 1), end


def retention_window(end: date) -> tuple[date, date]:
    """The cohort heatmap's window: the 24 local months up to `end` (a 365-day window needs a year)."""
    month = end.year * 12 + end.month - 1 - 23
    return date(month // 12, month % 12 + 1, 1), end


def rebooking_open(last_day: date, now: datetime) -> bool:
    """True while visits of a period ending `last_day` can still be rebooked within the
    rebooking window (analytics.service.REBOOKING_WINDOW_DAYS): its rate can still rise."""
    return last_day + timedelta(days=an.REBOOKING_WINDOW_DAYS) >= now.date()


@dataclass(frozen=True)
class Figures:
    """The raw numbers of the headline tiles for one period (amounts in integer cents)."""

    no_show: an.NoShowRate
    cancellations: an.Cancellations
    available: int  # provider minutes
    booked: int
    attended: int
    rebooking: an.Rebooking
    new_clients: int
    deposits_cents: int
    refunds_cents: int
    net_cents: int
    sales_cents: int
    deductions_cents: int  # deposits applied to sales + refunds + processing fees
    tickets: rv.TicketSummary


def period_figures(s: Session, actor: Actor, kw: dict) -> tuple[Figures, list[an.ProviderUtilization]]:
    """The tiles' numbers for the filter `kw` (start, end, location_id, now) and the
    per-provider utilization they sum up."""
    util = an.utilization(s, actor, **kw)
    rev = an.revenue(s, actor, **kw, by="month")
    return Figures(
        no_show=an.no_show_rate(s, actor, **kw),
        cancellations=an.cancellations(s, actor, **kw),
        available=sum(u.available_minutes for u in util),
        booked=sum(u.booked_minutes for u in util),
        attended=sum(u.attended_minutes for u in util),
        rebooking=an.rebooking(s, actor, **kw),
        new_clients=an.new_clients(s, actor, **kw).count,
        deposits_cents=sum(x.deposits_cents for x in rev),
        refunds_cents=sum(x.refunds_cents for x in rev),
        net_cents=sum(x.net_cents for x in rev),
        sales_cents=sum(x.sales_cents for x in rev),
        deductions_cents=sum(x.applied_cents + x.refunds_cents + x.fees_cents for x in rev),
        tickets=rv.ticket_summary(s, actor, **kw),
    ), util


@dataclass(frozen=True)
class DashboardFigures:
    """Everything the dashboard shows for one filter, unformatted.

    `current`/`previous` and the range's charts are filled when asked for the head, the
    12-month trend and revenue and the 24-month cohorts when asked for the history."""

    currency: str  # ISO 4217 code of the clinic
    start: date
    end: date
    now: datetime
    previous: tuple[date, date]
    trend_window: tuple[date, date]
    retention_window: tuple[date, date]
    current: Figures | None = None
    prior: Figures | None = None
    utilization: list[an.ProviderUtilization] = field(default_factory=list)
    provider_names: dict[int, str] = field(default_factory=dict)
    resources: list[an.ResourceUtilization] = field(default_factory=list)
    several_locations: bool = False  # the resources listed stand at more than one location
    top_services: list[rv.ServiceSales] = field(default_factory=list)
    hours: list[tr.HourCell] = field(default_factory=list)
    trend: list[tr.TrendPoint] = field(default_factory=list)
    revenue_by_category: list[rv.RevenueLine] = field(default_factory=list)  # key "YYYY-MM|category"
    cohorts: list[co.Cohort] = field(default_factory=list)

    @property
    def days(self) -> int:
        """Days in the range (both ends included)."""
        return (self.end - self.start).days + 1


def clinic_currency(s: Session, org_id: int) -> str:
    """The ISO 4217 currency code of clinic `org_id`."""
    return s.execute(select(Organization.currency).where(Organization.id == org_id)).scalar_one()


def report_locations(s: Session, actor: Actor) -> list[tuple[int, str, str]]:
    """(id, name, IANA zone) of the clinic's locations, by name; needs report.read."""
    actor.require(PERMISSION)
    return [(r.id, r.name, r.time_zone) for r in
            s.execute(select(Location.id, Location.name, Location.time_zone).order_by(Location.name, Location.id))]


def _head(s: Session, actor: Actor, kw: dict) -> dict:
    p_start, p_end = previous_range(kw["start"], kw["end"])
    current, util = period_figures(s, actor, kw)
    prior, _ = period_figures(s, actor, {**kw, "start": p_start, "end": p_end})
    resources = [u for kind in an.RESOURCE_KINDS for u in an.resource_utilization(s, actor, **kw, kind=kind)]
    return {"current": current, "prior": prior, "utilization": util,
            "provider_names": dict(s.execute(select(StaffMember.id, StaffMember.display_name)).all()),
            "resources": resources, "several_locations": len({u.location for u in resources}) > 1,
            "top_services": rv.top_services(s, actor, **kw, limit=10), "hours": tr.busiest_hours(s, actor, **kw)}


def _history(s: Session, actor: Actor, kw: dict) -> dict:
    w_start, w_end = trend_window(kw["end"])
    r_start, r_end = retention_window(kw["end"])
    window = {**kw, "start": w_start, "end": w_end}
    return {"trend": tr.monthly_trend(s, actor, **window),
            "revenue_by_category": rv.revenue(s, actor, **window, by="month_category"),
            "cohorts": co.retention(s, actor, **{**kw, "start": r_start, "end": r_end})}


def dashboard_figures(s: Session, actor: Actor, *, start: date, end: date, location_id: int | None, now: datetime,
                      head: bool = True, history: bool = True) -> DashboardFigures:
    """The figures of the filter: `head` = the tiles (this period and the previous one) and the
    range's charts; `history` = the 12-month trends and revenue by category and the 24-month
    cohorts (the slow part on years of data, loaded second by the page). Needs report.read;
    raises ValueError when end < start."""
    actor.require(PERMISSION)
    kw = {"start": start, "end": end, "location_id": location_id, "now": now}
    parts = {**(_head(s, actor, kw) if head else {}), **(_history(s, actor, kw) if history else {})}
    return DashboardFigures(clinic_currency(s, actor.org_id), start, end, now, previous_range(start, end),
                            trend_window(end), retention_window(end), **parts)
