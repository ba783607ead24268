"""Editing the service menu from /settings: validate, create, update, archive and restore.

Services take a session and never commit (catalog/actions.py owns the transaction). Every
change writes one audit row with the old and the new value of each changed field. A service
is never deleted: booked visits name it, and each visit keeps the price it was booked at
(Appointment.price_cents is copied at booking), so a price change affects new bookings only.
Availability reads the service row on every query, so a change takes effect at once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.changes import apply_changes, row_for_edit
from medspa.domain.clinical.contraindications import apply_default_rules
from medspa.domain.clinical.device_rows import CHART_TEMPLATES
from medspa.domain.clinical.signing import order_default
from medspa.domain.catalog.models import Service, ServiceProvider
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Organization, Resource, StaffMember

PERMISSION = "settings.write"  # owner and manager: the menu is about running the business

# bounds of what a clinic can sensibly enter (each message names its bound)
MAX_NAME, MAX_CATEGORY, MAX_DESCRIPTION = 120, 60, 2000
MAX_DURATION = 12 * 60
MAX_BUFFER = 240
MAX_PRICE_CENTS = 10_000_000  # 100,000.00 in the clinic's currency
MAX_NOTICE_MINUTES = 60 * 24 * 90
SLOT_GRIDS = (5, 10, 15, 20, 30, 60)
MAX_ADVANCE_DAYS = 730


@dataclass(frozen=True)
class ServiceInput:
    """What the settings form sends for one service (already parsed to numbers).

    Minutes for durations, buffers and notice; integer cents in the clinic's currency for
    price and deposit; room_type / device_type "" or None for none; provider_ids: staff ids
    who perform it (at every location they work: per-location providers are not modelled);
    max_advance_days None for the clinic-wide online horizon.
    """

    category: str
    name: str
    duration_minutes: int
    price_cents: int
    deposit_cents: int = 0
    description: str = ""
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    room_type: str | None = None
    device_type: str | None = None
    provider_ids: tuple[int, ...] = field(default_factory=tuple)
    online_bookable: bool = True
    min_notice_minutes: int = 120
    slot_grid_minutes: int = 15
    max_advance_days: int | None = None
    chart_template: str | None = None  # clinical/device_rows.CHART_TEMPLATES; None: from the category


@dataclass(frozen=True)
class ServiceOptions:
    """The choices the form offers: the clinic's currency, the room and device types its
    active rooms and devices have, and its active bookable staff as (id, name)."""

    currency: str
    room_types: list[str]
    device_types: list[str]
    providers: list[tuple[int, str]]


def _text_errors(data: ServiceInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    for key, value, limit, empty in (("name", data.name, MAX_NAME, "Give the service a name"),
                                     ("category", data.category, MAX_CATEGORY, "Choose or type a category"),
                                     ("description", data.description, MAX_DESCRIPTION, "")):
        if "\x00" in value:
            errors[key] = "Remove the invisible control characters"
        elif empty and not value.strip():
            errors[key] = empty
        elif len(value.strip()) > limit:
            errors[key] = f"Keep it under {limit} characters"
    return errors


def _number_errors(data: ServiceInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not 1 <= data.duration_minutes <= MAX_DURATION:
        errors["duration_minutes"] = f"Between 1 and {MAX_DURATION} minutes"
    for key in ("buffer_before_minutes", "buffer_after_minutes"):
        if not 0 <= getattr(data, key) <= MAX_BUFFER:
            errors[key] = f"Between 0 and {MAX_BUFFER} minutes"
    if not 0 <= data.price_cents <= MAX_PRICE_CENTS:
        errors["price_cents"] = "Price must be zero or more, at most 100,000"
    if data.deposit_cents < 0:
        errors["deposit_cents"] = "Deposit cannot be negative"
    elif "price_cents" not in errors and data.deposit_cents > data.price_cents:  # one message for one mistake
        errors["deposit_cents"] = "Deposit cannot be more than the price"
    if not 0 <= data.min_notice_minutes <= MAX_NOTICE_MINUTES:
        errors["min_notice_minutes"] = "Between 0 minutes and 90 days"
    if data.max_advance_days is not None and not 1 <= data.max_advance_days <= MAX_ADVANCE_DAYS:
        errors["max_advance_days"] = f"Between 1 and {MAX_ADVANCE_DAYS} days, or empty for no limit"
    return errors


def service_options(session: Session, actor: Actor) -> ServiceOptions:
    """The form's choices (see ServiceOptions). Raises PermissionDenied without settings.write."""
    actor.require(PERMISSION)
    currency = session.exec(select(Organization.currency).where(Organization.id == actor.org_id)).first() or "USD"

    def types(kind: str) -> list[str]:
        return sorted(set(session.exec(select(Resource.resource_type).where(
            Resource.kind == kind, Resource.active, Resource.resource_type != ""))))

    staff = session.exec(select(StaffMember.id, StaffMember.display_name).where(
        StaffMember.active, StaffMember.is_bookable).order_by(StaffMember.display_name))
    return ServiceOptions(currency, types("room"), types("device"), [(i, n) for i, n in staff])


def validate_service(session: Session, actor: Actor, data: ServiceInput, current: Service | None = None,
                     current_providers: tuple[int, ...] = ()) -> ServiceInput:
    """`data` cleaned (text stripped, "" types -> None, provider ids sorted and unique), or
    ValidationFailed with one message per bad field. A room/device type must be one the
    clinic's active rooms/devices have (or the service's current one, kept while editing), the
    slot grid one of SLOT_GRIDS (or the current one); providers must be active bookable staff (or already perform it)."""
    errors = _text_errors(data) | _number_errors(data)
    if data.slot_grid_minutes not in SLOT_GRIDS and not (current and data.slot_grid_minutes == current.slot_grid_minutes):
        errors["slot_grid_minutes"] = "Choose one of " + ", ".join(f"{g}" for g in SLOT_GRIDS) + " minutes"
    opts = service_options(session, actor)
    room = (data.room_type or "").strip() or None
    device = (data.device_type or "").strip() or None
    if room and room not in opts.room_types and not (current and room == current.room_type):
        errors["room_type"] = "No active room has this type: add the room first"
    if device and device not in opts.device_types and not (current and device == current.device_type):
        errors["device_type"] = "No active device has this type: add the device first"
    if data.chart_template is not None and data.chart_template not in CHART_TEMPLATES:
        errors["chart_template"] = "Choose a chart template from the list"
    providers = tuple(sorted(set(data.provider_ids)))
    allowed = {i for i, _ in opts.providers} | set(current_providers)
    if any(p not in allowed for p in providers):
        errors["provider_ids"] = "Choose providers from the list"
    if errors:
        raise ValidationFailed(errors)
    return ServiceInput(**{**asdict(data), "category": data.category.strip(), "name": data.name.strip(),
                           "description": data.description.strip(), "room_type": room, "device_type": device,
                           "provider_ids": providers})


_FIELDS = ("category", "name", "description", "duration_minutes", "buffer_before_minutes", "buffer_after_minutes",
           "price_cents", "deposit_cents", "room_type", "device_type", "online_bookable", "min_notice_minutes",
           "slot_grid_minutes", "max_advance_days", "chart_template")


def provider_ids_of(session: Session, service_id: int) -> tuple[int, ...]:
    """Ids of the staff who perform service `service_id`, sorted."""
    return tuple(sorted(session.exec(select(ServiceProvider.staff_id).where(
        ServiceProvider.service_id == service_id))))


def _set_providers(session: Session, actor: Actor, svc: Service, wanted: tuple[int, ...]) -> None:
    have = set(provider_ids_of(session, svc.id))
    for row in session.exec(select(ServiceProvider).where(ServiceProvider.service_id == svc.id,
                                                          ServiceProvider.staff_id.in_(have - set(wanted)))):
        session.delete(row)
    for staff_id in sorted(set(wanted) - have):
        session.add(ServiceProvider(org_id=actor.org_id, service_id=svc.id, staff_id=staff_id))


def create_service(session: Session, actor: Actor, data: ServiceInput) -> Service:
    """Add a service in the clinic's currency; audited "service.create" with every value.
    Raises PermissionDenied, ValidationFailed (field -> message)."""
    actor.require(PERMISSION)
    clean = validate_service(session, actor, data)
    currency = service_options(session, actor).currency
    svc = Service(org_id=actor.org_id, currency=currency, **{k: getattr(clean, k) for k in _FIELDS},
                  requires_prescriber_order=order_default(clean.category))  # issue 18: clinical/signing.py
    session.add(svc)
    session.flush()
    _set_providers(session, actor, svc, clean.provider_ids)
    record(session, actor, "service.create", "service", svc.id,
           new={**{k: getattr(clean, k) for k in _FIELDS}, "provider_ids": list(clean.provider_ids),
                "currency": currency})
    session.flush()
    apply_default_rules(session, svc)  # its category's built-in contraindications (issue 17)
    return svc


def _service_for_edit(session: Session, service_id: int) -> Service:
    return row_for_edit(session, Service, service_id, "service")


def update_service(session: Session, actor: Actor, service_id: int, data: ServiceInput) -> Service:
    """Change a service (archived ones too); audited "service.update" with {field: [old, new]}
    of the changed fields only (no row when nothing changed). Booked visits keep their price.
    Raises PermissionDenied, NotFound, ValidationFailed."""
    actor.require(PERMISSION)
    svc = _service_for_edit(session, service_id)
    before_providers = provider_ids_of(session, svc.id)
    clean = validate_service(session, actor, data, svc, before_providers)
    changes = apply_changes(svc, clean, _FIELDS)
    if before_providers != clean.provider_ids:
        changes["provider_ids"] = [list(before_providers), list(clean.provider_ids)]
        _set_providers(session, actor, svc, clean.provider_ids)
    if changes:
        record(session, actor, "service.update", "service", svc.id, name=svc.name, changes=changes)
    session.flush()
    return svc


def set_service_active(session: Session, actor: Actor, service_id: int, active: bool) -> Service:
    """Archive (active=False: no longer offered nor bookable, history kept) or restore a
    service; audited "service.archive" / "service.restore" with the old and new `active`.
    Raises PermissionDenied, NotFound."""
    actor.require(PERMISSION)
    svc = _service_for_edit(session, service_id)
    if svc.active != active:
        record(session, actor, "service.restore" if active else "service.archive", "service", svc.id,
               name=svc.name, changes={"active": [svc.active, active]})
        svc.active = active
        session.flush()
    return svc


def all_services(session: Session, actor: Actor, *, include_archived: bool = False) -> list[Service]:
    """The clinic's services by category and name (archived ones too when asked)."""
    actor.require(PERMISSION)
    stmt = select(Service)
    if not include_archived:
        stmt = stmt.where(Service.active)
    return list(session.exec(stmt.order_by(Service.category, Service.name, Service.id)))
