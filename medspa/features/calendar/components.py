"""The staff calendar's UI: toolbar, day grid, week grid, detail panel and booking dialog."""

from __future__ import annotations

import reflex as rx

from medspa.domain.identity.permissions import has_permission
from medspa.web.auth import STAFF_ROLES
from medspa.features.auth.shell import staff_header
from medspa.features.calendar.book_dialog import BookDialogState, Hit, Option
from medspa.features.calendar.layout import (
    LEGEND,
    STATUS_ACCENT,
    BlockView,
    CellView,
    ChipView,
    ColumnView,
    LineView,
    ShadeView,
    SlotView,
    WeekDayView,
    WeekRowView,
)
from medspa.features.calendar.state import CalendarState, DetailState, LocationView

GUTTER = "64px"
PANEL_WIDTH = "380px"  # the detail panel docks at the right; the page makes room for it
HEADER_HEIGHT = "64px"
HATCH = (f"repeating-linear-gradient(135deg, {rx.color('gray', 2)} 0 6px, {rx.color('gray', 3)} 6px 7px)")


# --------------------------------------------------------------------------- chrome


def top_bar() -> rx.Component:
    live = rx.hstack(
        rx.box(width="8px", height="8px", border_radius="50%", background=rx.color("grass", 9),
               box_shadow=f"0 0 0 3px {rx.color('grass', 4)}"),
        rx.text("Live", size="1", weight="medium", color=rx.color("grass", 11)),
        align="center", spacing="2", title="Changes made anywhere appear here within a second",
    )
    return staff_header("calendar", live)


def _location_item(loc: LocationView) -> rx.Component:
    return rx.select.item(loc.name, value=loc.id.to_string())


def toolbar() -> rx.Component:
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
        ),
        rx.hstack(
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
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        justify="between",
        align="center",
        wrap="wrap",
        gap="12px",
        padding_x="20px",
        padding_y="12px",
        width="100%",
    )


def legend() -> rx.Component:
    def dot(status: str, label: str) -> rx.Component:
        accent = STATUS_ACCENT[status]
        return rx.hstack(
            rx.box(width="10px", height="10px", border_radius="3px", background=rx.color(accent, 9 if
                   status not in ("completed", "cancelled") else 7)),
            rx.text(label, size="1", color_scheme="gray"),
            spacing="1", align="center",
        )

    return rx.hstack(*(dot(s, l) for s, l in LEGEND), spacing="4", padding_x="20px", padding_bottom="10px",
                     wrap="wrap")


# --------------------------------------------------------------------------- day grid


def _column_header(col: ColumnView) -> rx.Component:
    badge = rx.cond(
        col.kind == "provider",
        rx.center(rx.text(col.initials, size="1", weight="bold", color="white"),
                  width="30px", height="30px", min_width="30px", border_radius="50%", background=col.colour),
        rx.center(rx.cond(col.kind == "room", rx.icon("door-open", size=15), rx.icon("zap", size=15)),
                  width="30px", height="30px", min_width="30px", border_radius="8px",
                  background=rx.color("gray", 4), color=rx.color("gray", 11)),
    )
    return rx.hstack(
        badge,
        rx.vstack(
            # the full name, wrapped (the header grows), never cut after a word like "Treatment …"
            rx.text(col.name, size="2", weight="bold", line_height="1.2", overflow_wrap="anywhere",
                    max_width="100%", title=col.name, class_name="cal-col-name"),
            rx.text(rx.cond(col.hours_label != "", rx.cond(col.subtitle != "", col.subtitle + " · " + col.hours_label,
                                                          col.hours_label), col.subtitle),
                    size="1", color_scheme="gray", max_width="100%", line_height="1.3", class_name="cal-col-sub"),
            spacing="1",
            min_width="0",
        ),
        flex="1 1 0",
        min_width="0",
        padding_x="10px",
        padding_y="8px",
        align="center",
        spacing="2",
        border_left=f"1px solid {rx.color('gray', 4)}",
        custom_attrs={"data-column": col.id},
    )


def _hour_label(line: LineView) -> rx.Component:
    return rx.cond(
        line.major,
        rx.text(line.label, position="absolute", top=f"calc({line.top} - 7px)", right="8px", font_size="11px",
                color=rx.color("gray", 10), white_space="nowrap"),
    )


def _line(line: LineView) -> rx.Component:
    return rx.box(
        position="absolute", top=line.top, left="0", right="0", height="0",
        border_top=rx.cond(line.major, f"1px solid {rx.color('gray', 4)}", f"1px dashed {rx.color('gray', 3)}"),
        pointer_events="none",
    )


def _column_rule(col: ColumnView) -> rx.Component:
    return rx.box(position="absolute", top="0", bottom="0", left=col.left, width="0",
                  border_left=f"1px solid {rx.color('gray', 4)}", pointer_events="none")


def _shade(shade: ShadeView) -> rx.Component:
    return rx.box(position="absolute", top=shade.top, height=shade.height, left=shade.left, width=shade.width,
                  background=HATCH, pointer_events="none")


def _slot(slot: SlotView) -> rx.Component:
    return rx.box(
        rx.text("+ " + slot.label, font_size="11px", weight="medium", color=rx.color("teal", 11),
                padding_left="8px", line_height=slot.height),
        position="absolute", top=slot.top, height=slot.height, left=slot.left, width=slot.width,
        cursor="pointer", opacity="0", border_radius="4px",
        _hover={"opacity": "1", "background": rx.color("teal", 3)},
        on_click=BookDialogState.open_slot(slot.column_id, slot.minute),
        custom_attrs={"data-slot-column": slot.column_id, "data-slot-minute": slot.minute},
        class_name="cal-slot",
    )


def _block(block: BlockView) -> rx.Component:
    pill = rx.cond(
        block.pill != "",
        rx.text(block.pill, font_size="10px", weight="bold", padding_x="5px", border_radius="999px",
                background=block.pill_bg, color="white", white_space="nowrap", line_height="16px",
                flex_shrink="0"),
    )
    ellipsis = {"white_space": "nowrap", "overflow": "hidden", "text_overflow": "ellipsis", "max_width": "100%"}
    full = rx.vstack(
        rx.hstack(
            rx.text(block.time, font_size="11px", weight="medium", opacity="0.85", **ellipsis),
            pill,
            justify="between", width="100%", spacing="1", align="center",
        ),
        rx.text(block.client, font_size="13px", weight="bold", class_name="cal-client", **ellipsis),
        rx.text(block.service, font_size="11.5px", opacity="0.9", **ellipsis),
        spacing="0", width="100%",
    )
    medium = rx.vstack(
        rx.hstack(
            rx.text(block.client, font_size="12.5px", weight="bold", class_name="cal-client", **ellipsis),
            pill,
            justify="between", width="100%", spacing="1", align="center",
        ),
        rx.text(block.time + " · " + block.service, font_size="11px", opacity="0.85", **ellipsis),
        spacing="0", width="100%",
    )
    compact = rx.hstack(
        rx.text(block.client, font_size="11.5px", weight="bold", class_name="cal-client", **ellipsis),
        rx.text(block.service, font_size="11px", opacity="0.85", **ellipsis),
        spacing="1", align="center", width="100%", overflow="hidden",
    )
    return rx.box(
        rx.match(block.size, ("full", full), ("medium", medium), compact),
        position="absolute", top=block.top, height=block.height, left=block.left, width=block.width,
        background=rx.cond(block.kind == "block", HATCH, block.bg), color=block.fg,
        border_left=rx.cond(block.kind == "block", f"3px solid {rx.color('gray', 8)}", "3px solid " + block.stripe),
        outline=rx.cond(block.status == "held", f"1px dashed {rx.color('amber', 8)}", "none"),
        border_radius="6px", padding=rx.cond(block.size == "compact", "1px 6px", "3px 7px"), overflow="hidden",
        box_shadow=rx.cond(block.kind == "block", "none", "0 1px 2px rgba(16, 24, 40, 0.08)"),
        opacity=rx.cond(block.cancelled, "0.6", "1"),
        text_decoration=rx.cond(block.cancelled, "line-through", "none"),
        cursor=rx.cond(block.kind == "appointment", "pointer", "default"),
        z_index="2",
        transition="box-shadow 120ms ease",
        _hover={"box_shadow": "0 4px 12px rgba(16, 24, 40, 0.18)"},
        on_click=rx.cond(block.kind == "appointment", DetailState.open(block.appointment_id), rx.noop()),
        custom_attrs={"data-appointment": block.appointment_id, "data-status": block.status,
                      "data-kind": block.kind},
        class_name="cal-block",
    )


def _now_line() -> rx.Component:
    return rx.cond(
        CalendarState.day_data.now_top != "",
        rx.box(
            rx.box(position="absolute", left="-5px", top="-4px", width="10px", height="10px", border_radius="50%",
                   background=rx.color("red", 9)),
            position="absolute", top=CalendarState.day_data.now_top, left="0", right="0", height="2px",
            background=rx.color("red", 9), z_index="1", pointer_events="none", id="cal-now",
        ),
    )


def day_grid() -> rx.Component:
    d = CalendarState.day_data
    header = rx.hstack(
        rx.center(rx.text(CalendarState.day_data.zone.to(str).split(" · ")[0], size="1", color_scheme="gray"),
                  width=GUTTER, min_width=GUTTER),
        rx.foreach(d.columns, _column_header),
        spacing="0",
        align="stretch",
        min_height=HEADER_HEIGHT,
        position="sticky",
        top="0",
        z_index="5",
        background=rx.color("gray", 1),
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        box_shadow="0 1px 3px rgba(16, 24, 40, 0.06)",
        width="100%",
    )
    body = rx.hstack(
        rx.box(
            rx.foreach(d.lines, _hour_label),
            rx.cond(d.now_top != "", rx.text(d.now_label, position="absolute", top=f"calc({d.now_top} - 8px)",
                                              right="2px", font_size="9.5px", weight="bold", color="white",
                                              background=rx.color("red", 9), padding_x="3px",
                                              border_radius="4px", z_index="4", white_space="nowrap",
                                              line_height="16px")),
            position="relative", width=GUTTER, min_width=GUTTER, height=d.grid_height,
        ),
        rx.box(
            rx.foreach(d.shades, _shade),
            rx.foreach(d.lines, _line),
            rx.foreach(d.columns, _column_rule),
            rx.foreach(d.slots, _slot),
            rx.foreach(d.blocks, _block),
            _now_line(),
            position="relative", flex="1", height=d.grid_height, id="cal-body",
        ),
        spacing="0",
        width="100%",
        padding_bottom="24px",
    )
    empty = rx.center(
        rx.vstack(
            rx.icon("calendar-off", size=28, color=rx.color("gray", 9)),
            rx.text("Nobody is scheduled at this location on this day.", size="2", color_scheme="gray"),
            align="center",
        ),
        padding="4em",
    )
    return rx.cond(
        d.columns.length() > 0,
        rx.box(
            rx.box(header, body, min_width=d.min_width),
            overflow="auto",
            height="calc(100vh - 176px)",
            border_top=f"1px solid {rx.color('gray', 4)}",
            background=rx.color("gray", 1),
            id="cal-grid",
        ),
        empty,
    )


# --------------------------------------------------------------------------- week grid


def _week_head(day: WeekDayView) -> rx.Component:
    return rx.vstack(
        rx.text(day.label, size="2", weight="bold", color=rx.cond(day.today, rx.color("teal", 11), "inherit")),
        rx.text(day.count.to_string() + " booked", size="1", color_scheme="gray"),
        spacing="0",
        padding="10px",
        cursor="pointer",
        _hover={"background": rx.color("gray", 3)},
        on_click=CalendarState.show_day(day.day),
        border_bottom=rx.cond(day.today, f"2px solid {rx.color('teal', 9)}", f"1px solid {rx.color('gray', 5)}"),
        border_left=f"1px solid {rx.color('gray', 4)}",
        position="sticky", top="0", z_index="2", background=rx.color("gray", 1),
        custom_attrs={"data-week-day": day.day},
    )


def _chip(chip: ChipView) -> rx.Component:
    return rx.hstack(
        rx.text(chip.time, font_size="11px", weight="medium", white_space="nowrap", opacity="0.8"),
        rx.text(chip.client, font_size="11.5px", weight="bold", white_space="nowrap", overflow="hidden",
                text_overflow="ellipsis"),
        spacing="1",
        align="center",
        width="100%",
        overflow="hidden",
        padding="2px 6px",
        border_radius="5px",
        background=chip.bg,
        border_left="3px solid " + chip.stripe,
        opacity=rx.cond(chip.cancelled, "0.55", "1"),
        text_decoration=rx.cond(chip.cancelled, "line-through", "none"),
        cursor="pointer",
        title=chip.service,
        on_click=DetailState.open(chip.appointment_id),
        custom_attrs={"data-week-appointment": chip.appointment_id, "data-status": chip.status},
    )


def _cell(cell: CellView) -> rx.Component:
    return rx.vstack(
        rx.foreach(cell.chips, _chip),
        spacing="1",
        padding="6px",
        min_height="84px",
        background=rx.cond(cell.working, rx.cond(cell.today, rx.color("teal", 2), "transparent"), HATCH),
        border_left=f"1px solid {rx.color('gray', 4)}",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        custom_attrs={"data-week-cell": cell.day},
    )


def _week_row(row: WeekRowView) -> rx.Component:
    return rx.fragment(
        rx.hstack(
            rx.center(rx.text(row.column.initials, size="1", weight="bold", color="white"), width="28px",
                      height="28px", min_width="28px", border_radius="50%", background=row.column.colour),
            rx.vstack(rx.text(row.column.name, size="2", weight="bold"),
                      rx.text(row.column.subtitle, size="1", color_scheme="gray"), spacing="0"),
            padding="10px", align="center", spacing="2",
            border_bottom=f"1px solid {rx.color('gray', 4)}",
            position="sticky", left="0", background=rx.color("gray", 1), z_index="1",
        ),
        rx.foreach(row.cells, _cell),
    )


def week_grid() -> rx.Component:
    w = CalendarState.week_data
    return rx.box(
        rx.grid(
            rx.box(position="sticky", top="0", z_index="3", background=rx.color("gray", 1),
                   border_bottom=f"1px solid {rx.color('gray', 5)}"),
            rx.foreach(w.days, _week_head),
            rx.foreach(w.rows, _week_row),
            grid_template_columns="200px repeat(7, minmax(128px, 1fr))",
            min_width="1100px",
        ),
        overflow="auto",
        height="calc(100vh - 176px)",
        border_top=f"1px solid {rx.color('gray', 4)}",
        background=rx.color("gray", 1),
        id="cal-week",
    )


# --------------------------------------------------------------------------- detail panel


def _fact(icon: str, label: str, value, **props) -> rx.Component:
    return rx.hstack(
        rx.icon(icon, size=15, color=rx.color("gray", 10), margin_top="2px"),
        rx.vstack(rx.text(label, size="1", color_scheme="gray"), rx.text(value, size="2", **props), spacing="0"),
        spacing="3",
        align="start",
    )


# roles that see "Open chart" (the chart page checks chart.read on the server again)
CHART_ROLES = [r for r in sorted(STAFF_ROLES) if has_permission(r, "chart.read")]


def _open_chart() -> rx.Component:
    d = DetailState.detail
    return rx.cond(
        rx.Var.create(CHART_ROLES).contains(DetailState.staff_role) & (d.status != "held") & (d.status != "expired"),
        rx.link(rx.button(rx.icon("clipboard-pen-line", size=15), "Open chart", size="2", variant="soft",
                          width="100%"), href="/chart/" + d.id.to(str), id="detail-open-chart", width="100%"),
    )


def _checkout_error(name: str) -> rx.Component:
    message = DetailState.checkout_errors[name]
    return rx.cond(
        message,
        rx.text(rx.icon("circle-alert", size=14, flex_shrink="0"), message, id=f"checkout-{name}-error", role="alert",
                size="2", color=rx.color("red", 11), display="flex", align_items="center", gap="0.35em"),
    )


def _checkout_input(name: str, label: str, placeholder: str, **props) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=f"checkout-{name}", style={"font_weight": "500", "font_size": "0.85em"}),
        rx.input(id=f"checkout-{name}", name=name, placeholder=placeholder, size="2", width="100%",
                 input_mode="numeric", custom_attrs={"aria-describedby": f"checkout-{name}-error"}, **props),
        spacing="1", width="100%",
    )


def _checkout_section() -> rx.Component:
    """Checkout for a checked-in/completed visit (payment.take): sale, deposit applied,
    balance due, then a card form (test payments) or "Complete checkout" for a zero balance;
    afterwards "Checked out · $X paid"."""
    d = DetailState.detail

    def figure(label: str, value, fid: str, **props) -> rx.Component:
        return rx.hstack(rx.text(label, size="2", color_scheme="gray"), rx.text(value, size="2", id=fid, **props),
                         justify="between", width="100%")

    form = rx.form(
        rx.vstack(
            rx.cond(
                d.balance_due,
                rx.vstack(
                    rx.text("Test payments — 4242 4242 4242 4242, any future date, any CVC.", size="1",
                            color_scheme="amber"),
                    _checkout_input("card_number", "Card number", "4242 4242 4242 4242", auto_complete="cc-number"),
                    _checkout_error("card_number"),
                    _checkout_error("card"),
                    rx.flex(
                        _checkout_input("exp_month", "Month", "MM", max_length=2),
                        _checkout_input("exp_year", "Year", "YY", max_length=4),
                        _checkout_input("cvc", "CVC", "123", max_length=4),
                        spacing="2", width="100%",
                    ),
                    _checkout_error("exp_month"),
                    _checkout_error("exp_year"),
                    _checkout_error("cvc"),
                    rx.button(rx.icon("credit-card", size=15), "Charge " + d.balance, type="submit", size="2",
                              color_scheme="grass", width="100%", loading=DetailState.busy, id="checkout-pay"),
                    spacing="2", width="100%",
                ),
                rx.button(rx.icon("circle-check", size=15), "Complete checkout", type="submit", size="2",
                          color_scheme="grass", width="100%", loading=DetailState.busy, id="checkout-pay"),
            ),
            spacing="2", width="100%",
        ),
        on_submit=DetailState.checkout,
        reset_on_submit=False,
        width="100%",
    )
    return rx.cond(
        d.checked_out,
        rx.callout(d.paid_label, icon="receipt", color_scheme="grass", size="1", width="100%", id="checkout-done"),
        rx.cond(
            d.can_checkout,
            rx.card(
                rx.vstack(
                    rx.text("Check out", weight="bold", size="3"),
                    figure("Sale", d.sale, "checkout-sale"),
                    figure("Deposit applied", "− " + d.applied, "checkout-applied"),
                    rx.separator(size="4"),
                    figure("Balance due", d.balance, "checkout-balance", weight="bold"),
                    form,
                    spacing="2", width="100%",
                ),
                width="100%", id="checkout-section",
            ),
        ),
    )


def detail_panel() -> rx.Component:
    d = DetailState.detail
    actions = rx.vstack(
        rx.cond(DetailState.error != "", rx.callout(DetailState.error, icon="circle-alert", color_scheme="red",
                                                   size="1", width="100%", id="detail-error")),
        rx.cond(DetailState.notice != "", rx.callout(DetailState.notice, icon="circle-check", color_scheme="grass",
                                                    size="1", width="100%", id="detail-notice")),
        rx.cond(
            DetailState.confirm_cancel,
            rx.card(
                rx.vstack(
                    rx.text("Cancel this appointment?", weight="bold", size="2"),
                    rx.text(d.cancel_policy, size="2", id="detail-cancel-policy"),
                    rx.hstack(
                        rx.button("Keep it", variant="soft", color_scheme="gray", size="2",
                                  on_click=DetailState.ask_cancel(False)),
                        rx.button("Cancel appointment", color_scheme="red", size="2", on_click=DetailState.cancel,
                                  loading=DetailState.busy, id="detail-cancel-confirm"),
                        spacing="2", justify="end", width="100%",
                    ),
                    spacing="2",
                ),
                width="100%",
                background=rx.color("red", 2),
            ),
            rx.grid(
                rx.cond(d.can_check_in, rx.button(rx.icon("log-in", size=15), "Check in", size="2",
                                                  color_scheme="grass", on_click=DetailState.step("check_in"),
                                                  loading=DetailState.busy, id="detail-check-in")),
                rx.cond(d.can_complete, rx.button(rx.icon("circle-check", size=15), "Complete", size="2",
                                                  variant="soft", on_click=DetailState.step("complete"),
                                                  loading=DetailState.busy, id="detail-complete")),
                rx.cond(d.can_no_show, rx.button(rx.icon("user-x", size=15), "No-show", size="2", variant="soft",
                                                 color_scheme="tomato", on_click=DetailState.step("no_show"),
                                                 loading=DetailState.busy, id="detail-no-show")),
                rx.cond(d.can_cancel, rx.button(rx.icon("x", size=15), "Cancel", size="2", variant="outline",
                                                color_scheme="red", on_click=DetailState.ask_cancel(True),
                                                id="detail-cancel")),
                columns="2",
                spacing="2",
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
    )
    return rx.cond(
        DetailState.panel_open,
        rx.box(
            rx.vstack(
                rx.hstack(
                    rx.badge(d.status_label, color_scheme=d.accent.to(str), size="2", variant="solid",
                             radius="full", id="detail-status"),
                    rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray", size="2",
                                   on_click=DetailState.close, aria_label="Close", id="detail-close"),
                    justify="between", width="100%", align="center",
                ),
                rx.vstack(
                    rx.heading(d.client_name, size="6", weight="bold", id="detail-client"),
                    rx.hstack(
                        rx.box(width="10px", height="10px", border_radius="3px",
                               background="var(--" + d.colour + "-9)"),
                        rx.text(d.service_name, size="3", weight="medium", id="detail-service"),
                        rx.text("· " + d.category, size="2", color_scheme="gray"),
                        align="center", spacing="2",
                    ),
                    spacing="1",
                ),
                rx.card(
                    rx.vstack(
                        _fact("calendar", "When", d.date_label),
                        _fact("clock", "Time", d.time_label, id="detail-time"),
                        _fact("user-round", "Provider", d.provider_name, id="detail-provider"),
                        rx.cond(d.resources != "", _fact("door-open", "Room / device", d.resources)),
                        _fact("map-pin", "Location", d.location_name),
                        spacing="3",
                    ),
                    width="100%",
                ),
                rx.cond(
                    d.contact_visible,
                    rx.card(
                        rx.vstack(
                            rx.cond(d.client_phone != "", _fact("phone", "Phone", d.client_phone, id="detail-phone")),
                            rx.cond(d.client_email != "", _fact("mail", "Email", d.client_email, id="detail-email")),
                            spacing="3",
                        ),
                        width="100%",
                    ),
                ),
                rx.hstack(
                    rx.vstack(rx.text("Price", size="1", color_scheme="gray"), rx.text(d.price, size="2",
                              weight="bold"), spacing="0"),
                    rx.vstack(rx.text("Deposit paid", size="1", color_scheme="gray"),
                              rx.text(d.deposit_paid, size="2", weight="bold", id="detail-deposit"), spacing="0"),
                    rx.vstack(rx.text("Ref.", size="1", color_scheme="gray"),
                              rx.code(d.reference, size="1"), spacing="0"),
                    justify="between", width="100%",
                ),
                rx.text(d.source, size="1", color_scheme="gray"),
                _open_chart(),
                _checkout_section(),
                rx.separator(size="4"),
                actions,
                spacing="4",
                width="100%",
            ),
            position="fixed", top="0", right="0", height="100vh", width=PANEL_WIDTH, max_width="100vw",
            padding="20px", overflow_y="auto", z_index="20", background=rx.color("gray", 1),
            border_left=f"1px solid {rx.color('gray', 5)}", box_shadow="-12px 0 32px rgba(16, 24, 40, 0.12)",
            id="detail-panel", custom_attrs={"data-appointment-id": d.id},
        ),
    )


# --------------------------------------------------------------------------- booking dialog


def _error(name: str) -> rx.Component:
    return rx.cond(BookDialogState.errors.contains(name),
                   rx.text(BookDialogState.errors[name], size="1", color=rx.color("red", 11),
                           custom_attrs={"data-error": name}))


def _option(opt: Option) -> rx.Component:
    return rx.select.item(opt.label, value=opt.value)


def _hit(hit: Hit) -> rx.Component:
    return rx.hstack(
        rx.avatar(fallback=hit.name.to(str)[:1], size="1", radius="full"),
        rx.vstack(rx.text(hit.name, size="2", weight="medium"), rx.text(hit.hint, size="1", color_scheme="gray"),
                  spacing="0"),
        padding="6px 8px", border_radius="6px", cursor="pointer", width="100%", align="center",
        _hover={"background": rx.color("teal", 3)},
        on_click=BookDialogState.pick_client(hit.id),
        custom_attrs={"data-client-id": hit.id},
    )


def _client_section() -> rx.Component:
    s = BookDialogState
    search = rx.vstack(
        rx.input(placeholder="Search clients by name, email or phone", value=s.query,
                 on_change=s.search.debounce(250), id="book-search", name="client_search", width="100%", size="2",
                 auto_complete="off"),
        rx.cond(s.hits.length() > 0,
                rx.vstack(rx.foreach(s.hits, _hit), spacing="0", width="100%", max_height="180px",
                          overflow_y="auto", border=f"1px solid {rx.color('gray', 5)}", border_radius="8px",
                          padding="4px"),
                rx.cond(s.query.length() >= 2, rx.text("No clients found.", size="1", color_scheme="gray"))),
        rx.button(rx.icon("user-plus", size=14), "New client", variant="ghost", size="1",
                  on_click=s.set_mode("new"), id="book-new-client", type="button"),
        spacing="2", width="100%",
    )
    new = rx.vstack(
        rx.grid(
            rx.vstack(rx.input(name="first_name", placeholder="First name", id="book-first", width="100%"),
                      _error("first_name"), spacing="1"),
            rx.vstack(rx.input(name="last_name", placeholder="Last name", id="book-last", width="100%"),
                      _error("last_name"), spacing="1"),
            rx.vstack(rx.input(name="email", placeholder="Email (optional)", type="email", id="book-email",
                               width="100%"), _error("email"), spacing="1"),
            rx.vstack(rx.input(name="phone", placeholder="Mobile (optional)", type="tel", id="book-phone",
                               width="100%"), _error("phone"), spacing="1"),
            columns="2", spacing="2", width="100%",
        ),
        rx.button(rx.icon("search", size=14), "Find an existing client instead", variant="ghost", size="1",
                  on_click=s.set_mode("search"), type="button"),
        spacing="2", width="100%",
    )
    picked = rx.hstack(
        rx.avatar(fallback=s.client_label.to(str)[:1], size="2", radius="full", color_scheme="teal"),
        rx.text(s.client_label, size="3", weight="bold", id="book-client-picked"),
        rx.spacer(),
        rx.button("Change", variant="ghost", size="1", on_click=s.set_mode("search"), type="button"),
        align="center", width="100%", padding="8px", border_radius="8px", background=rx.color("teal", 2),
    )
    return rx.vstack(
        rx.text("Client", size="2", weight="bold"),
        rx.match(s.mode, ("new", new), ("picked", picked), search),
        _error("client"),
        spacing="2", width="100%",
    )


def _select(label: str, items, value, on_change, name: str, placeholder: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="bold"),
        rx.select.root(
            rx.select.trigger(placeholder=placeholder, width="100%", id=f"book-{name}"),
            rx.select.content(rx.foreach(items, _option)),
            value=value, on_change=on_change, size="2",
        ),
        _error(name),
        spacing="1", width="100%",
    )


def book_dialog() -> rx.Component:
    s = BookDialogState
    return rx.dialog.root(
        rx.dialog.content(
            rx.form(
                rx.vstack(
                    rx.dialog.title("Book a client", margin_bottom="0"),
                    rx.cond(s.errors.contains("general"),
                            rx.callout(s.errors["general"], icon="circle-alert", color_scheme="red", size="1",
                                       width="100%")),
                    rx.hstack(rx.icon("calendar-clock", size=15), rx.text(s.title, size="2"),
                              color=rx.color("gray", 11), align="center", spacing="2", id="book-when"),
                    _client_section(),
                    _select("Service", s.services, s.service, s.set_service, "service", "Choose a service"),
                    rx.grid(
                        _select("Provider", s.providers, s.provider, s.set_provider, "provider", "Provider"),
                        _select("Start", s.times, s.minute, s.set_minute, "time", "Time"),
                        columns="2", spacing="3", width="100%",
                    ),
                    rx.cond(s.alternatives.length() > 0,
                            rx.text("Free nearby: " + s.alternatives.join(", "), size="1", color_scheme="gray",
                                    id="book-alternatives")),
                    rx.callout("Desk bookings are confirmed at once; no deposit is charged.", icon="info",
                               size="1", color_scheme="gray", width="100%"),
                    rx.hstack(
                        rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", type="button")),
                        rx.button(rx.icon("calendar-check", size=15), "Book", type="submit", loading=s.busy,
                                  id="book-submit"),
                        justify="end", spacing="2", width="100%",
                    ),
                    spacing="4",
                    width="100%",
                ),
                on_submit=s.submit,
                reset_on_submit=False,
            ),
            max_width="520px",
            id="book-dialog",
        ),
        open=s.dialog_open,
        on_open_change=s.set_open,
    )
