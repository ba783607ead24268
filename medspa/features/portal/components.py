"""Pieces of the client portal page: header, sign-in steps, visit cards, details, access log."""

from __future__ import annotations

import reflex as rx

from medspa.domain.scheduling.models import AppointmentStatus as A
from medspa.features.forms.portal_tab import forms_tab
from medspa.features.consent.portal import consents_tab
from medspa.features.manage.reasons import reason_picker
from medspa.features.photos.portal_tab import photos_tab
from medspa.features.portal.records import documents_tab, results_tab
from medspa.features.portal.health import health_tab
from medspa.features.portal.state import PortalState as S

ACCENT = "teal"
LABEL = {"font_weight": "500", "font_size": "0.9em"}
STATUS_COLORS = {A.CONFIRMED.value: "teal", A.CHECKED_IN.value: "blue", A.COMPLETED.value: "gray",
                 A.CANCELLED.value: "red", A.NO_SHOW.value: "amber"}


def header() -> rx.Component:
    """The client portal's header: clinic name, and "Sign out" once signed in."""
    return rx.box(
        rx.flex(
            rx.hstack(
                rx.center(rx.icon("flower-2", size=22, color="white"), width="40px", height="40px",
                          border_radius="12px", background=rx.color(ACCENT, 9), flex_shrink="0"),
                rx.vstack(
                    rx.heading(S.clinic_name, size="5", weight="bold", as_="h1", id="clinic-name"),
                    rx.text("Client portal", size="2", color_scheme="gray"),
                    spacing="0",
                ),
                spacing="3",
                align="center",
            ),
            rx.cond(
                S.step == "portal",
                rx.button(rx.icon("log-out", size=16), "Sign out", variant="soft", color_scheme="gray",
                          on_click=S.sign_out),
            ),
            justify="between",
            align="center",
            max_width="48em",
            margin_x="auto",
            padding_x=rx.breakpoints(initial="1em", sm="2em"),
            padding_y="1em",
            spacing="3",
        ),
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        background=rx.color("gray", 1),
    )


def error_line() -> rx.Component:
    """The client portal's sign-in error message (nothing when there is none)."""
    return rx.cond(
        S.error,
        rx.text(rx.icon("circle-alert", size=14, flex_shrink="0"), S.error, id="portal-error", role="alert",
                size="2", color=rx.color("red", 11), display="flex", align_items="center", gap="0.35em"),
    )


def email_step() -> rx.Component:
    """The client portal's first sign-in step: the email form that sends a 6-digit code."""
    return rx.form(
        rx.vstack(
            rx.heading("Sign in to your portal", size="6", as_="h2"),
            rx.text("See your visits, cancel one, and see who at the clinic looked at your record. "
                    "Use the email you booked with: we send you a 6-digit code, no password needed.",
                    size="2", color_scheme="gray"),
            rx.vstack(
                rx.el.label("Email", html_for="portal-email", style=LABEL),
                rx.input(rx.input.slot(rx.icon("mail", size=16)), id="portal-email", name="email", type="email",
                         default_value=S.email, placeholder="name@example.com", auto_complete="email",
                         size="3", width="100%", required=True),
                error_line(),
                spacing="1",
                width="100%",
            ),
            rx.button("Email me a code", type="submit", size="3", width="100%", loading=S.busy,
                      color_scheme=ACCENT),
            spacing="4",
            width="100%",
        ),
        on_submit=S.send_code,
        reset_on_submit=False,
        width="100%",
    )


def code_step() -> rx.Component:
    """The client portal's second sign-in step: the 6-digit code form."""
    return rx.vstack(
        rx.heading("Check your email", size="6", as_="h2"),
        rx.callout(S.info, icon="mail-check", color_scheme=ACCENT, width="100%", id="portal-info"),
        rx.text("Code sent to ", rx.text.strong(S.email), size="2", color_scheme="gray"),
        rx.form(
            rx.vstack(
                rx.el.label("6-digit code", html_for="portal-code", style=LABEL),
                rx.input(id="portal-code", name="code", input_mode="numeric", auto_complete="one-time-code",
                         max_length=6, placeholder="123456", size="3", width="100%",
                         style={"letter_spacing": "0.4em", "font_size": "1.3em", "text_align": "center"}),
                error_line(),
                rx.button("Sign in", type="submit", size="3", width="100%", loading=S.busy, color_scheme=ACCENT),
                spacing="2",
                width="100%",
            ),
            on_submit=S.verify,
            reset_on_submit=True,
            width="100%",
        ),
        rx.hstack(
            rx.link("Use another email", on_click=S.change_email, size="2", href="#"),
            rx.link("Send a new code", on_click=S.send_code({}), size="2", href="#"),
            justify="between",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def sign_in_card() -> rx.Component:
    """The client portal's sign-in card: the email step or the code step."""
    return rx.card(
        rx.cond(S.step == "code", code_step(), email_step()),
        size=rx.breakpoints(initial="2", sm="4"),
        width="100%",
        max_width="30em",
        margin_x="auto",
    )


def visit_card(v) -> rx.Component:
    """One visit card of the client portal, with "Cancel visit" when it can be cancelled."""
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.vstack(
                    rx.heading(v.service, size="4", as_="h4"),
                    rx.text(rx.icon("calendar", size=14), v.when, size="2", display="flex", align_items="center",
                            gap="0.4em"),
                    rx.text(rx.icon("user", size=14), v.provider, " · ", v.location, size="2", color_scheme="gray",
                            display="flex", align_items="center", gap="0.4em"),
                    spacing="1",
                ),
                rx.badge(v.status_label, color_scheme=rx.match(v.status, *STATUS_COLORS.items(), "gray"),
                         size="2", radius="full"),
                justify="between",
                align="start",
                gap="2",
                width="100%",
            ),
            rx.text(rx.icon("credit-card", size=14), v.deposit, size="2", color_scheme="gray", display="flex",
                    align_items="center", gap="0.4em"),
            rx.cond(
                v.can_cancel,
                rx.flex(
                    rx.text(v.policy, size="1", color_scheme="gray"),
                    rx.flex(
                        rx.cond(v.manage_url, rx.button(
                            rx.link(rx.icon("calendar-clock", size=16), "Reschedule", href=v.manage_url,
                                    underline="none", color="inherit", display="flex", align_items="center",
                                    gap="0.4em", aria_label="Reschedule " + v.service + " on " + v.when),
                            as_child=True, variant="soft", color_scheme=ACCENT, size="2")),
                        rx.button("Cancel visit", variant="soft", color_scheme="red", size="2",
                                  on_click=S.ask_cancel(v.id), aria_label="Cancel " + v.service + " on " + v.when),
                        gap="2",
                        flex_shrink="0",
                        direction="row",
                        width=rx.breakpoints(initial="100%", sm="auto"),
                        style={"& > *": {"flex": "1"}},
                    ),
                    justify="between",
                    align=rx.breakpoints(initial="stretch", sm="center"),
                    gap="3",
                    width="100%",
                    direction=rx.breakpoints(initial="column", sm="row"),
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="visit-card",
    )


def visits() -> rx.Component:
    """The client portal's Visits tab: upcoming, cancelled (still ahead) and past visits."""
    return rx.vstack(
        rx.heading("Upcoming", size="5", as_="h3"),
        rx.cond(
            S.upcoming.length() > 0,
            rx.vstack(rx.foreach(S.upcoming, visit_card), spacing="3", width="100%", id="upcoming"),
            rx.text("No upcoming visits.", size="2", color_scheme="gray", id="upcoming"),
        ),
        rx.cond(  # cancelled visits whose time is still ahead: neither upcoming nor past
            S.cancelled.length() > 0,
            rx.vstack(
                rx.heading("Cancelled", size="5", as_="h3", margin_top="1em"),
                rx.vstack(rx.foreach(S.cancelled, visit_card), spacing="3", width="100%"),
                spacing="3", width="100%", id="cancelled",
            ),
        ),
        rx.heading("Past", size="5", as_="h3", margin_top="1em"),
        rx.cond(
            S.past.length() > 0,
            rx.vstack(rx.foreach(S.past, visit_card), spacing="3", width="100%", id="past"),
            rx.text("No past visits yet.", size="2", color_scheme="gray", id="past"),
        ),
        spacing="3",
        width="100%",
    )


def detail_row(label: str, value) -> rx.Component:
    """One label and value of the client portal's "My details" list."""
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def my_details() -> rx.Component:
    """The client portal's "My details" tab: name and contacts, and the marketing switches."""
    d = S.details
    return rx.vstack(
        rx.heading("My details", size="5", as_="h3"),
        rx.card(
            rx.data_list.root(
                detail_row("Name", d.first_name + " " + d.last_name),
                detail_row("Email", d.email),
                detail_row("Mobile", rx.cond(d.phone, d.phone, "—")),
                orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
            ),
            width="100%",
        ),
        rx.text("To change your name or contact details, please call the clinic.", size="1", color_scheme="gray"),
        rx.heading("Marketing preferences", size="4", as_="h4", margin_top="0.5em"),
        rx.card(
            rx.vstack(
                rx.flex(
                    rx.vstack(rx.el.label("Offers and news by email", html_for="consent-email",
                                          style={"font_size": "0.9em"}),
                              rx.text(d.email_wording, size="1", color_scheme="gray", id="consent-email-wording"),
                              spacing="1"),
                    rx.switch(id="consent-email", checked=d.email_marketing, on_change=S.set_email_consent,
                              color_scheme=ACCENT),
                    justify="between", align="center", width="100%",
                ),
                rx.separator(size="4"),
                rx.flex(
                    rx.vstack(rx.el.label("Offers and news by text message", html_for="consent-sms",
                                          style={"font_size": "0.9em"}),
                              rx.text(d.sms_wording, size="1", color_scheme="gray", id="consent-sms-wording"),
                              spacing="1"),
                    rx.switch(id="consent-sms", checked=d.sms_marketing, on_change=S.set_sms_consent,
                              color_scheme=ACCENT),
                    justify="between", align="center", width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
        rx.text("Appointment confirmations are always sent.", size="1", color_scheme="gray"),
        spacing="3",
        width="100%",
    )


def access_row(e) -> rx.Component:
    """One entry of the client portal's access log: who, role, what and when."""
    return rx.flex(
        rx.center(rx.icon(rx.cond(e.role == "You, in the portal", "user-round", "shield-check"), size=16,
                          color=rx.color(ACCENT, 11)),
                  width="32px", height="32px", border_radius="50%", background=rx.color(ACCENT, 3), flex_shrink="0"),
        rx.vstack(
            rx.flex(
                rx.text(e.who, weight="bold", size="2"),
                rx.badge(e.role, variant="soft", color_scheme="gray", radius="full"),
                gap="2",
                align="center",
                wrap="wrap",
            ),
            rx.text(e.what, size="2"),
            rx.text(e.when, size="1", color_scheme="gray"),
            spacing="1",
            min_width="0",
        ),
        gap="3",
        padding_y="0.75em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        width="100%",
        class_name="access-entry",
    )


def access_log() -> rx.Component:
    """The client portal's "Record access" tab: who opened or changed the record."""
    return rx.vstack(
        rx.heading("Who accessed my record", size="5", as_="h3"),
        rx.text("Every time someone at the clinic opens or changes your record, it is written to a log that "
                "cannot be edited. Times are clinic time.", size="2", color_scheme="gray"),
        rx.cond(
            S.access.length() > 0,
            rx.card(
                rx.vstack(rx.foreach(S.access, access_row), spacing="0", width="100%"),
                width="100%",
                id="access-log",
            ),
            rx.text(rx.cond(S.access_loaded, "Nobody has accessed your record yet.", "Loading…"), size="2",
                    color_scheme="gray"),
        ),
        rx.cond(S.access_more, rx.button("Show older entries", variant="soft", on_click=S.older_access,
                                         id="access-older")),
        spacing="3",
        width="100%",
    )


def cancel_dialog() -> rx.Component:
    """The client portal's "Cancel this visit?" dialog with the deposit outcome."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Cancel this visit?"),
            rx.alert_dialog.description(S.preview.summary, size="2"),
            rx.form(
                rx.box(reason_picker(S.reason, S.set_reason, S.errors.get("note", ""), disabled=S.busy,
                                     prefix="portal-cancel"), margin_top="1em"),
                rx.callout(S.preview.message, icon=rx.cond(S.preview.late, "triangle-alert", "info"),
                           color_scheme=rx.cond(S.preview.late, "amber", ACCENT), margin_y="1em", id="cancel-policy"),
                rx.flex(
                    rx.alert_dialog.cancel(rx.button("Keep my visit", type="button", variant="soft",
                                                     color_scheme="gray", on_click=S.keep_visit)),
                    rx.button("Cancel visit", type="submit", color_scheme="red", loading=S.busy, id="confirm-cancel"),
                    justify="end",
                    gap="3",
                ),
                on_submit=S.confirm_cancel,
                reset_on_submit=False,
            ),
            max_width="28em",
        ),
        open=S.cancel_open,
    )


def portal_body() -> rx.Component:
    """The signed-in client portal: greeting, notice, the three tabs and the cancel dialog."""
    return rx.vstack(
        rx.heading("Hi " + S.details.first_name, size=rx.breakpoints(initial="6", sm="7"), as_="h2"),
        rx.cond(S.notice, rx.callout(S.notice, icon="circle-check", color_scheme=ACCENT, width="100%",
                                     id="portal-notice")),
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger("Visits", value="visits"),
                rx.tabs.trigger("Forms", value="forms"),
                rx.tabs.trigger("Consents", value="consents", id="portal-tab-consents"),
                rx.tabs.trigger("My details", value="details"),
                rx.tabs.trigger("Health", value="health"),
                rx.tabs.trigger("Documents", value="documents"),
                rx.tabs.trigger("Results", value="results"),
                rx.tabs.trigger("Photos", value="photos", id="portal-tab-photos"),
                rx.tabs.trigger("Record access", value="access"),
                size="2",
                overflow_x="auto",  # the tabs scroll sideways on a phone
                overflow_y="hidden",
                max_width="100%",
            ),
            rx.box(
                rx.match(S.tab, ("forms", forms_tab()), ("details", my_details()), ("health", health_tab()), ("access", access_log()),
                         ("consents", consents_tab()), ("documents", documents_tab()), ("results", results_tab()),
                         ("photos", photos_tab()), visits()),
                padding_top="1.25em",
            ),
            value=S.tab,
            on_change=S.open_tab,
            width="100%",
        ),
        cancel_dialog(),
        spacing="4",
        width="100%",
    )


def not_found() -> rx.Component:
    """The client portal's "Clinic not found" view for an unknown clinic slug."""
    return rx.center(
        rx.vstack(
            rx.icon("search-x", size=40, color=rx.color("gray", 9)),
            rx.heading("Clinic not found", size="6"),
            rx.text("Check the link from your booking email.", color_scheme="gray"),
            rx.link("Go to the start page", href="/"),
            align="center",
            spacing="3",
        ),
        min_height="70vh",
    )


def loading() -> rx.Component:
    """The client portal's spinner while the page loads."""
    return rx.center(rx.spinner(size="3"), min_height="60vh")
