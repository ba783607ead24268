"""`/clients`: every client in one place (search as you type, newest and today's clients,
paging) and `/clients/[client_id]`: the read-only profile (contact, visits, ledger; chart and
photo columns only for the roles that may read them; "Book again", "Book" and "Charts & photos"
come from clients/history.py). Roles without client.read see "not found"."""

from __future__ import annotations

import reflex as rx

from medspa.features.auth.shell import not_found_view, staff_header
from medspa.features.clients.edit import NEW_ROUTE, details_card
from medspa.features.clients.edit import register as register_edit
from medspa.features.consent.profile import consents_card
from medspa.features.clients.health_card import health_card
from medspa.features.clients.health_state import HealthCardState
from medspa.features.clients.history import ClientHistoryState, book_again_card, book_again_cell, clinical_section
from medspa.features.clients.records import documents_card, orders_card
from medspa.features.clients.records_state import ClientRecordsState
from medspa.features.clients.texts import ClientTextsState, texts_card
from medspa.features.clients.merging import ProfileMergeState, merged_banner, record_keeping_card
from medspa.features.photos.timeline import PhotoTimelineState, photo_timeline_card
from medspa.features.clients.state import (ClientProfileState, ClientRowView, ClientsState, FeeView, LedgerView,
                                           VisitView)

ROUTE = "/clients"
PROFILE_ROUTE = "/clients/[client_id]"
PLACEHOLDER = "Search by name, phone, email, date of birth or booking code"
WIDE_ONLY = rx.breakpoints(initial="none", md="table-cell")  # phones: name, phone and the last column


def _dash(value) -> rx.Component:
    return rx.cond(value != "", rx.text(value, size="2"), rx.text("—", size="2", color_scheme="gray"))


def _row(row: ClientRowView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row.name, href=row.href, weight="medium", size="2", class_name="client-link",
                              white_space="nowrap")),
        rx.table.cell(_dash(row.phone), white_space="nowrap", class_name="client-phone"),
        rx.table.cell(_dash(row.email), class_name="client-email", display=WIDE_ONLY),
        rx.table.cell(_dash(row.date_of_birth), white_space="nowrap", display=WIDE_ONLY),
        rx.table.cell(rx.cond(ClientsState.view == "today",
                              rx.badge(rx.icon("clock", size=12), row.visit, color_scheme="teal", variant="soft"),
                              rx.text(row.added, size="2", color_scheme="gray")), white_space="nowrap"),
        class_name="client-row",
        custom_attrs={"data-client-id": row.id},
    )


def _empty() -> rx.Component:
    s = ClientsState
    return rx.center(
        rx.vstack(
            rx.icon("search-x", size=28, color=rx.color("gray", 9)),
            rx.cond(s.searched,
                    rx.text("No client matches “", s.query, "”.", size="2", color_scheme="gray"),
                    rx.cond(s.view == "today", rx.text("No client has a visit today.", size="2", color_scheme="gray"),
                            rx.text("No clients yet. They appear here when they book.", size="2",
                                    color_scheme="gray"))),
            align="center", spacing="2",
        ),
        padding_y="48px", id="clients-empty",
    )


def _list_view() -> rx.Component:
    s = ClientsState
    table = rx.table.root(
        rx.table.header(rx.table.row(
            rx.table.column_header_cell("Name"), rx.table.column_header_cell("Phone"),
            rx.table.column_header_cell("Email", display=WIDE_ONLY),
            rx.table.column_header_cell("Date of birth", white_space="nowrap", display=WIDE_ONLY),
            rx.table.column_header_cell(rx.cond(s.view == "today", "Today's visit", "Added"), white_space="nowrap"),
        )),
        rx.table.body(rx.foreach(s.rows, _row)),
        size="2", variant="ghost", width="100%", id="clients-table",
    )
    pager = rx.hstack(
        rx.text("Page ", s.page, size="2", color_scheme="gray", id="clients-page"),
        rx.spacer(),
        rx.button(rx.icon("chevron-left", size=14), "Previous", size="2", variant="soft", color_scheme="gray",
                  disabled=s.page <= 1, on_click=s.previous_page, id="clients-prev"),
        rx.button("Next", rx.icon("chevron-right", size=14), size="2", variant="soft", disabled=~s.has_next,
                  on_click=s.next_page, id="clients-next"),
        width="100%", align="center", padding_top="8px",
    )
    return rx.vstack(
        rx.hstack(
            rx.vstack(
                rx.heading("Clients", size="6", weight="bold"),
                rx.text("Find anyone who has booked with the clinic. Open a client for visits and payments.",
                        size="2", color_scheme="gray"),
                spacing="1",
            ),
            rx.link(rx.button(rx.icon("user-plus", size=16), "New client", size="2"), href=NEW_ROUTE,
                    id="clients-new"),
            width="100%", align="end", justify="between", wrap="wrap",
        ),
        rx.card(
            rx.vstack(
                rx.flex(
                    rx.input(
                        rx.input.slot(rx.icon("search", size=16)),
                        placeholder=PLACEHOLDER, value=s.query, on_change=s.search.debounce(250),
                        id="clients-search", size="3", auto_complete="off", auto_focus=True,
                        aria_label="Search clients", flex="1", min_width="0", width="100%",
                    ),
                    rx.segmented_control.root(
                        rx.segmented_control.item("Newest", value="newest"),
                        rx.segmented_control.item("Today's clients", value="today"),
                        value=s.view, on_change=s.set_view, size="2", id="clients-view", flex_shrink="0",
                    ),
                    gap="12px", width="100%", align="center",
                    direction=rx.breakpoints(initial="column", sm="row"),
                ),
                rx.cond(s.rows.length() > 0, rx.box(table, width="100%", overflow_x="auto"), _empty()),
                rx.cond((s.page > 1) | s.has_next, pager),
                spacing="3", width="100%",
            ),
            width="100%",
        ),
        spacing="4", padding=rx.breakpoints(initial="12px", sm="20px"), width="100%", max_width="1200px",
        margin_x="auto",
    )


def clients_page() -> rx.Component:
    """The client list page."""
    s = ClientsState
    return rx.box(
        rx.cond(s.not_found, not_found_view("clients-not-found"),
                rx.cond(s.allowed, rx.fragment(staff_header("clients"), _list_view()),
                        rx.center(rx.spinner(size="3"), padding_top="18vh"))),
        min_height="100vh", background=rx.color("gray", 2), id="clients-page",
    )


# ---- the profile

def _fact(label: str, value, id_: str) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray", weight="medium"),
                     rx.box(_dash(value), id=id_), spacing="1", min_width="160px")


def _visit_row(v: VisitView, extra=None) -> rx.Component:
    p = ClientProfileState
    return rx.table.row(
        rx.table.cell(rx.text(v.when, size="2", white_space="nowrap")),
        rx.table.cell(rx.text(v.service, size="2")),
        rx.table.cell(rx.text(v.provider, size="2", white_space="nowrap")),
        rx.table.cell(rx.text(v.location, size="2", color_scheme="gray")),
        rx.table.cell(rx.badge(v.status_label, color_scheme=v.status_color, variant="soft")),
        rx.table.cell(rx.text(v.price, size="2"), text_align="right", white_space="nowrap"),
        rx.table.cell(rx.code(v.code, size="1", variant="ghost", white_space="nowrap")),
        rx.cond(p.clinical, rx.table.cell(
            rx.cond(v.chart != "", rx.link(rx.text(v.chart, text_transform="capitalize"), href=v.chart_href, size="2"),
                    rx.text("—", size="2", color_scheme="gray")), class_name="visit-chart")),
        rx.cond(p.photos, rx.table.cell(rx.text(v.photos, size="2"), class_name="visit-photos")),
        *([extra(v)] if extra else []),
        class_name="visit-row",
    )


def _visits(title: str, rows, id_: str, empty: str, extra=None) -> rx.Component:
    p = ClientProfileState
    header = rx.table.row(
        *(rx.table.column_header_cell(h) for h in ("When", "Service", "Provider", "Location", "Status")),
        rx.table.column_header_cell("Price", text_align="right"),
        rx.table.column_header_cell("Code"),
        rx.cond(p.clinical, rx.table.column_header_cell("Chart", id=f"{id_}-chart-col")),
        rx.cond(p.photos, rx.table.column_header_cell("Photos", id=f"{id_}-photos-col")),
        *([rx.table.column_header_cell("")] if extra else []),
    )
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(title, size="4"), rx.badge(rows.length(), variant="soft", color_scheme="gray"),
                      align="center", spacing="2"),
            rx.cond(rows.length() > 0,
                    rx.box(rx.table.root(rx.table.header(header), rx.table.body(rx.foreach(rows, lambda v: _visit_row(v, extra))),
                                         size="1", variant="ghost", width="100%"), width="100%", overflow_x="auto"),
                    rx.text(empty, size="2", color_scheme="gray")),
            spacing="3", width="100%",
        ),
        width="100%", id=id_,
    )


def _ledger_row(e: LedgerView) -> rx.Component:
    return rx.table.row(rx.table.cell(rx.text(e.when, size="2", white_space="nowrap")),
                        rx.table.cell(rx.text(e.kind, size="2")),
                        rx.table.cell(rx.text(e.amount, size="2"), text_align="right", white_space="nowrap"))


def _fee_row(f: FeeView) -> rx.Component:
    """A late-cancel / no-show fee: amber while unpaid, needs action (payments.fees)."""
    return rx.callout.root(
        rx.callout.icon(rx.icon(rx.cond(f.needs_action, "triangle-alert", "receipt"), size=16)),
        rx.callout.text(rx.text.strong(f.when), " · ", f.code, " · ", f.line),
        color_scheme=rx.cond(f.needs_action, "amber", "gray"), size="1", width="100%", class_name="profile-fee")


def _profile_view() -> rx.Component:
    p = ClientProfileState
    head = rx.card(
        rx.flex(
            rx.hstack(
                rx.avatar(fallback=p.name.to(str)[:1], size="5", radius="full", color_scheme="teal"),
                rx.vstack(rx.heading(p.name, size="6", id="profile-name"),
                          rx.text("Client since ", p.added, size="2", color_scheme="gray"), spacing="1"),
                align="center", spacing="4",
            ),
            rx.vstack(rx.text("Paid to date (net of refunds)", size="1", color_scheme="gray", weight="medium"),
                      rx.text(p.net_paid, size="5", weight="bold", id="profile-net-paid"), spacing="1",
                      align=rx.breakpoints(initial="start", sm="end")),
            justify="between", align=rx.breakpoints(initial="start", sm="center"), gap="16px", width="100%",
            direction=rx.breakpoints(initial="column", sm="row"),
        ),
        rx.separator(size="4", margin_y="16px"),
        rx.flex(_fact("Phone", p.phone, "profile-phone"), _fact("Email", p.email, "profile-email"),
                _fact("Date of birth", p.date_of_birth, "profile-dob"),
                rx.cond(p.card_on_file != "", _fact("Card on file", p.card_on_file, "profile-card")),
                gap="24px", wrap="wrap"),
        width="100%",
    )
    ledger = rx.card(
        rx.vstack(
            rx.heading("Ledger", size="4"),
            rx.cond(p.fees.length() > 0, rx.vstack(rx.foreach(p.fees, _fee_row), spacing="2", width="100%",
                                                   id="profile-fees")),
            rx.cond(p.ledger.length() > 0,
                    rx.table.root(rx.table.header(rx.table.row(
                        rx.table.column_header_cell("Date"), rx.table.column_header_cell("Entry"),
                        rx.table.column_header_cell("Amount", text_align="right"))),
                        rx.table.body(rx.foreach(p.ledger, _ledger_row)), size="1", variant="ghost", width="100%"),
                    rx.text("No payments yet.", size="2", color_scheme="gray")),
            spacing="3", width="100%",
        ),
        width="100%", id="profile-ledger",
    )
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Clients", size="2"), align="center", spacing="1"),
                href=ROUTE, id="profile-back", color=rx.color("gray", 11)),
        merged_banner(),
        head,
        details_card(),
        texts_card(),
        record_keeping_card(),
        health_card(),
        book_again_card(),
        _visits("Upcoming visits", p.upcoming, "profile-upcoming", "Nothing booked."),
        rx.cond(p.cancelled.length() > 0,  # cancelled, time still ahead: neither upcoming nor past
                _visits("Cancelled visits", p.cancelled, "profile-cancelled", "")),
        _visits("Past visits", p.past, "profile-past", "No visits yet.", extra=book_again_cell),
        clinical_section(),
        photo_timeline_card(),  # issue 18: provider and owner only (photo.read)
        consents_card(),  # issue 17: provider and owner only (consent.read)
        orders_card(),
        documents_card(),
        ledger,
        spacing="4", padding=rx.breakpoints(initial="12px", sm="20px"), width="100%", max_width="1200px",
        margin_x="auto", id="client-profile",
    )


def client_profile_page() -> rx.Component:
    """The client profile page."""
    p = ClientProfileState
    return rx.box(
        rx.cond(p.status == "not_found", not_found_view("profile-not-found"),
                rx.cond(p.status == "ready", rx.fragment(staff_header("clients"), _profile_view()),
                        rx.center(rx.spinner(size="3"), padding_top="18vh"))),
        min_height="100vh", background=rx.color("gray", 2), id="profile-page",
    )


def register(app: rx.App) -> None:
    """Add /clients and /clients/[client_id] (staff with client.read)."""
    app.add_page(clients_page, route=ROUTE, title="Clients · medspa", on_load=ClientsState.load)
    app.add_page(client_profile_page, route=PROFILE_ROUTE, title="Client · medspa",
                 on_load=[ClientProfileState.load, ProfileMergeState.clear, ClientHistoryState.load,
                          ClientRecordsState.load, HealthCardState.load_health, PhotoTimelineState.load,
                          ClientTextsState.load_texts])
    register_edit(app)
