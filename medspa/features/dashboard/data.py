"""The dashboard's figures as the page shows them: one domain action per call, then formatting.

No Reflex and no database here: each function calls ONE action of
medspa.domain.analytics.actions (one transaction, run by the state in a worker thread via
StaffState._act) and shapes its answer with fmt.py:

- `summary`: the headline tiles (each with its change against the previous period of the
  same number of days) and the data of every chart;
- `drill`: the rows behind one figure (a tile, a bar, a month, a heatmap cell), as dated rows
  with client, service, provider and location (audited once by the action); the summary
  line restates the figure and the total of ALL rows (count or sum equal to the figure);
- `drill_csv` / `report_csv`: the same rows, or a chart's figures, as CSV (RFC 4180, the
  audit page's formula guard).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from medspa.domain.analytics import actions
from medspa.domain.analytics import details as dt
from medspa.domain.analytics.common import _ratio
from medspa.domain.analytics.dashboard import DashboardFigures, Figures, previous_range, rebooking_open
from medspa.domain.analytics.dashboard import retention_window, trend_window  # noqa: F401  (re-exported)
from medspa.domain.analytics.definitions import DEFINITIONS
from medspa.domain.analytics.drills import DRILLS, WEEKDAYS, UnknownFigure  # noqa: F401  (re-exported)
from medspa.domain.identity.actor import Actor
from medspa.features.dashboard.fmt import (  # noqa: F401  (re-exported for the state and tests)
    BAD, GOOD, NEUTRAL, RETENTION_COLUMNS, Cell, Tile, _blank, _dollars, _hours_grid, _pct_num, _pct_round,
    _retention_grid, _stacked, change, clinic_currency, days_text, money, pct, shade, to_csv)

TILE_KEYS = ("no_show", "cancellations", "booked_util", "attended_util", "rebooking", "new_clients", "net_revenue",
             "average_ticket", "revenue_per_client")


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


def _tiles(cur: Figures, prev: Figures, days: int, *, rebooking_open: bool = False) -> list[Tile]:
    """The nine headline tiles of a period (`cur`) against the one before it (`prev`)."""
    d = DEFINITIONS

    def tile(key, label, group, value, kind, now_v, prev_v, better_up, detail) -> Tile:
        text, tone = change(kind, now_v, prev_v, higher_is_better=better_up, days=days)
        return Tile(key, label, value, text, tone, detail, d[key], group)

    booked, attended = _ratio(cur.booked, cur.available), _ratio(cur.attended, cur.available)
    return [
        tile("no_show", "No-show rate", "visits", pct(cur.no_show.rate), "rate", cur.no_show.rate,
             prev.no_show.rate, False, f"{cur.no_show.no_shows:,} no-shows of {cur.no_show.due:,} due"),
        tile("cancellations", "Cancellations", "visits", f"{cur.cancellations.count:,}", "count",
             cur.cancellations.count, prev.cancellations.count, False,
             f"{cur.cancellations.late:,} late · {cur.cancellations.early:,} early"),
        tile("booked_util", "Booked utilization", "visits", pct(booked), "rate", booked,
             _ratio(prev.booked, prev.available), True, f"{cur.booked:,} of {cur.available:,} min"),
        tile("attended_util", "Attended utilization", "visits", pct(attended), "rate", attended,
             _ratio(prev.attended, prev.available), True, f"{cur.attended:,} of {cur.available:,} min"),
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




def locations(actor: Actor, *, engine=None) -> list[tuple[int, str, str]]:
    """(id, name, IANA zone) of the clinic's locations (report.read)."""
    return [(x.id, x.name, x.time_zone) for x in actions.fetch_report_locations(actor, engine=engine)]


def _resource_name(u, several_locations: bool) -> str:
    """A room's or device's name; "Room 1 · Downtown" when the rows stand at several locations."""
    return f"{u.name} · {u.location}" if several_locations and u.location else u.name


def _head_charts(f: DashboardFigures) -> dict:
    """The tiles and the range's charts of `f` (filled when the head was asked for)."""
    if f.current is None or f.prior is None:
        return {"tiles": [], "utilization": [], "top_services": [], "resources": [], "hours": [], "hours_columns": 0}
    names = f.provider_names
    hours, hours_columns = _hours_grid(f.hours)
    return {
        "tiles": _tiles(f.current, f.prior, f.days, rebooking_open=rebooking_open(f.end, f.now)),
        "utilization": [{"id": str(u.provider_id), "name": names.get(u.provider_id, f"#{u.provider_id}"),
                         "booked": round((u.booked or 0) * 100, 1), "attended": round((u.attended or 0) * 100, 1)}
                        for u in f.utilization if u.available_minutes or u.booked_minutes],
        "resources": [{"id": str(u.resource_id), "name": _resource_name(u, f.several_locations), "kind": u.kind,
                       "booked": round((u.booked or 0) * 100, 1), "attended": round((u.attended or 0) * 100, 1)}
                      for u in f.resources if u.available_minutes or u.booked_minutes],
        "top_services": [{"id": str(t.service_id), "name": t.name, "category": t.category,
                          "checkouts": f"{t.checkouts:,}", "sales": money(t.sales_cents)} for t in f.top_services],
        "hours": hours, "hours_columns": hours_columns,
    }


def _trend_rows(f: DashboardFigures) -> list[dict]:
    """Per month of the trend window: rates in percent (None: a gap) and their texts."""
    return [{"month": p.month, "no_show": _pct_round(p.no_show_rate),
             "cancellation": _pct_round(p.cancellation_rate),
             "late_cancellation": _pct_round(_ratio(p.late_cancellations, p.scheduled)),
             "rebooking": _pct_round(p.rebooking_rate), "before_leaving": _pct_round(p.before_leaving_rate),
             "no_show_text": f"{pct(p.no_show_rate)} ({p.no_shows:,} of {p.due:,})",
             "cancel_text": f"{pct(p.cancellation_rate)} ({p.cancellations:,} of {p.scheduled:,}, "
                            f"{p.late_cancellations:,} late)",
             "rebook_text": f"{pct(p.rebooking_rate)} ({p.rebooked:,} of {p.completed:,})"
                            + (" · still open" if rebooking_open(p.end, f.now) else "")} for p in f.trend]


def _head_reports(f: DashboardFigures, tiles: list[Tile]) -> dict[str, tuple[list[str], list[list]]]:
    names = f.provider_names
    return {
        "tiles": (["figure", "value", "change", "detail", "definition"],
                  [[t.label, t.value, t.change, t.detail, t.definition] for t in tiles]),
        "utilization": (["provider", "available_minutes", "booked_minutes", "attended_minutes", "booked_pct",
                         "attended_pct"],
                        [[names.get(u.provider_id, f"#{u.provider_id}"), u.available_minutes, u.booked_minutes,
                          u.attended_minutes, _pct_num(u.booked), _pct_num(u.attended)] for u in f.utilization]),
        "top_services": (["service", "category", "checkouts", "sales"],
                         [[t.name, t.category, t.checkouts, _dollars(t.sales_cents)] for t in f.top_services]),
        "resources": (["kind", "name", "available_minutes", "booked_minutes", "attended_minutes", "booked_pct",
                       "attended_pct"],
                      [[u.kind, _resource_name(u, f.several_locations), u.available_minutes, u.booked_minutes,
                        u.attended_minutes, _pct_num(u.booked), _pct_num(u.attended)] for u in f.resources]),
        "hours": (["weekday", "hour", "visits"], [[WEEKDAYS[c.weekday], f"{c.hour:02d}:00", c.visits]
                                                   for c in f.hours]),
    }


def _history_reports(f: DashboardFigures) -> dict[str, tuple[list[str], list[list]]]:
    return {
        "revenue": (["month", "category", "deposits", "sales", "deposits_applied", "refunds", "fees", "net"],
                    [[*x.key.split("|", 1), _dollars(x.deposits_cents), _dollars(x.sales_cents),
                      _dollars(x.applied_cents), _dollars(x.refunds_cents), _dollars(x.fees_cents),
                      _dollars(x.net_cents)] for x in f.revenue_by_category]),
        "trend": (["month", "first_day", "last_day", "due", "no_shows", "no_show_pct", "scheduled", "cancellations",
                   "late_cancellations", "cancellation_pct", "completed", "rebooked", "rebooked_before_leaving",
                   "rebooking_pct", "before_leaving_pct"],
                  [[p.month, p.start.isoformat(), p.end.isoformat(), p.due, p.no_shows, _pct_num(p.no_show_rate),
                    p.scheduled, p.cancellations, p.late_cancellations, _pct_num(p.cancellation_rate), p.completed,
                    p.rebooked, p.rebooked_before_leaving, _pct_num(p.rebooking_rate),
                    _pct_num(p.before_leaving_rate)] for p in f.trend]),
        "retention": (["cohort", "clients", "returned_90", "returned_180", "returned_365", "pct_90", "pct_180",
                       "pct_365"],
                      [[c.month, c.size, _blank(c.returned_90), _blank(c.returned_180), _blank(c.returned_365),
                        _pct_num(c.rate_90), _pct_num(c.rate_180), _pct_num(c.rate_365)]
                       for c in f.cohorts if c.size]),
    }


def _shape(f: DashboardFigures) -> Summary:
    """The page's view of the raw figures `f` (in the clinic's currency)."""
    head = _head_charts(f)
    chart_rev, categories, cat_totals = _stacked(f.revenue_by_category, [p.month for p in f.trend])
    reports = {**_head_reports(f, head["tiles"]), **_history_reports(f)}
    return Summary(head["tiles"], f.previous, head["utilization"], chart_rev, categories, cat_totals,
                   head["top_services"], head["resources"], _trend_rows(f), f.trend_window, head["hours"],
                   head["hours_columns"], _retention_grid(f.cohorts), f.retention_window, reports)


def summary(actor: Actor, *, start: date, end: date, location_id: int | None, now: datetime,
            head: bool = True, history: bool = True, engine=None) -> Summary:
    """The tiles (with the previous period) and every chart's data for the filter; the page
    asks for head=True, history=False first, then head=False, history=True (state._run).
    Raises PermissionDenied without report.read."""
    f = actions.fetch_dashboard(actor, start=start, end=end, location_id=location_id, now=now, head=head,
                                history=history, engine=engine)
    with clinic_currency(f.currency):
        return _shape(f)


REPORTS = ("tiles", "utilization", "revenue", "top_services", "resources", "trend", "hours", "retention")
HISTORY_REPORTS = ("revenue", "trend", "retention")  # the 12/24-month charts (_compute's `history`)


def report_csv(actor: Actor, name: str, *, start: date, end: date, location_id: int | None, now: datetime,
               engine=None) -> str:
    """One chart's figures (no client names) as CSV text; ValueError for an unknown `name`."""
    if name not in REPORTS:
        raise ValueError(f"unknown report {name!r}")
    history = name in HISTORY_REPORTS  # compute only the half of the dashboard the report is in
    header, rows = summary(actor, start=start, end=end, location_id=location_id, now=now,
                           head=not history, history=history, engine=engine).reports[name]
    return to_csv(header, rows)


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




def _line(r: dt.DetailRow, note: tuple[str, str]) -> DrillLine:
    return DrillLine(r.local_time, r.client or "—", r.service, r.provider, r.location, note[0], note[1])


def drill(actor: Actor, key: str, arg: str = "", *, start: date, end: date, location_id: int | None,
          now: datetime, engine=None) -> Drill:
    """The rows behind figure `key` (+ `arg`, e.g. a provider id); one report.drill audit row.
    Raises UnknownFigure, PermissionDenied."""
    d = actions.fetch_drill(actor, key, arg, start=start, end=end, location_id=location_id, now=now,
                            engine=engine)
    lines = [_line(r, d.notes.get(r.id, ("", ""))) for r in d.rows]
    return Drill(d.key, d.arg, d.title, d.summary, lines, d.rows, d.notes)


DRILL_HEADER = ["local_time", "client", "service", "category", "provider", "location", "status", "counts_as",
                "detail", "minutes", "amount", "appointment_id", "row_id"]


def _status(st: str) -> str:
    return st.replace("_", " ")


def drill_csv(actor: Actor, key: str, arg: str = "", *, start: date, end: date, location_id: int | None,
              now: datetime, engine=None) -> tuple[str, int]:
    """(CSV text of ALL rows behind the figure, row count); one report.export audit row."""
    d = actions.fetch_drill(actor, key, arg, start=start, end=end, location_id=location_id, now=now, export=True,
                            engine=engine)
    body = to_csv(DRILL_HEADER, ([r.local_time, r.client, r.service, r.category, r.provider, r.location,
                                  _status(r.status), *d.notes.get(r.id, ("", "")), r.minutes,
                                  _dollars(r.amount_cents) if r.kind == "ledger" else "", r.appointment_id or "",
                                  f"{r.kind}-{r.id}"] for r in d.rows))
    return body, len(d.rows)
