"""The owner's use cases on the clinic's staff accounts (/staff; permission staff.manage).

Each is ONE transaction (domain/work.atomic) in the actor's clinic that checks staff.manage
first. Keyword-only: `now` or `clock` (default: the app clock) and `engine`. Errors:
PermissionDenied (not an owner), NotFound (no such account in this clinic; missing and
forbidden look alike), ValidationFailed (e.g. deactivating one's own account).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from medspa.clock import Clock

from medspa.domain.identity.actor import Actor
from medspa.domain.identity.roster import StaffAccountRow, list_staff_accounts
from medspa.domain.identity.staff_admin import deactivate_user, reactivate_user, revoke_user_sessions, unlock_user
from medspa.domain.identity.two_factor import reset_two_factor, set_two_factor_required
from medspa.domain.work import atomic, now_of

MANAGE = "staff.manage"


def fetch_staff_roster(actor: Actor, *, now: datetime | None = None, clock: Clock | None = None,
                       engine: Engine | None = None) -> list[StaffAccountRow]:
    """Every staff login of the clinic (active ones first, by name) with two-factor, lock
    (locked_until while locked) and live session count; never a secret or hash."""
    actor.require(MANAGE)
    now = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        return list_staff_accounts(work.session, actor, now=now)


def do_require_two_factor(actor: Actor, user_id: int, required: bool, *, now: datetime | None = None,
                          clock: Clock | None = None, engine: Engine | None = None) -> None:
    """Require (or stop requiring) two-factor for a staff account from its next sign-in
    (owner, manager and provider always need it)."""
    actor.require(MANAGE)
    now = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        set_two_factor_required(work.session, actor, user_id, required, now=now)


def do_reset_two_factor(actor: Actor, user_id: int, *, now: datetime | None = None, clock: Clock | None = None,
                        engine: Engine | None = None) -> None:
    """Clear a staff member's two-factor (lost phone): recovery codes spent, sessions revoked;
    a role that needs it sets it up again at the next sign-in."""
    actor.require(MANAGE)
    now = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        reset_two_factor(work.session, actor, user_id, now=now)


def do_revoke_sessions(actor: Actor, user_id: int, *, now: datetime | None = None, clock: Clock | None = None,
                       engine: Engine | None = None) -> int:
    """Sign a staff account out everywhere; returns how many sessions were revoked."""
    actor.require(MANAGE)
    now = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        return revoke_user_sessions(work.session, actor, user_id, now=now)


def do_deactivate(actor: Actor, user_id: int, *, now: datetime | None = None, clock: Clock | None = None,
                  engine: Engine | None = None) -> None:
    """Deactivate a staff account (kept for history; sessions revoked; sign-in refused).
    ValidationFailed for the owner's own account."""
    actor.require(MANAGE)
    now = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        deactivate_user(work.session, actor, user_id, now=now)


def do_reactivate(actor: Actor, user_id: int, *, now: datetime | None = None, clock: Clock | None = None,
                  engine: Engine | None = None) -> None:
    """Let a deactivated staff account sign in again."""
    actor.require(MANAGE)
    now = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        reactivate_user(work.session, actor, user_id, now=now)


def do_unlock(actor: Actor, user_id: int, *, now: datetime | None = None, clock: Clock | None = None,
              engine: Engine | None = None) -> None:
    """Lift a failed-login lock before it ends and reset the failure count."""
    actor.require(MANAGE)
    now = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        unlock_user(work.session, actor, user_id, now=now)
