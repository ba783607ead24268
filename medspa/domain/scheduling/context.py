"""The set-up data of a booking or availability request, kept per worker (issue 20).

`_context` reads what a (location, service) request needs beyond the day itself: the
location and service, the providers who perform it there (catalog.providers_for), their
provider resources and weekly hours, the active rooms and devices of the service's types,
the location's opening hours. `booking_context` keeps it per worker process in the
availability cache (scheduling.availability_cache, settings generations: dropped by the
`settings_changed` notifications of every table it reads, migration 0057, and kept only while
the calendar loop listens). What a day adds (closures, time off, extra shifts, occupancies)
is read per request by availability._prepared.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from medspa.domain.catalog.models import Service, ServiceProvider
from medspa.domain.catalog.service import get_service, providers_for
from medspa.domain.errors import NotFound
from medspa.domain.practice.models import Location, Resource, StaffMember, WorkingHours
from medspa.domain.practice.opening import opening_hours
from medspa.domain.practice.opening_models import LocationHours
from medspa.domain.practice.service import get_location
from medspa.domain.practice.shifts import Span, StaffTimeOff
from medspa.domain.scheduling.availability_cache import AVAILABILITY, AvailabilityCache


@dataclass
class _Context:
    location: Location
    service: Service
    tz: ZoneInfo
    provider_resource: dict[int, int]  # staff_id -> resource_id
    rooms: list[int]
    devices: list[int]
    hours: dict[int, dict[int, list[tuple]]]  # staff_id -> weekday -> [(start, end)]
    opening: dict[int, list[tuple]] | None  # the location's weekday -> [(start, end)]; None: no hours set
    closed: set[date]  # local dates the location is closed (filled by find_slots)
    time_off: dict[int, list[Span]] = field(default_factory=dict)  # staff_id -> UTC spans away
    extra: dict[int, list[Span]] = field(default_factory=dict)  # staff_id -> UTC extra shifts here
    staff_ids: tuple[int, ...] = ()  # the providers (providers_for), with or without a resource


def _context(session: Session, location_id: int, service_id: int, provider_id: int | None) -> _Context:
    both = session.exec(select(Location, Service).where(  # one round trip for both
        Location.id == location_id, Service.id == service_id, Service.active, Location.org_id == Service.org_id)).first()
    location, service = both or (get_location(session, location_id), get_service(session, service_id))
    providers = providers_for(session, service_id, location_id)
    if provider_id is not None:
        providers = [p for p in providers if p.id == provider_id]
        if not providers:
            raise NotFound("provider")
    staff_ids = [p.id for p in providers]
    provider_resource = {
        r.staff_id: r.id
        for r in session.exec(select(Resource).where(Resource.kind == "provider", Resource.active,
                                                     Resource.staff_id.in_(staff_ids or [-1])))
    }

    def typed(kind: str, rtype: str | None) -> list[int]:
        if not rtype:
            return []
        return list(session.exec(select(Resource.id).where(
            Resource.kind == kind, Resource.resource_type == rtype, Resource.active,
            Resource.location_id == location_id).order_by(Resource.id)))

    hours: dict[int, dict[int, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    for wh in session.exec(select(WorkingHours).where(WorkingHours.location_id == location_id,
                                                      WorkingHours.staff_id.in_(staff_ids or [-1]))):
        hours[wh.staff_id][wh.weekday].append((wh.start_time, wh.end_time))
    return _Context(location, service, ZoneInfo(location.time_zone), provider_resource,
                    typed("room", service.room_type), typed("device", service.device_type), hours,
                    opening_hours(session, location_id), set(), staff_ids=tuple(staff_ids))


def _narrowed(ctx: _Context, provider_id: int | None) -> _Context:
    """`ctx` cut to one provider (as `_context` with that provider_id reads it); None: unchanged.
    Raises NotFound("provider") when the provider is not one of ctx's."""
    if provider_id is None or ctx.staff_ids == (provider_id,):
        return ctx
    if provider_id not in ctx.staff_ids:
        raise NotFound("provider")
    keep = {provider_id}
    return replace(ctx, staff_ids=(provider_id,),
                   provider_resource={k: v for k, v in ctx.provider_resource.items() if k in keep},
                   hours={k: v for k, v in ctx.hours.items() if k in keep})


# the tables `_context` reads (each notifies calendar_changed: migrations 0027, 0057)
CONTEXT_MODELS = (Location, Service, ServiceProvider, StaffMember, Resource, WorkingHours, LocationHours, StaffTimeOff)
_WROTE_CONTEXT = "availability.wrote_context"  # session.info flag: this transaction flushed a context row


@event.listens_for(OrmSession, "after_flush")
def _note_context_writes(session, flush_context) -> None:  # noqa: ANN001
    if any(isinstance(o, CONTEXT_MODELS) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info[_WROTE_CONTEXT] = True


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_context_writes(session, transaction) -> None:  # noqa: ANN001
    if transaction.parent is None:  # the outermost transaction ended (commit or rollback)
        session.info.pop(_WROTE_CONTEXT, None)


def _detached(ctx: _Context) -> _Context:
    """A copy of `ctx` sharing nothing mutable with any session (transient copies of its
    location and service), to keep across sessions and threads."""
    return replace(ctx, location=Location(**ctx.location.model_dump()), service=Service(**ctx.service.model_dump()),
                   closed=set(), time_off={}, extra={})


def booking_context(session: Session, org_id: int, location_id: int, service_id: int, now: datetime,
                    cache: AvailabilityCache = AVAILABILITY) -> _Context:
    """The set-up data of a booking or availability request (location, service, its providers
    at the location with their resources and weekly hours, the rooms and devices of its types,
    the opening hours: `_context` for every provider; day_plan narrows it), kept per worker in
    `cache` (scheduling.availability_cache, `settings=True` entries: tokens taken before the
    read, dropped by the settings_changed notifications, so kept only while the calendar loop
    listens and untouched by bookings; an entry serves a `now` within max_age of its read).
    What a day adds (closures, time off, extra shifts, occupancies) is never kept: `_prepared`
    reads it per request. A session that has flushed a change of a context table
    (CONTEXT_MODELS) in its open transaction neither uses nor fills the cache (it must see its
    own change; a rollback would never notify). Raises NotFound (location, service)."""
    own_writes = (session.info.get(_WROTE_CONTEXT)
                  or any(isinstance(o, CONTEXT_MODELS) for o in (*session.new, *session.dirty, *session.deleted)))
    if own_writes or not cache.listening:
        return _context(session, location_id, service_id, None)
    bind = session.get_bind()
    key = ("context", getattr(bind, "engine", bind), org_id, location_id, service_id)
    hit = cache.get(key, org_id, location_id, now, settings=True)
    if hit is not None:
        return replace(hit, closed=set(), time_off={}, extra={})  # the per-day parts are the caller's
    token = cache.begin(org_id, location_id, settings=True)  # before the first statement reads anything
    ctx = _context(session, location_id, service_id, None)
    cache.put(key, org_id, location_id, token, now, _detached(ctx), settings=True)
    return ctx
