"""What the public booking page asks of the domain, as small UI-sized results.

Plain synchronous Python (no Reflex): BookingState calls ONE function here per event, in a
worker thread (asyncio.to_thread), and keeps only what these functions return. Each function
calls ONE action of medspa.domain.scheduling.actions.online (the same actions as /api/v1) and turns
its frozen result into the cards the page shows; nothing here opens a session or writes SQL,
and nothing returned carries contact or health data.

Every function takes ids the state already validated against what it showed the browser;
the domain re-checks them inside the clinic (row-level security, NotFound).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_timezone_name

from medspa.clock import app_clock
from medspa.domain.clients.service import ClientInput, validate_client_input
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.money import format_money
from medspa.domain.payments.gateway import CardDetails
from medspa.domain.payments.stripe_gateway import GatewayUnavailable
from medspa.domain.phones import example_mobile, national_phone
from medspa.domain.ratelimits import RateLimited
from medspa.domain.practice.service import SLUG_RE
from medspa.domain.scheduling.availability import Slot
from medspa.domain.scheduling.booking import ActionRequired, CardDeclined, OnlineBooking
from medspa.domain.scheduling.models import AppointmentStatus
from medspa.domain.scheduling.actions.online import (
    BookedVisit,
    LocationInfo,
    do_book_online,
    do_hold_slot,
    do_release_hold,
    fetch_availability,
    fetch_clinic,
    fetch_hold_outcome,
    fetch_next_available,
    fetch_providers,
    fetch_services,
    public_actor,
)
from medspa.domain.scheduling.actions.online import hold_minutes as _hold_minutes
from medspa.domain.scheduling.service import SlotTaken
from medspa.domain.scheduling.references import calendar_url, manage_url
from medspa.domain.timezones import format_clinic_clock, format_clinic_time, zone_abbreviation
from medspa.settings import get_settings

DAYS_SHOWN = 14


# ---------------------------------------------------------------- shapes the page shows


NO_DEPOSIT = "No deposit"  # the service card's deposit label when nothing is charged online

@dataclass
class LocationCard:
    """A location as the booking page shows it: id, name, address, IANA time zone, phone in
    national format with its tel: link ("" none) and the cancellation rule in one sentence;
    country: the clinic's (ISO 3166 alpha-2), the region of the client's phone typed without
    +country, and phone_example a mobile number of it for the form's placeholder."""

    id: int = 0
    name: str = ""
    address: str = ""
    time_zone: str = ""
    phone: str = ""
    phone_href: str = ""
    policy: str = ""
    country: str = "US"
    phone_example: str = "(201) 555-0123"
    card_required: bool = False  # a card on file is saved at booking, deposit or not (issue 16)


@dataclass
class ServiceCard:
    """A treatment as the booking page shows it: duration, price and deposit as display text."""

    id: int = 0
    name: str = ""
    description: str = ""
    duration: str = ""
    price: str = ""
    deposit: str = ""


@dataclass
class CategoryCard:
    """A service category and its treatment cards."""

    name: str = ""
    services: list[ServiceCard] = field(default_factory=list)


@dataclass
class ProviderCard:
    """A provider as the booking page shows it: public name, title and initials."""

    id: int = 0
    name: str = ""
    title: str = ""
    initials: str = ""


@dataclass
class DayCard:
    """One local date of the day strip: ISO date, labels, and whether it has a free time."""

    iso: str = ""
    weekday: str = ""
    day: str = ""
    month: str = ""
    label: str = ""
    open: bool = False


@dataclass
class SlotCard:
    """One free start time: the UTC instant the browser sends back and its clinic-time labels."""

    start: str = ""  # UTC ISO instant: the value the browser sends back
    label: str = ""  # "10:00 AM EDT"
    day: str = ""  # "Fri, Jul 3"
    long_label: str = ""  # "Fri, Jul 3, 2026, 10:00 AM EDT (America/New_York)"


@dataclass
class SlotGroup:
    """The free times of one part of the day, in clinic time."""

    name: str = ""  # Morning | Afternoon | Evening (clinic time)
    slots: list[SlotCard] = field(default_factory=list)


@dataclass
class Confirmation:
    """What the done step shows of a booking: reference, visit labels in clinic time, deposit text, status."""

    reference: str = ""
    service: str = ""
    provider: str = ""
    when: str = ""
    location: str = ""
    address: str = ""
    deposit: str = ""
    status: str = ""
    balance: str = ""  # due at the visit: price - deposit ("$300.00")
    policy: str = ""  # the cancellation rule it was booked under, one sentence
    manage_url: str = ""  # /book/<slug>/manage/<token> (the token, never the code)
    calendar_url: str = ""  # the .ics download, by the token


@dataclass
class Clinic:
    """The clinic a booking URL names: its org id, name, location cards, currency and logo URL
    ("" without a logo)."""

    org_id: int
    name: str
    locations: list[LocationCard]
    currency: str
    logo_url: str = ""


@dataclass
class Held:
    """A slot held for the visitor: hold id, provider, until when, its terms (policy.visit_terms)."""

    hold_id: int
    provider_id: int
    until: str  # "12:10 PM EDT"
    terms: str = ""


class Taken(Exception):
    """The wanted time is gone; `alternatives` are the nearest free ones."""

    def __init__(self, alternatives: list[SlotCard]):
        super().__init__("taken")
        self.alternatives = alternatives


@dataclass
class Outcome:
    """What a submit produced: exactly one of the fields is meaningful.

    confirmation: booked. errors: field -> message. taken: alternatives (nothing charged).
    card_error: decline / gateway message. client_secret: 3-D Secure to complete in the page.
    """

    confirmation: Confirmation | None = None
    errors: dict[str, str] = field(default_factory=dict)
    taken: list[SlotCard] | None = None
    card_error: str = ""
    client_secret: str = ""
    released: bool = False  # the hold was given back (e.g. it ran out): a retry must hold again


# ---------------------------------------------------------------- helpers


def _actor(org_id: int, ip: str = "", user_agent: str = ""):
    return public_actor(org_id, ip, user_agent)


def _duration(minutes: int) -> str:
    hours, mins = divmod(minutes, 60)
    if not hours:
        return f"{mins} min"
    return f"{hours} h {mins} min" if mins else f"{hours} h"


def slot_card(slot_start: datetime, time_zone: str) -> SlotCard:
    """The SlotCard of `slot_start` (an aware instant), labelled in `time_zone` (IANA)."""
    tz = ZoneInfo(time_zone)
    return SlotCard(
        start=slot_start.astimezone(ZoneInfo("UTC")).isoformat(),
        label=f"{format_clinic_clock(slot_start, time_zone)} {zone_abbreviation(slot_start, tz)}",
        day=format_date(slot_start.astimezone(tz).date(), "EEE, MMM d", locale="en_US"),
        long_label=format_clinic_time(slot_start, time_zone),
    )


def _unique_starts(slots: list[Slot]) -> list[datetime]:
    return sorted({s.start for s in slots})


def stripe_publishable_key() -> str:
    """The Stripe publishable key when Stripe is this deployment's gateway, else ""."""
    settings = get_settings()
    if settings.stripe_secret_key and settings.stripe_publishable_key:
        return settings.stripe_publishable_key
    return ""


def hold_minutes() -> int:
    """How long a hold lasts, in minutes (the actions' one reading of HOLD_MINUTES)."""
    return _hold_minutes()


def zone_note(time_zone: str, location: str) -> str:
    """"Times are Eastern Time (EDT) at Main." for the location's zone at the app's now."""
    tz = ZoneInfo(time_zone)
    now = app_clock().now()
    return f"Times are {get_timezone_name(tz, locale='en_US')} ({zone_abbreviation(now, tz)}) at {location}."


# ---------------------------------------------------------------- reads


def load_clinic(slug: str, ip: str = "", user_agent: str = "") -> Clinic | None:
    """The clinic named by the URL slug and its locations; None when there is no such clinic."""
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        return None
    try:
        clinic = fetch_clinic(slug, ip=ip, user_agent=user_agent)
    except (NotFound, PermissionDenied):
        return None
    return Clinic(clinic.org_id, clinic.name, [location_card(l, clinic.country) for l in clinic.locations],
                  clinic.currency, clinic.logo_url)


def location_card(loc: LocationInfo, country: str = "US") -> LocationCard:
    """The booking page's card of a public location: its phone in national format with a tel:
    link (E.164), its cancellation rule sentence, and the clinic's country for client phones."""
    return LocationCard(loc.id, loc.name, loc.address, loc.time_zone,
                        national_phone(loc.phone) if loc.phone else "", f"tel:{loc.phone}" if loc.phone else "",
                        loc.policy, country, example_mobile(country) or "(201) 555-0123", loc.card_required)


def load_services(org_id: int, location_id: int) -> tuple[list[CategoryCard], list[int]]:
    """Online-bookable services at the location, grouped by category, and their ids."""
    rows = fetch_services(_actor(org_id), location_id)
    groups: dict[str, CategoryCard] = {}
    for r in rows:
        deposit = f"{format_money(r.deposit_cents, r.currency)} deposit" if r.deposit_cents else NO_DEPOSIT
        groups.setdefault(r.category, CategoryCard(r.category)).services.append(
            ServiceCard(r.id, r.name, r.description, _duration(r.duration_minutes),
                        format_money(r.price_cents, r.currency), deposit))
    return list(groups.values()), [r.id for r in rows]


def load_providers(org_id: int, location_id: int, service_id: int) -> list[ProviderCard]:
    """Who performs the service at the location (public fields only)."""
    try:
        staff = fetch_providers(_actor(org_id), location_id, service_id)
    except NotFound:  # withdrawn since the menu was shown
        return []
    return [ProviderCard(p.id, p.display_name, p.title,
                         "".join(w[0] for w in p.display_name.split()[:2]).upper())
            for p in staff]


@dataclass
class DayStrip:
    """The day strip of the time step: up to DAYS_SHOWN local dates from `days[0]`, each marked
    open when it has a free time, and the way past a strip with none.

    next_day / next_label: the first free date after the strip when the strip has none ("" when
    it has some, or when nothing is free up to the service's last bookable day); can_earlier /
    can_later: whether the strip can move (today .. last bookable day); empty_note: the
    waitlist box's sentence when nothing is free from the strip's start to the last bookable day."""

    days: list[DayCard] = field(default_factory=list)
    can_earlier: bool = False
    can_later: bool = False
    next_day: str = ""
    next_label: str = ""
    empty_note: str = ""


def day_card(d: date, is_open: bool) -> DayCard:
    """The DayCard of local date `d` (labels in English), marked open when it has a free time
    (the booking page's and the manage page's day strips)."""
    return DayCard(d.isoformat(), format_date(d, "EEE", locale="en_US"), str(d.day),
                   format_date(d, "MMM", locale="en_US"), format_date(d, "EEEE, MMMM d", locale="en_US"),
                   is_open)


def group_starts(starts: list[datetime], time_zone: str) -> list[SlotGroup]:
    """Free starts (aware instants, sorted) as SlotCards grouped into morning, afternoon and
    evening by the clinic's wall clock in `time_zone` (before noon, before 5 pm, later)."""
    tz = ZoneInfo(time_zone)
    groups: dict[str, SlotGroup] = {}
    for start in starts:
        hour = start.astimezone(tz).hour
        name = "Morning" if hour < 12 else "Afternoon" if hour < 17 else "Evening"
        groups.setdefault(name, SlotGroup(name)).slots.append(slot_card(start, time_zone))
    return list(groups.values())


def load_strip(org_id: int, location_id: int, service_id: int, provider_id: int | None, time_zone: str,
               start: date | None = None) -> DayStrip:
    """DAYS_SHOWN local dates from `start` (None: today at the location; kept within today .. the
    service's last bookable day, max_advance_days or the online horizon), each marked open when
    it has a free time. A strip with no free time names the next available date after it
    (scheduling.availability.next_available_day), or says that nothing is free up to the last
    bookable day. A withdrawn service or provider gives an empty strip that says so."""
    clock = app_clock()
    actor = _actor(org_id)
    tz = ZoneInfo(time_zone)
    today = clock.now().astimezone(tz).date()
    start = max(start or today, today)
    try:
        found = fetch_next_available(actor, location_id, service_id, start, provider_id, clock=clock)
        last = found.last_day
        start = min(start, max(last, today))
        end = max(start, min(start + timedelta(days=DAYS_SHOWN - 1), last))
        if found.day is not None and found.day <= end:
            slots = fetch_availability(actor, location_id, service_id, start, end, provider_id, clock=clock).slots
        else:
            slots = ()
    except (NotFound, ValidationFailed):
        return DayStrip(empty_note="This treatment can no longer be booked online.")
    open_days = {sl.start.astimezone(tz).date() for sl in slots}
    strip = DayStrip([day_card(start + timedelta(days=i), start + timedelta(days=i) in open_days)
                      for i in range((end - start).days + 1)],
                     can_earlier=start > today, can_later=end < last)
    if not open_days and found.day is not None:
        strip.next_day = found.day.isoformat()
        strip.next_label = format_date(found.day, "EEE d MMM", locale="en_US")
    elif found.day is None:
        ahead = (last - today).days
        strip.empty_note = (f"Nothing free in the next {ahead} days." if start == today else
                            f"Nothing free from {format_date(start, 'EEE d MMM', locale='en_US')} "
                            f"to {format_date(last, 'EEE d MMM', locale='en_US')}.")
    return strip


def load_slots(org_id: int, location_id: int, service_id: int, provider_id: int | None, day: date,
               time_zone: str) -> list[SlotGroup]:
    """Free start times on one local date (one per start time, also for "anyone"), grouped
    into morning, afternoon and evening by the clinic's wall clock."""
    found = fetch_availability(_actor(org_id), location_id, service_id, day, day, provider_id,
                               clock=app_clock())
    return group_starts(_unique_starts(list(found.slots)), time_zone)


# ---------------------------------------------------------------- writes


def release(org_id: int, hold_id: int | None, reason: str = "client left the slot") -> None:
    """Give a held slot back (no-op when it is already confirmed or gone)."""
    do_release_hold(_actor(org_id), hold_id, reason=reason, clock=app_clock())


def place_hold(org_id: int, location_id: int, service_id: int, provider_id: int | None, start: datetime,
               time_zone: str, previous_hold_id: int | None, ip: str, user_agent: str) -> Held:
    """Release the visitor's previous hold, then hold `start` (committed). Raises Taken."""
    try:
        held = do_hold_slot(_actor(org_id, ip, user_agent), location_id, service_id, start, provider_id,
                            previous_hold_id=previous_hold_id, clock=app_clock())
    except SlotTaken as exc:
        raise Taken([slot_card(a.start, time_zone) for a in exc.alternatives]) from exc
    except NotFound as exc:  # provider or service withdrawn meanwhile
        raise Taken([]) from exc
    expires = held.hold_expires_at
    tz = ZoneInfo(time_zone)
    until = f"{format_clinic_clock(expires, time_zone)} {zone_abbreviation(expires, tz)}" if expires else ""
    return Held(held.hold_id, held.provider_id, until, held.terms)



def check_client(first_name: str, last_name: str, email: str, phone: str, region: str = "US") -> dict[str, str]:
    """Field messages for the client details ({} when they are fine); region: the clinic's
    country, for a phone typed without +country."""
    try:
        validate_client_input(ClientInput(first_name, last_name, email, phone), region=region)
    except ValidationFailed as exc:
        return dict(exc.fields)
    return {}


def _confirmation(visit: BookedVisit, service: str, provider: str, location: LocationCard,
                  slug: str) -> Confirmation:
    return Confirmation(visit.reference, service, provider, format_clinic_time(visit.start_at, location.time_zone),
                        location.name, location.address,
                        format_money(visit.deposit_cents, visit.currency) if visit.deposit_cents else NO_DEPOSIT,
                        visit.status, format_money(visit.balance_cents, visit.currency), visit.policy or location.policy,
                        manage_url(slug, visit.token), calendar_url(slug, visit.token))


@dataclass
class Submission:
    """Everything a submit needs; built by the state from values it validated."""

    org_id: int
    location: LocationCard
    service_id: int
    service_name: str
    provider_id: int | None
    provider_names: dict[int, str]
    start: datetime
    hold_id: int | None
    client: ClientInput
    card: CardDetails | None = None
    payment_method_id: str | None = None
    ip: str = ""
    user_agent: str = ""
    slug: str = ""  # the clinic's URL slug, for the confirmation's links


def decline_words(exc: CardDeclined, time_zone: str) -> str:
    """The card field's message after a decline: the gateway's words and, while the client
    keeps the time, until when ("Your card was declined. Your time is held until 10:42 AM; try
    another card.")."""
    said = (exc.message or "Your card was declined.").strip()
    if exc.held_until is None:
        return said
    said = said if said.endswith((".", "!", "?")) else f"{said}."
    return f"{said} Your time is held until {format_clinic_clock(exc.held_until, time_zone)}; try another card."


def submit(sub: Submission) -> Outcome:
    """Book the held slot and take the deposit (medspa.domain.scheduling.actions.online.do_book_online)."""
    clock = app_clock()
    req = OnlineBooking(location_id=sub.location.id, service_id=sub.service_id, start_at=sub.start,
                        client=sub.client, provider_id=sub.provider_id, card=sub.card,
                        payment_method_id=sub.payment_method_id, hold_id=sub.hold_id)
    try:
        visit = do_book_online(_actor(sub.org_id, sub.ip, sub.user_agent), req, clock=clock)
    except ValidationFailed as exc:
        return Outcome(errors=dict(exc.fields))
    except SlotTaken as exc:
        return Outcome(taken=[slot_card(a.start, sub.location.time_zone) for a in exc.alternatives])
    except CardDeclined as exc:
        return Outcome(card_error=decline_words(exc, sub.location.time_zone), released=exc.held_until is None)
    except ActionRequired as exc:
        if exc.gateway != "stripe":
            # the offline gateway cannot run 3-D Secure: give the slot back, ask for another card
            release(sub.org_id, exc.appointment_id, "3-D Secure not available with test payments")
            return Outcome(card_error="This card needs extra verification, which test payments cannot do. "
                                      "Use 4242 4242 4242 4242.", released=True)
        return Outcome(client_secret=exc.client_secret)
    except NotFound:
        return Outcome(card_error="This booking is no longer available. Please start again.", released=True)
    except GatewayUnavailable as exc:  # Stripe did not answer: the hold stays, a retry is safe
        return Outcome(card_error=exc.message)
    except RateLimited as exc:  # nothing was written; the hold stays
        return Outcome(card_error=exc.message)
    return Outcome(confirmation=_confirmation(visit, sub.service_name, sub.provider_names.get(visit.provider_id, ""),
                                              sub.location, sub.slug))


def booking_outcome(org_id: int, hold_id: int, service: str, provider_names: dict[int, str],
                    location: LocationCard, slug: str = "") -> tuple[str, Confirmation | None]:
    """After 3-D Secure: ("confirmed", confirmation), ("pending", None) or ("failed", None)."""
    visit = fetch_hold_outcome(_actor(org_id), hold_id)
    if visit.status == AppointmentStatus.CONFIRMED:
        return "confirmed", _confirmation(visit, service, provider_names.get(visit.provider_id, ""), location, slug)
    return ("pending", None) if visit.status == AppointmentStatus.HELD else ("failed", None)
