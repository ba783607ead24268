"""Use cases of the Locations tab of /settings (settings.write: owner and manager).

Each action checks the permission, opens one tenant transaction, works through
practice/locations.py (which writes the audit row in that transaction) and returns frozen
dataclasses, never ORM rows. `engine` is for tests (None: the app's engine); `clock` /
`now` say what "today" is at the location (closures that are over are not listed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from medspa.domain.identity.actor import Actor
from medspa.domain.practice.locations import (
    PERMISSION, LocationInput, Weekly, add_closure, all_locations, closures_of, create_location, hours_of,
    remove_closure, save_location, set_location_hours, update_location, visits_between)
from medspa.domain.practice.models import Location
from medspa.domain.practice.opening_models import LocationClosure
from medspa.domain.waitlist.trigger import hours_changed
from medspa.domain.work import Clock, atomic, now_of

__all__ = ["ClosureRow", "LocationRow", "do_add_closure", "do_create_location", "do_remove_closure",
           "do_save_location", "do_set_location_hours", "do_update_location", "fetch_locations"]


@dataclass(frozen=True)
class ClosureRow:
    """A closure (local dates, both inclusive) and how many booked visits fall on it (kept)."""

    id: int
    location_id: int
    start_date: date
    end_date: date
    reason: str
    visits: int


@dataclass(frozen=True)
class LocationRow:
    """A location as the tab shows and edits it: phone in E.164, window in hours, whether a
    late cancellation keeps the deposit, hours as
    weekday (0 = Monday) -> sorted (start, end) wall times (empty: none set), closures that
    are not over yet."""

    id: int
    name: str
    time_zone: str
    address: str
    phone: str
    cancellation_window_hours: int
    late_cancel_keeps_deposit: bool
    late_reschedule_is_late_cancel: bool
    hours: tuple[tuple[int, tuple[tuple[time, time], ...]], ...]
    closures: tuple[ClosureRow, ...]
    card_required: bool = False  # cards on file (issue 16): online booking saves a card first
    # --- recurring series (issue 16): a series takes the deposit for each visit, not only the first
    series_deposit_each_visit: bool = False


def _closure(session: Session, loc: Location, c: LocationClosure) -> ClosureRow:
    return ClosureRow(c.id, loc.id, c.start_date, c.end_date, c.reason,
                      visits_between(session, loc, c.start_date, c.end_date))


def _row(session: Session, loc: Location, now: datetime) -> LocationRow:
    today = now.astimezone(ZoneInfo(loc.time_zone)).date()
    hours = tuple((d, tuple(spans)) for d, spans in hours_of(session, loc.id).items())
    return LocationRow(loc.id, loc.name, loc.time_zone, loc.address, loc.phone, loc.cancellation_window_hours,
                       loc.late_cancel_keeps_deposit, loc.late_reschedule_is_late_cancel,
                       hours, tuple(_closure(session, loc, c) for c in closures_of(session, loc.id, today)),
                       card_required=loc.card_required,
                       series_deposit_each_visit=loc.series_deposit_each_visit)


def fetch_locations(actor: Actor, *, clock: Clock | None = None, now: datetime | None = None,
                    engine: Engine | None = None) -> list[LocationRow]:
    """The clinic's locations by name. Raises PermissionDenied without settings.write."""
    actor.require(PERMISSION)
    at = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        return [_row(work.session, loc, at) for loc in all_locations(work.session, actor)]


def do_create_location(actor: Actor, data: LocationInput, *, clock: Clock | None = None,
                       engine: Engine | None = None) -> LocationRow:
    """Add a location (audited). Raises PermissionDenied, ValidationFailed (nothing written)."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return _row(work.session, create_location(work.session, actor, data), now_of(clock))


def do_update_location(actor: Actor, location_id: int, data: LocationInput, *, clock: Clock | None = None,
                       engine: Engine | None = None) -> LocationRow:
    """Change a location's details (audited old/new). Raises PermissionDenied, NotFound, ValidationFailed."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return _row(work.session, update_location(work.session, actor, location_id, data), now_of(clock))


def do_set_location_hours(actor: Actor, location_id: int, weekly: Weekly, *, clock: Clock | None = None,
                          engine: Engine | None = None) -> LocationRow:
    """Replace the opening hours (weekday -> [(start, end)]; {}: none set), taking effect in
    availability at once (audited old/new). Raises PermissionDenied, NotFound, ValidationFailed
    ("hours-<weekday>" -> message)."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        set_location_hours(work.session, actor, location_id, weekly)
        hours_changed(work.session, location_id=location_id, now=now_of(clock))  # waitlist: new free times?
        return _row(work.session, work.session.get(Location, location_id), now_of(clock))


def do_save_location(actor: Actor, location_id: int | None, data: LocationInput, weekly: Weekly, *,
                     clock: Clock | None = None, engine: Engine | None = None) -> LocationRow:
    """Add (location_id None) or change a location with its opening hours in ONE transaction
    (the settings dialog): nothing is written unless both are valid. Raises PermissionDenied,
    NotFound, ValidationFailed (field or "hours-<weekday>" -> message)."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        loc = save_location(work.session, actor, location_id, data, weekly)
        if location_id is not None:
            hours_changed(work.session, location_id=loc.id, now=now_of(clock))  # waitlist: new free times?
        return _row(work.session, loc, now_of(clock))


def do_add_closure(actor: Actor, location_id: int, start_date: date | None, end_date: date | None, reason: str,
                   *, engine: Engine | None = None) -> ClosureRow:
    """Close a location on a day or dates (inclusive); no slots are offered then, booked visits
    stay (ClosureRow.visits counts them). Raises PermissionDenied, NotFound, ValidationFailed."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        closure = add_closure(work.session, actor, location_id, start_date, end_date, reason)
        return _closure(work.session, work.session.get(Location, location_id), closure)


def do_remove_closure(actor: Actor, closure_id: int, *, engine: Engine | None = None) -> None:
    """Reopen: remove a closure (audited). Raises PermissionDenied, NotFound."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        closure = remove_closure(work.session, actor, closure_id)
        hours_changed(work.session, location_id=closure.location_id, now=now_of(None))  # waitlist: reopened days
