"""Use cases of the Services tab of /settings (settings.write: owner and manager).

Each action checks the permission, opens one tenant transaction, works through
catalog/editing.py (which writes the audit row in that transaction) and returns frozen
dataclasses, never ORM rows. `engine` is for tests (None: the app's engine).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from medspa.domain.catalog.editing import (
    PERMISSION, ServiceInput, ServiceOptions, all_services, create_service, provider_ids_of, service_options,
    set_service_active, update_service)
from medspa.domain.catalog.models import Service
from medspa.domain.identity.actor import Actor
from medspa.domain.work import atomic

__all__ = ["ServiceRow", "ServiceSettings", "do_create_service", "do_set_service_active", "do_update_service",
           "fetch_service_settings"]


@dataclass(frozen=True)
class ServiceRow:
    """One service as the settings page shows and edits it (cents, minutes, staff ids)."""

    id: int
    category: str
    name: str
    description: str
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    price_cents: int
    deposit_cents: int
    currency: str
    room_type: str | None
    device_type: str | None
    provider_ids: tuple[int, ...]
    online_bookable: bool
    min_notice_minutes: int
    slot_grid_minutes: int
    max_advance_days: int | None
    active: bool
    chart_template: str | None = None  # None: the category's default (clinical/device_rows.py)


@dataclass(frozen=True)
class ServiceSettings:
    """The Services tab: the form's options and the services (archived ones when asked)."""

    options: ServiceOptions
    services: list[ServiceRow]


def _row(session: Session, svc: Service) -> ServiceRow:
    return ServiceRow(svc.id, svc.category, svc.name, svc.description, svc.duration_minutes,
                      svc.buffer_before_minutes, svc.buffer_after_minutes, svc.price_cents, svc.deposit_cents,
                      svc.currency, svc.room_type, svc.device_type, provider_ids_of(session, svc.id),
                      svc.online_bookable, svc.min_notice_minutes, svc.slot_grid_minutes, svc.max_advance_days,
                      svc.active, svc.chart_template)


def fetch_service_settings(actor: Actor, *, include_archived: bool = False,
                           engine: Engine | None = None) -> ServiceSettings:
    """Options and services by category and name. Raises PermissionDenied without settings.write."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        return ServiceSettings(service_options(s, actor),
                               [_row(s, svc) for svc in all_services(s, actor, include_archived=include_archived)])


def do_create_service(actor: Actor, data: ServiceInput, *, engine: Engine | None = None) -> ServiceRow:
    """Add a service (audited "service.create"). Raises PermissionDenied, ValidationFailed
    (field -> message; nothing is written)."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return _row(work.session, create_service(work.session, actor, data))


def do_update_service(actor: Actor, service_id: int, data: ServiceInput, *,
                      engine: Engine | None = None) -> ServiceRow:
    """Change a service (audited "service.update", old and new values). Booked visits keep
    their price. Raises PermissionDenied, NotFound, ValidationFailed (nothing is written)."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return _row(work.session, update_service(work.session, actor, service_id, data))


def do_set_service_active(actor: Actor, service_id: int, active: bool, *,
                          engine: Engine | None = None) -> ServiceRow:
    """Archive (False) or restore (True) a service (audited). Raises PermissionDenied, NotFound."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return _row(work.session, set_service_active(work.session, actor, service_id, active))
