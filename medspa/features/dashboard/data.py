"""The dashboard's calls into the analytics services, one transaction each (run in a worker thread).

No Reflex here: the state awaits these with asyncio.to_thread and keeps plain values.

- `summary`: the headline tiles (each with its change against the previous period of the
  same number of days) and the data of every chart;
- `drill`: the rows behind one figure (a tile, a bar, a month, a heatmap cell), as dated rows
  with client, service, provider and location (analytics.details, audited once); the summary
  line restates the figure and the total of ALL rows (count or sum equal to the figure);
- `drill_csv` / `report_csv`: the same rows, or a chart's figures, as CSV (RFC 4180, the
  audit page's formula guard).
"""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Callable, Iterable, Iterator

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from medspa.db import tenant_session
from medspa.domain.analytics import details as dt
from medspa.domain.analytics import cohorts as co
from medspa.domain.analytics import revenue as rv
from medspa.domain.analytics import service as an
from medspa.domain.analytics import trends as tr
from medspa.domain.analytics.common import _ratio, tune_report_session
from medspa.domain.analytics.definitions import DEFINITIONS
from medspa.domain.audit.query import csv_cell
from medspa.domain.identity.actor import Actor
from medspa.domain.money import format_money
from medspa.domain.practice.models import Location, Organization, StaffMember
from medspa.web.inputs import ascii_int

GOOD, BAD, NEUTRAL = "good", "bad", "neutral"


# --------------------------------------------------------------------------- formatting


def pct(ratio: float | None) -> str:
    """0.0862 -> "8.6%"; None (nothing to divide by) -> "—"."""
    return "—" if ratio is None else f"{ratio * 100:.1f}%"


# The clinic's currency while one of its reports is built (set by summary/drill/drill_csv in
# the worker thread that builds it), so every amount goes through domain.money.format_money.
_CURRENCY: ContextVar[str] = ContextVar("dashboard_currency", default="USD")


def money(cents: int) -> str:
    """Integer cents in the clinic's currency (Babel via format_money): -1234 -> "-$12.34"."""
    return format_money(cents, _CURRENCY.get())


@contextmanager
def _clinic_currency(s: Session, org_id: int) -> Iterator[None]:
    token = _CURRENCY.set(s.execute(select(Organization.currency).where(Organization.id == org_id)).scalar_one())
    try:
        yield
    finally:
        _CURRENCY.reset(token)


def _rebooking_open(last_day: date, now: datetime) -> bool:
    """True while visits of a month ending `last_day` can still be rebooked within the
    rebooking window (90 days, analytics.service.rebooking): its rate can still rise."""
    return last_day + timedelta(days=an.REBOOKING_WINDOW_DAYS) >= now.date()


def _visits(n: int) -> str:
    return "1 visit" if n == 1 else f"{n:,} visits"


def days_text(n: int) -> str:
    """"1 day", "30 days"."""
    return "1 day" if n == 1 else f"{n} days"


def change(kind: str, current: float | int | None, previous: float | int | None, *, higher_is_better: bool,
           days: int) -> tuple[str, str]:
    """(text, tone) of a figure's change against the previous `days` days.

    kind "rate": the difference in percentage points ("▲ 1.2 pts"); "count"/"money": the
    change in percent ("▼ 12.5%"). tone is good/bad by `higher_is_better`, neutral when
    unchanged or not comparable. The previous value follows in brackets."""
    period = f"vs previous {days_text(days)}"
    if kind == "rate":
        if current is None or previous is None:
            return (f"no visits to compare {period}" if previous is None else f"— {period}", NEUTRAL)
        delta = round((current - previous) * 100, 1)
        was = pct(previous)
        size = f"{abs(delta):.1f} pts"
    else:
        if previous is None or current is None:  # e.g. an average without checkouts
            return (f"— {period}" if current is None else f"nothing to compare {period}"), NEUTRAL
        previous, current = previous or 0, current or 0
        was = money(int(previous)) if kind == "money" else f"{previous:,}"
        if previous == 0:
            if current == 0:
                return f"= same as previous {days_text(days)}", NEUTRAL
            delta, size = float(current), "new"
        else:
            delta = round((current - previous) / abs(previous) * 100, 1)
            size = f"{abs(delta):.1f}%"
    if delta == 0:
        return f"= same as previous {days_text(days)} ({was})", NEUTRAL
    arrow = "▲" if delta > 0 else "▼"
    tone = GOOD if (delta > 0) == higher_is_better else BAD
    return f"{arrow} {size} {period} ({was})", tone


def previous_range(start: date, end: date) -> tuple[date, date]:
    """The same number of days immediately before start..end (both inclusive)."""
    n = (end - start).days + 1
    return start - timedelta(days=n), start - timedelta(days=1)


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class Tile:
    """One headline figure: its value, change against the previous period (text, tone), detail and definition."""

    key: str
    label: str
    value: str
    change: str
    tone: str  # good / bad / neutral
    detail: str
    definition: str
    group: str  # visits / clients / money


@dataclass(frozen=True)
class Cell:
    """One cell of a heatmap (a CSS grid): text, colours, and the drill it opens ("" = none)."""

    text: str
    bg: str
    fg: str
    key: str = ""
    arg: str = ""
    title: str = ""


_LOW, _HIGH = (241, 245, 249), (13, 148, 136)  # slate-100 .. teal-600


def shade(share: float | None) -> tuple[str, str]:
    """(background, text colour) for a 0..1 share; None (no value) is a blank cell."""
    if share is None:
        return "transparent", "#64748b"
    t = max(0.0, min(1.0, share))
    rgb = tuple(round(lo + (hi - lo) * t) for lo, hi in zip(_LOW, _HIGH))
    return "#%02x%02x%02x" % rgb, ("#ffffff" if t > 0.55 else "#0f172a")


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _hours_grid(cells: list[tr.HourCell]) -> tuple[list[Cell], int]:
    """Weekday rows x the hours that have visits (at least 9:00-17:00), header row first."""
    if not cells:
        return [], 0
    counts = {(c.weekday, c.hour): c.visits for c in cells}
    lo, hi = min(min(c.hour for c in cells), 9), max(max(c.hour for c in cells), 17)
    top = max(counts.values())
    out = [Cell("", "transparent", "#64748b")]
    out += [Cell(f"{h % 12 or 12}{'a' if h < 12 else 'p'}", "transparent", "#64748b") for h in range(lo, hi + 1)]
    for wd, name in enumerate(WEEKDAYS):
        out.append(Cell(name, "transparent", "#334155"))
        for h in range(lo, hi + 1):
            n = counts.get((wd, h), 0)
            bg, fg = shade(n / top if n else 0.0)
            out.append(Cell(str(n) if n else "", bg, fg, "hour" if n else "", f"{wd}-{h}" if n else "",
                            f"{name} {h:02d}:00-{h:02d}:59: {_visits(n)}"))
    return out, hi - lo + 2


def retention_window(end: date) -> tuple[date, date]:
    """The cohort heatmap's window: the 24 local months up to `end` (a 365-day window needs a year)."""
    month = end.year * 12 + end.month - 1 - 23
    return date(month // 12, month % 12 + 1, 1), end


RETENTION_COLUMNS = 5  # cohort, clients, 90, 180, 365 days


def _retention_grid(cohorts: list[co.Cohort]) -> list[Cell]:
    """Newest cohort first; empty months left out; a window not over yet is a blank cell."""
    head = "#64748b"
    out = [Cell(t, "transparent", head) for t in ("Cohort", "Clients", "90 days", "180 days", "365 days")]
    for c in reversed([c for c in cohorts if c.size]):
        out += [Cell(c.month, "transparent", "#334155"), Cell(str(c.size), "transparent", "#334155")]
        for days, returned, rate in ((90, c.returned_90, c.rate_90), (180, c.returned_180, c.rate_180),
                                     (365, c.returned_365, c.rate_365)):
            if returned is None:
                out.append(Cell("", "transparent", head, title=f"{c.month}: the {days}-day window is not over yet"))
            else:
                bg, fg = shade(rate)
                out.append(Cell(pct(rate), bg, fg, "retention", f"{c.month}:{days}",
                                f"{c.month}: {returned} of {c.size} came back within {days} days"))
    return out


def trend_window(end: date) -> tuple[date, date]:
    """The monthly charts' window: the 12 local months up to `end` (from the 1st, 11 months back)."""
    month = end.year * 12 + end.month - 1 - 11
    return date(month // 12, month % 12 + 1, 1), end


@dataclass(frozen=True)
class Summary:
    """Everything the page shows for one filter: tiles, chart rows and each chart's CSV report."""

    tiles: list[Tile]
    previous: tuple[date, date]
    utilization: list[dict] = field(default_factory=list)  # {"id", "name", "booked", "attended"} percent
    revenue: list[dict] = field(default_factory=list)  # per month: {"month", "c0".."c6"} net dollars by category
    categories: list[str] = field(default_factory=list)  # names of c0..c6 ("" = unused slot)
    category_totals: list[dict] = field(default_factory=list)  # {"category", "net"} over the trend window
    top_services: list[dict] = field(default_factory=list)  # {"id", "name", "category", "checkouts", "sales"}
    resources: list[dict] = field(default_factory=list)  # {"id", "name", "kind", "booked", "attended"} percent
    trend: list[dict] = field(default_factory=list)  # per month: rates in percent and the counts as text
    trend_window: tuple[date, date] | None = None
    hours: list[Cell] = field(default_factory=list)  # busiest hours, row by row (header cells included)
    hours_columns: int = 0  # cells per row of `hours`
    retention: list[Cell] = field(default_factory=list)  # cohort rows: month, size, 90/180/365 (header first)
    retention_window: tuple[date, date] | None = None
    reports: dict[str, tuple[list[str], list[list]]] = field(default_factory=dict)  # name -> (header, rows)


@dataclass(frozen=True)
class _Figures:
    """The raw numbers of the headline tiles for one period."""

    no_show: an.NoShowRate
    cancellations: an.Cancellations
    available: int
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


def _figures(s: Session, actor: Actor, kw: dict) -> tuple[_Figures, list, list]:
    util = an.utilization(s, actor, **kw)
    rev = an.revenue(s, actor, **kw, by="month")
    return _Figures(
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
    ), util, rev


def _tiles(cur: _Figures, prev: _Figures, days: int, *, rebooking_open: bool = False) -> list[Tile]:
    d = DEFINITIONS

    def tile(key, label, group, value, kind, now_v, prev_v, better_up, detail) -> Tile:
        text, tone = change(kind, now_v, prev_v, higher_is_better=better_up, days=days)
        return Tile(key, label, value, text, tone, detail, d[key], group)

    booked, attended = an._ratio(cur.booked, cur.available), an._ratio(cur.attended, cur.available)
    return [
        tile("no_show", "No-show rate", "visits", pct(cur.no_show.rate), "rate", cur.no_show.rate,
             prev.no_show.rate, False, f"{cur.no_show.no_shows:,} no-shows of {cur.no_show.due:,} due"),
        tile("cancellations", "Cancellations", "visits", f"{cur.cancellations.count:,}", "count",
             cur.cancellations.count, prev.cancellations.count, False,
             f"{cur.cancellations.late:,} late · {cur.cancellations.early:,} early"),
        tile("booked_util", "Booked utilization", "visits", pct(booked), "rate", booked,
             an._ratio(prev.booked, prev.available), True, f"{cur.booked:,} of {cur.available:,} min"),
        tile("attended_util", "Attended utilization", "visits", pct(attended), "rate", attended,
             an._ratio(prev.attended, prev.available), True, f"{cur.attended:,} of {cur.available:,} min"),
        tile("rebooking", "Rebooking rate", "clients", pct(cur.rebooking.rate), "rate", cur.rebooking.rate,
             prev.rebooking.rate, True,
             f"{cur.rebooking.rebooked:,} of {cur.rebooking.visits:,} visits · "
             f"{cur.rebooking.rebooked_before_leaving:,} before leaving"
             + (" · still open: visits of the last 90 days can still be rebooked" if rebooking_open else "")),
        tile("new_clients", "New clients", "clients", f"{cur.new_clients:,}", "count", cur.new_clients,
             prev.new_clients, True, "first completed visit"),
        tile("net_revenue", "Net revenue", "money", money(cur.net_cents), "money", cur.net_cents, prev.net_cents,
             True, f"{money(cur.sales_cents)} sales · {money(cur.deposits_cents)} deposits · "
                   f"{money(-cur.deductions_cents)} applied, refunds, fees"),
        tile("average_ticket", "Average ticket", "money", _money_or_dash(cur.tickets.average_ticket_cents), "money",
             cur.tickets.average_ticket_cents, prev.tickets.average_ticket_cents, True,
             f"{money(cur.tickets.sales_cents)} sales over {cur.tickets.checkouts:,} checkouts"),
        tile("revenue_per_client", "Revenue per client", "money",
             _money_or_dash(cur.tickets.revenue_per_client_cents), "money", cur.tickets.revenue_per_client_cents,
             prev.tickets.revenue_per_client_cents, True,
             f"{money(cur.tickets.net_cents)} net over {cur.tickets.clients:,} clients"),
    ]


def _money_or_dash(cents: int | None) -> str:
    return "—" if cents is None else money(cents)


def _kw(start: date, end: date, location_id: int | None, now: datetime) -> dict:
    return {"start": start, "end": end, "location_id": location_id, "now": now}


def locations(engine: Engine, actor: Actor) -> list[tuple[int, str, str]]:
    """(id, name, IANA zone) of the clinic's locations (report.read)."""
    actor.require(an.PERMISSION)
    with tenant_session(actor.org_id, engine) as s:
        return [(r.id, r.name, r.time_zone) for r in
                s.execute(select(Location.id, Location.name, Location.time_zone).order_by(Location.name, Location.id)).all()]


def _compute(s: Session, actor: Actor, kw: dict, *, head: bool = True, history: bool = True) -> Summary:
    """The figures of the filter `kw`: `head` = the tiles (with the previous period) and the
    range's charts; `history` = the 12-month trends and revenue by category and the 24-month
    cohorts (the slow part on years of data, loaded second by the page)."""
    start, end, now = kw["start"], kw["end"], kw["now"]
    p_start, p_end = previous_range(start, end)
    tiles, chart_util, chart_res, chart_tops, util, resources, tops = [], [], [], [], [], [], []
    hour_cells, hours, hours_columns = [], [], 0
    names: dict[int, str] = {}
    if head:
        cur, util, _ = _figures(s, actor, kw)
        prev, _, _ = _figures(s, actor, {**kw, "start": p_start, "end": p_end})
        names = dict(s.execute(select(StaffMember.id, StaffMember.display_name)).all())
        tiles = _tiles(cur, prev, (end - start).days + 1, rebooking_open=_rebooking_open(end, now))
        chart_util = [{"id": str(u.provider_id), "name": names.get(u.provider_id, f"#{u.provider_id}"),
                       "booked": round((u.booked or 0) * 100, 1), "attended": round((u.attended or 0) * 100, 1)}
                      for u in util if u.available_minutes or u.booked_minutes]
        resources = [u for kind in an.RESOURCE_KINDS for u in an.resource_utilization(s, actor, **kw, kind=kind)]
        chart_res = [{"id": str(u.resource_id), "name": u.name, "kind": u.kind,
                      "booked": round((u.booked or 0) * 100, 1), "attended": round((u.attended or 0) * 100, 1)}
                     for u in resources if u.available_minutes or u.booked_minutes]
        tops = rv.top_services(s, actor, **kw, limit=10)
        hour_cells = tr.busiest_hours(s, actor, **kw)
        hours, hours_columns = _hours_grid(hour_cells)
    w_start, w_end = trend_window(end)
    r_start, r_end = retention_window(end)
    points, by_cat, cohorts = [], [], []
    if history:
        points = tr.monthly_trend(s, actor, **{**kw, "start": w_start, "end": w_end})
        by_cat = rv.revenue(s, actor, **{**kw, "start": w_start, "end": w_end}, by="month_category")
        cohorts = co.retention(s, actor, **{**kw, "start": r_start, "end": r_end})
    chart_trend = [{"month": p.month, "no_show": _pct_round(p.no_show_rate),
                    "cancellation": _pct_round(p.cancellation_rate),
                    "late_cancellation": _pct_round(_ratio(p.late_cancellations, p.scheduled)),
                    "rebooking": _pct_round(p.rebooking_rate), "before_leaving": _pct_round(p.before_leaving_rate),
                    "no_show_text": f"{pct(p.no_show_rate)} ({p.no_shows:,} of {p.due:,})",
                    "cancel_text": f"{pct(p.cancellation_rate)} ({p.cancellations:,} of {p.scheduled:,}, "
                                   f"{p.late_cancellations:,} late)",
                    "rebook_text": f"{pct(p.rebooking_rate)} ({p.rebooked:,} of {p.completed:,})"
                                   + (" · still open" if _rebooking_open(p.end, now) else "")} for p in points]
    chart_rev, categories, cat_totals = _stacked(by_cat, [p.month for p in points])
    reports = {
        "tiles": (["figure", "value", "change", "detail", "definition"],
                  [[t.label, t.value, t.change, t.detail, t.definition] for t in tiles]),
        "utilization": (["provider", "available_minutes", "booked_minutes", "attended_minutes", "booked_pct",
                         "attended_pct"],
                        [[names.get(u.provider_id, f"#{u.provider_id}"), u.available_minutes, u.booked_minutes,
                          u.attended_minutes, _pct_num(u.booked), _pct_num(u.attended)] for u in util]),
        "revenue": (["month", "category", "deposits", "sales", "deposits_applied", "refunds", "fees", "net"],
                    [[*x.key.split("|", 1), _dollars(x.deposits_cents), _dollars(x.sales_cents),
                      _dollars(x.applied_cents), _dollars(x.refunds_cents), _dollars(x.fees_cents),
                      _dollars(x.net_cents)] for x in by_cat]),
        "top_services": (["service", "category", "checkouts", "sales"],
                         [[t.name, t.category, t.checkouts, _dollars(t.sales_cents)] for t in tops]),
        "resources": (["kind", "name", "available_minutes", "booked_minutes", "attended_minutes", "booked_pct",
                       "attended_pct"],
                      [[u.kind, u.name, u.available_minutes, u.booked_minutes, u.attended_minutes,
                        _pct_num(u.booked), _pct_num(u.attended)] for u in resources]),
        "trend": (["month", "first_day", "last_day", "due", "no_shows", "no_show_pct", "scheduled", "cancellations",
                   "late_cancellations", "cancellation_pct", "completed", "rebooked", "rebooked_before_leaving",
                   "rebooking_pct", "before_leaving_pct"],
                  [[p.month, p.start.isoformat(), p.end.isoformat(), p.due, p.no_shows, _pct_num(p.no_show_rate),
                    p.scheduled, p.cancellations, p.late_cancellations, _pct_num(p.cancellation_rate), p.completed,
                    p.rebooked, p.rebooked_before_leaving, _pct_num(p.rebooking_rate),
                    _pct_num(p.before_leaving_rate)] for p in points]),
        "hours": (["weekday", "hour", "visits"], [[WEEKDAYS[c.weekday], f"{c.hour:02d}:00", c.visits]
                                                   for c in hour_cells]),
    }
    reports["retention"] = (["cohort", "clients", "returned_90", "returned_180", "returned_365", "pct_90",
                             "pct_180", "pct_365"],
                            [[c.month, c.size, _blank(c.returned_90), _blank(c.returned_180), _blank(c.returned_365),
                              _pct_num(c.rate_90), _pct_num(c.rate_180), _pct_num(c.rate_365)]
                             for c in cohorts if c.size])
    chart_tops = [{"id": str(t.service_id), "name": t.name, "category": t.category, "checkouts": f"{t.checkouts:,}",
                   "sales": money(t.sales_cents)} for t in tops]
    return Summary(tiles, (p_start, p_end), chart_util, chart_rev, categories, cat_totals, chart_tops, chart_res,
                   chart_trend, (w_start, w_end), hours, hours_columns, _retention_grid(cohorts), (r_start, r_end),
                   reports)


STACK_SLOTS = 7  # six categories by net, then "Other"


def _stacked(lines: list[rv.RevenueLine], months: list[str]) -> tuple[list[dict], list[str], list[dict]]:
    """Per month the net dollars of each category slot c0..c6; the slot names; category totals."""
    totals: dict[str, int] = {}
    for x in lines:
        cat = x.key.split("|", 1)[1]
        totals[cat] = totals.get(cat, 0) + x.net_cents
    ranked = sorted(totals, key=lambda c: (-totals[c], c))
    slot = {c: (i if i < STACK_SLOTS - 1 or len(ranked) == STACK_SLOTS else STACK_SLOTS - 1)
            for i, c in enumerate(ranked)}
    names = [""] * STACK_SLOTS
    for c, i in slot.items():
        names[i] = c if names[i] == "" else "Other"
    per_month = {m: [0] * STACK_SLOTS for m in months}
    for x in lines:
        month, cat = x.key.split("|", 1)
        per_month.setdefault(month, [0] * STACK_SLOTS)[slot[cat]] += x.net_cents
    chart = [{"month": m, **{f"c{i}": cents[i] / 100 for i in range(STACK_SLOTS)}} for m, cents in
             sorted(per_month.items())]
    return chart, names, [{"category": c, "net": money(totals[c])} for c in ranked]


def _blank(n: int | None) -> int | str:
    return "" if n is None else n


def _pct_round(ratio: float | None) -> float | None:
    return None if ratio is None else round(ratio * 100, 1)


def _pct_num(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio * 100:.1f}"


def _dollars(cents: int) -> Decimal:
    """Cents as an exact dollar amount for CSV: -5000 -> Decimal("-50.00")."""
    return Decimal(cents).scaleb(-2)


def summary(engine: Engine, actor: Actor, *, start: date, end: date, location_id: int | None, now: datetime,
            head: bool = True, history: bool = True) -> Summary:
    """The tiles (with the previous period) and every chart's data for the filter; the page
    asks for head=True, history=False first, then head=False, history=True (see _compute)."""
    with tenant_session(actor.org_id, engine) as s:
        tune_report_session(s)
        with _clinic_currency(s, actor.org_id):
            return _compute(s, actor, _kw(start, end, location_id, now), head=head, history=history)


REPORTS = ("tiles", "utilization", "revenue", "top_services", "resources", "trend", "hours", "retention")
HISTORY_REPORTS = ("revenue", "trend", "retention")  # the 12/24-month charts (_compute's `history`)


def report_csv(engine: Engine, actor: Actor, name: str, *, start: date, end: date, location_id: int | None,
               now: datetime) -> str:
    """One chart's figures (no client names) as CSV text."""
    if name not in REPORTS:
        raise ValueError(f"unknown report {name!r}")
    history = name in HISTORY_REPORTS  # compute only the half of the dashboard the report is in
    header, rows = summary(engine, actor, start=start, end=end, location_id=location_id, now=now,
                           head=not history, history=history).reports[name]
    return to_csv(header, rows)


def to_csv(header: list[str], rows: Iterable[Iterable]) -> str:
    """RFC 4180 text (CRLF, quoted where needed); text cells that look like a formula get a
    leading quote (the audit export's guard); numbers (a negative amount) are written as is."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow([csv_cell(h) for h in header])
    for row in rows:
        w.writerow([c if isinstance(c, (int, float, Decimal)) else csv_cell(c) for c in row])
    return buf.getvalue()


# --------------------------------------------------------------------------- drill-down


@dataclass(frozen=True)
class DrillLine:
    """One row of a drill-down as shown: the visit (or ledger line) and what it counts for."""

    when: str
    client: str
    service: str
    provider: str
    location: str
    what: str
    value: str


@dataclass(frozen=True)
class Drill:
    """The rows behind one figure; `summary` restates the figure their count or sum equals."""

    key: str
    arg: str
    title: str
    summary: str  # restates the figure and the total of all rows
    lines: list[DrillLine]
    rows: list[dt.DetailRow]
    notes: dict[int, tuple[str, str]]  # row id -> (what, value)


@dataclass(frozen=True)
class _Spec:
    """What a figure's drill needs: its rows (ids + notes), how to say the total, the title."""

    title: str
    kind: str  # appointment / ledger
    ids: list[int]
    notes: dict[int, tuple[str, str]]
    summary: str


def _status(st: str) -> str:
    return st.replace("_", " ")


def _spec_no_show(s, actor, kw, arg) -> _Spec:
    rows = an.no_show_rows(s, actor, **kw)
    n = sum(1 for _, st in rows if st == "no_show")
    return _Spec("Visits that were due", "appointment", [i for i, _ in rows],
                 {i: (_status(st), "") for i, st in rows},
                 f"{len(rows):,} visits due, {n:,} no-shows = {pct(an._ratio(n, len(rows)))}")


def _spec_cancellations(s, actor, kw, arg) -> _Spec:
    rows = an.cancellation_rows(s, actor, **kw)
    late = sum(1 for _, lt in rows if lt)
    return _Spec("Cancellations", "appointment", [i for i, _ in rows],
                 {i: ("cancelled", "late" if lt else "early") for i, lt in rows},
                 f"{len(rows):,} cancellations, {late:,} late")


def _util_spec(s, actor, kw, attended: bool, provider: int | None) -> _Spec:
    util = an.utilization(s, actor, **kw)
    ids, notes, total, avail = [], {}, 0, 0
    for u in util:
        if provider is not None and u.provider_id != provider:
            continue
        avail += u.available_minutes
        for i, m in an.utilization_rows(s, actor, **kw, provider_id=u.provider_id, attended_only=attended):
            ids.append(i)
            notes[i] = ("attended" if attended else "booked", f"{m} min")
            total += m
    what = "Attended" if attended else "Booked"
    return _Spec(f"{what} minutes", "appointment", ids, notes,
                 f"{len(ids):,} visits, {total:,} {what.lower()} minutes of {avail:,} available "
                 f"= {pct(an._ratio(total, avail))}")


def _spec_rebooking(s, actor, kw, arg) -> _Spec:
    rows = an.rebooking_rows(s, actor, **kw)
    n = sum(1 for _, r, _ in rows if r)
    return _Spec("Completed visits and their rebooking", "appointment", [i for i, _, _ in rows],
                 {i: ("rebooked" if r else "not rebooked", "before leaving" if b else "") for i, r, b in rows},
                 f"{len(rows):,} completed visits, {n:,} rebooked = {pct(an._ratio(n, len(rows)))}")


def _spec_new_clients(s, actor, kw, arg) -> _Spec:
    rows = an.new_client_rows(s, actor, **kw)
    return _Spec("New clients (their first completed visit)", "appointment", [a for _, a in rows],
                 {a: ("first visit", "") for _, a in rows}, f"{len(rows):,} new clients")


def _spec_revenue(s, actor, kw, arg) -> _Spec:
    rows = an.revenue_rows(s, actor, **kw, by="month")
    return _Spec("Ledger lines", "ledger", [i for i, _, _ in rows], {i: (_status(t), money(a)) for i, t, a in rows},
                 f"{len(rows):,} ledger lines, net {money(sum(a for _, _, a in rows))}")


def _spec_average_ticket(s, actor, kw, arg) -> _Spec:
    rows = [(i, ty, a) for i, ty, a in rv.revenue_rows(s, actor, **kw, by="month") if ty == "sale"]
    total = sum(a for _, _, a in rows)
    avg = money(rv._div_half_up(total, len(rows))) if rows else "—"
    return _Spec("Checkouts (sales)", "ledger", [i for i, _, _ in rows], {i: ("sale", money(a)) for i, _, a in rows},
                 f"{len(rows):,} checkouts, sales {money(total)} = {avg} average ticket")


def _spec_revenue_per_client(s, actor, kw, arg) -> _Spec:
    t = rv.ticket_summary(s, actor, **kw)
    rows = rv.revenue_rows(s, actor, **kw, by="month")
    total = sum(a for _, _, a in rows)
    per = money(rv._div_half_up(total, t.clients)) if t.clients else "—"
    return _Spec("Ledger lines and their clients", "ledger", [i for i, _, _ in rows],
                 {i: (_status(ty), money(a)) for i, ty, a in rows},
                 f"{len(rows):,} ledger lines of {t.clients:,} clients, net {money(total)} = {per} per client")


def _spec_category(s, actor, kw, arg) -> _Spec | None:
    w_start, w_end = trend_window(kw["end"])
    inner = {**kw, "start": w_start, "end": w_end}
    if not isinstance(arg, str) or arg not in {x.key for x in rv.revenue(s, actor, **inner, by="category")}:
        return None
    rows = rv.revenue_rows(s, actor, **inner, by="category", key=arg)
    return _Spec(f"{arg}: ledger lines, {w_start:%b %Y} – {w_end:%b %Y}", "ledger", [i for i, _, _ in rows],
                 {i: (_status(ty), money(a)) for i, ty, a in rows},
                 f"{len(rows):,} ledger lines, net {money(sum(a for _, _, a in rows))}")


def _spec_top_service(s, actor, kw, arg) -> _Spec | None:
    sid = _int(arg)
    match = [t for t in rv.top_services(s, actor, **kw, limit=100) if t.service_id == sid]
    if not match:
        return None
    rows = rv.top_service_rows(s, actor, **kw, service_id=sid)
    return _Spec(f"{match[0].name}: checkouts", "ledger", [i for i, _, _ in rows],
                 {i: ("sale", money(a)) for i, _, a in rows},
                 f"{len(rows):,} checkouts, sales {money(sum(a for _, _, a in rows))}")


def _int(arg: str) -> int | None:
    return ascii_int(arg, max_digits=11)


def _spec_resource(s, actor, kw, arg) -> _Spec | None:
    rid = _int(arg)
    match = [u for kind in an.RESOURCE_KINDS for u in an.resource_utilization(s, actor, **kw, kind=kind)
             if u.resource_id == rid]
    if not match:
        return None
    u = match[0]
    rows = an.resource_utilization_rows(s, actor, **kw, resource_id=u.resource_id)
    total = sum(m for _, m in rows)
    return _Spec(f"{u.name}: booked minutes", "appointment", [i for i, _ in rows],
                 {i: ("booked", f"{m} min") for i, m in rows},
                 f"{len(rows):,} visits, {total:,} booked minutes of {u.available_minutes:,} open "
                 f"= {pct(an._ratio(total, u.available_minutes))}")


def _month_point(s, actor, kw, month: str) -> tr.TrendPoint | None:
    w_start, w_end = trend_window(kw["end"])
    return next((p for p in tr.monthly_trend(s, actor, **{**kw, "start": w_start, "end": w_end})
                 if p.month == month), None)


def _spec_month(kind: str):
    def spec(s, actor, kw, arg) -> _Spec | None:
        p = _month_point(s, actor, kw, arg) if isinstance(arg, str) and len(arg) == 7 else None
        if p is None:
            return None
        inner = {**kw, "start": p.start, "end": p.end}
        base = {"no_show": _spec_no_show, "cancellations": _spec_cancellations, "rebooking": _spec_rebooking}[kind]
        out = base(s, actor, inner, "")
        return _Spec(f"{out.title}, {p.start:%B %Y}", out.kind, out.ids, out.notes, out.summary)
    return spec


def _spec_retention(s, actor, kw, arg) -> _Spec | None:
    parts = arg.split(":") if isinstance(arg, str) else []
    if len(parts) != 2 or _int(parts[1]) not in co.WINDOWS:
        return None
    month, days = parts[0], int(parts[1])
    r_start, r_end = retention_window(kw["end"])
    try:
        rows = co.retention_rows(s, actor, **{**kw, "start": r_start, "end": r_end}, month=month, within_days=days)
    except ValueError:
        return None
    back = sum(1 for _, _, r in rows if r)
    return _Spec(f"Clients of the {month} cohort (their first visit)", "appointment", [a for _, a, _ in rows],
                 {a: ("first visit", f"back within {days} days" if r else "not back") for _, a, r in rows},
                 f"{len(rows):,} clients, {back:,} came back within {days} days = {pct(an._ratio(back, len(rows)))}")


def _spec_hour(s, actor, kw, arg) -> _Spec | None:
    parts = arg.split("-") if isinstance(arg, str) else []
    if len(parts) != 2 or not all(_int(x) is not None for x in parts):
        return None
    wd, hour = int(parts[0]), int(parts[1])
    if not (0 <= wd <= 6 and 0 <= hour <= 23):
        return None
    ids = tr.busiest_hours_rows(s, actor, **kw, weekday=wd, hour=hour)
    return _Spec(f"Visits starting {WEEKDAYS[wd]} {hour:02d}:00-{hour:02d}:59", "appointment", ids,
                 {i: ("booked", "") for i in ids}, f"{len(ids):,} visits")


DRILLS: dict[str, Callable[[Session, Actor, dict, str], _Spec | None]] = {
    "no_show": _spec_no_show,
    "cancellations": _spec_cancellations,
    "booked_util": lambda s, a, kw, arg: _util_spec(s, a, kw, False, None),
    "attended_util": lambda s, a, kw, arg: _util_spec(s, a, kw, True, None),
    "provider_util": lambda s, a, kw, arg: _util_spec(s, a, kw, False, _int(arg)) if _int(arg) else None,
    "rebooking": _spec_rebooking,
    "new_clients": _spec_new_clients,
    "net_revenue": _spec_revenue,
    "average_ticket": _spec_average_ticket,
    "revenue_per_client": _spec_revenue_per_client,
    "revenue_category": _spec_category,
    "top_service": _spec_top_service,
    "resource_util": _spec_resource,
    "month_no_show": _spec_month("no_show"),
    "month_cancellations": _spec_month("cancellations"),
    "month_rebooking": _spec_month("rebooking"),
    "hour": _spec_hour,
    "retention": lambda s, a, kw, arg: _spec_retention(s, a, kw, arg),
}
TILE_KEYS = ("no_show", "cancellations", "booked_util", "attended_util", "rebooking", "new_clients", "net_revenue",
             "average_ticket", "revenue_per_client")


class UnknownFigure(ValueError):
    """The key (or its argument) names no figure of the dashboard."""


def _line(r: dt.DetailRow, note: tuple[str, str]) -> DrillLine:
    return DrillLine(r.local_time, r.client or "—", r.service, r.provider, r.location, note[0], note[1])


def _drill(s: Session, actor: Actor, key: str, arg: str, kw: dict, *, export: bool) -> Drill:
    fn = DRILLS.get(key)
    spec = fn(s, actor, kw, arg) if fn else None
    if spec is None:
        raise UnknownFigure(key)
    figure = f"{key}:{arg}" if arg else key
    filters = {"start": kw["start"], "end": kw["end"], "location_id": kw["location_id"]}
    load = dt.ledger_details if spec.kind == "ledger" else dt.appointment_details
    rows = load(s, actor, spec.ids, figure=figure, now=kw["now"], export=export, filters=filters)
    lines = [_line(r, spec.notes.get(r.id, ("", ""))) for r in rows]
    return Drill(key, arg, spec.title, spec.summary, lines, rows, spec.notes)


def drill(engine: Engine, actor: Actor, key: str, arg: str = "", *, start: date, end: date, location_id: int | None,
          now: datetime) -> Drill:
    """The rows behind figure `key` (+ `arg`, e.g. a provider id); one report.drill audit row."""
    with tenant_session(actor.org_id, engine) as s:
        tune_report_session(s)
        with _clinic_currency(s, actor.org_id):
            d = _drill(s, actor, key, arg, _kw(start, end, location_id, now), export=False)
        s.commit()
        return d


DRILL_HEADER = ["local_time", "client", "service", "category", "provider", "location", "status", "counts_as",
                "detail", "minutes", "amount", "appointment_id", "row_id"]


def drill_csv(engine: Engine, actor: Actor, key: str, arg: str = "", *, start: date, end: date,
              location_id: int | None, now: datetime) -> tuple[str, int]:
    """(CSV text of ALL rows behind the figure, row count); one report.export audit row."""
    with tenant_session(actor.org_id, engine) as s:
        tune_report_session(s)
        with _clinic_currency(s, actor.org_id):
            d = _drill(s, actor, key, arg, _kw(start, end, location_id, now), export=True)
        s.commit()
    body = to_csv(DRILL_HEADER, ([r.local_time, r.client, r.service, r.category, r.provider, r.location,
                                  _status(r.status), *d.notes.get(r.id, ("", "")), r.minutes,
                                  _dollars(r.amount_cents) if r.kind == "ledger" else "", r.appointment_id or "",
                                  f"{r.kind}-{r.id}"] for r in d.rows))
    return body, len(d.rows)
