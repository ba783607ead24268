"""The staff sign-in page at `/login`."""

from __future__ import annotations

import reflex as rx

from medspa.features.auth.state import LOGIN_PATH, LoginState, StaffState


def _field(label: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", size="2", weight="medium", html_for=props.get("id")),
        rx.input(size="3", width="100%", **props),
        spacing="1",
        width="100%",
    )


def login_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _field("Email", id="login-email", name="email", type="email", placeholder="you@clinic.com",
                   auto_complete="username", required=True, auto_focus=True),
            _field("Password", id="login-password", name="password", type="password",
                   auto_complete="current-password", required=True),
            rx.cond(
                LoginState.error != "",
                rx.callout(LoginState.error, icon="circle-alert", color_scheme="red", size="1", width="100%",
                           id="login-error", role="alert"),
            ),
            rx.button(
                rx.cond(LoginState.busy, rx.spinner(size="2"), rx.icon("log-in", size=16)),
                "Sign in",
                type="submit",
                size="3",
                width="100%",
                id="login-submit",
                disabled=LoginState.busy,
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=LoginState.submit,
        reset_on_submit=False,
        width="100%",
    )


def login_page() -> rx.Component:
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
                    rx.heading("Sign in to your clinic", size="6", weight="bold"),
                    rx.text("Staff only: calendar, clients and checkout.", size="2", color_scheme="gray"),
                    login_form(),
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
    """A "Sign out" button for staff page headers."""
    return rx.button(rx.icon("log-out", size=15), "Sign out", variant="ghost", color_scheme="gray", size="2",
                     on_click=StaffState.sign_out, id="sign-out", **props)


def register(app: rx.App) -> None:
    """Add /login to the app."""
    app.add_page(login_page, route=LOGIN_PATH, title="Sign in · medspa", on_load=LoginState.check_signed_in)
