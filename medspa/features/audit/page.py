"""The owner's audit trail at `/audit`: filter bar, paginated table, CSV export.

Other staff roles see a plain "not found" (missing and forbidden look alike); signed-out
visitors are sent to sign in.
"""

from __future__ import annotations

import reflex as rx

from medspa.features.audit.state import ALL, PAGE_SIZE, AuditState, Hit, Option, RowView
from medspa.features.auth.shell import not_found_view, staff_header

ROUTE = "/audit"


def _option(opt: Option) -> rx.Component:
    return rx.select.item(opt.label, value=opt.value)


def _hit(hit: Hit) -> rx.Component:
    return rx.hstack(
        rx.text(hit.name, size="2", weight="medium"),
        rx.text(hit.hint, size="1", color_scheme="gray"),
        padding="6px 8px", border_radius="6px", cursor="pointer", width="100%", align="center",
        _hover={"background": rx.color("teal", 3)},
        on_click=AuditState.pick_client(hit.id),
        class_name="audit-client-hit",
        custom_attrs={"data-client-id": hit.id},
    )


def _labelled(label: str, child: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", weight="medium", color_scheme="gray"), child, spacing="1")


def _client_filter() -> rx.Component:
    s = AuditState
    picked = rx.badge(
        rx.icon("user", size=12), s.client_label,
        rx.icon_button(rx.icon("x", size=12), size="1", variant="ghost", on_click=s.clear_client,
                       id="audit-client-clear", aria_label="Any client"),
        size="2", color_scheme="teal", id="audit-client", padding_y="6px",
    )
    box = rx.box(
        rx.input(placeholder="Any client: search name, email, phone", value=s.query,
                 on_change=s.search_client.debounce(250), id="audit-client-search", width="260px", size="2",
                 auto_complete="off"),
        rx.cond(
            s.hits.length() > 0,
            rx.vstack(rx.foreach(s.hits, _hit), spacing="0", position="absolute", top="36px", left="0",
                      width="320px", z_index="10", background=rx.color("gray", 1), padding="4px",
                      border=f"1px solid {rx.color('gray', 6)}", border_radius="8px", box_shadow="0 8px 24px #0002",
                      id="audit-client-hits"),
        ),
        position="relative",
    )
    return _labelled("Client", rx.cond(s.client_id > 0, picked, box))


def _filters() -> rx.Component:
    s = AuditState
    return rx.hstack(
        _client_filter(),
        _labelled("Staff member", rx.select.root(
            rx.select.trigger(id="audit-staff", width="220px"),
            rx.select.content(rx.select.item("Anyone", value=ALL), rx.foreach(s.staff, _option)),
            value=s.staff_user, on_change=s.set_staff, size="2")),
        _labelled("From", rx.input(type="date", value=s.start, on_change=s.set_start, size="2", id="audit-start",
                                   width="150px")),
        _labelled("To", rx.input(type="date", value=s.end, on_change=s.set_end, size="2", id="audit-end",
                                 width="150px")),
        rx.cond(s.locations.length() > 1,
                _labelled("Days and times in", rx.select.root(
                    rx.select.trigger(id="audit-zone", width="240px"),
                    rx.select.content(rx.foreach(s.locations, _option)),
                    value=s.location, on_change=s.set_location, size="2")),
                rx.fragment()),
        rx.spacer(),
        rx.button(rx.icon("download", size=15), "Export CSV", on_click=s.export, size="2", id="audit-export",
                  variant="outline"),
        align="end",
        spacing="4",
        wrap="wrap",
        width="100%",
    )


def _cell(value, **props) -> rx.Component:
    return rx.table.cell(value, **props)


def _row(row: RowView) -> rx.Component:
    return rx.table.row(
        _cell(row.time, white_space="nowrap"),
        _cell(rx.vstack(rx.text(row.actor, size="2", weight="medium"),
                        rx.text(row.role, size="1", color_scheme="gray", text_transform="capitalize"), spacing="0")),
        _cell(rx.code(row.action, size="1", variant="soft")),
        _cell(row.object, white_space="nowrap"),
        _cell(rx.cond(row.client_href != "", rx.link(row.client, href=row.client_href, size="2"), row.client),
              class_name="audit-client-cell"),
        _cell(row.ip, white_space="nowrap"),
        _cell(rx.text(row.agent, size="1", color_scheme="gray", max_width="220px", overflow="hidden",
                      text_overflow="ellipsis", white_space="nowrap", title=row.agent)),
        class_name="audit-row",
        custom_attrs={"data-id": row.id},
    )


def _table() -> rx.Component:
    s = AuditState
    return rx.card(
        rx.table.root(
            rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in (
                "Time", "Staff member", "Action", "Object", "Client", "IP", "Browser")))),
            rx.table.body(rx.foreach(s.rows, _row)),
            size="1", variant="ghost", width="100%", id="audit-table",
        ),
        rx.cond(s.rows.length() == 0,
                rx.center(rx.text("No events match this filter.", size="2", color_scheme="gray"), padding="24px",
                          id="audit-empty")),
        rx.hstack(
            rx.text("Page ", (s.page + 1).to_string(), f" · {PAGE_SIZE} per page, newest first", size="1",
                    color_scheme="gray", id="audit-page-label"),
            rx.hstack(
                rx.button(rx.icon("chevron-left", size=14), "Newer", size="1", variant="soft",
                          disabled=s.page == 0, on_click=s.turn_page(-1), id="audit-prev"),
                rx.button("Older", rx.icon("chevron-right", size=14), size="1", variant="soft",
                          disabled=~s.has_more, on_click=s.turn_page(1), id="audit-next"),
                spacing="2",
            ),
            justify="between", align="center", width="100%", padding_top="10px",
        ),
        width="100%",
        overflow_x="auto",
    )


def _audit_view() -> rx.Component:
    s = AuditState
    return rx.vstack(
        rx.hstack(
            rx.heading("Audit trail", size="6", weight="bold"),
            rx.cond(s.busy, rx.spinner(size="2")),
            align="center", spacing="3",
        ),
        rx.text("Every read and change of client records and settings: who, when, from where. "
                "Searching and exporting this trail is recorded too.", size="2", color_scheme="gray"),
        _filters(),
        rx.cond(s.error != "", rx.callout(s.error, icon="circle-alert", color_scheme="red", size="1",
                                          id="audit-error", width="100%")),
        _table(),
        spacing="4",
        padding="20px",
        width="100%",
        max_width="1400px",
        margin_x="auto",
    )


def audit_page() -> rx.Component:
    s = AuditState
    return rx.box(
        rx.cond(s.not_found, not_found_view("audit-not-found"),
                rx.cond(s.allowed, rx.fragment(staff_header("audit"), _audit_view()),
                        rx.center(rx.spinner(size="3"), padding_top="18vh"))),
        min_height="100vh",
        background=rx.color("gray", 2),
        id="audit-page",
        custom_attrs={"data-page": s.page, "data-busy": s.busy},
    )


def register(app: rx.App) -> None:
    """Add /audit (owner only)."""
    app.add_page(audit_page, route=ROUTE, title="Audit trail · medspa", on_load=AuditState.load)
