"""State of the public booking page `/book/[clinic]` (no login).

Thin: each event parses its input, checks it against what this state showed the browser,
awaits ONE function of `flow` (which calls the domain services in a worker thread) and keeps
its small result. Ids of the clinic, the hold and what may be picked live in backend-only
vars (leading underscore); card numbers are never stored in the state.

Every public handler is an entry point any browser can call with any arguments: ids must be
among those offered, steps only move along the flow, strings are cut to a sane length.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from typing import Any

import reflex as rx

from medspa.domain.clients.service import ClientInput
from medspa.domain.payments.gateway import CardDetails
from medspa.domain.ratelimits import RateLimited
from medspa.features.booking import flow, steps
from medspa.features.booking.flow import (
    CategoryCard, Confirmation, DayStrip, LocationCard, ProviderCard, ServiceCard, SlotCard, SlotGroup, Taken,
)
from medspa.web.inputs import ascii_int, form_text, parse_id

ANYONE = "any"
STEPS = steps.STEPS
CLIENT_FIELDS = ("first_name", "last_name", "email", "phone")
CARD_FIELDS = ("card_number", "exp_month", "exp_year", "cvc")

# Stripe Elements (only with STRIPE_SECRET_KEY + STRIPE_PUBLISHABLE_KEY): mount the card field,
# create a PaymentMethod, complete 3-D Secure. Sent with rx.call_script; not exercised offline.
_STRIPE_JS = """window.medspaStripe = window.medspaStripe || {
 mount(key) { const go = () => { const el = document.getElementById('stripe-card');
   if (!window.Stripe || !el) return setTimeout(go, 100); if (el.dataset.mounted) return;
   this.stripe = Stripe(key); this.card = this.stripe.elements().create('card', {hidePostalCode: true});
   this.card.mount(el); el.dataset.mounted = '1'; }; go(); },
 async createPaymentMethod(name, email) { if (!this.card) return {error: 'The card form is still loading.'};
   const r = await this.stripe.createPaymentMethod({type: 'card', card: this.card, billing_details: {name, email}});
   return r.error ? {error: r.error.message} : {payment_method_id: r.paymentMethod.id}; },
 async handleAction(secret) { const r = await this.stripe.handleNextAction({clientSecret: secret});
   return r.error ? {error: r.error.message} : {status: r.paymentIntent.status}; } };"""




class BookingState(rx.State):
    """One visitor's way through the booking flow: the clinic and the choices up to the held
    time. The client's details, the payment and the confirmation are in CheckoutState."""

    status: str = "loading"  # loading | not_found | ready
    clinic_name: str = ""
    clinic_logo: str = ""  # the public logo's URL ("" without one)
    step: str = "service"
    locations: list[LocationCard] = []
    location: LocationCard = rx.field(default_factory=LocationCard)
    categories: list[CategoryCard] = []
    service: ServiceCard = rx.field(default_factory=ServiceCard)
    providers: list[ProviderCard] = []
    provider_choice: str = ""
    provider_name: str = ""
    strip: DayStrip = rx.field(default_factory=DayStrip)  # the days shown, the next available, the waitlist note
    day: str = ""
    zone_note: str = ""
    slot_groups: list[SlotGroup] = []
    slot: SlotCard = rx.field(default_factory=SlotCard)
    held_until: str = ""
    taken: str = ""
    alternatives: list[SlotCard] = []

    _slug: str = ""
    _org_id: int = 0
    _service_ids: list[int] = []
    _provider_id: int | None = None
    _hold_id: int | None = None
    _nav: int = 0  # the number of the flow's browser-history entry shown (?n=): Back lowers it

    # ---------------------------------------------------------------- helpers

    def _who(self) -> tuple[str, str]:
        return self.router.session.client_ip or "", self.router.headers.user_agent or ""

    async def _release(self) -> None:
        hold_id, self._hold_id = self._hold_id, None
        self.slot, self.held_until, (await self.get_state(CheckoutState)).terms = SlotCard(), "", ""
        if hold_id and self._org_id:
            await asyncio.to_thread(flow.release, self._org_id, hold_id)

    def _url(self, step: str) -> str:
        return steps.step_url(self._slug, step, self._nav)

    def _push(self):
        """A new browser-history entry for the step just reached (so Back goes back one step)."""
        self._nav += 1
        return rx.redirect(self._url(self.step))

    async def _back_to(self, step: str) -> None:
        """Move back to `step`; leaving the time behind gives the held slot back."""
        self.step = step
        if step in ("location", "service", "provider"):
            await self._release()
        if step == "provider" and self._provider_id is None:
            self.provider_name = ""

    def _provider_names(self) -> dict[int, str]:
        return {p.id: p.name for p in self.providers}

    async def _open_location(self, loc: LocationCard) -> None:
        self.location = loc
        self.categories, self._service_ids = await asyncio.to_thread(flow.load_services, self._org_id, loc.id)
        self.zone_note = await asyncio.to_thread(flow.zone_note, loc.time_zone, loc.name)
        self.step = "service"

    def _offer_taken(self, alternatives: list[SlotCard]):
        """Back on the time step with the nearest free times (a history entry when moved)."""
        self.taken = ("Sorry, that time was just taken; nothing was charged. "
                      "Here are the nearest free times, or pick another day above.")
        self.alternatives, self.slot, self.held_until = alternatives, SlotCard(), ""
        moved, self.step = self.step != "time", "time"
        return self._push() if moved else None

    # ---------------------------------------------------------------- page load

    @rx.event
    async def load(self):
        """on_load: also on every reconnect, reload and browser Back/Forward (see steps.py)."""
        slug, wanted, n = steps.where(self.router.url)
        if self.status != "ready" or slug != self._slug:
            await self._begin(slug)
            return self._fallback(wanted)
        if n == self._nav and wanted in ("", self.step):
            if self.step in ("location", "service"):
                await self._refresh_menu()
            return None
        back, self._nav = n < self._nav, n
        if back and self.step == "done":  # booked: Back starts a new booking
            await self._begin(slug)
            return self._fallback(wanted)
        checkout = await self.get_state(CheckoutState)
        target = steps.target_step(self.step, wanted, back, lambda st: steps.reachable(self, checkout, st))
        if back and target != self.step:
            await self._back_to(target)
        self.step = target
        if wanted != self.step:
            return rx.redirect(self._url(self.step), replace=True)
        return None

    def _fallback(self, wanted: str):
        """After a fresh start: a URL naming a later step shows the first one instead."""
        if self.status == "ready" and wanted and wanted != self.step:
            return rx.redirect(f"/book/{self._slug}", replace=True)
        return None

    async def _refresh_menu(self) -> None:
        if self.step == "location" or len(self.locations) < 2:
            await self._begin(self._slug)
        else:
            await self._release()
            await self._open_location(self.location)

    @rx.event
    async def start_over(self):
        await self._begin(self._slug)
        return rx.redirect(f"/book/{self._slug}")

    async def _begin(self, slug: str) -> None:
        await self._release()
        self.reset()
        checkout = await self.get_state(CheckoutState)
        checkout.reset()  # also when the substate was not loaded with this event
        self._slug = slug
        ip, ua = self._who()
        clinic = await asyncio.to_thread(flow.load_clinic, slug, ip, ua)
        if clinic is None or not clinic.locations:
            self.status = "not_found"
            return
        self._org_id, self.clinic_name, self.locations = clinic.org_id, clinic.name, clinic.locations
        self.clinic_logo = clinic.logo_url
        checkout.stripe_key = flow.stripe_publishable_key()
        checkout.hold_minutes = flow.hold_minutes()
        if len(clinic.locations) == 1:
            await self._open_location(clinic.locations[0])
        else:
            self.step = "location"
        self.status = "ready"

    # ---------------------------------------------------------------- choosing

    @rx.event
    async def choose_location(self, location_id: Any):
        loc = next((l for l in self.locations if l.id == parse_id(location_id)), None)
        if self.status != "ready" or loc is None:
            return
        await self._release()
        await self._open_location(loc)
        return self._push()

    @rx.event
    async def choose_service(self, service_id: Any):
        sid = parse_id(service_id)
        if self.status != "ready" or sid not in self._service_ids:
            return
        await self._release()
        self.service = next(s for c in self.categories for s in c.services if s.id == sid)
        self.providers = await asyncio.to_thread(flow.load_providers, self._org_id, self.location.id, sid)
        self.provider_choice, self.step = "", "provider"
        return self._push()

    @rx.event
    async def choose_provider(self, choice: Any):
        pid = parse_id(choice)
        provider = next((p for p in self.providers if p.id == pid), None)
        if self.step not in ("provider", "time") or (choice != ANYONE and provider is None):
            return
        await self._release()
        self._provider_id = provider.id if provider else None
        self.provider_choice = str(provider.id) if provider else ANYONE
        self.provider_name = provider.name if provider else "Anyone available"
        await self._load_strip(None)
        moved, self.step = self.step != "time", "time"
        return self._push() if moved else None

    async def _load_strip(self, start: date | None, pick: str = "") -> None:
        """The day strip from `start` (None: today); selects `pick`, else its first free day."""
        strip = await asyncio.to_thread(flow.load_strip, self._org_id, self.location.id, self.service.id,
                                        self._provider_id, self.location.time_zone, start)
        self.strip = strip
        first_open = pick or next((d.iso for d in strip.days if d.open), "")
        if first_open:
            await self._load_day(first_open)
        else:
            self.day, self.slot_groups, self.taken, self.alternatives = "", [], "", []

    @rx.event
    async def choose_day(self, iso: Any):
        if self.step == "time" and any(d.iso == iso for d in self.strip.days):
            await self._load_day(iso)

    @rx.event
    async def browse_days(self, direction: Any):
        """Move the day strip DAYS_SHOWN days "earlier" or "later" (today .. the last bookable day)."""
        strip = self.strip
        if self.step != "time" or not strip.days or not ((direction == "later" and strip.can_later)
                                                         or (direction == "earlier" and strip.can_earlier)):
            return
        shift = timedelta(days=flow.DAYS_SHOWN if direction == "later" else -flow.DAYS_SHOWN)
        await self._load_strip(date.fromisoformat(strip.days[0].iso) + shift)

    @rx.event
    async def show_next_available(self):
        """Jump the strip to the next available day it named, and show that day's times."""
        if self.step == "time" and self.strip.next_day:
            await self._load_strip(date.fromisoformat(self.strip.next_day), pick=self.strip.next_day)

    async def _load_day(self, iso: str) -> None:
        self.day, self.taken, self.alternatives = iso, "", []
        self.slot_groups = await asyncio.to_thread(flow.load_slots, self._org_id, self.location.id,
                                                   self.service.id, self._provider_id, date.fromisoformat(iso),
                                                   self.location.time_zone)

    @rx.event
    async def choose_slot(self, start: Any):
        """Hold the picked time (committed) so it stays free while the client types."""
        offered = [s.start for g in self.slot_groups for s in g.slots] + [a.start for a in self.alternatives]
        if self.step != "time" or start not in offered:
            return
        ip, ua = self._who()
        try:
            held = await asyncio.to_thread(
                flow.place_hold, self._org_id, self.location.id, self.service.id, self._provider_id,
                datetime.fromisoformat(start), self.location.time_zone, self._hold_id, ip, ua)
        except Taken as exc:
            self._hold_id = None
            return self._offer_taken(exc.alternatives)
        except RateLimited as exc:  # too many slots held from this network: nothing was held
            self.taken, self.alternatives = exc.message, []
            return
        shown = [s for g in self.slot_groups for s in g.slots] + self.alternatives
        picked = next((s for s in shown if s.start == start), SlotCard())
        self._hold_id, self.slot, self.held_until = held.hold_id, picked, held.until
        self.provider_name = self._provider_names().get(held.provider_id, self.provider_name)
        self.taken, self.alternatives, self.step = "", [], "details"
        checkout = await self.get_state(CheckoutState)
        checkout.card_error, checkout.terms = "", held.terms
        return self._push()

    @rx.event
    async def go_back(self):
        """The page's Back button: the browser's Back when this flow put an entry before this
        one in the history (load then moves one step back), else one step back in place."""
        if self.step not in STEPS[1:-1] or (self.step == "service" and len(self.locations) < 2):
            return None
        if self._nav > 0:
            return rx.call_script("window.history.back()")
        await self._back_to(STEPS[STEPS.index(self.step) - 1])
        return rx.redirect(self._url(self.step), replace=True)


class CheckoutState(BookingState):
    """The details and payment steps and the confirmation (a substate: reads and moves the
    flow's step, slot and hold of BookingState)."""

    stripe_key: str = ""
    hold_minutes: int = 10
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    errors: dict[str, str] = {}
    card_error: str = ""
    busy: bool = False
    confirmation: Confirmation = rx.field(default_factory=Confirmation)
    terms: str = ""  # the held visit's cancellation / no-show terms (shown before the card is saved)

    # ---------------------------------------------------------------- details and payment

    @rx.event
    async def save_details(self, form: Any):
        if self.step != "details" or not self.slot.start:
            return
        values = [form_text(form, f, 254 if f == "email" else 80) for f in CLIENT_FIELDS]
        self.first_name, self.last_name, self.email, self.phone = values
        self.errors = await asyncio.to_thread(flow.check_client, *values, self.location.country)
        if self.errors:
            return
        if self.service.deposit == flow.NO_DEPOSIT and not self.location.card_required:  # book straight away, no card
            self.busy = True
            yield
            yield await self._submit(None, None)
            return
        self.card_error, self.step = "", "payment"
        yield self._push()

    @rx.event
    def mount_stripe(self):
        """on_mount of the Stripe card box: load the helper and mount Stripe Elements into it."""
        if self.stripe_key:
            return rx.call_script(f"{_STRIPE_JS} window.medspaStripe.mount({json.dumps(self.stripe_key)})")

    async def _submit(self, card: CardDetails | None, payment_method_id: str | None):
        ip, ua = self._who()
        sub = flow.Submission(self._org_id, self.location, self.service.id, self.service.name, self._provider_id,
                              self._provider_names(), datetime.fromisoformat(self.slot.start), self._hold_id,
                              ClientInput(self.first_name, self.last_name, self.email, self.phone), card,
                              payment_method_id, ip, ua, self._slug)
        try:
            out = await asyncio.to_thread(flow.submit, sub)
        finally:
            self.busy = False
        if out.confirmation:
            self.confirmation, self._hold_id, self.step = out.confirmation, None, "done"
            return self._push()
        elif out.taken is not None:
            self._hold_id, self.slot = None, SlotCard()
            return self._offer_taken(out.taken)
        elif out.errors:
            self.errors = out.errors
            if set(out.errors) & set(CLIENT_FIELDS) and self.step != "details":
                self.step = "details"
                return rx.redirect(self._url(self.step), replace=True)
        elif out.client_secret:
            return rx.call_script(f"{_STRIPE_JS} window.medspaStripe.handleAction({json.dumps(out.client_secret)})",
                                  callback=CheckoutState.stripe_action_done)
        else:
            self.card_error = out.card_error
            if out.released:  # the domain gave the slot back; a retry holds it again if still free
                self._hold_id, self.held_until = None, ""

    @rx.event
    async def pay(self, form: Any):
        """Test payments: the card as typed (validated by the domain, never kept in the state)."""
        if self.step != "payment" or self.stripe_key or self.busy or not self.slot.start:
            return
        self.errors, self.card_error, self.busy = {}, "", True
        yield
        month, year = form_text(form, "exp_month", 4), form_text(form, "exp_year", 4)
        card = CardDetails(form_text(form, "card_number", 30), ascii_int(month) or 0, ascii_int(year) or 0,
                           form_text(form, "cvc", 4))
        yield await self._submit(card, None)

    @rx.event
    def pay_stripe(self, form: Any = None):
        """Stripe: let Stripe.js turn the card into a PaymentMethod, then pay_with_method."""
        if self.step != "payment" or not self.stripe_key or self.busy:
            return
        name = json.dumps(f"{self.first_name} {self.last_name}")
        return rx.call_script(f"window.medspaStripe.createPaymentMethod({name}, {json.dumps(self.email)})",
                              callback=CheckoutState.pay_with_method)

    @rx.event
    async def pay_with_method(self, result: Any):
        if self.step != "payment" or not self.stripe_key or self.busy or not isinstance(result, dict):
            return
        pm = result.get("payment_method_id")
        if not (isinstance(pm, str) and pm.startswith("pm_") and len(pm) < 100):
            self.card_error = str(result.get("error") or "Your card details were not accepted.")[:200]
            return
        self.errors, self.card_error, self.busy = {}, "", True
        yield
        yield await self._submit(None, pm)

    @rx.event
    async def stripe_action_done(self, result: Any):
        """After 3-D Secure: the webhook confirms the booking; wait for it (up to ~20 s)."""
        if self.step != "payment" or not self._hold_id:
            return
        if isinstance(result, dict) and result.get("error"):
            self.card_error = str(result["error"])[:200]
            return
        for _ in range(20):
            status, conf = await asyncio.to_thread(flow.booking_outcome, self._org_id, self._hold_id,
                                                   self.service.name, self._provider_names(), self.location,
                                                   self._slug)
            if status != "pending":
                break
            await asyncio.sleep(1)
        if status == "confirmed" and conf is not None:
            self.confirmation, self._hold_id, self.step = conf, None, "done"
            return self._push()
        else:
            kept = f" Your time is held until {self.held_until}; try another card." if self.held_until else ""
            self.card_error = (f"Your bank did not approve the payment.{kept}" if status == "failed"
                               else "We are still waiting for your bank. Please check your email shortly.")
