"""The owner's list of staff accounts, and whether a sign-in challenge is still usable.

Companions of accounts.py (which holds the rules); read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from medspa.db import tenant_session
from medspa.domain.identity.accounts import REQUIRED_2FA_ROLES, _load_challenge, _org_by
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.models import UserAccount, UserSession
from medspa.domain.identity.service import _token_hash


@dataclass(frozen=True)
class StaffAccountRow:
    """One staff login as the owner's staff page shows it (never a secret or hash)."""

    user_id: int
    email: str
    name: str
    role: str
    active: bool
    two_factor_on: bool
    two_factor_required: bool  # by role or by the owner's flag
    require_flag: bool  # the owner's flag (the role may require it anyway)
    locked_until: datetime | None
    live_sessions: int
    last_login_at: datetime | None
    is_self: bool


def list_staff_accounts(session: Session, actor: Actor, *, now: datetime) -> list[StaffAccountRow]:
    """Owner (staff.manage): every staff login of the clinic, active ones first, by name.
    Raises PermissionDenied."""
    actor.require("staff.manage")
    live = dict(session.exec(
        select(UserSession.user_id, func.count())
        .where(UserSession.revoked_at.is_(None), UserSession.expires_at > now)
        .group_by(UserSession.user_id)).all())
    users = session.exec(select(UserAccount).where(UserAccount.org_id == actor.org_id)).all()
    rows = [StaffAccountRow(
        user_id=int(u.id), email=u.email, name=u.display_name or u.email, role=u.role, active=u.active,
        two_factor_on=u.totp_confirmed_at is not None,
        two_factor_required=u.role in REQUIRED_2FA_ROLES or u.require_2fa, require_flag=u.require_2fa,
        locked_until=u.locked_until if u.locked_until is not None and now < u.locked_until else None,
        live_sessions=int(live.get(u.id, 0)), last_login_at=u.last_login_at, is_self=u.id == actor.user_id,
    ) for u in users]
    return sorted(rows, key=lambda r: (not r.active, r.name.lower(), r.user_id))


def challenge_alive(engine: Engine, challenge: str, *, now: datetime, purpose: str | None = None) -> bool:
    """True while a sign-in challenge token can still be used (unknown, used, expired: False);
    `purpose` ("totp" or "enrol") must match when given."""
    if not challenge:
        return False
    org_id = _org_by(engine, "medspa_org_for_challenge", _token_hash(challenge))
    if org_id is None:
        return False
    with tenant_session(org_id, engine) as s:
        for p in ((purpose,) if purpose else ("totp", "enrol")):
            if _load_challenge(s, challenge, p, now) is not None:
                return True
    return False
