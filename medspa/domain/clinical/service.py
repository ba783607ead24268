"""Treatment charts: read (chart.read), save a draft, sign, amend (chart.write).

Provider and owner only (permissions.py). Anyone else, another clinic's visit and a visit
that never happened (a hold, an expired hold, no client) all get NotFound: missing and
forbidden look alike. Every read is one "chart.read" audit row with the client; every write
is audited in the same transaction (never with the note text or the lines themselves).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.clinical.consent import missing_for_chart
from medspa.domain.clinical.device_rows import (SettingInput, SettingRow, copy_settings, device_choices,
                                                replace_settings, setting_rows, template_of, validate_settings)
from medspa.domain.clinical.models import NoteStatus, TreatmentLine, TreatmentNote
from medspa.domain.clinical.signing import Addendum, check_order, note_extras, signer_problem
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location, StaffMember
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.textrules import has_control
from medspa.domain.timezones import format_clinic_clock, zone_abbreviation

# the treatment areas a line may name (also the database check of treatment_line, migration 0048)
TREATMENT_AREAS = ("forehead", "glabella", "crow's feet", "bunny lines", "brow", "temples", "tear troughs", "cheeks",
                   "nasolabial folds", "lips", "perioral lines", "marionette lines", "dao", "chin", "jawline",
                   "masseter", "neck", "other")
FACE_VIEWS = ("front", "left", "right")  # the face diagram's views (a line's point)
MAX_UNITS_TENTHS = 2000  # 200 units
MAX_LINES = 40
MAX_NOTE = 10_000
# a line is an injectable (lot number required) when the visit is an injectable service or the
# product is a known injectable brand
INJECTABLE_CATEGORIES = ("neuromodulators", "dermal fillers", "fillers", "biostimulators")
INJECTABLE_PRODUCTS = ("botox", "dysport", "xeomin", "jeuveau", "daxxify", "letybo", "juvederm", "juvéderm",
                       "voluma", "volbella", "vollure", "restylane", "rha", "belotero", "radiesse", "sculptra",
                       "kybella", "skinvive", "revanesse", "versa")
NOT_CHARTABLE = (AppointmentStatus.HELD, AppointmentStatus.EXPIRED)  # holds are not visits
_LOT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./ -]{0,39}$")
_UNITS = re.compile(r"^\d{1,4}(\.\d)?$")


class ChartLocked(Exception):
    """The chart is signed (read-only), or there is nothing to sign/amend. str() is the message."""


def consent_gate(session: Session, appointment: Appointment, now: datetime) -> None:
    """Raise ChartLocked naming the consents the visit's service requires that its client has
    not signed on the current version (domain/clinical/consent.py)."""
    missing = missing_for_chart(session, appointment, now)
    if missing:
        raise ChartLocked("The chart cannot be signed yet: the client has not signed the current version of "
                          + "; ".join(f"“{t}”" for t in missing)
                          + ". Use “Sign with client”, or ask the client to sign in the portal.")


@dataclass(frozen=True)
class LineInput:
    """One row as typed: units as text ("20", "2.5")."""

    product: str = ""
    lot_number: str = ""
    units: str = ""
    treatment_area: str = ""
    view: str | None = None  # the face-map point (clinical/face_map.py): all three or none
    x: int | None = None
    y: int | None = None


@dataclass(frozen=True)
class ChartLine:
    """One treatment line of a chart: product, lot number, units in integer tenths, treatment
    area, and its face-map point (view, x, y in thousandths) or none."""

    product: str
    lot_number: str
    units_tenths: int
    treatment_area: str
    view: str | None = None
    x: int | None = None
    y: int | None = None

    @property
    def units(self) -> str:
        """"20" or "2.5" (from integer tenths)."""
        whole, tenth = divmod(self.units_tenths, 10)
        return f"{whole}.{tenth}" if tenth else str(whole)


@dataclass(frozen=True)
class ChartVersion:
    """An older version of a chart as the history lists it: number, status and signed label (or "Draft")."""

    version: int
    status: str
    signed_label: str  # "Signed by Nurse Amy, July 1, 2026 at 2:05 PM EDT" or "Draft"


@dataclass(frozen=True)
class Chart:
    """What the chart page shows: the visit and the current (latest) version of its note."""

    appointment_id: int
    client_id: int
    client_name: str
    service_name: str
    provider_name: str
    location_name: str
    time_zone: str
    date_label: str
    time_label: str  # "2:00 PM – 2:30 PM EDT (America/New_York)"
    note_id: int | None  # None: nothing saved yet
    version: int
    status: str  # draft or signed
    note: str
    lines: list[ChartLine] = field(default_factory=list)
    signed_label: str = ""
    history: list[ChartVersion] = field(default_factory=list)  # older versions, newest first
    # issue 18 (clinical/signing.py): the order the visit rests on, why it cannot be charted,
    # addenda under the signed version, its co-sign
    order_label: str = ""
    order_problem: str = ""
    addenda: list[Addendum] = field(default_factory=list)
    cosign_label: str = ""
    needs_cosign: bool = False
    template: str = "general"  # the service's chart template (clinical/device_rows.py)
    settings: list[SettingRow] = field(default_factory=list)  # device/peel rows
    devices: list[tuple[int, str]] = field(default_factory=list)  # the clinic's devices (id, name)

    @property
    def editable(self) -> bool:
        return self.status == NoteStatus.DRAFT


# ---------------------------------------------------------------------------- validation


def _clean(text: object, limit: int) -> str:
    return text.strip()[:limit] if isinstance(text, str) else ""


def _has_control(text: str, allow_newlines: bool = False) -> bool:
    """textcheck.has_control: THE control-character check of the clinical record."""
    return has_control(text, multiline=allow_newlines)


def is_injectable(product: str, category: str) -> bool:
    """True when a lot number must be recorded for this product in a visit of this category."""
    name = product.strip().lower()
    return category.strip().lower() in INJECTABLE_CATEGORIES or any(
        name == brand or name.startswith(brand + " ") for brand in INJECTABLE_PRODUCTS)


def parse_units(text: object) -> int:
    """"20" -> 200, "2.5" -> 25 (tenths). Raises ValueError with the user message."""
    raw = text.strip() if isinstance(text, str) else ""
    if not raw:
        raise ValueError("Enter the units")
    if not _UNITS.match(raw):
        raise ValueError("Enter a number with at most one decimal, e.g. 20 or 2.5")
    try:
        tenths = int(Decimal(raw) * 10)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guards
        raise ValueError("Enter a number with at most one decimal, e.g. 20 or 2.5") from exc
    if tenths <= 0:
        raise ValueError("Units must be more than 0")
    if tenths > MAX_UNITS_TENTHS:
        raise ValueError("At most 200 units per line")
    return tenths


def _coordinate(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def clean_point(view: object, x: object, y: object) -> tuple[str | None, int | None, int | None]:
    """(view, x, y) checked: all three or none ((None, None, None)); view in FACE_VIEWS; x and
    y whole thousandths 0..1000. Raises ValueError with the user message."""
    blank = lambda v: v is None or v == ""  # noqa: E731
    if blank(view) and blank(x) and blank(y):
        return None, None, None
    if blank(view) or blank(x) or blank(y):
        raise ValueError("A point needs its view and both coordinates: place it on the diagram again")
    if view not in FACE_VIEWS:
        raise ValueError("Place the point on the front, left or right view")
    cx, cy = _coordinate(x), _coordinate(y)
    if cx is None or cy is None or not (0 <= cx <= 1000 and 0 <= cy <= 1000):
        raise ValueError("The point is outside the diagram: place it again")
    return str(view), cx, cy


def validate_lines(lines: list[LineInput], note: str, category: str) -> tuple[list[ChartLine], str]:
    """Clean lines and note, or ValidationFailed with one message per field
    ("lines.0.product", "lines.0.lot_number", "lines.0.units", "lines.0.treatment_area",
    "lines.0.point" (face map), "note", "lines")."""
    errors: dict[str, str] = {}
    if not isinstance(lines, (list, tuple)) or len(lines) > MAX_LINES:
        raise ValidationFailed({"lines": f"At most {MAX_LINES} lines"})
    if not isinstance(note, str):
        note = ""
    if len(note) > MAX_NOTE:
        errors["note"] = f"Use at most {MAX_NOTE:,} characters"
    elif _has_control(note, allow_newlines=True):
        errors["note"] = "Remove the invisible control characters"
    clean: list[ChartLine] = []
    for i, line in enumerate(lines):
        if not isinstance(line, LineInput):
            raise ValidationFailed({"lines": "Unreadable line"})
        key = f"lines.{i}."
        product = _clean(line.product, 200)
        lot = _clean(line.lot_number, 200)
        area = _clean(line.treatment_area, 40).lower()
        if not product:
            errors[key + "product"] = "Enter the product"
        elif len(product) > 80 or _has_control(product):
            errors[key + "product"] = "Use at most 80 characters, no control characters"
        if lot and not _LOT.match(lot):
            errors[key + "lot_number"] = "Use letters, digits, '-', '.', '/' (at most 40)"
        elif not lot and product and is_injectable(product, category):
            errors[key + "lot_number"] = "Enter the lot number (required for injectables)"
        try:
            tenths = parse_units(line.units)
        except ValueError as exc:
            errors[key + "units"] = str(exc)
            tenths = 0
        if area not in TREATMENT_AREAS:
            errors[key + "treatment_area"] = "Choose a treatment area from the list (e.g. forehead, glabella, lips)"
        try:
            view, x, y = clean_point(line.view, line.x, line.y)
        except ValueError as exc:
            errors[key + "point"] = str(exc)
            view, x, y = None, None, None
        clean.append(ChartLine(product, lot.upper(), tenths, area, view, x, y))
    if errors:
        raise ValidationFailed(errors)
    return clean, note.strip()


# ---------------------------------------------------------------------------- reads


def _visit(session: Session, actor: Actor, appointment_id: int, action: str, *, lock: bool = False):
    """(appointment, service, client, provider, location) or NotFound (also when forbidden)."""
    if not actor.can(action) or isinstance(appointment_id, bool) or not isinstance(appointment_id, int):
        raise NotFound("chart")
    query = (select(Appointment, Service, Client, StaffMember, Location)
             .join(Service, Service.id == Appointment.service_id)
             .join(Client, Client.id == Appointment.client_id)
             .join(StaffMember, StaffMember.id == Appointment.provider_id)
             .join(Location, Location.id == Appointment.location_id)
             .where(Appointment.id == appointment_id))
    if lock:  # one writer per visit at a time (draft creation, signing, amending)
        query = query.with_for_update(of=Appointment)
    row = session.exec(query).first()
    if row is None or row[0].status in NOT_CHARTABLE:
        raise NotFound("chart")
    return row


def _versions(session: Session, appointment_id: int) -> list[TreatmentNote]:
    """Every version of the visit's chart, newest first."""
    return list(session.exec(select(TreatmentNote).where(TreatmentNote.appointment_id == appointment_id)
                             .order_by(TreatmentNote.version.desc())))


def _lines(session: Session, note_id: int) -> list[TreatmentLine]:
    return list(session.exec(select(TreatmentLine).where(TreatmentLine.note_id == note_id)
                             .order_by(TreatmentLine.position, TreatmentLine.id)))


def _signed_label(note: TreatmentNote, time_zone: str) -> str:
    if note.status != NoteStatus.SIGNED or note.signed_at is None:
        return "Draft"
    tz = ZoneInfo(time_zone)
    local = note.signed_at.astimezone(tz)
    when = (f"{format_date(local.date(), 'MMMM d, y', locale='en_US')} at "
            f"{format_clinic_clock(note.signed_at, time_zone)} {zone_abbreviation(note.signed_at, tz)}")
    return f"Signed by {note.signed_by_label or 'staff'}, {when}"


def _chart(session: Session, row, versions: list[TreatmentNote]) -> Chart:
    appt, svc, client, provider, location = row
    tz = ZoneInfo(location.time_zone)
    current = versions[0] if versions else None
    lines = [ChartLine(ln.product, ln.lot_number, ln.units_tenths, ln.treatment_area, ln.view, ln.x, ln.y)
             for ln in (_lines(session, current.id) if current is not None else [])]
    return Chart(
        appointment_id=appt.id, client_id=client.id, client_name=f"{client.first_name} {client.last_name}".strip(),
        service_name=svc.name, provider_name=provider.display_name, location_name=location.name,
        time_zone=location.time_zone,
        date_label=format_date(appt.start_at.astimezone(tz).date(), "EEEE, MMMM d, y", locale="en_US"),
        time_label=(f"{format_clinic_clock(appt.start_at, location.time_zone)} – "
                    f"{format_clinic_clock(appt.end_at, location.time_zone)} {zone_abbreviation(appt.end_at, tz)}"
                    f" ({location.time_zone})"),
        note_id=current.id if current else None, version=current.version if current else 1,
        status=str(current.status if current else NoteStatus.DRAFT), note=current.note if current else "", lines=lines,
        signed_label=_signed_label(current, location.time_zone) if current else "",
        history=[ChartVersion(v.version, str(v.status), _signed_label(v, location.time_zone)) for v in versions[1:]],
        template=template_of(svc.chart_template, svc.category),
        settings=setting_rows(session, current.id if current is not None else None),
        devices=device_choices(session),
        **note_extras(session, appt, svc, provider, current, location.time_zone))


def get_chart(session: Session, actor: Actor, appointment_id: int, now: datetime, *, pdf: bool = False) -> Chart:
    """The visit and its current chart (an empty draft when nothing is saved yet).

    chart.read; one "chart.read" audit row with the client (detail pdf=True when read for the
    print/PDF). Raises NotFound (also when forbidden).
    """
    row = _visit(session, actor, appointment_id, "chart.read")
    versions = _versions(session, appointment_id)
    chart = _chart(session, row, versions)
    extra = {"pdf": True} if pdf else {}
    record(session, actor, "chart.read", "appointment", appointment_id, client_id=chart.client_id, at=now,
           version=chart.version, **extra)
    return chart


# ---------------------------------------------------------------------------- writes


def save_chart(session: Session, actor: Actor, appointment_id: int, lines: list[LineInput], note: str,
               now: datetime, settings: list[SettingInput] | None = None) -> Chart:
    """Replace the draft's lines and note (creating draft version 1 on the first save), and its
    device/peel rows when `settings` is given (None leaves them as they are).

    chart.write. Raises NotFound, ValidationFailed (per field; device/peel rows keyed
    "settings.<i>.<field>"), ChartLocked (signed: amend first).
    """
    row = _visit(session, actor, appointment_id, "chart.write", lock=True)
    appt, svc, client = row[0], row[1], row[2]
    errors: dict[str, str] = {}
    try:
        clean, text = validate_lines(lines, note, svc.category)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        clean_settings = validate_settings(session, settings) if settings is not None else None
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(errors)
    order = check_order(session, appt, svc, row[3], row[4].time_zone)  # who may treat (clinical/signing.py)
    if order.problem:
        raise ChartLocked(order.problem)
    versions = _versions(session, appointment_id)
    current = versions[0] if versions else None
    if current is not None and current.status != NoteStatus.DRAFT:
        raise ChartLocked("This chart is signed and read-only. Start an amendment to change it.")
    if current is None:
        current = TreatmentNote(org_id=actor.org_id, appointment_id=appt.id, client_id=client.id,
                                provider_id=appt.provider_id, author_user_id=actor.user_id,
                                author_label=actor.label, version=1, status=NoteStatus.DRAFT.value, created_at=now, updated_at=now)
        session.add(current)
        session.flush()
        versions = [current]
    else:
        for old in _lines(session, current.id):
            session.delete(old)
        session.flush()
    current.note, current.updated_at = text, now
    for i, line in enumerate(clean):
        session.add(TreatmentLine(org_id=actor.org_id, note_id=current.id, position=i, product=line.product,
                                  lot_number=line.lot_number, units_tenths=line.units_tenths,
                                  treatment_area=line.treatment_area, view=line.view, x=line.x, y=line.y))
    session.flush()
    if clean_settings is not None:
        replace_settings(session, actor.org_id, current.id, clean_settings)
    record(session, actor, "chart.write", "treatment_note", current.id, client_id=client.id, at=now,
           appointment_id=appt.id, version=current.version, lines=len(clean))
    return _chart(session, row, versions)


def sign_chart(session: Session, actor: Actor, appointment_id: int, now: datetime) -> Chart:
    """Sign the current draft: it becomes read-only, with signed_at and the signer.

    chart.write. Raises NotFound, ChartLocked (nothing saved, already signed, empty, or a
    consent the service requires is missing or signed on an older version: consent_gate).
    """
    row = _visit(session, actor, appointment_id, "chart.write", lock=True)
    versions = _versions(session, appointment_id)
    current = versions[0] if versions else None
    if current is None or current.status != NoteStatus.DRAFT:
        raise ChartLocked("Save the chart before signing." if current is None else "This chart is already signed.")
    lines = _lines(session, current.id)
    if not lines and not current.note:
        raise ChartLocked("Add a treatment line or a note before signing.")
    problem = signer_problem(session, actor, row[0], row[3])  # who may sign (clinical/signing.py)
    order = check_order(session, row[0], row[1], row[3], row[4].time_zone)
    if problem or order.problem:
        raise ChartLocked(problem or order.problem)
    consent_gate(session, row[0], now)
    validate_lines([LineInput(ln.product, ln.lot_number,
                              ChartLine(ln.product, ln.lot_number, ln.units_tenths, ln.treatment_area).units,
                              ln.treatment_area, ln.view, ln.x, ln.y) for ln in lines], current.note, row[1].category)
    current.status, current.signed_at, current.updated_at = NoteStatus.SIGNED.value, now, now
    current.signed_by_user_id, current.signed_by_label = actor.user_id, actor.label
    current.prescriber_order_id = order.order.id if order.order is not None else None  # same update as signing
    session.flush()
    record(session, actor, "chart.sign", "treatment_note", current.id, client_id=row[2].id, at=now,
           appointment_id=appointment_id, version=current.version, lines=len(lines),
           prescriber_order_id=current.prescriber_order_id)
    return _chart(session, row, versions)


def amend_chart(session: Session, actor: Actor, appointment_id: int, now: datetime) -> Chart:
    """Start an amendment of the signed chart: a new draft, version + 1, copied from it.

    The signed version stays as it was. chart.write. Raises NotFound, ChartLocked (not signed).
    """
    row = _visit(session, actor, appointment_id, "chart.write", lock=True)
    versions = _versions(session, appointment_id)
    signed = versions[0] if versions else None
    if signed is None or signed.status != NoteStatus.SIGNED:
        raise ChartLocked("Only a signed chart can be amended.")
    draft = TreatmentNote(org_id=actor.org_id, appointment_id=signed.appointment_id, client_id=signed.client_id,
                          provider_id=signed.provider_id, author_user_id=actor.user_id, author_label=actor.label,
                          version=signed.version + 1, status=NoteStatus.DRAFT.value, note=signed.note, amends_id=signed.id,
                          created_at=now, updated_at=now)
    session.add(draft)
    session.flush()
    for ln in _lines(session, signed.id):
        session.add(TreatmentLine(org_id=actor.org_id, note_id=draft.id, position=ln.position, product=ln.product,
                                  lot_number=ln.lot_number, units_tenths=ln.units_tenths,
                                  treatment_area=ln.treatment_area, view=ln.view, x=ln.x, y=ln.y))
    session.flush()
    copy_settings(session, actor.org_id, signed.id, draft.id)
    record(session, actor, "chart.amend", "treatment_note", draft.id, client_id=signed.client_id, at=now,
           appointment_id=appointment_id, version=draft.version, amends_version=signed.version)
    return _chart(session, row, [draft, *versions])


__all__ = ["FACE_VIEWS", "TREATMENT_AREAS", "clean_point", "Chart", "ChartLine", "ChartLocked", "ChartVersion", "LineInput", "amend_chart",
           "get_chart", "is_injectable", "parse_units", "save_chart", "sign_chart", "validate_lines"]
