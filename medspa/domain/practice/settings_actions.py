"""Use cases of the Rooms and devices and Provider hours tabs of /settings (settings.write).

Each action checks the permission, opens one tenant transaction, works through
practice/rooms.py and practice/hours.py (which write the audit rows in that transaction)
and returns frozen dataclasses, never ORM rows. `engine` is for tests (None: the app's
engine); `clock` for the instants "now" is read at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from medspa.clock import Clock
from medspa.domain.identity.actor import Actor
from medspa.domain.practice import hours as hrs
from medspa.domain.practice import rooms
from medspa.domain.practice.hours import PERMISSION, TimeOffInput, Weekly
from medspa.domain.practice.models import Location, Resource
from medspa.domain.practice.rooms import ResourceInput
from medspa.domain.practice.shifts import StaffTimeOff
from medspa.domain.scheduling import blocks as blk
from medspa.domain.scheduling.blocks import RoomBlockInput
from medspa.domain.scheduling.models import Occupancy
from medspa.domain.waitlist.trigger import hours_changed, time_freed
from medspa.domain.work import atomic, now_of

__all__ = ["HoursSettings", "ResourceRow", "RoomBlockRow", "RoomSettings", "TimeOffRow", "do_add_room_block",
           "do_add_time_off", "do_create_resource", "do_remove_room_block", "do_remove_time_off", "do_set_hours", "do_set_resource_active", "do_update_resource",
           "fetch_hours_settings", "fetch_room_settings"]


@dataclass(frozen=True)
class ResourceRow:
    """One room or device. booked_ahead: live visits in it that have not ended yet."""

    id: int
    kind: str
    name: str
    resource_type: str
    location_id: int
    active: bool
    booked_ahead: int = 0


@dataclass(frozen=True)
class RoomBlockRow:
    """A room or device maintenance block over [starts_at, ends_at) (UTC) with its reason;
    resource_name and location_id are the blocked room's or device's."""

    id: int
    resource_id: int
    resource_name: str
    location_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str


@dataclass(frozen=True)
class RoomSettings:
    """The Rooms and devices tab: locations as (id, name, time zone), every room and device,
    and the upcoming maintenance blocks (soonest first)."""

    locations: list[tuple[int, str, str]]
    resources: list[ResourceRow]
    blocks: list[RoomBlockRow] = field(default_factory=list)


@dataclass(frozen=True)
class TimeOffRow:
    """Time off (kind "off") or an extra shift ("extra"); visits_inside: live visits of the
    provider inside it (they stay booked)."""

    id: int
    staff_id: int
    kind: str
    starts_at: datetime
    ends_at: datetime
    location_id: int | None
    reason: str
    visits_inside: int


@dataclass(frozen=True)
class HoursSettings:
    """The Provider hours tab: locations (id, name, time zone), bookable staff (id, name), the
    chosen provider's weekly hours at the chosen location and their upcoming exceptions."""

    locations: list[tuple[int, str, str]]
    staff: list[tuple[int, str]]
    weekly: Weekly
    time_off: list[TimeOffRow]


def _locations(session: Session) -> list[tuple[int, str, str]]:
    return [(loc.id, loc.name, loc.time_zone) for loc in session.exec(select(Location).order_by(Location.name))]


def _resource_row(session: Session, res: Resource, now: datetime) -> ResourceRow:
    return ResourceRow(res.id, res.kind, res.name, res.resource_type, res.location_id, res.active,
                       rooms.booked_visits_in(session, res.id, now))


def _block_row(occ: Occupancy, res: Resource) -> RoomBlockRow:
    return RoomBlockRow(occ.id, res.id, res.name, res.location_id, occ.during.lower, occ.during.upper, occ.note)


def _time_off_row(session: Session, row: StaffTimeOff) -> TimeOffRow:
    return TimeOffRow(row.id, row.staff_id, row.kind, row.starts_at, row.ends_at, row.location_id, row.reason,
                      hrs.visits_inside(session, row))


def fetch_room_settings(actor: Actor, *, clock: Clock | None = None, engine: Engine | None = None) -> RoomSettings:
    """Locations and every room and device (inactive too). Raises PermissionDenied."""
    actor.require(PERMISSION)
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        return RoomSettings(_locations(s), [_resource_row(s, r, now) for r in rooms.rooms_and_devices(s, actor)],
                            [_block_row(o, r) for o, r in blk.upcoming_room_blocks(s, now)])


def do_add_room_block(actor: Actor, data: RoomBlockInput, *, clock: Clock | None = None,
                      engine: Engine | None = None) -> RoomBlockRow:
    """Block a room or device for maintenance over a span with a reason (audited
    "resource.block.create"); it is not offered for booking during the block, at once.
    Raises PermissionDenied, NotFound (not one of the clinic's rooms or devices),
    ValidationFailed (field -> message; an overlap with booked visits names them; nothing is
    written)."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return _block_row(*blk.add_room_block(work.session, actor, data, now=now_of(clock)))


def do_remove_room_block(actor: Actor, block_id: int, *, clock: Clock | None = None,
                         engine: Engine | None = None) -> RoomBlockRow:
    """Lift a maintenance block (audited "resource.block.remove" with its old values): the
    room or device is offered again at once. Raises PermissionDenied, NotFound."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return _block_row(*blk.remove_room_block(work.session, actor, block_id, now=now_of(clock)))


def do_create_resource(actor: Actor, data: ResourceInput, *, clock: Clock | None = None,
                       engine: Engine | None = None) -> ResourceRow:
    """Add a room or device (audited "resource.create"). Raises PermissionDenied, ValidationFailed."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return _resource_row(work.session, rooms.create_resource(work.session, actor, data), now_of(clock))


def do_update_resource(actor: Actor, resource_id: int, data: ResourceInput, *, clock: Clock | None = None,
                       engine: Engine | None = None) -> ResourceRow:
    """Change a room or device (audited with old and new values). Raises PermissionDenied,
    NotFound, ValidationFailed (nothing is written)."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return _resource_row(work.session, rooms.update_resource(work.session, actor, resource_id, data),
                             now_of(clock))


def do_set_resource_active(actor: Actor, resource_id: int, active: bool, *, clock: Clock | None = None,
                           engine: Engine | None = None) -> ResourceRow:
    """Deactivate (False: no longer offered, booked visits stay; booked_ahead counts them) or
    reactivate (True) a room or device (audited). Raises PermissionDenied, NotFound."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return _resource_row(work.session, rooms.set_resource_active(work.session, actor, resource_id, active),
                             now_of(clock))


def fetch_hours_settings(actor: Actor, staff_id: int | None = None, location_id: int | None = None, *,
                         clock: Clock | None = None, engine: Engine | None = None) -> HoursSettings:
    """The tab for one provider at one location (None: the first of each, by name). Raises
    PermissionDenied, NotFound (a staff or location id that is not this clinic's)."""
    actor.require(PERMISSION)
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        locations = _locations(s)
        staff = [(m.id, m.display_name) for m in hrs.hours_staff(s)]
        sid = hrs.bookable_staff(s, staff_id).id if staff_id is not None else (staff[0][0] if staff else None)
        lid = hrs.location_of_clinic(s, location_id).id if location_id is not None else \
            (locations[0][0] if locations else None)
        if sid is None or lid is None:
            return HoursSettings(locations, staff, {}, [])
        return HoursSettings(locations, staff, hrs.weekly_hours(s, sid, lid),
                             [_time_off_row(s, r) for r in hrs.upcoming_time_off(s, sid, now)])


def do_set_hours(actor: Actor, staff_id: int, location_id: int, weekly: Weekly, *,
                 engine: Engine | None = None) -> Weekly:
    """Replace a provider's weekly hours at a location (audited "staff.hours.update" with old
    and new intervals of the changed days). Raises PermissionDenied, NotFound,
    ValidationFailed (interval field -> message; nothing is written)."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        weekly = hrs.replace_weekly_hours(work.session, actor, staff_id, location_id, weekly)
        hours_changed(work.session, location_id=location_id, now=now_of(None), provider_id=staff_id)  # waitlist
        return weekly


def do_add_time_off(actor: Actor, data: TimeOffInput, *, engine: Engine | None = None) -> TimeOffRow:
    """Record time off or an extra shift (audited). visits_inside of the answer: the visits
    already booked inside it, which stay. Raises PermissionDenied, NotFound, ValidationFailed."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        row = hrs.add_time_off(work.session, actor, data)
        if row.kind == "extra":  # new working time: the waitlist may fill it
            time_freed(work.session, location_id=row.location_id, lo=row.starts_at, hi=row.ends_at,
                       provider_id=row.staff_id)
        return _time_off_row(work.session, row)


def do_remove_time_off(actor: Actor, entry_id: int, *, engine: Engine | None = None) -> TimeOffRow:
    """Delete a time-off or extra-shift entry (audited with its old values). Raises
    PermissionDenied, NotFound."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        row = hrs.remove_time_off(s, actor, entry_id)
        if row.kind == "off":  # the provider works then after all: the waitlist may fill it
            for location_id in ([row.location_id] if row.location_id else s.exec(select(Location.id)).all()):
                time_freed(s, location_id=location_id, lo=row.starts_at, hi=row.ends_at, provider_id=row.staff_id)
        return TimeOffRow(row.id, row.staff_id, row.kind, row.starts_at, row.ends_at, row.location_id, row.reason, 0)
