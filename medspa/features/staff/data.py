"""The staff page's calls into the domain, one transaction each (run in a worker thread)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from medspa.db import tenant_session
from medspa.domain.identity import accounts
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.roster import StaffAccountRow, list_staff_accounts


def _require(required: bool):
    def run(session, actor, user_id, *, now):
        return accounts.set_two_factor_required(session, actor, user_id, required, now=now)
    return run


# action name (sent by the page) -> the owner function of the domain (each checks staff.manage)
ACTIONS = {
    "require_2fa": _require(True),
    "unrequire_2fa": _require(False),
    "reset_2fa": accounts.reset_two_factor,
    "revoke_sessions": accounts.revoke_user_sessions,
    "deactivate": accounts.deactivate_user,
    "reactivate": accounts.reactivate_user,
    "unlock": accounts.unlock_user,
}


def staff_rows(engine: Engine, actor: Actor, *, now: datetime) -> list[StaffAccountRow]:
    with tenant_session(actor.org_id, engine) as s:
        return list_staff_accounts(s, actor, now=now)


def act(engine: Engine, actor: Actor, user_id: int, action: str, *, now: datetime) -> None:
    """Run one of ACTIONS on a staff account (KeyError for an unknown action)."""
    run = ACTIONS[action]
    with tenant_session(actor.org_id, engine) as s:
        run(s, actor, user_id, now=now)
        s.commit()
