"""Moving a visit on the staff calendar: a drag and drop on the day or week grid.

The browser only names what was dropped where (dnd.py); both ids are checked against what
this tab's server state showed, the new start is worked out here from the grid (snapped to
SLOT_MINUTES) and the action re-checks availability. A refused move leaves the visit where it
was (nothing changed on the server) and shows the reason above the grid; a move commits and
the database's notification redraws every open calendar (medspa.live).
"""

from __future__ import annotations

import math
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import reflex as rx

from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.permissions import has_permission
from medspa.domain.scheduling.actions.reschedule import do_move_visit, fetch_edit_options
from medspa.domain.scheduling.reschedule import MoveRefused
from medspa.domain.scheduling.service import InvalidTransition
from medspa.domain.timezones import format_clinic_clock, local_midnight, wall_to_utc
from medspa.features.auth.state import StaffState
from medspa.features.calendar.layout import PX_PER_MINUTE, SLOT_MINUTES, detail_view, parse_day
from medspa.features.calendar.state import CalendarState, DetailState
from medspa.web.auth import STAFF_ROLES
from medspa.web.inputs import ascii_int

# roles that see visits as draggable and the panel's Edit (the action checks the permission again)
MOVE_ROLES = [r for r in sorted(STAFF_ROLES) if has_permission(r, "appointment.reschedule")]
GONE = "That visit can no longer be moved here. The calendar shows it as it is now."
ROOMS_VIEW = "In the rooms view a visit moves in time only: change its room or device with Edit in its panel."
MAX_DRAG_PX = 40_000  # a day is 1440 min x 1.6 px; anything beyond is no drag


def _drop_px(value: object) -> float | None:
    """The vertical drag distance in px the browser sent (a finite number), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and abs(value) <= MAX_DRAG_PX else None


def _target_cell(target_id: str) -> tuple[int, str] | None:
    """("w<provider id>_<YYYY-MM-DD>") -> (provider id, ISO day), else None."""
    column, _, day = target_id[1:].partition("_")
    column_id = ascii_int(column)
    return (column_id, day) if target_id.startswith("w") and column_id and len(day) == 10 else None


class MoveState(StaffState):
    """A drop on the grid: the visit moved, or the reason it could not."""

    moves: int = 0  # answered drops: the grid redraws dropped blocks from state when it changes
    refused: str = ""  # why the last drop was refused, shown above the grid
    nearby: str = ""  # the nearest free starts then ("11:30 AM, 12:00 PM"), when the action found some
    busy: bool = False

    @rx.event
    async def drop(self, item_id: str, target_id: str, dy: int):
        """A visit dropped on the day grid (target "c<column id>", dy = px dragged down) or the
        week grid (target "w<provider id>_<day>": the same local time that day)."""
        px = _drop_px(dy)
        cal = await self.get_state(CalendarState)
        planned = None
        if isinstance(item_id, str) and isinstance(target_id, str) and px is not None and len(item_id) <= 60 \
                and len(target_id) <= 60:
            planned = (await self._week_drop(cal, item_id, target_id) if cal.span == "week"
                       else self._day_drop(cal, item_id, target_id, px))
        if planned is None or isinstance(planned, str):
            self.moves += 1  # the dropped block goes back where it was
            self.refused = planned or self.refused
            if await self._staff_actor() is None:
                yield self._to_login()
            return
        appointment_id, start_at, provider_id, was = planned
        self.busy, self.nearby = True, ""
        yield
        outcome = await self._move(appointment_id, start_at, provider_id, was)
        self.busy, self.moves = False, self.moves + 1
        if outcome is not None:
            yield outcome

    def _day_drop(self, cal: CalendarState, item_id: str, target_id: str, px: float):
        """(appointment id, start, provider id or None, current start) of a drop on the day grid; a sentence when
        the drop cannot be a move; None when the ids are not what this tab shows."""
        block = next((b for b in cal.day_data.blocks if b.drag_id == item_id and b.movable), None)
        column = next((c for c in cal.day_data.columns if f"c{c.id}" == target_id), None)
        day = parse_day(cal.day, None)
        if block is None or column is None or day is None or not cal.time_zone:
            return None
        minute = round((block.minute + px / PX_PER_MINUTE) / SLOT_MINUTES) * SLOT_MINUTES
        minute = max(0, min(minute, cal.day_minutes - SLOT_MINUTES))
        same_column = block.home == target_id
        if same_column and minute == block.minute:
            return None  # dropped where it was: nothing to do
        if not same_column and cal.view != "providers":
            return ROOMS_VIEW
        midnight = local_midnight(day, ZoneInfo(cal.time_zone))
        start, now_at = midnight + timedelta(minutes=minute), midnight + timedelta(minutes=block.minute)
        return block.appointment_id, start, None if same_column else column.id, now_at

    async def _week_drop(self, cal: CalendarState, item_id: str, target_id: str):
        """(appointment id, start, provider id or None, current start) of a chip dropped on another week cell:
        the visit keeps its local start time; None when the ids are not what this tab shows."""
        appointment_id = ascii_int(item_id[1:]) if item_id.startswith("a") else None
        chip = next((ch for row in cal.week_data.rows for cell in row.cells for ch in cell.chips
                     if ch.appointment_id == appointment_id and ch.movable), None)
        cell = _target_cell(target_id)
        shown = cell is not None and any(row.column.id == cell[0] and any(c.day == cell[1] for c in row.cells)
                                         for row in cal.week_data.rows)
        if chip is None or not shown or chip.home == target_id:
            return None
        done = await self._act(fetch_edit_options, chip.appointment_id)
        if not done.ok:
            return None if done.redirect else GONE
        options = done.value
        hour, minute = (ascii_int(p) or 0 for p in options.start_local.split(":")[:2])
        zone = ZoneInfo(options.time_zone)
        start = wall_to_utc(parse_day(cell[1], None), time(hour % 24, minute % 60), zone)
        same_provider = chip.home.partition("_")[0] == f"w{cell[0]}"
        return chip.appointment_id, start, None if same_provider else cell[0], wall_to_utc(
            options.day, time(hour % 24, minute % 60), zone)

    async def _move(self, appointment_id: int, start_at, provider_id: int | None, was):
        """Run the move; show the outcome (a toast, or the reason above the grid with the nearest
        free starts but the visit's own, `was`)."""
        try:
            done = await self._act(do_move_visit, appointment_id, start_at=start_at, provider_id=provider_id,
                                   denied=GONE)
        except MoveRefused as exc:
            zone = (await self.get_state(CalendarState)).time_zone
            self.refused = exc.reason
            free = [a.start for a in exc.alternatives if a.start != was][:4]
            self.nearby = ", ".join(format_clinic_clock(a, zone) for a in free) if zone else ""
            return None
        except (InvalidTransition, ValidationFailed) as exc:
            self.refused = "; ".join(exc.fields.values()) if isinstance(exc, ValidationFailed) else str(exc)
            return None
        if done.redirect:
            return done.redirect
        if done.error:
            self.refused = done.error
            return None
        self.refused = ""
        moved = done.value
        await (await self.get_state(CalendarState))._reload(done.actor)  # this tab at once; the others live
        detail = await self.get_state(DetailState)
        if detail.panel_open and detail.detail.id == moved.id:
            detail.detail = detail_view(moved)
        when = moved.time_label.split(" (")[0]  # "11:30 AM – 12:00 PM EDT", without the zone's name
        return rx.toast.success(f"Moved: {moved.client_name} · {moved.date_label} · {when} · {moved.provider_name}")

    @rx.event
    def dismiss(self):
        """Hide the refusal above the grid."""
        self.refused = self.nearby = ""
