"""Waitlist entries: a client's wish added from the public booking page or by the desk, the
desk's list per day, closing one, and closing the entry a booking fulfils.

Rules (issue 16 §3; where the issue was silent, chosen here):
- dates: from today (the location's) up to the online booking horizon, last >= first;
- window: local wall-clock [start, end), end after start, at least the service's length;
- the service must be offered at the location, the provider (if named) must perform it there;
- one open entry per client, location, service and provider: joining again updates its dates,
  window and note and keeps its place in line (the public page never tells whether an email
  was on the list already);
- a booking (online or at the desk) of the client for the entry's service and location that
  fits its dates and window closes it as booked (close_fulfilled);
- an entry that closes (desk, booked, past its last day) ends its open offers and gives their
  holds back at once, so the next in line is offered the time (end_offers);
- an entry past its last day (the location's today) is closed when the desk's list, the
  matching job or a join at its location reads the entries (close_past_entries), rather than
  filtered out in each query: the status stays the one truth every reader goes by, and a
  client who joins again gets a new place in line, not the stale entry's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.catalog.service import providers_for
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import ClientInput, clinic_region, find_or_create_client
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location, StaffMember
from medspa.domain.scheduling.availability import ONLINE_HORIZON_DAYS, has_money_on_hold
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.references import format_display_code
from medspa.domain.scheduling.service import release_hold
from medspa.domain.timezones import format_clinic_time
from medspa.domain.waitlist.models import (OPEN_ENTRY_STATUSES, EntrySource, EntryStatus, OfferStatus, WaitlistEntry,
                                           WaitlistOffer)

MAX_NOTE = 300


@dataclass(frozen=True)
class WishInput:
    """What a client wishes: location, service, provider (None: anyone), local dates first..last
    (both inclusive), local window [window_start, window_end), a note (desk)."""

    location_id: int
    service_id: int
    provider_id: int | None
    first_day: date
    last_day: date
    window_start: time
    window_end: time
    note: str = ""


def validate_wish(session: Session, wish: WishInput, now: datetime) -> tuple[Location, Service]:
    """The wish's location and service, or ValidationFailed (field -> message: first_day,
    last_day, window_end, provider, note) / NotFound (location, service)."""
    location = session.get(Location, wish.location_id)
    service = session.get(Service, wish.service_id)
    if location is None:
        raise NotFound("location")
    if service is None or not service.active:
        raise NotFound("service")
    errors: dict[str, str] = {}
    today = now.astimezone(ZoneInfo(location.time_zone)).date()
    if wish.first_day < today:
        errors["first_day"] = "Pick today or a later date"
    if wish.last_day < wish.first_day:
        errors["last_day"] = "The last day cannot be before the first"
    elif wish.last_day > today + timedelta(days=ONLINE_HORIZON_DAYS):
        errors["last_day"] = "Pick a date within the next year"
    start = datetime.combine(today, wish.window_start)
    if wish.window_end <= wish.window_start:
        errors["window_end"] = "The latest time must be after the earliest"
    elif datetime.combine(today, wish.window_end) - start < timedelta(minutes=service.duration_minutes):
        errors["window_end"] = f"Leave at least {service.duration_minutes} minutes for the visit"
    staff = {p.id for p in providers_for(session, service.id, location.id)}
    if not staff:
        raise NotFound("service")
    if wish.provider_id is not None and wish.provider_id not in staff:
        errors["provider"] = "Choose someone who offers this treatment here"
    if len(wish.note) > MAX_NOTE or "\x00" in wish.note:
        errors["note"] = f"Keep the note under {MAX_NOTE} characters"
    if errors:
        raise ValidationFailed(errors)
    return location, service


def add_entry(session: Session, actor: Actor, client_id: int, wish: WishInput, *, source: str,
              now: datetime) -> WaitlistEntry:
    """Put client `client_id` on the waitlist (audited waitlist.join), or update their open
    entry for the same location, service and provider (it keeps its place). The desk needs
    waitlist.manage, the public page appointment.book_online. Raises ValidationFailed, NotFound,
    PermissionDenied. The caller commits."""
    actor.require("waitlist.manage" if source == EntrySource.DESK else "appointment.book_online")
    location, _ = validate_wish(session, wish, now)
    if session.get(Client, client_id) is None:
        raise NotFound("client")
    close_past_entries(session, location, now=now)  # a stale entry is never reused: no old place in line
    entry = session.exec(select(WaitlistEntry).where(
        WaitlistEntry.client_id == client_id, WaitlistEntry.location_id == wish.location_id,
        WaitlistEntry.service_id == wish.service_id, WaitlistEntry.provider_id == wish.provider_id
        if wish.provider_id is not None else WaitlistEntry.provider_id.is_(None),
        WaitlistEntry.status.in_(OPEN_ENTRY_STATUSES)).with_for_update()).first()
    if entry is None:
        entry = WaitlistEntry(org_id=actor.org_id, client_id=client_id, location_id=wish.location_id,
                              service_id=wish.service_id, provider_id=wish.provider_id, joined_at=now,
                              source=EntrySource(source).value, first_day=wish.first_day, last_day=wish.last_day,
                              window_start=wish.window_start, window_end=wish.window_end)
    entry.first_day, entry.last_day = wish.first_day, wish.last_day
    entry.window_start, entry.window_end, entry.note = wish.window_start, wish.window_end, wish.note.strip()
    session.add(entry)
    session.flush()
    record(session, actor, "waitlist.join", "waitlist_entry", entry.id, client_id=client_id, at=now,
           source=source, service_id=wish.service_id, provider_id=wish.provider_id,
           days=f"{wish.first_day}..{wish.last_day}", window=f"{wish.window_start:%H:%M}-{wish.window_end:%H:%M}")
    return entry


def join_as_client(session: Session, actor: Actor, person: ClientInput, wish: WishInput, *, source: str,
                   now: datetime) -> WaitlistEntry:
    """find_or_create_client as online booking does (public: email and phone required, an
    existing record never overwritten; desk: a name and an email or a phone), then add_entry."""
    validate_wish(session, wish, now)  # the wish's own errors first, before a client is written
    public = source == EntrySource.PUBLIC
    if not public and not (person.email.strip() or person.phone.strip()):
        raise ValidationFailed({"email": "Give an email or a mobile number to send the offer to"})
    client = find_or_create_client(session, actor, person, region=clinic_region(session, actor.org_id),
                                   require_contact=public, now=now)
    return add_entry(session, actor, client.id, wish, source=source, now=now)


def add_for_client(session: Session, actor: Actor, client_id: int, wish: WishInput, *,
                   now: datetime) -> WaitlistEntry:
    """The desk puts an existing client (found with the client search) on the waitlist: the
    wish checked first, then the client, who must have an email or a mobile number for the
    offer to reach them (ValidationFailed {"client": ...}); then add_entry (source desk).
    Raises ValidationFailed, NotFound (client, location, service), PermissionDenied."""
    actor.require("waitlist.manage")
    validate_wish(session, wish, now)
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound("client")
    if not (client.email or client.phone_e164):
        raise ValidationFailed({"client": "This client has no email or mobile number to send the offer to: "
                                          "add one on their profile first"})
    return add_entry(session, actor, client.id, wish, source=EntrySource.DESK, now=now)


def _lock_offer_holds(session: Session, entry_ids: list[int] | Select) -> None:
    """Lock (FOR UPDATE, by id) the holds of the open offers of `entry_ids` (a list or a
    subquery) BEFORE the entries: the order the booking and the hold expiry take (appointment,
    then entry), so closing an entry never deadlocks with them."""
    session.exec(select(Appointment.id).join(WaitlistOffer, WaitlistOffer.hold_appointment_id == Appointment.id)
                 .where(WaitlistOffer.entry_id.in_(entry_ids), WaitlistOffer.status == OfferStatus.OPEN)
                 .order_by(Appointment.id).with_for_update(of=Appointment)).all()


def end_offers(session: Session, actor: Actor, entry: WaitlistEntry, *, now: datetime, reason: str,
               booked: Appointment | None = None) -> None:
    """The closed entry's open offers end: the one `booked` fulfils (its hold is `booked`, or
    the same start and provider) becomes booked, the others gone, and each
    other hold is given back at once (scheduling.service.release_hold, audited with `reason`;
    its visit_freed defers the matching, so the next in line is offered the time in this
    transaction's wake). A hold with money on it (a deposit pending or paid: the client is
    paying through the link now) is left to the payment's answer or reconciliation
    (availability.money_on_hold). The caller has locked the holds first (_lock_offer_holds)."""
    offers = list(session.exec(select(WaitlistOffer).where(WaitlistOffer.entry_id == entry.id,
                                                           WaitlistOffer.status == OfferStatus.OPEN)))
    for offer in offers:
        used = booked is not None and (offer.hold_appointment_id == booked.id or (
            (offer.slot_start, offer.provider_id) == (booked.start_at, booked.provider_id)))
        offer.status = OfferStatus.BOOKED if used else OfferStatus.GONE
        session.add(offer)
    session.flush()  # visit_freed (in release_hold) sees these offers ended: the entry is not made to wait again
    for offer in offers:
        if offer.status == OfferStatus.GONE and offer.hold_appointment_id is not None \
                and not has_money_on_hold(session, offer.hold_appointment_id):
            release_hold(session, actor, offer.hold_appointment_id, now=now, reason=reason)


def close_entry(session: Session, actor: Actor, entry_id: int, *, now: datetime, reason: str = "") -> WaitlistEntry:
    """The desk takes an entry off the list (waitlist.manage; audited). Its open offers end and
    their holds are given back to the next in line at once (end_offers). Raises NotFound,
    PermissionDenied. The caller commits."""
    actor.require("waitlist.manage")
    _lock_offer_holds(session, [entry_id])
    entry = session.exec(select(WaitlistEntry).where(WaitlistEntry.id == entry_id).with_for_update()).first()
    if entry is None:
        raise NotFound("waitlist entry")
    if entry.status in OPEN_ENTRY_STATUSES:
        entry.status, entry.closed_at = EntryStatus.CLOSED, now
        session.add(entry)
        end_offers(session, actor, entry, now=now, reason="waitlist entry closed")
        record(session, actor, "waitlist.close", "waitlist_entry", entry.id, client_id=entry.client_id, at=now,
               reason=reason[:200])
    return entry


def close_past_entries(session: Session, location: Location, *, now: datetime) -> list[int]:
    """Close (status closed, audited waitlist.close "past its last day" by the system actor
    "waitlist") the open entries at `location` whose last day is before the location's today,
    with their offers (end_offers). Called where entries are read to be shown or matched (the
    desk's list, the matching job, a join that may reuse an entry), so an entry never shows or
    keeps its place in line as waiting after its dates. Returns the ids closed. The caller commits."""
    today = now.astimezone(ZoneInfo(location.time_zone)).date()
    stale = (select(WaitlistEntry.id).where(WaitlistEntry.location_id == location.id, WaitlistEntry.last_day < today,
                                            WaitlistEntry.status.in_(OPEN_ENTRY_STATUSES)))
    if not session.exec(stale.limit(1)).first():
        return []  # the common case: one indexed query
    actor = Actor.system(location.org_id, "waitlist")
    _lock_offer_holds(session, stale)
    closed = []
    for entry in session.exec(select(WaitlistEntry).where(WaitlistEntry.id.in_(stale))
                              .order_by(WaitlistEntry.id).with_for_update()):
        entry.status, entry.closed_at = EntryStatus.CLOSED, now
        session.add(entry)
        end_offers(session, actor, entry, now=now, reason="waitlist entry past its last day")
        record(session, actor, "waitlist.close", "waitlist_entry", entry.id, client_id=entry.client_id, at=now,
               reason="past its last day")
        closed.append(entry.id)
    session.flush()
    return closed


def close_fulfilled(session: Session, actor: Actor, appointment: Appointment, now: datetime) -> list[int]:
    """A confirmed booking of `appointment`'s client closes their open entries it fulfils (same
    location and service, any or the same provider, inside their dates and window) as booked;
    their offers end (end_offers): the one of this visit booked, the others gone with their
    holds given back to the next in line. Called in the booking's transaction (online:
    booking.finalize_paid_booking; desk: desk.book_for_client). Returns the entry ids closed."""
    if appointment.client_id is None:
        return []
    location = session.get(Location, appointment.location_id)
    tz = ZoneInfo(location.time_zone)
    start, end = appointment.start_at.astimezone(tz), appointment.end_at.astimezone(tz)
    mine = select(WaitlistEntry.id).where(
        WaitlistEntry.client_id == appointment.client_id, WaitlistEntry.location_id == appointment.location_id,
        WaitlistEntry.service_id == appointment.service_id, WaitlistEntry.status.in_(OPEN_ENTRY_STATUSES))
    _lock_offer_holds(session, mine)
    entries = session.exec(select(WaitlistEntry).where(WaitlistEntry.id.in_(mine))
                           .order_by(WaitlistEntry.id).with_for_update()).all()
    closed = []
    for entry in entries:
        fits = (entry.provider_id in (None, appointment.provider_id) and end.date() == start.date()
                and entry.first_day <= start.date() <= entry.last_day
                and entry.window_start <= start.time() and end.time() <= entry.window_end)
        if not fits:
            continue
        entry.status, entry.closed_at, entry.booked_appointment_id = EntryStatus.BOOKED, now, appointment.id
        session.add(entry)
        end_offers(session, actor, entry, now=now, reason="waitlist entry booked elsewhere", booked=appointment)
        record(session, actor, "waitlist.booked", "waitlist_entry", entry.id, client_id=entry.client_id, at=now,
               appointment_id=appointment.id)
        closed.append(entry.id)
    session.flush()
    return closed


@dataclass(frozen=True)
class EntryRow:
    """An entry as the desk's list shows it: client name and contact, service, provider ("Anyone"),
    dates and window (local), joined (aware UTC), status, source, the latest offer's time (aware
    UTC, None) and status ("")."""

    id: int
    client_id: int
    client_name: str
    contact: str
    service: str
    provider: str
    first_day: date
    last_day: date
    window_start: time
    window_end: time
    joined_at: datetime
    status: str
    source: str
    note: str
    last_offer_at: datetime | None
    last_offer_status: str
    outcome: str = ""


def _outcome(session: Session, entry: WaitlistEntry, offer: WaitlistOffer | None, location: Location) -> str:
    """What became of a booked or closed entry, in words (clinic time): "Booked Tue, Dec 15,
    2026, 10:00 AM EST (America/New_York) with Aisha Okafor · ref K7M2-Q9XD · through the
    offer", "Taken off the list Sun, Dec 6, 2026, 3:10 PM EST (...)", "Ended after its last
    day"; "" for an open entry."""
    tz = location.time_zone
    if entry.status == EntryStatus.BOOKED:
        visit = session.get(Appointment, entry.booked_appointment_id) if entry.booked_appointment_id else None
        if visit is None:
            return "Booked"
        staff = session.get(StaffMember, visit.provider_id)
        how = " · through the offer" if offer is not None and offer.status == OfferStatus.BOOKED else ""
        gone = " · since cancelled" if visit.status == "cancelled" else ""
        return (f"Booked {format_clinic_time(visit.start_at, tz)} with {staff.display_name if staff else 'staff'} "
                f"· ref {format_display_code(visit.display_code)}{how}{gone}")
    if entry.status == EntryStatus.CLOSED:
        closed = entry.closed_at
        if closed is not None and closed.astimezone(ZoneInfo(tz)).date() > entry.last_day:
            return "Ended after its last day"
        return "Taken off the list" + (f" {format_clinic_time(closed, tz)}" if closed else "")
    return ""


def entries_for_day(session: Session, actor: Actor, location_id: int, day: date, *,
                    include_closed: bool = False) -> list[EntryRow]:
    """The entries at `location_id` whose dates cover local date `day`, in the order they are
    offered (joined_at, id); open ones only unless include_closed (then booked and closed ones
    too, each with its `outcome` in words: the desk keeps a trace of what the waitlist did).
    Needs waitlist.manage; the list is audited (client.list with the ids shown: it names clients)."""
    actor.require("waitlist.manage")
    stmt = (select(WaitlistEntry, Client, Service, StaffMember)
            .join(Client, Client.id == WaitlistEntry.client_id).join(Service, Service.id == WaitlistEntry.service_id)
            .outerjoin(StaffMember, StaffMember.id == WaitlistEntry.provider_id)
            .where(WaitlistEntry.location_id == location_id, WaitlistEntry.first_day <= day,
                   WaitlistEntry.last_day >= day)
            .order_by(WaitlistEntry.joined_at, WaitlistEntry.id))
    if not include_closed:
        stmt = stmt.where(WaitlistEntry.status.in_(OPEN_ENTRY_STATUSES))
    rows = []
    location = session.get(Location, location_id)
    for entry, client, service, staff in session.exec(stmt):
        offer = session.exec(select(WaitlistOffer).where(WaitlistOffer.entry_id == entry.id)
                             .order_by(WaitlistOffer.offered_at.desc(), WaitlistOffer.id.desc())).first()
        rows.append(EntryRow(entry.id, client.id, f"{client.first_name} {client.last_name}".strip(),
                             client.email or client.phone_e164 or "", service.name,
                             staff.display_name if staff else "Anyone", entry.first_day, entry.last_day,
                             entry.window_start, entry.window_end, entry.joined_at, entry.status, entry.source,
                             entry.note, offer.slot_start if offer else None, offer.status if offer else "",
                             _outcome(session, entry, offer, location) if location else ""))
    if rows:
        record(session, actor, "client.list", "waitlist", location_id, ids=[r.client_id for r in rows][:200],
               day=day.isoformat())
    return rows
