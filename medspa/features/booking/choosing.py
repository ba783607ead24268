"""The booking page's choosing steps: location, treatment, provider, day and time."""

from __future__ import annotations

import reflex as rx

from medspa.features.booking.state import ANYONE, BookingState as S
from medspa.features.booking.widgets import ACCENT, back_button, choice_card, section_title
from medspa.features.booking.waitlist_view import join_box, no_time_suits

def location_step() -> rx.Component:
    """The booking page's first step: one card per location."""
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
    """A treatment card of the booking page: name, description, duration, deposit and price."""
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
    """The booking page's treatment step: the services grouped by category."""
    return rx.vstack(
        rx.cond(S.locations.length() > 1, back_button()),
        section_title("Choose a treatment", "Prices are per visit. A deposit secures your time."),
        rx.cond(
            S.categories.length() == 0,
            rx.callout(
                rx.cond(S.location.phone,
                        rx.fragment("No treatments can be booked online here right now. Please call the clinic at ",
                                    rx.link(S.location.phone, href=S.location.phone_href, id="clinic-phone",
                                            white_space="nowrap", weight="medium"), "."),
                        "No treatments can be booked online here right now. Please call the clinic."),
                icon="info", color_scheme="gray", width="100%", id="no-services"),
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
    """A round avatar on the booking page's provider cards: initials, or `icon` when given."""
    return rx.center(
        rx.icon(icon, size=20) if icon else rx.text(initials, size="3", weight="bold"),
        width="44px", height="44px", border_radius="50%", flex_shrink="0",
        background=rx.color(ACCENT, 3), color=rx.color(ACCENT, 11),
    )


def provider_step() -> rx.Component:
    """The booking page's provider step: "Anyone available" and one card per provider."""
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
    """One day in the booking page's day strip; disabled when the day has no free time."""
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
    """One free start time on the booking page; clicking it holds the slot."""
    return rx.button(slot.label, on_click=S.choose_slot(slot.start), variant="surface", size="3",
                     width="100%", aria_label=slot.long_label)


def slot_group(group) -> rx.Component:
    """The booking page's free times of one part of the day (morning, afternoon or evening)."""
    return rx.vstack(
        rx.text(group.name, size="2", weight="bold", color=rx.color("gray", 11)),
        rx.grid(rx.foreach(group.slots, slot_button), columns=rx.breakpoints(initial="2", sm="4"), spacing="2",
                width="100%", role="group", aria_label=group.name),
        spacing="2",
        width="100%",
    )


def alternative_button(slot) -> rx.Component:
    """One of the nearest free times the booking page offers when the picked time was taken."""
    return rx.button(
        rx.vstack(rx.text(slot.day, size="1"), rx.text(slot.label, size="2", weight="bold"), spacing="0",
                  align="center"),
        on_click=S.choose_slot(slot.start), variant="surface", height="auto",
        padding_y="0.5em", width="100%", aria_label=slot.long_label,
    )


def next_available_offer() -> rx.Component:
    """The time step's way past a strip with no free time: "Next available: Tue 22 Dec" and a
    button that shows that day."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("calendar-search")),
        rx.callout.text("No free times in these days. ", rx.text.strong("Next available: " + S.strip.next_label),
                        id="next-available-text"),
        rx.button("Show " + S.strip.next_label, rx.icon("arrow-right", size=16), on_click=S.show_next_available,
                  size="3", width="100%", id="next-available", margin_top="0.5em"),
        color_scheme=ACCENT,
        width="100%",
        id="next-available-offer",
    )


def waitlist_offer() -> rx.Component:
    """The time step when nothing is free up to the service's last bookable day: one sentence,
    the clinic's phone and the waitlist's join form (waitlist_view.join_box)."""
    return rx.box(
        rx.vstack(
            rx.hstack(rx.icon("calendar-x", size=18, flex_shrink="0"), rx.text(S.strip.empty_note, size="3", weight="bold"),
                      spacing="2", align="center"),
            rx.cond(S.location.phone,
                    rx.text("Call the clinic: ", rx.link(S.location.phone, href=S.location.phone_href,
                                                         white_space="nowrap", weight="medium"), size="2"),
                    rx.text("Please call the clinic.", size="2")),
            join_box(),
            spacing="3",
            width="100%",
        ),
        padding="1em",
        border=f"1px dashed {rx.color('gray', 8)}",
        border_radius="10px",
        background=rx.color("gray", 2),
        width="100%",
        id="waitlist-offer",
        role="status",
    )


def strip_arrow(direction: str, enabled) -> rx.Component:
    """The day strip's "earlier" / "later" button (hidden when the strip cannot move that way)."""
    later = direction == "later"
    return rx.icon_button(
        rx.icon("chevron-right" if later else "chevron-left", size=18),
        on_click=S.browse_days(direction),
        variant="soft",
        color_scheme="gray",
        size="3",
        disabled=~enabled,
        aria_label="Later dates" if later else "Earlier dates",
        id=f"days-{direction}",
        flex_shrink="0",
    )


def time_step() -> rx.Component:
    """The booking page's day and time step: the day strip (browsable up to the service's
    maximum advance), the zone note, free times or alternatives, the next available day when
    the strip has none, or the waitlist box when nothing is free at all."""
    return rx.vstack(
        back_button(),
        section_title("Pick a day and time", S.service.name + " with " + S.provider_name),
        rx.hstack(
            strip_arrow("earlier", S.strip.can_earlier),
            rx.box(
                rx.hstack(rx.foreach(S.strip.days, day_button), spacing="2", padding_bottom="0.5em"),
                overflow_x="auto",
                flex="1",
                min_width="0",
                role="group",
                aria_label="Days",
            ),
            strip_arrow("later", S.strip.can_later),
            spacing="2",
            align="center",
            width="100%",
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
                rx.cond(
                    S.day != "",
                    rx.callout("No free times on this day. Try another day.", icon="calendar-off",
                               color_scheme="gray", width="100%"),
                    rx.cond(S.strip.next_day != "", next_available_offer(),
                            rx.cond(S.strip.empty_note != "", waitlist_offer(),
                                    rx.callout("No free times in these days. Try later dates.", icon="calendar-off",
                                               color_scheme="gray", width="100%"))),
                ),
            ),
        ),
        rx.cond(S.strip.empty_note == "", no_time_suits()),  # the "nothing free" box has its own form
        spacing="4",
        width="100%",
    )
