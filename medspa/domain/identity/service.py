"""Staff logins: creating one.

Passwords are argon2id (passwords.py), sessions server-side (sessions.py), tokens stored
as SHA-256 only (tokens.py). The clinic of an email or a session token is found through
SECURITY DEFINER functions before any tenant row is read; everything after that runs under
that clinic's row-level security. The use cases are in actions/.
"""

from __future__ import annotations

from sqlmodel import Session

from medspa.domain.audit.service import record
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.models import UserAccount
from medspa.domain.identity.passwords import check_password_strength, hash_password


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
