"""State of `/setup?token=...`: the one-time set-up link of a fresh server.

The token comes from the link `medspa serve` printed (only its SHA-256 is stored); it is kept
on the server (a backend var), checked on load and again by the action that spends it. Every
handler here is an entry point any browser can call: without an open token nothing happens.
"""

from __future__ import annotations

import asyncio
from functools import partial

import reflex as rx

from medspa.domain.errors import ValidationFailed
from medspa.domain.practice.actions import ClinicForm, SetupLinkInvalid, do_create_clinic, fetch_setup_open
from medspa.settings import get_settings

FIELDS = ("name", "slug", "country", "currency", "location_name", "address", "time_zone", "phone", "owner_name",
          "owner_email")
MAX_FIELD = 600  # characters: longer input is cut (the domain refuses it anyway)


def _no_errors() -> dict[str, str]:
    return {f: "" for f in FIELDS}


class SetupState(rx.State):
    """What /setup shows: checking, the form (open), "not valid" (invalid) or the result (done)."""

    status: str = "checking"  # checking | open | invalid | done
    errors: dict[str, str] = _no_errors()
    form_error: str = ""
    invite_link: str = ""
    owner_email: str = ""
    emailed: bool = False
    booking_path: str = ""
    busy: bool = False
    _token: str = ""

    @rx.event
    async def load(self):
        token = str(self.router.url.query_parameters.get("token", "") or "")[:200]
        self._token = token if token and token.replace("-", "").replace("_", "").isalnum() else ""
        self.errors, self.form_error = _no_errors(), ""
        if self.status == "done":
            return
        ok = bool(self._token) and await asyncio.to_thread(fetch_setup_open, self._token)
        self.status = "open" if ok else "invalid"

    @rx.event
    async def submit(self, form_data: dict):
        if self.status != "open" or not self._token or self.busy or not isinstance(form_data, dict):
            return
        values = {f: str(form_data.get(f, "") or "")[:MAX_FIELD] for f in FIELDS}
        self.busy = True
        yield
        settings = get_settings()
        try:
            made = await asyncio.to_thread(partial(do_create_clinic, self._token, ClinicForm(**values),
                                                   base_url=settings.base_url))
        except ValidationFailed as exc:
            self.errors = {**_no_errors(), **{k: v for k, v in exc.fields.items() if k in FIELDS}}
            self.form_error = "Please correct the fields marked below."
        except SetupLinkInvalid:
            self.status, self._token = "invalid", ""
        else:
            self.status, self._token, self.errors, self.form_error = "done", "", _no_errors(), ""
            self.invite_link, self.owner_email = made.invite_link, values["owner_email"].strip().lower()
            self.emailed, self.booking_path = settings.mail_enabled, f"/book/{made.slug}"
        finally:
            self.busy = False
