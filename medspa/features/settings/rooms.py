"""/settings, Rooms and devices tab: the clinic's rooms and devices per location; add, edit,
deactivate and reactivate (never delete).

RoomsState's public handlers are entry points: each re-checks the session and the permission
(StaffState._act) and calls one action of medspa/domain/practice/settings_actions.py, which checks
settings.write again and audits the change. A bad field gets its message next to it.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.errors import ValidationFailed
from medspa.domain.practice import settings_actions as actions
from medspa.domain.practice.settings_actions import ResourceRow, RoomSettings
from medspa.domain.practice.rooms import ResourceInput
from medspa.features.auth.state import Acted, StaffState
from medspa.features.settings.checklist import SettingsNavState
from medspa.features.settings.form import type_label
from medspa.features.settings.room_blocks import RoomBlocksState, room_blocks_card
from medspa.features.settings.state import Choice

INVALID = "inset 0 0 0 1px var(--red-8)"
FIELDS = ("kind", "name", "resource_type", "location_id")
GONE = "That room or device is not there any more"


@dataclasses.dataclass
class RoomView:
    """One row: `heading` is the location's name on the first row of each location."""

    id: int = 0
    heading: str = ""
    name: str = ""
    kind: str = ""
    type_label: str = ""
    active: bool = True
    booked: str = ""


def _views(data: RoomSettings) -> list[RoomView]:
    names = {i: n for i, n, _tz in data.locations}
    out, last = [], None
    for r in data.resources:
        booked = f"{r.booked_ahead} upcoming visit{'s' if r.booked_ahead != 1 else ''}" if r.booked_ahead else ""
        out.append(RoomView(r.id, names.get(r.location_id, "") if r.location_id != last else "", r.name, r.kind,
                            type_label(r.resource_type), r.active, booked))
        last = r.location_id
    return out


class RoomsState(StaffState):
    """The rooms and devices list and its add / edit dialog."""

    rooms_ok: bool = False
    rooms: list[RoomView] = []
    room_locations: list[Choice] = []
    room_types: list[str] = []  # existing types, offered while typing
    room_form_open: bool = False
    room_editing: int = 0
    room_form: dict[str, str] = {}
    room_errors: dict[str, str] = {}
    room_message: str = ""
    room_error: str = ""
    _room_rows: dict[int, ResourceRow] = {}

    def _fill(self, data: RoomSettings) -> None:
        self.rooms = _views(data)
        self.room_locations = [Choice(str(i), n) for i, n, _tz in data.locations]
        self.room_types = sorted({type_label(r.resource_type) for r in data.resources})
        self._room_rows = {r.id: r for r in data.resources}

    async def _reload_rooms(self) -> Acted:
        done = await self._act(actions.fetch_room_settings)
        if done.ok:
            self._fill(done.value)
        self.rooms_ok = done.ok
        return done

    @rx.event
    async def load_rooms(self):
        self.room_message, self.room_error, self.room_form_open = "", "", False
        done = await self._reload_rooms()
        if done.redirect is not None:
            return done.redirect

    def _open(self, form: dict[str, str], editing: int) -> None:
        self.room_form, self.room_editing, self.room_errors = form, editing, {}
        self.room_error, self.room_message, self.room_form_open = "", "", True

    @rx.event
    def new_room(self):
        if self.rooms_ok:
            first = self.room_locations[0].value if self.room_locations else ""
            self._open({"kind": "room", "name": "", "resource_type": "", "location_id": first}, 0)

    @rx.event
    def edit_room(self, resource_id: int):
        row = self._room_rows.get(resource_id) if isinstance(resource_id, int) else None
        if self.rooms_ok and row is not None:
            self._open({"kind": row.kind, "name": row.name, "resource_type": type_label(row.resource_type),
                        "location_id": str(row.location_id)}, row.id)

    @rx.event
    def close_room_form(self):
        self.room_form_open, self.room_errors = False, {}

    @rx.event
    def set_room_field(self, name: str, value: str | list[str]):
        if name in FIELDS and isinstance(value, str) and len(value) <= 200:
            self.room_form[name] = value
            self.room_errors.pop(name, None)

    @rx.event
    async def save_room(self):
        if not self.rooms_ok or not self.room_form_open:
            return
        loc = self.room_form.get("location_id", "")
        data = ResourceInput(self.room_form.get("kind", ""), self.room_form.get("name", ""),
                             self.room_form.get("resource_type", ""), int(loc) if loc.isdigit() else -1)
        try:
            if self.room_editing:
                done = await self._act(actions.do_update_resource, self.room_editing, data, denied=GONE)
            else:
                done = await self._act(actions.do_create_resource, data)
        except ValidationFailed as exc:
            self.room_errors, self.room_error = dict(exc.fields), "Check the fields marked in red"
            return
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.room_error = done.error
            return
        self.room_form_open, self.room_errors, self.room_error = False, {}, ""
        self.room_message = f"{done.value.name} was {'saved' if self.room_editing else 'added'}"
        await self._reload_rooms()
        # the out-of-service card offers the new name / room; the checklist may tick a step
        return [RoomBlocksState.load_blocks, SettingsNavState.refresh_steps]

    @rx.event
    async def set_room_active(self, resource_id: int, active: bool):
        if not self.rooms_ok or not isinstance(resource_id, int) or resource_id not in self._room_rows \
                or not isinstance(active, bool):
            return
        done = await self._act(actions.do_set_resource_active, resource_id, active, denied=GONE)
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.room_error, self.room_message = done.error, ""
            return
        row: ResourceRow = done.value
        if active:
            self.room_message = f"{row.name} is active again and offered for booking"
        else:
            kept = f" The {row.booked_ahead} visit{'s' if row.booked_ahead != 1 else ''} already booked in it " \
                   "stay." if row.booked_ahead else ""
            self.room_message = f"{row.name} was deactivated: it is no longer offered for new bookings.{kept}"
        self.room_error = ""
        await self._reload_rooms()
        return RoomBlocksState.load_blocks


R = RoomsState


def _error(name: str) -> rx.Component:
    return rx.cond(R.room_errors.contains(name),
                   rx.text(rx.icon("circle-alert", size=13, flex_shrink="0"), R.room_errors[name],
                           id=f"room-{name}-error", role="alert", size="1", color=rx.color("red", 11),
                           display="flex", align_items="center", gap="0.3em"))


def _field(name: str, label: str, control: rx.Component, hint: str = "") -> rx.Component:
    parts = [rx.el.label(label, html_for=f"room-{name}", style={"font_weight": "500", "font_size": "13px"}), control]
    if hint:
        parts.append(rx.text(hint, size="1", color_scheme="gray"))
    return rx.vstack(*parts, _error(name), spacing="1", width="100%", align="stretch")


def _input(name: str, label: str, hint: str = "", **props) -> rx.Component:
    return _field(name, label, rx.input(
        id=f"room-{name}", value=R.room_form[name], on_change=R.set_room_field(name), width="100%",
        style={"box_shadow": rx.cond(R.room_errors.contains(name), INVALID, "")},
        custom_attrs={"aria-invalid": rx.cond(R.room_errors.contains(name), "true", "false")}, **props), hint)


def _dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(R.room_editing > 0, "Edit room or device", "New room or device")),
            rx.dialog.description("Services that need this type can then be booked at this location.", size="2",
                                  color_scheme="gray", margin_bottom="12px"),
            rx.el.form(rx.vstack(
                _field("kind", "Kind", rx.segmented_control.root(
                    rx.segmented_control.item("Room", value="room"), rx.segmented_control.item("Device", value="device"),
                    value=R.room_form["kind"], on_change=R.set_room_field("kind"), id="room-kind")),
                _input("name", "Name", placeholder="e.g. Treatment room 2"),
                _input("resource_type", "Type", "Services ask for a type; rooms of one type are interchangeable.",
                       placeholder="e.g. Treatment room, Laser", list="room-types"),
                rx.el.datalist(rx.foreach(R.room_types, lambda t: rx.el.option(value=t)), id="room-types"),
                _field("location_id", "Location", rx.select.root(
                    rx.select.trigger(id="room-location_id", width="100%"),
                    rx.select.content(rx.foreach(R.room_locations, lambda c: rx.select.item(c.label, value=c.value))),
                    value=R.room_form["location_id"], on_change=R.set_room_field("location_id"))),
                rx.cond(R.room_error != "", rx.callout(R.room_error, icon="circle-alert", color_scheme="red",
                                                       size="1", width="100%")),
                rx.hstack(rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray",
                                                    on_click=R.close_room_form)),
                          rx.button(rx.cond(R.room_editing > 0, "Save changes", "Add"), type="submit", id="room-save"),
                          justify="end", width="100%", spacing="3"),
                spacing="4", width="100%"), on_submit=R.save_room, prevent_default=True, width="100%"),
            max_width="520px", id="room-dialog"),
        open=R.room_form_open, on_open_change=lambda _o: R.close_room_form())


def _row(row: RoomView) -> rx.Component:
    return rx.fragment(
        rx.cond(row.heading != "", rx.table.row(rx.table.cell(
            rx.text(row.heading, size="1", weight="bold", text_transform="uppercase", letter_spacing="0.06em",
                    color=rx.color("teal", 11)), col_span=5, padding_top="18px", padding_bottom="6px"))),
        rx.table.row(
            rx.table.cell(rx.hstack(rx.icon(rx.cond(row.kind == "room", "door-open", "zap"), size=15,
                                            color=rx.color("gray", 10)),
                                    rx.text(row.name, size="2", weight="medium", class_name="room-name"),
                                    rx.cond(row.active, rx.fragment(),
                                            rx.badge("Inactive", color_scheme="gray", size="1")),
                                    spacing="2", align="center")),
            rx.table.cell(rx.text(rx.cond(row.kind == "room", "Room", "Device"), size="2")),
            rx.table.cell(rx.text(row.type_label, size="2"), class_name="room-type"),
            rx.table.cell(rx.text(row.booked, size="1", color_scheme="gray")),
            rx.table.cell(rx.hstack(
                rx.button(rx.icon("pencil", size=13), "Edit", size="1", variant="soft", on_click=R.edit_room(row.id)),
                rx.cond(row.active,
                        rx.button(rx.icon("power-off", size=13), "Deactivate", size="1", variant="soft",
                                  color_scheme="gray", on_click=R.set_room_active(row.id, False),
                                  class_name="room-deactivate"),
                        rx.button(rx.icon("power", size=13), "Reactivate", size="1", variant="soft",
                                  color_scheme="grass", on_click=R.set_room_active(row.id, True),
                                  class_name="room-reactivate")),
                spacing="2", justify="end")),
            class_name="room-row", opacity=rx.cond(row.active, "1", "0.6")))


def rooms_tab() -> rx.Component:
    """The tab's content (loads on mount)."""
    return rx.vstack(
        rx.flex(
            rx.vstack(rx.heading("Rooms and devices", size="4"),
                      rx.text("What a visit occupies besides the provider. A deactivated room is no longer offered; "
                              "visits already booked in it stay.", size="2", color_scheme="gray"), spacing="1"),
            rx.button(rx.icon("plus", size=15), "New room or device", on_click=R.new_room, id="room-new"),
            justify="between", align="end", width="100%", gap="12px", wrap="wrap"),
        rx.cond(R.room_message != "", rx.callout(R.room_message, icon="circle-check", color_scheme="grass", size="1",
                                                 width="100%", id="room-message")),
        rx.cond((R.room_error != "") & ~R.room_form_open,
                rx.callout(R.room_error, icon="circle-alert", color_scheme="red", size="1", width="100%")),
        rx.card(rx.cond(R.rooms.length() > 0,
                        rx.table.root(
                            rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in
                                                           ("Name", "Kind", "Type", "Booked ahead", "")))),
                            rx.table.body(rx.foreach(R.rooms, _row)), size="2", variant="ghost", width="100%"),
                        rx.center(rx.text("No rooms or devices yet: add the rooms and devices your services need.",
                                          size="2", color_scheme="gray"), padding="36px")),
                width="100%", overflow_x="auto"),
        room_blocks_card(),
        _dialog(),
        spacing="4", width="100%", on_mount=R.load_rooms)
