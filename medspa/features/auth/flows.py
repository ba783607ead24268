"""The sign-in pages around /login: the second factor (/login/verify), the two-factor set-up
forced at sign-in (/login/enrol), "forgot password" (/login/forgot) and the reset link's page
(/reset-password?token=...).

Every form here is a plain HTML form the browser posts to an HTTP route (medspa/api/auth.py),
which alone reads and writes the HttpOnly cookies. The challenge between the password and
the second factor lives in the HttpOnly `medspa_challenge` cookie: the states read it from
the websocket handshake on the server, it never reaches the page.
"""

from __future__ import annotations

import asyncio
import hashlib

import reflex as rx

from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actions import InvalidCode, do_start_enrolment, fetch_challenge_alive
from medspa.domain.ratelimits import wait_words
from medspa.web.inputs import ascii_int
from medspa.web.auth import CHALLENGE_COOKIE, cookie_value
from medspa.web.auth import (
    ENROL_PATH,
    FORGOT_PATH,
    FORGOT_SENT,
    HOME_PATH,
    LOGIN_PATH,
    RESET_INVALID,
    RESET_PATH,
    VERIFY_PATH,
    WEAK_MESSAGES,
    code_error,
    safe_next,
)
from medspa.features.auth.components import auth_frame, group_key, native_form, qr_data_uri

EXPIRED_URL = f"{LOGIN_PATH}?error=expired"


class ChallengeState(rx.State):
    """Base of the second-step pages: the challenge cookie (server side only) and `next`."""

    next_path: str = HOME_PATH
    error: str = ""

    @property
    def challenge(self) -> str:
        value = cookie_value(self.router.headers.cookie, CHALLENGE_COOKIE)
        return value if 0 < len(value) <= 200 else ""

    def _read_query(self) -> None:
        query = self.router.url.query_parameters
        self.next_path = safe_next(query.get("next"))
        self.error = code_error(query)


class VerifyState(ChallengeState):
    """/login/verify: one code field (6 digits or a recovery code)."""

    @rx.event
    async def load(self):
        self._read_query()
        alive = await asyncio.to_thread(fetch_challenge_alive, self.challenge, purpose="totp")
        if not alive:
            return rx.redirect(EXPIRED_URL)


class EnrolState(ChallengeState):
    """/login/enrol: the QR code and manual key of a new TOTP secret (kept for this challenge
    while the page comes back after a wrong code, so the phone's entry stays valid)."""

    qr_src: str = ""
    manual_key: str = ""
    _for: str = ""  # SHA-256 of the challenge the shown secret belongs to

    @rx.event
    async def load(self):
        self._read_query()
        challenge = self.challenge
        digest = hashlib.sha256(challenge.encode()).hexdigest()
        if challenge and digest == self._for and self.manual_key:
            alive = await asyncio.to_thread(fetch_challenge_alive, challenge, purpose="enrol")
            if alive:
                return
        self.qr_src = self.manual_key = self._for = ""
        if not challenge:
            return rx.redirect(EXPIRED_URL)
        try:
            enrolment = await asyncio.to_thread(do_start_enrolment, challenge)
        except (InvalidCode, ValidationFailed):
            return rx.redirect(EXPIRED_URL)
        self.qr_src = qr_data_uri(enrolment.qr_svg)
        self.manual_key = group_key(enrolment.manual_key)
        self._for = digest


class ForgotState(rx.State):
    """/login/forgot: whether the form was sent (`?sent=1`), to show the "check your email"
    note, or refused for too many requests from this network (`?wait=N` seconds)."""

    sent: bool = False
    limited: str = ""

    @rx.event
    def load(self):
        query = self.router.url.query_parameters
        self.sent = query.get("sent") == "1"
        wait = ascii_int(query.get("wait", ""))
        self.limited = (f"Too many password-reset requests from your network. Please try again in "
                        f"{wait_words(min(wait, 86400))}." if wait and wait > 0 else "")


class ResetState(rx.State):
    """/reset-password?token=...: the token goes back in the form's hidden field (it is the
    link's own token, already in the address bar; single use, 30 minutes)."""

    token: str = ""
    error: str = ""  # next to the password field (the strength rule)
    invalid: bool = False

    @rx.event
    def load(self):
        query = self.router.url.query_parameters
        token = str(query.get("token", "") or "")[:200]
        self.token = token if token.replace("-", "").replace("_", "").isalnum() else ""
        code = str(query.get("error", "") or "")
        self.invalid = code == "invalid" or not self.token
        self.error = WEAK_MESSAGES.get(code, "")


# --------------------------------------------------------------------------- pages


def _code_input(**props) -> rx.Component:
    return rx.vstack(
        rx.text("Code", as_="label", size="2", weight="medium", html_for=props.get("id")),
        rx.input(size="3", width="100%", name="code", auto_complete="one-time-code", required=True,
                 auto_focus=True, max_length=20, spell_check=False, **props),
        spacing="1",
        width="100%",
    )


def _error(var, id_: str) -> rx.Component:
    return rx.cond(var != "", rx.callout(var, icon="circle-alert", color_scheme="red", size="1", width="100%",
                                         id=id_, role="alert"))


def _back_to_login() -> rx.Component:
    return rx.link("Back to sign in", href=LOGIN_PATH, size="2", id="back-to-login")


def verify_page() -> rx.Component:
    """The /login/verify page: one field for the authenticator code or a recovery code."""
    s = VerifyState
    form = native_form(
        rx.vstack(
            _code_input(id="verify-code", placeholder="123456", input_mode="text"),
            rx.el.input(type="hidden", name="next", value=s.next_path),
            _error(s.error, "verify-error"),
            rx.button(rx.icon("shield-check", size=16), "Verify", type="submit", size="3", width="100%",
                      id="verify-submit"),
            rx.text("Lost your phone? Enter one of your recovery codes (like abcde-fghjk) instead.", size="1",
                    color_scheme="gray"),
            _back_to_login(),
            spacing="4",
            width="100%",
        ),
        action="/auth/verify", method="post", id="verify-form", width="100%",
    )
    return auth_frame("Two-factor sign-in", "Enter the 6-digit code from your authenticator app.", form)


def enrol_page() -> rx.Component:
    """The /login/enrol page: the QR code, manual key and code field to turn on two-factor sign-in."""
    s = EnrolState
    form = native_form(
        rx.vstack(
            rx.center(
                rx.cond(s.qr_src != "",
                        rx.image(src=s.qr_src, alt="QR code for your authenticator app", width="200px",
                                 height="200px", id="enrol-qr"),
                        rx.spinner(size="3")),
                width="100%", padding="8px", background="white", border_radius="10px",
                border=f"1px solid {rx.color('gray', 5)}",
            ),
            rx.vstack(
                rx.text("Can't scan? Type this key into the app:", size="1", color_scheme="gray"),
                rx.code(s.manual_key, size="3", id="enrol-key", variant="soft", white_space="normal",
                        word_break="break-all"),
                spacing="1", width="100%",
            ),
            _code_input(id="enrol-code", placeholder="123456", input_mode="numeric"),
            rx.el.input(type="hidden", name="next", value=s.next_path),
            _error(s.error, "enrol-error"),
            rx.button(rx.icon("shield-check", size=16), "Turn on two-factor sign-in", type="submit", size="3",
                      width="100%", id="enrol-submit"),
            _back_to_login(),
            spacing="4",
            width="100%",
        ),
        action="/auth/enrol", method="post", id="enrol-form", width="100%",
    )
    return auth_frame(
        "Set up two-factor sign\u2011in",  # non-breaking hyphen: no "sign-" / "in" wrap
        "Your account needs a second step at sign-in. Scan this code with an authenticator app "
        "(Google Authenticator, 1Password, Authy ...), then enter the 6-digit code it shows.",
        form,
    )


def forgot_page() -> rx.Component:
    """The /login/forgot page: the email form, or the "link sent" note after it is posted."""
    s = ForgotState
    form = native_form(
        rx.vstack(
            rx.vstack(
                rx.text("Email", as_="label", size="2", weight="medium", html_for="forgot-email"),
                rx.input(size="3", width="100%", id="forgot-email", name="email", type="email", required=True,
                         auto_complete="username", auto_focus=True, placeholder="you@clinic.com"),
                spacing="1", width="100%",
            ),
            rx.button(rx.icon("mail", size=16), "Email me a link", type="submit", size="3", width="100%",
                      id="forgot-submit"),
            _back_to_login(),
            spacing="4",
            width="100%",
        ),
        action="/auth/forgot", method="post", id="forgot-form", width="100%",
    )
    sent = rx.vstack(
        rx.callout(FORGOT_SENT, icon="mail-check", color_scheme="teal", size="2", width="100%", id="forgot-sent",
                   role="status"),
        _back_to_login(),
        spacing="4", width="100%",
    )
    limited = rx.cond(s.limited != "", rx.callout(s.limited, icon="timer", color_scheme="amber", size="2",
                                                  width="100%", id="forgot-limited", role="alert"))
    return auth_frame("Forgot your password?", "We email you a link to choose a new one.",
                      rx.cond(s.sent, sent, rx.vstack(limited, form, spacing="4", width="100%")))


def reset_page() -> rx.Component:
    """The /reset-password page: the new password form, or a note when the link is invalid."""
    s = ResetState
    form = native_form(
        rx.vstack(
            rx.vstack(
                rx.text("New password", as_="label", size="2", weight="medium", html_for="reset-password"),
                rx.input(size="3", width="100%", id="reset-password", name="new_password", type="password",
                         required=True, auto_complete="new-password", auto_focus=True),
                rx.cond(s.error != "",
                        rx.text(s.error, size="2", color=rx.color("red", 11), id="reset-error", role="alert"),
                        rx.text("At least 12 characters, not a common password nor your email name; a few unrelated "
                                "words work well.", size="1",
                                color_scheme="gray")),
                spacing="1", width="100%",
            ),
            rx.el.input(type="hidden", name="token", value=s.token),
            rx.button(rx.icon("key-round", size=16), "Set the new password", type="submit", size="3", width="100%",
                      id="reset-submit"),
            spacing="4",
            width="100%",
        ),
        action="/auth/reset", method="post", id="reset-form", width="100%",
    )
    invalid = rx.vstack(
        rx.callout(RESET_INVALID, icon="circle-alert", color_scheme="red", size="2", width="100%",
                   id="reset-invalid", role="alert"),
        rx.link("Ask for a new link", href=FORGOT_PATH, size="2"),
        spacing="4", width="100%",
    )
    return auth_frame("Choose a new password", "Signing in with the new password works right away.",
                      rx.cond(s.invalid, invalid, form))


def register(app: rx.App) -> None:
    """Add the verify, enrol, forgot and reset pages to the app."""
    app.add_page(verify_page, route=VERIFY_PATH, title="Two-factor sign-in · medspa", on_load=VerifyState.load)
    app.add_page(enrol_page, route=ENROL_PATH, title="Set up two-factor sign-in · medspa", on_load=EnrolState.load)
    app.add_page(forgot_page, route=FORGOT_PATH, title="Forgot password · medspa", on_load=ForgotState.load)
    app.add_page(reset_page, route=RESET_PATH, title="New password · medspa", on_load=ResetState.load)
