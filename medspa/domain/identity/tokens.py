"""Opaque tokens of the identity area (sessions, sign-in challenges, reset links) and the
clinic a token or an email belongs to.

Only SHA-256 of a token is stored. Before any tenant row can be read, the clinic is found
through a SECURITY DEFINER function of the database (migrations: medspa_org_for_login,
medspa_org_for_session, medspa_org_for_challenge, medspa_org_for_reset,
medspa_org_for_invitation); `enter_clinic`
then scopes the session to it.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import text
from sqlmodel import Session

from medspa.db import set_session_org

# what identifies the caller -> the SECURITY DEFINER function that names its clinic
_LOOKUPS = {
    "login": "medspa_org_for_login",  # a lower-cased email
    "session": "medspa_org_for_session",  # SHA-256 of a session token
    "challenge": "medspa_org_for_challenge",  # SHA-256 of a sign-in challenge
    "reset": "medspa_org_for_reset",  # SHA-256 of a reset link token
    "invite": "medspa_org_for_invitation",  # SHA-256 of an invitation link token
    "feed": "medspa_org_for_feed",  # SHA-256 of a calendar feed link's token (migration 0035)
}


def new_token() -> str:
    """A fresh random token (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """SHA-256 hex digest of `token`: the only form in which tokens are stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def org_for(session: Session, lookup: str, value: str) -> int | None:
    """The clinic of `value` ("login": an email; "session", "challenge", "reset": a token's
    SHA-256), or None. Raises KeyError for an unknown lookup."""
    return session.execute(text(f"select {_LOOKUPS[lookup]}(:v)"), {"v": value}).scalar()


def enter_clinic(session: Session, lookup: str, value: str) -> int | None:
    """Find the clinic of `value` (see org_for) and scope `session` to it from its next
    statement on (row-level security); returns the org id, or None (session unchanged)."""
    org_id = org_for(session, lookup, value)
    if org_id is not None:
        set_session_org(session, org_id)
    return org_id
