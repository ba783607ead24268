"""The booking page's waitlist pieces: the join form (in the "nothing free" box, and behind a
"No time suits you?" button under the free times) and the note shown when an offer's link
has ended."""

from __future__ import annotations

import reflex as rx

from medspa.features.booking.state import BookingState as S
from medspa.features.booking.waitlist_state import OfferLinkState, WaitlistJoinState as W
from medspa.features.booking.widgets import ACCENT


def _error(name: str) -> rx.Component:
    message = W.errors[name]
    return rx.cond(message, rx.text(rx.icon("circle-alert", size=14, flex_shrink="0"), message, id=f"wl-{name}-error",
                                    role="alert", size="2", color=rx.color("red", 11), display="flex",
                                    align_items="center", gap="0.35em"))


def _field(name: str, label: str, **props) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=f"wl-{name}", style={"font_weight": "500", "font_size": "0.9em"}),
        rx.input(id=f"wl-{name}", name=name, size="3", width="100%",
                 custom_attrs={"aria-describedby": f"wl-{name}-error",
                               "aria-invalid": rx.cond(W.errors[name], "true", "false")}, **props),
        _error(name),
        spacing="1", width="100%", align="stretch", min_width="0")


def _pair(*fields: rx.Component) -> rx.Component:
    return rx.grid(*fields, columns="2", spacing="3", width="100%")


def join_form() -> rx.Component:
    """The form: dates, time of day, name, email and phone; then "Join the waitlist"."""
    return rx.form(
        rx.vstack(
            rx.text("Tell us when suits you. If a time frees up for ", S.service.name, " with ", S.provider_name,
                    ", we'll email and text you a link to book it.", size="2", color_scheme="gray"),
            _pair(_field("first_day", "From", type="date", default_value=W.first_day),
                  _field("last_day", "Until", type="date", default_value=W.last_day)),
            _pair(_field("window_start", "Earliest start", type="time", step="900", default_value=W.window_start),
                  _field("window_end", "Done by", type="time", step="900", default_value=W.window_end)),
            _pair(_field("first_name", "First name", auto_complete="given-name"),
                  _field("last_name", "Last name", auto_complete="family-name")),
            _field("email", "Email", type="email", auto_complete="email", placeholder="name@example.com"),
            _field("phone", "Mobile phone", type="tel", auto_complete="tel", placeholder=S.location.phone_example),
            _error("form"),
            rx.button(rx.icon("bell-plus", size=16), "Join the waitlist", type="submit", size="3", width="100%",
                      loading=W.busy, id="waitlist-join"),
            spacing="3", width="100%"),
        on_submit=W.join, reset_on_submit=False, no_validate=True, width="100%", id="waitlist-form")


def joined_note() -> rx.Component:
    """The confirmation after joining."""
    return rx.callout(W.joined, icon="circle-check", color_scheme="grass", width="100%", id="waitlist-joined",
                      role="status")


def _joined_here():
    return (W.joined != "") & (W.joined_for == S.service.id.to_string() + "-" + S.provider_choice)


def join_box() -> rx.Component:
    """The "nothing free" box's join part: the form straight away (or the confirmation)."""
    return rx.cond(_joined_here(), joined_note(),
                   rx.cond(W.open, join_form(),
                           rx.button(rx.icon("bell-plus", size=16), "Join the waitlist", on_click=W.show, size="3",
                                     width="100%", id="waitlist-open")))


def no_time_suits() -> rx.Component:
    """Under the free times: a way onto the waitlist when none of them suits."""
    return rx.cond(
        _joined_here(), joined_note(),
        rx.cond(W.open,
                rx.box(rx.hstack(rx.text("Join the waitlist", weight="bold", size="3"), rx.spacer(),
                                 rx.icon_button(rx.icon("x", size=16), on_click=W.hide, variant="ghost",
                                                color_scheme="gray", aria_label="Close the waitlist form"),
                                 width="100%", align="center"),
                       join_form(), padding="1em", border_radius="10px", width="100%",
                       border=f"1px solid {rx.color('gray', 6)}", id="waitlist-panel"),
                rx.button(rx.icon("bell-plus", size=15), "No time suits you? Join the waitlist", on_click=W.show,
                          variant="ghost", color_scheme=ACCENT, size="2", id="waitlist-open")))


def offer_ended_note() -> rx.Component:
    """Shown when an offer's link was opened after it ended: "You booked this time" with the
    visit's reference and manage link when the client booked it (or a time that fulfilled the
    wish), else that the offer ended (taken, lapsed or past)."""
    o = OfferLinkState
    booked = rx.callout.root(
        rx.callout.icon(rx.icon("circle-check")),
        rx.vstack(
            rx.text("You booked this time", weight="bold", size="3"),
            rx.text(o.booked_when, size="2"),
            rx.text("Booking reference ", rx.code(o.booked_ref, id="offer-booked-ref"), size="2"),
            rx.link("View or change your booking", href=o.booked_manage, size="2", weight="medium",
                    id="offer-booked-manage"),
            spacing="1", min_width="0"),
        color_scheme="grass", width="100%", id="offer-booked", margin_bottom="1em", role="status")
    ended = rx.callout("That waitlist offer has ended: the time was taken or the offer ran out. "
                       "You can pick another time below.", icon="clock", color_scheme="amber", width="100%",
                       id="offer-ended", margin_bottom="1em")
    return rx.cond(o.ended, rx.cond(o.booked_ref != "", booked, ended))
