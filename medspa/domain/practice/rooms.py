"""Editing the clinic's rooms and devices from /settings: validate, add, change, deactivate.

Services take a session and never commit (practice/settings_actions.py owns the transaction). A room
or device is never deleted: past and booked visits occupy it. Deactivating one takes it out
of availability at once (availability and holds read only active resources) while the
visits already booked in it stay. Every change writes one audit row with old and new values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import Range
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.changes import apply_changes, row_for_edit
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location, Resource
from medspa.domain.scheduling.models import Occupancy, OccupancyStatus

PERMISSION = "settings.write"
ROOM_KINDS = ("room", "device")
MAX_NAME, MAX_TYPE = 80, 40
_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")


@dataclass(frozen=True)
class ResourceInput:
    """A room or device as the form sends it. kind "room" | "device"; resource_type free text
    ("Treatment room" and "treatment_room" are the same type: lower-cased, spaces -> "_")."""

    kind: str
    name: str
    resource_type: str
    location_id: int


def type_key(text: str) -> str:
    """"Treatment room " -> "treatment_room" (the stored form of a type)."""
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def validate_resource(session: Session, data: ResourceInput, current: Resource | None = None) -> ResourceInput:
    """`data` cleaned, or ValidationFailed with one message per bad field: a kind of ROOM_KINDS,
    a name (unique among the location's rooms and devices), a type of letters, digits and
    spaces, a location of this clinic."""
    errors: dict[str, str] = {}
    name, rtype = data.name.strip(), type_key(data.resource_type)
    if data.kind not in ROOM_KINDS:
        errors["kind"] = "Choose room or device"
    if "\x00" in data.name or "\x00" in data.resource_type:
        errors["name" if "\x00" in data.name else "resource_type"] = "Remove the invisible control characters"
    elif not name:
        errors["name"] = "Give it a name"
    elif len(name) > MAX_NAME:
        errors["name"] = f"Keep it under {MAX_NAME} characters"
    if "resource_type" not in errors:
        if not rtype:
            errors["resource_type"] = "Give it a type, e.g. treatment room or laser"
        elif len(rtype) > MAX_TYPE or not _TYPE_RE.match(rtype):
            errors["resource_type"] = f"Letters, digits and spaces, under {MAX_TYPE} characters"
    if not isinstance(data.location_id, int) or session.get(Location, data.location_id) is None:
        errors["location_id"] = "Choose a location"
    elif "name" not in errors:
        clash = select(Resource.id).where(Resource.location_id == data.location_id, Resource.kind.in_(ROOM_KINDS),
                                          func.lower(Resource.name) == name.lower())
        if current is not None:
            clash = clash.where(Resource.id != current.id)
        if session.exec(clash).first() is not None:
            errors["name"] = "This location already has a room or device with this name"
    if errors:
        raise ValidationFailed(errors)
    return ResourceInput(data.kind, name, rtype, data.location_id)


_FIELDS = ("kind", "name", "resource_type", "location_id")


def create_resource(session: Session, actor: Actor, data: ResourceInput) -> Resource:
    """Add a room or device (active); audited "resource.create" with its values.
    Raises PermissionDenied, ValidationFailed."""
    actor.require(PERMISSION)
    clean = validate_resource(session, data)
    res = Resource(org_id=actor.org_id, active=True, **{k: getattr(clean, k) for k in _FIELDS})
    session.add(res)
    session.flush()
    record(session, actor, "resource.create", "resource", res.id, new={k: getattr(clean, k) for k in _FIELDS})
    return res


def _resource_for_edit(session: Session, resource_id: int) -> Resource:
    res = row_for_edit(session, Resource, resource_id, "resource")
    if res.kind not in ROOM_KINDS:  # providers are edited as staff, not here
        raise NotFound("resource")
    return res


def update_resource(session: Session, actor: Actor, resource_id: int, data: ResourceInput) -> Resource:
    """Change a room or device; audited "resource.update" with {field: [old, new]} of the changed
    fields (no row when nothing changed). Booked visits keep the room they were booked in.
    Raises PermissionDenied, NotFound, ValidationFailed."""
    actor.require(PERMISSION)
    res = _resource_for_edit(session, resource_id)
    clean = validate_resource(session, data, res)
    changes = apply_changes(res, clean, _FIELDS)
    if changes:
        record(session, actor, "resource.update", "resource", res.id, name=res.name, changes=changes)
    session.flush()
    return res


def booked_visits_in(session: Session, resource_id: int, now: datetime) -> int:
    """How many live occupancies (booked or held) of the resource end after `now`."""
    return session.exec(select(func.count()).select_from(Occupancy).where(
        Occupancy.resource_id == resource_id, Occupancy.status.in_((OccupancyStatus.BOOKED, OccupancyStatus.HELD)),
        Occupancy.during.op("&&")(Range(now, None, bounds="[)")))).one()


def set_resource_active(session: Session, actor: Actor, resource_id: int, active: bool) -> Resource:
    """Deactivate (no longer offered by availability, at once; booked visits stay) or
    reactivate a room or device; audited "resource.deactivate" / "resource.reactivate" with
    the old and new `active`. Raises PermissionDenied, NotFound."""
    actor.require(PERMISSION)
    res = _resource_for_edit(session, resource_id)
    if res.active != active:
        record(session, actor, "resource.reactivate" if active else "resource.deactivate", "resource", res.id,
               name=res.name, changes={"active": [res.active, active]})
        res.active = active
        session.flush()
    return res


def rooms_and_devices(session: Session, actor: Actor) -> list[Resource]:
    """Every room and device of the clinic (inactive ones too), by location, kind and name."""
    actor.require(PERMISSION)
    return list(session.exec(select(Resource).where(Resource.kind.in_(ROOM_KINDS)).order_by(
        Resource.location_id, Resource.kind.desc(), func.lower(Resource.name), Resource.id)))
