"""The staff calendar page at `/calendar`; its tabs get live pushes through `medspa.live`."""

from __future__ import annotations

import reflex as rx

from medspa import live
from medspa.features.calendar.dialog import book_dialog
from medspa.features.calendar.edit_dialog import edit_dialog, move_refused_banner
from medspa.features.calendar.grid import day_grid, week_grid
from medspa.features.calendar.panel import detail_panel
from medspa.features.calendar.preset import ClientPresetState, preset_banner
from medspa.features.calendar.push import calendar_push
from medspa.features.calendar.state import CalendarState, DetailState
from medspa.features.calendar.style import PANEL_WIDTH
from medspa.features.calendar.toolbar import legend, toolbar, top_bar

ROUTE = "/calendar"


def calendar_page() -> rx.Component:
    """The /calendar page: header, toolbar, legend, the day or week grid, the side panel and book dialog."""
    return rx.box(
        top_bar(),
        toolbar(),
        legend(),
        preset_banner(),
        rx.cond(
            CalendarState.error != "",
            rx.callout(CalendarState.error, icon="circle-alert", color_scheme="red", margin_x="20px",
                       margin_bottom="10px", id="cal-error"),
        ),
        move_refused_banner(),
        rx.cond(CalendarState.span == "week", week_grid(), day_grid()),
        detail_panel(),
        book_dialog(),
        edit_dialog(),
        min_height="100vh",
        # the open detail panel never covers the toolbar or a block: the page narrows beside it
        padding_right=rx.cond(DetailState.panel_open, PANEL_WIDTH, "0px"),
        background=rx.color("gray", 2),
        id="calendar",
        custom_attrs={
            "data-day": CalendarState.day,
            "data-today": CalendarState.today,
            "data-view": CalendarState.view,
            "data-span": CalendarState.span,
            "data-location": CalendarState.location_id,
            "data-version": CalendarState.version,
            "data-worker": CalendarState.worker,
            "data-loads": CalendarState.loads,
        },
    )


def register(app: rx.App) -> None:
    """Add /calendar and subscribe its tabs to the live loop (started in medspa/medspa.py)."""
    app.add_page(calendar_page, route=ROUTE, title="Calendar · medspa", on_load=[CalendarState.load, ClientPresetState.load])
    live.subscribe(calendar_push(app))
