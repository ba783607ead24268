""""Book again" from a client's profile: the next free time for the service of a past visit,
with the same provider at the same location, searched from now through the availability
search (scheduling.availability.find_slots, never a second search).

- Same provider first, over the next HORIZON_DAYS local days. A desk booking ignores the
  online limits (minimum notice, the service's max_advance_days), as the calendar's
  booking dialog does: staff may book further ahead than clients online.
- The provider no longer performs the service there (or has left), or has no time in the
  horizon: the next time with any provider who does, with a note saying why.
- The service or location is gone (inactive), or nobody has time: no offer, with the reason.
Reads only; the caller's action opens the transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlmodel import Session, select

from medspa.domain.catalog.models import Service
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location, StaffMember
from medspa.domain.scheduling.availability import Slot, find_slots
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.timezones import zone_abbreviation

HORIZON_DAYS = 60  # how far ahead "book again" looks (find_slots takes at most 62 days at a time)
NOT_A_VISIT = (AppointmentStatus.HELD.value, AppointmentStatus.EXPIRED.value)


@dataclass(frozen=True)
class RebookOffer:
    """The next free time for a past visit's service. source_id: the past visit (appointment
    id); start: aware UTC (None: no offer); provider_id/location_id/service_id: what a booking
    takes; label "Tue, Jul 21, 10:30 AM EDT with Nina" ("" without an offer); same_provider:
    the visit's own provider; note: why another provider or no time ("" when none needed);
    service and provider: the past visit's names (for the confirmation text)."""

    source_id: int
    service_id: int
    location_id: int
    service: str
    provider: str
    start: datetime | None = None
    provider_id: int | None = None
    label: str = ""
    same_provider: bool = True
    note: str = ""


def _when(start: datetime, time_zone: str) -> str:
    tz = ZoneInfo(time_zone)
    local = format_datetime(start.astimezone(tz), "EEE, MMM d, h:mm a", tzinfo=tz, locale="en_US")
    return f"{local} {zone_abbreviation(start, tz)}"


def client_visit(session: Session, client_id: int, appointment_id: int) -> Appointment:
    """The client's own visit `appointment_id` (not a hold nor an expired hold); NotFound for
    any other id: another client's visit, another clinic's, a made-up number."""
    if not isinstance(appointment_id, int) or isinstance(appointment_id, bool) or not 0 < appointment_id < 2**63:
        raise NotFound("appointment")
    appt = session.exec(select(Appointment).where(Appointment.id == appointment_id,
                                                  Appointment.client_id == client_id)).first()
    if appt is None or appt.status in NOT_A_VISIT:
        raise NotFound("appointment")
    return appt


def _first(session: Session, actor: Actor, appt: Appointment, now: datetime, tz: ZoneInfo,
           provider_id: int | None) -> Slot | None:
    """The first free slot from `now` (the search's start) over HORIZON_DAYS local days."""
    today = now.astimezone(tz).date()
    try:
        slots = find_slots(session, actor, location_id=appt.location_id, service_id=appt.service_id,
                           start_date=today, end_date=today + timedelta(days=HORIZON_DAYS), now=now,
                           provider_id=provider_id, apply_notice=False)
    except (NotFound, ValidationFailed):  # the provider no longer performs it here; the service or location gone
        return None
    return next((s for s in slots if s.start >= now), None)


def next_free_time(session: Session, actor: Actor, appt: Appointment, now: datetime, *,
                   after: datetime | None = None) -> RebookOffer:
    """The offer for booking `appt`'s service again (see the module text). `now` aware UTC;
    after: search from that instant instead of now (checkout: usual_interval after the visit).
    Raises PermissionDenied without availability.read."""
    actor.require("availability.read")
    now = max(now, after) if after is not None else now
    service = session.get(Service, appt.service_id)
    location = session.get(Location, appt.location_id)
    provider = session.get(StaffMember, appt.provider_id)
    name = provider.display_name if provider else "the provider"
    base = RebookOffer(appt.id, appt.service_id, appt.location_id, service.name if service else "", name)
    if service is None or not service.active or location is None:
        return replace(base, note=f"{base.service or 'This service'} is no longer offered at this location.")
    tz = ZoneInfo(location.time_zone)
    slot = _first(session, actor, appt, now, tz, appt.provider_id)
    if slot is not None:
        return replace(base, start=slot.start, provider_id=slot.provider_id,
                        label=f"{_when(slot.start, location.time_zone)} with {name}")
    note = f"{name} has no free time for {service.name} in the next {HORIZON_DAYS} days."
    slot = _first(session, actor, appt, now, tz, None)
    if slot is None:
        return replace(base, same_provider=False, note=f"No one has free time for {service.name} at "
                                                         f"{location.name} in the next {HORIZON_DAYS} days.")
    other = session.get(StaffMember, slot.provider_id)
    return replace(base, start=slot.start, provider_id=slot.provider_id, same_provider=False, note=note,
                    label=f"{_when(slot.start, location.time_zone)} with {other.display_name if other else 'staff'}")


def usual_location(session: Session, client_id: int) -> int | None:
    """The location of most of the client's visits (ties: the latest visit's), None without any."""
    rows = session.exec(select(Appointment.location_id).where(
        Appointment.client_id == client_id, Appointment.status.not_in(NOT_A_VISIT))
        .order_by(Appointment.start_at.desc())).all()
    if not rows:
        return None
    counts = Counter(rows)
    best = max(counts.values())
    return next(loc for loc in rows if counts[loc] == best)


def live_booking(session: Session, client_id: int, service_id: int, start: datetime) -> Appointment | None:
    """The client's live (held, confirmed, checked-in) visit of `service_id` starting at
    `start`, if one exists: a second press of "book again" finds the first booking."""
    live = (AppointmentStatus.HELD.value, AppointmentStatus.CONFIRMED.value, AppointmentStatus.CHECKED_IN.value)
    return session.exec(select(Appointment).where(
        Appointment.client_id == client_id, Appointment.service_id == service_id, Appointment.start_at == start,
        Appointment.status.in_(live))).first()


CHECKOUT_INTERVAL = timedelta(weeks=4)
"""How long after a visit the checkout offers the next one when the client has no history of
the service (a med spa's usual return for facials and peels; neuromodulators come back later,
which the client's own history then shows)."""


def usual_interval(session: Session, appt: Appointment) -> timedelta:
    """How long after `appt` its client usually comes back for its service: the gap between
    their two latest visits of it that were attended (checked in or completed) up to this
    one, rounded to whole weeks and kept within 1 to 26 weeks; CHECKOUT_INTERVAL without such
    a pair. Used by the checkout's next-visit offer (next_free_time's `after`)."""
    attended = (AppointmentStatus.COMPLETED.value, AppointmentStatus.CHECKED_IN.value)
    starts = session.exec(select(Appointment.start_at).where(
        Appointment.client_id == appt.client_id, Appointment.service_id == appt.service_id,
        Appointment.status.in_(attended), Appointment.start_at <= appt.start_at)
        .order_by(Appointment.start_at.desc()).limit(2)).all()
    if len(starts) < 2:
        return CHECKOUT_INTERVAL
    weeks = round((starts[0] - starts[1]).days / 7)
    return timedelta(weeks=min(26, max(1, weeks)))
