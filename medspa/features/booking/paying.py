"""The booking page's last steps: the client's details (with the hold note), the deposit
card (offline test card form or Stripe Elements) and the confirmation."""

from __future__ import annotations

import reflex as rx

from medspa.features.booking.state import BookingState as S, CheckoutState as C
from medspa.features.booking.widgets import ACCENT, back_button, field_error, section_title, text_field

def hold_note() -> rx.Component:
    """The booking page's note of how long the picked time is held (nothing without a hold)."""
    return rx.cond(
        S.held_until,
        rx.callout(
            "We're holding this time for " + C.hold_minutes.to_string() + " minutes (until " + S.held_until + ").",
            icon="timer", color_scheme=ACCENT, width="100%", id="hold-note",
        ),
    )


def terms_note(id_: str) -> rx.Component:
    """The held visit's cancellation / no-show terms, fees included (scheduling.policy.visit_terms;
    the location's before a time is held), shown before the card is saved or the visit booked."""
    text = rx.cond(C.terms, C.terms, S.location.policy)
    return rx.cond(text, rx.hstack(rx.icon("calendar-x", size=14, flex_shrink="0"),
                                   rx.text(text, size="2", id=id_),
                                   spacing="2", align="start", color=rx.color("gray", 11), width="100%"))


def details_step() -> rx.Component:
    """The booking page's details step: name, email and phone form."""
    return rx.vstack(
        back_button(),
        section_title("Your details", "We send your confirmation by email and text."),
        hold_note(),
        rx.form(
            rx.vstack(
                rx.flex(
                    text_field("first_name", "First name", default=C.first_name, auto_complete="given-name"),
                    text_field("last_name", "Last name", default=C.last_name, auto_complete="family-name"),
                    spacing="4", width="100%", direction=rx.breakpoints(initial="column", sm="row"),
                ),
                text_field("email", "Email", default=C.email, type="email", auto_complete="email",
                           placeholder="name@example.com"),
                text_field("phone", "Mobile phone", default=C.phone, type="tel", auto_complete="tel",
                           placeholder=S.location.phone_example),
                terms_note("details-policy"),
                rx.button(rx.cond(S.service.deposit == "No deposit",
                                  rx.cond(S.location.card_required, "Continue to card", "Book now"),
                                  "Continue to deposit"),
                          rx.icon("arrow-right", size=16), type="submit", size="3", width="100%",
                          loading=C.busy),
                spacing="4",
                width="100%",
            ),
            on_submit=C.save_details,
            reset_on_submit=False,
            no_validate=True,  # our own messages beside each field, not the browser's bubbles
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def test_card_form() -> rx.Component:
    """The booking page's card form for the offline test gateway (no real money moves)."""
    return rx.form(
        rx.vstack(
            rx.callout(
                "Test payments — use 4242 4242 4242 4242 with any future date and any CVC. "
                "No real money moves.",
                icon="flask-conical", color_scheme="amber", width="100%", id="test-payments-note",
            ),
            rx.vstack(
                rx.el.label("Card number", html_for="card_number", style={"font_weight": "500", "font_size": "0.9em"}),
                rx.input(rx.input.slot(rx.icon("credit-card", size=16)), id="card_number", name="card_number",
                         size="3", width="100%", input_mode="numeric", auto_complete="cc-number",
                         placeholder="4242 4242 4242 4242",
                         custom_attrs={"aria-describedby": "card_number-error card-error"}),
                field_error("card_number"),
                rx.cond(C.card_error,
                        rx.text(rx.icon("circle-alert", size=14), C.card_error, id="card-error", role="alert",
                                size="2", color=rx.color("red", 11), display="flex", align_items="center",
                                gap="0.35em")),
                spacing="1",
                width="100%",
            ),
            rx.vstack(
                rx.flex(
                    text_field("exp_month", "Month (MM)", placeholder="MM", input_mode="numeric",
                               max_length=2, auto_complete="cc-exp-month", with_error=False),
                    text_field("exp_year", "Year (YY)", placeholder="YY", input_mode="numeric", max_length=4,
                               auto_complete="cc-exp-year", with_error=False),
                    text_field("cvc", "CVC", placeholder="123", input_mode="numeric", max_length=4,
                               auto_complete="cc-csc", with_error=False),
                    spacing="3",
                    width="100%",
                ),
                # the row is narrow on phones: its messages go right below it, one a line
                field_error("exp_month"),
                field_error("exp_year"),
                field_error("cvc"),
                spacing="1",
                width="100%",
            ),
            pay_button(),
            spacing="4",
            width="100%",
        ),
        on_submit=C.pay,
        reset_on_submit=False,
        no_validate=True,  # our own messages beside each field, not the browser's bubbles
        width="100%",
    )


def stripe_card_form() -> rx.Component:
    """Stripe Elements: js.stripe.com mounts the card field into #stripe-card (see state._STRIPE_JS)."""
    return rx.vstack(
        rx.script(src="https://js.stripe.com/v3/"),
        rx.el.label("Card", html_for="stripe-card", style={"font_weight": "500", "font_size": "0.9em"}),
        rx.box(id="stripe-card", padding="0.8em", border=f"1px solid {rx.color('gray', 7)}", border_radius="8px",
               width="100%", min_height="44px", on_mount=C.mount_stripe),
        rx.cond(C.card_error, rx.text(C.card_error, id="card-error", role="alert", size="2",
                                      color=rx.color("red", 11))),
        rx.form(pay_button(), on_submit=C.pay_stripe, width="100%"),
        spacing="2",
        width="100%",
    )


def pay_button() -> rx.Component:
    """The booking page's submit button: "Pay deposit and book", or "Book now" without a deposit."""
    return rx.button(
        rx.icon("lock", size=16),
        rx.cond(S.service.deposit == "No deposit",
                rx.cond(S.location.card_required, "Save card and book", "Book now"),
                rx.cond(S.location.card_required, "Save card, pay deposit and book", "Pay deposit and book")),
        type="submit", size="3", width="100%", loading=C.busy,
    )


def card_on_file_note() -> rx.Component:
    """At a location that requires a card on file: what saving the card means (issue 16)."""
    return rx.cond(
        S.location.card_required,
        rx.callout(
            "This clinic keeps a card on file for your visit. It is saved securely by the payment "
            "processor; the clinic sees only its brand and last four digits. A late-cancellation or "
            "no-show fee in the terms below that the deposit does not cover is charged to this card.",
            icon="credit-card", color_scheme="gray", width="100%", id="card-on-file-note",
        ),
    )


def payment_step() -> rx.Component:
    """The booking page's payment step: the amount due today and the Stripe or test card form."""
    return rx.vstack(
        back_button(),
        section_title("Secure your booking",
                      rx.cond(S.service.deposit == "No deposit",
                              "Nothing is charged today; your card secures the booking.",
                              "Due today: " + S.service.deposit + ". The rest is paid at your visit.")),
        hold_note(),
        card_on_file_note(),
        terms_note("booking-policy"),  # the fees, read before the card is saved
        rx.cond(C.stripe_key, stripe_card_form(), test_card_form()),
        rx.hstack(rx.icon("shield-check", size=14), rx.text("Card details go straight to the payment processor.",
                                                            size="1"),
                  spacing="2", align="center", color=rx.color("gray", 10)),
        spacing="4",
        width="100%",
    )


def confirmation_row(label: str, value, id_: str) -> rx.Component:
    """One labelled line of the booking page's confirmation card."""
    return rx.flex(
        rx.text(label, size="2", color_scheme="gray", min_width="8.5em", flex_shrink="0"),
        rx.text(value, size="2", weight="medium", id=id_, word_break="break-word"),
        spacing="3",
        direction=rx.breakpoints(initial="column", sm="row"),
        width="100%",
    )


def done_step() -> rx.Component:
    """The booking page's last step: "You're booked!", the short booking code, the visit's
    details, the balance due at the visit, the cancellation rule it was booked under, "Add to
    calendar" (.ics by the booking token) and "Manage booking" (references.manage_url)."""
    c = C.confirmation
    return rx.vstack(
        rx.center(rx.icon("circle-check", size=40, color=rx.color("grass", 9)), width="100%"),
        rx.heading("You're booked!", size="7", text_align="center", width="100%", as_="h2"),
        rx.text("A confirmation is on its way to " + C.email + ".", size="2", color_scheme="gray",
                text_align="center", width="100%"),
        rx.card(
            rx.vstack(
                rx.text("Booking reference", size="1", color_scheme="gray"),
                rx.code(c.reference, size=rx.breakpoints(initial="2", sm="3"), id="booking-reference", word_break="break-all", variant="ghost"),
                rx.divider(),
                confirmation_row("Treatment", c.service, "confirm-service"),
                confirmation_row("Provider", c.provider, "confirm-provider"),
                confirmation_row("Time", c.when, "confirm-time"),
                confirmation_row("Location", rx.cond(c.address, c.location + ", " + c.address, c.location),
                                 "confirm-location"),
                confirmation_row("Deposit paid", c.deposit, "confirm-deposit"),
                confirmation_row("Due at your visit", c.balance, "confirm-balance"),
                rx.cond(c.policy, confirmation_row("Cancelling", c.policy, "confirm-policy")),
                rx.cond(S.location.phone, confirmation_row(
                    "Questions", rx.link(S.location.phone, href=S.location.phone_href), "confirm-phone")),
                spacing="3",
                width="100%",
            ),
            size="3",
            width="100%",
            variant="surface",
        ),
        rx.flex(
            # reload_document: a plain download, not a route of the app (rx.el.a is react-router's
            # Link, which looked the .ics URL up among the pages: "404: Page not found")
            rx.button(rx.el.a(rx.icon("calendar-plus", size=16), "Add to calendar", href=c.calendar_url,
                              download="booking.ics", reload_document=True, id="add-to-calendar"),
                      as_child=True, size="3", variant="solid", flex=rx.breakpoints(initial="none", sm="1")),
            rx.button(rx.el.a(rx.icon("settings-2", size=16), "Manage booking", href=c.manage_url, id="manage-booking"),
                      as_child=True, size="3", variant="outline", flex=rx.breakpoints(initial="none", sm="1")),
            spacing="3",
            width="100%",
            direction=rx.breakpoints(initial="column", sm="row"),
        ),
        rx.text("Keep the manage link to change or cancel your visit; it is also in your confirmation email.",
                size="1", color_scheme="gray", text_align="center", width="100%"),
        rx.button("Book another treatment", variant="soft", size="3", on_click=S.start_over, width="100%"),
        spacing="4",
        width="100%",
        id="confirmation",
    )
