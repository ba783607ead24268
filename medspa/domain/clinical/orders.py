"""Orders and results: a provider orders a test for a client, the lab collects the sample and
records the result, the provider reviews it, then the client sees it (issue 17, section 3).

Statuses (OrderStatus) go one way only, each step stamped with who and when:
    ordered --collect--> collected --record_result--> resulted --review--> reviewed
A step from any other status is refused with a message that says where the order stands
(ValidationFailed({"status": ...})); the database's check constraints back the stamps.

Permissions (domain/identity/permissions.py): order.write (provider, owner) orders and
reviews; result.read (provider, owner) reads orders with their results on the profile and the
"to review" list; order.worklist.read / order.result.write (lab, provider, owner) see the
worklist (client name and date of birth to identify the specimen, the test, the status:
nothing else of the record) and move an order to collected and resulted. A portal client sees
only their own reviewed results. Missing and forbidden look alike (NotFound).

Result values (`clean_values`): name, value, unit, reference low/high as typed; a value must be
a number when a range is given; low <= high; a value under low is flagged "low", over high
"high". Stored as canonical strings in JSON, never floats. The optional result file follows
the document rules (documents.check_file).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, Session, SQLModel, select

from medspa.domain.work import on_rollback
from medspa.domain.base import is_row_id
from medspa.domain.audit.service import record
from medspa.domain.base import fk, org_fk, pk, tstamp
from medspa.domain.clients.live import live_client
from medspa.domain.clinical.documents import EXTENSIONS, check_file, store_checked
from medspa.domain.clinical.lab_tests import LabTest, ensure_builtin_tests
from medspa.domain.clinical.photos import MediaStore
from medspa.domain.textrules import refuse_control
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.scheduling.models import Appointment, AppointmentStatus

# the visits an order may be for (not a cancelled, no-show, lapsed hold or unconfirmed one)
ORDERABLE_VISITS = frozenset({AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED})

MAX_VALUES = 30
MAX_NOTES = 4000
MAX_MAGNITUDE = Decimal(10) ** 15  # a result number at or beyond this is a typo (or an attack)


class OrderStatus(StrEnum):
    """Where an order stands; each status is reached from exactly one before it (NEXT)."""

    ORDERED = "ordered"
    COLLECTED = "collected"
    RESULTED = "resulted"
    REVIEWED = "reviewed"


STATUS_LABELS = {"ordered": "Ordered", "collected": "Collected", "resulted": "Result in", "reviewed": "Reviewed"}
FROM = {OrderStatus.COLLECTED: OrderStatus.ORDERED, OrderStatus.RESULTED: OrderStatus.COLLECTED,
        OrderStatus.REVIEWED: OrderStatus.RESULTED}
"""The one status each step starts from."""
REFUSED = {OrderStatus.COLLECTED: "Only an ordered test can be marked collected",
           OrderStatus.RESULTED: "Results can be recorded only after the sample is collected",
           OrderStatus.REVIEWED: "Only a test with results can be reviewed"}


class LabOrder(SQLModel, table=True):
    """One ordered test. Name, category and price are copied from the catalog when ordered."""

    __tablename__ = "lab_order"
    id: int | None = pk()
    org_id: int = org_fk()
    client_id: int = fk("client.id")
    test_id: int = fk("lab_test.id", index=False)
    appointment_id: int | None = fk("appointment.id", nullable=True, index=False)
    test_name: str = Field(sa_column=Column(String(80), nullable=False))
    category: str = Field(sa_column=Column(String(20), nullable=False))
    price_cents: int = Field(sa_column=Column(Integer, nullable=False))
    status: str = Field(default=OrderStatus.ORDERED.value, sa_column=Column(String(12), nullable=False))
    order_note: str = Field(default="", sa_column=Column(String(500), nullable=False))
    ordered_at: datetime = tstamp(nullable=False)
    ordered_by: int | None = fk("user_account.id", nullable=True, index=False)
    ordered_by_label: str = Field(default="", sa_column=Column(String(120), nullable=False))
    collected_at: datetime | None = tstamp()
    collected_by: int | None = fk("user_account.id", nullable=True, index=False)
    collected_by_label: str = Field(default="", sa_column=Column(String(120), nullable=False))
    resulted_at: datetime | None = tstamp()
    resulted_by: int | None = fk("user_account.id", nullable=True, index=False)
    resulted_by_label: str = Field(default="", sa_column=Column(String(120), nullable=False))
    result_values: list = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    result_notes: str = Field(default="", sa_column=Column(Text, nullable=False))
    result_file_key: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    result_file_type: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    reviewed_at: datetime | None = tstamp()
    reviewed_by: int | None = fk("user_account.id", nullable=True, index=False)
    reviewed_by_label: str = Field(default="", sa_column=Column(String(120), nullable=False))
    review_note: str = Field(default="", sa_column=Column(Text, nullable=False))


@dataclass(frozen=True)
class ResultValue:
    """One checked value: strings as stored; flag "low", "high" or ""."""

    name: str
    value: str
    unit: str = ""
    low: str = ""
    high: str = ""
    flag: str = ""


# ---------------------------------------------------------------------------- values


_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)", re.ASCII)
_EXPONENT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)[eE][+-]?\d+", re.ASCII)
NOT_A_NUMBER = "Enter a number."
NOT_PLAIN = "Write the number in plain digits (e.g. 0.0012), not in exponent notation."
TOO_LARGE = "This number is too large for a result; check the value."


def parse_number(text: str) -> tuple[Decimal | None, str]:
    """(number, "") for plain decimal digits ("11.2", "-0.5", "\u22123") below MAX_MAGNITUDE,
    else (None, message): NOT_A_NUMBER, NOT_PLAIN (exponent notation such as "1e9999"),
    TOO_LARGE. NaN and Infinity are not numbers."""
    text = text.strip().replace("\u2212", "-")
    if not _PLAIN_NUMBER.fullmatch(text):
        return None, NOT_PLAIN if _EXPONENT.fullmatch(text) else NOT_A_NUMBER
    number = Decimal(text)
    if abs(number) >= MAX_MAGNITUDE:
        return None, TOO_LARGE
    return number, ""


def _plain(number: Decimal) -> str:
    return format(number, "f")  # never "1E-7"


def _text(row: Any, key: str, limit: int, errors: dict[str, str], error_key: str) -> str:
    value = row.get(key, "") if isinstance(row, dict) else ""
    if value is not None and not isinstance(value, str):
        errors[error_key] = "Enter this as text."
        return ""
    value = " ".join((value or "").split())[:limit + 1]
    refuse_control(value, error_key, errors)
    return value


def clean_values(rows: Any) -> list[ResultValue]:
    """Check the typed result rows (dicts of name, value, unit, low, high; all strings).

    Rows left wholly empty are skipped. Numbers (the value when a range is given, low, high)
    are plain decimal digits below MAX_MAGNITUDE (parse_number), stored in plain digits.
    Raises ValidationFailed with keys "values.<i>.<field>" (i: the row's index as given; not
    text, too long, control characters, not a number, exponent notation, too large),
    "values.<i>" (a row that is not a dict) or "values" (not a list, over MAX_VALUES rows)."""
    if not isinstance(rows, list):
        raise ValidationFailed({"values": "The result values could not be read."})
    if len(rows) > MAX_VALUES:
        raise ValidationFailed({"values": f"At most {MAX_VALUES} values per result."})
    errors: dict[str, str] = {}
    out: list[ResultValue] = []
    for i, row in enumerate(rows):
        key = f"values.{i}."
        if not isinstance(row, dict):
            errors[f"values.{i}"] = "The result values could not be read."
            continue
        name, value, unit = (_text(row, f, n, errors, key + f) for f, n in (("name", 60), ("value", 40), ("unit", 20)))
        low, high = _text(row, "low", 20, errors, key + "low"), _text(row, "high", 20, errors, key + "high")
        if not any((name, value, unit, low, high)):
            continue
        if not name:
            errors[key + "name"] = "Name the value (e.g. Hemoglobin)."
        elif len(name) > 60:
            errors[key + "name"] = "At most 60 characters."
        if not value:
            errors[key + "value"] = "Enter the value."
        elif len(value) > 40:
            errors[key + "value"] = "At most 40 characters."
        if len(unit) > 20:
            errors[key + "unit"] = "At most 20 characters."
        (lo, low_error), (hi, high_error) = parse_number(low), parse_number(high)
        number, value_error = parse_number(value)
        if low and lo is None:
            errors.setdefault(key + "low", low_error)
        if high and hi is None:
            errors.setdefault(key + "high", high_error)
        if lo is not None and hi is not None and lo > hi:
            errors.setdefault(key + "high", "The upper limit is below the lower one.")
        if (low or high) and value and number is None:
            errors.setdefault(key + "value", value_error if value_error != NOT_A_NUMBER
                              else "Enter a number to compare with the reference range.")
        # no range: a value that is no plain number is kept as typed ("positive", "1E3")
        flag = ""
        if number is not None and lo is not None and number < lo:
            flag = "low"
        elif number is not None and hi is not None and number > hi:
            flag = "high"
        out.append(ResultValue(name, _plain(number) if number is not None else value, unit,
                               _plain(lo) if lo is not None else "", _plain(hi) if hi is not None else "", flag))
    if errors:
        raise ValidationFailed(errors)
    return out


# ---------------------------------------------------------------------------- steps


def get_order(session: Session, actor: Actor, order_id: int, *, lock: bool = False) -> LabOrder:
    """The clinic's order `order_id` (FOR UPDATE with lock). Raises NotFound. No permission
    check: callers check theirs first."""
    if not is_row_id(order_id):
        raise NotFound("order")
    query = select(LabOrder).where(LabOrder.id == order_id)
    order = session.exec(query.with_for_update() if lock else query).first()
    if order is None or order.org_id != actor.org_id:
        raise NotFound("order")
    return order


def _note(text: Any, key: str, limit: int) -> str:
    """A multi-line note, stripped: None is empty. Raises ValidationFailed({key}) for
    anything but text, over `limit` characters, or with control characters."""
    if text is not None and not isinstance(text, str):
        raise ValidationFailed({key: "Enter the note as text."})
    text = (text or "").strip()
    if len(text) > limit:
        raise ValidationFailed({key: f"Keep the note to {limit:,} characters."})
    errors: dict[str, str] = {}
    refuse_control(text, key, errors, multiline=True)
    if errors:
        raise ValidationFailed(errors)
    return text


def _step(order: LabOrder, to: OrderStatus) -> None:
    if order.status != FROM[to]:
        now_label = STATUS_LABELS.get(order.status, order.status).lower()
        raise ValidationFailed({"status": f"{REFUSED[to]}; this one is {now_label}."})


def place_order(session: Session, actor: Actor, client_id: int, test_id: int, now: datetime, *,
                appointment_id: int | None = None, note: str = "") -> LabOrder:
    """Order catalog test `test_id` for the client (optionally for one of their visits).
    order.write; the client row is locked. Raises NotFound (client missing, merged away,
    forbidden), ValidationFailed ({"test"}: not an active test; {"visit"}: not this client's
    visit; {"note"}: not text, over 500 characters, control characters).
    One "order.create" audit row."""
    if not actor.can("order.write"):
        raise NotFound("client")
    live_client(session, client_id, lock=True, org_id=actor.org_id)  # a concurrent merge waits, or wins and we stop
    note = _note(note, "note", 500)
    ensure_builtin_tests(session, actor.org_id, now)
    test = session.get(LabTest, test_id) if is_row_id(test_id) else None
    if test is None or test.org_id != actor.org_id or not test.active:
        raise ValidationFailed({"test": "Choose a test from the catalog."})
    if appointment_id is not None:
        appt = session.get(Appointment, appointment_id) if is_row_id(appointment_id) else None
        if appt is None or appt.client_id != client_id or appt.status not in ORDERABLE_VISITS:
            raise ValidationFailed({"visit": "Choose one of this client's confirmed, checked-in or completed visits."})
    order = LabOrder(org_id=actor.org_id, client_id=client_id, test_id=test.id, appointment_id=appointment_id,
                     test_name=test.name, category=test.category, price_cents=test.price_cents, order_note=note,
                     ordered_at=now, ordered_by=actor.user_id, ordered_by_label=actor.label)
    session.add(order)
    session.flush()
    record(session, actor, "order.create", "lab_order", order.id, client_id=client_id, at=now, test=test.name,
           appointment_id=appointment_id)
    return order


def mark_collected(session: Session, actor: Actor, order_id: int, now: datetime) -> LabOrder:
    """ordered -> collected. order.result.write. Raises NotFound, ValidationFailed({"status"})."""
    if not actor.can("order.result.write"):
        raise NotFound("order")
    order = get_order(session, actor, order_id, lock=True)
    _step(order, OrderStatus.COLLECTED)
    order.status, order.collected_at = OrderStatus.COLLECTED.value, now
    order.collected_by, order.collected_by_label = actor.user_id, actor.label
    session.add(order)
    session.flush()
    record(session, actor, "order.collect", "lab_order", order.id, client_id=order.client_id, at=now)
    return order


def record_result(session: Session, actor: Actor, order_id: int, rows: Any, notes: str, now: datetime, *,
                  file: bytes | None = None, store: MediaStore | None = None) -> LabOrder:
    """collected -> resulted with the checked values, notes and an optional file (document
    rules: PDF/JPEG/PNG by content, at most 10 MB). order.result.write. Raises NotFound,
    ValidationFailed ({"status"}, "values.<i>.<field>", {"values"}, {"notes"}, {"file"}).
    One "order.result" audit row (counts only, never the values)."""
    if not actor.can("order.result.write"):
        raise NotFound("order")
    order = get_order(session, actor, order_id, lock=True)
    _step(order, OrderStatus.RESULTED)
    values = clean_values(rows)
    notes = _note(notes, "notes", MAX_NOTES)
    if not values and not notes and not file:
        raise ValidationFailed({"values": "Enter at least one value, a note or a file."})
    key = None
    if file:
        if store is None:  # pragma: no cover - a caller's mistake
            raise ValueError("record_result needs a store for a file")
        checked = check_file(file)
        key = store_checked(store, actor.org_id, "results", checked)
        on_rollback(session, lambda: store.delete(key))  # a failure up to the commit leaves no orphan file
        order.result_file_key, order.result_file_type = key, checked.content_type
    try:
        order.status, order.resulted_at = OrderStatus.RESULTED.value, now
        order.resulted_by, order.resulted_by_label = actor.user_id, actor.label
        order.result_values = [v.__dict__ for v in values]
        order.result_notes = notes
        session.add(order)
        session.flush()
    except BaseException:
        if key and store is not None:
            try:
                store.delete(key)
            except Exception:  # noqa: BLE001
                pass
        raise
    record(session, actor, "order.result", "lab_order", order.id, client_id=order.client_id, at=now,
           values=len(values), flagged=sum(1 for v in values if v.flag), file=bool(key))
    return order


def review_result(session: Session, actor: Actor, order_id: int, note: str, now: datetime) -> LabOrder:
    """resulted -> reviewed with the provider's note (shown to the client with the result;
    at most 2,000 characters). order.write. Raises NotFound, ValidationFailed ({"status"},
    {"note"}). One "order.review" audit row; from now on the client sees the result."""
    if not actor.can("order.write"):
        raise NotFound("order")
    order = get_order(session, actor, order_id, lock=True)
    _step(order, OrderStatus.REVIEWED)
    note = _note(note, "note", 2000)
    order.status, order.reviewed_at, order.review_note = OrderStatus.REVIEWED.value, now, note
    order.reviewed_by, order.reviewed_by_label = actor.user_id, actor.label
    session.add(order)
    session.flush()
    record(session, actor, "order.review", "lab_order", order.id, client_id=order.client_id, at=now)
    return order


def result_file_name(order: LabOrder) -> str:
    """The download name of an order's result file: "result-12.pdf" (never the client's name)."""
    return f"result-{order.id}.{EXTENSIONS.get(order.result_file_type or '', 'bin')}"


__all__ = ["FROM", "LabOrder", "OrderStatus", "ResultValue", "STATUS_LABELS", "clean_values", "get_order",
           "mark_collected", "place_order", "record_result", "result_file_name", "review_result"]
