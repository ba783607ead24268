"""State of `/account` (any staff role): two-factor status, set-up and recovery codes, password
change, sign out everywhere. Every handler re-checks the session on the server; the domain
(accounts.py) checks the rest. The session token never leaves the server."""

from __future__ import annotations

import asyncio

import reflex as rx

from medspa.clock import app_clock
from medspa.db import get_engine
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.features.account import data
from medspa.web.auth import LOGIN_PATH
from medspa.features.auth.flows import _group, _qr_data_uri
from medspa.features.auth.state import StaffState


def _text(form: dict, key: str, limit: int) -> str:
    value = form.get(key, "") if isinstance(form, dict) else ""
    return value[:limit] if isinstance(value, str) else ""


def _first(exc: ValidationFailed) -> str:
    return next(iter(exc.fields.values()), "Check the form")


class AccountState(StaffState):
    ready: bool = False
    tf_enabled: bool = False
    tf_required: bool = False
    codes_left: int = 0
    # two-factor set-up in progress
    qr_src: str = ""
    manual_key: str = ""
    tf_error: str = ""
    # recovery codes just made (shown once, until the page is left)
    new_codes: list[str] = []
    # password
    pw_error_current: str = ""
    pw_error_new: str = ""
    pw_done: str = ""
    pw_form_key: int = 0  # bumped to empty the password fields

    async def _me(self):
        actor = await self._staff_actor()
        if actor is None:
            self.ready = False
            return None, self._to_login()
        return actor, None

    async def _refresh(self, actor) -> None:
        st = await asyncio.to_thread(data.status, get_engine(), actor)
        self.tf_enabled, self.tf_required, self.codes_left = st["enabled"], st["required"], st["recovery_codes_left"]

    @rx.event
    async def load(self):
        actor, redirect = await self._me()
        if actor is None:
            return redirect
        self.qr_src = self.manual_key = self.tf_error = self.pw_done = ""
        self.pw_error_current = self.pw_error_new = ""
        self.new_codes = []
        await self._refresh(actor)
        self.ready = True

    @rx.event
    async def start_enrolment(self):
        actor, redirect = await self._me()
        if actor is None:
            return redirect
        try:
            enrolment = await asyncio.to_thread(data.start_enrolment, get_engine(), actor, now=app_clock().now())
        except (ValidationFailed, NotFound) as exc:
            self.tf_error = _first(exc) if isinstance(exc, ValidationFailed) else "Account not found"
            return
        self.qr_src, self.manual_key, self.tf_error = _qr_data_uri(enrolment.qr_svg), _group(enrolment.manual_key), ""

    @rx.event
    async def cancel_enrolment(self):
        self.qr_src = self.manual_key = self.tf_error = ""

    @rx.event
    async def confirm_enrolment(self, form: dict):
        actor, redirect = await self._me()
        if actor is None:
            return redirect
        try:
            codes = await asyncio.to_thread(data.confirm_enrolment, get_engine(), actor, _text(form, "code", 20),
                                            now=app_clock().now())
        except ValidationFailed as exc:
            self.tf_error = _first(exc)
            return
        self.qr_src = self.manual_key = self.tf_error = ""
        self.new_codes = codes
        await self._refresh(actor)

    @rx.event
    async def regenerate_codes(self, form: dict):
        actor, redirect = await self._me()
        if actor is None:
            return redirect
        try:
            codes = await asyncio.to_thread(data.regenerate_codes, get_engine(), actor, _text(form, "code", 20),
                                            now=app_clock().now())
        except ValidationFailed as exc:
            self.tf_error = _first(exc)
            return
        self.tf_error = ""
        self.new_codes = codes
        await self._refresh(actor)

    @rx.event
    async def hide_codes(self):
        self.new_codes = []

    @rx.event
    async def change_password(self, form: dict):
        actor, redirect = await self._me()
        if actor is None:
            return redirect
        self.pw_error_current = self.pw_error_new = self.pw_done = ""
        current, new, again = _text(form, "current_password", 1024), _text(form, "new_password", 2048), \
            _text(form, "new_password_again", 2048)
        if new != again:
            self.pw_error_new = "The two new passwords are not the same"
            return
        try:
            revoked = await asyncio.to_thread(data.change_password, get_engine(), actor, current, new,
                                              now=app_clock().now(), keep_token=self.session_token)
        except ValidationFailed as exc:
            self.pw_error_current = exc.fields.get("current_password", "")
            self.pw_error_new = exc.fields.get("password", "")
            return
        self.pw_form_key += 1
        others = f"; {revoked} other session{'s' if revoked != 1 else ''} signed out" if revoked else ""
        self.pw_done = f"Password changed{others}."

    @rx.event
    async def sign_out_everywhere(self):
        actor, redirect = await self._me()
        if actor is None:
            return redirect
        await asyncio.to_thread(data.sign_out_everywhere, get_engine(), actor, now=app_clock().now())
        self.ready = False
        self.staff_name = self.staff_role = self.org_name = ""
        self._org_id = 0
        return rx.redirect(LOGIN_PATH)
