"""The detail panel of one appointment: facts, chart link, checkout and the desk's actions."""

from __future__ import annotations

import reflex as rx

from medspa.domain.identity.permissions import has_permission
from medspa.domain.scheduling.models import AppointmentStatus
from medspa.domain.scheduling.policy import CANCEL_REASONS, CLINIC_REASONS
from medspa.features.calendar.checkout_rebook import checkout_rebook_section
from medspa.features.calendar.edit import EditVisitState
from medspa.features.calendar.fee_panel import fee_section
from medspa.features.calendar.state import DetailState
from medspa.features.forms.panel import forms_section
from medspa.features.calendar.style import PANEL_WIDTH
from medspa.web.auth import STAFF_ROLES


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
        rx.Var.create(CHART_ROLES).contains(DetailState.staff_role) & (d.status != AppointmentStatus.HELD)
        & (d.status != AppointmentStatus.EXPIRED),
        rx.link(rx.button(rx.icon("clipboard-pen-line", size=15), "Open chart", size="2", variant="soft",
                          width="100%"), href="/chart/" + d.id.to(str), id="detail-open-chart", width="100%"),
    )


# roles that see "Sign with client" (the tablet page checks consent.collect on the server again)
CONSENT_ROLES = [r for r in sorted(STAFF_ROLES) if has_permission(r, "consent.collect")]


def _sign_with_client() -> rx.Component:
    d = DetailState.detail
    return rx.cond(
        rx.Var.create(CONSENT_ROLES).contains(DetailState.staff_role) & (d.status != AppointmentStatus.HELD)
        & (d.status != AppointmentStatus.EXPIRED),
        rx.link(rx.button(rx.icon("signature", size=15), "Sign with client", size="2", variant="soft",
                          color_scheme="gray", width="100%"), href="/consent/" + d.id.to(str),
                id="detail-sign-consent", width="100%"),
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


def _pay_with() -> rx.Component:
    """With a card on file (trial finding 6): "Charge Visa ••4242" or "Type another card", the
    card on file's decline or authentication message right under the choice."""
    d = DetailState.detail

    def item(value: str, *label) -> rx.Component:
        return rx.text(rx.flex(rx.radio_group.item(value=value, id=f"checkout-pay-{value}"), *label, gap="2",
                               align="center"), as_="label", size="2")

    return rx.cond(
        d.checkout_card_id > 0,
        rx.vstack(
            rx.radio_group.root(
                rx.flex(item("card_on_file", rx.text("Charge ", rx.text.strong(d.checkout_card), " (card on file)",
                                                     as_="span")),
                        item("typed", "Type another card"), direction="column", gap="6px"),
                value=DetailState.pay_with, on_change=DetailState.pick_pay_with, id="checkout-pay-with",
                name="checkout-pay-with",  # state-bound; named: Reflex 0.11 drops id-only form fields
            ),
            _checkout_error("saved_card"),
            spacing="2", width="100%",
        ),
    )


def _checkout_section() -> rx.Component:
    """Checkout for a checked-in/completed visit (payment.take): sale, deposit applied,
    balance due, then a card form (test payments) or "Complete checkout" for a zero balance;
    afterwards "Checked out · $X paid"."""
    d = DetailState.detail
    typed = (d.checkout_card_id == 0) | (DetailState.pay_with == "typed")  # the card form shows

    def figure(label: str, value, fid: str, **props) -> rx.Component:
        return rx.hstack(rx.text(label, size="2", color_scheme="gray"), rx.text(value, size="2", id=fid, **props),
                         justify="between", width="100%")

    form = rx.form(
        rx.vstack(
            rx.cond(
                d.balance_due,
                rx.vstack(
                    _pay_with(),
                    rx.cond(
                        typed,
                        rx.vstack(
                            rx.text("Test payments — 4242 4242 4242 4242, any future date, any CVC.", size="1",
                                    color_scheme="amber"),
                            _checkout_input("card_number", "Card number", "4242 4242 4242 4242",
                                            auto_complete="cc-number"),
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
                            spacing="2", width="100%",
                        ),
                    ),
                    rx.button(rx.icon("credit-card", size=15),
                              rx.cond(typed, "Charge " + d.balance, "Charge " + d.balance + " to " + d.checkout_card),
                              type="submit", size="2", color_scheme="grass", width="100%", loading=DetailState.busy,
                              id="checkout-pay"),
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


def _cancel_error(name: str) -> rx.Component:
    return rx.cond(DetailState.cancel_errors.contains(name),
                   rx.text(DetailState.cancel_errors[name], size="1", color=rx.color("red", 11),
                           id=f"detail-cancel-{name}-error", role="alert"))


SERIES_SCOPES = (("one", "This visit only"), ("following", "This and following"), ("all", "All visits still ahead"))


def _series_scope() -> rx.Component:
    """Which visits of the series to cancel (scheduling.series_changes.cancel_in_series: only confirmed
    visits still ahead are touched)."""
    return rx.vstack(
        rx.text("Which visits", size="1", color_scheme="gray"),
        rx.radio_group.root(
            rx.flex(*[rx.text(rx.flex(rx.radio_group.item(value=code, id=f"cancel-scope-{code}"), label, gap="2",
                                      align="center"), as_="label", size="2")
                      for code, label in SERIES_SCOPES],
                    wrap="wrap", column_gap="16px", row_gap="6px"),
            name="scope", default_value="one", id="detail-cancel-scope",
        ),
        spacing="1", width="100%",
    )


def _confirm_cancel() -> rx.Component:
    """The cancel confirmation: why (a reason, a note), the deposit policy of cancelling now,
    keep or cancel."""
    d = DetailState.detail
    reasons = rx.radio_group.root(
        rx.flex(*[rx.text(rx.flex(rx.radio_group.item(value=code, id=f"cancel-reason-{code}"), label, gap="2",
                                  align="center"), as_="label", size="2")
                  for code, label in CANCEL_REASONS],
                wrap="wrap", column_gap="16px", row_gap="6px"),
        name="reason", default_value="client_request", id="detail-cancel-reasons",
        on_change=DetailState.pick_cancel_reason,
    )
    clinic_reason = rx.Var.create(list(CLINIC_REASONS)).contains(DetailState.cancel_reason_picked)
    policy = rx.cond(clinic_reason & (d.cancel_policy_clinic != ""), d.cancel_policy_clinic, d.cancel_policy)
    return rx.card(
        rx.form(
            rx.vstack(
                rx.text("Cancel this appointment?", weight="bold", size="2"),
                rx.cond(d.series_ahead > 1, _series_scope()),
                rx.text("Reason", size="1", color_scheme="gray"),
                reasons,
                _cancel_error("reason"),
                rx.text_area(name="note", placeholder="Note (needed for Other)", rows="2", width="100%",
                             max_length=500, id="detail-cancel-note", aria_label="Cancellation note"),
                _cancel_error("note"),
                rx.text(policy, size="2", id="detail-cancel-policy"),
                rx.hstack(
                    rx.button("Keep it", variant="soft", color_scheme="gray", size="2", type="button",
                              on_click=DetailState.ask_cancel(False)),
                    rx.button("Cancel appointment", color_scheme="red", size="2", type="submit",
                              loading=DetailState.busy, id="detail-cancel-confirm"),
                    spacing="2", justify="end", width="100%",
                ),
                spacing="2",
            ),
            on_submit=DetailState.cancel,
            reset_on_submit=False,
        ),
        width="100%",
        background=rx.color("red", 2),
    )


def _confirm_no_show() -> rx.Component:
    """The no-show confirmation: what it costs (payments.fees.no_show_fee_preview: "A no-show fee of
    $75.00 applies: $50.00 from the deposit, $25.00 charged to Visa ••4242." / "No fee applies."),
    then Back or Mark as no-show."""
    d = DetailState.detail
    return rx.card(
        rx.vstack(
            rx.text("Mark as no-show?", weight="bold", size="2"),
            rx.text(d.no_show_preview, size="2", id="detail-no-show-preview"),
            rx.hstack(
                rx.button("Back", variant="soft", color_scheme="gray", size="2", type="button",
                          on_click=DetailState.ask_no_show(False), id="detail-no-show-back"),
                rx.button(rx.icon("user-x", size=15), "Mark as no-show", color_scheme="tomato", size="2",
                          on_click=DetailState.step("no_show"), loading=DetailState.busy,
                          id="detail-no-show-confirm"),
                spacing="2", justify="end", width="100%", wrap="wrap",
            ),
            spacing="2", width="100%",
        ),
        width="100%", background=rx.color("tomato", 2), id="detail-no-show-card",
    )


def _step_buttons() -> rx.Component:
    """Check in, complete, no-show and cancel, as this actor may now."""
    d = DetailState.detail
    return rx.grid(
        rx.cond(d.can_check_in, rx.button(rx.icon("log-in", size=15), "Check in", size="2",
                                          color_scheme="grass", on_click=DetailState.step("check_in"),
                                          loading=DetailState.busy, id="detail-check-in")),
        rx.cond(d.can_complete, rx.button(rx.icon("circle-check", size=15), "Complete", size="2",
                                          variant="soft", on_click=DetailState.step("complete"),
                                          loading=DetailState.busy, id="detail-complete")),
        rx.cond(d.can_no_show, rx.button(rx.icon("user-x", size=15), "No-show", size="2", variant="soft",
                                         color_scheme="tomato", on_click=DetailState.ask_no_show(True),
                                         loading=DetailState.busy, id="detail-no-show")),
        rx.cond(d.can_move, rx.button(rx.icon("calendar-clock", size=15), "Edit", size="2", variant="soft",
                                      on_click=EditVisitState.open, id="detail-edit")),
        rx.cond(d.can_cancel, rx.button(rx.icon("x", size=15), "Cancel", size="2", variant="outline",
                                        color_scheme="red", on_click=DetailState.ask_cancel(True),
                                        id="detail-cancel")),
        columns="2",
        spacing="2",
        width="100%",
    )


def _panel_actions() -> rx.Component:
    """Error and notice callouts, then the cancel confirmation or the step buttons."""
    return rx.vstack(
        rx.cond(DetailState.error != "", rx.callout(DetailState.error, icon="circle-alert", color_scheme="red",
                                                   size="1", width="100%", id="detail-error")),
        rx.cond(DetailState.notice != "", rx.callout(DetailState.notice, icon="circle-check", color_scheme="grass",
                                                    size="1", width="100%", id="detail-notice")),
        rx.cond(DetailState.confirm_cancel, _confirm_cancel(),
                rx.cond(DetailState.confirm_no_show, _confirm_no_show(), _step_buttons())),
        spacing="3",
        width="100%",
    )


def _panel_header() -> list[rx.Component]:
    """Status badge and close button; client, service and category."""
    d = DetailState.detail
    return [
        rx.hstack(
            rx.badge(d.status_label, color_scheme=d.accent.to(str), size="2", variant="solid",
                     radius="full", id="detail-status"),
            rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray", size="2",
                           on_click=DetailState.close, aria_label="Close", id="detail-close"),
            justify="between", width="100%", align="center",
        ),
        rx.vstack(
            rx.cond(d.profile_href != "",
                    rx.link(rx.heading(d.client_name, size="6", weight="bold", id="detail-client"),
                            href=d.profile_href, id="detail-profile-link", color="inherit", underline="hover",
                            title="Open the client's profile"),
                    rx.heading(d.client_name, size="6", weight="bold", id="detail-client")),
            rx.cond(d.client_alerts != "", rx.badge(rx.icon("flag", size=12), d.client_alerts, color_scheme="amber",
                                                    variant="soft", size="2", id="detail-alerts")),
            rx.cond(d.health_flags.length() > 0, rx.callout(  # issue 17: the words, not only a hover title
                rx.vstack(rx.foreach(d.health_flags, lambda f: rx.text(f, size="2", class_name="detail-health-flag")),
                          spacing="0"),
                icon="triangle-alert", color_scheme="red", size="1", width="100%", id="detail-health")),
            rx.hstack(
                rx.box(width="10px", height="10px", border_radius="3px",
                       background="var(--" + d.colour + "-9)"),
                rx.text(d.service_name, size="3", weight="medium", id="detail-service"),
                rx.text("· " + d.category, size="2", color_scheme="gray"),
                align="center", spacing="2",
            ),
            spacing="1",
        ),
    ]


def _card_on_file() -> rx.Component:
    """"Card on file · Visa ••4242" (issue 16), with a warning when it expires before the visit."""
    d = DetailState.detail
    return rx.fragment(
        rx.cond(d.card_on_file != "", _fact("credit-card", "Card on file", d.card_on_file, id="detail-card")),
        rx.cond(d.card_warning != "", rx.callout(d.card_warning, icon="triangle-alert", color_scheme="amber",
                                                 size="1", id="detail-card-warning")),
    )


def _panel_facts() -> list[rx.Component]:
    """When, time, provider, room, location; contact (with permission); price, deposit, reference."""
    d = DetailState.detail
    return [
        rx.card(
            rx.vstack(
                _fact("calendar", "When", d.date_label),
                _fact("clock", "Time", d.time_label, id="detail-time"),
                _fact("user-round", "Provider", d.provider_name, id="detail-provider"),
                rx.cond(d.resources != "", _fact("door-open", "Room / device", d.resources)),
                _fact("map-pin", "Location", d.location_name),
                rx.cond(d.cancel_reason != "", _fact("ban", "Cancelled", d.cancel_reason, id="detail-cancel-reason")),
                _card_on_file(),
                rx.cond(d.series_label != "", _fact("repeat", "Series", d.series_label, id="detail-series")),
                rx.cond(d.reminder != "", _fact("bell", "Reminder", d.reminder, id="detail-reminder")),
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
            rx.vstack(rx.text("Deposit", size="1", color_scheme="gray"),
                      rx.text(d.deposit_paid, size="2", weight="bold", id="detail-deposit"), spacing="0"),
            rx.vstack(rx.text("Ref.", size="1", color_scheme="gray"),
                      rx.code(d.reference, size="1"), spacing="0"),
            justify="between", width="100%", wrap="wrap", spacing="3",  # a deposit due is a sentence
        ),
    ]


def detail_panel() -> rx.Component:
    """The side panel of the appointment in DetailState (docked right, while open)."""
    d = DetailState.detail
    return rx.cond(
        DetailState.panel_open,
        rx.box(
            rx.vstack(
                *_panel_header(),
                *_panel_facts(),
                rx.text(d.source, size="1", color_scheme="gray"),
                fee_section(),
                _open_chart(),
                forms_section(),  # issue 17: intake form completion, "Fill with client"
                _sign_with_client(),
                _checkout_section(),
                checkout_rebook_section(),  # issue 16: checkout offers the next visit
                rx.separator(size="4"),
                _panel_actions(),
                spacing="4",
                width="100%",
            ),
            position="fixed", top="0", right="0", height="100vh", width=PANEL_WIDTH, max_width="100vw",
            padding="20px", overflow_y="auto", z_index="20", background=rx.color("gray", 1),
            border_left=f"1px solid {rx.color('gray', 5)}", box_shadow="-12px 0 32px rgba(16, 24, 40, 0.12)",
            id="detail-panel", custom_attrs={"data-appointment-id": d.id},
        ),
    )
