"""Changing a staff password: by the signed-in account (change_password) or with an emailed
reset link (queue_reset_link, then reset_with_link).

A reset link is `{base_url}/reset-password?token=...`, valid RESET_TTL (30 min), single use;
only its SHA-256 is stored. Services: take a session (scoped to the clinic) and never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.lockout import clear_failures
from medspa.domain.identity.models import PasswordResetToken
from medspa.domain.identity.passwords import check_password_strength, hash_password, verify_password
from medspa.domain.identity.sessions import revoke_all
from medspa.domain.identity.tokens import new_token, token_hash
from medspa.domain.identity.users import active_user_by_email, lock_user, self_user
from medspa.domain.messaging.delivery import add_messages
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.practice.models import Organization

RESET_TTL = timedelta(minutes=30)


class ResetLinkInvalid(Exception):
    """The password reset link is unknown, used or expired (one message for all three)."""


def change_password(session: Session, actor: Actor, current_password: str, new_password: str, *,
                    now: datetime, keep_token: str | None = None) -> int:
    """The signed-in account changes its password (strength rule). Every other session is
    revoked (keep_token: the session to keep, usually the caller's cookie); returns how many
    were revoked. Raises ValidationFailed ({"current_password": ...}), WeakPassword, NotFound.
    Audited auth.password_changed."""
    user = self_user(session, actor)
    if not verify_password(user.password_hash, current_password):
        raise ValidationFailed({"current_password": "Your current password is not right"})
    check_password_strength(new_password, user.email)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    session.add(user)
    revoked = revoke_all(session, user.id, now, except_token=keep_token)
    record(session, actor, "auth.password_changed", "user_account", user.id, at=now, sessions_revoked=revoked)
    return revoked


def _reset_email(org_name: str, user_name: str, link: str) -> tuple[str, str]:
    subject = f"Reset your {org_name} staff password".replace("  ", " ")
    body = (f"Hi {user_name},\n\n"
            f"Someone (hopefully you) asked to reset the password of your staff account.\n"
            f"Open this link within 30 minutes to choose a new password:\n{link}\n\n"
            f"If you did not ask for this, ignore this email: your password stays the same.\n\n{org_name}")
    return subject, body


def queue_reset_link(session: Session, org_id: int, email: str, *, now: datetime, base_url: str, ip: str = "",
                     user_agent: str = "") -> bool:
    """Queue a reset link by email (outbox kind "password_reset", dedupe_key
    "password-reset-<token row id>") for the active account of a lower-cased `email`;
    earlier unused links of the account stop working. False (nothing queued) when there is
    no such account. Audited auth.password_reset_requested."""
    user = active_user_by_email(session, email)
    if user is None:
        return False
    session.execute(update(PasswordResetToken).where(PasswordResetToken.user_id == user.id,
                                                     PasswordResetToken.used_at.is_(None)).values(used_at=now))
    token = new_token()
    row = PasswordResetToken(org_id=org_id, user_id=user.id, token_hash=token_hash(token), created_at=now,
                             expires_at=now + RESET_TTL)
    session.add(row)
    session.flush()
    org_name = session.exec(select(Organization.name).where(Organization.id == org_id)).first() or ""
    subject, body = _reset_email(org_name, user.display_name or user.email,
                                 f"{base_url.rstrip('/')}/reset-password?token={token}")
    add_messages(session, [OutboxMessage(org_id=org_id, channel="email", kind="password_reset", to_address=user.email,
                                         subject=subject, body=body, dedupe_key=f"password-reset-{row.id}")])
    record(session, Actor(org_id=org_id, role="public", label=email, ip=ip, user_agent=user_agent),
           "auth.password_reset_requested", "user_account", user.id, at=now)
    return True


def reset_with_link(session: Session, org_id: int, token: str, new_password: str, *, now: datetime, ip: str = "",
                    user_agent: str = "") -> None:
    """Use a reset link: set `new_password` (strength rule), spend the link, revoke all the
    account's sessions and lift a failed-login lock. Raises ResetLinkInvalid (unknown, used
    or expired) or WeakPassword (nothing changed: the link stays usable). Audited
    auth.password_reset."""
    row = session.exec(select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash(token))
                       .with_for_update()).first()
    if row is None or row.used_at is not None or now >= row.expires_at:
        raise ResetLinkInvalid()
    user = lock_user(session, row.user_id)
    if user is None or not user.active:
        raise ResetLinkInvalid()
    check_password_strength(new_password, user.email)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    clear_failures(session, user)
    session.add(user)
    row.used_at = now
    session.add(row)
    revoked = revoke_all(session, user.id, now)
    record(session, Actor(org_id=org_id, role="public", label=user.email, ip=ip, user_agent=user_agent),
           "auth.password_reset", "user_account", user.id, at=now, sessions_revoked=revoked)
