"""Use cases of "book again" on a client's profile (/clients/{id}), one transaction each.

- fetch_book_again: the next free time for one of the client's past visits (clients.rebook:
  same service and provider at the same location from now, else any provider) and the
  client's usual location (for the profile's "Book" link to the calendar). Reads only what
  the profile already showed (its read is the audited client.read), so it writes no row.
- fetch_booking_client: the name of the client the profile's "Book" button hands to the
  calendar (/calendar?client=<id>), so the booking dialog opens with that client picked.
  An audited client.read.
- do_book_again: book that time as a desk booking (scheduling.desk.book_for_client, the
  calendar dialog's booking: confirmed, no deposit, confirmation queued, audited). Pressing
  twice books once: a live visit of the same client, service and start is returned as it is.
Visit ids are checked against the client: another client's visit is NotFound.
`engine` is for tests (None: the app's engine); `now` defaults to the app clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.base import is_row_id
from medspa.domain.clients.rebook import (RebookOffer, client_visit, live_booking, next_free_time, usual_interval,
                                         usual_location)
from medspa.domain.clients.service import get_client
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.scheduling.desk import book_for_client
from medspa.domain.work import atomic, now_of


@dataclass(frozen=True)
class BookAgain:
    """The offer for one past visit (None when no visit was asked for) and the client's usual
    location id (None: no visits yet)."""

    offer: RebookOffer | None
    usual_location_id: int | None


@dataclass(frozen=True)
class Rebooked:
    """A "book again" booking: the appointment id, and already=True when this same booking
    existed (a second press), so nothing new was booked."""

    appointment_id: int
    already: bool = False


def fetch_book_again(actor: Actor, client_id: int, appointment_id: int | None, *, clock: Clock | None = None,
                     now: datetime | None = None, engine: Engine | None = None) -> BookAgain:
    """The next free time for the client's visit `appointment_id` (None: only the usual
    location). Raises PermissionDenied without appointment.book, NotFound for a visit that is
    not this client's (or a client that is not this clinic's)."""
    actor.require("appointment.book")
    at = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        offer = None
        if appointment_id is not None:
            offer = next_free_time(work.session, actor, client_visit(work.session, client_id, appointment_id), at)
        elif not isinstance(client_id, int) or isinstance(client_id, bool):
            raise NotFound("client")
        return BookAgain(offer, usual_location(work.session, client_id))


@dataclass(frozen=True)
class CheckoutRebook:
    """The next visit offered at checkout (issue 16): the checked-out visit's client and
    location, the next free time for its service from `weeks` weeks after the visit
    (clients.rebook.next_free_time after usual_interval). day: the location's local date of
    the offer's start, or, without an offer, of the instant the search started from: the day
    "Pick another time" opens the calendar on (trial finding 12)."""

    client_id: int
    location_id: int
    offer: RebookOffer
    weeks: int = 4
    day: date | None = None


def fetch_checkout_rebook(actor: Actor, appointment_id: int, *, clock: Clock | None = None,
                          now: datetime | None = None, engine: Engine | None = None) -> CheckoutRebook:
    """After checkout, the offer to book the visit's service again (the same search as the
    profile's "Book again"), from the client's usual interval after the visit
    (clients.rebook.usual_interval: their last two visits of it, else 4 weeks). Raises PermissionDenied without appointment.book, NotFound for an
    unknown visit or one without a client."""
    actor.require("appointment.book")
    at = now_of(clock, now)
    if not is_row_id(appointment_id):
        raise NotFound("appointment")
    with atomic(actor.org_id, engine=engine) as work:
        from medspa.domain.scheduling.models import Appointment

        appt = work.session.get(Appointment, appointment_id)
        if appt is None or appt.client_id is None:
            raise NotFound("appointment")
        visit = client_visit(work.session, appt.client_id, appointment_id)
        from medspa.domain.practice.models import Location

        gap = usual_interval(work.session, visit)
        offer = next_free_time(work.session, actor, visit, at, after=visit.start_at + gap)
        location = work.session.get(Location, appt.location_id)
        shown = offer.start or max(at, visit.start_at + gap)
        day = shown.astimezone(ZoneInfo(location.time_zone)).date() if location is not None else None
        return CheckoutRebook(appt.client_id, appt.location_id, offer, gap.days // 7, day)


def do_book_again(actor: Actor, client_id: int, appointment_id: int, *, start_at: datetime,
                  provider_id: int | None, clock: Clock | None = None, now: datetime | None = None,
                  engine: Engine | None = None, rebooked_from: bool = False) -> Rebooked:
    """Book the service of the client's past visit `appointment_id` at `start_at` (aware UTC)
    with `provider_id` at that visit's location (the offer fetch_book_again made);
    rebooked_from: the booking is that visit's rebooking (made at its checkout:
    appointment.rebooked_from_id, which the dashboard's rebooking rate counts). Raises
    NotFound (not this client's visit; forbidden), SlotTaken (taken meanwhile, with
    alternatives), ValidationFailed, PermissionDenied (no appointment.book)."""
    actor.require("appointment.book")
    at = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        visit = client_visit(work.session, client_id, appointment_id)
        existing = live_booking(work.session, client_id, visit.service_id, start_at)
        if existing is not None:
            return Rebooked(existing.id, already=True)
        appt = book_for_client(work.session, actor, location_id=visit.location_id, service_id=visit.service_id,
                               start_at=start_at, now=at, provider_id=provider_id, client_id=client_id)
        if rebooked_from:
            appt.rebooked_from_id = visit.id
            work.session.add(appt)
        return Rebooked(appt.id)


def fetch_booking_client(actor: Actor, client_id: int, *, engine: Engine | None = None) -> tuple[int, str]:
    """(id, "First Last") of the client to book from the calendar. Raises PermissionDenied
    without appointment.book, NotFound for a missing or another clinic's client (audited as
    client.read through clients.service.get_client)."""
    actor.require("appointment.book")
    if not is_row_id(client_id):
        raise NotFound("client")
    with atomic(actor.org_id, engine=engine) as work:
        client = get_client(work.session, actor, client_id)
        if client.merged_into_id:
            raise NotFound("client")
        return client.id, f"{client.first_name} {client.last_name}"
