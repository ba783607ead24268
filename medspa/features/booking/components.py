"""Pieces of the public booking page: steps, choice cards, fields with their messages."""

from __future__ import annotations

import reflex as rx

from medspa.features.booking.state import ANYONE, BookingState as S

ACCENT = "teal"
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


# ---------------------------------------------------------------- small building blocks


def choice_card(*children: rx.Component, on_click, selected=False, aria_label=None, **props) -> rx.Component:
    """A whole card that is one real <button> (keyboard and screen-reader friendly)."""
    return rx.card(
        rx.el.button(
            *children,
            on_click=on_click,
            type="button",
            aria_label=aria_label,
            aria_pressed=selected,
            style={"text_align": "left", "width": "100%", "cursor": "pointer"},
        ),
        as_child=True,
        size="2",
        width="100%",
        style={
            "outline": rx.cond(selected, f"2px solid {rx.color(ACCENT, 9)}", "none"),
            "background": rx.cond(selected, rx.color(ACCENT, 2), "var(--color-panel-solid)"),
        },
        **props,
    )


def field_error(name: str) -> rx.Component:
    message = S.errors[name]
    return rx.cond(
        message,
        rx.text(rx.icon("circle-alert", size=14, flex_shrink="0"), message, id=f"{name}-error", role="alert", size="2",
                color=rx.color("red", 11), display="flex", align_items="center", gap="0.35em"),
    )


def text_field(name: str, label: str, *, default=None, width="100%", with_error: bool = True,
               **props) -> rx.Component:
    """A labelled input; its message (errors[name]) right below it, linked by aria-describedby
    (with_error=False: the caller shows field_error(name) itself, e.g. below a row of fields)."""
    return rx.vstack(
        rx.el.label(label, html_for=name, style={"font_weight": "500", "font_size": "0.9em"}),
        rx.input(
            id=name,
            name=name,
            default_value=default,
            size="3",
            width="100%",
            custom_attrs={"aria-describedby": f"{name}-error", "aria-invalid": rx.cond(S.errors[name], "true", "false")},
            **props,
        ),
        field_error(name) if with_error else rx.fragment(),
        spacing="1",
        width=width,
        align="stretch",
    )


def section_title(text, subtitle=None) -> rx.Component:
    return rx.vstack(
        rx.heading(text, size="6", weight="bold", as_="h2"),
        rx.cond(subtitle, rx.text(subtitle, size="2", color_scheme="gray")) if subtitle is not None else rx.fragment(),
        spacing="1",
        width="100%",
    )


def back_button() -> rx.Component:
    return rx.button(rx.icon("arrow-left", size=16), "Back", variant="ghost", size="2", on_click=S.go_back,
                     color_scheme="gray")


# ---------------------------------------------------------------- header, progress, summary


def header() -> rx.Component:
    return rx.box(
        rx.flex(
            rx.hstack(
                rx.center(rx.icon("flower-2", size=22, color="white"), width="40px", height="40px",
                          border_radius="12px", background=rx.color(ACCENT, 9), flex_shrink="0"),
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
                ~S.stripe_key,
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
    def dot(i: int, step: str, label: str) -> rx.Component:
        reached = rx.Var.create(list(PROGRESS[PROGRESS.index(step):])).contains(S.step)
        return rx.hstack(
            rx.center(
                rx.text(str(i + 1), size="1", weight="bold"),
                width="22px", height="22px", border_radius="50%", flex_shrink="0",
                background=rx.cond(reached, rx.color(ACCENT, 9), rx.color("gray", 4)),
                color=rx.cond(reached, "white", rx.color("gray", 11)),
            ),
            rx.text(label, size="2", weight=rx.cond(S.step == step, "bold", "regular"),
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


# ---------------------------------------------------------------- steps


def location_step() -> rx.Component:
    return rx.vstack(
        section_title("Choose a location", "Where would you like your treatment?"),
        rx.foreach(
            S.locations,
            lambda loc: choice_card(
                rx.hstack(
                    rx.icon("map-pin", size=20, color=rx.color(ACCENT, 10)),
                    rx.vstack(rx.text(loc.name, size="4", weight="bold"),
                              rx.cond(loc.address, rx.text(loc.address, size="2", color_scheme="gray")),
                              rx.text(loc.time_zone, size="1", color_scheme="gray"), spacing="1"),
                    spacing="3", align="start",
                ),
                on_click=S.choose_location(loc.id),
                aria_label=loc.name,
            ),
        ),
        spacing="4",
        width="100%",
    )


def service_card(svc) -> rx.Component:
    return choice_card(
        rx.flex(
            rx.vstack(
                rx.text(svc.name, size="4", weight="bold"),
                rx.cond(svc.description, rx.text(svc.description, size="2", color_scheme="gray")),
                rx.hstack(
                    rx.hstack(rx.icon("clock", size=14), rx.text(svc.duration, size="2"), spacing="1",
                              align="center", color=rx.color("gray", 11)),
                    rx.badge(svc.deposit, variant="soft", color_scheme=ACCENT, radius="full"),
                    spacing="3",
                    align="center",
                    wrap="wrap",
                ),
                spacing="2",
                align="start",
            ),
            rx.text(svc.price, size="4", weight="bold", white_space="nowrap"),
            justify="between",
            spacing="3",
            width="100%",
        ),
        on_click=S.choose_service(svc.id),
        selected=S.service.id == svc.id,
        aria_label=svc.name,
    )


def service_step() -> rx.Component:
    return rx.vstack(
        rx.cond(S.locations.length() > 1, back_button()),
        section_title("Choose a treatment", "Prices are per visit. A deposit secures your time."),
        rx.cond(
            S.categories.length() == 0,
            rx.callout("No treatments can be booked online here right now. Please call the clinic.",
                       icon="info", color_scheme="gray", width="100%"),
        ),
        rx.foreach(
            S.categories,
            lambda cat: rx.vstack(
                rx.text(cat.name, size="2", weight="bold", color=rx.color(ACCENT, 11),
                        text_transform="uppercase", letter_spacing="0.06em"),
                rx.foreach(cat.services, service_card),
                spacing="2",
                width="100%",
            ),
        ),
        spacing="5",
        width="100%",
    )


def avatar(initials, icon: str | None = None) -> rx.Component:
    return rx.center(
        rx.icon(icon, size=20) if icon else rx.text(initials, size="3", weight="bold"),
        width="44px", height="44px", border_radius="50%", flex_shrink="0",
        background=rx.color(ACCENT, 3), color=rx.color(ACCENT, 11),
    )


def provider_step() -> rx.Component:
    return rx.vstack(
        back_button(),
        section_title("Choose your provider", S.service.name),
        rx.grid(
            choice_card(
                rx.hstack(avatar("", "users"),
                          rx.vstack(rx.text("Anyone available", size="3", weight="bold"),
                                    rx.text("The most times to choose from", size="2", color_scheme="gray"),
                                    spacing="0"),
                          spacing="3", align="center"),
                on_click=S.choose_provider(ANYONE),
                selected=S.provider_choice == ANYONE,
                aria_label="Anyone available",
            ),
            rx.foreach(
                S.providers,
                lambda p: choice_card(
                    rx.hstack(avatar(p.initials),
                              rx.vstack(rx.text(p.name, size="3", weight="bold"),
                                        rx.text(p.title, size="2", color_scheme="gray"), spacing="0"),
                              spacing="3", align="center"),
                    on_click=S.choose_provider(p.id.to_string()),
                    selected=S.provider_choice == p.id.to_string(),
                    aria_label=p.name,
                ),
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def day_button(day) -> rx.Component:
    selected = S.day == day.iso
    return rx.button(
        rx.vstack(
            rx.text(day.weekday, size="1", weight="medium"),
            rx.text(day.day, size="5", weight="bold"),
            rx.text(day.month, size="1"),
            spacing="0",
            align="center",
        ),
        on_click=S.choose_day(day.iso),
        disabled=~day.open,
        variant=rx.cond(selected, "solid", "surface"),
        aria_label=day.label,
        aria_pressed=selected,
        height="auto",
        min_width="58px",
        padding_y="0.6em",
        flex_shrink="0",
    )


def slot_button(slot) -> rx.Component:
    return rx.button(slot.label, on_click=S.choose_slot(slot.start), variant="surface", size="3",
                     width="100%", aria_label=slot.long_label)


def slot_group(group) -> rx.Component:
    return rx.vstack(
        rx.text(group.name, size="2", weight="bold", color=rx.color("gray", 11)),
        rx.grid(rx.foreach(group.slots, slot_button), columns=rx.breakpoints(initial="2", sm="4"), spacing="2",
                width="100%", role="group", aria_label=group.name),
        spacing="2",
        width="100%",
    )


def alternative_button(slot) -> rx.Component:
    return rx.button(
        rx.vstack(rx.text(slot.day, size="1"), rx.text(slot.label, size="2", weight="bold"), spacing="0",
                  align="center"),
        on_click=S.choose_slot(slot.start), variant="surface", height="auto",
        padding_y="0.5em", width="100%", aria_label=slot.long_label,
    )


def time_step() -> rx.Component:
    return rx.vstack(
        back_button(),
        section_title("Pick a day and time", S.service.name + " with " + S.provider_name),
        rx.box(
            rx.hstack(rx.foreach(S.days, day_button), spacing="2", padding_bottom="0.5em"),
            overflow_x="auto",
            width="100%",
            role="group",
            aria_label="Days",
        ),
        rx.hstack(rx.icon("globe", size=14), rx.text(S.zone_note, size="2"), spacing="2", align="center",
                  color=rx.color("gray", 11)),
        rx.cond(
            S.taken,
            rx.vstack(
                rx.callout.root(
                    rx.callout.icon(rx.icon("calendar-x")),
                    rx.callout.text(S.taken, id="taken-message"),
                    rx.cond(S.alternatives.length() == 0,
                            rx.callout.text("No other times nearby: pick another day.")),
                    color_scheme="amber",
                    width="100%",
                    role="alert",
                ),
                rx.grid(rx.foreach(S.alternatives, alternative_button), columns=rx.breakpoints(initial="2", sm="3"),
                        spacing="2", width="100%", id="alternatives", role="group", aria_label="Nearest free times"),
                spacing="3",
                width="100%",
            ),
        ),
        rx.cond(
            S.taken,
            rx.fragment(),
            rx.cond(
                S.slot_groups.length() > 0,
                rx.vstack(rx.foreach(S.slot_groups, slot_group), spacing="4", width="100%", id="slots"),
                rx.callout("No free times on this day. Try another day.", icon="calendar-off",
                           color_scheme="gray", width="100%"),
            ),
        ),
        spacing="4",
        width="100%",
    )


def hold_note() -> rx.Component:
    return rx.cond(
        S.held_until,
        rx.callout(
            "We're holding this time for " + S.hold_minutes.to_string() + " minutes (until " + S.held_until + ").",
            icon="timer", color_scheme=ACCENT, width="100%", id="hold-note",
        ),
    )


def details_step() -> rx.Component:
    return rx.vstack(
        back_button(),
        section_title("Your details", "We send your confirmation and reminders by email and text."),
        hold_note(),
        rx.form(
            rx.vstack(
                rx.flex(
                    text_field("first_name", "First name", default=S.first_name, auto_complete="given-name"),
                    text_field("last_name", "Last name", default=S.last_name, auto_complete="family-name"),
                    spacing="4", width="100%", direction=rx.breakpoints(initial="column", sm="row"),
                ),
                text_field("email", "Email", default=S.email, type="email", auto_complete="email",
                           placeholder="name@example.com"),
                text_field("phone", "Mobile phone", default=S.phone, type="tel", auto_complete="tel",
                           placeholder="(212) 555-0123"),
                rx.button(rx.cond(S.service.deposit == "No deposit", "Book now", "Continue to deposit"),
                          rx.icon("arrow-right", size=16), type="submit", size="3", width="100%",
                          loading=S.busy),
                spacing="4",
                width="100%",
            ),
            on_submit=S.save_details,
            reset_on_submit=False,
            no_validate=True,  # our own messages beside each field, not the browser's bubbles
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def test_card_form() -> rx.Component:
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
                rx.cond(S.card_error,
                        rx.text(rx.icon("circle-alert", size=14), S.card_error, id="card-error", role="alert",
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
        on_submit=S.pay,
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
               width="100%", min_height="44px", on_mount=S.mount_stripe),
        rx.cond(S.card_error, rx.text(S.card_error, id="card-error", role="alert", size="2",
                                      color=rx.color("red", 11))),
        rx.form(pay_button(), on_submit=S.pay_stripe, width="100%"),
        spacing="2",
        width="100%",
    )


def pay_button() -> rx.Component:
    return rx.button(
        rx.icon("lock", size=16),
        rx.cond(S.service.deposit == "No deposit", "Book now", "Pay deposit and book"),
        type="submit", size="3", width="100%", loading=S.busy,
    )


def payment_step() -> rx.Component:
    return rx.vstack(
        back_button(),
        section_title("Secure your booking",
                      rx.cond(S.service.deposit == "No deposit",
                              "Nothing is charged today; your card secures the booking.",
                              "Due today: " + S.service.deposit + ". The rest is paid at your visit.")),
        hold_note(),
        rx.cond(S.stripe_key, stripe_card_form(), test_card_form()),
        rx.hstack(rx.icon("shield-check", size=14), rx.text("Card details go straight to the payment processor.",
                                                            size="1"),
                  spacing="2", align="center", color=rx.color("gray", 10)),
        spacing="4",
        width="100%",
    )


def confirmation_row(label: str, value, id_: str) -> rx.Component:
    return rx.flex(
        rx.text(label, size="2", color_scheme="gray", min_width="7em"),
        rx.text(value, size="2", weight="medium", id=id_, word_break="break-word"),
        spacing="3",
        direction=rx.breakpoints(initial="column", sm="row"),
        width="100%",
    )


def done_step() -> rx.Component:
    c = S.confirmation
    return rx.vstack(
        rx.center(rx.icon("circle-check", size=40, color=rx.color("grass", 9)), width="100%"),
        rx.heading("You're booked!", size="7", text_align="center", width="100%", as_="h2"),
        rx.text("A confirmation is on its way to " + S.email + ".", size="2", color_scheme="gray",
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
                spacing="3",
                width="100%",
            ),
            size="3",
            width="100%",
            variant="surface",
        ),
        rx.button("Book another treatment", variant="soft", size="3", on_click=S.start_over, width="100%"),
        spacing="4",
        width="100%",
        id="confirmation",
    )


def step_body() -> rx.Component:
    return rx.match(
        S.step,
        ("location", location_step()),
        ("service", service_step()),
        ("provider", provider_step()),
        ("time", time_step()),
        ("details", details_step()),
        ("payment", payment_step()),
        ("done", done_step()),
        service_step(),
    )


def not_found() -> rx.Component:
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
    return rx.center(rx.spinner(size="3"), rx.text("Loading…", size="2", color_scheme="gray", margin_left="0.6em"),
                     min_height="60vh")
