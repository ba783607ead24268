"""State of the "Edit visit" dialog opened from the calendar's side panel: date, start time
(the location's wall clock), provider, service, room or device and notes.

The keyboard's way to move a visit (the grid's drag and drop needs a pointer). The options
come from fetch_edit_options; what the form sends back is checked against them, and the
action re-checks availability: a conflict shows its reason in the dialog, nothing changed.
"""

from __future__ import annotations

import re
from datetime import time
from zoneinfo import ZoneInfo

import reflex as rx

from medspa.domain.clinical.health_record import REASON_MAX, HealthFlagged
from medspa.domain.errors import ValidationFailed
from medspa.domain.scheduling.actions.reschedule import do_edit_visit, fetch_edit_options
from medspa.domain.scheduling.actions.series import do_move_series
from medspa.domain.scheduling.reschedule import NOTES_MAX, MoveRefused, VisitChange
from medspa.domain.scheduling.service import InvalidTransition
from medspa.domain.timezones import wall_to_utc
from medspa.features.auth.state import StaffState
from medspa.features.calendar.book_health import BookHealthState, show_refusal
from medspa.features.calendar.layout import detail_view
from medspa.features.calendar.state import CalendarState, DetailState
from medspa.features.choices import Option
from medspa.web.inputs import clean_text, iso_day, parse_id

ANY_ROOM = "any"
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(:00)?")
# the action's field names -> the dialog's
_FIELD = {"start_at": "time", "start": "time", "day": "day", "provider_id": "provider", "provider": "provider",
          "service_id": "service", "service": "service", "room_id": "room", "room": "room", "notes": "notes"}


def _clock(value: object) -> time | None:
    """"HH:MM" (or "HH:MM:00") from a time input, on the 5-minute grid, else None."""
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    if match is None or int(match.group(2)) % 5:
        return None
    return time(int(match.group(1)), int(match.group(2)))


def _offered(value: object, options: list[Option]) -> int | None:
    """The id picked in a select, when it is one of the options offered, else None."""
    return parse_id(value) if isinstance(value, str) and any(o.value == value for o in options) else None


class EditVisitState(StaffState):
    """The edit dialog of the visit shown in the side panel."""

    dialog_open: bool = False
    title: str = ""
    zone: str = ""
    day: str = ""
    start: str = ""  # "HH:MM", the location's wall clock
    provider: str = ""
    service: str = ""
    room: str = ANY_ROOM
    notes: str = ""
    services: list[Option] = []
    providers: list[Option] = []
    rooms: list[Option] = []
    errors: dict[str, str] = {}
    reason: str = ""  # a conflict, in words ("Overlaps Maria Gomez's visit 2:00–3:00 pm")
    busy: bool = False
    _appointment_id: int = 0
    _time_zone: str = ""

    @rx.event
    async def open(self):
        """Open for the visit in the side panel (its id is the server's, never the browser's)."""
        detail = await self.get_state(DetailState)
        if not detail.panel_open or not detail.detail.id:
            return self._to_login() if await self._staff_actor() is None else None
        done = await self._act(fetch_edit_options, detail.detail.id)
        if done.redirect:
            return done.redirect
        if done.error:
            return rx.toast.error("This visit cannot be edited.")
        o = done.value
        self._appointment_id, self._time_zone = detail.detail.id, o.time_zone
        self.services = [Option(str(s.id), s.label) for s in o.services]
        self.providers = [Option(str(p.id), p.name) for p in o.providers]
        # rooms only: the device a service needs is found for the new time by itself
        self.rooms = [Option(ANY_ROOM, "Keep its room, or any free one")] + [
            Option(str(r.id), r.name) for r in o.rooms if r.kind == "room"]
        self.day, self.start, self.notes = o.day.isoformat(), o.start_local, o.notes or ""
        self.provider, self.service = str(o.provider_id), str(o.service_id)
        self.room = str(o.room_id) if o.room_id else ANY_ROOM
        self.title = f"{detail.detail.client_name} · {detail.detail.service_name}"
        self.zone = o.time_zone
        self.errors, self.reason, self.busy, self.dialog_open = {}, "", False, True
        (await self.get_state(BookHealthState)).flags = []  # a flag shows once this edit is refused for it

    @rx.event
    def set_open(self, value: bool):
        """The dialog's own close (Esc, outside click, Close)."""
        if not value:
            self.dialog_open, self.busy = False, False

    def _change(self, form: dict) -> VisitChange | None:
        """The typed change, checked against what was offered (errors by field, else the change)."""
        day, start = iso_day(form.get("day")), _clock(form.get("time"))
        # a select left untouched may be missing from the form: it keeps what the dialog showed
        provider = _offered(form.get("provider", self.provider), self.providers)
        service = _offered(form.get("service", self.service), self.services)
        room_value = form.get("room", self.room)
        room = None if room_value in (ANY_ROOM, "") else _offered(room_value, self.rooms)
        errors = {}
        if day is None:
            errors["day"] = "Pick a date."
        if start is None:
            errors["time"] = "Pick a start time on the 5-minute grid, e.g. 10:05."
        if provider is None:
            errors["provider"] = "Pick a provider from the list."
        if service is None:
            errors["service"] = "Pick a service from the list."
        if room is None and room_value not in (ANY_ROOM, ""):
            errors["room"] = "Pick a room or device from the list."
        self.errors = errors
        if errors or not self._time_zone:
            return None
        notes = clean_text(form.get("notes"), NOTES_MAX)
        return VisitChange(start_at=wall_to_utc(day, start, ZoneInfo(self._time_zone)), provider_id=provider,
                           service_id=service, room_id=room, notes=notes)

    @rx.event
    async def save(self, form: dict):
        """Save the dialog (form fields day, time, provider, service, room, notes)."""
        if not self.dialog_open or not self._appointment_id or not isinstance(form, dict):
            return None if await self._staff_actor() is not None else self._to_login()
        self.reason = ""
        change = self._change(form)
        if change is None:
            return None if await self._staff_actor() is not None else self._to_login()
        scope = form.get("scope", "one")
        self.busy = True
        try:
            if scope in ("following", "all"):  # a recurring series: the new time (and provider) on each date
                done = await self._act(do_move_series, self._appointment_id, scope, wall=_clock(form.get("time")),
                                       provider_id=change.provider_id, denied="This visit cannot be edited.")
            else:
                done = await self._act(do_edit_visit, self._appointment_id, change,
                                       override_reason=clean_text(form.get("health_reason"), REASON_MAX),
                                       denied="This visit cannot be edited.")
        except MoveRefused as exc:
            self.busy, self.reason = False, exc.reason
            return None
        except HealthFlagged as exc:  # the new service flags the client: the reason field shows
            await show_refusal(self, exc)
            return None
        except InvalidTransition as exc:
            self.busy, self.reason = False, str(exc)
            return None
        except ValidationFailed as exc:
            self.busy = False
            self.errors = {_FIELD[k]: v for k, v in exc.fields.items() if k in _FIELD}
            self.reason = "; ".join(v for k, v in exc.fields.items() if k not in _FIELD)
            return None
        self.busy = False
        if not done.ok:
            self.reason = done.error
            return done.redirect
        self.dialog_open = False
        detail = await self.get_state(DetailState)
        if detail.detail.id == self._appointment_id:
            detail.detail, detail.notice, detail.error = detail_view(done.value), "Visit changed", ""
        await (await self.get_state(CalendarState))._reload(done.actor)  # this tab at once; the others live
        return None
