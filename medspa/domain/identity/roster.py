"""The owner's list of staff accounts (read-only; the rules are in two_factor.py,
lockout.py and staff_admin.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from medspa.domain.identity.actor import Actor
from medspa.domain.identity.lockout import locked_until_of
from medspa.domain.identity.models import UserAccount, UserSession
from medspa.domain.identity.two_factor import REQUIRED_2FA_ROLES


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
        locked_until=locked_until_of(session, u.email, now),
        live_sessions=int(live.get(u.id, 0)), last_login_at=u.last_login_at, is_self=u.id == actor.user_id,
    ) for u in users]
    return sorted(rows, key=lambda r: (not r.active, r.name.lower(), r.user_id))

