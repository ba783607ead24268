"""Staff sign-in: argon2id password hashes and server-side sessions.

The clinic of an email or a session token is found through two SECURITY DEFINER functions
(medspa_org_for_login, medspa_org_for_session) before any tenant row is read; everything
after that runs under that clinic's row-level security. Only SHA-256 of tokens is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from medspa.db import tenant_session
from medspa.domain.audit.service import record
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.models import UserAccount, UserSession

_HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory defaults
_DUMMY_HASH = _HASHER.hash("timing-equaliser")
IDLE_TIMEOUT = timedelta(hours=2)


class LoginFailed(Exception):
    """Wrong email or password (one message for both, so accounts cannot be probed).

    retry_after: seconds the UI should ask the user to wait before trying again (0: none;
    set after 3 consecutive failures of one account). Subclasses: accounts.AccountLocked,
    accounts.SecondFactorRequired, accounts.InvalidCode."""

    def __init__(self, message: str = "", *, retry_after: int = 0):
        super().__init__(message)
        self.retry_after = retry_after


def hash_password(password: str) -> str:
    """An argon2id hash (PHC string) of `password`."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if `password` matches the argon2 hash."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class SignedIn:
    """A new session: the raw token (for the cookie), the actor and the staff display name."""

    token: str
    actor: Actor
    display_name: str


def _actor(user: UserAccount, ip: str = "", user_agent: str = "") -> Actor:
    return Actor(org_id=user.org_id, role=user.role, user_id=user.id, staff_id=user.staff_id,
                 label=user.display_name or user.email, ip=ip, user_agent=user_agent)


def login(engine: Engine, email: str, password: str, *, now: datetime, session_hours: int = 12,
          ip: str = "", user_agent: str = "") -> SignedIn:
    """Check the password and open a session (absolute expiry session_hours, idle 2 h).

    One-step sign-in for accounts without a second factor; the full flow (lockout, TOTP,
    forced enrolment) is accounts.begin_login / complete_login, which this wraps.
    Raises LoginFailed (wrong email or password; retry_after hint after 3 failures),
    accounts.AccountLocked (15 min after 5 failures) or accounts.SecondFactorRequired (the
    account needs a TOTP code or two-factor enrolment: use begin_login). Audited.
    """
    from medspa.domain.identity.accounts import SecondFactorRequired, begin_login

    result = begin_login(engine, email, password, now=now, session_hours=session_hours, ip=ip,
                         user_agent=user_agent)
    if result.signed_in is None:
        raise SecondFactorRequired(result.status, result.challenge)
    return result.signed_in


def actor_for_token(engine: Engine, token: str | None, *, now: datetime, ip: str = "",
                    user_agent: str = "", touch: bool = True) -> Actor | None:
    """The signed-in actor for a session token, or None (unknown, revoked, expired, idle).

    touch=False checks without counting as activity (server-initiated pushes must not keep
    an idle session alive)."""
    if not token:
        return None
    digest = _token_hash(token)
    with tenant_session(None, engine) as s:
        org_id = s.execute(text("select medspa_org_for_session(:h)"), {"h": digest}).scalar()
    if org_id is None:
        return None
    with tenant_session(org_id, engine) as s:
        row = s.exec(select(UserSession, UserAccount).join(UserAccount, UserAccount.id == UserSession.user_id)
                     .where(UserSession.token_hash == digest)).first()
        if row is None:
            return None
        sess, user = row
        if (sess.revoked_at or not user.active or now >= sess.expires_at
                or now - sess.last_seen_at >= IDLE_TIMEOUT):
            return None
        if touch and now - sess.last_seen_at > timedelta(minutes=1):  # don't write on every event
            sess.last_seen_at = now
            s.add(sess)
            s.commit()
        return _actor(user, ip, user_agent)


def logout(engine: Engine, token: str | None, *, now: datetime) -> None:
    """Revoke the session of `token` (no-op for unknown tokens)."""
    if not token:
        return
    digest = _token_hash(token)
    with tenant_session(None, engine) as s:
        org_id = s.execute(text("select medspa_org_for_session(:h)"), {"h": digest}).scalar()
    if org_id is None:
        return
    with tenant_session(org_id, engine) as s:
        sess = s.exec(select(UserSession).where(UserSession.token_hash == digest)).first()
        if sess and not sess.revoked_at:
            sess.revoked_at = now
            s.add(sess)
            user = s.get(UserAccount, sess.user_id)
            record(s, _actor(user), "auth.logout", "user_account", user.id, at=now)
            s.commit()


def create_user(session, actor: Actor, *, email: str, password: str, role: str, staff_id: int | None = None,
                display_name: str = "") -> UserAccount:
    """Add a staff login (settings.write). Password stored as argon2id.

    Raises PermissionDenied, or WeakPassword (passwords.check_password_strength: 12+
    characters, not common, not containing the email's local part)."""
    from medspa.domain.identity.passwords import check_password_strength

    actor.require("settings.write")
    check_password_strength(password, email)
    user = UserAccount(org_id=actor.org_id, email=email.strip().lower(), password_hash=hash_password(password),
                       role=role, staff_id=staff_id, display_name=display_name)
    session.add(user)
    session.flush()
    record(session, actor, "user.create", "user_account", user.id, role=role)
    return user
