"""`/campaigns`: marketing campaigns to a segment of clients (owner, manager: campaign.manage).

The list (status, audience, channel, when, sent / delivered / failed / skipped, bookings within
14 days and their value); "New campaign" opens the editor: the segment picker with its live
count (how many match, how many each channel reaches and who is skipped why), the channel, the
email's subject and text and the SMS (Jinja2, the client's variables), a preview for a client
of the segment, then "Send now" or a send time in a location's clock. A campaign's card shows
its results. Other roles see "not found". The state is features/campaigns/state.py.
"""

from __future__ import annotations

import reflex as rx

from medspa.domain.messaging.templates import SYNTAX_HELP
from medspa.features.auth.shell import not_found_view, staff_header
from medspa.features.campaigns.state import CampaignEditorState, CampaignRow, CampaignsState, Option

ROUTE = "/campaigns"
S = CampaignsState
E = CampaignEditorState

_STATUS_COLORS = {"draft": "gray", "scheduled": "blue", "sending": "amber", "queued": "amber", "sent": "green",
                  "cancelled": "red"}


def _error(key: str) -> rx.Component:
    return rx.cond(S.errors.contains(key), rx.text(S.errors.get(key, ""), size="1", color=rx.color("red", 11),
                                                   class_name="field-error", id=f"campaign-error-{key}"))


def _badge(status, label) -> rx.Component:
    return rx.badge(label, color_scheme=rx.match(status, *list(_STATUS_COLORS.items()), "gray"), variant="soft")


def _row(r: CampaignRow) -> rx.Component:
    return rx.table.row(
        # a button, not a link: no href to follow (a "#" link reloaded the page and closed the results)
        rx.table.cell(rx.button(r.name, on_click=S.open_campaign(r.id), variant="ghost", size="2", weight="medium",
                                cursor="pointer", class_name="campaign-open", type="button",
                                custom_attrs={"data-id": r.id})),
        rx.table.cell(_badge(r.status, r.status_label)),
        rx.table.cell(rx.vstack(rx.text(r.audience, size="2"), rx.text(r.channel, size="1", color_scheme="gray"),
                                spacing="0")),
        rx.table.cell(rx.text(r.when, size="1", color_scheme="gray")),
        *[rx.table.cell(v, text_align="right") for v in (r.queued, r.sent, r.delivered, r.failed)],
        rx.table.cell(rx.tooltip(rx.text(r.skipped, cursor=rx.cond(r.skipped_reasons != "", "help", "default")),
                                 content=rx.cond(r.skipped_reasons != "", r.skipped_reasons, "None skipped")),
                      text_align="right"),
        rx.table.cell(r.bookings, text_align="right"),
        rx.table.cell(r.booked, text_align="right"),
        class_name="campaign-row", custom_attrs={"data-name": r.name},
    )


def _list() -> rx.Component:
    heads = ("Campaign", "Status", "Audience", "When", "Queued", "Sent", "Delivered", "Failed", "Skipped", "Bookings",
             "Value")
    return rx.card(rx.cond(
        S.rows.length() > 0,
        rx.box(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(
                h, **({"text_align": "right"} if h in heads[4:] else {})) for h in heads])),
            rx.table.body(rx.foreach(S.rows, _row)), size="2", variant="ghost", width="100%", id="campaign-table"),
            width="100%", overflow_x="auto"),
        rx.vstack(rx.icon("megaphone", size=28, color=rx.color("gray", 9)),
                  rx.text("No campaigns yet. Bring back clients who have not been in for a while.", size="2",
                          color_scheme="gray"), align="center", padding="24px", width="100%")),
        width="100%")


def _figure(label: str, value, id_: str) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), rx.text(value, size="5", weight="bold", id=id_),
                     spacing="0", min_width="90px")


def _results() -> rx.Component:
    o = S.opened
    return rx.card(rx.vstack(
        rx.flex(
            rx.vstack(rx.hstack(rx.heading(o.name, size="4", id="campaign-title"), _badge(o.status, o.status_label),
                                align="center", spacing="2"),
                      rx.text(o.audience, " · ", o.channel, size="2", color_scheme="gray"),
                      rx.text(o.when, size="1", color_scheme="gray"), spacing="1"),
            rx.hstack(
                rx.cond(o.editable, rx.button(rx.icon("pencil", size=14), "Edit", variant="soft", size="2",
                                              on_click=E.edit_campaign, id="campaign-edit")),
                rx.cond(o.editable, rx.button("Cancel campaign", variant="soft", color_scheme="red", size="2",
                                              on_click=S.cancel_campaign, id="campaign-cancel")),
                rx.cond(o.stoppable, rx.button(rx.icon("octagon-x", size=14), "Stop sending", variant="soft",
                                               color_scheme="red", size="2", on_click=S.cancel_campaign,
                                               id="campaign-stop",
                                               title="Clients still waiting (quiet hours) will not get it; "
                                                     "messages already in the outbox still go.")),
                rx.button(rx.icon("refresh-cw", size=14), "Refresh", variant="ghost", size="2", on_click=S.refresh),
                rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray", on_click=S.close,
                               aria_label="Close", title="Close"),
                spacing="2", align="center"),
            justify="between", gap="12px", wrap="wrap", width="100%"),
        rx.flex(_figure("Queued", o.queued, "campaign-queued"), _figure("Sent", o.sent, "campaign-sent"),
                _figure("of them delivered", o.delivered, "campaign-delivered"),
                _figure("Failed", o.failed, "campaign-failed"),
                _figure("Quiet hours", o.waiting, "campaign-waiting"),
                _figure("Skipped", o.skipped, "campaign-skipped"),
                _figure("Bookings in 14 days", o.bookings, "campaign-bookings"),
                _figure("Booked value", o.booked, "campaign-booked"),
                gap="20px", wrap="wrap", padding_y="6px"),
        rx.cond(o.skipped_reasons != "", rx.text("Skipped: ", o.skipped_reasons, size="2", color_scheme="gray",
                                                 id="campaign-skip-reasons")),
        rx.cond(o.sent != "0", rx.text(o.sent_text, ".", size="2", id="campaign-sent-text")),
        rx.text("Queued: written to the outbox, not yet handed to the mail server or SMS provider (see /outbox: "
                "without one set up they stay there). Sent: handed over; delivered: the carrier confirmed it (texts). "
                "Quiet hours: clients for whom it is night get it when their quiet hours end (08:00 their time by "
                "default). Bookings: visits a client booked within 14 days of their message.", size="1",
                color_scheme="gray"),
        spacing="3", width="100%"), width="100%", id="campaign-results")


def _option(o: Option) -> rx.Component:
    return rx.select.item(o.label, value=o.value)


def _field(label: str, control: rx.Component, key: str) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"), control, _error(key), spacing="1", width="100%")


def _audience() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Who", size="3"),
        rx.flex(
            _field("Segment", rx.select.root(rx.select.trigger(width="100%", id="campaign-segment"),
                                             rx.select.content(rx.foreach(E.segment_options, _option)),
                                             value=E.f_segment, on_change=E.set_segment), "segment"),
            rx.cond(E.param_label != "", rx.vstack(
                rx.text(E.param_label, size="2", weight="medium"),
                rx.hstack(rx.input(value=E.f_param, on_change=E.set_param.debounce(400), width="80px",
                                   id="campaign-param", input_mode="numeric"),
                          rx.text(E.param_unit, size="2", color_scheme="gray"), align="center", spacing="2"),
                rx.cond(S.errors.contains("param_months"), _error("param_months")),
                rx.cond(S.errors.contains("param_days"), _error("param_days")),
                spacing="1")),
            _field("Channel", rx.select.root(rx.select.trigger(width="100%", id="campaign-channel"),
                                             rx.select.content(rx.select.item("Email", value="email"),
                                                               rx.select.item("Text message", value="sms"),
                                                               rx.select.item("Email and text", value="both")),
                                             value=E.f_channel, on_change=E.set_channel), "channel"),
            gap="16px", wrap="wrap", width="100%", align="start"),
        rx.text(E.segment_description, size="1", color_scheme="gray"),
        rx.callout(rx.vstack(rx.text(E.count_text, weight="bold", id="campaign-count"),
                             rx.foreach(E.count_detail, lambda line: rx.text(line, size="1")), spacing="1"),
                   icon="users", color_scheme="teal", size="1", width="100%"),
        rx.text("Only clients who agreed to marketing on a channel get it there; a number that replied STOP and an "
                "address that bounced are skipped.", size="1", color_scheme="gray"),
        spacing="3", width="100%"), width="100%")


def _message() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Message", size="3"),
        _field("Campaign name (staff only)", rx.input(value=E.f_name, on_change=E.set_name, id="campaign-name",
                                                      placeholder="e.g. Spring touch-up", width="100%"), "name"),
        rx.cond(E.uses_email, rx.vstack(
            _field("Email subject", rx.input(value=E.f_subject, on_change=E.set_subject, id="campaign-subject",
                                             width="100%"), "subject"),
            _field("Email", rx.text_area(value=E.f_body, on_change=E.set_body, id="campaign-body", rows="7",
                                         width="100%"), "body"),
            spacing="3", width="100%")),
        rx.cond(E.uses_sms, _field("Text message", rx.text_area(value=E.f_sms, on_change=E.set_sms, id="campaign-sms",
                                                                rows="3", width="100%"), "sms_body")),
        rx.text("Variables: {{ client.first_name }}, {{ client.last_name }}, {{ clinic.name }}, {{ links.book }}, "
                "{{ links.unsubscribe }}. " + SYNTAX_HELP + " An unsubscribe link (email) and \"Reply STOP to opt "
                "out.\" (text) are added when missing.", size="1", color_scheme="gray"),
        rx.hstack(rx.button(rx.icon("eye", size=14), "Preview", variant="soft", on_click=E.preview,
                            id="campaign-preview"),
                  rx.button("Save draft", variant="outline", on_click=E.save_draft, id="campaign-save"), spacing="2"),
        rx.cond(E.preview_for != "", rx.box(rx.vstack(
            rx.text("As ", E.preview_for, " would get it", size="1", color_scheme="gray"),
            rx.cond(E.preview_subject != "", rx.text(E.preview_subject, weight="bold", id="campaign-preview-subject")),
            rx.cond(E.preview_body != "", rx.text(E.preview_body, size="2", white_space="pre-wrap",
                                                  id="campaign-preview-body")),
            rx.cond(E.preview_sms != "", rx.box(rx.text(E.preview_sms, size="2", white_space="pre-wrap"),
                                                background=rx.color("teal", 3), padding="8px 12px",
                                                border_radius="12px", max_width="340px",
                                                id="campaign-preview-sms")),
            spacing="2", width="100%"), padding="12px", border=f"1px solid {rx.color('gray', 5)}",
            border_radius="8px", width="100%", background=rx.color("gray", 1))),
        spacing="3", width="100%"), width="100%")


def _send_now() -> rx.Component:
    """Send now behind a confirmation with the count preview's number; a spinner while it runs."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button(rx.cond(E.sending, rx.spinner(size="1"), rx.icon("send", size=14)),
                                          rx.cond(E.sending, "Sending…", "Send now"), disabled=E.sending,
                                          id="campaign-send-now", color_scheme="teal")),
        rx.alert_dialog.content(
            rx.alert_dialog.title(E.confirm_question, id="campaign-confirm-title"),
            rx.alert_dialog.description("The messages are written now; clients in quiet hours get theirs when "
                                        "their quiet hours end. This cannot be undone.", size="2"),
            rx.flex(rx.alert_dialog.cancel(rx.button("Not yet", variant="soft", color_scheme="gray")),
                    rx.alert_dialog.action(rx.button(rx.icon("send", size=14), "Send now", color_scheme="teal",
                                                     on_click=E.send_now, id="campaign-confirm-send")),
                    gap="10px", justify="end", margin_top="16px"),
            max_width="440px"))


def _send() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("When", size="3"),
        rx.flex(
            _send_now(),
            rx.text("or", size="2", color_scheme="gray"),
            rx.input(type="date", value=E.f_day, on_change=E.set_day, id="campaign-day", width="160px"),
            rx.input(type="time", value=E.f_wall, on_change=E.set_wall, id="campaign-time", width="120px"),
            rx.cond(S.locations.length() > 1,
                    rx.select.root(rx.select.trigger(id="campaign-location"),
                                   rx.select.content(rx.foreach(S.locations, _option)),
                                   value=E.f_location, on_change=E.set_location),
                    rx.text(S.locations[0].label, size="1", color_scheme="gray")),
            rx.button(rx.icon("calendar-clock", size=14), "Schedule", variant="soft", on_click=E.schedule,
                      id="campaign-schedule"),
            gap="10px", wrap="wrap", align="center"),
        _error("when"),
        rx.text("Clients in quiet hours (the clinic's setting, in each client's own time zone) get it when their "
                "quiet hours end.", size="1", color_scheme="gray"),
        spacing="3", width="100%"), width="100%")


def _editor() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.heading(rx.cond(E.edit_id > 0, "Edit campaign", "New campaign"), size="5"),
                  rx.button("Back to list", variant="ghost", on_click=S.close), justify="between", width="100%",
                  align="center"),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red", size="1",
                                          width="100%", id="campaign-error")),
        _audience(), _message(), _send(), spacing="4", width="100%", id="campaign-editor")


def _view() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.vstack(rx.heading("Campaigns", size="6", weight="bold"),
                      rx.text("Bring clients back: a message to a segment, with consent and quiet hours respected.",
                              size="2", color_scheme="gray"), spacing="1"),
            rx.cond(~S.editing, rx.button(rx.icon("plus", size=14), "New campaign", on_click=E.new_campaign,
                                          id="campaign-new")),
            justify="between", align="end", gap="12px", wrap="wrap", width="100%"),
        rx.cond(S.notice != "", rx.callout(S.notice, icon="info", color_scheme="teal", size="1", width="100%",
                                           id="campaign-notice")),
        rx.cond(S.editing, _editor(),
                rx.vstack(rx.cond(S.open_id > 0, _results()), _list(), spacing="4", width="100%")),
        spacing="4", padding="20px", width="100%", max_width="1100px", margin_x="auto")


def campaigns_page() -> rx.Component:
    """/campaigns: the list, editor or results; a spinner while loading, or "not found"."""
    return rx.box(
        rx.cond(S.status == "not_found", not_found_view("campaigns-not-found"),
                rx.cond(S.status == "ready", rx.fragment(staff_header("campaigns"), _view()),
                        rx.center(rx.spinner(size="3"), padding_top="18vh"))),
        min_height="100vh", background=rx.color("gray", 2), id="campaigns-page",
        custom_attrs={"data-status": S.status})


def register(app: rx.App) -> None:
    """Add /campaigns (owner, manager)."""
    app.add_page(campaigns_page, route=ROUTE, title="Campaigns · medspa", on_load=S.load)
