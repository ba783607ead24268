"""The owner's staff invitations on `/staff` (staff.manage): the "Invite" form (email, name,
role, title) and the pending invitations with resend and withdraw. The domain actions check
staff.manage again; every handler here re-checks the session first (StaffState._act)."""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.clock import app_clock
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actions import (
    INVITE_ROLES,
    ROLE_LABELS,
    InvitationRow,
    do_invite_staff,
    do_resend_invitation,
    do_revoke_invitation,
    fetch_invitations,
)
from medspa.features.auth.state import StaffState
from medspa.settings import get_settings
from medspa.web.inputs import parse_id

FIELDS = ("email", "name", "role", "title")
GONE = "That invitation is not pending any more"


def _no_errors() -> dict[str, str]:
    return {f: "" for f in FIELDS}


@dataclasses.dataclass
class InviteRowView:
    """A pending invitation as the list shows it."""

    invitation_id: int = 0
    email: str = ""
    name: str = ""
    role: str = ""
    title: str = ""
    expires: str = ""  # "in 6 days" / "expired"
    expired: bool = False


def _expires(row: InvitationRow) -> str:
    if row.expired:
        return "expired"
    days = (row.expires_at - app_clock().now()).days
    return f"in {days} day{'s' if days != 1 else ''}" if days >= 1 else "today"


class InvitesState(StaffState):
    """Pending invitations, the form's field errors and the last link made (shown to copy)."""

    invites: list[InviteRowView] = []
    errors: dict[str, str] = _no_errors()
    notice: str = ""
    link: str = ""
    form_key: int = 0  # bumped after a sent invitation: the form comes back empty

    async def _reload(self):
        done = await self._act(fetch_invitations)
        if done.ok:
            self.invites = [InviteRowView(r.invitation_id, r.email, r.name, ROLE_LABELS[r.role], r.title, _expires(r),
                                          r.expired) for r in done.value]
        else:
            self.invites = []
        return done

    @rx.event
    async def load(self):
        self.errors, self.notice, self.link = _no_errors(), "", ""
        await self._reload()

    @rx.event
    async def invite(self, form_data: dict):
        if not isinstance(form_data, dict):
            return
        values = {f: str(form_data.get(f, "") or "")[:400] for f in FIELDS}
        try:
            done = await self._act(do_invite_staff, values["email"], values["name"], values["role"], values["title"],
                                   base_url=get_settings().base_url)
        except ValidationFailed as exc:
            self.errors = {**_no_errors(), **{k: v for k, v in exc.fields.items() if k in FIELDS}}
            self.notice = self.link = ""
            return
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.notice, self.link = done.error, ""
            return
        self.errors, self.link, self.form_key = _no_errors(), done.value, self.form_key + 1
        email = values['email'].strip().lower()
        self.notice = (f"Invitation sent to {email}. The link works once, for 7 days:" if get_settings().mail_enabled
                       else f"Email is not set up on this server, so nothing was sent: give {email} this link. "
                            "It works once, for 7 days:")
        await self._reload()

    @rx.event
    async def resend(self, invitation_id: int):
        invitation_id = parse_id(invitation_id)  # any id the database can hold, else nothing
        if invitation_id is None:
            return
        done = await self._act(do_resend_invitation, invitation_id, base_url=get_settings().base_url, denied=GONE)
        if done.redirect is not None:
            return done.redirect
        self.notice, self.link = (done.error, "") if done.error else ("A new link was sent (the old one no longer "
                                                                      "works):", done.value)
        await self._reload()

    @rx.event
    async def revoke(self, invitation_id: int):
        invitation_id = parse_id(invitation_id)
        if invitation_id is None:
            return
        done = await self._act(do_revoke_invitation, invitation_id, denied=GONE)
        if done.redirect is not None:
            return done.redirect
        self.notice, self.link = (done.error or "The invitation was withdrawn; its link no longer works."), ""
        await self._reload()


# --------------------------------------------------------------------------- components


def _error(field: str) -> rx.Component:
    msg = InvitesState.errors[field]
    return rx.cond(msg != "", rx.text(msg, size="1", color=rx.color("red", 11), id=f"invite-{field}-error",
                                      role="alert"))


def _field(label: str, field: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, as_="label", size="2", weight="medium", html_for=f"invite-{field}"), control,
                     _error(field), spacing="1", min_width="12em", flex="1")


def invite_form() -> rx.Component:
    """The "Invite" card: email, name, role, title; the sent link underneath."""
    s = InvitesState
    select_style = {"height": "32px", "width": "100%", "border_radius": "6px", "padding": "0 8px",
                    "border": f"1px solid {rx.color('gray', 7)}", "background": rx.color("gray", 1)}
    form = rx.form(
        rx.flex(
            _field("Email", "email", rx.input(name="email", id="invite-email", type="email", required=True,
                                              placeholder="name@clinic.com", width="100%")),
            _field("Name", "name", rx.input(name="name", id="invite-name", required=True, width="100%")),
            _field("Role", "role", rx.el.select(*(rx.el.option(ROLE_LABELS[r], value=r) for r in INVITE_ROLES),
                                                name="role", id="invite-role", default_value="provider",
                                                style=select_style)),
            _field("Title", "title", rx.input(name="title", id="invite-title", placeholder="e.g. Nurse injector",
                                              width="100%")),
            rx.button(rx.icon("send", size=15), "Invite", type="submit", id="invite-send", margin_top="22px"),
            gap="12px", wrap="wrap", align="start", width="100%",
        ),
        on_submit=InvitesState.invite, key=s.form_key.to_string(), id="invite-form", width="100%",
    )
    sent = rx.cond(s.notice != "", rx.callout(
        rx.vstack(rx.text(s.notice, size="2"),
                  rx.cond(s.link != "", rx.code(s.link, id="invite-link", variant="soft", white_space="normal",
                                               word_break="break-all")), spacing="1"),
        icon="mail-check", color_scheme="teal", size="1", width="100%", id="invite-notice"))
    return rx.card(rx.vstack(rx.heading("Invite staff", size="4"),
                             rx.text("They get an email with a link to choose a password (and set up two-factor "
                                     "sign-in when the role needs it).", size="2", color_scheme="gray"),
                             form, sent, spacing="3", width="100%"), width="100%")


def _invite_row(row: InviteRowView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(row.name, size="2", weight="medium"),
                                rx.text(row.email, size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.text(row.role), rx.cond(row.title != "", rx.text(row.title, size="1", color_scheme="gray"))),
        rx.table.cell(rx.cond(row.expired, rx.badge("Expired", color_scheme="red"), rx.text(row.expires, size="2"))),
        rx.table.cell(rx.hstack(
            rx.button("Resend", size="1", variant="soft", on_click=InvitesState.resend(row.invitation_id),
                      class_name="invite-resend"),
            rx.button("Withdraw", size="1", variant="soft", color_scheme="red",
                      on_click=InvitesState.revoke(row.invitation_id), class_name="invite-revoke"),
            spacing="2")),
        class_name="invite-row", custom_attrs={"data-email": row.email},
    )


def pending_invitations() -> rx.Component:
    """The pending invitations (nothing when there are none)."""
    s = InvitesState
    return rx.cond(s.invites.length() > 0, rx.card(rx.vstack(
        rx.heading("Pending invitations", size="4"),
        rx.table.root(
            rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in ("Invited", "Role", "Link expires",
                                                                                    "Actions")))),
            rx.table.body(rx.foreach(s.invites, _invite_row)),
            size="2", variant="ghost", width="100%", id="invite-table"),
        spacing="3", width="100%"), width="100%", overflow_x="auto"))
