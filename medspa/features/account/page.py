"""`/account`: any signed-in staff member's own two-factor sign-in, password and sessions."""

from __future__ import annotations

import reflex as rx

from medspa.features.account.feed import FeedState, feed_card
from medspa.features.account.state import AccountState
from medspa.features.auth.shell import staff_header

ROUTE = "/account"


def _section(title: str, subtitle, *children: rx.Component, **props) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="4", weight="bold"),
            rx.text(subtitle, size="2", color_scheme="gray"),
            *children,
            spacing="3",
            width="100%",
        ),
        width="100%",
        size="3",
        **props,
    )


def _code_form(handler, button: str, id_: str) -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(name="code", placeholder="6-digit code", auto_complete="one-time-code", input_mode="numeric",
                     max_length=6, required=True, size="2", width="140px", id=f"{id_}-code"),
            rx.button(button, type="submit", size="2", id=f"{id_}-submit"),
            spacing="2", align="center",
        ),
        on_submit=handler,
        reset_on_submit=True,
        id=f"{id_}-form",
    )


def _codes_box() -> rx.Component:
    s = AccountState
    return rx.callout.root(
        rx.callout.icon(rx.icon("key-round")),
        rx.vstack(
            rx.text("Save these now: your recovery codes", weight="bold", size="2"),
            rx.text("Each signs you in once without your phone. They are not shown again; the old ones no "
                    "longer work.", size="1"),
            rx.grid(rx.foreach(s.new_codes, lambda c: rx.code(c, size="2", class_name="account-recovery-code")),
                    columns="2", spacing="2", id="account-recovery-codes"),
            rx.button("I saved them", size="1", variant="soft", on_click=s.hide_codes, id="account-codes-done"),
            spacing="2",
        ),
        color_scheme="amber",
        width="100%",
    )


def _two_factor() -> rx.Component:
    s = AccountState
    status = rx.hstack(
        rx.cond(s.tf_enabled,
                rx.badge(rx.icon("shield-check", size=12), "On", color_scheme="grass", size="2"),
                rx.badge(rx.icon("shield-off", size=12), "Off", color_scheme="gray", size="2")),
        rx.cond(s.tf_required, rx.badge("Required for your account", color_scheme="amber", size="2")),
        rx.cond(s.tf_enabled, rx.text(s.codes_left.to_string(), " recovery codes left", size="2",
                                      color_scheme="gray", id="account-codes-left")),
        spacing="2", align="center", id="account-2fa-status",
        custom_attrs={"data-enabled": s.tf_enabled},
    )
    setting_up = rx.vstack(
        rx.hstack(
            rx.image(src=s.qr_src, alt="QR code for your authenticator app", width="180px", height="180px",
                     id="account-qr", background="white", border_radius="8px"),
            rx.vstack(
                rx.text("Scan the code with your authenticator app, or type this key:", size="2"),
                rx.code(s.manual_key, size="3", variant="soft", id="account-key", word_break="break-all"),
                rx.text("Then enter the 6-digit code the app shows:", size="2"),
                _code_form(s.confirm_enrolment, "Turn on", "account-enrol"),
                rx.button("Cancel", variant="ghost", size="1", color_scheme="gray", on_click=s.cancel_enrolment),
                spacing="2",
            ),
            spacing="4", align="start", wrap="wrap",
        ),
        width="100%",
    )
    actions = rx.cond(
        s.tf_enabled,
        rx.vstack(
            rx.text("New recovery codes (the old ones stop working): enter a current code.", size="2"),
            _code_form(s.regenerate_codes, "Make new recovery codes", "account-regen"),
            spacing="2",
        ),
        rx.cond(s.qr_src != "", setting_up,
                rx.button(rx.icon("smartphone", size=15), "Set up two-factor sign-in", on_click=s.start_enrolment,
                          size="2", id="account-enrol-start")),
    )
    return _section(
        "Two-factor sign-in",
        "A code from an app on your phone at every sign-in, after your password.",
        status,
        rx.cond(s.tf_error != "", rx.callout(s.tf_error, icon="circle-alert", color_scheme="red", size="1",
                                             id="account-2fa-error", width="100%")),
        rx.cond(s.new_codes.length() > 0, _codes_box()),
        actions,
        id="account-2fa",
    )


def _pw_field(label: str, name: str, error=None, **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", size="2", weight="medium", html_for=f"account-{name}"),
        rx.input(type="password", name=name, id=f"account-{name}", required=True, size="2", width="100%", **props),
        rx.cond(error != "", rx.text(error, size="1", color=rx.color("red", 11), id=f"account-{name}-error"))
        if error is not None else rx.fragment(),
        spacing="1", width="100%",
    )


def _password() -> rx.Component:
    s = AccountState
    return _section(
        "Password",
        "At least 12 characters. Your other signed-in browsers are signed out; this one stays.",
        rx.form(
            rx.vstack(
                _pw_field("Current password", "current_password", s.pw_error_current,
                          auto_complete="current-password"),
                _pw_field("New password", "new_password", s.pw_error_new, auto_complete="new-password"),
                _pw_field("New password again", "new_password_again", auto_complete="new-password"),
                rx.button("Change password", type="submit", size="2", id="account-password-submit"),
                spacing="3", width="100%", max_width="24em",
            ),
            on_submit=s.change_password,
            key=s.pw_form_key,
            id="account-password-form",
        ),
        rx.cond(s.pw_done != "", rx.callout(s.pw_done, icon="circle-check", color_scheme="grass", size="1",
                                            id="account-password-done")),
        id="account-password",
    )


def _sessions() -> rx.Component:
    return _section(
        "Signed-in browsers",
        "Lost a device or signed in somewhere shared? Sign out of every browser, this one included.",
        rx.button(rx.icon("log-out", size=15), "Sign out everywhere", color_scheme="red", variant="soft",
                  on_click=AccountState.sign_out_everywhere, size="2", id="account-sign-out-everywhere"),
        id="account-sessions",
    )


def account_page() -> rx.Component:
    s = AccountState
    body = rx.vstack(
        rx.heading("Your account", size="6", weight="bold"),
        rx.text(s.staff_name, " · ", s.staff_role.to(str).replace("_", " "), size="2", color_scheme="gray"),
        _two_factor(),
        _password(),
        feed_card(_section),
        _sessions(),
        spacing="4", padding="20px", width="100%", max_width="760px", margin_x="auto",
    )
    return rx.box(
        rx.cond(s.ready, rx.fragment(staff_header("account"), body),
                rx.center(rx.spinner(size="3"), padding_top="18vh")),
        min_height="100vh",
        background=rx.color("gray", 2),
        id="account-page",
    )


def register(app: rx.App) -> None:
    """Add /account (any staff role)."""
    app.add_page(account_page, route=ROUTE, title="Your account · medspa",
                 on_load=[AccountState.load, FeedState.load_feed])
