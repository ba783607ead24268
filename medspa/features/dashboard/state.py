"""State of `/dashboard`: the filter, the tiles and charts, one open drill-down.

Owner and manager (report.read): every public handler re-checks the staff session and the
permission on the server; anyone else gets "not found" and no data. The domain calls live
in data.py (one transaction each, in a worker thread).
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import reflex as rx

from medspa.clock import app_clock
from medspa.db import get_engine
from medspa.domain.analytics.service import PERMISSION
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.features.auth.state import StaffState
from medspa.features.dashboard import data

DEFAULT_DAYS = 30
ALL = "all"
MAX_DAYS = 3 * 366


@dataclasses.dataclass
class Option:
    value: str = ""
    label: str = ""


@dataclasses.dataclass
class TileView:
    key: str = ""
    label: str = ""
    value: str = ""
    detail: str = ""
    definition: str = ""


@dataclasses.dataclass
class DrillRow:
    id: str = ""
    what: str = ""
    value: str = ""


def _parse_day(value: str) -> date | None:
    try:
        day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None
    return day if day and 1900 <= day.year <= 9000 else None


class DashboardState(StaffState):
    allowed: bool = False
    not_found: bool = False
    locations: list[Option] = []
    location: str = ALL
    start: str = ""
    end: str = ""
    tiles: list[TileView] = []
    util_chart: list[dict[str, str | float]] = []
    revenue_chart: list[dict[str, str | float]] = []
    drill_key: str = ""
    drill_title: str = ""
    drill_summary: str = ""
    drill_rows: list[DrillRow] = []
    error: str = ""
    busy: bool = False
    _zones: dict[str, str] = {}

    async def _reader(self) -> tuple[Actor | None, object | None]:
        actor = await self._staff_actor()
        if actor is None:
            self._forget()
            return None, self._to_login()
        if not actor.can(PERMISSION):
            self._forget()
            self.not_found = True
            return None, None
        return actor, None

    def _forget(self) -> None:
        self.allowed = False
        self.locations, self.tiles, self.util_chart, self.revenue_chart = [], [], [], []
        self._close()
        self._zones = {}

    def _close(self) -> None:
        self.drill_key, self.drill_title, self.drill_summary, self.drill_rows = "", "", "", []

    def _filters(self) -> dict | None:
        start, end = _parse_day(self.start), _parse_day(self.end)
        if not start or not end:
            self.error = "Choose both dates"
            return None
        if end < start:
            self.error = "The end date is before the start date"
            return None
        if (end - start).days > MAX_DAYS:
            self.error = "Choose at most three years"
            return None
        loc = int(self.location) if self.location.isdigit() else None
        return {"start": start, "end": end, "location_id": loc, "now": app_clock().now()}

    async def _run(self, actor: Actor) -> None:
        filters = self._filters()
        if filters is None:
            return
        self.busy = True
        try:
            result = await asyncio.to_thread(data.summary, get_engine(), actor, **filters)
        except PermissionDenied:
            self._forget()
            self.not_found = True
            return
        finally:
            self.busy = False
        self.error = ""
        self.tiles = [TileView(t.key, t.label, t.value, t.detail, t.definition) for t in result.tiles]
        self.util_chart, self.revenue_chart = result.utilization, result.revenue
        if self.drill_key:
            await self._drill(actor, self.drill_key, filters)

    async def _drill(self, actor: Actor, key: str, filters: dict) -> None:
        try:
            d = await asyncio.to_thread(data.drill, get_engine(), actor, key, **filters)
        except PermissionDenied:
            self._forget()
            self.not_found = True
            return
        self.drill_key, self.drill_title, self.drill_summary = key, d.title, d.summary
        self.drill_rows = [DrillRow(*r) for r in d.rows]

    @rx.event
    async def load(self):
        """on_load: locations, then the last 30 local days (the first location's zone)."""
        self.not_found = False
        actor, redirect = await self._reader()
        if actor is None:
            return redirect
        locs = await asyncio.to_thread(data.locations, get_engine(), actor)
        self._zones = {str(lid): zone for lid, _, zone in locs}
        self.locations = [Option(ALL, "All locations")] + [Option(str(lid), name) for lid, name, _ in locs]
        if self.location != ALL and self.location not in self._zones:
            self.location = ALL
        if not self.start or not self.end:
            zone = self._zones.get(self.location) or next(iter(self._zones.values()), "UTC")
            today = app_clock().now().astimezone(ZoneInfo(zone)).date()
            self.start, self.end = (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(), today.isoformat()
        self.allowed = True
        await self._run(actor)

    @rx.event
    async def set_location(self, value: str):
        actor, redirect = await self._reader()
        if actor is None:
            return redirect
        if value == ALL or value in self._zones:
            self.location = value
            await self._run(actor)

    @rx.event
    async def set_start(self, value: str):
        actor, redirect = await self._reader()
        if actor is None:
            return redirect
        if _parse_day(value):
            self.start = value
            await self._run(actor)

    @rx.event
    async def set_end(self, value: str):
        actor, redirect = await self._reader()
        if actor is None:
            return redirect
        if _parse_day(value):
            self.end = value
            await self._run(actor)

    @rx.event
    async def open_drill(self, key: str):
        actor, redirect = await self._reader()
        if actor is None:
            return redirect
        if key not in data.TILE_KEYS:
            return
        filters = self._filters()
        if filters is not None:
            await self._drill(actor, key, filters)

    @rx.event
    async def close_drill(self):
        actor, redirect = await self._reader()
        if actor is None:
            return redirect
        self._close()
