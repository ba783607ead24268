"""The day grid (columns of providers or rooms, hour lines, blocks, free slots) and the week grid."""

from __future__ import annotations

import reflex as rx

from medspa.domain.clinical.consent import CONSENTS_SIGNED
from medspa.domain.clinical.forms import FORMS_DONE
from medspa.domain.scheduling.models import AppointmentStatus
from medspa.features.calendar.book_dialog import BookDialogState
from medspa.features.calendar.layout import (
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
from medspa.features.calendar.dnd import calendar_dnd, drag_item, drop_zone
from medspa.features.calendar.layout import PX_PER_MINUTE, SLOT_MINUTES
from medspa.features.calendar.move import MOVE_ROLES, MoveState
from medspa.features.calendar.state import CalendarState, DetailState
from medspa.features.calendar.style import GUTTER, HATCH, HEADER_HEIGHT, CLOSED_HATCH, MAINTENANCE_HATCH, TIME_OFF_HATCH


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
                  background=rx.cond(CalendarState.day_data.closure != "", CLOSED_HATCH, HATCH), pointer_events="none")


def _closed_label() -> rx.Component:
    """On a closed day, the reason over the shaded grid (visits booked before the closure still show)."""
    return rx.cond(
        CalendarState.day_data.closure != "",
        rx.center(rx.hstack(rx.icon("calendar-x", size=18), rx.text(CalendarState.day_data.closure, size="3",
                                                                     weight="bold"),
                            spacing="2", align="center", padding="8px 16px", border_radius="8px",
                            background=rx.color("gray", 1), color=rx.color("gray", 11),
                            border=f"1px solid {rx.color('gray', 6)}", box_shadow="0 1px 3px rgba(16, 24, 40, 0.08)"),
                  position="absolute", top="48px", left="0", right="0", z_index="1", pointer_events="none",
                  class_name="cal-closed-label"),
    )


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


def _paper_chip(words, done_words: str, class_name: str, title: str) -> rx.Component:
    """A paperwork status, small on the block: amber while due ("Forms 1/2"), green when done."""
    done = words == done_words
    return rx.cond(words != "", rx.text(
        words, font_size="9.5px", weight="bold", padding_x="4px", border_radius="4px", line_height="14px",
        white_space="nowrap", flex_shrink="0", background=rx.cond(done, "rgba(255,255,255,0.7)", rx.color("amber", 3)),
        color=rx.cond(done, rx.color("grass", 11), rx.color("amber", 11)),
        border=rx.cond(done, f"1px solid {rx.color('grass', 6)}", f"1px solid {rx.color('amber', 7)}"),
        class_name=class_name, title=title + words))


def _forms_chip(block: BlockView) -> rx.Component:
    """The visit's intake forms ("Forms 1/2", "Forms done") and consents ("Consents 0/1",
    "Consents signed") as two small chips."""
    return rx.fragment(_paper_chip(block.forms, FORMS_DONE, "cal-forms", "Intake forms: "),
                       _paper_chip(block.consents, CONSENTS_SIGNED, "cal-consents", "Consents: "))


def _block(block: BlockView) -> rx.Component:
    pill = rx.cond(
        block.pill != "",
        rx.text(block.pill, font_size="10px", weight="bold", padding_x="5px", border_radius="999px",
                background=block.pill_bg, color="white", white_space="nowrap", line_height="16px",
                flex_shrink="0"),
    )
    ellipsis = {"white_space": "nowrap", "overflow": "hidden", "text_overflow": "ellipsis", "max_width": "100%"}
    alert = rx.cond(block.alerts != "", rx.box(
        rx.icon("flag", size=11), title=block.alerts, aria_label="Alerts: " + block.alerts, role="img",
        display="inline-flex", align_items="center", justify_content="center", flex_shrink="0", width="16px",
        height="16px", border_radius="4px", background=rx.color("amber", 9), color="white", class_name="cal-alert"))
    forms = _forms_chip(block)
    health = rx.cond(block.health_flag != "", rx.box(  # a contraindication (issue 17): words in the title
        rx.icon("triangle-alert", size=11), title=block.health_flag, aria_label=block.health_flag, role="img",
        display="inline-flex", align_items="center", justify_content="center", flex_shrink="0", width="16px",
        height="16px", border_radius="4px", background=rx.color("red", 9), color="white", class_name="cal-health"))
    full = rx.vstack(
        rx.hstack(
            rx.text(block.time, font_size="11px", weight="medium", opacity="0.85", **ellipsis),
            pill,
            justify="between", width="100%", spacing="1", align="center",
        ),
        rx.hstack(health, alert, rx.text(block.client, font_size="13px", weight="bold", class_name="cal-client",
                                         **ellipsis),
                  spacing="1", align="center", width="100%"),
        rx.hstack(rx.text(block.service, font_size="11.5px", opacity="0.9", **ellipsis), forms,
                  spacing="1", align="center", width="100%"),
        spacing="0", width="100%",
    )
    medium = rx.vstack(
        rx.hstack(
            health, alert,
            rx.text(block.client, font_size="12.5px", weight="bold", class_name="cal-client", **ellipsis),
            rx.spacer(),
            pill,
            justify="between", width="100%", spacing="1", align="center",
        ),
        rx.hstack(rx.text(block.time + " · " + block.service, font_size="11px", opacity="0.85", **ellipsis), forms,
                  spacing="1", align="center", width="100%"),
        spacing="0", width="100%",
    )
    compact = rx.hstack(
        health, alert,
        rx.text(block.client, font_size="11.5px", weight="bold", class_name="cal-client", **ellipsis),
        rx.text(block.service, font_size="11px", opacity="0.85", **ellipsis),
        spacing="1", align="center", width="100%", overflow="hidden",
    )
    box = rx.box(
        rx.match(block.size, ("full", full), ("medium", medium), compact),
        width="100%", height="100%",
        background=rx.match(block.kind, ("block", HATCH), ("time_off", TIME_OFF_HATCH),
                            ("maintenance", MAINTENANCE_HATCH), block.bg), color=block.fg,
        border_left=rx.cond(block.kind == "block", f"3px solid {rx.color('gray', 8)}", "3px solid " + block.stripe),
        outline=rx.cond(block.status == AppointmentStatus.HELD, f"1px dashed {rx.color('amber', 8)}", "none"),
        border_radius="6px", padding=rx.cond(block.size == "compact", "1px 6px", "3px 7px"), overflow="hidden",
        box_shadow=rx.cond(block.kind == "appointment", "0 1px 2px rgba(16, 24, 40, 0.08)", "none"),
        title=rx.cond(block.kind == "appointment", "", block.time + " · " + block.client),
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
    # the placed, draggable wrapper (dnd.py): movable visits go to another time or provider column
    movable = block.movable & rx.Var.create(MOVE_ROLES).contains(CalendarState.staff_role)
    return drag_item(box, drag_id=block.drag_id, home=block.home, movable=movable, minute=block.minute,
                     at_top=block.top,
                     at_left=block.left, at_width=block.width, at_height=block.height,
                     custom_attrs={"data-drag": block.drag_id})


def _drop_column(col: ColumnView) -> rx.Component:
    return drop_zone(drop_id="c" + col.id.to_string(), at_left=col.left, at_width=col.width,
                     custom_attrs={"data-drop-column": col.id})


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
    """The calendar page's day grid: column headers, hour labels, blocks, free slots and the now line."""
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
            calendar_dnd(rx.foreach(d.columns, _drop_column), rx.foreach(d.blocks, _block),
                         snap_px=PX_PER_MINUTE * SLOT_MINUTES, px_per_minute=PX_PER_MINUTE, settle=MoveState.moves,
                         on_move=MoveState.drop),
            _closed_label(),
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
    banner = rx.cond(
        (d.closure != "") | (d.notices.length() > 0),
        rx.flex(
            rx.cond(d.closure != "", rx.hstack(
                rx.icon("calendar-x", size=15), rx.text(d.closure, size="2", weight="bold"),
                spacing="2", align="center", padding="4px 10px", border_radius="6px",
                background=CLOSED_HATCH, color=rx.color("gray", 12), border=f"1px solid {rx.color('gray', 6)}",
                id="cal-closure")),
            rx.foreach(d.notices, lambda n: rx.hstack(
                rx.icon("wrench", size=14), rx.text(n, size="1", weight="medium"),
                spacing="2", align="center", padding="4px 10px", border_radius="6px",
                background=rx.color("orange", 3), color=rx.color("orange", 12),
                border=f"1px solid {rx.color('orange', 6)}", class_name="cal-notice")),
            gap="8px", wrap="wrap", padding="8px 12px", border_top=f"1px solid {rx.color('gray', 4)}",
            background=rx.color("gray", 2), id="cal-banner"),
    )
    return rx.cond(
        d.columns.length() > 0,
        rx.fragment(banner, rx.box(
            rx.box(header, body, min_width=d.min_width),
            overflow="auto",
            height=rx.cond((d.closure != "") | (d.notices.length() > 0), "calc(100vh - 218px)", "calc(100vh - 176px)"),
            border_top=f"1px solid {rx.color('gray', 4)}",
            background=rx.color("gray", 1),
            id="cal-grid",
        )),
        rx.fragment(banner, empty),
    )


# --------------------------------------------------------------------------- week grid


def _week_head(day: WeekDayView) -> rx.Component:
    return rx.vstack(
        rx.text(day.label, size="2", weight="bold", color=rx.cond(day.today, rx.color("teal", 11), "inherit")),
        rx.cond(day.closure != "",
                rx.text(day.closure, size="1", weight="medium", color=rx.color("gray", 11), white_space="nowrap",
                        overflow="hidden", text_overflow="ellipsis", max_width="100%", title=day.closure,
                        class_name="cal-week-closed"),
                rx.text(day.count.to_string() + " booked", size="1", color_scheme="gray")),
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
    health = rx.cond(chip.health != "", rx.box(  # as on the day's blocks: the words in the title
        rx.icon("triangle-alert", size=10), title=chip.health, aria_label=chip.health, role="img",
        display="inline-flex", align_items="center", justify_content="center", flex_shrink="0", width="14px",
        height="14px", border_radius="3px", background=rx.color("red", 9), color="white", class_name="week-health"))
    paperwork = rx.cond(chip.paperwork != "", rx.box(  # an amber dot: forms or consents still missing
        title="Still missing: " + chip.paperwork, aria_label="Still missing: " + chip.paperwork, role="img",
        width="7px", height="7px", border_radius="999px", flex_shrink="0", background=rx.color("amber", 9),
        margin_left="auto", class_name="week-paperwork"))
    return drag_item(rx.hstack(
        health,
        rx.text(chip.time, font_size="11px", weight="medium", white_space="nowrap", opacity="0.8"),
        rx.text(chip.client, font_size="11.5px", weight="bold", white_space="nowrap", overflow="hidden",
                text_overflow="ellipsis"),
        paperwork,
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
    ), drag_id="a" + chip.appointment_id.to_string(), home=chip.home,
        movable=chip.movable & rx.Var.create(MOVE_ROLES).contains(CalendarState.staff_role),
        custom_attrs={"data-drag": chip.appointment_id})


def _cell(cell: CellView, row: WeekRowView) -> rx.Component:
    return drop_zone(rx.vstack(
        rx.foreach(cell.chips, _chip),
        spacing="1",
        padding="6px",
        min_height="84px",
        flex="1",
        background=rx.cond(cell.working, rx.cond(cell.today, rx.color("teal", 2), "transparent"), HATCH),
        border_left=f"1px solid {rx.color('gray', 4)}",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        custom_attrs={"data-week-cell": cell.day},
    ), drop_id="w" + row.column.id.to_string() + "_" + cell.day)


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
        rx.foreach(row.cells, lambda cell: _cell(cell, row)),
    )


def week_grid() -> rx.Component:
    """The calendar page's week grid: one row per provider, one cell per day."""
    w = CalendarState.week_data
    return rx.box(
        calendar_dnd(rx.grid(
            rx.box(position="sticky", top="0", z_index="3", background=rx.color("gray", 1),
                   border_bottom=f"1px solid {rx.color('gray', 5)}"),
            rx.foreach(w.days, _week_head),
            rx.foreach(w.rows, _week_row),
            grid_template_columns="200px repeat(7, minmax(128px, 1fr))",
            min_width="1100px",
        ), snap_px=0, settle=MoveState.moves, on_move=MoveState.drop),
        overflow="auto",
        height="calc(100vh - 176px)",
        border_top=f"1px solid {rx.color('gray', 4)}",
        background=rx.color("gray", 1),
        id="cal-week",
    )


# --------------------------------------------------------------------------- detail panel
