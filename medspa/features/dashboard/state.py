"""State of `/dashboard`: the filter, the tiles and charts, one open drill-down, CSV downloads.

Owner and manager (report.read): every public handler re-checks the staff session and the
permission on the server (StaffState._act); anyone else gets "not found" and no data. Each
call runs one action of medspa.domain.analytics.actions through data.py (one transaction, in
a worker thread). Keys and arguments the browser sends (figure keys, provider ids, months,
cells) are checked by the domain's drill definitions; an unknown one does nothing.

Three states: `DashboardState` (the filter, the tiles and the range's charts),
`HeatmapState` (the busiest hours and the cohorts) and `DrillState` (one open drill-down and
the CSV download of its rows); the two substates read the filter of their parent.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import reflex as rx

from medspa.clock import app_clock
from medspa.features.auth.state import StaffState
from medspa.features.dashboard.timely import TimelyView, timely_views
from medspa.features.dashboard import data
from medspa.web.inputs import FIRST_YEAR, LAST_YEAR, ascii_int, iso_day
from medspa.features.choices import Option

DEFAULT_DAYS = 30
ALL = "all"
MAX_DAYS = 3 * 366
DRILL_SHOWN = 200  # rows on screen; the summary and the CSV cover all of them
EXPORT_MAX_ROWS = 100_000


@dataclasses.dataclass
class TileView:
    """One headline figure tile: value, change against the previous period, tone, detail, definition."""

    key: str = ""
    label: str = ""
    value: str = ""
    change: str = ""
    tone: str = "neutral"
    detail: str = ""
    definition: str = ""
    group: str = ""


@dataclasses.dataclass
class CellView:
    """One heatmap cell: text, colours, the drill it opens (key, arg; "" = none) and its tooltip."""

    text: str = ""
    bg: str = ""
    fg: str = ""
    key: str = ""
    arg: str = ""
    title: str = ""


@dataclasses.dataclass
class DrillRow:
    """One row of the open drill-down: the visit (or ledger line) and what it counts for."""

    when: str = ""
    client: str = ""
    service: str = ""
    provider: str = ""
    location: str = ""
    what: str = ""
    value: str = ""


def _is_iso_day(value: str) -> bool:
    """YYYY-MM-DD in any year (so an out-of-range year gets its own message)."""
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return len(value) == 10


def _today(zones: dict[str, str], location: str) -> date:
    """Today at the chosen location (else the first location; UTC without any)."""
    zone = zones.get(location) or next(iter(zones.values()), "UTC")
    return app_clock().now().astimezone(ZoneInfo(zone)).date()


class DashboardState(StaffState):
    """The filter, the tiles and the range's charts (module docstring); the heatmaps and the
    drill-down live in the substates HeatmapState and DrillState."""

    allowed: bool = False
    not_found: bool = False
    locations: list[Option] = []
    location: str = ALL
    start: str = ""
    end: str = ""
    period_note: str = ""
    tiles: list[TileView] = []
    visit_tiles: list[TileView] = []
    timely: list[TimelyView] = []  # issue 18: charts signed within 24 h / 72 h (features/dashboard/timely.py)
    client_tiles: list[TileView] = []
    money_tiles: list[TileView] = []
    util_chart: list[dict[str, str | float]] = []
    revenue_chart: list[dict[str, str | float]] = []
    categories: list[str] = []
    category_totals: list[dict[str, str]] = []
    top_services: list[dict[str, str]] = []
    resource_chart: list[dict[str, str | float]] = []
    trend_chart: list[dict[str, str | float | None]] = []
    trend_note: str = ""
    error: str = ""
    busy: bool = False
    _zones: dict[str, str] = {}

    async def _forget(self) -> None:
        self.allowed = False
        self.locations = []
        await self._clear_figures()
        self._zones = {}

    async def _clear_figures(self) -> None:
        """No figure stays on screen for another range than the date boxes show."""
        self.tiles, self.util_chart, self.revenue_chart = [], [], []
        self.visit_tiles, self.client_tiles, self.money_tiles, self.timely = [], [], [], []
        self.resource_chart, self.trend_chart = [], []
        self.categories, self.category_totals, self.top_services = [], [], []
        self.period_note, self.trend_note = "", ""
        (await self.get_state(HeatmapState))._clear()
        (await self.get_state(DrillState))._close()

    def _filters(self) -> dict | None:
        start, end = iso_day(self.start), iso_day(self.end)
        if not start or not end:
            typed = [v for v in (self.start, self.end) if v]
            self.error = (f"Choose dates between {FIRST_YEAR} and {LAST_YEAR}"
                          if len(typed) == 2 and all(_is_iso_day(v) for v in typed)
                          else "Choose both dates")
            return None
        if end < start:
            self.error = "The end date is before the start date"
            return None
        if (end - start).days > MAX_DAYS:
            self.error = "Choose at most three years"
            return None
        return {"start": start, "end": end, "location_id": ascii_int(self.location), "now": app_clock().now()}

    async def _denied(self) -> None:
        await self._forget()
        self.not_found = True

    async def _refused(self, done) -> bool:
        """True when `done` (an Acted) carries no value: signed out or not allowed (then the
        page shows "not found" and forgets every figure)."""
        if done.error:
            await self._denied()
        return not done.ok

    async def _reload(self):
        """After a filter change: show the spinner at once, then the two steps of _run."""
        self.busy = True
        yield
        async for update in self._run():
            yield update

    def _show_head(self, head: data.Summary) -> None:
        p0, p1 = head.previous
        self.period_note = (f"Compared with the previous {data.days_text((p1 - p0).days + 1)}, "
                            f"{p0:%b} {p0.day}, {p0.year} – {p1:%b} {p1.day}, {p1.year}")
        self.tiles = [TileView(t.key, t.label, t.value, t.change, t.tone, t.detail, t.definition, t.group)
                      for t in head.tiles]
        self.visit_tiles = [t for t in self.tiles if t.group == "visits"]
        self.client_tiles = [t for t in self.tiles if t.group == "clients"]
        self.money_tiles = [t for t in self.tiles if t.group == "money"]
        self.util_chart, self.resource_chart, self.top_services = head.utilization, head.resources, head.top_services

    def _show_history(self, result: data.Summary) -> None:
        self.revenue_chart, self.trend_chart = result.revenue, result.trend
        self.categories, self.category_totals = result.categories, result.category_totals
        if result.trend_window:
            w0, w1 = result.trend_window
            self.trend_note = f"{w0:%b %Y} – {w1:%b %Y} (the 12 local months up to the end date)"

    async def _run(self):
        """Load the figures of the filter in two steps, yielding between them so the page shows
        the tiles and the range's charts first, then the 12-month trends and revenue and the
        24-month cohorts (the slow part on years of data). Yields None, or the redirect to
        sign in. Use: `async for update in self._run(): yield update`."""
        filters = self._filters()
        if filters is None:
            await self._clear_figures()
            return
        self.busy = True
        done = await self._act(data.summary, **filters, history=False)
        if await self._refused(done):
            self.busy = False
            yield done.redirect
            return
        self.error = ""
        self._show_head(done.value)
        (await self.get_state(HeatmapState))._show_hours(done.value)
        self.timely = await timely_views(self, filters)  # issue 18: charts signed on time
        yield
        done = await self._act(data.summary, **filters, head=False)
        self.busy = False
        if await self._refused(done):
            yield done.redirect
            return
        self._show_history(done.value)
        (await self.get_state(HeatmapState))._show_cohorts(done.value)
        drill = await self.get_state(DrillState)
        if drill.drill_key:
            yield await drill._reopen(filters)

    @rx.event
    async def load(self):
        """on_load: locations, then the last 30 local days (the first location's zone)."""
        self.not_found = False
        done = await self._act(data.locations)
        if await self._refused(done):
            yield done.redirect
            return
        self._zones = {str(lid): zone for lid, _, zone in done.value}
        self.locations = [Option(ALL, "All locations")] + [Option(str(lid), name) for lid, name, _ in done.value]
        if self.location != ALL and self.location not in self._zones:
            self.location = ALL
        if not self.start or not self.end:
            today = _today(self._zones, self.location)
            self.start, self.end = (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(), today.isoformat()
        self.allowed = True
        async for update in self._run():
            yield update

    @rx.event
    async def set_location(self, value: str):
        """The location filter ("all" or one of the clinic's locations)."""
        if isinstance(value, str) and (value == ALL or value in self._zones):
            self.location = value
            async for update in self._reload():
                yield update

    @rx.event
    async def set_start(self, value: str):
        """The first local day of the range."""
        if isinstance(value, str) and len(value) <= 20:  # kept as typed: the box and the figures agree
            self.start = value
            async for update in self._reload():
                yield update

    @rx.event
    async def set_end(self, value: str):
        """The last local day of the range."""
        if isinstance(value, str) and len(value) <= 20:  # kept as typed: the box and the figures agree
            self.end = value
            async for update in self._reload():
                yield update

    @rx.event
    async def set_preset(self, days: int):
        """Quick ranges: the last `days` local days up to today."""
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            return
        today = _today(self._zones, self.location)
        self.start, self.end = (today - timedelta(days=days - 1)).isoformat(), today.isoformat()
        async for update in self._reload():
            yield update

    def _span(self, filters: dict) -> str:
        return f"{filters['start'].isoformat()}-{filters['end'].isoformat()}"

    @rx.event
    async def export_report(self, name: str):
        """Download one chart's figures (no client names) as CSV."""
        filters = self._filters()
        if filters is None or name not in data.REPORTS:
            return
        done = await self._act(data.report_csv, name, **filters)
        if await self._refused(done):
            return done.redirect
        return rx.download(data=done.value, filename=f"{name}-{self._span(filters)}.csv", mime_type="text/csv")


class HeatmapState(DashboardState):
    """The busiest-hours grid and the cohort heatmap of the filter (filled by DashboardState._run)."""

    hour_cells: list[CellView] = []
    hours_template: str = ""
    retention_cells: list[CellView] = []
    retention_note: str = ""

    def _clear(self) -> None:
        self.hour_cells, self.retention_cells, self.hours_template, self.retention_note = [], [], "", ""

    def _show_hours(self, head: data.Summary) -> None:
        self.hour_cells = [CellView(c.text, c.bg, c.fg, c.key, c.arg, c.title) for c in head.hours]
        self.hours_template = (f"44px repeat({head.hours_columns - 1}, minmax(26px, 1fr))"
                               if head.hours_columns else "")

    def _show_cohorts(self, result: data.Summary) -> None:
        self.retention_cells = [CellView(c.text, c.bg, c.fg, c.key, c.arg, c.title) for c in result.retention]
        if result.retention_window:
            r0, r1 = result.retention_window
            self.retention_note = f"Cohorts {r0:%b %Y} – {r1:%b %Y}; newest first"


class DrillState(DashboardState):
    """One open drill-down (the rows behind a figure) and the CSV download of all its rows."""

    drill_key: str = ""
    drill_arg: str = ""
    drill_title: str = ""
    drill_summary: str = ""
    drill_note: str = ""
    drill_rows: list[DrillRow] = []

    def _close(self) -> None:
        self.drill_key, self.drill_arg, self.drill_title, self.drill_summary, self.drill_note = "", "", "", "", ""
        self.drill_rows = []

    async def _drill(self, key: str, arg: str, filters: dict):
        """Open figure `key` (+ `arg`); returns the redirect to sign in, or None."""
        done = await self._act(data.drill, key, arg, **filters)
        if done.redirect is not None or done.error:
            if done.error:
                await self._denied()
            return done.redirect
        d = done.value
        self.drill_key, self.drill_arg, self.drill_title, self.drill_summary = key, arg, d.title, d.summary
        self.drill_rows = [DrillRow(*dataclasses.astuple(line)) for line in d.lines[:DRILL_SHOWN]]
        self.drill_note = (f"Showing the first {DRILL_SHOWN} of {len(d.lines):,} rows — export CSV for all."
                           if len(d.lines) > DRILL_SHOWN else "")
        return None

    async def _reopen(self, filters: dict):
        """The open drill-down again for new filters (closed when its figure is gone)."""
        try:
            return await self._drill(self.drill_key, self.drill_arg, filters)
        except data.UnknownFigure:
            self._close()
            return None

    @rx.event
    async def open_drill(self, key: str, arg: str = ""):
        """Open the rows behind a figure (a tile key, or a chart key with its argument)."""
        if not isinstance(key, str) or not isinstance(arg, str) or key not in data.DRILLS or len(arg) > 200:
            return
        filters = self._filters()
        if filters is not None:
            try:
                return await self._drill(key, arg, filters)
            except data.UnknownFigure:
                self._close()

    @rx.event
    async def close_drill(self):
        """Close the drill-down."""
        self._close()

    @rx.event
    async def export_drill(self):
        """Download ALL rows of the open drill-down as CSV (audited as report.export)."""
        filters = self._filters()
        if filters is None or not self.drill_key:
            return
        try:
            done = await self._act(data.drill_csv, self.drill_key, self.drill_arg, **filters)
        except data.UnknownFigure:
            return
        if await self._refused(done):
            return done.redirect
        name = self.drill_key + (f"-{self.drill_arg}" if self.drill_arg else "")
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name)[:60]
        return rx.download(data=done.value[0], filename=f"{safe}-{self._span(filters)}.csv", mime_type="text/csv")
