"""Loading a staff account for a change: locked FOR UPDATE, and only within the actor's clinic.

NotFound for missing and forbidden alike. Services: take a session, never commit.
"""

from __future__ import annotations

from sqlmodel import Session, select

from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.models import UserAccount


def lock_user(session: Session, user_id: int) -> UserAccount | None:
    """The account row, locked FOR UPDATE until the transaction ends (None: no such row)."""
    return session.exec(select(UserAccount).where(UserAccount.id == user_id).with_for_update()).first()


def active_user_by_email(session: Session, email: str) -> UserAccount | None:
    """The active account of a (lower-cased) email in the session's clinic, locked FOR UPDATE."""
    return session.exec(select(UserAccount).where(UserAccount.email == email, UserAccount.active)
                        .with_for_update()).first()


def staff_user(session: Session, actor: Actor, user_id: int) -> UserAccount:
    """Any account of the actor's clinic (for the owner's actions); raises NotFound."""
    user = lock_user(session, user_id)
    if user is None or user.org_id != actor.org_id:
        raise NotFound("user_account")
    return user


def self_user(session: Session, actor: Actor) -> UserAccount:
    """The actor's own active account; raises NotFound (no account behind the actor)."""
    if actor.user_id is None:
        raise NotFound("user_account")
    user = lock_user(session, actor.user_id)
    if user is None or not user.active:
        raise NotFound("user_account")
    return user
