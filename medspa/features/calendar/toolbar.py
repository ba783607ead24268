"""The calendar's chrome: the staff header with the live mark, the toolbar (today, previous/next,
date, location, view and span, cancelled filter) and the status legend."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

from medspa.domain.scheduling.models import AppointmentStatus
from medspa.features.auth.shell import staff_header
from medspa.features.calendar.layout import LEGEND, STATUS_ACCENT
from medspa.features.calendar.state import CalendarState, DetailState, LocationView


def _connection_mark(text: str, color: str, title: str, mark_id: str) -> rx.Component:
    return rx.hstack(
        rx.box(width="8px", height="8px", border_radius="50%", background=rx.color(color, 9),
               box_shadow=f"0 0 0 3px {rx.color(color, 4)}"),
        rx.text(text, size="1", weight="medium", color=rx.color(color, 11)),
        align="center", spacing="2", title=title, id=mark_id, role="status",
    )


def top_bar() -> rx.Component:
    """The calendar page's staff header with the "Live" mark, which says "Reconnecting…" while
    the page's connection to the server is down (clicks meanwhile wait and are sent after)."""
    live = rx.cond(
        has_connection_errors,
        _connection_mark("Reconnecting…", "amber", "The connection to the server dropped; your clicks are sent "
                         "when it is back", "cal-reconnecting"),
        _connection_mark("Live", "grass", "Changes made anywhere appear here within a second", "cal-live"),
    )
    return staff_header("calendar", live)


def _location_item(loc: LocationView) -> rx.Component:
    return rx.select.item(loc.name, value=loc.id.to_string())


def find_box() -> rx.Component:
    """The desk's search by booking code ("K7M2-Q9XD"): opens the visit's day and panel; a
    message beside the box when nothing is found."""
    return rx.form(
        rx.hstack(
            rx.input(name="code", placeholder="Booking code", size="2", id="cal-find-code", width="130px",
                     max_length=20, auto_complete="off", aria_label="Find a visit by its booking code"),
            rx.icon_button(rx.icon("search", size=16), type="submit", variant="soft", color_scheme="gray", size="2",
                           id="cal-find", aria_label="Find"),
            rx.cond(DetailState.find_error != "",
                    rx.text(DetailState.find_error, size="1", color_scheme="red", id="cal-find-error")),
            spacing="1", align="center",
        ),
        on_submit=DetailState.find_code,
        reset_on_submit=False,
    )


def _view_controls() -> rx.Component:
    """The toolbar's right side: location, span, view, the cancelled filter and the code search."""
    return rx.hstack(
        rx.select.root(
            rx.select.trigger(id="cal-location", placeholder="Location"),
            rx.select.content(rx.foreach(CalendarState.locations, _location_item)),
            value=CalendarState.location_id.to_string(),
            on_change=CalendarState.pick_location,
            size="2",
        ),
        rx.segmented_control.root(
            rx.segmented_control.item("Day", value="day"),
            rx.segmented_control.item("Week", value="week"),
            value=CalendarState.span,
            on_change=CalendarState.pick_span,
            size="2",
            id="cal-span",
        ),
        rx.cond(
            CalendarState.span == "day",
            rx.segmented_control.root(
                rx.segmented_control.item("Providers", value="providers"),
                rx.segmented_control.item("Rooms & devices", value="rooms"),
                value=CalendarState.view,
                on_change=CalendarState.pick_view,
                size="2",
                id="cal-view",
            ),
        ),
        rx.el.label(
            rx.hstack(
                rx.switch(checked=CalendarState.show_cancelled, on_change=CalendarState.toggle_cancelled,
                          size="1", id="cal-show-cancelled"),
                rx.text("Cancelled", size="2"),
                spacing="2", align="center",
            ),
        ),
        find_box(),
        spacing="3",
        align="center",
        wrap="wrap",
        min_width="0",
        id="cal-toolbar-view",
    )


def toolbar() -> rx.Component:
    """The calendar page's toolbar: today, previous/next, date, location, span, view, cancelled
    filter and the search by booking code."""
    return rx.hstack(
        rx.hstack(
            rx.button("Today", variant="outline", color_scheme="gray", size="2", on_click=CalendarState.go_today,
                      id="cal-today"),
            rx.hstack(
                rx.icon_button(rx.icon("chevron-left", size=18), variant="ghost", color_scheme="gray", size="2",
                               on_click=CalendarState.shift(-1), id="cal-prev", aria_label="Previous"),
                rx.icon_button(rx.icon("chevron-right", size=18), variant="ghost", color_scheme="gray", size="2",
                               on_click=CalendarState.shift(1), id="cal-next", aria_label="Next"),
                spacing="1",
            ),
            rx.vstack(
                rx.heading(rx.cond(CalendarState.span == "week", CalendarState.week_data.title,
                                   CalendarState.day_data.title), size="5", weight="bold", id="cal-title"),
                rx.hstack(
                    rx.icon("globe", size=12),
                    rx.text(rx.cond(CalendarState.span == "week", CalendarState.week_data.zone,
                                    CalendarState.day_data.zone), id="cal-zone"),
                    rx.text("·"),
                    rx.text(rx.cond(CalendarState.span == "week", CalendarState.week_data.counts,
                                    CalendarState.day_data.counts), id="cal-count"),
                    spacing="1", align="center", color=rx.color("gray", 10), font_size="12px",
                ),
                spacing="0",
            ),
            rx.input(type="date", value=CalendarState.day, on_change=CalendarState.pick_date, size="2",
                     id="cal-date", width="150px"),
            spacing="3",
            align="center",
            wrap="wrap",  # a phone: the date and its picker go under the day's title
            min_width="0",
            id="cal-toolbar-date",
        ),
        _view_controls(),
        justify="between",
        align="center",
        wrap="wrap",
        gap="12px",
        padding_x=rx.breakpoints(initial="10px", sm="20px"),
        padding_y="12px",
        width="100%",
        max_width="100%",
        id="cal-toolbar",
    )


def legend() -> rx.Component:
    """One coloured dot per appointment status, with its label."""
    def dot(status: str, label: str) -> rx.Component:
        accent = STATUS_ACCENT[status]
        return rx.hstack(
            rx.box(width="10px", height="10px", border_radius="3px", background=rx.color(accent, 9 if
                   status not in (AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED) else 7)),
            rx.text(label, size="1", color_scheme="gray"),
            spacing="1", align="center",
        )

    return rx.hstack(*(dot(s, l) for s, l in LEGEND), spacing="4", padding_x=rx.breakpoints(initial="10px", sm="20px"),
                     padding_bottom="10px", wrap="wrap")
