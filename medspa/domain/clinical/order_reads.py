"""Who reads orders and results, and what they see (every read audited; see orders.py).

- `worklist` (order.worklist.read: lab, provider, owner): open orders (ordered, collected)
  oldest first, then the last RECENT results; each row names the client (name and date of
  birth, to identify the specimen), the test and the status: never values, history, charts,
  consents or documents. One "order.worklist.read" row per client shown.
- `client_orders` (result.read: provider, owner): a client's orders with their results, for
  the profile. One "result.read" row (list=True).
- `results_to_review` (result.read): resulted orders waiting for a provider, oldest first.
  One "result.read" row per client shown (audit_per_client: each client's access log lists it).
- `portal_results` (a portal client): own REVIEWED results only. One "result.read" row.
- `open_result_file`: the result file for result.read staff, or its own client once reviewed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.clients.models import Client
from medspa.domain.clients.live import live_client
from medspa.domain.clinical.documents import OpenedFile
from medspa.domain.clinical.lab_tests import CATEGORIES, clinic_currency
from medspa.domain.clinical.orders import STATUS_LABELS, LabOrder, OrderStatus, get_order, result_file_name
from medspa.domain.clinical.photos import MediaStore
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location
from medspa.domain.timezones import format_clinic_time

RECENT = 20  # finished orders the worklist still shows (status only)


@dataclass(frozen=True)
class WorkItem:
    """One worklist row: who (to identify the specimen), what, where it stands."""

    id: int
    client_name: str
    date_of_birth: date | None
    test_name: str
    category_label: str
    status: str
    status_label: str
    ordered: str  # clinic time
    ordered_by: str
    note: str  # the provider's instruction to the lab


@dataclass(frozen=True)
class OrderView:
    """An order with its result as providers (all statuses) and clients (reviewed) see it."""

    id: int
    client_id: int
    client_name: str
    test_name: str
    category_label: str
    price_cents: int
    status: str
    status_label: str
    ordered: str
    ordered_by: str
    note: str
    collected: str
    resulted: str
    resulted_by: str
    values: list[dict]  # name, value, unit, low, high, flag
    result_notes: str
    has_file: bool
    reviewed: str
    reviewed_by: str
    review_note: str
    currency: str = "USD"
    visit: str = ""  # the visit it was ordered for ("Fri, Jul 3, 2026 · Botox"), or ""


def _zone(session: Session) -> str:
    return session.exec(select(Location.time_zone).order_by(Location.id)).first() or "UTC"


def _when(instant: datetime | None, zone: str) -> str:
    return format_clinic_time(instant, zone).rsplit(" (", 1)[0] if instant else ""  # "..., 12:00 PM EDT"


def _view(o: LabOrder, name: str, zone: str, currency: str, *, results: bool = True) -> OrderView:
    done = results and o.status in (OrderStatus.RESULTED, OrderStatus.REVIEWED)
    return OrderView(o.id, o.client_id, name, o.test_name, CATEGORIES.get(o.category, o.category), o.price_cents,
                     o.status, STATUS_LABELS.get(o.status, o.status), _when(o.ordered_at, zone), o.ordered_by_label,
                     o.order_note, _when(o.collected_at, zone), _when(o.resulted_at, zone), o.resulted_by_label,
                     list(o.result_values or []) if done else [], o.result_notes if done else "",
                     bool(o.result_file_key) and done, _when(o.reviewed_at, zone), o.reviewed_by_label,
                     o.review_note, currency)


def _name(c: Client) -> str:
    return f"{c.first_name} {c.last_name}".strip()


def audit_per_client(session: Session, actor: Actor, action: str, shown: list[LabOrder], now: datetime,
                     **detail: object) -> None:
    """Audit a list read of several clients' orders: one `action` row per client shown (with
    client_id and the ids of their orders), so each client's "Record access" lists it (like
    contraindications.audit_flag_reads); one row without a client when the list is empty."""
    by_client: dict[int, list[int]] = {}
    for o in shown:
        by_client.setdefault(o.client_id, []).append(o.id)
    if not by_client:
        record(session, actor, action, "lab_order", "", at=now, orders=[], **detail)
    for client_id, ids in sorted(by_client.items()):
        record(session, actor, action, "client", client_id, client_id=client_id, at=now, orders=ids, **detail)


def worklist(session: Session, actor: Actor, now: datetime) -> list[WorkItem]:
    """Open orders (ordered, collected) oldest first, then the RECENT latest finished ones.
    order.worklist.read. Raises NotFound for anyone else."""
    if not actor.can("order.worklist.read"):
        raise NotFound("worklist")
    zone = _zone(session)
    base = select(LabOrder, Client).join(Client, Client.id == LabOrder.client_id)
    open_rows = session.exec(base.where(LabOrder.status.in_([OrderStatus.ORDERED, OrderStatus.COLLECTED]))
                             .order_by(LabOrder.ordered_at, LabOrder.id)).all()
    done_rows = session.exec(base.where(LabOrder.status.in_([OrderStatus.RESULTED, OrderStatus.REVIEWED]))
                             .order_by(LabOrder.resulted_at.desc(), LabOrder.id.desc()).limit(RECENT)).all()
    items = [WorkItem(o.id, _name(c), c.date_of_birth, o.test_name, CATEGORIES.get(o.category, o.category),
                      o.status, STATUS_LABELS.get(o.status, o.status), _when(o.ordered_at, zone), o.ordered_by_label,
                      o.order_note) for o, c in [*open_rows, *done_rows]]
    audit_per_client(session, actor, "order.worklist.read", [o for o, _ in [*open_rows, *done_rows]], now)
    return items


def client_orders(session: Session, actor: Actor, client_id: int, now: datetime) -> list[OrderView]:
    """A client's orders, newest first, with results. result.read. Raises NotFound (also for
    a client merged away: their orders are on the surviving record)."""
    if not actor.can("result.read"):
        raise NotFound("client")
    client = live_client(session, client_id, org_id=actor.org_id)
    zone = _zone(session)
    orders = session.exec(select(LabOrder).where(LabOrder.client_id == client_id)
                          .order_by(LabOrder.ordered_at.desc(), LabOrder.id.desc())).all()
    record(session, actor, "result.read", "client", client_id, client_id=client_id, at=now, list=True,
           orders=len(orders))
    currency = clinic_currency(session, actor.org_id)
    visits = _visit_words(session, [o.appointment_id for o in orders if o.appointment_id], zone)
    return [dataclasses.replace(_view(o, _name(client), zone, currency), visit=visits.get(o.appointment_id, ""))
            for o in orders]


def _visit_words(session: Session, ids: list[int], zone: str) -> dict[int, str]:
    """appointment id -> "Fri, Jul 3, 2026 · Botox" (the visit's clinic-local date and service)."""
    from zoneinfo import ZoneInfo

    from medspa.domain.catalog.models import Service
    from medspa.domain.scheduling.models import Appointment

    if not ids:
        return {}
    rows = session.exec(select(Appointment.id, Appointment.start_at, Service.name)
                        .join(Service, Service.id == Appointment.service_id).where(Appointment.id.in_(ids))).all()
    tz = ZoneInfo(zone)
    return {a: f"{start.astimezone(tz):%a, %b} {start.astimezone(tz).day}, {start.astimezone(tz).year} · {name}"
            for a, start, name in rows}


def results_to_review(session: Session, actor: Actor, now: datetime) -> list[OrderView]:
    """Resulted orders waiting for review, oldest result first. result.read. Raises NotFound."""
    if not actor.can("result.read"):
        raise NotFound("results")
    zone = _zone(session)
    rows = session.exec(select(LabOrder, Client).join(Client, Client.id == LabOrder.client_id)
                        .where(LabOrder.status == OrderStatus.RESULTED)
                        .order_by(LabOrder.resulted_at, LabOrder.id)).all()
    audit_per_client(session, actor, "result.read", [o for o, _ in rows], now, to_review=True)
    currency = clinic_currency(session, actor.org_id)
    return [_view(o, _name(c), zone, currency) for o, c in rows]


def portal_results(session: Session, actor: Actor, now: datetime) -> list[OrderView]:
    """The portal client's own reviewed results, newest review first. One "result.read" row.
    Raises NotFound for anyone but a portal client of a live (not merged-away) record."""
    if actor.role != "client" or not actor.can("portal.self.read") or actor.client_id is None:
        raise NotFound("results")
    try:
        client = live_client(session, actor.client_id, org_id=actor.org_id)
    except NotFound:
        raise NotFound("results") from None
    zone = _zone(session)
    orders = session.exec(select(LabOrder).where(LabOrder.client_id == actor.client_id,
                                                 LabOrder.status == OrderStatus.REVIEWED)
                          .order_by(LabOrder.reviewed_at.desc(), LabOrder.id.desc())).all()
    record(session, actor, "result.read", "client", actor.client_id, client_id=actor.client_id, at=now,
           list=True, orders=len(orders))
    currency = clinic_currency(session, actor.org_id)
    visits = _visit_words(session, [o.appointment_id for o in orders if o.appointment_id], zone)
    return [dataclasses.replace(_view(o, _name(client), zone, currency), visit=visits.get(o.appointment_id, ""))
            for o in orders]


def open_result_file(session: Session, actor: Actor, order_id: int, now: datetime, store: MediaStore
                     ) -> OpenedFile:
    """An order's result file: result.read staff, or its own portal client once reviewed.
    One "result.read" row. Raises NotFound (forbidden, no file, bytes gone)."""
    if actor.role == "client":
        if not actor.can("portal.self.read") or actor.client_id is None:
            raise NotFound("order")
    elif not actor.can("result.read"):
        raise NotFound("order")
    order = get_order(session, actor, order_id)
    if actor.role == "client" and (order.client_id != actor.client_id or order.status != OrderStatus.REVIEWED):
        raise NotFound("order")
    if not order.result_file_key or order.status not in (OrderStatus.RESULTED, OrderStatus.REVIEWED):
        raise NotFound("order")
    try:
        live_client(session, order.client_id, org_id=actor.org_id)  # a merge moves orders: belt and braces
    except NotFound:
        raise NotFound("order") from None
    try:
        data = store.get(order.result_file_key)
    except (KeyError, ValueError) as exc:
        raise NotFound("order") from exc
    record(session, actor, "result.read", "lab_order", order.id, client_id=order.client_id, at=now, file=True)
    return OpenedFile(data, order.result_file_type or "application/octet-stream", result_file_name(order))


__all__ = ["OrderView", "WorkItem", "audit_per_client", "client_orders", "open_result_file", "portal_results", "results_to_review",
           "worklist"]
