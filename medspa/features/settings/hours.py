"""/settings, Provider hours tab: a provider's weekly hours per location (several intervals a
day: the gaps are breaks), time off and extra shifts.

HoursState's public handlers are entry points: each re-checks the session and the permission
(StaffState._act) and calls one action of medspa/domain/practice/settings_actions.py (settings.write,
audited). The forms are text (hours_form.py parses them); a bad interval or field gets its
message next to it and nothing is saved. Visits already booked inside new time off stay: the
page says how many.
"""

from __future__ import annotations

import dataclasses
from zoneinfo import ZoneInfo

import reflex as rx

from medspa.domain.errors import ValidationFailed
from medspa.domain.practice import settings_actions as actions
from medspa.domain.practice.settings_actions import HoursSettings, TimeOffRow
from medspa.domain.practice.hours import MAX_INTERVALS, interval_key
from medspa.features.auth.state import Acted, StaffState
from medspa.features.settings.checklist import SettingsNavState
from medspa.features.settings.hours_form import DAY_NAMES, parse_time_off, parse_weekly, span_label, weekly_text
from medspa.features.settings.state import Choice

OFF_FIELDS = ("kind", "start_date", "start_time", "end_date", "end_time", "reason")
CHECK = "Check the fields marked in red"


@dataclasses.dataclass
class IntervalRow:
    """One interval of a day: key (the field name, "d2-0"), start and end as "HH:MM"."""

    key: str = ""
    weekday: int = 0
    index: int = 0
    start: str = ""
    end: str = ""


@dataclasses.dataclass
class DayRow:
    """A weekday with its intervals."""

    weekday: int = 0
    name: str = ""
    intervals: list[IntervalRow] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class TimeOffView:
    """One time-off or extra-shift entry as shown."""

    id: int = 0
    extra: bool = False
    label: str = ""
    reason: str = ""
    warning: str = ""


def _visits(n: int) -> str:
    return f"{n} visit{'s' if n != 1 else ''}"


def _entry(row: TimeOffRow, tz: ZoneInfo) -> TimeOffView:
    warning = f"{_visits(row.visits_inside)} already booked inside stay on the calendar: move or cancel them" \
        if row.visits_inside and row.kind == "off" else ""
    return TimeOffView(row.id, row.kind == "extra", span_label(row.starts_at, row.ends_at, tz), row.reason, warning)


def _blank_off() -> dict[str, str]:
    return {"kind": "off", "start_date": "", "start_time": "", "end_date": "", "end_time": "", "reason": ""}


class HoursState(StaffState):
    """The chosen provider's week at the chosen location and their upcoming exceptions."""

    hours_ok: bool = False
    hours_staff: list[Choice] = []
    hours_locations: list[Choice] = []
    staff_pick: str = ""
    location_pick: str = ""
    days: list[DayRow] = []
    hours_dirty: bool = False
    hours_errors: dict[str, str] = {}
    hours_message: str = ""
    hours_error: str = ""
    entries: list[TimeOffView] = []
    off_form: dict[str, str] = _blank_off()
    off_errors: dict[str, str] = {}
    off_message: str = ""
    off_warning: str = ""
    _week: list[list[list[str]]] = []
    _zones: dict[str, str] = {}

    def _tz(self) -> ZoneInfo:
        return ZoneInfo(self._zones.get(self.location_pick, "UTC"))

    def _show_week(self) -> None:
        self.days = [DayRow(d, DAY_NAMES[d], [IntervalRow(interval_key(d, i), d, i, a, b)
                                              for i, (a, b) in enumerate(spans)])
                     for d, spans in enumerate(self._week)]

    async def _reload_hours(self) -> Acted:
        staff = int(self.staff_pick) if self.staff_pick.isdigit() else None
        loc = int(self.location_pick) if self.location_pick.isdigit() else None
        done = await self._act(actions.fetch_hours_settings, staff, loc)
        self.hours_ok = done.ok
        if not done.ok:
            return done
        data: HoursSettings = done.value
        self.hours_staff = [Choice(str(i), n) for i, n in data.staff]
        self.hours_locations = [Choice(str(i), n) for i, n, _tz in data.locations]
        self._zones = {str(i): tz for i, _n, tz in data.locations}
        self.staff_pick = self.staff_pick or (self.hours_staff[0].value if self.hours_staff else "")
        self.location_pick = self.location_pick or (self.hours_locations[0].value if self.hours_locations else "")
        self._week = weekly_text(data.weekly)
        self._show_week()
        self.entries = [_entry(r, self._tz()) for r in data.time_off]
        self.hours_dirty, self.hours_errors = False, {}
        return done

    @rx.event
    async def load_hours(self):
        self.hours_message = self.hours_error = self.off_message = self.off_warning = ""
        done = await self._reload_hours()
        if done.redirect is not None:
            return done.redirect

    @rx.event
    async def pick(self, which: str, value: str):
        if not self.hours_ok or which not in ("staff", "location") or not isinstance(value, str):
            return
        options = self.hours_staff if which == "staff" else self.hours_locations
        if all(c.value != value for c in options):
            return
        if which == "staff":
            self.staff_pick = value
        else:
            self.location_pick = value
        self.hours_message = self.hours_error = self.off_message = self.off_warning = ""
        self.off_errors = {}
        done = await self._reload_hours()
        if done.redirect is not None:
            return done.redirect

    def _edit(self) -> None:
        self.hours_dirty, self.hours_message = True, ""
        self._show_week()

    @rx.event
    def set_interval(self, weekday: int, index: int, which: str, value: str):
        if not (isinstance(weekday, int) and 0 <= weekday < len(self._week) and isinstance(index, int)
                and 0 <= index < len(self._week[weekday]) and which in ("start", "end") and isinstance(value, str)
                and len(value) <= 8):
            return
        self._week[weekday][index][0 if which == "start" else 1] = value
        self.hours_errors.pop(interval_key(weekday, index), None)
        self._edit()

    @rx.event
    def add_interval(self, weekday: int):
        if not (isinstance(weekday, int) and 0 <= weekday < len(self._week)) \
                or len(self._week[weekday]) >= MAX_INTERVALS:
            return
        spans = self._week[weekday]
        start = spans[-1][1] if spans else "09:00"  # after the last one: the gap is the break
        self._week[weekday].append([start, ""] if spans else ["09:00", "17:00"])
        self._edit()

    @rx.event
    def remove_interval(self, weekday: int, index: int):
        if isinstance(weekday, int) and 0 <= weekday < len(self._week) and isinstance(index, int) \
                and 0 <= index < len(self._week[weekday]):
            self._week[weekday].pop(index)
            self.hours_errors = {}
            self._edit()

    @rx.event
    async def save_hours(self):
        if not self.hours_ok or not self.staff_pick.isdigit() or not self.location_pick.isdigit():
            return
        weekly, errors = parse_weekly(self._week)
        if weekly is None:
            self.hours_errors, self.hours_error = errors, CHECK
            return
        try:
            done = await self._act(actions.do_set_hours, int(self.staff_pick), int(self.location_pick), weekly)
        except ValidationFailed as exc:
            self.hours_errors, self.hours_error = dict(exc.fields), CHECK
            return
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.hours_error = done.error
            return
        await self._reload_hours()
        self.hours_error, self.hours_message = "", "Weekly hours saved: online booking uses them now"
        return SettingsNavState.refresh_steps

    @rx.event
    async def reset_hours(self):
        self.hours_error = self.hours_message = ""
        await self._reload_hours()

    @rx.event
    def set_off_field(self, name: str, value: str | list[str]):
        if name in OFF_FIELDS and isinstance(value, str) and len(value) <= 400:
            self.off_form[name] = value
            self.off_errors.pop(name, None)
            if name == "start_date" and not self.off_form.get("end_date"):
                self.off_form["end_date"] = value

    @rx.event
    async def add_off(self):
        if not self.hours_ok or not self.staff_pick.isdigit() or not self.location_pick.isdigit():
            return
        self.off_message = self.off_warning = ""
        data, errors = parse_time_off(self.off_form, int(self.staff_pick), int(self.location_pick), self._tz())
        if data is None:
            self.off_errors = errors
            return
        try:
            done = await self._act(actions.do_add_time_off, data)
        except ValidationFailed as exc:
            self.off_errors = dict(exc.fields)
            return
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.off_errors = {"start_date": done.error}
            return
        row: TimeOffRow = done.value
        self.off_form, self.off_errors = _blank_off(), {}
        what = "Extra shift" if row.kind == "extra" else "Time off"
        self.off_message = f"{what} added: {span_label(row.starts_at, row.ends_at, self._tz())}"
        if row.visits_inside and row.kind == "off":
            self.off_warning = f"{_visits(row.visits_inside)} already booked in this time stay on the calendar: " \
                               "move or cancel them."
        await self._reload_hours()

    @rx.event
    async def remove_off(self, entry_id: int):
        if not self.hours_ok or not isinstance(entry_id, int) or all(e.id != entry_id for e in self.entries):
            return
        done = await self._act(actions.do_remove_time_off, entry_id)
        if done.redirect is not None:
            return done.redirect
        self.off_warning = ""
        self.off_message = done.error or "Removed: the weekly hours apply again"
        await self._reload_hours()
