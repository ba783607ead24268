"""Setting up a clinic: organisation, locations, staff, hours and resources."""

from __future__ import annotations

import re
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import (
    STAFF_ROLES,
    Location,
    Organization,
    Resource,
    StaffMember,
    WorkingHours,
)

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def create_organization(owner_session: Session, slug: str, name: str, currency: str = "USD", *,
                        listed: bool = False, country: str = "") -> Organization:
    """Create a clinic (`listed`: shown on the landing page; `country` ISO 3166 alpha-2, the
    region of its phone numbers). Needs the schema-owner session (the app role cannot add
    tenants).

    Raises ValidationFailed for a slug that is not lower-case letters, digits and dashes.
    """
    if not SLUG_RE.match(slug):
        raise ValidationFailed({"slug": "Use lower-case letters, digits and dashes"})
    org = Organization(slug=slug, name=name, currency=currency.upper(), listed=listed, country=country.upper())
    owner_session.add(org)
    owner_session.flush()
    return org


def organization_by_slug(session: Session, slug: str) -> Organization:
    """The clinic named by a public URL slug; raises NotFound."""
    if not SLUG_RE.match(slug or ""):
        raise NotFound("clinic")
    org = session.exec(select(Organization).where(Organization.slug == slug)).first()
    if org is None:
        raise NotFound("clinic")
    return org


def list_clinics(session: Session, limit: int = 12) -> list[tuple[str, str]]:
    """(slug, name) of every clinic on this server, oldest first (operators' tools; the landing
    page lists only the clinics that chose to be: practice/profile.listed_clinics)."""
    rows = session.exec(select(Organization.slug, Organization.name).order_by(Organization.id).limit(limit))
    return [(slug, name) for slug, name in rows]


def organization_name(session: Session, org_id: int) -> str:
    """The clinic's display name (the staff header shows it), or "" if there is none."""
    return session.exec(select(Organization.name).where(Organization.id == org_id)).first() or ""


def validate_time_zone(name: str) -> ZoneInfo:
    """ZoneInfo for an IANA name; raises ValidationFailed for unknown names."""
    if name not in available_timezones():
        raise ValidationFailed({"time_zone": f"Unknown time zone {name!r}; use an IANA name like America/Chicago"})
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - available_timezones said yes
        raise ValidationFailed({"time_zone": str(exc)}) from exc


def add_location(session: Session, actor: Actor, name: str, time_zone: str,
                 cancellation_window_hours: int = 24, address: str = "", phone: str = "") -> Location:
    """Add a location with an IANA time zone and a cancellation window (hours before start)."""
    actor.require("settings.write")
    validate_time_zone(time_zone)
    if cancellation_window_hours < 0:
        raise ValidationFailed({"cancellation_window_hours": "Must be zero or more hours"})
    loc = Location(org_id=actor.org_id, name=name, time_zone=time_zone,
                   cancellation_window_hours=cancellation_window_hours, address=address, phone=phone)
    session.add(loc)
    session.flush()
    record(session, actor, "location.create", "location", loc.id, name=name, time_zone=time_zone)
    return loc


def add_staff(session: Session, actor: Actor, display_name: str, role: str = "provider", *,
              title: str = "", bookable: bool | None = None, color: str = "#7c5cbf") -> StaffMember:
    """Add a staff member; bookable ones (providers by default) get a provider resource."""
    actor.require("settings.write")
    if role not in STAFF_ROLES:
        raise ValidationFailed({"role": f"Role must be one of {', '.join(STAFF_ROLES)}"})
    bookable = (role == "provider") if bookable is None else bookable
    staff = StaffMember(org_id=actor.org_id, display_name=display_name, title=title, role=role,
                        is_bookable=bookable, color=color)
    session.add(staff)
    session.flush()
    if bookable:
        session.add(Resource(org_id=actor.org_id, kind="provider", name=display_name, staff_id=staff.id))
    record(session, actor, "staff.create", "staff_member", staff.id, role=role)
    session.flush()
    return staff


def set_working_hours(session: Session, actor: Actor, staff_id: int, location_id: int,
                      weekly: dict[int, list[tuple[time, time]]]) -> None:
    """Replace a staff member's hours at a location. weekly: weekday (0=Mon) -> [(start, end)] wall times."""
    actor.require("settings.write")
    for weekday, spans in weekly.items():
        for start, end in spans:
            if not (0 <= weekday <= 6) or end <= start:
                raise ValidationFailed({"hours": "Each span needs a weekday 0-6 and an end after its start"})
    for row in session.exec(select(WorkingHours).where(WorkingHours.staff_id == staff_id,
                                                       WorkingHours.location_id == location_id)):
        session.delete(row)
    for weekday, spans in weekly.items():
        for start, end in spans:
            session.add(WorkingHours(org_id=actor.org_id, staff_id=staff_id, location_id=location_id,
                                     weekday=weekday, start_time=start, end_time=end))
    record(session, actor, "staff.hours.set", "staff_member", staff_id, location_id=location_id)
    session.flush()


def add_resource(session: Session, actor: Actor, location_id: int, kind: str, name: str,
                 resource_type: str) -> Resource:
    """Add a room or device of `resource_type` at a location."""
    actor.require("settings.write")
    if kind not in ("room", "device"):
        raise ValidationFailed({"kind": "A resource is a room or a device"})
    res = Resource(org_id=actor.org_id, kind=kind, name=name, resource_type=resource_type,
                   location_id=location_id)
    session.add(res)
    session.flush()
    record(session, actor, "resource.create", "resource", res.id, kind=kind, resource_type=resource_type)
    return res


def provider_resource(session: Session, staff_id: int) -> Resource:
    """The provider resource of a bookable staff member; raises NotFound."""
    res = session.exec(select(Resource).where(Resource.staff_id == staff_id, Resource.kind == "provider")).first()
    if res is None:
        raise NotFound("provider")
    return res


def get_location(session: Session, location_id: int) -> Location:
    """A location of the current clinic; raises NotFound (also for other clinics' ids)."""
    loc = session.get(Location, location_id)
    if loc is None:
        raise NotFound("location")
    return loc


def location_and_clinic_name(session: Session, location_id: int, org_id: int) -> tuple[Location, str]:
    """(get_location, organization_name) in one round trip (the calendar week reads both).
    Raises NotFound as get_location."""
    name = select(Organization.name).where(Organization.id == org_id).scalar_subquery()
    row = session.exec(select(Location, name).where(Location.id == location_id)).first()
    if row is None:
        raise NotFound("location")
    return row[0], row[1] or ""


def list_locations(session: Session, actor: Actor) -> list[Location]:
    """The clinic's locations, by name."""
    actor.require("practice.read")
    return list(session.exec(select(Location).order_by(Location.name)))
