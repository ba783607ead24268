"""Offering a freed time to the waitlist, in the order the entries joined.

`offer_freed_time` is the matching the job runs after a time freed over [lo, hi) at a location
(waitlist.trigger). The open entries (waiting or offered) whose dates cover that span are
taken by joined_at (then id); for each, the free starts of its service (its provider, or
anyone) that overlap the freed span, fit wholly inside its local time-of-day window, keep the
service's online rules (minimum notice, horizon: availability.find_slots) and were never
offered to it (the unique key entry + slot start) are its candidates. Then by the location's
mode (Location.waitlist_mode, models.OfferMode):

- one_at_a_time: the first candidate is HELD for the entry's client for
  Location.waitlist_hold_minutes (scheduling.service.hold_slot, the booking page's own hold),
  never past the time's online booking deadline (its start less the service's notice:
  booking_deadline; a time bookable online for less than MIN_HOLD_MINUTES more is offered to
  nobody), and offered; the held time is no longer free, so the next entry gets another freed start
  or nothing. An entry whose offer still holds a time is skipped. When the hold lapses (hold
  expiry) or is given back, trigger.visit_freed lapses the offer and matches the time again:
  the next entry in line gets it (the first was offered it already, so never twice).
- all_at_once: every matching entry is offered its first candidate with no hold; the first to
  book wins (the occupancy exclusion constraint decides; the others see the nearest times).

Each offer is one email and, with a phone, one SMS in the outbox (kind waitlist_offer) with the
link `{base_url}/book/{slug}/offer/{token}` that opens the booking page on that time (the hold,
if any, is the client's to pay the deposit for). Matchings of one location are serialised by
a transaction-scoped advisory lock; running one twice offers nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, text
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.messaging.service import add_new_messages, templated_messages
from medspa.domain.messaging.templates import client_context, visit_variables
from medspa.domain.practice.models import Location, Organization, StaffMember
from medspa.domain.scheduling.availability import MAX_RANGE_DAYS, Slot, find_slots
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.scheduling.references import new_booking_token
from medspa.domain.scheduling.service import SlotTaken, hold_slot
from medspa.domain.timezones import format_clinic_clock, format_clinic_time, zone_abbreviation
from medspa.domain.waitlist.entries import close_past_entries
from medspa.domain.waitlist.models import (MIN_HOLD_MINUTES, OPEN_ENTRY_STATUSES, EntryStatus, OfferMode, OfferStatus,
                                           WaitlistEntry, WaitlistOffer)


@dataclass(frozen=True)
class MadeOffer:
    """One offer made: entry, client, the time (aware UTC) and provider, the mode, the hold
    keeping it (None: all at once) and until when (aware UTC, None without a hold)."""

    offer_id: int
    entry_id: int
    client_id: int
    slot_start: datetime
    provider_id: int
    mode: str
    hold_appointment_id: int | None
    expires_at: datetime | None


def offer_url(slug: str, token: str, base_url: str = "") -> str:
    """The offer's link: `{base_url}/book/{slug}/offer/{token}` (the one place that builds it)."""
    return f"{base_url.rstrip('/')}/book/{slug}/offer/{token}"


def _lock_location(session: Session, org_id: int, location_id: int) -> None:
    session.execute(text("select pg_advisory_xact_lock(hashtext(:key))"),
                    {"key": f"waitlist-{org_id}-{location_id}"})


def open_entries(session: Session, location: Location, lo: datetime, hi: datetime) -> list[WaitlistEntry]:
    """The open entries at `location` whose local dates meet those of [lo, hi), in the order
    they joined (joined_at, then id), locked FOR UPDATE."""
    tz = ZoneInfo(location.time_zone)
    first, last = lo.astimezone(tz).date(), (hi - timedelta(microseconds=1)).astimezone(tz).date()
    return list(session.exec(select(WaitlistEntry).where(
        WaitlistEntry.location_id == location.id, WaitlistEntry.status.in_(OPEN_ENTRY_STATUSES),
        WaitlistEntry.first_day <= last, WaitlistEntry.last_day >= first)
        .order_by(WaitlistEntry.joined_at, WaitlistEntry.id).with_for_update()))


def fits_window(entry: WaitlistEntry, slot: Slot, tz: ZoneInfo) -> bool:
    """Whether the visit `slot` (service time) lies on one local date of the entry's range and
    wholly inside its time-of-day window [window_start, window_end) (local wall clock)."""
    start, end = slot.start.astimezone(tz), slot.end.astimezone(tz)
    return (end.date() == start.date() and entry.first_day <= start.date() <= entry.last_day
            and start.time() >= entry.window_start and end.time() <= entry.window_end)


def candidates(session: Session, actor: Actor, entry: WaitlistEntry, location: Location, *, lo: datetime,
               hi: datetime, provider_id: int | None, now: datetime) -> list[Slot]:
    """The entry's free starts overlapping the freed span [lo, hi) (of `provider_id` when
    given), inside its window and dates, never offered to it before, that can still be booked
    online for at least MIN_HOLD_MINUTES (booking_deadline), earliest first."""
    tz = ZoneInfo(location.time_zone)
    first = max(entry.first_day, lo.astimezone(tz).date(), now.astimezone(tz).date())
    last = min(entry.last_day, (hi - timedelta(microseconds=1)).astimezone(tz).date(),
               first + timedelta(days=MAX_RANGE_DAYS - 1))
    if last < first:
        return []
    try:
        slots = find_slots(session, actor, location_id=location.id, service_id=entry.service_id, start_date=first,
                           end_date=last, now=now, provider_id=entry.provider_id)
    except (NotFound, ValidationFailed):  # the service or provider was withdrawn meanwhile
        return []
    offered = set(session.exec(select(WaitlistOffer.slot_start).where(WaitlistOffer.entry_id == entry.id)))
    service = session.get(Service, entry.service_id)
    return [s for s in slots if s.start < hi and s.end > lo and (provider_id is None or s.provider_id == provider_id)
            and fits_window(entry, s, tz) and s.start not in offered
            and booking_deadline(service, s.start) >= now + timedelta(minutes=MIN_HOLD_MINUTES)]


def booking_deadline(service: Service, start: datetime) -> datetime:
    """The last instant (aware UTC) `start` of `service` can be booked online: the start less the
    service's minimum notice (the rule availability.find_slots applies with apply_notice)."""
    return start - timedelta(minutes=service.min_notice_minutes)


def _holds_a_time(session: Session, entry: WaitlistEntry, now: datetime) -> bool:
    """Whether an open offer of the entry still holds its time (one at a time)."""
    return session.exec(select(func.count()).select_from(WaitlistOffer).join(
        Appointment, Appointment.id == WaitlistOffer.hold_appointment_id).where(
        WaitlistOffer.entry_id == entry.id, WaitlistOffer.status == OfferStatus.OPEN,
        Appointment.status == AppointmentStatus.HELD, Appointment.hold_expires_at > now)).one() > 0


def _hold(session: Session, actor: Actor, entry: WaitlistEntry, location: Location, slots: list[Slot],
          now: datetime) -> tuple[Slot, Appointment] | None:
    """Hold the first of `slots` that can still be held for the entry's client, for the
    location's hold minutes but never past the time's online booking deadline (the start less
    the service's notice: booking_deadline), so an unused hold leaves the time bookable and the
    next in line is offered it; whole minutes, so it ends at or before the deadline."""
    service = session.get(Service, entry.service_id)
    for slot in slots:
        minutes = min(location.waitlist_hold_minutes,
                      int((booking_deadline(service, slot.start) - now).total_seconds() // 60))
        if minutes < MIN_HOLD_MINUTES:
            continue
        try:
            with session.begin_nested():
                appt = hold_slot(session, actor, location_id=location.id, service_id=entry.service_id,
                                 start_at=slot.start, now=now, provider_id=slot.provider_id,
                                 client_id=entry.client_id, hold_minutes=minutes, online=True)
            return slot, appt
        except (SlotTaken, ValidationFailed, NotFound):  # taken meanwhile, or the client is busy then
            continue
    return None


def _record_offer(session: Session, actor: Actor, entry: WaitlistEntry, slot: Slot, mode: str,
                  hold: Appointment | None, now: datetime) -> WaitlistOffer:
    offer = WaitlistOffer(org_id=entry.org_id, entry_id=entry.id, slot_start=slot.start, slot_end=slot.end,
                          provider_id=slot.provider_id, mode=mode, token=new_booking_token(),
                          hold_appointment_id=hold.id if hold else None, offered_at=now,
                          expires_at=hold.hold_expires_at if hold else None)
    session.add(offer)
    entry.status = EntryStatus.OFFERED
    session.add(entry)
    session.flush()
    record(session, actor, "waitlist.offer", "waitlist_entry", entry.id, client_id=entry.client_id, at=now,
           start=slot.start.isoformat(), provider_id=slot.provider_id, mode=mode,
           hold_id=hold.id if hold else None)
    return offer


def hold_end_words(offer: WaitlistOffer, time_zone: str) -> str:
    """When the offer's hold ends, as its messages say it (the real expiry, offer.expires_at):
    "1:30 PM EDT" on the day the offer was made, with the date and zone on a later day ("Thu,
    Jul 2, 2026, 1:00 PM EDT (America/New_York)"); "" without a hold (all at once)."""
    if offer.expires_at is None:
        return ""
    tz = ZoneInfo(time_zone)
    if offer.expires_at.astimezone(tz).date() == offer.offered_at.astimezone(tz).date():
        return f"{format_clinic_clock(offer.expires_at, time_zone)} {zone_abbreviation(offer.expires_at, tz)}"
    return format_clinic_time(offer.expires_at, time_zone)


def queue_offer_messages(session: Session, entry: WaitlistEntry, offer: WaitlistOffer, *,
                         base_url: str) -> list[OutboxMessage]:
    """The offer's email and (with a phone) SMS (dedupe keys waitlist-offer-email-<offer id>,
    -sms-): service, provider, clinic time with the zone named, how long it is held (or that
    others were told too), and the link. Nothing for a client who cannot be reached."""
    client = session.get(Client, entry.client_id)
    if client is None or not (client.email or client.phone_e164):
        return []
    location, service = session.get(Location, entry.location_id), session.get(Service, entry.service_id)
    org, provider = session.get(Organization, entry.org_id), session.get(StaffMember, offer.provider_id)
    until = hold_end_words(offer, location.time_zone)
    if until:
        terms = f"We are holding it for you until {until}; after that it goes to the next person waiting."
    else:
        terms = "Others on the waitlist were told too: the first to book gets it."
    hold = session.get(Appointment, offer.hold_appointment_id) if offer.hold_appointment_id else None

    def context_of(channel: str) -> dict:
        context = client_context(org, client, channel=channel)
        context["visit"] = visit_variables(org, location, service, provider, offer.slot_start, channel=channel)
        return context

    messages = templated_messages(
        session, hold, client, kind="waitlist_offer", key="waitlist-offer", dedupe=f"waitlist-offer-{{channel}}-{offer.id}",
        context_of=context_of, service_id=entry.service_id, org_id=entry.org_id, appointment_id=offer.hold_appointment_id,
        created_at=offer.offered_at,
        extra={"offer": {"link": offer_url(org.slug, offer.token, base_url), "held_until": until, "terms": terms}})
    return add_new_messages(session, messages)


def offer_freed_time(session: Session, actor: Actor, *, location_id: int, lo: datetime, hi: datetime,
                     provider_id: int | None, now: datetime, base_url: str = "") -> list[MadeOffer]:
    """Offer the time freed over [lo, hi) at `location_id` (provider_id: whose; None: anyone's)
    to the matching entries in the order they joined, by the location's mode (see the module),
    with their messages. Returns the offers made (none twice for one entry and start).
    The caller commits."""
    actor.require("waitlist.manage")
    _lock_location(session, actor.org_id, location_id)
    location = session.get(Location, location_id)
    if location is None:
        return []
    close_past_entries(session, location, now=now)  # nobody waits past their last day
    mode = OfferMode(location.waitlist_mode)
    made: list[MadeOffer] = []
    for entry in open_entries(session, location, lo, hi):
        if mode == OfferMode.ONE_AT_A_TIME and _holds_a_time(session, entry, now):
            continue
        slots = candidates(session, actor, entry, location, lo=lo, hi=hi, provider_id=provider_id, now=now)
        if not slots:
            continue
        held = _hold(session, actor, entry, location, slots, now) if mode == OfferMode.ONE_AT_A_TIME else (slots[0], None)
        if held is None:
            continue
        slot, hold = held
        offer = _record_offer(session, actor, entry, slot, mode, hold, now)
        queue_offer_messages(session, entry, offer, base_url=base_url)
        made.append(MadeOffer(offer.id, entry.id, entry.client_id, slot.start, slot.provider_id, mode,
                              offer.hold_appointment_id, offer.expires_at))
    return made
