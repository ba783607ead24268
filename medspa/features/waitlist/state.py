"""State of `/waitlist`: the desk's waitlist per day (issue 16 §3).

Thin: every handler re-checks the staff session through StaffState._act and calls one domain
action (domain/waitlist/actions.py; the form's choices: scheduling/actions/desk.
fetch_booking_options). The day and location come from the URL (?day=YYYY-MM-DD&location=<id>)
and every change of them pushes a new URL, so a day's list can be linked and reloaded.
"""

from __future__ import annotations

import dataclasses
from datetime import date, time, timedelta
from typing import Any

import reflex as rx
from babel.dates import format_date, format_datetime, format_time
from zoneinfo import ZoneInfo

from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import ValidationFailed
from medspa.domain.scheduling.actions.desk import fetch_booking_options
from medspa.domain.waitlist.actions import WaitlistDay, do_add_to_waitlist, do_close_entry, fetch_waitlist_page
from medspa.domain.waitlist.entries import EntryRow, WishInput
from medspa.domain.waitlist.models import DEFAULT_WISH_WEEKS
from medspa.domain.identity.permissions import has_permission
from medspa.features.auth.state import StaffState
from medspa.features.waitlist.client_pick import WaitlistClientState
from medspa.features.choices import Option
from medspa.web.inputs import form_text, parse_id

ROUTE = "/waitlist"
ANYONE = "any"
STATUS_COLORS = {"waiting": "gray", "offered": "amber", "booked": "grass", "closed": "gray"}
MODE_LABELS = {"one_at_a_time": "Offers one at a time, with a hold", "all_at_once": "Offers to everyone at once"}
OPEN_STATUSES = ("waiting", "offered")
OFFER_LABELS = {"open": "offered", "booked": "booked", "lapsed": "offer lapsed", "gone": "offer taken"}


@dataclasses.dataclass
class EntryView:
    """One entry as the page shows it (times in the location's wall clock)."""

    id: int = 0
    position: int = 0
    client_name: str = ""
    contact: str = ""
    href: str = ""
    service: str = ""
    provider: str = ""
    dates: str = ""
    window: str = ""
    joined: str = ""
    status: str = ""
    status_color: str = "gray"
    source: str = ""
    note: str = ""
    offer: str = ""
    outcome: str = ""


def _clock(t: time) -> str:
    return format_time(t, "h:mm a", locale="en_US")


def entry_view(r: EntryRow, position: int, time_zone: str) -> EntryView:
    """The UI-sized row of an entry."""
    tz = ZoneInfo(time_zone)
    same = r.first_day == r.last_day
    dates = format_date(r.first_day, "EEE, MMM d", locale="en_US") + (
        "" if same else " – " + format_date(r.last_day, "EEE, MMM d", locale="en_US"))
    offer = ""
    if r.last_offer_at is not None:
        offer = (f"{OFFER_LABELS.get(r.last_offer_status, r.last_offer_status).capitalize()}: "
                 f"{format_datetime(r.last_offer_at.astimezone(tz), 'EEE, MMM d, h:mm a', locale='en_US')}")
    return EntryView(r.id, position, r.client_name, r.contact, f"/clients/{r.client_id}", r.service, r.provider, dates,
                     f"{_clock(r.window_start)} – {_clock(r.window_end)}",
                     format_datetime(r.joined_at.astimezone(tz), "MMM d, h:mm a", locale="en_US"), r.status,
                     STATUS_COLORS.get(r.status, "gray"), "Online" if r.source == "public" else "Desk", r.note, offer,
                     r.outcome)


def _day(text: Any) -> date | None:
    try:
        return date.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _clock_of(text: str) -> time | None:
    try:
        return time.fromisoformat(text)
    except ValueError:
        return None


class WaitlistState(StaffState):
    """What /waitlist shows: the location and day, their entries, and the add form."""

    allowed: bool = False
    not_found: bool = False
    error: str = ""
    notice: str = ""
    locations: list[Option] = []
    location: str = ""
    day: str = ""
    until: str = ""  # the add form's default last day: the day + DEFAULT_WISH_WEEKS
    day_label: str = ""
    mode_label: str = ""
    rows: list[EntryView] = []  # waiting or offered, in offer order
    booked_rows: list[EntryView] = []  # booked from the waitlist (what happened: EntryView.outcome)
    closed_rows: list[EntryView] = []  # taken off the list or past their dates
    loaded: bool = False
    form_open: bool = False
    form_errors: dict[str, str] = {}
    services: list[Option] = []
    providers: list[Option] = []
    busy: bool = False
    _entry_ids: list[int] = []
    _service_ids: list[int] = []
    _provider_ids: list[int] = []

    @rx.var
    def can_open_outbox(self) -> bool:
        """Whether this role may open the Outbox (outbox.manage): the page's hint points there
        only then, else it says the client is messaged automatically."""
        return has_permission(self.staff_role, "outbox.manage") if self.staff_role else False

    def _show(self, page: WaitlistDay) -> None:
        self.locations = [Option(str(i), n) for i, n in page.locations]
        self.location, self.day = str(page.location_id), page.day.isoformat()
        self.until = (page.day + timedelta(weeks=DEFAULT_WISH_WEEKS)).isoformat()
        self.day_label = format_date(page.day, "EEEE, MMMM d, y", locale="en_US")
        self.mode_label = MODE_LABELS.get(page.mode, page.mode)
        open_rows = [r for r in page.rows if r.status in OPEN_STATUSES]
        self.rows = [entry_view(r, i + 1, page.time_zone) for i, r in enumerate(open_rows)]
        self.booked_rows = [entry_view(r, 0, page.time_zone) for r in page.rows if r.status == "booked"]
        self.closed_rows = [entry_view(r, 0, page.time_zone) for r in page.rows if r.status == "closed"]
        self._entry_ids = [r.id for r in open_rows]  # only an open entry can be removed
        self.allowed, self.not_found, self.loaded = True, False, True

    async def _reload(self, location_id: int | None, day: date | None):
        try:
            done = await self._act(fetch_waitlist_page, location_id, day)
        except LookupError as exc:
            self.allowed, self.loaded, self.error, self.rows = True, True, str(exc), []
            return None
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.allowed, self.not_found, self._entry_ids = False, True, []
            self.rows, self.booked_rows, self.closed_rows = [], [], []
            return None
        self._show(done.value)
        return None

    def _url(self) -> str:
        return f"{ROUTE}?day={self.day}&location={self.location}"

    @rx.event
    async def load(self):
        """on_load: ?day=YYYY-MM-DD (default today at the location) and ?location=<id>."""
        query = self.router.url.query_parameters or {}
        self.error, self.notice, self.form_open = "", "", False
        return await self._reload(parse_id(query.get("location", "")), _day(query.get("day", "")))

    @rx.event
    async def set_location(self, value: Any):
        if self.allowed and isinstance(value, str) and value in [o.value for o in self.locations]:
            self.location = value
            return rx.redirect(self._url())

    @rx.event
    async def set_day(self, value: Any):
        if self.allowed and _day(value) is not None:
            self.day = value
            return rx.redirect(self._url())

    @rx.event
    async def shift_day(self, days: Any):
        current = _day(self.day)
        if self.allowed and current is not None and days in (-1, 1):
            self.day = (current + timedelta(days=days)).isoformat()
            return rx.redirect(self._url())

    @rx.event
    async def open_form(self):
        if not self.allowed or not self.location:
            return None
        done = await self._act(fetch_booking_options, parse_id(self.location))
        if done.redirect is not None or done.error:
            return done.redirect
        opts = done.value
        self.services = [Option(str(s.id), s.label) for s in opts.services]
        self.providers = [Option(ANYONE, "Anyone")] + [Option(str(p.id), p.name) for p in opts.providers]
        self._service_ids, self._provider_ids = [s.id for s in opts.services], [p.id for p in opts.providers]
        self.form_open, self.form_errors = True, {}
        (await self.get_state(WaitlistClientState))._reset()
        return None

    @rx.event
    def close_form(self):
        self.form_open, self.form_errors = False, {}

    def _wish(self, form: Any) -> WishInput | dict[str, str]:
        service, provider = parse_id(form_text(form, "service", 20)), form_text(form, "provider", 20)
        errors: dict[str, str] = {}
        if service not in self._service_ids:
            errors["service"] = "Choose a treatment"
        provider_id = None if provider in ("", ANYONE) else parse_id(provider)
        if provider not in ("", ANYONE) and provider_id not in self._provider_ids:
            errors["provider"] = "Choose a provider or anyone"
        first, last = _day(form_text(form, "first_day", 10)), _day(form_text(form, "last_day", 10))
        start, end = _clock_of(form_text(form, "window_start", 8)), _clock_of(form_text(form, "window_end", 8))
        for key, value in (("first_day", first), ("last_day", last), ("window_start", start), ("window_end", end)):
            if value is None:
                errors[key] = "Pick a date" if key.endswith("day") else "Pick a time"
        if errors:
            return errors
        return WishInput(parse_id(self.location), service, provider_id, first, last, start, end,
                         form_text(form, "note", 300))

    @rx.event
    async def add(self, form: Any):
        """The form's save: the client picked with the search (or a new one typed: found by
        email or created) and their wish."""
        if not self.allowed or not self.form_open or self.busy:
            return None
        wish = self._wish(form)
        pick = await self.get_state(WaitlistClientState)
        if pick.mode == "search":
            wish = {**(wish if isinstance(wish, dict) else {}),
                    "client": "Find the client and pick them, or add a new client"}
        if isinstance(wish, dict):
            self.form_errors = wish
            return None
        person, client_id, name = None, None, pick.client_label.split(" ")[0]
        if pick.mode == "picked":
            client_id = pick.client_id
        else:
            person = ClientInput(*(form_text(form, f, 254 if f == "email" else 80)
                                   for f in ("first_name", "last_name", "email", "phone")))
            name = person.first_name.strip()
        self.busy = True
        try:
            done = await self._act(do_add_to_waitlist, person, wish, client_id=client_id)
        except ValidationFailed as exc:
            self.form_errors = dict(exc.fields)
            return None
        finally:
            self.busy = False
        if done.redirect is not None or done.error:
            self.form_errors = {"form": done.error} if done.error else {}
            return done.redirect
        self.form_open, self.notice = False, f"{name} is on the waitlist."
        return await self._reload(parse_id(self.location), _day(self.day))

    @rx.event
    async def close_entry(self, entry_id: Any):
        """Take an entry off the list (only one this page shows)."""
        eid = parse_id(entry_id)
        if not self.allowed or eid not in self._entry_ids:
            return None
        done = await self._act(do_close_entry, eid)
        if done.redirect is not None:
            return done.redirect
        self.notice = "Taken off the waitlist." if not done.error else ""
        return await self._reload(parse_id(self.location), _day(self.day))
