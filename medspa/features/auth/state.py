"""Staff session state: who is signed in, the guard for staff pages, sign-out.

The session token lives in an HttpOnly cookie (`medspa_session`; SameSite=Strict; Secure over
https) that only the HTTP routes POST /auth/login and POST /auth/logout write
(medspa/api/auth.py): page JavaScript can never read it. The browser sends it with the
/_event websocket handshake; Reflex 0.10.1 keeps that handshake's headers per connection and
hands them to every event as `self.router.headers` (`.cookie` is the raw Cookie header, kept
on the server: Reflex's serializer leaves it out of what the frontend receives).

`StaffState._act(action, ...)` is THE preamble of a staff event handler: it re-checks the
signed-in actor on the server (EVERY public handler is an entry point any browser can call),
runs one domain action in a worker thread and maps "missing or forbidden" to one message.
Guarding another staff page:

    on_load=StaffState.require_staff                  # redirects to /login?next=<path>
    ...
    class MyState(StaffState):
        @rx.event
        async def do_something(self, arg):
            done = await self._act(area_actions.do_something, parse_id(arg))
            if done.redirect:
                return done.redirect                  # signed out: to /login and back
            if done.error:
                self.error = done.error               # NotFound / PermissionDenied
                return
            self.result = view_of(done.value)         # UI-sized, never ORM rows

`_staff_actor()` alone is for handlers that need the actor without calling an action.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import quote, unquote

import reflex as rx

from medspa.domain.errors import NotFound
from medspa.domain.identity.actions import actor_for_token, do_logout, fetch_clinic_header
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.web.auth import LOGIN_EMAIL_COOKIE, SESSION_COOKIE, cookie_value, session_token_from_cookies
from medspa.web.auth import HOME_PATH, LOGIN_PATH, STAFF_ROLES, WRONG, login_error, safe_next

__all__ = ["HOME_PATH", "LOGIN_PATH", "SESSION_COOKIE", "STAFF_ROLES", "WRONG", "Acted", "LoginState", "StaffState",
           "safe_next"]

NOT_AVAILABLE = "That is not available."  # missing and forbidden look alike


@dataclass(frozen=True)
class Acted:
    """What `StaffState._act` gives back: exactly one of `redirect` (signed out: return it),
    `error` (the action raised NotFound or PermissionDenied) or `value` (the action's result)."""

    value: Any = None
    redirect: Any = None
    error: str = ""
    actor: Actor | None = None

    @property
    def ok(self) -> bool:
        """True when the action ran and returned `value`."""
        return self.redirect is None and not self.error


class StaffState(rx.State):
    """Base of every staff page state: who is signed in."""

    staff_name: str = ""
    staff_role: str = ""
    org_name: str = ""  # the clinic's name, shown in the staff header
    org_logo: str = ""  # the clinic's public logo URL ("" without one), shown in the staff header
    _org_id: int = 0  # the clinic org_name belongs to (backend only)

    @property
    def session_token(self) -> str:
        """The session token from this tab's websocket handshake cookie ("" when none).

        A plain property, not a state var: it is never stored in the state nor sent to the page.
        """
        return session_token_from_cookies(self.router.headers.cookie) or ""

    async def _staff_actor(self) -> Actor | None:
        """The signed-in staff actor for this tab, checked on the server (None: signed out)."""
        token = self.session_token
        if not token:
            return None
        ip = self.router.session.client_ip or ""
        agent = (self.router.headers.user_agent or "")[:200]
        actor = await asyncio.to_thread(actor_for_token, token, ip=ip, user_agent=agent)
        if actor is None or actor.role not in STAFF_ROLES:
            return None
        if self.staff_name != actor.label or self.staff_role != actor.role:
            self.staff_name, self.staff_role = actor.label, actor.role
        if self._org_id != actor.org_id:
            header = await asyncio.to_thread(fetch_clinic_header, actor)
            self.org_name, self.org_logo = header.name, header.logo_url
            self._org_id = actor.org_id
        return actor

    async def _act(self, action: Callable[..., Any], *args: Any, denied: str = NOT_AVAILABLE, **kwargs: Any) -> Acted:
        """The preamble of every staff event handler: the signed-in actor (else
        Acted(redirect=<to /login>)), then `action(actor, *args, **kwargs)` in a worker thread
        (the event loop serves every tab and never waits on the database). NotFound and
        PermissionDenied become Acted(error=denied); other errors (ValidationFailed with its
        field messages, a domain rule's own exception) propagate to the handler."""
        actor = await self._staff_actor()
        if actor is None:
            return Acted(redirect=self._to_login())
        try:
            value = await asyncio.to_thread(action, actor, *args, **kwargs)
        except (NotFound, PermissionDenied):
            return Acted(error=denied, actor=actor)
        return Acted(value=value, actor=actor)

    def _to_login(self):
        """The redirect to the sign-in page that comes back here afterwards."""
        self.staff_name = self.staff_role = self.org_name = self.org_logo = ""
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
        """Revoke the session on the server and go to /login.

        The header's "Sign out" button posts to /auth/logout instead (which also clears the
        HttpOnly cookie, out of JavaScript's reach); this event is for code that signs out
        from a handler: the cookie left behind names a revoked session and is refused.
        """
        token = self.session_token
        actor = await self._staff_actor()
        if actor is not None:
            from medspa.domain.scheduling.actions.calendar import do_forget_tab  # no more live pushes

            await asyncio.to_thread(do_forget_tab, actor, self.router.session.client_token)
        if token:
            await asyncio.to_thread(do_logout, token)
        self.staff_name = self.staff_role = self.org_name = self.org_logo = ""
        self._org_id = 0
        return rx.redirect(LOGIN_PATH)


class LoginState(StaffState):
    """The /login page. The form posts to POST /auth/login (an HTTP route, which sets the
    HttpOnly cookie); a failed attempt comes back as /login?next=...&error=1."""

    error: str = ""
    next_path: str = HOME_PATH  # the form's hidden `next` field
    email: str = ""  # after a failed attempt: the email to fill in again
    notice: str = ""  # a good-news line (password changed)

    @rx.event
    async def check_signed_in(self):
        """on_load of /login: a signed-in tab goes straight on; else show the last attempt's error."""
        query = self.router.url.query_parameters
        self.next_path = safe_next(query.get("next"))
        if await self._staff_actor() is not None:
            self.error = ""
            return rx.redirect(self.next_path)
        self.error = login_error(query)
        self.notice = self.error if query.get("error") == "reset" else ""
        if self.notice:
            self.error = ""
        email = unquote(cookie_value(self.router.headers.cookie, LOGIN_EMAIL_COOKIE))[:254] if self.error else ""
        self.email = email if "@" in email else ""
