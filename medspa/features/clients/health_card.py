"""The client profile's "Medical history" card and its version viewer (state: health_state.py)."""

from __future__ import annotations

import reflex as rx

from medspa.features.clients.health_state import HealthCardState
from medspa.features.health_form import SectionView, VersionView, section_form

H = HealthCardState


def _edit_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Edit " + H.edit_label),
        section_form(H, "Saving keeps the previous version in the history."),
        max_width="640px", id="health-edit"),
        open=H.edit_section != "", on_open_change=lambda _v: H.cancel_edit())


def _version(v: VersionView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(v.when, size="2"), rx.text(rx.cond(v.source != "", v.who + " · " + v.source, v.who), size="1",
                                                                    color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.text(v.section, size="2", weight="medium")),
        rx.table.cell(rx.hstack(
            rx.text(v.old, size="2", color=rx.color("gray", 11), text_decoration="line-through"),
            rx.icon("arrow-right", size=14, flex_shrink="0"),
            rx.text(v.new, size="2", weight="medium"), spacing="2", align="center", wrap="wrap")),
        class_name="health-version")


def _versions_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Medical history: every change"),
        rx.cond(H.versions.length() > 0,
                rx.box(rx.table.root(
                    rx.table.header(rx.table.row(rx.table.column_header_cell("When / who"),
                                                 rx.table.column_header_cell("Section"),
                                                 rx.table.column_header_cell("Old → new"))),
                    rx.table.body(rx.foreach(H.versions, _version)), size="1", width="100%"),
                    max_height="60vh", overflow_y="auto"),
                rx.text("No changes recorded yet.", size="2", color_scheme="gray")),
        rx.flex(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")), justify="end",
                margin_top="12px"),
        max_width="760px", id="health-versions"),
        open=H.versions_open, on_open_change=H.set_versions_open)


def _section(row: SectionView) -> rx.Component:
    return rx.hstack(
        rx.vstack(rx.text(row.label, size="1", weight="bold", color=rx.color("gray", 11)),
                  rx.text(row.text, size="2", color=rx.cond(row.recorded, rx.color("gray", 12), rx.color("gray", 9))),
                  spacing="0", flex="1", min_width="0"),
        rx.button(rx.icon("pencil", size=13), "Edit", variant="ghost", size="1", on_click=H.start_edit(row.key),
                  custom_attrs={"data-section": row.key}, class_name="health-edit-button"),
        align="start", width="100%", padding_y="6px", border_bottom=f"1px solid {rx.color('gray', 4)}",
        custom_attrs={"data-section-row": row.key})


def health_card() -> rx.Component:
    """The "Medical history" card (provider and owner only; nothing for anyone else)."""
    return rx.cond(H.health_show, rx.card(
        rx.vstack(
            rx.hstack(rx.hstack(rx.icon("heart-pulse", size=18, color=rx.color("red", 10)),
                                rx.heading("Medical history", size="4"), align="center", spacing="2"),
                      rx.spacer(),
                      rx.button(rx.icon("history", size=14), "History", variant="soft", size="1",
                                on_click=H.open_versions, id="health-history-button"),
                      align="center", width="100%"),
            rx.text(H.health_updated, size="1", color_scheme="gray", id="health-updated"),
            rx.grid(rx.foreach(H.health_rows, _section), columns=rx.breakpoints(initial="1", md="2"),
                    spacing_x="6", width="100%"),
            spacing="2", width="100%"),
        _edit_dialog(), _versions_dialog(), width="100%", id="profile-health"))
