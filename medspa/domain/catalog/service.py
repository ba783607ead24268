"""The service menu: adding services and listing what a location offers."""

from __future__ import annotations

from sqlmodel import Session, or_, select

from medspa.domain.audit.service import record
from medspa.domain.clinical.contraindications import apply_default_rules
from medspa.domain.clinical.signing import order_default
from medspa.domain.catalog.models import Service, ServiceProvider
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import StaffMember, WorkingHours
from medspa.domain.practice.shifts import EXTRA_SHIFT, StaffTimeOff


def add_service(session: Session, actor: Actor, *, category: str, name: str, duration_minutes: int,
                price_cents: int, deposit_cents: int = 0, currency: str = "USD",
                buffer_before_minutes: int = 0, buffer_after_minutes: int = 0,
                room_type: str | None = None, device_type: str | None = None,
                slot_grid_minutes: int = 15, min_notice_minutes: int = 120,
                description: str = "", provider_ids: list[int] | None = None) -> Service:
    """Add a service. Durations in minutes; price and deposit in integer cents (deposit <= price).

    Raises ValidationFailed with a message per bad field.
    """
    actor.require("settings.write")
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Give the service a name"
    if duration_minutes <= 0:
        errors["duration_minutes"] = "Duration must be at least 1 minute"
    if price_cents < 0:
        errors["price_cents"] = "Price cannot be negative"
    if not 0 <= deposit_cents <= max(price_cents, 0):
        errors["deposit_cents"] = "Deposit must be between 0 and the price"
    if buffer_before_minutes < 0 or buffer_after_minutes < 0:
        errors["buffers"] = "Buffers cannot be negative"
    if slot_grid_minutes <= 0:
        errors["slot_grid_minutes"] = "Slot grid must be at least 1 minute"
    if errors:
        raise ValidationFailed(errors)
    svc = Service(org_id=actor.org_id, category=category, name=name.strip(), description=description,
                  duration_minutes=duration_minutes, buffer_before_minutes=buffer_before_minutes,
                  buffer_after_minutes=buffer_after_minutes, price_cents=price_cents,
                  deposit_cents=deposit_cents, currency=currency.upper(), room_type=room_type,
                  device_type=device_type, slot_grid_minutes=slot_grid_minutes,
                  min_notice_minutes=min_notice_minutes, requires_prescriber_order=order_default(category))
    session.add(svc)
    session.flush()
    for staff_id in provider_ids or []:
        session.add(ServiceProvider(org_id=actor.org_id, service_id=svc.id, staff_id=staff_id))
    record(session, actor, "service.create", "service", svc.id, name=svc.name, price_cents=price_cents)
    session.flush()
    apply_default_rules(session, svc)  # its category's built-in contraindications (issue 17)
    return svc


def get_service(session: Session, service_id: int) -> Service:
    """An active service of the current clinic; raises NotFound."""
    svc = session.get(Service, service_id)
    if svc is None or not svc.active:
        raise NotFound("service")
    return svc


def providers_for(session: Session, service_id: int, location_id: int) -> list[StaffMember]:
    """Active bookable staff who perform the service and have weekly hours or an extra shift at
    the location."""
    stmt = (
        select(StaffMember)
        .join(ServiceProvider, ServiceProvider.staff_id == StaffMember.id)
        .where(ServiceProvider.service_id == service_id, StaffMember.active, StaffMember.is_bookable)
        .where(or_(StaffMember.id.in_(select(WorkingHours.staff_id).where(WorkingHours.location_id == location_id)),
                   StaffMember.id.in_(select(StaffTimeOff.staff_id).where(StaffTimeOff.location_id == location_id,
                                                                           StaffTimeOff.kind == EXTRA_SHIFT))))
        .order_by(StaffMember.display_name)
    )
    return list(session.exec(stmt))


def list_services(session: Session, actor: Actor, location_id: int | None = None, *,
                  online_only: bool = False) -> list[Service]:
    """Active services, by category and name; with location_id only those someone there performs."""
    actor.require("catalog.read")
    stmt = select(Service).where(Service.active)
    if online_only:
        stmt = stmt.where(Service.online_bookable)
    if location_id is not None:
        offered = (
            select(ServiceProvider.service_id)
            .join(WorkingHours, WorkingHours.staff_id == ServiceProvider.staff_id)
            .where(WorkingHours.location_id == location_id)
        )
        stmt = stmt.where(Service.id.in_(offered))
    return list(session.exec(stmt.order_by(Service.category, Service.name)))
