"""The staff sign-in page at `/login`."""

from __future__ import annotations

import reflex as rx

from reflex_components_core.el.elements.forms import Form

from medspa.features.auth.state import LOGIN_PATH, LoginState

LOGIN_ACTION = "/auth/login"  # medspa/api/auth.py: sets the HttpOnly session cookie
LOGOUT_ACTION = "/auth/logout"


class NativeForm(Form):
    """A <form> the BROWSER submits (action + method), no Reflex submit handler.

    `rx.form` always adds an onSubmit that prevents the browser's own submission; sign-in and
    sign-out must reach the HTTP routes, which alone can set or clear an HttpOnly cookie.
    """

    @classmethod
    def create(cls, *children, **props):
        return super(Form, cls).create(*children, **props)


native_form = NativeForm.create


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
    return auth_frame("Sign in to your clinic", "Staff only: calendar, clients and checkout.", login_form())


def auth_frame(title: str, subtitle, *children: rx.Component) -> rx.Component:
    """The centred card of the sign-in pages (sign in, code, set-up, forgot, reset)."""
    return rx.center(
        rx.vstack(
            rx.hstack(
                rx.center(rx.icon("flower-2", size=22, color="white"), width="38px", height="38px",
                          border_radius="10px", background=rx.color("teal", 9)),
                rx.text("medspa", size="5", weight="bold"),
                align="center",
                spacing="2",
            ),
            rx.card(
                rx.vstack(
                    rx.heading(title, size="6", weight="bold"),
                    rx.text(subtitle, size="2", color_scheme="gray"),
                    *children,
                    spacing="4",
                    width="100%",
                ),
                size="4",
                width="100%",
            ),
            rx.hstack(
                rx.icon("shield-check", size=14, color=rx.color("gray", 10)),
                rx.text("Sessions end after a period of inactivity.", size="1", color_scheme="gray"),
                rx.link("Back to the clinic site", href="/", size="1"),
                spacing="2",
                align="center",
                wrap="wrap",
                justify="center",
            ),
            spacing="5",
            align="center",
            width="100%",
            max_width="26em",
            padding_x="1em",
        ),
        min_height="100vh",
        background=f"radial-gradient(circle at 20% 0%, {rx.color('teal', 3)} 0%, {rx.color('gray', 2)} 55%)",
    )


def sign_out_button(**props) -> rx.Component:
    """A "Sign out" button for staff page headers: a form POST to /auth/logout, which revokes
    the session and clears the HttpOnly cookie, then answers with a redirect to /login."""
    return native_form(
        rx.button(rx.icon("log-out", size=15), "Sign out", variant="ghost", color_scheme="gray", size="2",
                  type="submit", id="sign-out", **props),
        action=LOGOUT_ACTION,
        method="post",
        id="sign-out-form",
        display="contents",
    )


def register(app: rx.App) -> None:
    """Add /login and the other sign-in pages (flows.py) to the app."""
    from medspa.features.auth import flows

    app.add_page(login_page, route=LOGIN_PATH, title="Sign in · medspa", on_load=LoginState.check_signed_in)
    flows.register(app)
