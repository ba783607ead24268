"""State of the client portal `/portal/[clinic]` (sign-in by emailed code, then the portal).

Thin: each event checks its input, awaits ONE action of medspa.domain.portal.actions in a
worker thread and keeps its small result. The portal session token lives only in a backend var
(`_token`, never sent to the browser); `_as_client` (this page's preamble, the portal's
counterpart of StaffState._act) re-checks it on the server before every signed-in action, and
a lapsed or revoked session sends the tab back to sign-in. Appointment ids must be among those
this state showed.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

import reflex as rx

from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.portal import actions
from medspa.domain.ratelimits import RateLimited
from medspa.domain.portal.service import AccessEntry, CancelPreview, MyDetails, PortalUnavailable, VisitCard
from medspa.features.manage.flow import REASON_CODES
from medspa.web.inputs import form_text, parse_id

SIGNED_OUT = "You were signed out. Enter your email to get a new code."


def _reason(exc: Exception) -> str:
    """The words a client reads when a visit cannot be previewed or cancelled online."""
    return str(exc) if isinstance(exc, PortalUnavailable) else "This visit was not found."


ACCESS_PAGE = 50  # Record access entries per page

class PortalState(rx.State):
    """One client's portal tab."""

    status: str = "loading"  # loading | not_found | ready
    step: str = "email"  # email | code | portal
    clinic_name: str = ""
    email: str = ""
    info: str = ""
    error: str = ""
    busy: bool = False
    tab: str = "visits"
    details: MyDetails = rx.field(default_factory=MyDetails)
    upcoming: list[VisitCard] = []
    cancelled: list[VisitCard] = []  # cancelled visits whose time is still ahead
    past: list[VisitCard] = []
    access: list[AccessEntry] = []
    access_loaded: bool = False
    access_more: bool = False  # older entries than those shown exist ("Show older")
    notice: str = ""
    cancel_open: bool = False
    preview: CancelPreview = rx.field(default_factory=CancelPreview)
    reason: str = "client_request"  # the cancel dialog's reason (features.manage.reasons: one picker)
    errors: dict[str, str] = {}

    _slug: str = ""
    _org_id: int = 0
    _token: str = ""
    _cancellable: list[int] = []
    _start_tab: str = ""  # "forms" when the link asked for it (/portal/<clinic>?tab=forms)

    def _who(self) -> tuple[str, str]:
        return self.router.session.client_ip or "", (self.router.headers.user_agent or "")[:200]

    def _signed_out(self, message: str = SIGNED_OUT) -> None:
        self._token, self.step, self.info, self.error = "", "email", "", message
        self.upcoming, self.cancelled, self.past, self.access, self.access_loaded = [], [], [], [], False
        self.access_more = False
        self.details, self.cancel_open, self.notice = MyDetails(), False, ""

    async def _as_client(self, action: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """(True, action(client actor, *args, **kwargs)) for the signed-in client of this tab,
        both in a worker thread; (False, None) after sending the tab back to sign-in (no,
        lapsed or revoked session). The action's own errors propagate."""
        ip, ua = self._who()
        actor = await asyncio.to_thread(actions.fetch_portal_actor, self._org_id, self._token, ip=ip, user_agent=ua)
        if actor is None:
            self._signed_out()
            return False, None
        return True, await asyncio.to_thread(action, actor, *args, **kwargs)

    async def _refresh(self) -> bool:
        ok, view = await self._as_client(actions.fetch_overview)
        if not ok:
            return False
        self.clinic_name, self.details, self.upcoming = view.clinic_name, view.details, view.upcoming
        self.cancelled, self.past = view.cancelled, view.past
        self._cancellable = [v.id for v in view.upcoming if v.can_cancel]
        self.step = "portal"
        return True

    # ---------------------------------------------------------------- page load

    @rx.event
    async def load(self):
        """on_load (also on reconnect): a signed-in tab of this clinic refreshes its data."""
        parts = [p for p in self.router.url.path.split("/") if p]
        slug = parts[-1] if len(parts) >= 2 and parts[-2] == "portal" else ""
        if self.status == "ready" and slug == self._slug:
            if self._token:
                await self._refresh()
            return
        self.reset()
        self._slug = slug
        self._start_tab = "forms" if self.router.url.query_parameters.get("tab") == "forms" else ""
        clinic = await asyncio.to_thread(actions.fetch_clinic, slug)
        if clinic is None:
            self.status = "not_found"
            return
        self._org_id, self.clinic_name, self.status = clinic.org_id, clinic.name, "ready"

    # ---------------------------------------------------------------- sign-in

    @rx.event
    async def send_code(self, form: dict):
        """Email -> one-time code in the outbox. The same answer for every email."""
        if self.status != "ready" or self.busy:
            return
        email = form_text(form, "email", 254) or self.email
        self.busy, self.error = True, ""
        yield
        try:
            ip, ua = self._who()
            self.info = await asyncio.to_thread(actions.do_request_code, self._org_id, email, ip=ip, user_agent=ua)
        except ValidationFailed as exc:
            self.busy, self.error = False, exc.fields.get("email", "Enter a valid email address")
            return
        except RateLimited as exc:
            self.busy, self.error = False, exc.message
            return
        self.busy, self.email, self.step = False, email, "code"

    @rx.event
    async def verify(self, form: dict):
        """Code -> a portal session for this tab, then the portal."""
        if self.status != "ready" or self.step != "code" or self.busy:
            return
        code = form_text(form, "code", 20).replace(" ", "")
        if not (len(code) == 6 and code.isdigit()):
            self.error = "Enter the 6-digit code from the email"
            return
        self.busy, self.error = True, ""
        yield
        ip, ua = self._who()
        token = await asyncio.to_thread(actions.do_verify_code, self._org_id, self.email, code, ip=ip, user_agent=ua)
        self.busy = False
        if token is None:
            self.error = "That code is not right or has expired. Check the email or send a new code."
            return
        self._token, self.info, self.tab = token, "", self._start_tab or "visits"
        await self._refresh()  # the Forms tab loads its list when it mounts (features/forms/portal_tab.py)

    @rx.event
    def change_email(self):
        if self.step == "code":
            self.step, self.error, self.info = "email", "", ""

    @rx.event
    async def sign_out(self):
        token = self._token
        if token:
            await asyncio.to_thread(actions.do_sign_out, self._org_id, token)
        self._signed_out("")
        self.error, self.email = "", ""

    # ---------------------------------------------------------------- the portal

    @rx.event
    async def open_tab(self, tab: Any):
        if tab not in ("visits", "forms", "details", "health", "access", "consents", "documents", "results",
                       "photos") or self.step != "portal":
            return
        self.tab = tab
        if tab in ("consents", "forms", "photos"):  # the tab's own state loads it (features/consent/portal.py, forms/portal_tab.py)
            return
        if tab == "access":
            ok, entries = await self._as_client(actions.fetch_access_log, limit=ACCESS_PAGE + 1)
            if not ok:
                return
            self.access, self.access_more, self.access_loaded = entries[:ACCESS_PAGE], len(entries) > ACCESS_PAGE, True
        elif not await self._refresh():
            return

    @rx.event
    async def older_access(self):
        """The next page of Record access (older entries), appended."""
        if self.step != "portal" or self.tab != "access" or not self.access_more:
            return
        ok, entries = await self._as_client(actions.fetch_access_log, limit=ACCESS_PAGE + 1, offset=len(self.access))
        if ok:
            self.access, self.access_more = self.access + entries[:ACCESS_PAGE], len(entries) > ACCESS_PAGE

    @rx.event
    async def set_email_consent(self, value: Any):
        await self._save_consent(bool(value), self.details.sms_marketing)

    @rx.event
    async def set_sms_consent(self, value: Any):
        await self._save_consent(self.details.email_marketing, bool(value))

    async def _save_consent(self, email: bool, sms: bool) -> None:
        if self.step != "portal":
            return
        ok, details = await self._as_client(actions.do_set_marketing_consent, email=email, sms=sms)
        if not ok:
            return
        self.details, self.notice = details, "Your marketing preferences are saved."

    @rx.event
    async def ask_cancel(self, appointment_id: Any):
        """Show what cancelling would do to the deposit before anything happens."""
        aid = parse_id(appointment_id)
        if self.step != "portal" or aid not in self._cancellable:
            return
        try:
            ok, preview = await self._as_client(actions.fetch_cancel_preview, aid)
        except (PortalUnavailable, NotFound) as exc:
            self.notice = _reason(exc)
            await self._refresh()
            return
        if not ok:
            return
        self.preview, self.cancel_open, self.notice, self.reason, self.errors = preview, True, "", "client_request", {}

    @rx.event
    def keep_visit(self):
        self.cancel_open, self.preview = False, CancelPreview()

    @rx.event
    def set_reason(self, code: Any):
        if self.cancel_open and code in REASON_CODES:
            self.reason, self.errors = code, {}

    @rx.event
    async def confirm_cancel(self, form: Any = None):
        """Cancel the previewed visit with the picked reason (a note is needed for "Other")."""
        aid, note = self.preview.appointment_id, form_text(form, "note", 500)
        if self.step != "portal" or not self.cancel_open or aid not in self._cancellable or self.busy:
            return
        if self.reason == "other" and not note:
            self.errors = {"note": "Tell us the reason in a few words"}
            return
        self.busy, self.errors = True, {}
        yield
        try:
            ok, outcome = await self._as_client(actions.do_cancel_own_visit, aid, reason=self.reason, note=note)
        except ValidationFailed as exc:
            self.busy, self.errors = False, {"note": exc.fields.get("note") or exc.fields.get("reason") or str(exc)}
            return
        except (PortalUnavailable, NotFound) as exc:
            ok, outcome = True, _reason(exc)
        self.busy, self.cancel_open, self.preview = False, False, CancelPreview()
        if not ok:
            return
        self.notice = outcome
        await self._refresh()


async def as_tab_client(tab: rx.State, action: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    """For a portal tab's own state (a PortalState substate): (True, action(client actor, ...))
    through PortalState._as_client, or (False, None) when the tab is not signed in or the
    action answers NotFound."""
    portal = await tab.get_state(PortalState)
    if portal.step != "portal":
        return False, None
    try:
        return await portal._as_client(action, *args, **kwargs)
    except NotFound:
        return False, None
