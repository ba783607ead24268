"""The Locations tab of /settings: each location's details, weekly opening hours and coming
closures, with add / edit and add / remove closure. Loads when the tab is shown."""

from __future__ import annotations

import reflex as rx

from medspa.features.settings.fees import FeeSettingsState, fee_block, fee_dialog, fee_message
from medspa.features.settings.location_form import closure_dialog, location_dialog
from medspa.features.settings.location_state import ClosureView, LocationsState, LocationView
from medspa.features.settings.waitlist_block import waitlist_block

L = LocationsState


def _fact(icon: str, text) -> rx.Component:
    return rx.hstack(rx.icon(icon, size=14, color=rx.color("gray", 10), flex_shrink="0"),
                     rx.text(text, size="2"), spacing="2", align="center")


def _closure(c: ClosureView) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.hstack(rx.text(c.dates, size="2", weight="medium"), rx.text(c.reason, size="2", color_scheme="gray"),
                      spacing="2", wrap="wrap"),
            rx.cond(c.warning != "", rx.text(rx.icon("triangle-alert", size=12), c.warning, size="1",
                                             color=rx.color("amber", 11), display="flex", align_items="center",
                                             gap="0.3em", class_name="loc-closure-warning")),
            spacing="0"),
        rx.spacer(),
        rx.button("Reopen", size="1", variant="ghost", color_scheme="gray", on_click=L.remove_closure(c.id)),
        width="100%", align="center", padding_y="4px", class_name="loc-closure")


def _card(loc: LocationView) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.vstack(rx.heading(loc.name, size="4", class_name="loc-name"),
                          rx.cond(loc.address != "", rx.text(loc.address, size="2", color_scheme="gray")),
                          spacing="1"),
                rx.spacer(),
                rx.button(rx.icon("calendar-x", size=13), "Add closure", size="1", variant="soft",
                          color_scheme="amber", on_click=L.new_closure(loc.id), class_name="loc-add-closure"),
                rx.button(rx.icon("pencil", size=13), "Edit", size="1", variant="soft",
                          on_click=L.edit_location(loc.id), class_name="loc-edit"),
                width="100%", align="start", spacing="2"),
            rx.grid(
                rx.vstack(
                    rx.text("Details", size="1", weight="bold", color_scheme="gray", text_transform="uppercase"),
                    _fact("globe", loc.time_zone),
                    _fact("phone", rx.cond(loc.phone != "", loc.phone, "No phone")),
                    _fact("calendar-clock", loc.window),
                    _fact("credit-card", loc.cards),  # cards on file (issue 16)
                    _fact("repeat", loc.series),  # recurring series' deposit (issue 16)
                    spacing="2"),
                rx.vstack(
                    rx.text("Opening hours", size="1", weight="bold", color_scheme="gray", text_transform="uppercase"),
                    rx.foreach(loc.hours, lambda line: rx.text(line, size="2", white_space="pre-wrap",
                                                               font_variant_numeric="tabular-nums")),
                    spacing="1", class_name="loc-hours"),
                rx.vstack(
                    rx.text("Closures and holidays", size="1", weight="bold", color_scheme="gray",
                            text_transform="uppercase"),
                    rx.cond(loc.closures.length() > 0, rx.vstack(rx.foreach(loc.closures, _closure), spacing="1",
                                                                 width="100%"),
                            rx.text("None coming up", size="2", color_scheme="gray")),
                    spacing="2", width="100%"),
                columns=rx.breakpoints(initial="1", md="3"), spacing="5", width="100%"),
            fee_block(loc.id, loc.name),  # issue 16: late-cancel and no-show fees (features/settings/fees.py)
            waitlist_block(loc.id),  # issue 16: the waitlist's offer mode (a block of its own)
            spacing="4", width="100%"),
        width="100%", class_name="loc-card", custom_attrs={"data-location-id": loc.id})


def locations_tab() -> rx.Component:
    """The tab's content (loads the locations when shown)."""
    return rx.vstack(
        rx.flex(
            rx.vstack(rx.heading("Locations", size="4"),
                      rx.text("Where clients come, when each site is open and closed, and its cancellation window. "
                              "Changes apply to online and desk booking at once.", size="2", color_scheme="gray"),
                      spacing="1"),
            rx.button(rx.icon("plus", size=15), "New location", on_click=L.new_location, id="loc-new"),
            justify="between", align="end", width="100%", gap="12px", wrap="wrap"),
        rx.cond(L.loc_message != "", rx.callout(L.loc_message, icon="circle-check", color_scheme="grass", size="1",
                                                id="loc-message", width="100%")),
        rx.cond(L.loc_warning != "", rx.callout(L.loc_warning, icon="triangle-alert", color_scheme="amber",
                                                size="1", id="loc-warning", width="100%")),
        rx.cond((L.loc_error != "") & ~L.loc_open & ~L.closure_open,
                rx.callout(L.loc_error, icon="circle-alert", color_scheme="red", size="1", width="100%")),
        rx.cond(L.loc_loaded, rx.vstack(rx.foreach(L.locations, _card), spacing="3", width="100%"),
                rx.center(rx.spinner(size="3"), padding="32px", width="100%")),
        fee_message(),
        location_dialog(), closure_dialog(), fee_dialog(),
        spacing="4", width="100%", on_mount=[L.load_locations, FeeSettingsState.load_fees], id="loc-tab")
