"""Room and device maintenance blocks: a manager takes a room or device out of service for a
time range with a reason ("laser service visit").

A block is an `occupancy` row of kind "block" (status booked, no appointment) on the room's
or device's resource. The exclusion constraint that forbids double booking forbids a block
and a visit overlapping too, so a booking racing a block cannot both win; availability reads
every live occupancy, so the resource is not offered during the block. A block that overlaps
a visit already booked (or held and not lapsed) is refused with the visits named: the clinic
moves them first (blocking over a client's visit silently would leave the visit without its
room). Removing a block releases it (status released); both are audited with their values.
Services take a session and never commit (practice/settings_actions.py owns the transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from psycopg.errors import ExclusionViolation
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.changes import row_for_edit
from medspa.domain.clients.models import Client
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location, Resource
from medspa.domain.scheduling.availability import live_occupancy_filter
from medspa.domain.scheduling.labels import visit_who
from medspa.domain.scheduling.models import Appointment, Occupancy, OccupancyStatus
from medspa.domain.scheduling.service import release_lapsed_holds
from medspa.domain.timezones import format_clinic_clock

PERMISSION = "settings.write"
ROOM_KINDS = ("room", "device")
MAX_REASON = 200
MAX_DAYS = 366
MAX_NAMED = 3  # visits named in the refusal; the rest are counted


@dataclass(frozen=True)
class RoomBlockInput:
    """A maintenance block as the form sends it: the room or device (resource id), the span
    [starts_at, ends_at) as aware instants, and the reason shown on the calendar."""

    resource_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str


def block_resource(session: Session, resource_id: object) -> Resource:
    """The clinic's room or device `resource_id`; NotFound("resource") for a provider's
    resource, another clinic's or a non-int id.

    Not locked FOR UPDATE: a booking's occupancy insert takes a key-share lock on the
    resource row (its foreign key) after its exclusion-index entry, so a block holding the
    row and waiting on that entry would deadlock with it. The exclusion constraint alone
    decides between a block and a booking."""
    res = (session.get(Resource, resource_id)
           if isinstance(resource_id, int) and not isinstance(resource_id, bool) else None)
    if res is None or res.kind not in ROOM_KINDS:
        raise NotFound("resource")
    return res


def _when(instant: datetime, tz_name: str) -> str:
    local = instant.astimezone(ZoneInfo(tz_name))
    return f"{local:%a} {local.day} {local:%b} {format_clinic_clock(instant, tz_name)}"


def overlapping(session: Session, resource_id: int, lo: datetime, hi: datetime, now: datetime) -> list[str]:
    """What already holds the resource over [lo, hi), as labels: live visits ("Jane Doe ·
    Facial · Wed 15 Jul 10:00 AM") and other blocks ("another block: <reason> ...")."""
    stmt = (select(Occupancy, Appointment, Service, Client, Location.time_zone)
            .join(Appointment, Appointment.id == Occupancy.appointment_id, isouter=True)
            .join(Service, Service.id == Appointment.service_id, isouter=True)
            .join(Client, Client.id == Appointment.client_id, isouter=True)
            .join(Resource, Resource.id == Occupancy.resource_id)
            .join(Location, Location.id == Resource.location_id)
            .where(Occupancy.resource_id == resource_id, Occupancy.during.op("&&")(Range(lo, hi, bounds="[)")),
                   live_occupancy_filter(now))
            .order_by(Occupancy.during))
    out = []
    for occ, appt, svc, client, tz_name in session.exec(stmt):
        if appt is None:
            out.append(f"another block ({occ.note or 'no reason'}) from {_when(occ.during.lower, tz_name)}")
        else:
            out.append(f"{visit_who(appt.status, appt.source, client)} · {svc.name} · {_when(appt.start_at, tz_name)}")
    return out


def _refusal(labels: list[str]) -> ValidationFailed:
    named = "; ".join(labels[:MAX_NAMED])
    more = f" and {len(labels) - MAX_NAMED} more" if len(labels) > MAX_NAMED else ""
    visits = sum(not label.startswith("another block") for label in labels)
    head = "Move or cancel the visits booked in this time first" if visits else "This overlaps another block"
    return ValidationFailed({"starts_at": f"{head}: {named}{more}"})


def _validate(data: RoomBlockInput, now: datetime) -> tuple[datetime, datetime, str]:
    errors: dict[str, str] = {}
    reason = data.reason.strip() if isinstance(data.reason, str) else ""
    if not reason:
        errors["reason"] = "Say why, e.g. laser service visit"
    elif "\x00" in reason:
        errors["reason"] = "Remove the invisible control characters"
    elif len(reason) > MAX_REASON:
        errors["reason"] = f"Keep it under {MAX_REASON} characters"
    lo, hi = data.starts_at, data.ends_at
    if lo.tzinfo is None or hi.tzinfo is None:
        errors["starts_at"] = "Give the time with its UTC offset"
    elif hi <= lo:
        errors["ends_at"] = "The end must be after the start"
    elif hi <= now:
        errors["ends_at"] = "This time is already over: choose a time ahead"
    elif hi - lo > timedelta(days=MAX_DAYS):
        errors["ends_at"] = f"At most {MAX_DAYS} days at a time"
    if errors:
        raise ValidationFailed(errors)
    # a block that began earlier today starts now: the past is history, not blocked
    return max(lo, now.replace(second=0, microsecond=0)), hi, reason


def _facts(res: Resource, occ: Occupancy) -> dict:
    return {"resource_id": res.id, "name": res.name, "starts_at": occ.during.lower.isoformat(),
            "ends_at": occ.during.upper.isoformat(), "reason": occ.note, "status": occ.status}


def add_room_block(session: Session, actor: Actor, data: RoomBlockInput, *, now: datetime) -> tuple[Occupancy, Resource]:
    """Block a room or device over [starts_at, ends_at) (a start already past is moved to
    `now`); audited "resource.block.create" with its values. Lapsed holds in the way are
    released first. Raises PermissionDenied, ValidationFailed (field -> message: reason,
    ends_at, starts_at naming the visits or block it overlaps; also when a booking committed
    in the same instant wins the race), NotFound("resource")."""
    actor.require(PERMISSION)
    lo, hi, reason = _validate(data, now)
    res = block_resource(session, data.resource_id)
    release_lapsed_holds(session, [res.id], lo, hi, now)
    clash = overlapping(session, res.id, lo, hi, now)
    if clash:
        raise _refusal(clash)
    block = Occupancy(org_id=actor.org_id, resource_id=res.id, during=Range(lo, hi, bounds="[)"),
                      status=OccupancyStatus.BOOKED, kind="block", note=reason)
    try:
        with session.begin_nested():
            session.add(block)
            session.flush()
    except IntegrityError as exc:  # a visit booked between the check and the insert: the constraint decides
        if isinstance(exc.orig, ExclusionViolation):
            raise _refusal(overlapping(session, res.id, lo, hi, now) or ["a visit booked just now"]) from exc
        raise
    record(session, actor, "resource.block.create", "resource", res.id, at=now, block_id=block.id,
           new=_facts(res, block))
    return block, res


def remove_room_block(session: Session, actor: Actor, block_id: object, *, now: datetime) -> tuple[Occupancy, Resource]:
    """Lift a room or device block (status released: the resource is offered again at once);
    audited "resource.block.remove" with its old values. Raises PermissionDenied,
    NotFound("block") for anything but a live block of one of the clinic's rooms or devices."""
    actor.require(PERMISSION)
    occ = row_for_edit(session, Occupancy, block_id, "block")
    res = session.get(Resource, occ.resource_id)
    if occ.kind != "block" or occ.status == OccupancyStatus.RELEASED or res is None or res.kind not in ROOM_KINDS:
        raise NotFound("block")
    old = _facts(res, occ)
    occ.status = OccupancyStatus.RELEASED
    session.add(occ)
    session.flush()
    record(session, actor, "resource.block.remove", "resource", res.id, at=now, block_id=occ.id, old=old,
           new={"status": occ.status})
    return occ, res


def upcoming_room_blocks(session: Session, now: datetime) -> list[tuple[Occupancy, Resource]]:
    """Live blocks of the clinic's rooms and devices that end after `now`, soonest first."""
    return list(session.exec(
        select(Occupancy, Resource).join(Resource, Resource.id == Occupancy.resource_id)
        .where(Occupancy.kind == "block", Occupancy.status == OccupancyStatus.BOOKED,
               Resource.kind.in_(ROOM_KINDS), func.upper(Occupancy.during) > now)
        .order_by(func.lower(Occupancy.during), Occupancy.id)))
