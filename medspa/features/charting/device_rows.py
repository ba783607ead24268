"""The chart's device/laser and peel rows (issue 18): the form buffer, its events and the card.

Rows are typed as text (units in the labels) and validated for real by the domain on save
(clinical/device_rows.validate_settings, messages keyed "settings.<i>.<field>"). A device is
one of the clinic's device resources or typed ("Other…"). Mixed into ChartState, which owns
save/sign (it sends `_settings()`) and shows the card when the service's template is
"device" or "peel", or when the chart already has rows.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.clinical.device_rows import DEVICE_FIELDS, MAX_ROWS, NUMBERS, PEEL_FIELDS, SettingInput, SettingRow

OTHER = "other"
TEXT_LIMIT = 80
LABELS = {"device": "Device", "handpiece": "Handpiece", "cooling": "Cooling", "agent": "Agent",
          **{k: v[0] for k, v in NUMBERS.items()}}
PLACEHOLDERS = {"handpiece": "e.g. 18 mm", "cooling": "e.g. DCD 30/20", "agent": "e.g. Glycolic acid",
                "fluence": "12.5", "pulse_width": "3", "spot_size": "18", "passes": "2", "concentration": "30",
                "layers": "2", "minutes": "3"}
ALL_FIELDS = DEVICE_FIELDS + PEEL_FIELDS


@dataclasses.dataclass
class SettingView:
    """One device or peel row in the form: values as typed, the device choice ("<resource
    id>", "other" or ""), a message per field."""

    kind: str = "device"
    device_choice: str = ""
    device: str = ""
    handpiece: str = ""
    fluence: str = ""
    pulse_width: str = ""
    spot_size: str = ""
    passes: str = ""
    cooling: str = ""
    agent: str = ""
    concentration: str = ""
    layers: str = ""
    minutes: str = ""
    device_error: str = ""
    handpiece_error: str = ""
    fluence_error: str = ""
    pulse_width_error: str = ""
    spot_size_error: str = ""
    passes_error: str = ""
    cooling_error: str = ""
    agent_error: str = ""
    concentration_error: str = ""
    layers_error: str = ""
    minutes_error: str = ""


def setting_view(row: SettingRow) -> SettingView:
    """A stored row as the form shows it."""
    values = {k: getattr(row, k) for k in ALL_FIELDS}
    return SettingView(kind=row.kind, device_choice=str(row.resource_id) if row.resource_id else (
        OTHER if row.device else ""), **values)


def setting_input(view: SettingView) -> SettingInput:
    """The form row as the domain takes it."""
    rid = int(view.device_choice) if view.device_choice.isdigit() else None
    return SettingInput(kind=view.kind, resource_id=rid, **{k: getattr(view, k) for k in ALL_FIELDS})


class DeviceRowsMixin(rx.State, mixin=True):
    """The device/peel rows of the chart form (see the module docstring). Needs the host's
    `editable`, `notice` and `_charting`."""

    settings: list[SettingView] = []
    template: str = "general"
    device_options: list[list[str]] = []  # [[resource id, name], ...]

    def _show_settings(self, chart) -> None:
        self.template = chart.template
        self.device_options = [[str(i), n] for i, n in chart.devices]
        self.settings = [setting_view(r) for r in chart.settings]

    def _settings(self) -> list[SettingInput]:
        return [setting_input(v) for v in self.settings]

    def _show_setting_errors(self, fields: dict[str, str]) -> None:
        rows = []
        for i, row in enumerate(self.settings):
            errs = {f"{name}_error": fields.get(f"settings.{i}.{name}", "") for name in ALL_FIELDS}
            rows.append(dataclasses.replace(row, **errs))
        self.settings = rows

    async def _setting_index(self, index) -> bool:
        actor, _ = await self._charting("chart.write")  # type: ignore[attr-defined]
        return (actor is not None and self.editable and isinstance(index, int)  # type: ignore[attr-defined]
                and not isinstance(index, bool) and 0 <= index < len(self.settings))

    @rx.event
    async def add_setting(self, kind: str):
        """Add a device or a peel row (the clinic's only device preselected)."""
        actor, redirect = await self._charting("chart.write")  # type: ignore[attr-defined]
        if actor is None:
            return redirect
        if self.editable and kind in ("device", "peel") and len(self.settings) < MAX_ROWS:  # type: ignore[attr-defined]
            choice = self.device_options[0][0] if kind == "device" and len(self.device_options) == 1 else ""
            self.settings = [*self.settings, SettingView(kind=kind, device_choice=choice)]
            self.notice = ""  # type: ignore[attr-defined]

    @rx.event
    async def remove_setting(self, index: int):
        if await self._setting_index(index):
            self.settings = [r for i, r in enumerate(self.settings) if i != index]
            self.notice = ""  # type: ignore[attr-defined]

    @rx.event
    async def set_setting(self, index: int, name: str, value: str):
        """One field of one row, as typed."""
        if name not in ALL_FIELDS or not isinstance(value, str) or not await self._setting_index(index):
            return
        rows = list(self.settings)
        rows[index] = dataclasses.replace(rows[index], **{name: value[:TEXT_LIMIT], f"{name}_error": ""})
        self.settings, self.notice = rows, ""  # type: ignore[attr-defined]

    @rx.event
    async def set_device(self, index: int, choice: str):
        """The device select: a device resource's id or "other" (then typed)."""
        known = {o[0] for o in self.device_options}
        if not isinstance(choice, str) or (choice != OTHER and choice not in known) or not await self._setting_index(index):
            return
        rows = list(self.settings)
        name = next((o[1] for o in self.device_options if o[0] == choice), "")
        rows[index] = dataclasses.replace(rows[index], device_choice=choice, device=name, device_error="")
        self.settings, self.notice = rows, ""  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- the card


def _error(message) -> rx.Component:
    return rx.cond(message != "", rx.text(message, size="1", color=rx.color("red", 11), class_name="field-error"))


def _field(s, row: SettingView, i, name: str, width: str = "100%") -> rx.Component:
    error = getattr(row, f"{name}_error")
    return rx.vstack(
        rx.text(LABELS[name], size="1", color_scheme="gray"),
        rx.cond(s.editable,
                rx.input(value=getattr(row, name), on_change=s.set_setting(i, name), placeholder=PLACEHOLDERS.get(name, ""),
                         size="2", width=width, auto_complete="off", class_name=f"setting-{name.replace('_', '-')}",
                         input_mode="decimal" if name in NUMBERS else "text",
                         color_scheme=rx.cond(error != "", "red", "gray")),
                rx.text(rx.cond(getattr(row, name) != "", getattr(row, name), "—"), size="2",
                        class_name=f"setting-{name.replace('_', '-')}")),
        _error(error), spacing="1", min_width="0",
    )


def _device_field(s, row: SettingView, i) -> rx.Component:
    select = rx.select.root(
        rx.select.trigger(placeholder="Choose the device", width="100%", class_name="setting-device-select"),
        rx.select.content(rx.foreach(s.device_options, lambda o: rx.select.item(o[1], value=o[0])),
                          rx.select.item("Other…", value=OTHER)),
        value=row.device_choice, on_change=s.set_device(i), size="2")
    return rx.vstack(
        rx.text("Device", size="1", color_scheme="gray"),
        rx.cond(s.editable,
                rx.vstack(select,
                          rx.cond(row.device_choice == OTHER,
                                  rx.input(value=row.device, on_change=s.set_setting(i, "device"), size="2",
                                           placeholder="Device name", width="100%", class_name="setting-device")),
                          spacing="1", width="100%"),
                rx.text(row.device, size="2", weight="medium", class_name="setting-device")),
        _error(row.device_error), spacing="1", min_width="0", grid_column=rx.breakpoints(initial="span 2", md="span 2"),
    )


def _row(s, row: SettingView, i) -> rx.Component:
    remove = rx.cond(s.editable, rx.icon_button(rx.icon("trash-2", size=15), variant="ghost", color_scheme="red",
                                                size="2", on_click=s.remove_setting(i), aria_label="Remove row",
                                                class_name="setting-remove"))
    device = rx.grid(_device_field(s, row, i), *(_field(s, row, i, n) for n in DEVICE_FIELDS[1:]),
                     columns=rx.breakpoints(initial="2", md="4"), spacing="3", width="100%")
    peel = rx.grid(*(_field(s, row, i, n) for n in PEEL_FIELDS), columns=rx.breakpoints(initial="2", md="4"),
                   spacing="3", width="100%")
    return rx.box(
        rx.hstack(
            rx.badge(rx.cond(row.kind == "device", "Device", "Peel"), variant="soft", radius="full",
                     color_scheme=rx.cond(row.kind == "device", "iris", "amber")),
            rx.text("Row ", (i + 1).to(str), size="1", color_scheme="gray"),
            rx.spacer(), remove, align="center", width="100%"),
        rx.box(rx.cond(row.kind == "device", device, peel), margin_top="8px"),
        padding="12px", border=f"1px solid {rx.color('gray', 5)}", border_radius="10px", width="100%",
        class_name="setting-row", custom_attrs={"data-kind": row.kind},
    )


def settings_panel(s) -> rx.Component:
    """The "Device & peel settings" card (shown for device/peel services or when rows exist);
    `s`: the chart's state class."""
    add = rx.cond(s.editable, rx.hstack(
        rx.button(rx.icon("zap", size=15), "Add device row", size="2", variant="soft",
                  on_click=s.add_setting("device"), id="chart-add-device"),
        rx.button(rx.icon("droplet", size=15), "Add peel row", size="2", variant="soft", color_scheme="amber",
                  on_click=s.add_setting("peel"), id="chart-add-peel"),
        spacing="2", wrap="wrap"))
    return rx.cond(
        (s.template == "device") | (s.template == "peel") | (s.settings.length() > 0),
        rx.card(rx.vstack(
            rx.hstack(rx.heading("Device & peel settings", size="4"), add, justify="between", align="center",
                      width="100%", wrap="wrap"),
            rx.foreach(s.settings, lambda row, i: _row(s, row, i)),
            rx.cond(s.settings.length() == 0, rx.text("No settings recorded.", size="2", color_scheme="gray")),
            spacing="3", width="100%"), width="100%", id="chart-settings"),
    )
