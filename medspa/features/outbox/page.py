"""The owners' outbox at `/outbox` (owner and manager): every email and SMS of the clinic with
its delivery status, a filter bar, the full message in a dialog and "Resend" for a failed one;
owners also get a "Failed jobs" tab (the job queue's dead letters).

Other staff roles see a plain "not found" (missing and forbidden look alike); signed-out
visitors are sent to sign in.
"""

from __future__ import annotations

import reflex as rx

from medspa.features.auth.shell import not_found_view, staff_header
from medspa.features.outbox.detail import JobsState, MessageState
from medspa.features.outbox.jobs_view import jobs_panel
from medspa.features.outbox.message_view import message_dialog
from medspa.features.outbox.state import PAGE_SIZE, Option, OutboxState, RowView

ROUTE = "/outbox"
STATUS_ITEMS = (("all", "All"), ("waiting", "Waiting"), ("sent", "Sent"), ("failed", "Failed"))


def _labelled(label: str, child: rx.Component, error: str = "") -> rx.Component:
    s = OutboxState
    parts = [rx.text(label, size="1", weight="medium", color_scheme="gray"), child]
    if error:
        parts.append(rx.cond(s.field_errors.contains(error),
                             rx.text(s.field_errors[error], size="1", color=rx.color("red", 11),
                                     id=f"outbox-{error}-error")))
    return rx.vstack(*parts, spacing="1", width=rx.breakpoints(initial="100%", sm="auto"))


def _option(opt: Option) -> rx.Component:
    return rx.select.item(opt.label, value=opt.value)


def _status_item(key: str, label: str) -> rx.Component:
    count = OutboxState.counts[key].to_string()
    return rx.segmented_control.item(
        rx.hstack(rx.text(label), rx.cond(OutboxState.counts.contains(key),
                                          rx.text(count, color_scheme="gray", size="1", class_name="outbox-count")),
                  spacing="1", align="center"),
        value=key, id=f"outbox-status-{key}")


def _filters() -> rx.Component:
    s = OutboxState
    return rx.flex(
        _labelled("Status", rx.segmented_control.root(*(_status_item(k, v) for k, v in STATUS_ITEMS),
                                                      value=s.status, on_change=s.set_status,
                                                      size=rx.breakpoints(initial="1", sm="2"), id="outbox-status",
                                                      width=rx.breakpoints(initial="100%", sm="auto")), "status"),
        _labelled("Channel", rx.select.root(
            rx.select.trigger(id="outbox-channel", width=rx.breakpoints(initial="100%", sm="160px")),
            rx.select.content(rx.select.item("Email and SMS", value="all"), rx.select.item("Email", value="email"),
                              rx.select.item("SMS", value="sms")),
            value=s.channel, on_change=s.set_channel, size="2"), "channel"),
        _labelled("Kind", rx.select.root(
            rx.select.trigger(id="outbox-kind", width=rx.breakpoints(initial="100%", sm="190px")),
            rx.select.content(rx.foreach(s.kinds, lambda o: rx.select.item(o.label, value=o.value))),
            value=s.kind, on_change=s.set_kind, size="2"), "kind"),
        _labelled("Client", rx.input(rx.input.slot(rx.icon("search", size=14)), value=s.query,
                                     placeholder="Name, email or phone", on_change=s.set_query.debounce(300),
                                     id="outbox-client", size="2", width=rx.breakpoints(initial="100%", sm="230px"),
                                     auto_complete="off"), "client"),
        rx.grid(
            _labelled("From", rx.input(type="date", value=s.start, on_change=s.set_start, size="2", id="outbox-start",
                                       width=rx.breakpoints(initial="100%", sm="150px")), "start"),
            _labelled("To", rx.input(type="date", value=s.end, on_change=s.set_end, size="2", id="outbox-end",
                                     width=rx.breakpoints(initial="100%", sm="150px")), "end"),
            columns="2", spacing="3", align="start", width=rx.breakpoints(initial="100%", sm="auto")),
        rx.cond(s.locations.length() > 1,
                _labelled("Times in", rx.select.root(
                    rx.select.trigger(id="outbox-zone", width="220px"),
                    rx.select.content(rx.foreach(s.locations, _option)),
                    value=s.location, on_change=s.set_location, size="2"))),
        rx.button(rx.icon("rotate-ccw", size=14), "Clear", variant="ghost", color_scheme="gray", size="2",
                  on_click=s.clear_filters, id="outbox-clear", margin_top=rx.breakpoints(initial="0", sm="20px")),
        spacing="4", wrap="wrap", align="start", width="100%",
    )


def _status_badge(row: RowView) -> rx.Component:
    return rx.vstack(
        rx.badge(row.badge, color_scheme=row.tone, variant="soft", radius="full", class_name="outbox-badge"),
        rx.cond(row.reason != "", rx.text(row.reason, size="1", color_scheme="gray", max_width="260px",
                                          overflow="hidden", text_overflow="ellipsis", white_space="nowrap",
                                          title=row.label, class_name="outbox-reason")),
        spacing="1", align="start",
    )


def _what(row: RowView) -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.icon(rx.cond(row.channel == "SMS", "message-square", "mail"), size=14,
                          color=rx.color("gray", 10)),
                  rx.text(row.kind, size="2", weight="medium"), spacing="2", align="center"),
        rx.text(rx.cond(row.subject != "", row.subject,
                        rx.cond(row.channel == "SMS", "Text message", "Subject hidden")), size="1", color_scheme="gray",
                max_width=rx.breakpoints(initial="230px", sm="340px"), overflow="hidden", text_overflow="ellipsis",
                white_space="nowrap", title=row.subject),
        spacing="1", min_width="0",
    )


def _who(row: RowView) -> rx.Component:
    return rx.vstack(
        rx.text(rx.cond(row.client != "", row.client, "—"), size="2", weight="medium"),
        rx.text(row.address, size="1", color_scheme="gray"),
        spacing="0",
    )


def _row(row: RowView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.when, size="2", white_space="nowrap")),
        rx.table.cell(_what(row)),
        rx.table.cell(_who(row)),
        rx.table.cell(_status_badge(row)),
        rx.table.cell(rx.text(row.attempts, size="2"), justify="center"),
        on_click=MessageState.open_message(row.id),
        cursor="pointer",
        _hover={"background": rx.color("teal", 2)},
        class_name="outbox-row",
        custom_attrs={"data-id": row.id, "data-status": row.status},
    )


def _card(row: RowView) -> rx.Component:
    """A message as a card (phones): what, status, the reason, who and when."""
    return rx.vstack(
        rx.hstack(_what(row), rx.spacer(),
                  rx.badge(row.badge, color_scheme=row.tone, variant="soft", radius="full", flex_shrink="0"),
                  align="start", width="100%"),
        rx.cond(row.reason != "", rx.text(row.reason, size="1", color=rx.color("gray", 11), width="100%",
                                          overflow="hidden", text_overflow="ellipsis", white_space="nowrap")),
        rx.hstack(rx.text(rx.cond(row.client != "", row.client, row.address), size="2", weight="medium"),
                  rx.spacer(), rx.text(row.when, size="1", color_scheme="gray", white_space="nowrap"),
                  width="100%", align="center"),
        spacing="1", padding="12px 14px", border_bottom=f"1px solid {rx.color('gray', 4)}", cursor="pointer",
        width="100%", on_click=MessageState.open_message(row.id), class_name="outbox-card",
        custom_attrs={"data-id": row.id, "data-status": row.status},
    )


def _empty() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.center(rx.icon("inbox", size=26, color=rx.color("gray", 9)), width="52px", height="52px",
                      border_radius="full", background=rx.color("gray", 3)),
            rx.text(rx.cond(OutboxState.filtered, "No messages match", "No messages yet"), size="3",
                    weight="bold"),
            rx.text(rx.cond(OutboxState.filtered, "Try another status, channel, kind, client or dates. ", ""),
                    "Messages appear here as soon as a booking, cancellation, checkout or sign-in writes them.",
                    size="2", color_scheme="gray", text_align="center", max_width="420px"),
            rx.cond(OutboxState.filtered,
                    rx.button("Clear the filter", variant="soft", size="2", on_click=OutboxState.clear_filters)),
            align="center", spacing="2",
        ),
        padding="40px 16px", id="outbox-empty",
    )


def _pager() -> rx.Component:
    s = OutboxState
    first = s.page * PAGE_SIZE + 1
    last = s.page * PAGE_SIZE + s.rows.length()
    return rx.hstack(
        rx.text(first, " – ", last, " of ", s.total, ", newest first", size="1", color_scheme="gray",
                id="outbox-range"),
        rx.hstack(
            rx.button(rx.icon("chevron-left", size=14), "Newer", size="1", variant="soft",
                      disabled=s.page == 0, on_click=s.turn_page(-1), id="outbox-prev"),
            rx.button("Older", rx.icon("chevron-right", size=14), size="1", variant="soft",
                      disabled=(s.page + 1) * PAGE_SIZE >= s.total, on_click=s.turn_page(1), id="outbox-next"),
            spacing="2"),
        justify="between", align="center", width="100%", padding="10px 12px",
    )


def _list() -> rx.Component:
    s = OutboxState
    table = rx.table.root(
        rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in (
            "Created", "Message", "Recipient", "Status")), rx.table.column_header_cell("Attempts", justify="center"))),
        rx.table.body(rx.foreach(s.rows, _row)),
        size="2", variant="ghost", width="100%", id="outbox-table",
    )
    return rx.card(
        rx.cond(
            s.rows.length() > 0,
            rx.fragment(
                rx.box(table, display=rx.breakpoints(initial="none", sm="block"), overflow_x="auto"),
                rx.box(rx.foreach(s.rows, _card), display=rx.breakpoints(initial="block", sm="none"),
                       id="outbox-cards"),
                _pager(),
            ),
            rx.cond(s.allowed & ~s.busy, _empty()),
        ),
        width="100%", padding="0", opacity=rx.cond(s.busy, "0.55", "1"), transition="opacity 120ms",
    )


def _mail_banner() -> rx.Component:
    return rx.cond(
        ~OutboxState.mail_enabled,
        rx.callout.root(
            rx.callout.icon(rx.icon("mail-warning", size=16)),
            rx.callout.text(
                rx.text.strong("No mail server is set up. "),
                "Emails stay here in the outbox, marked “not sent: no mail server set up”, and nobody receives "
                "them. Ask whoever runs the server to set SMTP_HOST: emails written after that go out at once, and "
                "earlier ones wait here until you open one and press Send now.",
                rx.cond(~OutboxState.sms_enabled,
                        " Text messages likewise wait here, “not sent: no SMS provider set up”, until the Twilio "
                        "settings (TWILIO_ACCOUNT_SID and the rest) are set.", ""),
            ),
            color_scheme="amber", size="1", width="100%", id="outbox-mail-banner",
        ),
    )


def _messages() -> rx.Component:
    return rx.vstack(_filters(), _list(), spacing="4", width="100%", padding_top="4px")


def _view() -> rx.Component:
    s = OutboxState
    return rx.vstack(
        rx.hstack(rx.heading("Outbox", size="6", weight="bold"), rx.cond(s.busy, rx.spinner(size="2")),
                  align="center", spacing="3"),
        rx.text("Every email and text message the clinic sends, with where it stands. Open one to read it or send "
                "a failed one again; opening a message is recorded in the audit trail.", size="2",
                color_scheme="gray"),
        _mail_banner(),
        rx.tabs.root(
            rx.cond(s.show_jobs, rx.tabs.list(
                rx.tabs.trigger(rx.hstack(rx.icon("mail", size=14), "Messages", spacing="2", align="center"),
                                value="messages", id="outbox-tab-messages"),
                rx.tabs.trigger(rx.hstack(rx.icon("triangle-alert", size=14), "Failed jobs", spacing="2",
                                          align="center"), value="jobs", id="outbox-tab-jobs"),
                margin_bottom="12px")),
            rx.tabs.content(_messages(), value="messages"),
            rx.tabs.content(jobs_panel(), value="jobs"),
            value=s.tab, on_change=JobsState.open_tab, width="100%",
        ),
        message_dialog(),
        spacing="4", padding=rx.breakpoints(initial="12px", sm="20px"), width="100%", max_width="1300px",
        margin_x="auto",
    )


def outbox_page() -> rx.Component:
    """/outbox: not found for other roles, a spinner until the first load, then the view."""
    s = OutboxState
    return rx.box(
        rx.cond(s.not_found, not_found_view("outbox-not-found"),
                rx.cond(s.allowed, rx.fragment(staff_header("outbox"), _view()),
                        rx.center(rx.spinner(size="3"), padding_top="18vh"))),
        min_height="100vh", background=rx.color("gray", 2), id="outbox-page",
        custom_attrs={"data-busy": s.busy, "data-page": s.page},
    )


def register(app: rx.App) -> None:
    """Add /outbox (owner and manager)."""
    app.add_page(outbox_page, route=ROUTE, title="Outbox · medspa", on_load=OutboxState.load)
