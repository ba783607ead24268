"""Sessions and standing of staff accounts: sign out everywhere (the account itself), and the
owner's actions (staff.manage): revoke a member's sessions, deactivate, reactivate, unlock.
(The owner's two-factor actions are in two_factor.py; the roster in roster.py.)

Services: take a session and never commit. Missing and forbidden accounts raise NotFound.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from medspa.domain.audit.service import record
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.lockout import clear_failures, locked_until_of
from medspa.domain.identity.sessions import revoke_all
from medspa.domain.identity.users import self_user, staff_user


def sign_out_everywhere(session: Session, actor: Actor, *, now: datetime) -> int:
    """Revoke every session of the signed-in account (this browser too); returns how many.
    Raises NotFound without an account. Audited auth.sign_out_everywhere."""
    user = self_user(session, actor)
    revoked = revoke_all(session, user.id, now)
    record(session, actor, "auth.sign_out_everywhere", "user_account", user.id, at=now, sessions_revoked=revoked)
    return revoked


def revoke_user_sessions(session: Session, actor: Actor, user_id: int, *, now: datetime) -> int:
    """Owner (staff.manage): revoke all sessions of a staff account; returns how many.
    Raises PermissionDenied, NotFound. Audited auth.sessions_revoked."""
    actor.require("staff.manage")
    user = staff_user(session, actor, user_id)
    revoked = revoke_all(session, user.id, now)
    record(session, actor, "auth.sessions_revoked", "user_account", user.id, at=now, sessions_revoked=revoked)
    return revoked


def deactivate_user(session: Session, actor: Actor, user_id: int, *, now: datetime) -> None:
    """Owner (staff.manage): deactivate a staff account. The row stays (history, audit),
    active=False, deactivated_at=now, all sessions revoked; sign-in is refused like a wrong
    password. Raises PermissionDenied, NotFound, ValidationFailed (own account)."""
    actor.require("staff.manage")
    user = staff_user(session, actor, user_id)
    if user.id == actor.user_id:
        raise ValidationFailed({"user": "You cannot deactivate your own account"})
    if not user.active:
        return
    user.active = False
    user.deactivated_at = now
    session.add(user)
    revoked = revoke_all(session, user.id, now)
    record(session, actor, "user.deactivate", "user_account", user.id, at=now, sessions_revoked=revoked)


def reactivate_user(session: Session, actor: Actor, user_id: int, *, now: datetime) -> None:
    """Owner (staff.manage): allow a deactivated account to sign in again (failures and lock
    cleared). Raises PermissionDenied, NotFound. Audited user.reactivate."""
    actor.require("staff.manage")
    user = staff_user(session, actor, user_id)
    if user.active:
        return
    user.active = True
    user.deactivated_at = None
    clear_failures(session, user)
    session.add(user)
    record(session, actor, "user.reactivate", "user_account", user.id, at=now)


def unlock_user(session: Session, actor: Actor, user_id: int, *, now: datetime) -> None:
    """Owner (staff.manage): lift a failed-login lock before it expires and reset the count.
    Raises PermissionDenied, NotFound. Audited auth.unlocked (when it was locked)."""
    actor.require("staff.manage")
    user = staff_user(session, actor, user_id)
    was_locked = locked_until_of(session, user.email, now) is not None
    clear_failures(session, user)
    session.add(user)
    if was_locked:
        record(session, actor, "auth.unlocked", "user_account", user.id, at=now, reason="owner")
