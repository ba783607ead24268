"""Actions of online booking: the public booking page and the JSON API `/api/v1` call these
and nothing below them, so both hold and book the same way (issue "One way in").

Every action opens its own unit of work (`medspa.domain.work.atomic`), returns small frozen
dataclasses (never ORM rows, never contact or health data) and takes keyword-only
`clock`/`engine` (tests pass theirs; entry points pass nothing) and, where money moves,
`gateway` (None: this deployment's, from `payments.factory.gateway_of`).

The actor is `Actor.public(org_id, ...)` for a visitor (see `public_actor`) and
`Actor.system(...)` for the hold-expiry job. How long a hold lasts is read in one place,
`hold_minutes()`, by both `do_hold_slot` and `do_book_online`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError

from medspa.clock import Clock, app_clock
from medspa.db import set_session_org
from medspa.domain.catalog.models import Service
from medspa.domain.catalog.service import get_service, list_services, providers_for
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.payments.factory import gateway_of
from medspa.domain.payments.gateway import CardDetails, PaymentGateway
from medspa.domain.messaging.attachments import booking_invite
from medspa.domain.practice.models import Location, Organization, StaffMember
from medspa.domain.practice.profile import logo_url
from medspa.domain.practice.service import get_location, list_locations, organization_by_slug
from medspa.domain.ratelimits import network_key, hit
from medspa.domain.scheduling.abuse import HoldCaps, refuse_excess_holds
from medspa.domain.scheduling.availability import (
    NextAvailable,
    Slot,
    find_slots,
    has_money_on_hold,
    last_deposit_declined,
    next_available_day,
)
from medspa.domain.scheduling.availability_cache import AVAILABILITY, AvailabilityCache
from medspa.domain.scheduling.booking import OnlineBooking, book_online, lapsed_hold_ids, organization_ids
from medspa.domain.scheduling.models import AppointmentStatus
from medspa.domain.scheduling.policy import location_terms, visit_terms
from medspa.domain.scheduling.references import format_display_code
from medspa.domain.scheduling.service import (
    SlotTaken,
    appointment_by_token,
    get_appointment,
    hold_slot,
    release_hold,
)
from medspa.domain.work import atomic, engine_of, now_of
from medspa.settings import get_settings


UnstorableValue = DataError
"""Raised by any action for a value PostgreSQL cannot store (NUL byte, out-of-range number
or date): the caller's input. Named here so entry points can map it without SQLAlchemy."""


class SlotTakenAt(SlotTaken):
    """SlotTaken from an action that knows the location: `time_zone` (IANA) to show the
    `alternatives` (UTC Slots) in."""

    def __init__(self, alternatives: list[Slot], time_zone: str):
        super().__init__(alternatives)
        self.time_zone = time_zone


def hold_minutes() -> int:
    """How long an online hold lasts, in minutes (Settings.hold_minutes, env HOLD_MINUTES):
    the one place this is read, for the page and the API alike."""
    return get_settings().hold_minutes


def public_actor(org_id: int, ip: str = "", user_agent: str = "") -> Actor:
    """The anonymous visitor of clinic `org_id` (ip cut to 64, user agent to 300 characters)."""
    return Actor.public(org_id, ip=(ip or "")[:64], user_agent=(user_agent or "")[:300])


# ---------------------------------------------------------------- shapes


@dataclass(frozen=True)
class LocationInfo:
    """A location as the public sees it. time_zone: IANA name; phone: E.164 ("" none);
    policy: its cancellation / no-show terms before a treatment is chosen
    (scheduling.policy.location_terms)."""

    id: int
    name: str
    address: str
    time_zone: str
    cancellation_window_hours: int
    late_cancel_keeps_deposit: bool = True
    phone: str = ""
    policy: str = ""
    card_required: bool = False  # online booking saves a card on file (issue 16)


@dataclass(frozen=True)
class ClinicInfo:
    """A clinic named by its public slug, with its locations (by name); logo_url: its public
    logo's URL ("" without one)."""

    org_id: int
    name: str
    currency: str
    locations: tuple[LocationInfo, ...]
    logo_url: str = ""
    country: str = "US"  # ISO 3166 alpha-2: the region of phone numbers typed without +country


@dataclass(frozen=True)
class ServiceInfo:
    """A service bookable online; money in integer cents of `currency`."""

    id: int
    name: str
    category: str
    description: str
    duration_minutes: int
    price_cents: int
    deposit_cents: int
    currency: str


@dataclass(frozen=True)
class ProviderInfo:
    """A provider's public fields."""

    id: int
    display_name: str
    title: str


@dataclass(frozen=True)
class Availability:
    """Free slots (UTC instants, sorted) at a location, with the location (for its zone)."""

    location: LocationInfo
    slots: tuple[Slot, ...]


@dataclass(frozen=True)
class HoldInfo:
    """A committed hold: appointment id, the provider it landed on, when it lapses (UTC), and
    the cancellation / no-show terms it is booked under (scheduling.policy.visit_terms: what the
    card and details steps show before the card is saved)."""

    hold_id: int
    provider_id: int
    hold_expires_at: datetime | None
    terms: str = ""


@dataclass(frozen=True)
class BookedVisit:
    """A booking's public facts (also a booking looked up by its token). reference: the display
    code as people see it ("K7M2-Q9XD"); token: the unguessable key of the manage link and the
    API lookup. Instants are UTC; status is an AppointmentStatus value; service/location/provider
    are display names ("" when the caller did not ask for them)."""

    id: int
    reference: str
    token: str
    status: str
    start_at: datetime
    end_at: datetime
    provider_id: int
    deposit_cents: int
    currency: str
    service: str = ""
    location: str = ""
    time_zone: str = ""
    provider: str = ""
    price_cents: int = 0
    policy: str = ""  # the cancellation / no-show terms it was booked under (policy.visit_terms), "" unknown

    @property
    def balance_cents(self) -> int:
        """What is left to pay at the visit: price minus the deposit (integer cents, never below 0)."""
        return max(self.price_cents - self.deposit_cents, 0)


def _location_info(loc: Location) -> LocationInfo:
    return LocationInfo(loc.id, loc.name, loc.address or "", loc.time_zone, loc.cancellation_window_hours,
                        loc.late_cancel_keeps_deposit, loc.phone or "", location_terms(loc),
                        bool(loc.card_required))


def _service_info(svc: Service) -> ServiceInfo:
    return ServiceInfo(svc.id, svc.name, svc.category, svc.description or "", svc.duration_minutes,
                       svc.price_cents, svc.deposit_cents, svc.currency)


def _visit(appt, service: str = "", location: Location | None = None,
           provider: StaffMember | None = None) -> BookedVisit:
    return BookedVisit(appt.id, format_display_code(appt.display_code), appt.booking_token, str(appt.status),
                       appt.start_at, appt.end_at, appt.provider_id,
                       appt.deposit_cents, appt.currency, service, location.name if location else "",
                       location.time_zone if location else "", provider.display_name if provider else "",
                       appt.price_cents or 0, visit_terms(appt, location) if location else "")


# ---------------------------------------------------------------- reads


def fetch_clinic(slug: str, *, ip: str = "", user_agent: str = "", engine: Engine | None = None) -> ClinicInfo:
    """The clinic named by a public URL slug and its locations. Raises NotFound for a slug
    that is malformed (not a str, not lower-case letters, digits and dashes) or unknown."""
    if not isinstance(slug, str):
        raise NotFound("clinic")
    with atomic(None, engine=engine) as work:
        org = organization_by_slug(work.session, slug)
        org_id, name, currency, logo = org.id, org.name, org.currency, logo_url(org.slug, org.logo_version)
        country = (org.country or "US").upper()
    actor = public_actor(org_id, ip, user_agent)
    with atomic(org_id, engine=engine) as work:
        locations = tuple(_location_info(l) for l in list_locations(work.session, actor))
    return ClinicInfo(org_id, name, currency, locations, logo, country)


def fetch_location(actor: Actor, location_id: int, *, engine: Engine | None = None) -> LocationInfo:
    """One location of the actor's clinic. Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return _location_info(get_location(work.session, location_id))


def fetch_services(actor: Actor, location_id: int | None = None, *,
                   engine: Engine | None = None) -> list[ServiceInfo]:
    """Active services bookable online, by category and name (only those performed at
    `location_id` when given). Raises NotFound for an unknown location."""
    with atomic(actor.org_id, engine=engine) as work:
        if location_id is not None:
            get_location(work.session, location_id)
        return [_service_info(s) for s in list_services(work.session, actor, location_id, online_only=True)]


def fetch_providers(actor: Actor, location_id: int, service_id: int, *,
                    engine: Engine | None = None) -> list[ProviderInfo]:
    """Who performs `service_id` at `location_id` (public fields). Raises NotFound for an
    unknown location or an unknown/inactive service."""
    with atomic(actor.org_id, engine=engine) as work:
        get_location(work.session, location_id)
        get_service(work.session, service_id)
        return [ProviderInfo(p.id, p.display_name, p.title or "")
                for p in providers_for(work.session, service_id, location_id)]


def fetch_availability(actor: Actor, location_id: int, service_id: int, start_date: date, end_date: date,
                       provider_id: int | None = None, *, clock: Clock | None = None,
                       engine: Engine | None = None) -> Availability:
    """Bookable slots from start_date to end_date (inclusive, local dates at the location),
    minimum notice applied. Raises NotFound (location, service, provider), ValidationFailed
    (date range)."""
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        loc = _location_info(get_location(work.session, location_id))
        slots = find_slots(work.session, actor, location_id=location_id, service_id=service_id,
                           start_date=start_date, end_date=end_date, now=now, provider_id=provider_id)
    return Availability(loc, tuple(slots))


def fetch_clinic_availability(slug: str, location_id: int, service_id: int, start_date: date, end_date: date,
                              provider_id: int | None = None, *, ip: str = "", user_agent: str = "",
                              clock: Clock | None = None, engine: Engine | None = None,
                              cache: AvailabilityCache = AVAILABILITY) -> Availability:
    """fetch_availability for the clinic named by a public URL slug, in ONE transaction: the
    slug is resolved and the transaction scoped to its clinic before any tenant query (the
    API's availability route: no separate look-up of the clinic and its locations per
    request). While this worker's calendar listener runs, answers come from `cache`
    (scheduling.availability_cache: dropped by the calendar notifications; minimum notice
    re-applied to `now`). Raises NotFound (clinic as fetch_clinic, location, service,
    provider), ValidationFailed (date range)."""
    if not isinstance(slug, str):
        raise NotFound("clinic")
    now = now_of(clock)
    engine = engine_of(engine)
    org_id = cache.org_of(engine, slug)
    key = token = None
    if org_id is not None:
        public_actor(org_id, ip, user_agent).require("availability.read")
        key = (engine, org_id, location_id, service_id, provider_id, start_date, end_date)
        hit = cache.get(key, org_id, location_id, now)
        if hit is not None:
            loc, slots, notice = hit
            earliest = now + notice
            if slots and slots[0].start < earliest:  # sorted by start: some are now inside the notice
                slots = tuple(sl for sl in slots if sl.start >= earliest)
            return Availability(loc, slots)  # else the very tuple cached (the API reuses its JSON)
        token = cache.begin(org_id, location_id)  # before the first statement reads anything
    with atomic(None, engine=engine) as work:
        found_org = organization_by_slug(work.session, slug).id
        set_session_org(work.session, found_org)
        actor = public_actor(found_org, ip, user_agent)
        loc = _location_info(get_location(work.session, location_id))
        slots = tuple(find_slots(work.session, actor, location_id=location_id, service_id=service_id,
                                 start_date=start_date, end_date=end_date, now=now, provider_id=provider_id))
        notice = timedelta(minutes=get_service(work.session, service_id).min_notice_minutes)
    if key is not None and found_org == org_id:
        cache.put(key, org_id, location_id, token, now, (loc, slots, notice))
    else:
        cache.remember_org(engine, slug, found_org)
    return Availability(loc, slots)


def fetch_next_available(actor: Actor, location_id: int, service_id: int, from_day: date,
                         provider_id: int | None = None, until_day: date | None = None, *,
                         clock: Clock | None = None, engine: Engine | None = None) -> NextAvailable:
    """The first local date from `from_day` with a time a client may book online, and the
    last date the service may be booked (its max_advance_days, else the online horizon):
    availability.next_available_day, read in one transaction. until_day: stop earlier.
    Raises NotFound (location, service, provider), ValidationFailed (dates)."""
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        return next_available_day(work.session, actor, location_id=location_id, service_id=service_id,
                                  from_day=from_day, until_day=until_day, now=now, provider_id=provider_id)


def fetch_booking(actor: Actor, token: str, *, engine: Engine | None = None) -> BookedVisit:
    """A booking by its unguessable token (never by its display code), with service, location
    and provider names. Raises NotFound (also for a display code, holds and lapsed holds)."""
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        appt = appointment_by_token(s, token)
        return _visit(appt, s.get(Service, appt.service_id).name, s.get(Location, appt.location_id),
                      s.get(StaffMember, appt.provider_id))


DECLINED_OUTCOME = "declined"


CALENDAR_STATUSES = (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)


def fetch_booking_calendar(actor: Actor, token: str, *, engine: Engine | None = None) -> tuple[str, bytes]:
    """("booking-<code>.ics", the visit as iCalendar bytes) for a booking's unguessable token:
    the same object as the confirmation email's invite.ics (messaging.attachments.booking_invite,
    DTSTAMP its confirmation time): service, provider, location and reference, no client or
    health data. Raises NotFound (a display code, an unknown token, a hold, or a visit that
    is cancelled, expired or a no-show: nothing to put in a calendar)."""
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        appt = appointment_by_token(s, token)
        if appt.status not in CALENDAR_STATUSES:
            raise NotFound("booking")
        content = booking_invite(org=s.get(Organization, appt.org_id), appointment=appt,
                                 location=s.get(Location, appt.location_id), service=s.get(Service, appt.service_id),
                                 provider=s.get(StaffMember, appt.provider_id),
                                 stamp=appt.confirmed_at or appt.created_at)
        return f"booking-{appt.display_code}.ics", content


def fetch_hold_outcome(actor: Actor, hold_id: int, *, engine: Engine | None = None) -> BookedVisit:
    """The appointment a hold became (after 3-D Secure the webhook confirms it): status
    "held" while the payment is pending, "confirmed", or anything else when it failed:
    DECLINED_OUTCOME ("declined") while the hold stays for another card after its card was
    declined (no payment pending or succeeded, its last one declined or failed).
    Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        appt = get_appointment(work.session, hold_id)
        visit = _visit(appt, location=work.session.get(Location, appt.location_id))
        if visit.status == AppointmentStatus.HELD and last_deposit_declined(work.session, hold_id):
            visit = replace(visit, status=DECLINED_OUTCOME)
        return visit


# ---------------------------------------------------------------- changes


def do_release_hold(actor: Actor, hold_id: int | None, *, reason: str = "client left the slot",
                    clock: Clock | None = None, engine: Engine | None = None) -> None:
    """Give a held slot back (audit row appointment.release). A no-op for no id, an
    appointment no longer held, one that does not exist, or one with money on it (a pending
    or succeeded deposit: reconciliation confirms or refunds it, never a silent release)."""
    if not hold_id:
        return
    try:
        with atomic(actor.org_id, engine=engine) as work:
            if has_money_on_hold(work.session, hold_id):
                return
            release_hold(work.session, actor, hold_id, now=now_of(clock), reason=reason)
    except NotFound:
        pass


def hold_caps() -> HoldCaps:
    """Slots one IP address / one client email may hold at once while paying (Settings)."""
    settings = get_settings()
    return HoldCaps(settings.max_open_holds_per_ip, settings.max_open_holds_per_client)


def guard_online_booking(actor: Actor, *, email: str = "") -> None:
    """Count one anonymous booking request (issue 12) before anything is written: per IP and
    per email (Settings.limit_booking_per_ip / _per_email, moving windows,
    medspa.domain.ratelimits). Limits keyed by IP are skipped without one (internal callers).
    The slots held at once are capped in the hold's own transaction
    (scheduling.abuse.refuse_excess_holds). Raises RateLimited (429, Retry-After)."""
    settings = get_settings()
    org, email = str(actor.org_id), email.strip().lower()
    if actor.ip:
        hit(settings.limit_booking_per_ip, "booking-ip", org, network_key(actor.ip),
            message="Too many booking attempts from your network.")
    if email:
        hit(settings.limit_booking_per_email, "booking-email", org, email,
            message="Too many booking attempts for this email address.")


def do_hold_slot(actor: Actor, location_id: int, service_id: int, start_at: datetime,
                 provider_id: int | None = None, *, previous_hold_id: int | None = None,
                 clock: Clock | None = None, engine: Engine | None = None) -> HoldInfo:
    """Release the visitor's previous hold (if any), then hold `start_at` (aware instant)
    for hold_minutes() minutes, committed. provider_id None: anyone free.

    Raises SlotTaken (with the nearest alternatives), NotFound (service, location or
    provider withdrawn), ValidationFailed (naive instant), RateLimited (too many slots held
    from this network: guard_online_booking)."""
    do_release_hold(actor, previous_hold_id, reason="client picked another time", clock=clock, engine=engine)
    with atomic(actor.org_id, engine=engine) as work:
        refuse_excess_holds(work.session, actor, hold_caps(), email="", now=now_of(clock))
        appt = hold_slot(work.session, actor, location_id=location_id, service_id=service_id, start_at=start_at,
                         now=now_of(clock), provider_id=provider_id, hold_minutes=hold_minutes())
        return HoldInfo(appt.id, appt.provider_id, appt.hold_expires_at,
                        visit_terms(appt, work.session.get(Location, location_id)))


def fetch_hold_terms(actor: Actor, hold_id: int, *, engine: Engine | None = None) -> str:
    """The cancellation / no-show terms a hold (e.g. a waitlist offer's) is booked under
    (scheduling.policy.visit_terms). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        appt = get_appointment(work.session, hold_id)
        return visit_terms(appt, work.session.get(Location, appt.location_id))


def do_book_online(actor: Actor, req: OnlineBooking, *, clock: Clock | None = None, engine: Engine | None = None,
                   gateway: PaymentGateway | None = None) -> BookedVisit:
    """Book a slot and take its deposit (hold -> charge -> confirm, each step its own
    transaction; see medspa.domain.scheduling.booking). A new hold lasts hold_minutes().

    With the offline test gateway a missing card is read as a blank one (its fields are
    reported as invalid). Returns the confirmed visit. Raises ValidationFailed (fields),
    SlotTaken (alternatives; nothing kept charged), CardDeclined (hold released),
    ActionRequired (3-D Secure pending; `.gateway` names the gateway), NotFound,
    GatewayUnavailable (the hold stays; a retry is safe), RateLimited (guard_online_booking:
    nothing written).
    """
    clock = clock or app_clock()
    engine = engine_of(engine)
    guard_online_booking(actor, email=req.client.email)
    gateway = gateway_of(gateway, engine, clock)
    if req.card is None and gateway.name == "test":
        req = replace(req, card=CardDetails("", 0, 0, ""))
    location = fetch_location(actor, req.location_id, engine=engine)
    try:
        appt = book_online(engine, actor, req, gateway, clock, hold_minutes=hold_minutes(),
                           grace_seconds=get_settings().reconcile_grace_seconds, hold_caps=hold_caps())
    except SlotTaken as exc:
        raise SlotTakenAt(exc.alternatives, location.time_zone) from exc
    with atomic(actor.org_id, engine=engine) as work:  # the terms need the location's row (its fees)
        return _visit(appt, location=work.session.get(Location, appt.location_id))


@dataclass(frozen=True)
class ExpiredHold:
    """A hold the expiry sweep released: clinic and appointment id."""

    org_id: int
    appointment_id: int


def do_expire_lapsed_holds(*, clock: Clock | None = None, engine: Engine | None = None) -> list[ExpiredHold]:
    """Release every hold whose hold_expires_at <= now, in every clinic, through the domain
    (release_hold: occupancies released, appointment expired), except holds with money on
    them (a pending or succeeded deposit: reconciliation settles those), with one audit row
    `appointment.release` (actor system "hold expiry", reason "hold expired") per hold.
    One transaction per clinic. Returns the released holds."""
    now = now_of(clock)
    with atomic(None, engine=engine) as work:
        org_ids = organization_ids(work.session)
    released: list[ExpiredHold] = []
    for org_id in org_ids:
        actor = Actor.system(org_id, "hold expiry")
        with atomic(org_id, engine=engine) as work:
            lapsed = lapsed_hold_ids(work.session, now)
            for appointment_id in lapsed:
                release_hold(work.session, actor, appointment_id, now=now, reason="hold expired")
        released.extend(ExpiredHold(org_id, a) for a in lapsed)
    return released
