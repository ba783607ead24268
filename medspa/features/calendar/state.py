"""State of the staff calendar `/calendar`: what this tab shows, and its detail panel.

Private per tab (never shared state): the live loop (medspa.live) pushes a fresh view into
exactly this state with app.modify_state (push.py). Every public handler re-checks the staff
session and validates its arguments; the layout comes from layout.py, the data from the
scheduling actions (one action per handler, in a worker thread: `StaffState._act`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, timedelta

import reflex as rx

from medspa import live
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.payments.gateway import CardDetails
from medspa.domain.payments.models import PaymentStatus
from medspa.domain.payments.stripe_gateway import GatewayUnavailable
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.domain.scheduling.actions.calendar import (
    SPANS,
    VIEWS,
    ViewKey,
    do_open_calendar,
    fetch_appointment_detail,
    find_visit_by_code,
)
from medspa.domain.scheduling.actions.desk import STEPS, do_cancel_visit, do_change_status, do_checkout_visit
from medspa.domain.scheduling.calendar import CalendarDay, CalendarWeek
from medspa.domain.scheduling.references import normalise_display_code
from medspa.domain.scheduling.service import InvalidTransition
from medspa.domain.money import format_money
from medspa.features.auth.state import StaffState
from medspa.features.calendar.series_cancel import call_cancel, cancel_series
from medspa.web.inputs import ascii_int, form_text, parse_id
from medspa.features.calendar.layout import DayView, DetailView, WeekView, detail_view, parse_day
from medspa.features.calendar.shared_layout import shared_view


CARD_FIELDS = ("card_number", "exp_month", "exp_year", "cvc", "saved_card")
PAY_WITH = ("card_on_file", "typed")  # checkout: the client's card on file, or a typed card
NOT_ALLOWED = "Not allowed."

# on opening today, scroll the grid so the current-time line sits near the top
SCROLL_TO_NOW = """setTimeout(() => { const g = document.getElementById('cal-grid');
  const n = document.getElementById('cal-now'); if (g && n) { g.scrollTop +=
  n.getBoundingClientRect().top - g.getBoundingClientRect().top - 180; } }, 60)"""


@dataclasses.dataclass
class LocationView:
    """A location in the calendar's location picker: id, name and IANA time zone."""

    id: int = 0
    name: str = ""
    time_zone: str = ""


class CalendarState(StaffState):
    """Location, day, view (providers/rooms), span (day/week) and the laid-out data."""

    location_id: int = 0
    locations: list[LocationView] = []
    time_zone: str = ""
    day: str = ""
    today: str = ""
    view: str = "providers"
    span: str = "day"
    show_cancelled: bool = False
    day_data: DayView = DayView()
    week_data: WeekView = WeekView()
    first_minute: int = 0
    last_minute: int = 0
    day_minutes: int = 1440
    version: int = 0
    worker: str = ""  # the web worker of this tab's last load (diagnostics, multi-worker tests)
    loads: int = 0  # completed loads of this tab (tests wait for a reload's on_load with it)
    error: str = ""
    # appointment id -> status of what is on screen (backend only: tells pushes what changed)
    _statuses: dict[int, str] = {}

    # ---- helpers (not callable from the browser)

    def _view_key(self) -> ViewKey | None:
        if not self.location_id or not self.day:
            return None
        return ViewKey(self.location_id, parse_day(self.day, date.min), self.view, self.span).normal()

    def _apply_loaded(self, key: ViewKey, loaded: CalendarDay | CalendarWeek) -> set[int]:
        """Lay out a loaded view; returns the appointment ids whose status changed."""
        if loaded.clinic_name and loaded.clinic_name != self.org_name:
            self.org_name = loaded.clinic_name  # renamed on /settings: the header follows
        if isinstance(loaded, CalendarWeek):
            week = shared_view(loaded, show_cancelled=self.show_cancelled)
            fresh = week != self.week_data
            if fresh:  # an unchanged view (most safety refreshes) sends nothing to the browser
                self.week_data = week
            statuses = {e.appointment_id: e.status for e in loaded.entries}
        else:
            day = shared_view(loaded, show_cancelled=self.show_cancelled)
            fresh = day != self.day_data
            if fresh:
                self.day_data = day
            self.first_minute, self.last_minute = loaded.first_minute, loaded.last_minute
            self.day_minutes = loaded.day_minutes
            statuses = {b.appointment_id: b.status for b in loaded.blocks if b.appointment_id}
        changed = {i for i, st in statuses.items() if self._statuses.get(i) != st}
        changed |= set(self._statuses) - set(statuses)
        self._statuses = statuses
        if fresh or not self.version:
            self.version += 1
        return changed

    def _signed_out(self) -> None:
        """The session ended: show nothing more of the clinic."""
        self.day_data, self.week_data, self._statuses = DayView(), WeekView(), {}
        self.error = "Your session has ended. Sign in again to see the calendar."

    async def _reload(self, actor: Actor) -> None:
        """Load the current view (registering this tab for live pushes)."""
        try:
            opened = await asyncio.to_thread(
                do_open_calendar, actor, location_id=self.location_id,
                day=parse_day(self.day, None) if self.day else None, view=self.view, span=self.span,
                client_token=self.router.session.client_token, instance_id=live.instance_id())
        except (LookupError, NotFound, PermissionDenied) as exc:
            self.error = str(exc) if isinstance(exc, LookupError) else "This calendar is not available to you."
            return
        live.note_org(actor.org_id)
        self.worker = live.instance_id()[:8]
        self.loads += 1
        self.error = ""
        self.locations = [LocationView(o.id, o.name, o.time_zone) for o in opened.locations]
        self.location_id = opened.key.location_id
        self.time_zone = next(o.time_zone for o in opened.locations if o.id == self.location_id)
        self.day, self.today = opened.key.day.isoformat(), opened.today.isoformat()
        self.view, self.span = opened.key.view, opened.key.span
        self._apply_loaded(opened.key.normal(), opened.data)

    async def _go(self, *, keep_panel: bool = False, **changes):
        """Navigate (day, span, view, location): the detail panel of the old view closes."""
        actor = await self._staff_actor()
        if actor is None:
            return self._to_login()
        if not keep_panel:
            (await self.get_state(DetailState))._reset()
        for name, value in changes.items():
            setattr(self, name, value)
        await self._reload(actor)

    # ---- events

    @rx.event
    async def load(self):
        """on_load: ?location=&day=&view=&span= override what this tab showed last."""
        actor = await self._staff_actor()
        if actor is None:
            return self._to_login()
        query = self.router.url.query_parameters
        if (loc := parse_id(query.get("location", ""))) is not None:
            self.location_id = loc
        if "day" in query:
            picked = parse_day(query.get("day"), None)
            self.day = picked.isoformat() if picked else ""
        if query.get("view") in VIEWS:
            self.view = query["view"]
        if query.get("span") in SPANS:
            self.span = query["span"]
        (await self.get_state(DetailState))._reset()  # a fresh page starts without a stale panel
        await self._reload(actor)
        if self.span == "day" and self.day == self.today:
            return rx.call_script(SCROLL_TO_NOW)

    @rx.event
    async def shift(self, direction: int):
        """Previous (-1) or next (+1) day, or week in the week view."""
        if direction not in (-1, 1):
            return
        step = timedelta(days=7 if self.span == "week" else 1)
        current = parse_day(self.day, None) or parse_day(self.today, None)
        if current is None:
            return
        return await self._go(day=(current + direction * step).isoformat())

    @rx.event
    async def go_today(self):
        """Show today (the location's local day)."""
        return await self._go(day="")

    @rx.event
    async def pick_date(self, value: str):
        """Show the typed or picked day (YYYY-MM-DD, 2000-2100; anything else is ignored)."""
        picked = parse_day(value if isinstance(value, str) else "", None)
        if picked is None or not (date(2000, 1, 1) <= picked <= date(2100, 1, 1)):
            return
        return await self._go(day=picked.isoformat())

    @rx.event
    async def pick_location(self, value: str):
        """Show another location's calendar (an id among the clinic's locations)."""
        location_id = parse_id(value) if isinstance(value, str) else None
        if location_id is None:
            return
        return await self._go(location_id=location_id)  # an id of another clinic falls back (RLS)

    @rx.event
    async def pick_view(self, value: str | list[str]):
        """Columns by provider, room or device (one of VIEWS); the span goes back to one day."""
        if value in VIEWS:
            return await self._go(view=value, span="day")

    @rx.event
    async def pick_span(self, value: str | list[str]):
        """One day or a week (one of SPANS)."""
        if value in SPANS:
            return await self._go(span=value)

    @rx.event
    async def show_day(self, value: str):
        """From the week view: open one day."""
        picked = parse_day(value if isinstance(value, str) else "", None)
        if picked is not None:
            return await self._go(day=picked.isoformat(), span="day")

    @rx.event
    async def toggle_cancelled(self, value: bool):
        """Show or hide cancelled visits (a filter: the open panel stays)."""
        return await self._go(show_cancelled=bool(value), keep_panel=True)  # a filter, not navigation


class DetailState(StaffState):
    """The side panel of one appointment: details and the desk actions."""

    panel_open: bool = False
    detail: DetailView = DetailView()
    confirm_cancel: bool = False
    busy: bool = False
    error: str = ""
    notice: str = ""
    # checkout: card field -> message (card_number, exp_month, exp_year, cvc, card = a decline)
    checkout_errors: dict[str, str] = {}
    pay_with: str = "card_on_file"  # checkout: one of PAY_WITH (the card on file only when the panel offers one)
    find_error: str = ""  # the desk's code search, shown next to its box
    cancel_errors: dict[str, str] = {}  # the cancel confirmation: reason / note -> message
    cancel_reason_picked: str = "client_request"  # the cancel form's reason: its fee words follow it
    confirm_no_show: bool = False  # the no-show confirmation (what it costs) is shown

    def _reset(self) -> None:
        """Close the panel (the close button, or navigation to another day or view)."""
        self.panel_open, self.confirm_cancel, self.busy, self.error, self.notice = False, False, False, "", ""
        self.checkout_errors, self.cancel_errors, self.pay_with = {}, {}, "card_on_file"
        self.confirm_no_show, self.cancel_reason_picked = False, "client_request"

    async def _reload(self, actor: Actor) -> None:
        try:
            d = await asyncio.to_thread(fetch_appointment_detail, actor, self.detail.id)
        except (NotFound, PermissionDenied):
            self.panel_open, self.detail = False, DetailView()
            return
        self.detail = detail_view(d)

    async def _after(self, actor: Actor, notice: str) -> None:
        self.notice, self.error, self.confirm_cancel, self.confirm_no_show = notice, "", False, False
        cal = await self.get_state(CalendarState)
        await cal._reload(actor)  # this tab at once; the others through the listener

    @rx.event
    async def open(self, appointment_id: int):
        """Open the side panel of a visit (its read is audited)."""
        appointment_id = parse_id(appointment_id) if isinstance(appointment_id, int) else None
        if appointment_id is None:
            return self._to_login() if await self._staff_actor() is None else None
        done = await self._act(fetch_appointment_detail, appointment_id)
        if done.redirect:
            return done.redirect
        self.busy, self.error, self.notice, self.confirm_cancel = False, "", "", False
        self.checkout_errors, self.pay_with, self.confirm_no_show = {}, "card_on_file", False
        if done.error:
            self.panel_open = False
            return rx.toast.error("That appointment is not available.")
        self.detail, self.panel_open = detail_view(done.value), True

    @rx.event
    async def find_code(self, form: dict):
        """The desk's search box (form field "code"): show the day and location of the visit with
        that display code and open its panel (its read is audited). Another clinic's code, or
        text that is no code, gets a message next to the box."""
        code = form.get("code", "") if isinstance(form, dict) else ""
        code = code.strip() if isinstance(code, str) and len(code) <= 40 else ""
        if normalise_display_code(code) is None:
            self.find_error = ("Type the booking code, e.g. K7M2-Q9XD." if not code
                               else "A booking code has 8 letters and digits, e.g. K7M2-Q9XD.")
            return None if await self._staff_actor() is not None else self._to_login()
        done = await self._act(find_visit_by_code, code)
        if done.redirect:
            return done.redirect
        if done.error:
            self.find_error = "No visit with that code in this clinic."
            return
        found = done.value
        cal = await self.get_state(CalendarState)
        await cal._go(keep_panel=True, location_id=found.location_id, day=found.day.isoformat(), span="day")
        self.busy, self.error, self.notice, self.confirm_cancel, self.find_error = False, "", "", False, ""
        self.checkout_errors, self.confirm_no_show = {}, False
        self.detail, self.panel_open = detail_view(found.detail), True

    @rx.event
    def close(self):
        """Close the side panel."""
        self._reset()

    @rx.event
    def ask_no_show(self, value: bool):
        """Show or hide the no-show confirmation: what marking it costs (detail.no_show_preview),
        then "Mark as no-show" or "Back"; only when the visit can be marked a no-show."""
        self.confirm_no_show, self.error = bool(value) and self.detail.can_no_show, ""
        self.confirm_cancel = False

    @rx.event
    def pick_cancel_reason(self, value: str):
        """The cancel form's reason changed: its fee words follow (clinic reasons charge no fee)."""
        self.cancel_reason_picked = value if isinstance(value, str) and len(value) <= 40 else "client_request"

    @rx.event
    async def step(self, action: str):
        """check_in, complete or no_show on the appointment shown (no_show only from its
        confirmation, which shows what it costs: ask_no_show)."""
        if action not in STEPS or not self.panel_open:
            return
        if action == "no_show" and not self.confirm_no_show:
            return
        self.busy = True
        yield
        try:
            done = await self._act(do_change_status, self.detail.id, action, denied=NOT_ALLOWED)
        except InvalidTransition as exc:
            self.busy, self.error = False, str(exc)
            return
        if not done.ok:
            self.busy, self.error = False, done.error
            yield done.redirect
            return
        self.detail, self.busy = detail_view(done.value), False
        await self._after(done.actor, {"check_in": "Checked in", "complete": "Marked completed",
                                       "no_show": "Marked as no-show"}[action])

    @rx.event
    def ask_cancel(self, value: bool):
        """Show or hide the cancel confirmation (only when the visit can be cancelled)."""
        self.confirm_cancel, self.error = bool(value) and self.detail.can_cancel, ""
        self.cancel_errors, self.cancel_reason_picked, self.confirm_no_show = {}, "client_request", False

    @rx.event
    async def cancel(self, form: dict | None = None):
        """Cancel the appointment shown and settle its deposit by the cancellation window. `form`:
        the confirmation's reason (a CANCEL_REASONS code; without a form: the client asked) and
        note (required for "other"); a bad one gets a message by the picker, nothing changes."""
        if not self.panel_open or not self.confirm_cancel:
            return
        reason = "client_request" if form is None else form_text(form, "reason", 40) or "?"
        note = form_text(form, "note", 600) if isinstance(form, dict) else ""
        scope = (form_text(form, "scope", 20) if isinstance(form, dict) else "") or "one"
        if scope != "one":  # a recurring series: this and following, or all (SeriesCancel)
            async for effect in cancel_series(self, scope, reason, note):
                yield effect
            return
        self.busy, self.cancel_errors = True, {}
        yield
        done = await call_cancel(self, do_cancel_visit, self.detail.id, reason, note=note)
        if done is None:
            return
        if not done.ok:
            self.busy, self.error = False, done.error
            yield done.redirect
            return
        result = done.value.result
        self.detail, self.busy = detail_view(done.value.detail), False
        if result.refunded_cents:
            notice = f"Cancelled · {format_money(result.refunded_cents, result.currency)} deposit refunded"
        elif result.pending_refund_cents:
            notice = f"Cancelled · Refund of {format_money(result.pending_refund_cents, result.currency)} pending"
        elif result.kept_cents:
            notice = f"Cancelled · {format_money(result.kept_cents, result.currency)} deposit kept"
        else:
            notice = "Cancelled"
        await self._after(done.actor, notice)

    @rx.event
    def pick_pay_with(self, value: str):
        """Checkout: charge the card on file or type a card (one of PAY_WITH; else ignored)."""
        if value in PAY_WITH:
            self.pay_with, self.checkout_errors = value, {}

    @rx.event
    async def checkout(self, form: dict):
        """Check the visit shown out: the balance is charged to the card typed in the panel's
        form (card_number, exp_month, exp_year, cvc; none when the deposit covers the price),
        or to the client's card on file when the panel offers it and pay_with says so (its id
        comes from the server's own panel detail, never from the browser). A decline shows the
        gateway's message next to the card (number); the session, the permission (payment.take),
        the visit and the card's owner are checked again on the server."""
        if not self.panel_open or not self.detail.can_checkout or not isinstance(form, dict):
            return

        def typed(name: str, limit: int) -> str:
            value = form.get(name, "")
            return value.strip()[:limit] if isinstance(value, str) else ""

        card, saved = None, None
        on_file = bool(self.detail.balance_due and self.detail.checkout_card_id and self.pay_with == "card_on_file")
        if on_file:
            saved = self.detail.checkout_card_id
        elif self.detail.balance_due:
            month, year = typed("exp_month", 4), typed("exp_year", 4)
            card = CardDetails(typed("card_number", 30), ascii_int(month) or 0, ascii_int(year) or 0, typed("cvc", 4))
        self.busy, self.checkout_errors, self.error, self.notice = True, {}, "", ""  # no stale "Checked in"
        yield
        try:
            done = await self._act(do_checkout_visit, self.detail.id, card, denied=NOT_ALLOWED, saved_card_id=saved)
        except ValidationFailed as exc:
            fields = dict(exc.fields)
            self.busy, self.error = False, fields.pop("appointment", "")
            self.checkout_errors = {k: v for k, v in fields.items() if k in CARD_FIELDS} or (
                {} if self.error else {"card": "; ".join(exc.fields.values())})
            return
        except GatewayUnavailable as exc:
            self.busy, self.checkout_errors = False, {"saved_card" if on_file else "card": exc.message}
            return
        if not done.ok:
            self.busy, self.error = False, done.error
            yield done.redirect
            return
        result = done.value.result
        self.detail, self.busy = detail_view(done.value.detail), False
        if result.status != PaymentStatus.SUCCEEDED:
            self.checkout_errors = {"saved_card" if on_file else "card": result.message}
            return
        paid = f" · card ending {result.card_last4}" if result.card_last4 else ""
        if result.refunded_cents:
            paid += f" · {format_money(result.refunded_cents, result.currency)} of the deposit refunded"
        elif result.pending_refund_cents:
            paid += f" · refund of {format_money(result.pending_refund_cents, result.currency)} pending"
        await self._after(done.actor, f"Checkout complete{paid}")  # the amount is in the panel's checkout line
