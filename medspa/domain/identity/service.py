"""Staff logins: creating one, and the names other modules imported from here before the
identity area was split by topic.

Passwords are argon2id (passwords.py), sessions server-side (sessions.py), tokens stored
as SHA-256 only (tokens.py). The clinic of an email or a session token is found through
SECURITY DEFINER functions before any tenant row is read; everything after that runs under
that clinic's row-level security. The use cases are in actions/.

`login`, `logout` and `actor_for_token` keep their old engine-first signature for callers
not yet moved to the actions (medspa/api/media.py, medspa/features/calendar/live.py and
some tests); new code calls actions.do_login, actions.do_logout, actions.actor_for_token.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from medspa.domain.audit.service import record
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.lockout import LoginFailed
from medspa.domain.identity.models import UserAccount
from medspa.domain.identity.passwords import DUMMY_HASH as _DUMMY_HASH
from medspa.domain.identity.passwords import check_password_strength, hash_password, verify_password
from medspa.domain.identity.sessions import IDLE_TIMEOUT, SignedIn
from medspa.domain.identity.sessions import actor_of as _actor
from medspa.domain.identity.tokens import token_hash as _token_hash

__all__ = ["IDLE_TIMEOUT", "LoginFailed", "SignedIn", "_DUMMY_HASH", "_actor", "_token_hash", "actor_for_token",
           "create_user", "hash_password", "login", "logout", "verify_password"]


def create_user(session: Session, actor: Actor, *, email: str, password: str, role: str, staff_id: int | None = None,
                display_name: str = "") -> UserAccount:
    """Add a staff login (settings.write). Password stored as argon2id. The caller commits.

    Raises PermissionDenied, or WeakPassword (passwords.check_password_strength: 12+
    characters, not common, not containing the email's local part)."""
    actor.require("settings.write")
    check_password_strength(password, email)
    user = UserAccount(org_id=actor.org_id, email=email.strip().lower(), password_hash=hash_password(password),
                       role=role, staff_id=staff_id, display_name=display_name)
    session.add(user)
    session.flush()
    record(session, actor, "user.create", "user_account", user.id, role=role)
    return user


def login(engine: Engine, email: str, password: str, *, now: datetime, session_hours: int = 12,
          ip: str = "", user_agent: str = "") -> SignedIn:
    """Engine-first form of actions.do_login (one-step sign-in): LoginFailed, AccountLocked,
    SecondFactorRequired."""
    from medspa.domain.identity.actions.signin import do_login

    return do_login(email, password, session_hours=session_hours, ip=ip, user_agent=user_agent, now=now,
                    engine=engine)


def actor_for_token(engine: Engine, token: str | None, *, now: datetime, ip: str = "",
                    user_agent: str = "", touch: bool = True) -> Actor | None:
    """Engine-first form of actions.actor_for_token: the actor of a live session, or None."""
    from medspa.domain.identity.actions import signin

    return signin.actor_for_token(token, ip=ip, user_agent=user_agent, touch=touch, now=now, engine=engine)


def logout(engine: Engine, token: str | None, *, now: datetime) -> None:
    """Engine-first form of actions.do_logout: revoke the session of `token`."""
    from medspa.domain.identity.actions.signin import do_logout

    do_logout(token, now=now, engine=engine)
