"""The service dialog of /settings: add or edit one service, each message under its field."""

from __future__ import annotations

import reflex as rx

from medspa.domain.clinical.device_rows import TEMPLATE_LABELS
from medspa.features.settings.contraindications import contraindications_section
from medspa.features.settings.form import NONE
from medspa.features.settings.state import Choice, SettingsState

S = SettingsState
SLOT_GRIDS = ("5", "10", "15", "20", "30", "60")
INVALID = "inset 0 0 0 1px var(--red-8)"  # the red outline of a field with a message


def _error(name: str) -> rx.Component:
    return rx.cond(S.errors.contains(name),
                   rx.text(rx.icon("circle-alert", size=13, flex_shrink="0"), S.errors[name], id=f"svc-{name}-error",
                           role="alert", size="1", color=rx.color("red", 11), display="flex", align_items="center",
                           gap="0.3em"))


def _labelled(name: str, label: str, control: rx.Component, hint: str = "", **props) -> rx.Component:
    parts = [rx.el.label(label, html_for=f"svc-{name}", style={"font_weight": "500", "font_size": "13px"}), control]
    if hint:
        parts.append(rx.text(hint, size="1", color_scheme="gray"))
    parts.append(_error(name))
    return rx.vstack(*parts, spacing="1", width="100%", align="stretch", **props)


def _input(name: str, label: str, *, hint: str = "", prefix=None, suffix: str = "", datalist: str = "",
           **props) -> rx.Component:
    slots = []
    if prefix is not None:
        slots.append(rx.input.slot(rx.text(prefix, size="2", color_scheme="gray")))
    if suffix:
        slots.append(rx.input.slot(rx.text(suffix, size="1", color_scheme="gray"), side="right"))
    control = rx.input(*slots, id=f"svc-{name}", value=S.form[name], on_change=S.set_field(name),
                       size="2", width="100%", style={"box_shadow": rx.cond(S.errors.contains(name), INVALID, "")},
                       custom_attrs={"aria-invalid": rx.cond(S.errors.contains(name), "true", "false"),
                                     **({"list": datalist} if datalist else {})}, **props)
    return _labelled(name, label, control, hint)


def _select(name: str, label: str, items: rx.Var, none_label: str, hint: str = "") -> rx.Component:
    control = rx.select.root(
        rx.select.trigger(id=f"svc-{name}", width="100%"),
        rx.select.content(rx.select.item(none_label, value=NONE),
                          rx.foreach(items, lambda c: rx.select.item(c.label, value=c.value))),
        value=S.form[name], on_change=S.set_field(name), size="2")
    return _labelled(name, label, control, hint)


def _template_select() -> rx.Component:
    """The chart template: what the visit's chart opens with (clinical/device_rows.py)."""
    control = rx.select.root(
        rx.select.trigger(id="svc-chart_template", width="100%"),
        rx.select.content(rx.select.item("From the category", value=NONE),
                          *(rx.select.item(label, value=key) for key, label in TEMPLATE_LABELS.items())),
        value=S.form["chart_template"], on_change=S.set_field("chart_template"), size="2")
    return _labelled("chart_template", "Chart template", control,
                     "Injectables open with the face map; devices and peels with their settings rows.")


def _section(title: str, *children: rx.Component, note: str = "") -> rx.Component:
    head = [rx.text(title, size="2", weight="bold")]
    if note:
        head.append(rx.text(note, size="1", color_scheme="gray"))
    return rx.vstack(rx.vstack(*head, spacing="0"), *children, spacing="3", width="100%",
                     padding_top="14px", border_top=f"1px solid {rx.color('gray', 4)}")


def _provider(c: Choice) -> rx.Component:
    return rx.el.label(
        rx.checkbox(checked=S.chosen.contains(c.value), on_change=lambda _v: S.toggle_provider(c.value),
                    custom_attrs={"data-staff-id": c.value}),
        rx.text(c.label, size="2"),
        display="flex", align_items="center", gap="8px", padding="6px 10px", border_radius="6px",
        border=f"1px solid {rx.color('gray', 5)}", cursor="pointer", class_name="svc-provider",
    )


def _basics() -> rx.Component:
    return rx.vstack(
        rx.grid(
            _input("name", "Name", placeholder="e.g. Lip filler"),
            _input("category", "Category", placeholder="e.g. Dermal fillers", datalist="svc-categories"),
            columns="2", spacing="3", width="100%"),
        rx.el.datalist(rx.foreach(S.categories, lambda c: rx.el.option(value=c)), id="svc-categories"),
        _labelled("description", "Description (shown on the booking page)",
                  rx.text_area(id="svc-description", value=S.form["description"], rows="2",
                               on_change=S.set_field("description"), width="100%")),
        spacing="3", width="100%")


def _timing() -> rx.Component:
    return _section(
        "Time",
        rx.grid(
            _input("duration_minutes", "Duration", suffix="min", input_mode="numeric"),
            _input("buffer_before_minutes", "Setup before", suffix="min", input_mode="numeric"),
            _input("buffer_after_minutes", "Cleanup after", suffix="min", input_mode="numeric"),
            _labelled("slot_grid_minutes", "Start times every", rx.select.root(
                rx.select.trigger(id="svc-slot_grid_minutes", width="100%"),
                rx.select.content(*(rx.select.item(f"{g} minutes", value=g) for g in SLOT_GRIDS)),
                value=S.form["slot_grid_minutes"], on_change=S.set_field("slot_grid_minutes"), size="2")),
            columns=rx.breakpoints(initial="2", sm="4"), spacing="3", width="100%"),
        note="Setup and cleanup also hold the provider, room and device, but the client is not there.")


def _pricing() -> rx.Component:
    return _section(
        "Price",
        rx.grid(
            _input("price_cents", "Price", prefix=S.currency_symbol, input_mode="decimal", placeholder="0.00"),
            _input("deposit_cents", "Deposit taken when booking online", prefix=S.currency_symbol, input_mode="decimal",
                   hint="0 for none; never more than the price"),
            columns="2", spacing="3", width="100%"),
        note="Visits already booked keep the price they were booked at.")


def _resources() -> rx.Component:
    return _section(
        "Room, device and providers",
        rx.grid(
            _select("room_type", "Room needed", S.room_types, "No room needed"),
            _select("device_type", "Device needed", S.device_types, "No device needed"),
            _template_select(),
            columns="2", spacing="3", width="100%"),
        rx.vstack(
            rx.text("Providers who perform it", size="2", weight="medium"),
            rx.cond(S.providers.length() > 0,
                    rx.flex(rx.foreach(S.providers, _provider), wrap="wrap", gap="8px", id="svc-providers"),
                    rx.text("No bookable staff yet: add providers on the Staff page first.", size="2",
                            color_scheme="gray")),
            rx.text("A provider offers it at every location where they have working hours (providers per "
                    "location are not set here yet).", size="1", color_scheme="gray"),
            _error("provider_ids"),
            spacing="2", width="100%"),
        note="Only room and device types that your rooms and devices have can be chosen.")


def _online() -> rx.Component:
    return _section(
        "Online booking",
        rx.el.label(rx.switch(checked=S.online, on_change=S.set_online, id="svc-online"),
                    rx.text("Clients can book it online (off: staff book it at the desk)", size="2"),
                    display="flex", align_items="center", gap="10px", cursor="pointer"),
        rx.grid(
            _labelled("min_notice_minutes", "Minimum notice", rx.select.root(
                rx.select.trigger(id="svc-min_notice_minutes", width="100%"),
                rx.select.content(rx.foreach(S.notice_choices, lambda c: rx.select.item(c.label, value=c.value))),
                value=S.form["min_notice_minutes"], on_change=S.set_field("min_notice_minutes"), size="2")),
            _input("max_advance_days", "Book at most", suffix="days ahead", input_mode="numeric",
                   placeholder="no limit", hint="Empty: up to a year ahead"),
            columns="2", spacing="3", width="100%"),
    )


def service_dialog() -> rx.Component:
    """The add / edit dialog (open while SettingsState.form_open)."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.editing_id > 0, "Edit service", "New service")),
            rx.dialog.description("Everything a client and the calendar need to book it.", size="2",
                                  color_scheme="gray", margin_bottom="12px"),
            rx.el.form(
                rx.vstack(
                    _basics(), _timing(), _pricing(), _resources(), _online(), contraindications_section(),
                    rx.cond(S.error != "", rx.callout(S.error, icon="circle-alert", color_scheme="red", size="1",
                                                      width="100%", id="svc-form-error")),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray",
                                                  on_click=S.close_form)),
                        rx.button(rx.cond(S.editing_id > 0, "Save changes", "Add service"), type="submit",
                                  loading=S.saving, id="svc-save"),
                        justify="end", width="100%", spacing="3", padding_top="6px"),
                    spacing="4", width="100%"),
                on_submit=S.save, prevent_default=True, width="100%"),
            max_width="720px", id="svc-dialog",
        ),
        open=S.form_open,
        on_open_change=lambda _o: S.close_form(),
    )
