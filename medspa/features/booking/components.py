"""The booking page's frame: header, progress, summary, the current step, not-found and
loading. The steps are in choosing.py and paying.py, small building blocks in widgets.py."""

from __future__ import annotations

import reflex as rx

from medspa.features.booking.choosing import location_step, provider_step, service_step, time_step
from medspa.features.booking.paying import details_step, done_step, payment_step
from medspa.features.booking.state import BookingState as S, CheckoutState as C
from medspa.features.booking.widgets import ACCENT
from medspa.features.booking.waitlist_view import offer_ended_note

STEP_TITLES = {
    "location": "Choose a location",
    "service": "Choose a treatment",
    "provider": "Choose your provider",
    "time": "Pick a day and time",
    "details": "Your details",
    "payment": "Secure your booking",
}
PROGRESS = ("service", "provider", "time", "details", "payment")
PROGRESS_LABELS = ("Treatment", "Provider", "Time", "Details", "Deposit")




def header() -> rx.Component:
    """The booking page's header: the clinic's logo (else a flower), name, location and a "Test
    payments" badge without Stripe."""
    return rx.box(
        rx.flex(
            rx.hstack(
                rx.cond(S.clinic_logo != "",
                        rx.image(src=S.clinic_logo, alt=S.clinic_name + " logo", width="auto",
                                 height=rx.breakpoints(initial="36px", sm="48px"),
                                 max_width=rx.breakpoints(initial="64px", sm="120px"), object_fit="contain",
                                 flex_shrink="0", id="clinic-logo"),
                        rx.center(rx.icon("flower-2", size=22, color="white"), width="40px", height="40px",
                                  border_radius="12px", background=rx.color(ACCENT, 9), flex_shrink="0")),
                rx.vstack(
                    rx.heading(S.clinic_name, size="5", weight="bold", as_="h1", id="clinic-name"),
                    rx.text(rx.cond(S.location.name, S.location.name + " · Online booking", "Online booking"),
                            size="2", color_scheme="gray"),
                    spacing="0",
                ),
                spacing="3",
                align="center",
            ),
            rx.cond(
                ~C.stripe_key,
                rx.badge(rx.icon("flask-conical", size=12), "Test payments", color_scheme="amber",
                         variant="soft", radius="full", size="2"),
            ),
            justify="between",
            align="center",
            max_width="68em",
            margin_x="auto",
            padding_x=rx.breakpoints(initial="1em", sm="2em"),
            padding_y="1em",
            spacing="3",
        ),
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        background=rx.color("gray", 1),
    )


def progress() -> rx.Component:
    """The booking page's step indicator; hidden on steps outside PROGRESS."""
    def dot(i: int, step: str, label: str) -> rx.Component:
        reached = rx.Var.create(list(PROGRESS[PROGRESS.index(step):])).contains(S.step)
        return rx.hstack(
            rx.center(
                rx.text(str(i + 1), size="1", weight="bold"),
                width="22px", height="22px", border_radius="50%", flex_shrink="0",
                background=rx.cond(reached, rx.color(ACCENT, 9), rx.color("gray", 4)),
                color=rx.cond(reached, "white", rx.color("gray", 11)),
            ),
            # the last step is "Card" where a card on file is saved without a deposit (issue 16)
            rx.text(rx.cond((S.service.deposit == "No deposit") & S.location.card_required, "Card", label)
                    if step == "payment" else label,
                    size="2", weight=rx.cond(S.step == step, "bold", "regular"),
                    color=rx.cond(reached, rx.color("gray", 12), rx.color("gray", 10)),
                    display=rx.breakpoints(initial=rx.cond(S.step == step, "block", "none"), sm="block")),
            spacing="2",
            align="center",
        )

    return rx.cond(
        rx.Var.create(list(PROGRESS)).contains(S.step),
        rx.hstack(
            *(dot(i, st, lb) for i, (st, lb) in enumerate(zip(PROGRESS, PROGRESS_LABELS))),
            spacing=rx.breakpoints(initial="2", sm="5"),
            align="center",
            wrap="wrap",
            aria_label="Booking steps",
        ),
    )


def summary_row(icon: str, label: str, value) -> rx.Component:
    """One line of the booking page's summary card; nothing while `value` is empty."""
    return rx.cond(
        value,
        rx.hstack(
            rx.icon(icon, size=16, color=rx.color(ACCENT, 10), flex_shrink="0", margin_top="2px"),
            rx.vstack(rx.text(label, size="1", color_scheme="gray"), rx.text(value, size="2", weight="medium"),
                      spacing="0"),
            spacing="3",
            align="start",
        ),
    )


def summary() -> rx.Component:
    """The booking page's "Your booking" card: what is picked so far and the deposit due today."""
    return rx.card(
        rx.vstack(
            rx.text("Your booking", size="3", weight="bold"),
            summary_row("map-pin", "Location", S.location.name),
            summary_row("sparkles", "Treatment", S.service.name),
            summary_row("clock", "Duration and price",
                        rx.cond(S.service.name, S.service.duration + " · " + S.service.price, "")),
            summary_row("user-round", "Provider", S.provider_name),
            summary_row("calendar-days", "Time", S.slot.long_label),
            summary_row("credit-card", "Due today", S.service.deposit),
            rx.cond(~S.service.name, rx.text("Pick a treatment to start.", size="2", color_scheme="gray")),
            spacing="3",
            align="start",
        ),
        size="3",
        width="100%",
        id="booking-summary",
    )


def mobile_summary() -> rx.Component:
    """On phones the summary column is hidden: a compact line of what is picked so far."""
    return rx.cond(
        S.slot.long_label,
        rx.card(
            rx.hstack(
                rx.icon("calendar-check", size=18, color=rx.color(ACCENT, 10), flex_shrink="0", margin_top="2px"),
                rx.vstack(
                    rx.text(S.service.name + " · " + S.provider_name, size="2", weight="bold"),
                    rx.text(S.slot.long_label, size="2"),
                    rx.text(S.location.name + " · " + S.service.price + " · due today: " + S.service.deposit,
                            size="1", color_scheme="gray"),
                    spacing="0",
                ),
                spacing="3",
                align="start",
            ),
            size="1",
            width="100%",
            display=rx.breakpoints(initial="block", md="none"),
        ),
    )


def step_body() -> rx.Component:
    """The booking page's current step (the treatment step for an unknown one), after the note
    of an ended waitlist offer (when its link was opened)."""
    return rx.fragment(offer_ended_note(), rx.match(
        S.step,
        ("location", location_step()),
        ("service", service_step()),
        ("provider", provider_step()),
        ("time", time_step()),
        ("details", details_step()),
        ("payment", payment_step()),
        ("done", done_step()),
        service_step(),
    ))


def not_found() -> rx.Component:
    """The booking page's "Clinic not found" card for an unknown clinic slug."""
    return rx.center(
        rx.card(
            rx.vstack(
                rx.icon("search-x", size=36, color=rx.color("gray", 9)),
                rx.heading("Clinic not found", size="6", as_="h1"),
                rx.text("We couldn't find a clinic at this address. Please check the link the clinic sent you.",
                        size="3", color_scheme="gray", text_align="center"),
                rx.link(rx.button("Go to the home page", variant="soft", size="3"), href="/"),
                spacing="4",
                align="center",
            ),
            size="4",
            max_width="28em",
            width="100%",
        ),
        padding="1.5em",
        min_height="70vh",
        id="clinic-not-found",
    )


def loading() -> rx.Component:
    """The booking page's spinner while the clinic loads."""
    return rx.center(rx.spinner(size="3"), rx.text("Loading…", size="2", color_scheme="gray", margin_left="0.6em"),
                     min_height="60vh")
