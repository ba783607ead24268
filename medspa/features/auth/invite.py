"""`/invite?token=...`: accept a staff invitation. The page shows the clinic, the role and the
address; the form is a plain HTML POST to /auth/invite (medspa/api/invite.py), which makes the
account and signs in through the usual path (two-factor set-up forced for roles that need it).
A used, expired, withdrawn or unknown link gets a clear note instead of the form."""

from __future__ import annotations

import asyncio

import reflex as rx

from medspa.domain.identity.actions import InvitationInvalid, fetch_invitation
from medspa.features.auth.components import auth_frame, native_form
from medspa.web.auth import INVITE_PATH, LOGIN_PATH, WEAK_MESSAGES, invitation_message

INVITE_ACTION = "/auth/invite"


class InviteState(rx.State):
    """The invitation behind the link (UI-sized facts only) or why it cannot be used."""

    token: str = ""  # the link's own token, already in the address bar: goes back in the form
    clinic: str = ""
    role: str = ""
    email: str = ""
    name: str = ""
    invalid: str = ""  # the note instead of the form
    error: str = ""  # next to the password field (the strength rule)
    loaded: bool = False

    @rx.event
    async def load(self):
        query = self.router.url.query_parameters
        token = str(query.get("token", "") or "")[:200]
        self.token = token if token.replace("-", "").replace("_", "").isalnum() else ""
        self.error = WEAK_MESSAGES.get(str(query.get("error", "") or ""), "")
        self.invalid = invitation_message(str(query.get("reason", "") or "")) if query.get("error") == "invalid" \
            else ""
        self.clinic = self.role = self.email = self.name = ""
        if not self.invalid:
            try:
                view = await asyncio.to_thread(fetch_invitation, self.token)
            except InvitationInvalid as exc:
                self.invalid = exc.message
            else:
                self.clinic, self.role, self.email, self.name = view.clinic_name, view.role_label, view.email, view.name
        self.loaded = True


def invite_page() -> rx.Component:
    """The /invite page: who invites whom as what, and the new password field."""
    s = InviteState
    form = native_form(
        rx.vstack(
            rx.card(rx.vstack(
                rx.text(s.clinic, size="4", weight="bold", id="invite-clinic"),
                rx.hstack(rx.badge(s.role, size="2", id="invite-role"), rx.text(s.email, size="2", color_scheme="gray",
                                                                                id="invite-email"),
                          spacing="2", align="center", wrap="wrap"),
                spacing="2"), variant="surface", width="100%"),
            rx.el.input(type="email", name="username", value=s.email, auto_complete="username", read_only=True,
                        hidden=True),
            rx.vstack(
                rx.text("Choose a password", as_="label", size="2", weight="medium", html_for="invite-password"),
                rx.input(size="3", width="100%", id="invite-password", name="new_password", type="password",
                         required=True, auto_complete="new-password", auto_focus=True),
                rx.cond(s.error != "",
                        rx.text(s.error, size="2", color=rx.color("red", 11), id="invite-error", role="alert"),
                        rx.text("At least 12 characters, not a common password nor your email name; a few unrelated "
                                "words work well.", size="1",
                                color_scheme="gray")),
                spacing="1", width="100%",
            ),
            rx.el.input(type="hidden", name="token", value=s.token),
            rx.button(rx.icon("user-check", size=16), "Join and sign in", type="submit", size="3", width="100%",
                      id="invite-submit"),
            spacing="4", width="100%",
        ),
        action=INVITE_ACTION, method="post", id="invite-form", width="100%",
    )
    invalid = rx.vstack(
        rx.callout(s.invalid, icon="circle-alert", color_scheme="red", size="2", width="100%", id="invite-invalid",
                   role="alert"),
        rx.link("Go to sign in", href=LOGIN_PATH, size="2"),
        spacing="4", width="100%",
    )
    body = rx.cond(~s.loaded, rx.center(rx.spinner(size="3"), width="100%"), rx.cond(s.invalid != "", invalid, form))
    return auth_frame("You're invited", rx.cond(s.name != "", "Welcome, " + s.name + ". Choose your password to "
                                                "join the clinic.", "Join your clinic's staff system."), body)


def register(app: rx.App) -> None:
    """Add /invite."""
    app.add_page(invite_page, route=INVITE_PATH, title="Accept your invitation · medspa", on_load=InviteState.load)
