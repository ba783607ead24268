"""State of `/account` (any staff role): two-factor status, set-up and recovery codes, password
change, sign out everywhere. Every handler re-checks the session on the server; the domain
(identity actions) checks the rest. The session token never leaves the server."""

from __future__ import annotations

import reflex as rx

from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actions import (
    do_change_password,
    do_confirm_two_factor,
    do_regenerate_recovery_codes,
    do_sign_out_everywhere,
    do_start_two_factor,
    fetch_two_factor_status,
)
from medspa.features.auth.components import group_key, qr_data_uri
from medspa.features.auth.state import Acted, StaffState
from medspa.web.auth import LOGIN_PATH
from medspa.web.inputs import form_text


def _first(exc: ValidationFailed) -> str:
    return next(iter(exc.fields.values()), "Check the form")


class AccountState(StaffState):
    """What /account shows: two-factor status and set-up, new recovery codes, the password form."""

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

    def _signed_out(self, done: Acted):
        """The redirect of a signed-out tab (None while signed in)."""
        if done.redirect is not None:
            self.ready = False
        return done.redirect

    async def _refresh(self) -> Acted:
        done = await self._act(fetch_two_factor_status)
        if done.ok:
            st = done.value
            self.tf_enabled, self.tf_required, self.codes_left = st.enabled, st.required, st.recovery_codes_left
        return done

    @rx.event
    async def load(self):
        done = await self._refresh()
        if done.redirect is not None:
            return self._signed_out(done)
        self.qr_src = self.manual_key = self.tf_error = self.pw_done = ""
        self.pw_error_current = self.pw_error_new = ""
        self.new_codes = []
        self.ready = True

    @rx.event
    async def start_enrolment(self):
        try:
            done = await self._act(do_start_two_factor, denied="Account not found")
        except ValidationFailed as exc:
            self.tf_error = _first(exc)
            return
        if not done.ok:
            self.tf_error = done.error
            return self._signed_out(done)
        enrolment = done.value
        self.qr_src, self.manual_key, self.tf_error = qr_data_uri(enrolment.qr_svg), group_key(enrolment.manual_key), ""

    @rx.event
    async def cancel_enrolment(self):
        self.qr_src = self.manual_key = self.tf_error = ""

    @rx.event
    async def confirm_enrolment(self, form: dict):
        try:
            done = await self._act(do_confirm_two_factor, form_text(form, "code", 20, strip=False))
        except ValidationFailed as exc:
            self.tf_error = _first(exc)
            return
        if not done.ok:
            self.tf_error = done.error
            return self._signed_out(done)
        self.qr_src = self.manual_key = self.tf_error = ""
        self.new_codes = list(done.value)
        await self._refresh()

    @rx.event
    async def regenerate_codes(self, form: dict):
        try:
            done = await self._act(do_regenerate_recovery_codes, form_text(form, "code", 20, strip=False))
        except ValidationFailed as exc:
            self.tf_error = _first(exc)
            return
        if not done.ok:
            self.tf_error = done.error
            return self._signed_out(done)
        self.tf_error = ""
        self.new_codes = list(done.value)
        await self._refresh()

    @rx.event
    async def hide_codes(self):
        self.new_codes = []

    @rx.event
    async def change_password(self, form: dict):
        current = form_text(form, "current_password", 1024, strip=False)
        new = form_text(form, "new_password", 2048, strip=False)
        again = form_text(form, "new_password_again", 2048, strip=False)
        self.pw_error_current = self.pw_error_new = self.pw_done = ""
        if new != again:
            if await self._staff_actor() is None:
                self.ready = False
                return self._to_login()
            self.pw_error_new = "The two new passwords are not the same"
            return
        try:
            done = await self._act(do_change_password, current, new, keep_token=self.session_token)
        except ValidationFailed as exc:
            self.pw_error_current = exc.fields.get("current_password", "")
            self.pw_error_new = exc.fields.get("password", "")
            return
        if not done.ok:
            self.pw_error_current = done.error
            return self._signed_out(done)
        revoked = done.value
        self.pw_form_key += 1
        others = f"; {revoked} other session{'s' if revoked != 1 else ''} signed out" if revoked else ""
        self.pw_done = f"Password changed{others}."

    @rx.event
    async def sign_out_everywhere(self):
        done = await self._act(do_sign_out_everywhere)
        if done.redirect is not None:
            return self._signed_out(done)
        self.ready = False
        self.staff_name = self.staff_role = self.org_name = ""
        self._org_id = 0
        return rx.redirect(LOGIN_PATH)
