"""Staff invitations: an emailed single-use link `{base_url}/invite?token=...` that makes a staff
account (and its staff member) with the role and title the inviter chose.

The token has 256 bits (tokens.new_token); only its SHA-256 is stored. A link works once,
for INVITE_TTL (7 days); resending gives a new link (the old one stops working); revoking
ends it. An address that already has a staff account (in any clinic: emails are unique
across clinics) cannot be invited; one pending invitation per address and clinic.

Services: take a session scoped to the clinic and never commit. invite_staff,
resend_invitation, revoke_invitation and list_invitations need staff.manage;
new_invitation does not (the set-up link and the CLI are their own authority).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import text
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.models import Invitation, UserAccount
from medspa.domain.identity.passwords import check_password_strength, hash_password
from medspa.domain.identity.tokens import new_token, token_hash
from medspa.domain.messaging.delivery import add_messages
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.practice.models import Organization
from medspa.domain.practice.service import add_staff

INVITE_TTL = timedelta(days=7)
INVITE_ROLES = ("owner", "manager", "provider", "front_desk", "lab")
ROLE_LABELS = {"owner": "Owner", "manager": "Manager", "provider": "Provider", "front_desk": "Front desk",
               "lab": "Lab"}
INVITE_KIND = "staff_invitation"  # outbox kind (a secret kind: the outbox page hides its body)
INVALID_MESSAGES = {
    "unknown": "This invitation link is not valid. Check that you copied all of it, or ask for a new one.",
    "used": "This invitation was already used. Sign in with the password you chose.",
    "expired": "This invitation has expired. Ask the clinic for a new one.",
    "revoked": "This invitation was withdrawn. Ask the clinic if you think this is a mistake.",
    "taken": "This email address already has a staff account. Sign in with it instead.",
}


class InvitationInvalid(Exception):
    """The link cannot be used: `reason` is one of INVALID_MESSAGES' keys; `message` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
        self.message = INVALID_MESSAGES[reason]


@dataclass(frozen=True)
class Invitee:
    """Validated invitation fields: lower-cased email, name, role (INVITE_ROLES), title."""

    email: str
    name: str
    role: str
    title: str


def invite_link(base_url: str, token: str) -> str:
    """The accept link of an invitation token."""
    return f"{base_url.rstrip('/')}/invite?token={token}"


def email_taken(session: Session, email: str) -> bool:
    """True when any staff account of any clinic uses `email` (a SECURITY DEFINER lookup)."""
    return bool(session.execute(text("select medspa_email_taken(:e)"), {"e": email.strip().lower()}).scalar())


def check_invitee(email: str, name: str, role: str, title: str = "") -> Invitee:
    """Trimmed, validated fields; raises ValidationFailed with a message per bad field."""
    errors: dict[str, str] = {}
    name, title = (name or "").strip(), (title or "").strip()
    try:
        email = validate_email((email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        errors["email"] = "Enter an email address like name@example.com"
    if not name:
        errors["name"] = "Enter the person's name"
    elif len(name) > 200 or any(ord(c) < 32 for c in name):
        errors["name"] = "Use at most 200 characters, without control characters"
    if role not in INVITE_ROLES:
        errors["role"] = "Choose a role: " + ", ".join(ROLE_LABELS[r].lower() for r in INVITE_ROLES)
    if len(title) > 200 or any(ord(c) < 32 for c in title):
        errors["title"] = "Use at most 200 characters, without control characters"
    if errors:
        raise ValidationFailed(errors)
    return Invitee(email, name, role, title)


def _pending(session: Session, email: str) -> Invitation | None:
    return session.exec(select(Invitation).where(Invitation.email == email, Invitation.accepted_at.is_(None),
                                                 Invitation.revoked_at.is_(None))).first()


def _queue_email(session: Session, inv: Invitation, token: str, base_url: str, now: datetime) -> str:
    link = invite_link(base_url, token)
    org_name = session.exec(select(Organization.name).where(Organization.id == inv.org_id)).first() or "the clinic"
    body = (f"Hi {inv.display_name},\n\n"
            f"You are invited to {org_name}'s staff system as {ROLE_LABELS[inv.role].lower()}.\n"
            f"Open this link within 7 days to choose your password and sign in:\n{link}\n\n"
            f"The link works once. If you did not expect this, ignore this email.\n\n{org_name}")
    add_messages(session, [OutboxMessage(
        org_id=inv.org_id, channel="email", kind=INVITE_KIND, to_address=inv.email,
        subject=f"You are invited to {org_name}", body=body,
        dedupe_key=f"invitation-{inv.id}-{int(now.timestamp())}-{inv.token_hash[:8]}")])
    return link


def new_invitation(session: Session, actor: Actor, who: Invitee, *, now: datetime, base_url: str) -> tuple[int, str]:
    """Issue an invitation in the actor's clinic and queue its email; returns (id, link). No
    permission check (callers check, or are the set-up link). Raises ValidationFailed
    ({"email": ...}) when the address has an account or a pending invitation. Audited
    invitation.create."""
    if email_taken(session, who.email):
        raise ValidationFailed({"email": "This address already has a staff account"})
    if _pending(session, who.email) is not None:
        raise ValidationFailed({"email": "This address is already invited: resend that invitation instead"})
    token = new_token()
    inv = Invitation(org_id=actor.org_id, email=who.email, display_name=who.name, role=who.role, title=who.title,
                     token_hash=token_hash(token), invited_by=actor.user_id, created_at=now,
                     expires_at=now + INVITE_TTL)
    session.add(inv)
    session.flush()
    link = _queue_email(session, inv, token, base_url, now)
    record(session, actor, "invitation.create", "invitation", inv.id, at=now, role=who.role, email=who.email)
    return int(inv.id), link


def invite_staff(session: Session, actor: Actor, who: Invitee, *, now: datetime, base_url: str) -> tuple[int, str]:
    """Owner (staff.manage): invite a staff member (see new_invitation)."""
    actor.require("staff.manage")
    return new_invitation(session, actor, who, now=now, base_url=base_url)


def _open_for_change(session: Session, actor: Actor, invitation_id: int) -> Invitation:
    actor.require("staff.manage")
    inv = session.exec(select(Invitation).where(Invitation.id == invitation_id).with_for_update()).first()
    if inv is None or inv.org_id != actor.org_id or inv.accepted_at is not None or inv.revoked_at is not None:
        raise NotFound("invitation")
    return inv


def resend_invitation(session: Session, actor: Actor, invitation_id: int, *, now: datetime, base_url: str) -> str:
    """Owner (staff.manage): a new link for a pending invitation (the old one stops working),
    valid 7 days from now, emailed again; returns the link. Raises NotFound (accepted,
    revoked or not this clinic's). Audited invitation.resend."""
    inv = _open_for_change(session, actor, invitation_id)
    token = new_token()
    inv.token_hash, inv.expires_at = token_hash(token), now + INVITE_TTL
    session.add(inv)
    session.flush()
    link = _queue_email(session, inv, token, base_url, now)
    record(session, actor, "invitation.resend", "invitation", inv.id, at=now, email=inv.email)
    return link


def revoke_invitation(session: Session, actor: Actor, invitation_id: int, *, now: datetime) -> None:
    """Owner (staff.manage): withdraw a pending invitation (its link stops working). Raises
    NotFound. Audited invitation.revoke."""
    inv = _open_for_change(session, actor, invitation_id)
    inv.revoked_at = now
    session.add(inv)
    record(session, actor, "invitation.revoke", "invitation", inv.id, at=now, email=inv.email)


@dataclass(frozen=True)
class InvitationRow:
    """A pending invitation as the staff page lists it (never the token)."""

    invitation_id: int
    email: str
    name: str
    role: str
    title: str
    created_at: datetime
    expires_at: datetime
    expired: bool


def list_invitations(session: Session, actor: Actor, *, now: datetime) -> list[InvitationRow]:
    """Owner (staff.manage): the pending invitations (expired ones too: they can be resent),
    newest first."""
    actor.require("staff.manage")
    rows = session.exec(select(Invitation).where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
                        .order_by(Invitation.created_at.desc(), Invitation.id.desc())).all()
    return [InvitationRow(int(i.id), i.email, i.display_name, i.role, i.title, i.created_at, i.expires_at,
                          now >= i.expires_at) for i in rows]


def usable_invitation(session: Session, token: str, now: datetime, *, lock: bool = False) -> Invitation:
    """The invitation of `token` in the session's clinic if it can still be accepted; raises
    InvitationInvalid (unknown, used, revoked, expired)."""
    query = select(Invitation).where(Invitation.token_hash == token_hash(token or ""))
    inv = session.exec(query.with_for_update() if lock else query).first()
    if inv is None:
        raise InvitationInvalid("unknown")
    if inv.accepted_at is not None:
        raise InvitationInvalid("used")
    if inv.revoked_at is not None:
        raise InvitationInvalid("revoked")
    if now >= inv.expires_at:
        raise InvitationInvalid("expired")
    return inv


def accept_invitation(session: Session, token: str, password: str, *, now: datetime, ip: str = "",
                      user_agent: str = "") -> str:
    """Spend an invitation: its staff member (bookable for providers) and account with the
    invited role and `password` (strength rule); returns the account's email. Raises
    InvitationInvalid (also "taken": the address got an account meanwhile) or WeakPassword
    (nothing written; the link stays usable). Audited invitation.accept and user.create."""
    inv = usable_invitation(session, token, now, lock=True)
    check_password_strength(password, inv.email)
    if email_taken(session, inv.email):
        raise InvitationInvalid("taken")
    system = Actor.system(inv.org_id, f"invitation of {inv.email}")
    staff = add_staff(session, system, inv.display_name, inv.role, title=inv.title)
    user = UserAccount(org_id=inv.org_id, email=inv.email, password_hash=hash_password(password), role=inv.role,
                       staff_id=staff.id, display_name=inv.display_name, created_at=now, password_changed_at=now)
    session.add(user)
    session.flush()
    inv.accepted_at, inv.user_id = now, user.id
    session.add(inv)
    actor = Actor(org_id=inv.org_id, role="public", label=inv.email, ip=ip, user_agent=user_agent)
    record(session, actor, "user.create", "user_account", user.id, at=now, role=inv.role, invitation_id=inv.id)
    record(session, actor, "invitation.accept", "invitation", inv.id, at=now, user_id=user.id)
    return inv.email
