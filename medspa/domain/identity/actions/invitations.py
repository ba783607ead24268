"""Staff invitations (identity/invitations.py), one transaction each (domain/work.atomic):

- the owner (staff.manage): fetch_invitations, do_invite_staff, do_resend_invitation,
  do_revoke_invitation;
- anonymous, with the link's token: fetch_invitation (the /invite page), do_accept_invitation
  (the account, then the usual sign-in path, so two-factor enrolment is forced as at /login).

Keyword-only: `now` or `clock` (default: the app clock), `engine` (tests pass theirs),
`base_url` for links. Errors: PermissionDenied, NotFound, ValidationFailed (a message per
field), InvitationInvalid (with the reason's message), WeakPassword.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.identity.actions.signin import do_begin_login
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.invitations import (
    ROLE_LABELS,
    InvitationInvalid,
    InvitationRow,
    accept_invitation,
    check_invitee,
    invite_staff,
    list_invitations,
    resend_invitation,
    revoke_invitation,
    usable_invitation,
)
from medspa.domain.identity.signin import LoginResult
from medspa.domain.identity.tokens import enter_clinic, token_hash
from medspa.domain.practice.service import organization_name
from medspa.domain.work import atomic, now_of

MANAGE = "staff.manage"


@dataclass(frozen=True)
class InvitationView:
    """What the /invite page shows about a usable link: the clinic, the role, who it is for."""

    clinic_name: str
    role_label: str
    email: str
    name: str


def fetch_invitations(actor: Actor, *, now: datetime | None = None, clock: Clock | None = None,
                      engine: Engine | None = None) -> list[InvitationRow]:
    """The clinic's pending invitations (expired ones flagged), newest first."""
    actor.require(MANAGE)
    now = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        return list_invitations(work.session, actor, now=now)


def do_invite_staff(actor: Actor, email: str, name: str, role: str, title: str = "", *, base_url: str,
                    now: datetime | None = None, clock: Clock | None = None, engine: Engine | None = None) -> str:
    """Invite a staff member by email with a role and title; returns the link (also emailed).
    Raises ValidationFailed (keys email, name, role, title)."""
    actor.require(MANAGE)
    who = check_invitee(email, name, role, title)
    now = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        return invite_staff(work.session, actor, who, now=now, base_url=base_url)[1]


def do_resend_invitation(actor: Actor, invitation_id: int, *, base_url: str, now: datetime | None = None,
                         clock: Clock | None = None, engine: Engine | None = None) -> str:
    """A new link for a pending invitation (7 more days; the old link stops working), emailed
    again; returns it. Raises NotFound."""
    actor.require(MANAGE)
    now = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        return resend_invitation(work.session, actor, invitation_id, now=now, base_url=base_url)


def do_revoke_invitation(actor: Actor, invitation_id: int, *, now: datetime | None = None,
                         clock: Clock | None = None, engine: Engine | None = None) -> None:
    """Withdraw a pending invitation. Raises NotFound."""
    actor.require(MANAGE)
    now = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        revoke_invitation(work.session, actor, invitation_id, now=now)


def fetch_invitation(token: str, *, now: datetime | None = None, clock: Clock | None = None,
                     engine: Engine | None = None) -> InvitationView:
    """The clinic, role and invitee of a usable link. Raises InvitationInvalid."""
    now = now_of(clock, now)
    with atomic(None, engine=engine) as work:
        org_id = enter_clinic(work.session, "invite", token_hash(token or ""))
        if org_id is None:
            raise InvitationInvalid("unknown")
        inv = usable_invitation(work.session, token, now)
        return InvitationView(organization_name(work.session, org_id), ROLE_LABELS[inv.role], inv.email,
                              inv.display_name)


def do_accept_invitation(token: str, password: str, *, session_hours: int = 12, ip: str = "", user_agent: str = "",
                         now: datetime | None = None, clock: Clock | None = None,
                         engine: Engine | None = None) -> LoginResult:
    """Spend the link: the staff account with the invited role and `password` (strength
    rule), committed; then sign in through do_begin_login (a session, or the challenge of
    the two-factor enrolment the role needs). Raises InvitationInvalid or WeakPassword
    (nothing written; the link stays usable)."""
    now = now_of(clock, now)
    with atomic(None, engine=engine) as work:
        org_id = enter_clinic(work.session, "invite", token_hash(token or ""))
        if org_id is None:
            raise InvitationInvalid("unknown")
        email = accept_invitation(work.session, token, password, now=now, ip=ip, user_agent=user_agent)
    return do_begin_login(email, password, session_hours=session_hours, ip=ip, user_agent=user_agent, now=now,
                          engine=engine)
