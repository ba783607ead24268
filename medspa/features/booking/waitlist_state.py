"""The booking page's waitlist: joining it from the time step (WaitlistJoinState) and opening
an offer's link `/book/<clinic>/offer/<token>` (OfferLinkState), which lands on the details
step with the offered time held (the hold the offer made, or a new one when the offer made
none) and the client's details filled in; from there the booking flow is the usual one.

Thin, like the page's other states: parse, check against what BookingState showed, call one
domain action in a worker thread (domain.waitlist.actions), keep a small result.
"""

from __future__ import annotations

import asyncio
import math
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import reflex as rx

from medspa.clock import app_clock
from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.phones import national_phone
from medspa.domain.ratelimits import RateLimited
from medspa.domain.scheduling.actions.online import fetch_hold_terms, public_actor
from medspa.domain.timezones import format_clinic_clock, zone_abbreviation
from medspa.domain.waitlist.actions import OfferLink, do_join_waitlist, fetch_offer
from medspa.domain.waitlist.entries import WishInput
from medspa.domain.waitlist.models import DEFAULT_WISH_WEEKS
from medspa.features.booking import flow
from medspa.features.booking.state import BookingState, CheckoutState
from medspa.web.inputs import form_text

JOIN_FIELDS = ("first_name", "last_name", "email", "phone")
DEFAULT_WINDOW = ("09:00", "17:00")


def _today(time_zone: str) -> date:
    return app_clock().now().astimezone(ZoneInfo(time_zone)).date()


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _parse_clock(text: str) -> time | None:
    try:
        return time.fromisoformat(text)
    except ValueError:
        return None


def join_waitlist(org_id: int, person: ClientInput, wish: WishInput, ip: str, user_agent: str) -> dict[str, str]:
    """Join through the domain; {} when joined, else field -> message (RateLimited on "email")."""
    try:
        do_join_waitlist(public_actor(org_id, ip, user_agent), person, wish, clock=app_clock())
    except ValidationFailed as exc:
        return dict(exc.fields)
    except NotFound:
        return {"form": "This treatment cannot be booked online any more. Please call the clinic."}
    except RateLimited as exc:
        return {"email": exc.message}
    return {}


def _hold_terms(org_id: int, hold_id: int) -> str:
    """The terms the offer's own hold is booked under ("" when it is gone)."""
    try:
        return fetch_hold_terms(public_actor(org_id), hold_id)
    except NotFound:
        return ""


class WaitlistJoinState(rx.State):
    """The join form of the time step: open or not, its values, errors and the outcome."""

    open: bool = False
    busy: bool = False
    joined: str = ""
    joined_for: str = ""  # "<service id>-<provider choice>" the visitor joined for (the note shows there only)
    errors: dict[str, str] = {}
    first_day: str = ""
    last_day: str = ""
    window_start: str = DEFAULT_WINDOW[0]
    window_end: str = DEFAULT_WINDOW[1]

    async def _ready(self) -> BookingState | None:
        booking = await self.get_state(BookingState)
        ok = booking.status == "ready" and booking.step == "time" and bool(booking.service.id)
        return booking if ok else None

    @rx.event
    async def show(self):
        """Open the form (dates from today at the location)."""
        booking = await self._ready()
        if booking is None:
            return
        today = _today(booking.location.time_zone)
        self.first_day, self.last_day = today.isoformat(), (today + timedelta(weeks=DEFAULT_WISH_WEEKS)).isoformat()
        self.open, self.joined, self.errors = True, "", {}

    @rx.event
    def hide(self):
        self.open, self.errors = False, {}

    @rx.event
    async def join(self, form: Any):
        booking = await self._ready()
        if booking is None or self.busy:
            return
        values = {f: form_text(form, f, 254 if f == "email" else 80) for f in JOIN_FIELDS}
        self.first_day, self.last_day = form_text(form, "first_day", 10), form_text(form, "last_day", 10)
        self.window_start, self.window_end = form_text(form, "window_start", 8), form_text(form, "window_end", 8)
        parsed = {"first_day": _parse_day(self.first_day), "last_day": _parse_day(self.last_day),
                  "window_start": _parse_clock(self.window_start), "window_end": _parse_clock(self.window_end)}
        errors = {k: "Pick a date" if k.endswith("day") else "Pick a time" for k, v in parsed.items() if v is None}
        if errors:
            self.errors = errors
            return
        wish = WishInput(booking.location.id, booking.service.id, booking._provider_id, parsed["first_day"],
                         parsed["last_day"], parsed["window_start"], parsed["window_end"])
        person = ClientInput(values["first_name"], values["last_name"], values["email"], values["phone"])
        self.busy = True
        yield
        ip, ua = booking._who()
        try:
            self.errors = await asyncio.to_thread(join_waitlist, booking._org_id, person, wish, ip, ua)
        finally:
            self.busy = False
        if not self.errors:
            self.joined = (f"You're on the waitlist, {person.first_name.strip()}. When a time that suits you frees "
                           f"up we'll email and text you a link to book it.")
            self.open, self.joined_for = False, f"{booking.service.id}-{booking.provider_choice}"


class OfferLinkState(rx.State):
    """Opening an offer's link: sets BookingState on the offered time (see the module)."""

    ended: bool = False
    booked_ref: str = ""  # the link was used: the visit's reference, time and manage link
    booked_when: str = ""
    booked_manage: str = ""

    async def _choose(self, booking: BookingState, link: OfferLink) -> bool:
        loc = next((l for l in booking.locations if l.id == link.location_id), None)
        if loc is None:
            return False
        if booking.location.id != loc.id:
            await booking._open_location(loc)
        service = next((s for c in booking.categories for s in c.services if s.id == link.service_id), None)
        if service is None:
            return False
        booking.service = service
        booking.providers = await asyncio.to_thread(flow.load_providers, booking._org_id, loc.id, service.id)
        provider = next((p for p in booking.providers if p.id == link.provider_id), None)
        if provider is None:
            return False
        booking._provider_id, booking.provider_choice, booking.provider_name = provider.id, str(provider.id), provider.name
        day = link.start_at.astimezone(ZoneInfo(loc.time_zone)).date().isoformat()
        await booking._load_strip(date.fromisoformat(day), pick=day)
        return True

    async def _hold(self, booking: BookingState, link: OfferLink, checkout: CheckoutState) -> bool:
        """The offer's own hold, or a new one (all at once); False when the time is gone."""
        tz = booking.location.time_zone
        booking.slot = flow.slot_card(link.start_at, tz)
        if link.hold_id is not None and link.held_until is not None:
            booking._hold_id = link.hold_id
            booking.held_until = (f"{format_clinic_clock(link.held_until, tz)} "
                                  f"{zone_abbreviation(link.held_until, ZoneInfo(tz))}")
            left = (link.held_until - app_clock().now()).total_seconds() / 60
            checkout.hold_minutes = max(1, math.ceil(left))
            checkout.terms = await asyncio.to_thread(_hold_terms, booking._org_id, link.hold_id)
            return True
        ip, ua = booking._who()
        try:
            held = await asyncio.to_thread(flow.place_hold, booking._org_id, booking.location.id, booking.service.id,
                                           booking._provider_id, link.start_at, tz, None, ip, ua)
        except (flow.Taken, RateLimited):
            return False
        booking._hold_id, booking.held_until, checkout.terms = held.hold_id, held.until, held.terms
        return True

    @rx.event
    async def open_offer(self):
        """on_load of /book/[clinic]/offer/[token]."""
        parts = [p for p in self.router.url.path.split("/") if p]
        if len(parts) != 4 or parts[0] != "book" or parts[2] != "offer":
            return None
        slug, token = parts[1], parts[3][:80]
        booking = await self.get_state(BookingState)
        await booking._begin(slug)
        if booking.status != "ready":
            return None
        ip, ua = booking._who()
        try:
            link = await asyncio.to_thread(fetch_offer, public_actor(booking._org_id, ip, ua), token,
                                           clock=app_clock())
        except NotFound:
            link = None
        self.ended = link is None or not link.usable
        self.booked_ref, self.booked_when, self.booked_manage = (
            (link.booked_reference, link.booked_when, link.booked_manage) if link is not None else ("", "", ""))
        if self.ended or not await self._choose(booking, link):
            self.ended = True
            return rx.redirect(f"/book/{slug}", replace=True)
        checkout = await self.get_state(CheckoutState)
        checkout.first_name, checkout.last_name, checkout.email, checkout.phone = (
            link.first_name, link.last_name, link.email, national_phone(link.phone, booking.location.country))
        if not await self._hold(booking, link, checkout):
            booking.step = "time"
            return booking._offer_taken([])
        booking.taken, booking.alternatives, booking.step = "", [], "details"
        return booking._push()
