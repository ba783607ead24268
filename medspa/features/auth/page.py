"""The staff sign-in page at `/login`."""

from __future__ import annotations

import reflex as rx

from medspa.features.auth import flows, invite
from medspa.features.auth.components import LOGIN_ACTION, auth_frame, native_form
from medspa.features.auth.state import LOGIN_PATH, LoginState


def _field(label: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", size="2", weight="medium", html_for=props.get("id")),
        rx.input(size="3", width="100%", **props),
        spacing="1",
        width="100%",
    )


def login_form() -> rx.Component:
    """A plain HTML form POST to /auth/login; a failure comes back as /login?...&error=1."""
    return native_form(
        rx.vstack(
            _field("Email", id="login-email", name="email", type="email", placeholder="you@clinic.com",
                   auto_complete="username", required=True, auto_focus=True,
                   default_value=LoginState.email, key=LoginState.email),
            _field("Password", id="login-password", name="password", type="password",
                   auto_complete="current-password", required=True),
            rx.el.input(type="hidden", name="next", value=LoginState.next_path, id="login-next"),
            rx.cond(
                LoginState.error != "",
                rx.callout(LoginState.error, icon="circle-alert", color_scheme="red", size="1", width="100%",
                           id="login-error", role="alert"),
            ),
            rx.cond(
                LoginState.notice != "",
                rx.callout(LoginState.notice, icon="circle-check", color_scheme="green", size="1", width="100%",
                           id="login-notice", role="status"),
            ),
            rx.button(
                rx.icon("log-in", size=16),
                "Sign in",
                type="submit",
                size="3",
                width="100%",
                id="login-submit",
            ),
            rx.link("Forgot your password?", href="/login/forgot", size="2", id="login-forgot"),
            spacing="4",
            width="100%",
        ),
        action=LOGIN_ACTION,
        method="post",
        id="login-form",
        width="100%",
    )


def login_page() -> rx.Component:
    """The staff sign-in page at /login: the email and password form."""
    return auth_frame("Sign in to your clinic", "Staff only: calendar, clients and checkout.", login_form())


def register(app: rx.App) -> None:
    """Add /login, the other sign-in pages (flows.py) and /invite (invite.py) to the app."""
    app.add_page(login_page, route=LOGIN_PATH, title="Sign in · medspa", on_load=LoginState.check_signed_in)
    flows.register(app)
    invite.register(app)
