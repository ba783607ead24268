"""Server-side staff sessions: open one, find the actor of a token, revoke.

A session lasts `session_hours` at most (absolute) and ends after IDLE_TIMEOUT without
activity. Only the SHA-256 of its token is stored. Services: they take a session (already
scoped to the clinic, see tokens.enter_clinic) and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.lockout import forget_pair
from medspa.domain.identity.models import UserAccount, UserSession
from medspa.domain.identity.tokens import new_token, token_hash

IDLE_TIMEOUT = timedelta(hours=2)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


@dataclass(frozen=True)
class SignedIn:
    """A new session: the raw token (for the cookie), the actor and the staff display name."""

    token: str
    actor: Actor
    display_name: str


def actor_of(user: UserAccount, ip: str = "", user_agent: str = "") -> Actor:
    """The Actor of a staff account (ip and user_agent go to the audit trail)."""
    return Actor(org_id=user.org_id, role=user.role, user_id=user.id, staff_id=user.staff_id,
                 label=user.display_name or user.email, ip=ip, user_agent=user_agent)


def open_session(session: Session, user: UserAccount, now: datetime, session_hours: int, ip: str,
                 user_agent: str, method: str) -> SignedIn:
    """A new session for `user` (a full sign-in: the failure count resets). `method` is
    "password", "totp" or "recovery_code" (audited auth.login; the second factor named)."""
    token = new_token()
    session.add(UserSession(org_id=user.org_id, user_id=user.id, token_hash=token_hash(token), created_at=now,
                            last_seen_at=now, expires_at=now + timedelta(hours=session_hours)))
    user.last_login_at = now
    user.failed_login_count, user.throttled_until = 0, None
    forget_pair(session, user.email, ip)
    session.add(user)
    actor = actor_of(user, ip, user_agent)
    if method == "password":
        record(session, actor, "auth.login", "user_account", user.id, at=now)
    else:
        record(session, actor, "auth.login", "user_account", user.id, at=now, second_factor=method)
    return SignedIn(token, actor, user.display_name or user.email)


def revoke_all(session: Session, user_id: int, now: datetime, *, except_token: str | None = None) -> int:
    """Revoke the user's live sessions (but the one of except_token); returns how many."""
    stmt = (update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=now))
    if except_token:
        stmt = stmt.where(UserSession.token_hash != token_hash(except_token))
    return session.execute(stmt).rowcount or 0


def session_actor(session: Session, token: str, *, now: datetime, ip: str = "", user_agent: str = "",
                  touch: bool = True) -> Actor | None:
    """The actor of a live session token, or None (unknown, revoked, expired, idle, account
    deactivated). touch=True counts it as activity (last_seen_at, at most once a minute)."""
    row = session.exec(select(UserSession, UserAccount).join(UserAccount, UserAccount.id == UserSession.user_id)
                       .where(UserSession.token_hash == token_hash(token))).first()
    if row is None:
        return None
    sess, user = row
    if sess.revoked_at or not user.active or now >= sess.expires_at or now - sess.last_seen_at >= IDLE_TIMEOUT:
        return None
    if touch and now - sess.last_seen_at > TOUCH_EVERY:  # don't write on every event
        sess.last_seen_at = now
        session.add(sess)
    return actor_of(user, ip, user_agent)


def end_session(session: Session, token: str, *, now: datetime) -> bool:
    """Revoke the session of `token` (audited auth.logout); False when unknown or already revoked."""
    sess = session.exec(select(UserSession).where(UserSession.token_hash == token_hash(token))).first()
    if sess is None or sess.revoked_at:
        return False
    sess.revoked_at = now
    session.add(sess)
    user = session.get(UserAccount, sess.user_id)
    record(session, actor_of(user), "auth.logout", "user_account", user.id, at=now)
    return True
