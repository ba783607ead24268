"""State of the Locations tab of /settings (settings.write: owner and manager).

Every public handler is an entry point: it re-checks the session and the permission on the
server (StaffState._act), validates its arguments and calls one domain action
(practice/location_actions.py), which checks settings.write again and audits the change. A bad field
gets its message next to it and nothing is saved (details and hours go in one transaction).
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.errors import ValidationFailed
from medspa.domain.phones import display_phone
from medspa.domain.practice import location_actions as actions
from medspa.domain.practice.location_actions import LocationRow
from medspa.features.auth.state import Acted, StaffState
from medspa.features.settings.checklist import SettingsNavState
from medspa.features.settings.location_text import (
    DETAIL_FIELDS, FIELD_LIMIT, DayForm, SpanText, blank_details, closure_dates, default_hours, details_of,
    hours_form, hours_lines, parse_date, parse_details, parse_hours, policy_line, time_zones, visits_warning)

CHECK_FIELDS = "Check the fields marked in red"
GONE = "That location is not there any more"
MAX_SPANS = 4


@dataclasses.dataclass
class ClosureView:
    """A closure as listed: its dates, reason and the warning about visits it keeps."""

    id: int = 0
    dates: str = ""
    reason: str = ""
    warning: str = ""


# the card's lines and the Edit dialog's choices say the same (trial finding 14)
CARD_LINES = {False: "No card on file needed without a deposit", True: "Card on file required to book online"}
SERIES_LINES = {False: "Series deposit: first visit only", True: "Series deposit: each visit"}


@dataclasses.dataclass
class LocationView:
    """A location card."""

    id: int = 0
    name: str = ""
    address: str = ""
    time_zone: str = ""
    phone: str = ""
    window: str = ""
    hours: list[str] = dataclasses.field(default_factory=list)
    closures: list[ClosureView] = dataclasses.field(default_factory=list)
    cards: str = ""  # cards on file (issue 16): CARD_LINES, the words the Edit dialog's choice uses too
    series: str = ""  # recurring series (issue 16): which visits take the deposit, SERIES_LINES


def _view(row: LocationRow) -> LocationView:
    window = policy_line(row)
    closures = [ClosureView(c.id, closure_dates(c), c.reason, visits_warning(c.visits)) for c in row.closures]
    return LocationView(row.id, row.name, row.address, row.time_zone, display_phone(row.phone) if row.phone else "",
                        window, hours_lines(row), closures, CARD_LINES[row.card_required],
                        SERIES_LINES[row.series_deposit_each_visit])


class LocationsState(StaffState):
    """The locations, the add/edit dialog (details and hours) and the closure dialog."""

    loc_loaded: bool = False
    locations: list[LocationView] = []
    time_zones: list[str] = []
    loc_open: bool = False
    loc_editing_id: int = 0  # 0: a new location
    loc_form: dict[str, str] = {}
    hours: list[DayForm] = []
    loc_errors: dict[str, str] = {}
    loc_error: str = ""
    loc_message: str = ""
    loc_warning: str = ""
    closure_open: bool = False
    closure_location_id: int = 0
    closure_location_name: str = ""
    closure_form: dict[str, str] = {}
    loc_saving: bool = False
    _rows: dict[int, LocationRow] = {}

    @rx.var
    def hours_set(self) -> bool:
        """Whether the dialog's hours have any interval (none: providers' hours alone decide)."""
        return any(day.spans for day in self.hours)

    def _show(self, rows: list[LocationRow]) -> None:
        self._rows = {r.id: r for r in rows}
        self.locations = [_view(r) for r in rows]
        self.loc_loaded = True

    async def _reload(self) -> Acted:
        done = await self._act(actions.fetch_locations)
        if done.ok:
            self._show(done.value)
        return done

    def _refused(self, done: Acted):
        self.locations, self._rows, self.loc_open, self.closure_open = [], {}, False, False
        self.loc_error = done.error
        return done.redirect

    @rx.event
    async def load_locations(self):
        self.loc_message = self.loc_warning = self.loc_error = ""
        done = await self._reload()
        if not done.ok:
            return self._refused(done)
        self.time_zones = time_zones()

    def _open(self, form: dict[str, str], hours: list[DayForm], editing_id: int) -> None:
        self.loc_form, self.hours, self.loc_editing_id = form, hours, editing_id
        self.loc_errors, self.loc_error, self.loc_message, self.loc_warning = {}, "", "", ""
        self.loc_open = True

    @rx.event
    def new_location(self):
        if not self.loc_loaded:
            return
        zone = next(iter(self._rows.values())).time_zone if self._rows else "America/New_York"
        self._open(blank_details(zone), default_hours(), 0)

    @rx.event
    def edit_location(self, location_id: int):
        row = self._rows.get(location_id) if isinstance(location_id, int) else None
        if row is not None:
            self._open(details_of(row), hours_form(dict(row.hours)), row.id)

    @rx.event
    def close_location(self):
        self.loc_open, self.loc_errors = False, {}

    @rx.event
    def set_detail(self, name: str, value: str):
        if name in DETAIL_FIELDS and isinstance(value, str) and len(value) <= FIELD_LIMIT:
            self.loc_form[name] = value
            self.loc_errors.pop(name, None)

    def _day(self, weekday) -> DayForm | None:
        return self.hours[weekday] if isinstance(weekday, int) and 0 <= weekday < len(self.hours) else None

    @rx.event
    def set_span(self, weekday: int, index: int, which: str, value: str):
        day = self._day(weekday)
        if day is None or not isinstance(index, int) or not 0 <= index < len(day.spans) \
                or which not in ("start", "end") or not isinstance(value, str) or len(value) > 8:
            return
        setattr(day.spans[index], which, value)
        self.hours = list(self.hours)
        self.loc_errors.pop(f"hours-{weekday}", None)

    @rx.event
    def add_span(self, weekday: int):
        day = self._day(weekday)
        if day is None or len(day.spans) >= MAX_SPANS:
            return
        last = day.spans[-1].end if day.spans else ""
        day.spans.append(SpanText(last or "09:00", "18:00" if not last else ""))
        self.hours = list(self.hours)
        self.loc_errors.pop(f"hours-{weekday}", None)

    @rx.event
    def remove_span(self, weekday: int, index: int):
        day = self._day(weekday)
        if day is None or not isinstance(index, int) or not 0 <= index < len(day.spans):
            return
        day.spans.pop(index)
        self.hours = list(self.hours)
        self.loc_errors.pop(f"hours-{weekday}", None)

    @rx.event
    async def save_location(self):
        if not self.loc_open:
            return
        data, errors = parse_details(self.loc_form)
        weekly, hour_errors = parse_hours(self.hours)
        if data is None or weekly is None:
            self.loc_errors, self.loc_error = errors | hour_errors, CHECK_FIELDS
            return
        self.loc_saving = True
        try:
            done = await self._act(actions.do_save_location, self.loc_editing_id or None, data, weekly, denied=GONE)
        except ValidationFailed as exc:
            self.loc_errors, self.loc_error = dict(exc.fields), CHECK_FIELDS
            return
        finally:
            self.loc_saving = False
        if not done.ok:
            return self._refused(done)
        self.loc_open, self.loc_errors, self.loc_error = False, {}, ""
        self.loc_message = f"{done.value.name} was {'saved' if self.loc_editing_id else 'added'}"
        await self._reload()
        return SettingsNavState.refresh_steps

    @rx.event
    def new_closure(self, location_id: int):
        row = self._rows.get(location_id) if isinstance(location_id, int) else None
        if row is None:
            return
        self.closure_location_id, self.closure_location_name = row.id, row.name
        self.closure_form = {"start_date": "", "end_date": "", "reason": ""}
        self.loc_errors, self.loc_error, self.loc_message, self.loc_warning = {}, "", "", ""
        self.closure_open = True

    @rx.event
    def close_closure(self):
        self.closure_open, self.loc_errors = False, {}

    @rx.event
    def set_closure_field(self, name: str, value: str):
        if name in ("start_date", "end_date", "reason") and isinstance(value, str) and len(value) <= FIELD_LIMIT:
            self.closure_form[name] = value
            self.loc_errors.pop(name, None)

    @rx.event
    async def save_closure(self):
        if not self.closure_open:
            return
        start, end = parse_date(self.closure_form.get("start_date")), parse_date(self.closure_form.get("end_date"))
        errors = {k: "Enter a date like 2026-07-15" for k, v in (("start_date", start), ("end_date", end)) if v == "bad"}
        if errors:
            self.loc_errors, self.loc_error = errors, CHECK_FIELDS
            return
        try:
            done = await self._act(actions.do_add_closure, self.closure_location_id, start, end,
                                   self.closure_form.get("reason", ""), denied=GONE)
        except ValidationFailed as exc:
            self.loc_errors, self.loc_error = dict(exc.fields), CHECK_FIELDS
            return
        if not done.ok:
            return self._refused(done)
        self.closure_open, self.loc_errors, self.loc_error = False, {}, ""
        self.loc_message = f"{self.closure_location_name} is closed on {closure_dates(done.value)}: " \
                           "no slots are offered then"
        self.loc_warning = visits_warning(done.value.visits)
        await self._reload()

    @rx.event
    async def remove_closure(self, closure_id: int):
        known = {c.id for r in self._rows.values() for c in r.closures}
        if not isinstance(closure_id, int) or closure_id not in known:
            return
        done = await self._act(actions.do_remove_closure, closure_id, denied="That closure is not there any more")
        if not done.ok:
            return self._refused(done)
        self.loc_message, self.loc_warning, self.loc_error = "The closure was removed: open again on those days", "", ""
        await self._reload()
