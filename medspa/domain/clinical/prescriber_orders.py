"""A prescriber's good-faith exam / order for a client (issue 18; rules in clinical/signing.py).

Recorded by a staff member with a prescriber licence (MD, DO, NP, PA) holding chart.write, from
the chart or the client's profile; read by anyone with chart.read (each list audited with the
client). Orders are never edited or deleted (append-only table): a new exam is a new order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from medspa.domain.base import is_row_id
from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.clinical.signing import ALL_SCOPE, is_prescriber, order_label
from medspa.domain.clinical.signing_models import PrescriberOrder
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import StaffMember
from medspa.domain.textrules import has_control
from medspa.domain.timezones import wall_to_utc

VALID_MONTHS = 12  # the default validity of an exam
MAX_VALID_DAYS = 731
MAX_NOTE = 2000


@dataclass(frozen=True)
class OrderView:
    """An order as the chart / profile lists it."""

    id: int
    label: str  # "Under the order of Dr. Lee (NP), exam Dec 1, 2026, valid until Dec 1, 2027"
    scope: str
    note: str
    valid: bool  # valid at `now`


def order_scopes(session: Session) -> list[str]:
    """What an order may cover: "all" and the clinic's service categories (lower case, sorted)."""
    cats = {(c or "").strip().lower() for c in session.exec(select(Service.category).where(Service.active))}
    return [ALL_SCOPE, *sorted(c for c in cats if c)]


def _add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _is_day(value: object) -> bool:
    """A calendar date, not a datetime (a datetime is a date in Python, but not a day)."""
    return isinstance(value, date) and not isinstance(value, datetime)


def record_order(session: Session, actor: Actor, client_id: int, *, scope: str, examined_on: date,
                 valid_until: date | None, note: str, time_zone: str, now: datetime) -> PrescriberOrder:
    """Record the acting prescriber's exam of `client_id` on `examined_on` (clinic-local date, not
    in the future), covering `scope` ("all" or a service category), valid until the start of
    `valid_until` (default: examined_on + 12 months; at most 2 years after the exam).

    chart.write and a prescriber licence on the actor's staff record, else NotFound (as for a
    missing client). Raises ValidationFailed {"scope"|"examined_on"|"valid_until"|"note": message}."""
    if not actor.can("chart.write") or not is_row_id(client_id):
        raise NotFound("client")
    staff = session.get(StaffMember, actor.staff_id) if actor.staff_id else None
    client = session.get(Client, client_id)
    if client is None or client.merged_into_id is not None:
        raise NotFound("client")
    if not is_prescriber(staff):
        raise ValidationFailed({"scope": "Only an MD, DO, NP or PA (licence on the staff page) can record an exam"})
    tz = ZoneInfo(time_zone)
    errors: dict[str, str] = {}
    scope = (scope or "").strip().lower() if isinstance(scope, str) else ""
    if scope not in order_scopes(session):
        errors["scope"] = "Choose what the order covers: all treatments or a service category"
    today = now.astimezone(tz).date()
    if not _is_day(examined_on) or examined_on > today:
        errors["examined_on"] = "Enter the exam date (today or earlier)"
    elif examined_on < today - timedelta(days=MAX_VALID_DAYS):
        errors["examined_on"] = "An exam older than two years cannot be recorded"
    until = valid_until
    if _is_day(examined_on) and "examined_on" not in errors:
        until = until or _add_months(examined_on, VALID_MONTHS)
        if not _is_day(until) or until <= examined_on:
            errors["valid_until"] = "Valid until must be after the exam date"
        elif (until - examined_on).days > MAX_VALID_DAYS:
            errors["valid_until"] = "An order is valid for at most two years"
    note = note.strip() if isinstance(note, str) else ""
    if len(note) > MAX_NOTE or has_control(note, multiline=True):
        errors["note"] = f"Use at most {MAX_NOTE:,} characters, no control characters"
    if errors:
        raise ValidationFailed(errors)
    examined_at = wall_to_utc(examined_on, time(0), tz)  # the exam covers the visits of its whole day
    order = PrescriberOrder(org_id=actor.org_id, client_id=client_id, prescriber_id=staff.id, scope=scope,
                            examined_at=examined_at, valid_until=wall_to_utc(until, time(0), tz), note=note,
                            created_by_user_id=actor.user_id, created_at=now)
    session.add(order)
    session.flush()
    record(session, actor, "prescriber_order.create", "prescriber_order", order.id, client_id=client_id, at=now,
           scope=scope, valid_until=until.isoformat())
    return order


def client_orders(session: Session, actor: Actor, client_id: int, time_zone: str, now: datetime) -> list[OrderView]:
    """The client's orders, newest exam first (chart.read; one audited read). NotFound otherwise."""
    if not actor.can("chart.read") or not is_row_id(client_id) or session.get(Client, client_id) is None:
        raise NotFound("client")
    rows = session.exec(select(PrescriberOrder, StaffMember).join(StaffMember, StaffMember.id == PrescriberOrder.prescriber_id)
                        .where(PrescriberOrder.client_id == client_id)
                        .order_by(PrescriberOrder.examined_at.desc(), PrescriberOrder.id.desc())).all()
    record(session, actor, "prescriber_order.read", "client", client_id, client_id=client_id, at=now, list=True)
    return [OrderView(o.id, order_label(o, st, time_zone), o.scope, o.note, o.examined_at <= now < o.valid_until)
            for o, st in rows]


__all__ = ["OrderView", "VALID_MONTHS", "client_orders", "order_scopes", "record_order"]
