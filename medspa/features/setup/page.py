"""`/setup?token=...`: a fresh server's one-time set-up link. The clinic's name, URL name,
country and currency, the first location (address, IANA time zone from a searchable list,
phone) and the owner; then the owner's own invitation link, shown once."""

from __future__ import annotations

from zoneinfo import available_timezones

import reflex as rx

from medspa.domain.practice.actions import countries, currencies
from medspa.features.auth.components import auth_frame
from medspa.features.setup.state import SetupState

ROUTE = "/setup"
TZ_LIST = "setup-time-zones"


def _label(text: str, field: str, hint: str = "") -> rx.Component:
    return rx.hstack(
        rx.text(text, as_="label", size="2", weight="medium", html_for=f"setup-{field}"),
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")),
        spacing="2", align="baseline",
    )


def _error(field: str) -> rx.Component:
    msg = SetupState.errors[field]
    return rx.cond(msg != "", rx.text(msg, size="1", color=rx.color("red", 11), id=f"setup-{field}-error",
                                      role="alert"))


def _field(text: str, field: str, *, hint: str = "", **props) -> rx.Component:
    return rx.vstack(
        _label(text, field, hint),
        rx.input(size="2", width="100%", name=field, id=f"setup-{field}", max_length=500, **props),
        _error(field),
        spacing="1", width="100%",
    )


_SELECT_STYLE = {"height": "32px", "width": "100%", "border_radius": "6px", "padding": "0 8px",
                 "border": f"1px solid {rx.color('gray', 7)}", "background": rx.color("gray", 1), "font_size": "14px"}


def _select(text: str, field: str, options: tuple[tuple[str, str], ...], default: str) -> rx.Component:
    return rx.vstack(
        _label(text, field),
        rx.el.select(*(rx.el.option(f"{name} ({code})", value=code) for code, name in options),
                     name=field, id=f"setup-{field}", default_value=default, style=_SELECT_STYLE),
        _error(field),
        spacing="1", width="100%",
    )


def _time_zone() -> rx.Component:
    """A text field over a <datalist> of every IANA zone: type "chic" and pick America/Chicago."""
    return rx.vstack(
        _label("Time zone", "time_zone", "type to search, e.g. Chicago"),
        rx.el.input(name="time_zone", id="setup-time_zone", list=TZ_LIST, required=True, auto_complete="off",
                    placeholder="America/New_York", style=_SELECT_STYLE),
        rx.el.datalist(*(rx.el.option(value=z) for z in sorted(available_timezones())), id=TZ_LIST),
        _error("time_zone"),
        spacing="1", width="100%",
    )


def _section(title: str, *children: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(title, size="3", weight="bold"), *children, spacing="3", width="100%")


def _pair(a: rx.Component, b: rx.Component) -> rx.Component:
    return rx.flex(a, b, gap="12px", width="100%", direction=rx.breakpoints(initial="column", sm="row"))


def _form() -> rx.Component:
    s = SetupState
    return rx.form(
        rx.vstack(
            rx.cond(s.form_error != "", rx.callout(s.form_error, icon="circle-alert", color_scheme="red", size="1",
                                                   width="100%", id="setup-form-error", role="alert")),
            _section("Clinic",
                     _field("Name", "name", placeholder="Glow Aesthetics", required=True, auto_focus=True),
                     _field("URL name", "slug", hint="your booking page: /book/<name>", placeholder="glow",
                            required=True, spell_check=False, auto_capitalize="none"),
                     _pair(_select("Country", "country", countries(), "US"),
                           _select("Currency", "currency", currencies(), "USD"))),
            _section("First location",
                     _field("Location name", "location_name", placeholder="Downtown", required=True),
                     _field("Address", "address", placeholder="12 Main Street, Springfield"),
                     _pair(_time_zone(), _field("Phone", "phone", placeholder="(212) 555-0123", type="tel"))),
            _section("Owner",
                     _pair(_field("Name", "owner_name", placeholder="Ada Glow", required=True),
                           _field("Email", "owner_email", type="email", placeholder="ada@glow.example",
                                  required=True))),
            rx.button(rx.icon("building-2", size=16), "Create the clinic", type="submit", size="3", width="100%",
                      loading=s.busy, id="setup-submit"),
            spacing="5", width="100%",
        ),
        on_submit=SetupState.submit, id="setup-form", width="100%",
    )


def _done() -> rx.Component:
    s = SetupState
    return rx.vstack(
        rx.callout("The clinic is created. The owner finishes with this invitation link: choose a password, then "
                   "set up two-factor sign-in.", icon="circle-check", color_scheme="grass", size="2", width="100%"),
        rx.text("Owner's invitation link (single use, valid 7 days):", size="2", weight="medium"),
        rx.code(s.invite_link, id="setup-invite-link", size="2", variant="soft", white_space="normal",
                word_break="break-all"),
        rx.text(rx.cond(s.emailed, "We also emailed it to ", "Email is not set up on this server, so nothing was "
                        "sent: copy the link to "), s.owner_email, ".", size="2", color_scheme="gray"),
        rx.link(rx.button(rx.icon("key-round", size=16), "Open the invitation", size="3", width="100%"),
                href=s.invite_link, width="100%", id="setup-open-invite"),
        spacing="3", width="100%",
    )


def _invalid() -> rx.Component:
    return rx.callout("This set-up link is not valid: it was already used, has expired (24 hours) or is "
                      "incomplete. Restart the server on its empty database for a new one, or use "
                      "`medspa clinic create`.", icon="circle-alert", color_scheme="red", size="2", width="100%",
                      id="setup-invalid", role="alert")


def setup_page() -> rx.Component:
    """The /setup page: the new clinic's form, its result, or a note when the link is not valid."""
    s = SetupState
    body = rx.match(s.status, ("open", _form()), ("done", _done()), ("invalid", _invalid()),
                    rx.center(rx.spinner(size="3"), width="100%"))
    done = s.status == "done"  # the success view has its own heading, not the form's
    return auth_frame(rx.cond(done, "Your clinic is ready", "Set up your clinic"),
                      rx.cond(done, "One step left: the owner opens the invitation below.",
                              "A few facts to start; services, hours and staff come next."), body,
                      max_width="40em")


def register(app: rx.App) -> None:
    """Add /setup."""
    app.add_page(setup_page, route=ROUTE, title="Set up your clinic · medspa", on_load=SetupState.load)
