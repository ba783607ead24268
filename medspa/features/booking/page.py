"""The public booking page at `/book/[clinic]` (no login; phone and desktop).

Flow: location (when the clinic has several) -> treatment -> provider or "Anyone available"
-> day (next 14 clinic-local dates) -> time (clinic time, zone named; picking one holds it)
-> client details -> deposit card (offline test payments, or Stripe Elements when Stripe keys
are set) -> confirmation with the booking reference.
"""

from __future__ import annotations

import reflex as rx

from medspa.features.booking import components as c
from medspa.features.booking.state import BookingState
from medspa.features.booking.waitlist_state import OfferLinkState

ROUTE = "/book/[clinic]"
OFFER_ROUTE = "/book/[clinic]/offer/[token]"  # a waitlist offer's link: the same page on the offered time


def booking_page() -> rx.Component:
    """The whole page: header with the clinic name, progress, the current step and a summary."""
    with_summary = rx.Var.create(list(c.PROGRESS)).contains(BookingState.step)
    ready = rx.box(
        c.header(),
        rx.box(
            rx.vstack(
                c.progress(),
                rx.cond(with_summary, c.mobile_summary()),
                rx.grid(
                    rx.card(c.step_body(), size=rx.breakpoints(initial="2", sm="4"), width="100%",
                            id="booking-step",
                            # without the summary column (location, confirmation) a centred, narrower card
                            grid_column=rx.cond(with_summary, "auto", "1 / -1"),
                            max_width=rx.cond(with_summary, "none", "44em"),
                            justify_self="center"),
                    rx.cond(
                        with_summary,
                        rx.box(c.summary(), display=rx.breakpoints(initial="none", md="block"),
                               position="sticky", top="1.5em"),
                    ),
                    columns=rx.breakpoints(initial="1", md="minmax(0, 1fr) 20em"),
                    spacing="5",
                    width="100%",
                    align_items="start",
                ),
                spacing="5",
                width="100%",
            ),
            max_width="68em",
            margin_x="auto",
            padding_x=rx.breakpoints(initial="0.75em", sm="2em"),
            padding_y=rx.breakpoints(initial="1em", sm="2em"),
        ),
        rx.center(rx.text(BookingState.clinic_name + " · secure online booking", size="1", color_scheme="gray"),
                  padding_bottom="2.5em"),
    )
    return rx.box(
        rx.match(
            BookingState.status,
            ("ready", ready),
            ("not_found", c.not_found()),
            c.loading(),
        ),
        min_height="100vh",
        background=f"linear-gradient(180deg, {rx.color('teal', 2)} 0%, {rx.color('gray', 2)} 40%)",
    )


def register(app: rx.App) -> None:
    """Add the booking page to `app`."""
    app.add_page(booking_page, route=ROUTE, title="Book online", on_load=BookingState.load)
    app.add_page(booking_page, route=OFFER_ROUTE, title="Book online", on_load=OfferLinkState.open_offer)
