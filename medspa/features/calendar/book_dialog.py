"""The "Book a client" dialog opened from an empty cell of the day grid.

Staff bookings are confirmed at once (no deposit charged). The location, day, offered
services, providers and times come from what this tab's server state showed; the browser
only names ids and minutes, each checked against those lists here.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from zoneinfo import ZoneInfo

import reflex as rx

from medspa.domain.clients.actions import fetch_likely_duplicates
from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import ValidationFailed
from medspa.domain.clinical.health_record import HealthFlagged
from medspa.domain.clinical.history_actions import do_book_checked
from medspa.domain.scheduling.actions.desk import fetch_booking_options, fetch_client_hits, fetch_free_starts
from medspa.domain.scheduling.service import SlotTaken
from medspa.domain.timezones import format_clinic_clock, local_midnight, zone_abbreviation
from medspa.features.auth.state import StaffState
from medspa.features.calendar.book_health import refresh_flags, show_refusal
from medspa.features.calendar.book_offer import ANY, DeskOffer
from medspa.features.calendar.preset import ClientPresetState
from medspa.features.calendar.layout import parse_day
from medspa.features.calendar.state import CalendarState
from medspa.web.inputs import form_text
from medspa.features.choices import Option

FIELDS = ("first_name", "last_name", "email", "phone")


@dataclasses.dataclass
class Hit:
    """A client found by the dialog's search box: id, name and a hint (email or phone, when allowed)."""

    id: int = 0
    name: str = ""
    hint: str = ""


SHOWN = ("client", "service", "provider", "time", *FIELDS)


def _shown_errors(fields: dict[str, str]) -> dict[str, str]:
    """Service errors keyed by the dialog's fields ("start" is the time; the rest go on top)."""
    out: dict[str, str] = {}
    for name, message in fields.items():
        key = "time" if name == "start" else name if name in SHOWN else "general"
        out.setdefault(key, message)
    return out


class BookDialogState(StaffState):
    """The "Book a client" dialog: client search or new client, service, provider, start minute, errors."""

    dialog_open: bool = False
    title: str = ""
    mode: str = "search"  # search | new | picked
    query: str = ""
    hits: list[Hit] = []
    client_id: int = 0
    client_label: str = ""
    services: list[Option] = []
    providers: list[Option] = []
    times: list[Option] = []
    service: str = ""
    provider: str = ANY
    minute: str = ""
    times_note: str = ""  # why no start is picked: no service yet, none free that day, the clicked one taken
    errors: dict[str, str] = {}
    alternatives: list[str] = []
    busy: bool = False
    # what this dialog may book (backend only)
    _location_id: int = 0
    _day: str = ""
    _time_zone: str = ""
    _hit_ids: list[int] = []
    _offer: DeskOffer = DeskOffer()  # the services each provider performs, the clicked minute
    # a new client who may already be one: the likely duplicates shown, and what was typed then
    dup_hits: list[Hit] = []
    _dup_key: str = ""

    @rx.event
    async def open_slot(self, column_id: int, minute: int):
        """Open for the clicked cell: provider from the column (providers view), only the
        services that provider performs, and only the starts the desk can book that day (the
        provider's free working time); the clicked time is picked when it is one of them."""
        valid = all(isinstance(v, int) and not isinstance(v, bool) for v in (column_id, minute))
        cal = await self.get_state(CalendarState)
        column = next((c for c in cal.day_data.columns if c.id == column_id), None) if valid else None
        if cal.span != "day" or column is None or not (0 <= minute < cal.day_minutes):
            return self._to_login() if await self._staff_actor() is None else None
        done = await self._act(fetch_booking_options, cal.location_id)
        if done.redirect:
            return done.redirect
        if done.error:
            return rx.toast.error("You cannot book at this location.")
        options = done.value
        self._location_id, self._day, self._time_zone = cal.location_id, cal.day, cal.time_zone
        self._offer = DeskOffer.of(options, cal.day_data.title, minute)
        self.providers = [Option(ANY, "Any available provider")] + [Option(str(p.id), p.name)
                                                                     for p in options.providers]
        self.provider = str(column_id) if cal.view == "providers" and any(
            p.id == column_id for p in options.providers) else ANY
        self.times, self.minute, self.service = [], "", ""
        self._offer_services()
        where = column.name if cal.view == "providers" else f"{column.name} ({column.subtitle})"
        self.title = f"{cal.day_data.title} · {self._label(minute)} · {where}"
        self.mode, self.query, self.hits, self._hit_ids = "search", "", [], []
        self.client_id, self.client_label = 0, ""
        self.errors, self.alternatives, self.busy = {}, [], False
        self.dup_hits, self._dup_key = [], ""
        preset = await self.get_state(ClientPresetState)  # /calendar?client=<id>: that client, picked
        if preset._preset_id:
            self.client_id, self.client_label, self.mode = preset._preset_id, preset.preset_label, "picked"
        if (redirect := await self._offer_times()) is not None:
            return redirect
        self.dialog_open = True

    def _offer_services(self) -> None:
        """The chosen provider's services; one they do not perform is dropped (an only one chosen)."""
        self.services = self._offer.services_of(self.provider)
        if not any(o.value == self.service for o in self.services):
            self.service = self.services[0].value if len(self.services) == 1 else ""

    async def _offer_times(self):
        """The free starts of the chosen service and provider that day (fetch_free_starts),
        the chosen or else the clicked start kept when offered; `times_note` says why none is
        picked. Returns a redirect when signed out."""
        self.alternatives, self.times = [], []
        self.errors = {k: v for k, v in self.errors.items() if k != "time"}
        refused = ""
        if self.service:
            provider = None if self.provider == ANY else int(self.provider)
            try:
                done = await self._act(fetch_free_starts, self._location_id, int(self.service),
                                       parse_day(self._day, None), provider)
                if done.redirect:
                    return done.redirect
                midnight = self._start(0)
                self.times = [Option(str(m), self._label(m)) for m in
                              (int((at - midnight).total_seconds() // 60) for at in done.value or ())]
            except ValidationFailed as exc:  # a day too far ahead or back
                refused = next(iter(exc.fields.values()), "No start can be booked that day.")
        offered = {o.value for o in self.times}
        if self.minute not in offered:
            self.minute = str(self._offer.wanted) if str(self._offer.wanted) in offered else ""
        name = next((o.label for o in self.providers if o.value == self.provider), "")
        self.times_note = refused or self._offer.note(
            provider=self.provider, provider_name=name, service=self.service, offered=bool(self.times),
            picked=bool(self.minute), wanted_label=self._label(self._offer.wanted))
        await refresh_flags(self)  # the client's contraindications for this service (book_health.py)

    def _start(self, minute: int):
        return local_midnight(parse_day(self._day, None), ZoneInfo(self._time_zone)) + timedelta(minutes=minute)

    def _label(self, minute: int) -> str:
        if not self._day:
            return ""
        start = self._start(minute)
        return f"{format_clinic_clock(start, self._time_zone)} {zone_abbreviation(start, ZoneInfo(self._time_zone))}"

    @rx.event
    def close(self):
        """Close the booking dialog."""
        self.dialog_open = False

    @rx.event
    def set_open(self, value: bool):
        """The dialog's open state from the component (it may close itself, never open itself)."""
        self.dialog_open = bool(value) and self.dialog_open

    @rx.event
    async def search(self, query: str):
        """Find existing clients by name, email or phone (two characters or more)."""
        if not self.dialog_open:
            return
        self.query = query[:80] if isinstance(query, str) else ""
        if len(self.query.strip()) < 2:
            self.hits, self._hit_ids = [], []
            return
        done = await self._act(fetch_client_hits, self.query)
        if not done.ok:  # signed out meanwhile, or no client.read: no hits
            self.hits, self._hit_ids = [], []
            return
        hits = done.value
        self.hits = [Hit(h.id, h.name, h.hint) for h in hits]
        self._hit_ids = [h.id for h in hits]

    @rx.event
    async def pick_client(self, client_id: int):
        """Take one of the search hits as the visit's client (ids not among the hits are ignored)."""
        if client_id in self._hit_ids:
            hit = next(h for h in self.hits if h.id == client_id)
            self.client_id, self.client_label, self.mode = client_id, hit.name, "picked"
            self.errors = {k: v for k, v in self.errors.items() if k != "client"}
            await refresh_flags(self)

    @rx.event
    async def pick_duplicate(self, client_id: int):
        """Book the existing client the new one likely is (only one of those shown)."""
        hit = next((h for h in self.dup_hits if h.id == client_id), None) if isinstance(client_id, int) else None
        if hit is not None:
            self.client_id, self.client_label, self.mode = hit.id, hit.name, "picked"
            self.dup_hits, self._dup_key = [], ""
            self.errors = {k: v for k, v in self.errors.items() if k != "client"}
            await refresh_flags(self)

    @rx.event
    async def set_mode(self, mode: str):
        """Switch between searching an existing client and typing a new one."""
        if mode in ("search", "new"):
            self.mode, self.client_id, self.client_label = mode, 0, ""
            await refresh_flags(self)

    @rx.event
    async def set_service(self, value: str):
        """Pick the service (only one of the offered options); the free starts follow it."""
        if self.dialog_open and any(o.value == value for o in self.services) and value != self.service:
            self.service = value
            return await self._offer_times()

    @rx.event
    async def set_provider(self, value: str):
        """Pick the provider (one of the options); their services and free starts follow."""
        if self.dialog_open and any(o.value == value for o in self.providers) and value != self.provider:
            self.provider = value
            self._offer_services()
            return await self._offer_times()

    @rx.event
    def set_minute(self, value: str):
        """Pick the start (an offered one); the "not free: choose a start" note goes."""
        if any(o.value == value for o in self.times):
            self.minute, self.times_note = value, ""

    @rx.event
    async def submit(self, form_data: dict):
        """Book: existing client (picked) or a new one from the form fields."""
        if not self.dialog_open:
            if await self._staff_actor() is None:
                yield self._to_login()
            return
        errors: dict[str, str] = {}
        if not any(o.value == self.service for o in self.services):
            errors["service"] = "Choose a service"
        if not any(o.value == self.minute for o in self.times):
            errors["time"] = "Choose a time"
        new_client = None
        if self.mode == "new":
            new_client = ClientInput(*(form_text(form_data, f) for f in FIELDS))
        elif not self.client_id:
            errors["client"] = "Search for a client and pick one, or add a new client"
        if errors:
            if await self._staff_actor() is None:  # signed out: to the sign-in page, not a form error
                yield self._to_login()
                return
            self.errors, self.alternatives = errors, []
            return
        if new_client is not None and await _likely_duplicates(self, new_client):
            self.errors = {"client": "This may be someone already on file: pick them below, or press Book again "
                                     "to add a new client."}
            return
        self.busy, self.errors, self.alternatives = True, {}, []
        yield
        start = self._start(int(self.minute))
        try:
            done = await self._act(
                do_book_checked, location_id=self._location_id, service_id=int(self.service),
                provider_id=None if self.provider == ANY else int(self.provider), start_at=start,
                client_id=self.client_id or None, new_client=new_client,
                override_reason=form_text(form_data, "health_reason", 500))
        except HealthFlagged as exc:  # flagged: the reason is required (book_health.py)
            await show_refusal(self, exc)
            return
        except ValidationFailed as exc:
            self.busy, self.errors = False, _shown_errors(exc.fields)
            return
        except SlotTaken as exc:
            self.busy = False
            self.errors = {"time": "That time is not free for this service and provider."}
            self.alternatives = [f"{format_clinic_clock(a.start, self._time_zone)}" for a in exc.alternatives]
            return
        if done.redirect:
            self.busy = False
            yield done.redirect
            return
        if done.error:
            self.busy, self.errors = False, {"provider": "That provider does not offer this service here."}
            return
        self.busy, self.dialog_open = False, False
        who = self.client_label or (f"{new_client.first_name} {new_client.last_name}" if new_client else "")
        preset = await self.get_state(ClientPresetState)
        if preset._preset_id and preset._preset_id == self.client_id:
            preset._forget()
        cal = await self.get_state(CalendarState)
        await cal._reload(done.actor)
        yield rx.toast.success(f"Booked {who} at {self._label(int(self.minute))}")


async def _likely_duplicates(dialog: BookDialogState, new_client: ClientInput) -> bool:
    """True when the new client looks like existing ones not shown yet for these details
    (they are listed and the booking waits); pressing Book again books a new client."""
    key = repr(new_client)
    if key == dialog._dup_key:
        return False
    done = await dialog._act(fetch_likely_duplicates, new_client)
    found = done.value if done.ok else []
    dialog._dup_key = key
    dialog.dup_hits = [Hit(i, name, why.capitalize()) for i, name, why in found]
    return bool(found)
