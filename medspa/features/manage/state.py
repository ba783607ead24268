"""State of the public manage-booking page `/book/[clinic]/manage/[token]` (no login).

Thin: each event checks its input against what this state showed the browser, awaits ONE
function of `flow` in a worker thread and keeps its small result. The booking token (the
visitor's credential, from the URL) and the clinic live in backend-only vars; every change is
checked again by the domain under the token (a link that moved or cancelled its visit shows the
visit as it is now, never a second one).
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any

import reflex as rx

from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.portal.service import PortalUnavailable
from medspa.domain.ratelimits import RateLimited
from medspa.domain.scheduling.reschedule import MoveRefused
from medspa.domain.scheduling.service import InvalidTransition
from medspa.features.manage import flow
from medspa.features.booking.flow import DayCard, SlotCard, SlotGroup
from medspa.features.manage.flow import VisitView
from medspa.web.inputs import clean_text, form_text

GONE = "This booking changed in the meantime. Here it is as it stands now."


class ManageState(rx.State):
    """One visitor's manage-booking tab: the visit, and the move or cancel in progress."""

    status: str = "loading"  # loading | not_found | ready
    clinic_name: str = ""
    visit: VisitView = rx.field(default_factory=VisitView)
    mode: str = "view"  # view | reschedule | cancel
    days: list[DayCard] = []
    day: str = ""
    page: int = 0
    groups: list[SlotGroup] = []
    picked: SlotCard = rx.field(default_factory=SlotCard)
    reason: str = "client_request"
    errors: dict[str, str] = {}
    notice: str = ""  # the last change's outcome in plain words
    problem: str = ""  # why the last step did not go through
    busy: bool = False
    book_url: str = ""  # the clinic's booking page, for "Book a new visit"

    _org_id: int = 0
    _slug: str = ""
    _token: str = ""
    _offered: list[str] = []

    def _who(self) -> tuple[str, str]:
        return self.router.session.client_ip or "", (self.router.headers.user_agent or "")[:200]

    def _ready(self, mode: str | None = None) -> bool:
        return self.status == "ready" and not self.busy and (mode is None or self.mode == mode)

    @rx.event
    async def load(self):
        """on_load (also on reconnect): open the link of the URL, or show the visit again."""
        parts = [p for p in self.router.url.path.split("/") if p]
        slug, token = (parts[1], parts[3]) if len(parts) == 4 and parts[0] == "book" and parts[2] == "manage" else ("", "")
        if self.status == "ready" and (slug, token) == (self._slug, self._token):
            await self._reload()
            return
        self.reset()
        self._slug, self._token = slug, token
        ip, ua = self._who()
        opened = await asyncio.to_thread(flow.open_link, slug, token, ip, ua) if slug and token else None
        if opened is None:
            self.status = "not_found"
            return
        self._org_id, self.clinic_name, self.visit, self.status = opened.org_id, opened.clinic_name, opened.visit, "ready"
        self.book_url = f"/book/{slug}"

    async def _reload(self, problem: str = "") -> None:
        """Back to the visit as it stands now (the link may have moved on: not found)."""
        visit = await asyncio.to_thread(flow.load_visit, self._org_id, self._token)
        if visit is None:
            self.status = "not_found"
            return
        self.visit, self.mode, self.problem, self.busy = visit, "view", problem, False
        self.picked, self.groups, self.days, self._offered = SlotCard(), [], [], []

    @rx.event
    def back(self):
        """Leave the move or the cancel without changing anything."""
        if self.status == "ready" and not self.busy:
            self.mode, self.problem, self.errors, self.picked = "view", "", {}, SlotCard()

    # ---------------------------------------------------------------- reschedule

    @rx.event
    async def start_reschedule(self):
        """Show the day strip from today (clinic time) and the first open day's times."""
        if not self._ready("view") or not self.visit.can_change:
            return
        self.mode, self.notice, self.problem, self.page = "reschedule", "", "", 0
        await self._load_page()

    @rx.event
    async def browse(self, step: Any):
        """Later (+1) or earlier (-1) fortnight of the day strip."""
        if not self._ready("reschedule") or step not in (1, -1):
            return
        page = self.page + step
        if 0 <= page < flow.MAX_PAGES:
            self.page = page
            await self._load_page()

    async def _load_page(self) -> None:
        try:
            self.days = await asyncio.to_thread(flow.load_days, self._org_id, self._token, self.visit.time_zone, self.page)
        except (NotFound, ValidationFailed):
            await self._reload(GONE)
            return
        first = next((d.iso for d in self.days if d.open), "")
        await self._load_day(first)

    @rx.event
    async def choose_day(self, iso: Any):
        """Show one offered open day's free times."""
        if self._ready("reschedule") and any(d.iso == iso and d.open for d in self.days):
            await self._load_day(iso)

    async def _load_day(self, iso: str) -> None:
        self.day, self.picked, self.groups, self._offered = iso, SlotCard(), [], []
        if not iso:
            return
        try:
            self.groups = await asyncio.to_thread(flow.load_times, self._org_id, self._token, self.visit.time_zone,
                                                  date.fromisoformat(iso))
        except (NotFound, ValidationFailed):
            await self._reload(GONE)
            return
        self._offered = [t.start for g in self.groups for t in g.slots]

    @rx.event
    def choose_time(self, start: Any):
        """Pick one offered time: the terms are shown before anything changes."""
        if self._ready("reschedule") and isinstance(start, str) and start in self._offered:
            self.picked = next(t for g in self.groups for t in g.slots if t.start == start)
            self.problem = ""

    @rx.event
    async def confirm_reschedule(self):
        """Move the visit to the picked time."""
        if not self._ready("reschedule") or self.picked.start not in self._offered:
            return
        self.busy, self.problem = True, ""
        yield
        ip, ua = self._who()
        try:
            visit, message = await asyncio.to_thread(flow.reschedule, self._org_id, self._token,
                                                     datetime.fromisoformat(self.picked.start), ip, ua)
        except MoveRefused as exc:
            self.busy, self.problem = False, exc.reason
            await self._load_day(self.day)
            return
        except RateLimited as exc:
            self.busy, self.problem = False, exc.message
            return
        except (NotFound, ValidationFailed, InvalidTransition):
            await self._reload(GONE)
            return
        self.visit, self.notice, self.mode, self.busy, self.picked = visit, message, "view", False, SlotCard()

    # ---------------------------------------------------------------- cancel

    @rx.event
    def start_cancel(self):
        """Show the reasons and what cancelling now does to the deposit."""
        if self._ready("view") and self.visit.can_change:
            self.mode, self.notice, self.problem, self.errors, self.reason = "cancel", "", "", {}, "client_request"

    @rx.event
    def set_reason(self, code: Any):
        """Pick one of the offered reasons."""
        if self._ready("cancel") and code in flow.REASON_CODES:
            self.reason, self.errors = code, {}

    @rx.event
    async def confirm_cancel(self, form: Any = None):
        """Cancel the visit with the picked reason (and the note, needed for "Other")."""
        if not self._ready("cancel") or self.reason not in flow.REASON_CODES:
            return
        note = form_text(form, "note", 500) if isinstance(form, dict) else ""
        if self.reason == "other" and not note:
            self.errors = {"note": "Tell us the reason in a few words"}
            return
        self.busy, self.problem, self.errors = True, "", {}
        yield
        ip, ua = self._who()
        try:
            message = await asyncio.to_thread(flow.cancel, self._org_id, self._token, self.reason, clean_text(note, 500),
                                              ip, ua)
        except ValidationFailed as exc:
            self.busy, self.errors = False, {k: v for k, v in exc.fields.items() if k in ("reason", "note")}
            self.problem = "" if self.errors else "; ".join(exc.fields.values())
            return
        except RateLimited as exc:
            self.busy, self.problem = False, exc.message
            return
        except (NotFound, PortalUnavailable, InvalidTransition) as exc:
            await self._reload(str(exc) if isinstance(exc, PortalUnavailable) else GONE)
            return
        await self._reload()
        self.notice = message
