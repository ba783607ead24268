"""Use cases of the waitlist: the public page's join, the desk's list / add / close, the
location's offer mode, the job's matching, and the offer link the booking page opens.

Each opens one unit of work (domain.work.atomic), returns frozen dataclasses (never ORM rows)
and takes keyword-only `clock` / `engine` (tests pass theirs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import select

from medspa.clock import Clock
from medspa.domain.audit.service import record
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location, Organization
from medspa.domain.practice.service import list_locations
from medspa.domain.scheduling.actions.online import guard_online_booking
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.scheduling.references import format_display_code, is_booking_token, manage_url
from medspa.domain.timezones import format_clinic_time
from medspa.domain.waitlist.entries import (EntryRow, WishInput, add_for_client, close_entry, close_past_entries,
                                           entries_for_day, join_as_client)
from medspa.domain.waitlist.models import (HOLD_MINUTES_RANGE, EntrySource, EntryStatus, OfferMode, OfferStatus,
                                           WaitlistEntry, WaitlistOffer)
from medspa.domain.waitlist.offers import MadeOffer, offer_freed_time
from medspa.domain.work import atomic, now_of
from medspa.settings import get_settings

BOOKED_STATUSES = (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)


@dataclass(frozen=True)
class Joined:
    """An entry added (or updated: same client, location, service and provider)."""

    entry_id: int
    first_day: date
    last_day: date


def do_join_waitlist(actor: Actor, person: ClientInput, wish: WishInput, *, clock: Clock | None = None,
                     engine: Engine | None = None) -> Joined:
    """The public booking page: the visitor (public actor) joins the waitlist; the client is
    found or created as online booking does (email and phone required). Counted like a booking
    request (guard_online_booking). Raises ValidationFailed (field -> message), NotFound,
    RateLimited."""
    guard_online_booking(actor, email=person.email)
    with atomic(actor.org_id, engine=engine) as work:
        entry = join_as_client(work.session, actor, person, wish, source=EntrySource.PUBLIC, now=now_of(clock))
        return Joined(entry.id, entry.first_day, entry.last_day)


def do_add_to_waitlist(actor: Actor, person: ClientInput | None, wish: WishInput, *, client_id: int | None = None,
                       clock: Clock | None = None, engine: Engine | None = None) -> Joined:
    """The desk adds a wish for an existing client (`client_id`, picked with the client search;
    entries.add_for_client: they need an email or a mobile number) or for a new one (`person`:
    found by email or created, a name and an email or a phone). Raises ValidationFailed,
    NotFound, PermissionDenied (waitlist.manage)."""
    actor.require("waitlist.manage")
    with atomic(actor.org_id, engine=engine) as work:
        if client_id is not None:
            entry = add_for_client(work.session, actor, client_id, wish, now=now_of(clock))
        elif person is None:
            raise ValidationFailed({"client": "Find the client, or add a new one"})
        else:
            entry = join_as_client(work.session, actor, person, wish, source=EntrySource.DESK, now=now_of(clock))
        return Joined(entry.id, entry.first_day, entry.last_day)


def fetch_waitlist_day(actor: Actor, location_id: int, day: date, *, include_closed: bool = False,
                       clock: Clock | None = None, engine: Engine | None = None) -> list[EntryRow]:
    """The entries at a location covering local date `day`, in offer order (those past their
    last day closed first: entries.close_past_entries). Raises PermissionDenied
    (waitlist.manage), NotFound (location)."""
    actor.require("waitlist.manage")
    with atomic(actor.org_id, engine=engine) as work:
        location = work.session.get(Location, location_id)
        if location is None:
            raise NotFound("location")
        close_past_entries(work.session, location, now=now_of(clock))
        return entries_for_day(work.session, actor, location_id, day, include_closed=include_closed)


@dataclass(frozen=True)
class WaitlistDay:
    """The desk's waitlist page: the clinic's locations (id, name), the one shown with its IANA
    zone, the local day and its entries in offer order, booked and closed ones included (each
    with its outcome: the page lists them apart); mode: the location's offer mode."""

    locations: tuple[tuple[int, str], ...]
    location_id: int
    time_zone: str
    mode: str
    day: date
    rows: tuple[EntryRow, ...]


def fetch_waitlist_page(actor: Actor, location_id: int | None, day: date | None, *, clock: Clock | None = None,
                        engine: Engine | None = None) -> WaitlistDay:
    """The waitlist of `day` (None: today at the location) at `location_id` (None or unknown:
    the first by name); entries past their last day are closed first (entries.close_past_entries:
    the status is what every reader goes by). Raises PermissionDenied (waitlist.manage),
    LookupError (no location yet)."""
    actor.require("waitlist.manage")
    with atomic(actor.org_id, engine=engine) as work:
        locations = list_locations(work.session, actor)
        if not locations:
            raise LookupError("Add a location first (Settings, Locations).")
        loc = next((l for l in locations if l.id == location_id), locations[0])
        day = day or now_of(clock).astimezone(ZoneInfo(loc.time_zone)).date()
        close_past_entries(work.session, loc, now=now_of(clock))
        rows = entries_for_day(work.session, actor, loc.id, day, include_closed=True)
        return WaitlistDay(tuple((l.id, l.name) for l in locations), loc.id, loc.time_zone, loc.waitlist_mode, day,
                           tuple(rows))


def do_close_entry(actor: Actor, entry_id: int, *, clock: Clock | None = None, engine: Engine | None = None) -> str:
    """The desk takes an entry off the list; returns its status. Raises NotFound, PermissionDenied."""
    with atomic(actor.org_id, engine=engine) as work:
        return str(close_entry(work.session, actor, entry_id, now=now_of(clock)).status)


def do_offer_freed_time(org_id: int, location_id: int, lo: datetime, hi: datetime, provider_id: int | None = None,
                        *, clock: Clock | None = None, engine: Engine | None = None) -> list[MadeOffer]:
    """The job's matching (waitlist.offers.offer_freed_time) as the system actor "waitlist", one
    transaction: holds, offers, audit rows and the outbox messages commit together."""
    actor = Actor.system(org_id, "waitlist")
    with atomic(org_id, engine=engine) as work:
        return offer_freed_time(work.session, actor, location_id=location_id, lo=lo, hi=hi, provider_id=provider_id,
                                now=now_of(clock), base_url=get_settings().base_url)


@dataclass(frozen=True)
class WaitlistSetting:
    """A location's waitlist setting: mode (models.OfferMode value) and how long a "one at a
    time" offer holds the time, in minutes."""

    location_id: int
    name: str
    mode: str
    hold_minutes: int


def fetch_waitlist_settings(actor: Actor, *, engine: Engine | None = None) -> list[WaitlistSetting]:
    """Every location's waitlist setting, by name. Raises PermissionDenied (settings.write)."""
    actor.require("settings.write")
    with atomic(actor.org_id, engine=engine) as work:
        return [WaitlistSetting(l.id, l.name, l.waitlist_mode, l.waitlist_hold_minutes)
                for l in work.session.exec(select(Location).order_by(Location.name, Location.id))]


def do_set_waitlist_mode(actor: Actor, location_id: int, mode: str, hold_minutes: int, *,
                         clock: Clock | None = None, engine: Engine | None = None) -> WaitlistSetting:
    """Set how a freed time is offered at a location (audited old/new). Raises
    ValidationFailed ({"mode"|"hold_minutes": message}), NotFound, PermissionDenied (settings.write)."""
    actor.require("settings.write")
    errors = {}
    if mode not in tuple(OfferMode):
        errors["mode"] = "Choose one at a time or all at once"
    lo, hi = HOLD_MINUTES_RANGE
    if not isinstance(hold_minutes, int) or not lo <= hold_minutes <= hi:
        errors["hold_minutes"] = f"Hold a time between {lo} and {hi} minutes"
    if errors:
        raise ValidationFailed(errors)
    with atomic(actor.org_id, engine=engine) as work:
        loc = work.session.get(Location, location_id)
        if loc is None:
            raise NotFound("location")
        old = {"mode": loc.waitlist_mode, "hold_minutes": loc.waitlist_hold_minutes}
        loc.waitlist_mode, loc.waitlist_hold_minutes = mode, hold_minutes
        work.session.add(loc)
        record(work.session, actor, "location.waitlist", "location", loc.id, at=now_of(clock), old=old,
               new={"mode": mode, "hold_minutes": hold_minutes})
        return WaitlistSetting(loc.id, loc.name, mode, hold_minutes)


@dataclass(frozen=True)
class OfferLink:
    """What an offer link opens: the time (aware UTC) at a location with a service and provider,
    the hold still keeping it for the client (None: none, or lapsed: the page holds it afresh)
    and until when (aware UTC),
    and the client's details to fill the booking form with. usable: the offer is open and the
    entry not booked or closed. booked_*: the visit the entry was booked as (the offered time or
    another that fulfilled it: entries.close_fulfilled), when it is still on (not cancelled):
    its reference ("K7M2-Q9XD"), its time in words in clinic time and its manage link path
    (references.manage_url); "" otherwise, so a link opened again after booking says "You
    booked this time" rather than that the offer ended."""

    location_id: int
    service_id: int
    provider_id: int
    start_at: datetime
    hold_id: int | None
    held_until: datetime | None
    first_name: str
    last_name: str
    email: str
    phone: str
    usable: bool
    booked_reference: str = ""
    booked_when: str = ""
    booked_manage: str = ""


def fetch_offer(actor: Actor, token: str, *, clock: Clock | None = None, engine: Engine | None = None) -> OfferLink:
    """The offer of an unguessable link token (the client it was sent to holds it, like a manage
    link; audited waitlist.offer_open). Raises NotFound for anything else, and before the
    database is asked for anything without a token's shape (references.is_booking_token, the
    manage link's check: offer tokens are made by references.new_booking_token)."""
    if not is_booking_token(token):
        raise NotFound("offer")
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        offer = s.exec(select(WaitlistOffer).where(WaitlistOffer.token == token)).first()
        if offer is None:
            raise NotFound("offer")
        entry = s.get(WaitlistEntry, offer.entry_id)
        client = s.get(Client, entry.client_id)
        hold = s.get(Appointment, offer.hold_appointment_id) if offer.hold_appointment_id else None
        live = (hold is not None and hold.status == AppointmentStatus.HELD and hold.hold_expires_at is not None
                and hold.hold_expires_at > now)
        usable = offer.status == OfferStatus.OPEN and offer.slot_start > now
        record(s, actor, "waitlist.offer_open", "waitlist_entry", entry.id, client_id=client.id, at=now,
               offer_id=offer.id)
        booked = _booked_visit(s, entry)
        return OfferLink(entry.location_id, entry.service_id, offer.provider_id, offer.slot_start,
                         hold.id if live else None, hold.hold_expires_at if live else None, client.first_name, client.last_name, client.email or "",
                         client.phone_e164 or "", usable, *booked)


def _booked_visit(session, entry: WaitlistEntry) -> tuple[str, str, str]:
    """(reference, clinic time in words, manage link path) of the visit the entry was booked
    as, while it is on; ("", "", "") otherwise."""
    visit = session.get(Appointment, entry.booked_appointment_id) if entry.booked_appointment_id else None
    if entry.status != EntryStatus.BOOKED or visit is None or visit.status not in BOOKED_STATUSES:
        return "", "", ""
    location, org = session.get(Location, visit.location_id), session.get(Organization, visit.org_id)
    return (format_display_code(visit.display_code), format_clinic_time(visit.start_at, location.time_zone),
            manage_url(org.slug, visit.booking_token))
