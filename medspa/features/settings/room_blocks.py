"""/settings, Rooms and devices tab, "Out of service" card: block a room or device for a
time range with a reason (a laser's service visit, a deep clean), list the upcoming blocks and
lift one.

RoomBlocksState's public handlers are entry points: each re-checks the session and the
permission (StaffState._act) and calls one action of medspa/domain/practice/settings_actions.py,
which checks settings.write again and audits the change. Dates and times are the room's
location's local wall time; a bad field gets its message next to it and nothing is saved.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from zoneinfo import ZoneInfo

import reflex as rx

from medspa.domain.errors import ValidationFailed
from medspa.domain.practice import settings_actions as actions
from medspa.domain.practice.settings_actions import RoomBlockRow, RoomSettings
from medspa.domain.scheduling.blocks import RoomBlockInput
from medspa.domain.timezones import local_midnight, wall_to_utc
from medspa.features.auth.state import Acted, StaffState
from medspa.features.settings.hours_form import parse_date, parse_time, span_label
from medspa.features.settings.state import Choice
from medspa.web.inputs import parse_id

INVALID = "inset 0 0 0 1px var(--red-8)"
FIELDS = ("resource_id", "start_date", "start_time", "end_date", "end_time", "reason")
GONE = "That room, device or block is not there any more"


@dataclasses.dataclass
class BlockView:
    """One upcoming block: the room or device, when (local, e.g. "Wed 15 Jul, 09:00–12:00"), why."""

    id: int = 0
    name: str = ""
    when: str = ""
    reason: str = ""


def _blank() -> dict[str, str]:
    return {k: "" for k in FIELDS}


def parse_block(form: dict[str, str], tz: ZoneInfo | None) -> tuple[RoomBlockInput | None, dict[str, str]]:
    """The form -> RoomBlockInput in the room's time zone `tz` (None: no such room). An empty
    start time is the start of the day, an empty end time the end of the end day (default:
    the start day). Returns (None, {field: message}) for what cannot be read."""
    errors: dict[str, str] = {}
    rid = parse_id(form.get("resource_id", ""))
    if tz is None or rid is None:
        errors["resource_id"] = "Choose a room or device"
    start_day = parse_date(form.get("start_date", ""))
    end_day = parse_date(form.get("end_date", "")) or start_day
    start_t, end_t = form.get("start_time", "").strip(), form.get("end_time", "").strip()
    a = parse_time(start_t) if start_t else None
    b = parse_time(end_t) if end_t else None
    if start_day is None:
        errors["start_date"] = "Choose a date"
    if form.get("end_date", "").strip() and parse_date(form["end_date"]) is None:
        errors["end_date"] = "Choose a date"
    if start_t and a is None:
        errors["start_time"] = "Enter a time like 09:00"
    if end_t and b is None:
        errors["end_time"] = "Enter a time like 17:00"
    if errors:
        return None, errors
    starts = wall_to_utc(start_day, a, tz) if a is not None else local_midnight(start_day, tz)
    ends = wall_to_utc(end_day, b, tz, fold=1) if b is not None else local_midnight(end_day + timedelta(days=1), tz)
    return RoomBlockInput(rid, starts, ends, form.get("reason", "")[:400]), {}


def _on_form(fields: dict[str, str]) -> tuple[dict[str, str], str]:
    """The domain's field messages placed on the form: ends_at under the end time; a starts_at
    message (an overlap, naming the visits) in full under the form, the start date marked."""
    errors = {{"ends_at": "end_time"}.get(k, k): v for k, v in fields.items() if k != "starts_at"}
    if "starts_at" in fields:
        errors["start_date"] = "Overlaps booked time: see below"
    return errors, fields.get("starts_at", "")


class RoomBlocksState(StaffState):
    """The out-of-service form and the list of upcoming blocks."""

    blocks_ok: bool = False
    block_rooms: list[Choice] = []  # active rooms and devices: "Laser room · Main"
    room_blocks: list[BlockView] = []
    block_form: dict[str, str] = _blank()
    block_errors: dict[str, str] = {}
    block_message: str = ""
    block_error: str = ""
    _zones: dict[int, str] = {}  # resource id -> its location's time zone

    def _fill(self, data: RoomSettings) -> None:
        loc = {i: (n, tz) for i, n, tz in data.locations}
        self._zones = {r.id: loc.get(r.location_id, ("", "UTC"))[1] for r in data.resources}
        many = len(loc) > 1
        self.block_rooms = [Choice(str(r.id), f"{r.name} · {loc.get(r.location_id, ('', ''))[0]}" if many else r.name)
                            for r in data.resources if r.active]
        self.room_blocks = [BlockView(b.id, b.resource_name, self._when(b), b.reason) for b in data.blocks]
        if self.block_form.get("resource_id", "") not in {c.value for c in self.block_rooms}:
            self.block_form["resource_id"] = self.block_rooms[0].value if self.block_rooms else ""

    def _when(self, b: RoomBlockRow) -> str:
        return span_label(b.starts_at, b.ends_at, ZoneInfo(self._zones.get(b.resource_id, "UTC")))

    async def _reload(self) -> Acted:
        done = await self._act(actions.fetch_room_settings)
        if done.ok:
            self._fill(done.value)
        self.blocks_ok = done.ok
        return done

    @rx.event
    async def load_blocks(self):
        """The rooms and devices that can be blocked, and the upcoming blocks."""
        self.block_message = self.block_error = ""
        self.block_errors = {}
        done = await self._reload()
        if done.redirect is not None:
            return done.redirect

    @rx.event
    def set_block_field(self, name: str, value: str | list[str]):
        """Keep a typed field of the block form; its message goes."""
        if name in FIELDS and isinstance(value, str) and len(value) <= 400:
            self.block_form[name] = value
            self.block_errors.pop(name, None)
            if name == "start_date" and not self.block_form.get("end_date"):
                self.block_form["end_date"] = value

    @rx.event
    async def add_block(self):
        """Block a room or device (domain: scheduling.blocks); messages by field."""
        if not self.blocks_ok:
            return
        self.block_message = self.block_error = ""
        rid = parse_id(self.block_form.get("resource_id", ""))
        tz = self._zones.get(rid) if rid is not None else None
        data, errors = parse_block(self.block_form, ZoneInfo(tz) if tz else None)
        if data is None:
            self.block_errors = errors
            return
        try:
            done = await self._act(actions.do_add_room_block, data, denied=GONE)
        except ValidationFailed as exc:
            self.block_errors, self.block_error = _on_form(exc.fields)
            return
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.block_errors = {"resource_id": done.error}
            return
        row: RoomBlockRow = done.value
        self.block_form, self.block_errors = {**_blank(), "resource_id": rid}, {}
        self.block_message = f"{row.resource_name} is out of service {self._when(row)}: not offered for booking then"
        await self._reload()

    @rx.event
    async def remove_block(self, block_id: int):
        """Release an upcoming block (one the card listed)."""
        if not self.blocks_ok or not isinstance(block_id, int) or all(b.id != block_id for b in self.room_blocks):
            return
        done = await self._act(actions.do_remove_room_block, block_id, denied=GONE)
        if done.redirect is not None:
            return done.redirect
        self.block_error = done.error
        self.block_message = "" if done.error else f"{done.value.resource_name} is offered for booking again"
        await self._reload()


B = RoomBlocksState


def _error(name: str) -> rx.Component:
    return rx.cond(B.block_errors.contains(name), rx.text(
        rx.icon("circle-alert", size=13, flex_shrink="0"), B.block_errors[name], role="alert", size="1",
        id=f"block-{name}-error", color=rx.color("red", 11), display="flex", align_items="center", gap="0.3em"))


def _input(name: str, label: str, **props) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=f"block-{name}", style={"font_weight": "500", "font_size": "13px"}),
        rx.input(id=f"block-{name}", value=B.block_form[name], on_change=B.set_block_field(name), size="2",
                 style={"box_shadow": rx.cond(B.block_errors.contains(name), INVALID, "")},
                 custom_attrs={"aria-invalid": rx.cond(B.block_errors.contains(name), "true", "false")}, **props),
        _error(name), spacing="1", align="stretch")


def _entry(b: BlockView) -> rx.Component:
    return rx.flex(
        rx.hstack(rx.icon("wrench", size=15, color=rx.color("orange", 10)),
                  rx.vstack(rx.text(b.name, size="2", weight="bold"),
                            rx.text(b.when + " · " + b.reason, size="1", color_scheme="gray"), spacing="0"),
                  spacing="2", align="center"),
        rx.button(rx.icon("x", size=13), "Remove", size="1", variant="soft", color_scheme="gray",
                  on_click=B.remove_block(b.id), class_name="block-remove"),
        justify="between", align="center", gap="10px", padding_y="8px", width="100%",
        border_bottom=f"1px solid {rx.color('gray', 4)}", class_name="block-entry")


def room_blocks_card() -> rx.Component:
    """The "Out of service" card of the Rooms and devices tab (loads on mount)."""
    return rx.card(rx.vstack(
        rx.vstack(rx.text("Out of service", size="3", weight="bold"),
                  rx.text("Block a room or device for a service visit, a repair or a deep clean: it is not offered for "
                          "booking then and the calendar shows why. Visits booked in that time must be moved first. "
                          "Times are the location's local time; leave them empty for whole days.",
                          size="1", color_scheme="gray"), spacing="0"),
        rx.grid(
            rx.vstack(
                rx.el.label("Room or device", html_for="block-resource_id",
                            style={"font_weight": "500", "font_size": "13px"}),
                rx.select.root(rx.select.trigger(id="block-resource_id", width="100%",
                                                 placeholder="Add a room or device first"),
                               rx.select.content(rx.foreach(B.block_rooms,
                                                            lambda c: rx.select.item(c.label, value=c.value))),
                               value=B.block_form["resource_id"], on_change=B.set_block_field("resource_id")),
                _error("resource_id"), spacing="1", align="stretch"),
            _input("reason", "Reason", placeholder="e.g. Laser service visit"),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%"),
        rx.grid(
            _input("start_date", "From", type="date"),
            _input("start_time", "Start time", type="time"),
            _input("end_date", "To", type="date"),
            _input("end_time", "End time", type="time"),
            columns=rx.breakpoints(initial="2", md="4"), spacing="3", width="100%"),
        rx.hstack(rx.button(rx.icon("wrench", size=14), "Block", on_click=B.add_block, id="block-add"),
                  justify="end", width="100%"),
        rx.cond(B.block_message != "", rx.callout(B.block_message, icon="circle-check", color_scheme="grass",
                                                  size="1", width="100%", id="block-message")),
        rx.cond(B.block_error != "", rx.callout(B.block_error, icon="circle-alert", color_scheme="red", size="1",
                                                width="100%")),
        rx.cond(B.room_blocks.length() > 0,
                rx.box(rx.foreach(B.room_blocks, _entry), width="100%", id="block-list"),
                rx.text("No room or device is blocked ahead.", size="2", color_scheme="gray")),
        spacing="3", width="100%"), width="100%", on_mount=B.load_blocks, id="room-blocks")
