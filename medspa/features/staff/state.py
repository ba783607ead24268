"""State of `/staff` (owner only, staff.manage): the clinic's staff accounts and the owner's
actions on them. Every handler re-checks the session and the permission on the server; the
domain functions check staff.manage again. Anyone else gets "not found" and no data."""

from __future__ import annotations

import dataclasses
from functools import partial

import reflex as rx

from medspa.clock import app_clock
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actions import (
    StaffAccountRow,
    do_deactivate,
    do_reactivate,
    do_require_two_factor,
    do_reset_two_factor,
    do_revoke_sessions,
    do_unlock,
    fetch_staff_roster,
)
from medspa.features.auth.state import Acted, StaffState

# action name (sent by the page) -> the owner's domain action (each checks staff.manage)
ACTIONS = {
    "require_2fa": partial(do_require_two_factor, required=True),
    "unrequire_2fa": partial(do_require_two_factor, required=False),
    "reset_2fa": do_reset_two_factor,
    "revoke_sessions": do_revoke_sessions,
    "deactivate": do_deactivate,
    "reactivate": do_reactivate,
    "unlock": do_unlock,
}
GONE = "That account is not there any more"

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
    """One staff account as a /staff row: role, two-factor, lock-out (minutes left), live sessions."""

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
    """What /staff shows: the staff rows for an owner (else "not found"), and the last message or error."""

    allowed: bool = False
    not_found: bool = False
    rows: list[StaffRowView] = []
    message: str = ""
    error: str = ""
    _names: dict[int, str] = {}

    def _refused(self, done: Acted):
        """Signed out: the redirect to /login; not an owner: "not found" and no data."""
        self._forget()
        if done.redirect is None:
            self.not_found = True
        return done.redirect

    def _forget(self) -> None:
        self.allowed, self.rows, self._names, self.message, self.error = False, [], {}, "", ""

    def _show(self, rows: list[StaffAccountRow]) -> None:
        now = app_clock().now()
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

    async def _reload(self) -> Acted:
        done = await self._act(fetch_staff_roster)
        if done.ok:
            self._show(done.value)
        return done

    @rx.event
    async def load(self):
        self.not_found, self.message, self.error = False, "", ""
        done = await self._reload()
        if not done.ok:
            return self._refused(done)
        self.allowed = True

    @rx.event
    async def act(self, user_id: int, action: str):
        if not isinstance(user_id, int) or user_id not in self._names or not isinstance(action, str) \
                or action not in ACTIONS:
            actor = await self._staff_actor()  # nothing to do; a signed-out tab still goes to /login
            if actor is None or not actor.can("staff.manage"):
                return self._refused(Acted(redirect=None if actor else self._to_login()))
            return
        try:
            done = await self._act(ACTIONS[action], user_id, denied=GONE)
        except ValidationFailed as exc:
            self.error, self.message = next(iter(exc.fields.values()), "Not possible"), ""
        else:
            if done.redirect is not None or not done.actor.can("staff.manage"):
                return self._refused(done)
            if done.error:
                self.error, self.message = done.error, ""
            else:
                self.error, self.message = "", DONE[action].format(name=self._names[user_id])
        await self._reload()
