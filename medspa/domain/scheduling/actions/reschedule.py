"""Staff actions that move a visit: the calendar's drag-and-drop (`do_move_visit`) and edit
dialog (`fetch_edit_options`, `do_edit_visit`). Each move is one transaction through
scheduling.reschedule.move_visit (availability re-checked with the visit's own time left out;
the exclusion constraint settles races) and returns the refreshed side panel. Open calendars
follow by themselves: the appointment and occupancy triggers notify them on commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import select

from medspa.clock import Clock
from medspa.domain.clinical.health_record import require_change_override
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location, Resource
from medspa.domain.scheduling.actions.desk import ProviderOption, ServiceOption, fetch_booking_options
from medspa.domain.scheduling.calendar import AppointmentDetail, appointment_detail
from medspa.domain.scheduling.reschedule import VisitChange, move_visit, visit_resources
from medspa.domain.scheduling.service import get_appointment
from medspa.domain.timezones import local_clock_text
from medspa.domain.work import atomic, now_of


@dataclass(frozen=True)
class RoomOption:
    """A room or device at the visit's location; `resource_type` matches a service's room or
    device type."""

    id: int
    name: str
    resource_type: str
    kind: str


@dataclass(frozen=True)
class EditOptions:
    """What the edit dialog offers for a visit, and what it has now: `day` and `start_local`
    ("HH:MM", 24 h) at the location's `time_zone`, `room_id` None when it holds no room."""

    appointment_id: int
    services: tuple[ServiceOption, ...]
    providers: tuple[ProviderOption, ...]
    rooms: tuple[RoomOption, ...]
    service_id: int
    provider_id: int
    room_id: int | None
    notes: str
    time_zone: str
    day: date
    start_local: str


def do_move_visit(actor: Actor, appointment_id: int, *, start_at: datetime, provider_id: int | None = None,
                  clock: Clock | None = None, engine: Engine | None = None) -> AppointmentDetail:
    """Drag-and-drop: move the visit to `start_at` (aware UTC) and, when given, another
    provider's column; returns the refreshed panel. Raises reschedule.MoveRefused (reason,
    alternatives: nothing changed), InvalidTransition, ValidationFailed, NotFound,
    PermissionDenied (appointment.reschedule)."""
    return do_edit_visit(actor, appointment_id, VisitChange(start_at=start_at, provider_id=provider_id),
                         clock=clock, engine=engine)


def do_edit_visit(actor: Actor, appointment_id: int, change: VisitChange, *, override_reason: str = "",
                  clock: Clock | None = None, engine: Engine | None = None) -> AppointmentDetail:
    """The edit dialog's save: time, provider, service, room and notes as `change` gives them
    (None keeps); returns the refreshed panel. A change of service re-checks the client's
    contraindications (clinical.health_record.require_change_override): a new flag needs
    `override_reason`, kept with the visit. Raises reschedule.MoveRefused (reason next to the
    time: nothing changed), HealthFlagged (a ValidationFailed keyed "health_reason": nothing
    changed), InvalidTransition, ValidationFailed, NotFound, PermissionDenied."""
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        service_before = get_appointment(work.session, appointment_id).service_id
        moved = move_visit(work.session, actor, appointment_id, change, now=now, online=False)
        if moved.appointment.service_id != service_before:
            require_change_override(work.session, actor, moved.appointment, override_reason, now)
        work.commit()
        return appointment_detail(work.session, actor, appointment_id, now=now)


def fetch_edit_options(actor: Actor, appointment_id: int, *, clock: Clock | None = None,
                       engine: Engine | None = None) -> EditOptions:
    """The edit dialog's choices for a visit (the desk's services and providers at its
    location, the location's rooms and devices) and its current values. Raises NotFound,
    PermissionDenied (appointment.reschedule)."""
    actor.require("appointment.reschedule")
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        appt = get_appointment(s, appointment_id)
        location = s.get(Location, appt.location_id)
        held = visit_resources(s, appt.id)
        rooms = tuple(RoomOption(r.id, r.name, r.resource_type, r.kind) for r in s.exec(
            select(Resource).where(Resource.location_id == appt.location_id, Resource.active,
                                   Resource.kind.in_(("room", "device"))).order_by(Resource.kind, Resource.name)))
        local_day, start_local = local_clock_text(appt.start_at, location.time_zone)
        values = (appt.service_id, appt.provider_id, held.get("room"), appt.notes, location.time_zone, local_day,
                  start_local)
        location_id = appt.location_id
    options = fetch_booking_options(actor, location_id, engine=engine)
    return EditOptions(appointment_id, options.services, options.providers, rooms, *values)
