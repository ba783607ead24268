"""State of `/staff` (owner only, staff.manage): the clinic's staff accounts and the owner's
actions on them. Every handler re-checks the session and the permission on the server; the
domain functions check staff.manage again. Anyone else gets "not found" and no data."""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from medspa.clock import app_clock
from medspa.db import get_engine
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.features.auth.state import StaffState
from medspa.features.staff import data

DONE = {
    "require_2fa": "{name} now needs two-factor sign-in (from the next sign-in)",
    "unrequire_2fa": "{name} no longer needs two-factor sign-in (unless the role requires it)",
    "reset_2fa": "Two-factor sign-in of {name} was reset; they set it up again at the next sign-in",
    "revoke_sessions": "{name} was signed out everywhere",
    "deactivate": "{name} was deactivated and signed out",
    "reactivate": "{name} can sign in again",
    "unlock": "{name} was unlocked",
}


@dataclasses.dataclass
class StaffRowView:
    user_id: int = 0
    name: str = ""
    email: str = ""
    role: str = ""
    active: bool = True
    tf_on: bool = False
    tf_required: bool = False
    require_flag: bool = False
    role_requires: bool = False
    locked: str = ""  # "" or "14 min left"
    sessions: int = 0
    is_self: bool = False


class StaffPageState(StaffState):
    allowed: bool = False
    not_found: bool = False
    rows: list[StaffRowView] = []
    message: str = ""
    error: str = ""
    _names: dict[int, str] = {}

    async def _owner(self) -> tuple[Actor | None, object | None]:
        actor = await self._staff_actor()
        if actor is None:
            self._forget()
            return None, self._to_login()
        if not actor.can("staff.manage"):
            self._forget()
            self.not_found = True
            return None, None
        return actor, None

    def _forget(self) -> None:
        self.allowed, self.rows, self._names, self.message, self.error = False, [], {}, "", ""

    async def _reload(self, actor: Actor) -> None:
        now = app_clock().now()
        rows = await asyncio.to_thread(data.staff_rows, get_engine(), actor, now=now)
        views = []
        for r in rows:
            locked = ""
            if r.locked_until is not None:
                minutes = max(1, int((r.locked_until - now).total_seconds() + 59) // 60)
                locked = f"{minutes} min left"
            views.append(StaffRowView(r.user_id, r.name, r.email, r.role.replace("_", " "), r.active, r.two_factor_on,
                                      r.two_factor_required, r.require_flag,
                                      r.two_factor_required and not r.require_flag, locked, r.live_sessions,
                                      r.is_self))
        self.rows = views
        self._names = {r.user_id: r.name for r in rows}

    @rx.event
    async def load(self):
        self.not_found, self.message, self.error = False, "", ""
        actor, redirect = await self._owner()
        if actor is None:
            return redirect
        await self._reload(actor)
        self.allowed = True

    @rx.event
    async def act(self, user_id: int, action: str):
        actor, redirect = await self._owner()
        if actor is None:
            return redirect
        if not isinstance(user_id, int) or user_id not in self._names or action not in data.ACTIONS:
            return
        try:
            await asyncio.to_thread(data.act, get_engine(), actor, user_id, action, now=app_clock().now())
        except ValidationFailed as exc:
            self.error, self.message = next(iter(exc.fields.values()), "Not possible"), ""
        except (NotFound, PermissionDenied):
            self.error, self.message = "That account is not there any more", ""
        else:
            self.error, self.message = "", DONE[action].format(name=self._names[user_id])
        await self._reload(actor)
