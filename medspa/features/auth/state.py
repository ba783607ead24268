"""Staff session state: the session cookie, the guard for staff pages, sign-in and sign-out.

The session token lives in an `rx.Cookie` (SameSite=Strict; Secure when the app is served
over https). Reflex sets that cookie from browser JavaScript, so it cannot be HttpOnly.
TODO(hardening, later issue): set an HttpOnly cookie from a login POST route and read it
from the websocket handshake headers instead.

Guarding another staff page:

    on_load=StaffState.require_staff                  # redirects to /login?next=<path>
    ...
    class MyState(StaffState):
        @rx.event
        async def do_something(self, arg):
            actor = await self._staff_actor()         # re-check in EVERY public handler
            if actor is None:
                return self._to_login()
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import reflex as rx

from medspa.clock import app_clock
from medspa.db import get_engine
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.service import LoginFailed, actor_for_token, login, logout
from medspa.domain.practice.service import organization_name
from medspa.settings import get_settings

SESSION_COOKIE = "medspa_session"
HOME_PATH = "/calendar"
LOGIN_PATH = "/login"
STAFF_ROLES = frozenset({"owner", "manager", "provider", "front_desk", "lab"})
WRONG = "Email or password is incorrect"

_settings = get_settings()
_SECURE = _settings.base_url.startswith("https://")


def safe_next(path: str | None) -> str:
    """A local path to return to after sign-in (never another site), else /calendar."""
    path = (path or "").strip()
    if not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 300:
        return HOME_PATH
    if path.startswith(LOGIN_PATH):
        return HOME_PATH
    return path


class StaffState(rx.State):
    """Base of every staff page state: who is signed in."""

    session_token: str = rx.Cookie(
        "", name=SESSION_COOKIE, path="/", max_age=_settings.session_hours * 3600, secure=_SECURE,
        same_site="strict",
    )
    staff_name: str = ""
    staff_role: str = ""
    org_name: str = ""  # the clinic's name, shown in the staff header
    _org_id: int = 0  # the clinic org_name belongs to (backend only)

    async def _staff_actor(self) -> Actor | None:
        """The signed-in staff actor for this tab, checked on the server (None: signed out)."""
        token = self.session_token
        if not token or len(token) > 200:
            return None
        ip = self.router.session.client_ip or ""
        agent = (self.router.headers.user_agent or "")[:200]
        actor = await asyncio.to_thread(actor_for_token, get_engine(), token, now=app_clock().now(), ip=ip,
                                        user_agent=agent)
        if actor is None or actor.role not in STAFF_ROLES:
            return None
        if self.staff_name != actor.label or self.staff_role != actor.role:
            self.staff_name, self.staff_role = actor.label, actor.role
        if self._org_id != actor.org_id:
            self.org_name = await asyncio.to_thread(organization_name, get_engine(), actor.org_id)
            self._org_id = actor.org_id
        return actor

    def _to_login(self):
        """The redirect to the sign-in page that comes back here afterwards."""
        self.staff_name = self.staff_role = self.org_name = ""
        self._org_id = 0
        url = self.router.url
        path = (url.path or HOME_PATH).rstrip("/") or HOME_PATH
        if url.query:
            path = f"{path}?{url.query}"
        return rx.redirect(f"{LOGIN_PATH}?next={quote(safe_next(path), safe='/')}")

    @rx.event
    async def require_staff(self):
        """on_load guard for staff pages: redirect to /login unless signed in."""
        if await self._staff_actor() is None:
            return self._to_login()

    @rx.event
    async def sign_out(self):
        """Revoke the session on the server, forget the cookie, go to /login."""
        token = self.session_token
        actor = await self._staff_actor()
        if actor is not None:
            from medspa.features.calendar import data  # the tab stops receiving live pushes

            await asyncio.to_thread(data.forget_tab, get_engine(), actor.org_id, self.router.session.client_token)
        if token:
            await asyncio.to_thread(logout, get_engine(), token, now=app_clock().now())
        self.session_token = ""
        self.staff_name = self.staff_role = self.org_name = ""
        self._org_id = 0
        return rx.redirect(LOGIN_PATH)


class LoginState(StaffState):
    """The /login form. The password is read from the submitted form, never kept in state."""

    error: str = ""
    busy: bool = False

    @rx.event
    async def check_signed_in(self):
        """on_load of /login: a signed-in tab goes straight on."""
        self.error = ""
        self.busy = False
        if await self._staff_actor() is not None:
            return rx.redirect(safe_next(self.router.url.query_parameters.get("next")))

    @rx.event
    async def submit(self, form_data: dict):
        """Sign in with email and password; on success keep the token and go on."""
        email = form_data.get("email", "") if isinstance(form_data, dict) else ""
        password = form_data.get("password", "") if isinstance(form_data, dict) else ""
        email = email.strip()[:254] if isinstance(email, str) else ""
        password = password[:1024] if isinstance(password, str) else ""
        if not email or not password:
            self.error = "Enter your email and password"
            return
        self.busy, self.error = True, ""
        yield
        try:
            signed = await asyncio.to_thread(
                login, get_engine(), email, password, now=app_clock().now(),
                session_hours=_settings.session_hours, ip=self.router.session.client_ip or "",
                user_agent=(self.router.headers.user_agent or "")[:200])
        except LoginFailed:
            self.busy, self.error = False, WRONG
            return
        self.busy = False
        self.session_token = signed.token
        self.staff_name, self.staff_role = signed.display_name, signed.actor.role
        yield rx.redirect(safe_next(self.router.url.query_parameters.get("next")))
