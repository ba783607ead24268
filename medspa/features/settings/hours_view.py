"""/settings, Provider hours tab: the weekly grid with add/remove interval, and time off and
extra shifts (HoursState in hours.py)."""

from __future__ import annotations

import reflex as rx

from medspa.features.settings.hours import DayRow, HoursState, IntervalRow, TimeOffView

H = HoursState
INVALID = "inset 0 0 0 1px var(--red-8)"


def _error_text(errors, key, **props) -> rx.Component:
    return rx.cond(errors.contains(key), rx.text(
        rx.icon("circle-alert", size=13, flex_shrink="0"), errors[key], role="alert", size="1",
        color=rx.color("red", 11), display="flex", align_items="center", gap="0.3em", **props))


def _interval(iv: IntervalRow) -> rx.Component:
    bad = H.hours_errors.contains(iv.key)
    style = {"box_shadow": rx.cond(bad, INVALID, "")}
    return rx.vstack(
        rx.hstack(
            rx.input(type="time", value=iv.start, on_change=lambda v: H.set_interval(iv.weekday, iv.index, "start", v),
                     size="2", width="112px", style=style, custom_attrs={"data-field": iv.key + "-start"}),
            rx.text("–", color_scheme="gray"),
            rx.input(type="time", value=iv.end, on_change=lambda v: H.set_interval(iv.weekday, iv.index, "end", v),
                     size="2", width="112px", style=style, custom_attrs={"data-field": iv.key + "-end"}),
            rx.icon_button(rx.icon("x", size=14), size="1", variant="ghost", color_scheme="gray",
                           on_click=H.remove_interval(iv.weekday, iv.index), aria_label="Remove this interval"),
            spacing="2", align="center"),
        _error_text(H.hours_errors, iv.key),
        spacing="1", class_name="hours-interval")


def _day(day: DayRow) -> rx.Component:
    return rx.flex(
        rx.text(day.name, size="2", weight="medium", width="110px", padding_top="6px", flex_shrink="0"),
        rx.flex(
            rx.cond(day.intervals.length() > 0, rx.foreach(day.intervals, _interval),
                    rx.text("Not working", size="2", color_scheme="gray", padding_top="6px")),
            rx.button(rx.icon("plus", size=13), rx.cond(day.intervals.length() > 0, "Add interval", "Add hours"),
                      size="1", variant="ghost", on_click=H.add_interval(day.weekday), margin_top="6px",
                      class_name="hours-add"),
            gap="10px 18px", wrap="wrap", align="start", flex="1"),
        gap="12px", padding_y="10px", border_bottom=f"1px solid {rx.color('gray', 4)}", width="100%",
        class_name="hours-day", custom_attrs={"data-weekday": day.weekday})


def _pick(which: str, label: str, items, value) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", weight="medium", color_scheme="gray"),
        rx.select.root(rx.select.trigger(id=f"hours-{which}", min_width="200px"),
                       rx.select.content(rx.foreach(items, lambda c: rx.select.item(c.label, value=c.value))),
                       value=value, on_change=lambda v: H.pick(which, v)),
        spacing="1")


def _week() -> rx.Component:
    return rx.card(rx.vstack(
        rx.flex(
            rx.vstack(rx.text("Weekly hours", size="3", weight="bold"),
                      rx.text("Several intervals a day: the gaps between them are breaks. Times are the location's "
                              "local time.", size="1", color_scheme="gray"), spacing="0"),
            rx.hstack(rx.button("Reset", variant="soft", color_scheme="gray", on_click=H.reset_hours,
                                disabled=~H.hours_dirty),
                      rx.button(rx.icon("save", size=14), "Save weekly hours", on_click=H.save_hours,
                                id="hours-save"), spacing="2"),
            justify="between", align="end", width="100%", wrap="wrap", gap="10px"),
        rx.cond(H.hours_message != "", rx.callout(H.hours_message, icon="circle-check", color_scheme="grass", size="1",
                                                  width="100%", id="hours-message")),
        rx.cond(H.hours_error != "", rx.callout(H.hours_error, icon="circle-alert", color_scheme="red", size="1",
                                                width="100%")),
        rx.box(rx.foreach(H.days, _day), width="100%"),
        spacing="3", width="100%"), width="100%")


def _off_input(name: str, label: str, **props) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=f"off-{name}", style={"font_weight": "500", "font_size": "13px"}),
        rx.input(id=f"off-{name}", value=H.off_form[name], on_change=H.set_off_field(name), size="2",
                 style={"box_shadow": rx.cond(H.off_errors.contains(name), INVALID, "")},
                 custom_attrs={"aria-invalid": rx.cond(H.off_errors.contains(name), "true", "false")}, **props),
        _error_text(H.off_errors, name, id=f"off-{name}-error"),
        spacing="1", align="stretch")


def _entry(e: TimeOffView) -> rx.Component:
    return rx.flex(
        rx.cond(e.extra, rx.badge("Extra shift", color_scheme="grass", variant="soft"),
                rx.badge("Time off", color_scheme="amber", variant="soft")),
        rx.vstack(rx.text(e.label, size="2", weight="medium"),
                  rx.cond(e.reason != "", rx.text(e.reason, size="1", color_scheme="gray")),
                  rx.cond(e.warning != "", rx.text(rx.icon("triangle-alert", size=13), e.warning, size="1",
                                                   color=rx.color("amber", 11), display="flex", gap="0.3em",
                                                   align_items="center")),
                  spacing="0", flex="1"),
        rx.button(rx.icon("trash-2", size=13), "Remove", size="1", variant="soft", color_scheme="gray",
                  on_click=H.remove_off(e.id)),
        gap="12px", align="center", padding_y="8px", border_bottom=f"1px solid {rx.color('gray', 4)}", width="100%",
        class_name="off-entry")


def _time_off() -> rx.Component:
    return rx.card(rx.vstack(
        rx.vstack(rx.text("Time off and extra shifts", size="3", weight="bold"),
                  rx.text("Time off applies at every location; an extra shift adds hours at this location. Visits "
                          "already booked stay.", size="1", color_scheme="gray"), spacing="0"),
        rx.segmented_control.root(rx.segmented_control.item("Time off", value="off"),
                                  rx.segmented_control.item("Extra shift", value="extra"),
                                  value=H.off_form["kind"], on_change=H.set_off_field("kind"), id="off-kind"),
        rx.grid(
            _off_input("start_date", "From", type="date"),
            _off_input("start_time", "Start time", type="time"),
            rx.cond(H.off_form["kind"] == "off", _off_input("end_date", "To", type="date"), rx.box()),
            _off_input("end_time", "End time", type="time"),
            columns="2", spacing="3", width="100%"),
        rx.text(rx.cond(H.off_form["kind"] == "off", "Leave the times empty for whole days.",
                        "An extra shift is one day, with its start and end times."), size="1", color_scheme="gray"),
        rx.hstack(rx.box(_off_input("reason", "Reason (optional)", placeholder="e.g. Training, vacation"), flex="1"),
                  rx.button(rx.icon("plus", size=14), "Add", on_click=H.add_off, id="off-add", margin_top="20px"),
                  width="100%", align="start", spacing="3"),
        rx.cond(H.off_message != "", rx.callout(H.off_message, icon="circle-check", color_scheme="grass", size="1",
                                                width="100%", id="off-message")),
        rx.cond(H.off_warning != "", rx.callout(H.off_warning, icon="triangle-alert", color_scheme="amber", size="1",
                                                width="100%", id="off-warning")),
        rx.cond(H.entries.length() > 0, rx.box(rx.foreach(H.entries, _entry), width="100%", id="off-list"),
                rx.text("Nothing planned.", size="2", color_scheme="gray")),
        spacing="3", width="100%"), width="100%")


def hours_tab() -> rx.Component:
    """The tab's content (loads on mount)."""
    return rx.vstack(
        rx.flex(
            rx.vstack(rx.heading("Provider hours", size="4"),
                      rx.text("When each provider can be booked. Changes apply to online booking at once.", size="2",
                              color_scheme="gray"), spacing="1"),
            rx.hstack(_pick("staff", "Provider", H.hours_staff, H.staff_pick),
                      _pick("location", "Location", H.hours_locations, H.location_pick), spacing="3"),
            justify="between", align="end", width="100%", gap="12px", wrap="wrap"),
        rx.cond(H.hours_staff.length() > 0,
                rx.grid(_week(), _time_off(), columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%"),
                rx.card(rx.text("No bookable providers yet. Invite your providers on the ",
                                        rx.link("Staff page", href="/staff", id="hours-invite-link"),
                                        " with the role Provider; their hours are set here once they have joined.",
                                        size="2", color_scheme="gray"), width="100%")),
        spacing="4", width="100%", on_mount=H.load_hours)
