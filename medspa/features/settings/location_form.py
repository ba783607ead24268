"""The dialogs of the Locations tab: add/edit a location (details and opening hours) and add
a closure. Each message sits under its field; fields with one are outlined in red."""

from __future__ import annotations

import reflex as rx

from medspa.features.settings.location_state import CARD_LINES, LocationsState
from medspa.features.settings.location_text import DayForm, SpanText

L = LocationsState
INVALID = "inset 0 0 0 1px var(--red-8)"


def _error(name) -> rx.Component:
    return rx.cond(L.loc_errors.contains(name),
                   rx.text(rx.icon("circle-alert", size=13, flex_shrink="0"), L.loc_errors[name],
                           id=f"loc-{name}-error", role="alert", size="1", color=rx.color("red", 11),
                           display="flex", align_items="center", gap="0.3em"))


def _field(name: str, label: str, control: rx.Component, hint: str = "") -> rx.Component:
    parts = [rx.el.label(label, html_for=f"loc-{name}", style={"font_weight": "500", "font_size": "13px"}), control]
    if hint:
        parts.append(rx.text(hint, size="1", color_scheme="gray"))
    return rx.vstack(*parts, _error(name), spacing="1", width="100%", align="stretch")


def _input(name: str, label: str, value, on_change, *, hint: str = "", suffix: str = "", **props) -> rx.Component:
    slots = [rx.input.slot(rx.text(suffix, size="1", color_scheme="gray"), side="right")] if suffix else []
    control = rx.input(*slots, id=f"loc-{name}", value=value, on_change=on_change, size="2", width="100%",
                       style={"box_shadow": rx.cond(L.loc_errors.contains(name), INVALID, "")},
                       custom_attrs={"aria-invalid": rx.cond(L.loc_errors.contains(name), "true", "false")}, **props)
    return _field(name, label, control, hint)


def _details() -> rx.Component:
    f = L.loc_form
    return rx.vstack(
        rx.grid(
            _input("name", "Name", f["name"], L.set_detail("name"), placeholder="e.g. Uptown"),
            _input("phone", "Phone", f["phone"], L.set_detail("phone"), placeholder="+1 212 555 0123",
                   input_mode="tel", hint="With the country code unless it is in the US"),
            columns="2", spacing="3", width="100%"),
        _input("address", "Address", f["address"], L.set_detail("address"),
               placeholder="Street, city, postcode (shown to clients)"),
        _input("time_zone", "Time zone", f["time_zone"], L.set_detail("time_zone"), list="loc-zones",
               placeholder="Type to search, e.g. New_York", hint="Visits are shown in this zone's local time"),
        rx.grid(
            _input("cancellation_window_hours", "Free cancellation until", f["cancellation_window_hours"],
                   L.set_detail("cancellation_window_hours"), suffix="hours before", input_mode="numeric",
                   hint="Earlier cancellations always get the deposit back"),
            _field("late_cancel_keeps_deposit", "A cancellation later than that",
                   rx.select.root(
                       rx.select.trigger(id="loc-late_cancel_keeps_deposit", width="100%"),
                       rx.select.content(rx.select.item("Keeps the deposit", value="true"),
                                         rx.select.item("Still refunds the deposit", value="false")),
                       value=f["late_cancel_keeps_deposit"], on_change=L.set_detail("late_cancel_keeps_deposit"),
                       size="2"),
                   hint="Clients see this rule when they book and cancel"),
            columns="2", spacing="3", width="100%"),
        _field("late_reschedule_is_late_cancel", "A client who moves their visit later than that",
               rx.select.root(
                   rx.select.trigger(id="loc-late_reschedule_is_late_cancel", width="100%"),
                   rx.select.content(rx.select.item("May do it once for free", value="false"),
                                     rx.select.item("Counts as a late cancellation", value="true")),
                   value=f["late_reschedule_is_late_cancel"],
                   on_change=L.set_detail("late_reschedule_is_late_cancel"), size="2"),
               hint="A late cancellation settles the deposit by the rule above; the new time is paid in full"),
        _cards_on_file(),
        _series_block(),
        rx.el.datalist(rx.foreach(L.time_zones, lambda z: rx.el.option(value=z)), id="loc-zones"),
        spacing="3", width="100%")


def _cards_on_file() -> rx.Component:
    """Cards on file (issue 16), a block of its own: whether online booking saves a card."""
    f = L.loc_form
    return _field("card_required", "Require a card on file to book",
                  rx.select.root(
                      rx.select.trigger(id="loc-card_required", width="100%"),
                      rx.select.content(rx.select.item(CARD_LINES[False], value="false"),
                                        rx.select.item(CARD_LINES[True], value="true")),
                      value=f["card_required"], on_change=L.set_detail("card_required"), size="2"),
                  hint="Clients save a card when they book online (even without a deposit); the clinic sees "
                       "only its brand and last four digits, and the booking is confirmed once the card is saved")


def _series_block() -> rx.Component:
    """Recurring series (issue 16, section 2): which visits of a series booked at the desk
    take the service's deposit (scheduling.series.deposit_due_cents)."""
    f = L.loc_form
    return _field("series_deposit_each_visit", "Deposit for a recurring series",
                  rx.select.root(
                      rx.select.trigger(id="loc-series_deposit_each_visit", width="100%"),
                      rx.select.content(rx.select.item("First visit only", value="false"),
                                        rx.select.item("Each visit", value="true")),
                      value=f["series_deposit_each_visit"], on_change=L.set_detail("series_deposit_each_visit"),
                      size="2"),
                  hint="The service's deposit, shown as due when the desk books a series")


def _span(day: DayForm, span: SpanText, index) -> rx.Component:
    bad = L.loc_errors.contains(f"hours-{day.weekday}")
    style = {"box_shadow": rx.cond(bad, INVALID, "")}
    return rx.hstack(
        rx.input(type="time", value=span.start, on_change=lambda v: L.set_span(day.weekday, index, "start", v),
                 size="1", width="110px", style=style, class_name="loc-span-start", aria_label="Opens at"),
        rx.text("–", size="2", color_scheme="gray"),
        rx.input(type="time", value=span.end, on_change=lambda v: L.set_span(day.weekday, index, "end", v),
                 size="1", width="110px", style=style, class_name="loc-span-end", aria_label="Closes at"),
        rx.icon_button(rx.icon("x", size=12), size="1", variant="ghost", color_scheme="gray", type="button",
                       on_click=L.remove_span(day.weekday, index), aria_label="Remove these hours"),
        spacing="2", align="center")


def _day(day: DayForm) -> rx.Component:
    return rx.hstack(
        rx.text(day.label, size="2", weight="medium", width="96px", flex_shrink="0", padding_top="4px"),
        rx.vstack(
            rx.cond(day.spans.length() > 0,
                    rx.vstack(rx.foreach(day.spans, lambda span, i: _span(day, span, i)), spacing="2"),
                    rx.text(rx.cond(L.hours_set, "Closed", "When providers work"), size="2", color_scheme="gray",
                            padding_top="4px", class_name="loc-day-closed")),
            _error(f"hours-{day.weekday}"),
            spacing="1"),
        rx.spacer(),
        rx.button(rx.icon("plus", size=12), "Hours", size="1", variant="ghost", type="button",
                  on_click=L.add_span(day.weekday), disabled=day.spans.length() >= 4),
        width="100%", align="start", padding_y="6px", border_bottom=f"1px solid {rx.color('gray', 3)}",
        class_name="loc-day", custom_attrs={"data-weekday": day.weekday})


def _hours() -> rx.Component:
    return rx.vstack(
        rx.vstack(rx.text("Opening hours", size="2", weight="bold"),
                  rx.text("Clients can book only inside these hours, and only when a provider works then. "
                          "Several intervals a day are fine (e.g. a lunch break). With no hours on any day, "
                          "the providers' working hours alone decide.", size="1", color_scheme="gray"),
                  spacing="0"),
        rx.vstack(rx.foreach(L.hours, _day), spacing="0", width="100%", id="loc-hours"),
        spacing="2", width="100%", padding_top="14px", border_top=f"1px solid {rx.color('gray', 4)}")


def _buttons(label, saving, cancel, save_id: str) -> rx.Component:
    return rx.hstack(
        rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray", on_click=cancel)),
        rx.button(label, type="submit", loading=saving, id=save_id),
        justify="end", width="100%", spacing="3", padding_top="6px")


def _form_error(error_id: str) -> rx.Component:
    return rx.cond(L.loc_error != "", rx.callout(L.loc_error, icon="circle-alert", color_scheme="red", size="1",
                                                 width="100%", id=error_id))


def location_dialog() -> rx.Component:
    """The add / edit dialog (open while LocationsState.loc_open)."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(L.loc_editing_id > 0, "Edit location", "New location")),
            rx.dialog.description("Where clients come, when it is open, and the cancellation policy.", size="2",
                                  color_scheme="gray", margin_bottom="12px"),
            rx.el.form(
                rx.vstack(_details(), _hours(), _form_error("loc-form-error"),
                          _buttons(rx.cond(L.loc_editing_id > 0, "Save changes", "Add location"), L.loc_saving,
                                   L.close_location, "loc-save"),
                          spacing="4", width="100%"),
                on_submit=L.save_location, prevent_default=True, width="100%"),
            max_width="680px", id="loc-dialog"),
        open=L.loc_open, on_open_change=lambda _o: L.close_location())


def closure_dialog() -> rx.Component:
    """The "add a closure" dialog (open while LocationsState.closure_open)."""
    f = L.closure_form
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Close ", L.closure_location_name),
            rx.dialog.description("No online or desk bookings are offered on these days. Visits already booked "
                                  "stay: you will see how many.", size="2", color_scheme="gray",
                                  margin_bottom="12px"),
            rx.el.form(
                rx.vstack(
                    rx.grid(
                        _input("start_date", "First closed day", f["start_date"], L.set_closure_field("start_date"),
                               type="date"),
                        _input("end_date", "Last closed day", f["end_date"], L.set_closure_field("end_date"),
                               type="date", hint="Empty: just the first day"),
                        columns="2", spacing="3", width="100%"),
                    _input("reason", "Reason", f["reason"], L.set_closure_field("reason"),
                           placeholder="e.g. Thanksgiving, staff training"),
                    _form_error("closure-form-error"),
                    _buttons("Add closure", L.loc_saving, L.close_closure, "closure-save"),
                    spacing="4", width="100%"),
                on_submit=L.save_closure, prevent_default=True, width="100%"),
            max_width="520px", id="closure-dialog"),
        open=L.closure_open, on_open_change=lambda _o: L.close_closure())
