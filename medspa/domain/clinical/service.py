"""Treatment charts: read (chart.read), save a draft, sign, amend (chart.write).

Provider and owner only (permissions.py). Anyone else, another clinic's visit and a visit
that never happened (a hold, an expired hold, no client) all get NotFound: missing and
forbidden look alike. Every read is one "chart.read" audit row with the client; every write
is audited in the same transaction (never with the note text or the lines themselves).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.base import is_row_id
from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.clients.live import lock_visit
from medspa.domain.clinical.chart_rules import (FACE_VIEWS, MAX_LINES, MAX_NOTE, NOT_CHARTABLE, TREATMENT_AREAS,
                                                 LOT_NUMBER, is_injectable, parse_units)
from medspa.domain.clinical.consent import missing_for_chart
from medspa.domain.clinical.inventory_chart import LotCheck, catalog_line, post_usage, visit_lot_check
from medspa.domain.clinical.device_rows import (SettingInput, SettingRow, copy_settings, device_choices,
                                                replace_settings, setting_rows, template_of, validate_settings)
from medspa.domain.clinical.models import NoteStatus, TreatmentLine, TreatmentNote
from medspa.domain.clinical.product_models import PRODUCT_UNITS
from medspa.domain.clinical.signing import Addendum, check_order, note_extras, signer_problem
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location, StaffMember
from medspa.domain.scheduling.models import Appointment
from medspa.domain.textrules import has_control
from medspa.domain.timezones import format_clinic_clock, zone_abbreviation

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
    """One row as typed: units as text ("20", "2.5"). A catalog line names product_id (its
    name and unit come from the catalog), lot_id (the lot number from the lot) and, for a
    reconstituted product, vial_id; a free-text line ("Other…") names product and lot_number and
    its unit (PRODUCT_UNITS; "" -> "units")."""

    product: str = ""
    lot_number: str = ""
    units: str = ""
    treatment_area: str = ""
    view: str | None = None  # the face-map point (clinical/face_map.py): all three or none
    x: int | None = None
    y: int | None = None
    product_id: int | None = None
    lot_id: int | None = None
    vial_id: int | None = None
    unit: str = ""


@dataclass(frozen=True)
class ChartLine:
    """One treatment line of a chart: product, lot number, quantity in integer tenths of `unit`,
    treatment area, its face-map point (view, x, y in thousandths) or none, and the catalog
    product / lot / vial ids when picked from the catalog."""

    product: str
    lot_number: str
    units_tenths: int
    treatment_area: str
    view: str | None = None
    x: int | None = None
    y: int | None = None
    unit: str = "units"
    product_id: int | None = None
    lot_id: int | None = None
    vial_id: int | None = None

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


def _coordinate(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
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


def _id(value: object) -> int | None:
    return value if is_row_id(value) else None


def _tenths(units: object) -> int | None:
    try:
        return parse_units(units)
    except ValueError:
        return None


KeptKey = tuple[int, int | None, int | None, int]  # (product_id, lot_id, vial_id, units_tenths)


def validate_lines(lines: list[LineInput], note: str, category: str,
                   check: LotCheck | None = None,
                   kept: dict[KeptKey, ChartLine] | None = None) -> tuple[list[ChartLine], str]:
    """Clean lines and note, or ValidationFailed with one message per field
    ("lines.0.product", "lines.0.lot_number", "lines.0.vial", "lines.0.units",
    "lines.0.treatment_area", "lines.0.point" (face map), "note", "lines").

    `check(product_id, lot_id, vial_id)` resolves a catalog line (inventory.check_line_lot bound
    to the visit: expired lots and vials past their beyond-use time refused with LotRefused);
    without it a catalog line is refused. A catalog injectable (neuromodulator, filler,
    biostimulator) needs a lot picked from the catalog; a free-text line keeps its text.

    `kept` (an amendment: kept_lines of the signed version it amends) maps (product_id, lot_id,
    vial_id, units_tenths) to that version's line: a catalog line copied unchanged is taken as
    it was signed, not re-checked (its product may be archived since, its lot withdrawn or
    expired); a new or changed catalog line is checked."""
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
        unit = line.unit if line.unit in PRODUCT_UNITS else "units"
        product_id, lot_id, vial_id = _id(line.product_id), _id(line.lot_id), _id(line.vial_id)
        same = kept.get((product_id, lot_id, vial_id, _tenths(line.units))) if kept and product_id is not None else None
        if same is not None:  # copied unchanged from the signed version it amends: as it was signed
            product, unit, lot = same.product, same.unit, same.lot_number
        elif product_id is not None:  # a catalog line: name, unit and lot number from the catalog
            found = catalog_line(check, product_id, lot_id, vial_id, lot, key, errors)
            product, unit, lot, lot_id, vial_id = found or (product, unit, lot, None, None)
        else:
            lot_id = vial_id = None
            if not product:
                errors[key + "product"] = "Enter the product"
            elif len(product) > 80 or _has_control(product):
                errors[key + "product"] = "Use at most 80 characters, no control characters"
            if lot and not LOT_NUMBER.match(lot):
                errors[key + "lot_number"] = "Use letters, digits, '-', '.', '/' (at most 40)"
            elif not lot and product and is_injectable(product, category):
                errors[key + "lot_number"] = "Enter the lot number (required for injectables)"
        try:
            tenths = parse_units(line.units, unit)
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
        clean.append(ChartLine(product, lot.upper(), tenths, area, view, x, y, unit, product_id, lot_id, vial_id))
    if errors:
        raise ValidationFailed(errors)
    return clean, note.strip()


# ---------------------------------------------------------------------------- reads


def _visit(session: Session, actor: Actor, appointment_id: int, action: str, *, lock: bool = False):
    """(appointment, service, client, provider, location) or NotFound (also when forbidden)."""
    if not actor.can(action) or not is_row_id(appointment_id):
        raise NotFound("chart")
    query = (select(Appointment, Service, Client, StaffMember, Location)
             .join(Service, Service.id == Appointment.service_id)
             .join(Client, Client.id == Appointment.client_id)
             .join(StaffMember, StaffMember.id == Appointment.provider_id)
             .join(Location, Location.id == Appointment.location_id)
             .where(Appointment.id == appointment_id))
    if lock:  # one writer per visit at a time (draft creation, signing, amending), in the merge's lock order
        lock_visit(session, appointment_id)
        query = query.execution_options(populate_existing=True)
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


def _chart_line(ln: TreatmentLine) -> ChartLine:
    return ChartLine(ln.product, ln.lot_number, ln.units_tenths, ln.treatment_area, ln.view, ln.x, ln.y, ln.unit,
                     ln.product_id, ln.lot_id, ln.vial_id)


def kept_lines(session: Session, draft: TreatmentNote | None) -> dict[KeptKey, ChartLine]:
    """validate_lines' `kept` for a draft amending a signed version: that version's catalog
    lines by (product_id, lot_id, vial_id, units_tenths); {} for a first version or no draft."""
    if draft is None or draft.amends_id is None:
        return {}
    return {(ln.product_id, ln.lot_id, ln.vial_id, ln.units_tenths): _chart_line(ln)
            for ln in _lines(session, draft.amends_id) if ln.product_id is not None}


def lot_checker(session: Session, appointment: Appointment, location: Location) -> LotCheck:
    """validate_lines' `check` for a visit (inventory_chart.visit_lot_check)."""
    return visit_lot_check(session, appointment.start_at, appointment.end_at, location.time_zone)


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
    lines = [_chart_line(ln) for ln in (_lines(session, current.id) if current is not None else [])]
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
    versions = _versions(session, appointment_id)
    current = versions[0] if versions else None
    if current is not None and current.status != NoteStatus.DRAFT:
        raise ChartLocked("This chart is signed and read-only. Start an amendment to change it.")
    errors: dict[str, str] = {}
    try:
        clean, text = validate_lines(lines, note, svc.category, lot_checker(session, appt, row[4]),
                                     kept_lines(session, current))
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        clean_settings = validate_settings(session, settings) if settings is not None else None
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(errors)
    # who may treat (clinical/signing.py) is checked at signing: a draft is kept even while the
    # order it needs is missing (the chart's banner says so), so nothing typed is lost
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
                                  treatment_area=line.treatment_area, view=line.view, x=line.x, y=line.y,
                                  unit=line.unit, product_id=line.product_id, lot_id=line.lot_id,
                                  vial_id=line.vial_id))
    session.flush()
    if clean_settings is not None:
        replace_settings(session, actor.org_id, current.id, clean_settings)
    record(session, actor, "chart.write", "treatment_note", current.id, client_id=client.id, at=now,
           appointment_id=appt.id, version=current.version, lines=len(clean))
    return _chart(session, row, versions)


def sign_chart(session: Session, actor: Actor, appointment_id: int, now: datetime) -> Chart:
    """Sign the current draft: it becomes read-only, with signed_at and the signer.

    chart.write. Raises NotFound, ChartLocked (nothing saved, already signed, empty, or a
    consent the service requires is missing or signed on an older version: consent_gate),
    ValidationFailed (a line's lot or vial no longer chartable). Writes the lot_usage ledger
    (inventory.post_usage: the amended version's reversal, then this version's lot lines).
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
    order = check_order(session, row[0], row[1], row[3], row[4].time_zone, lines)
    if problem or order.problem:
        raise ChartLocked(problem or order.problem)
    consent_gate(session, row[0], now)
    validate_lines([LineInput(ln.product, ln.lot_number, _chart_line(ln).units, ln.treatment_area, ln.view, ln.x,
                              ln.y, product_id=ln.product_id, lot_id=ln.lot_id, vial_id=ln.vial_id, unit=ln.unit)
                    for ln in lines], current.note, row[1].category, lot_checker(session, row[0], row[4]),
                   kept_lines(session, current))
    current.status, current.signed_at, current.updated_at = NoteStatus.SIGNED.value, now, now
    current.signed_by_user_id, current.signed_by_label = actor.user_id, actor.label
    current.prescriber_order_id = order.order.id if order.order is not None else None  # same update as signing
    session.flush()
    # the lot ledger: this version's lot lines, after the reversal of the version it amends
    post_usage(session, current, session.get(TreatmentNote, current.amends_id) if current.amends_id else None, now)
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
                                  treatment_area=ln.treatment_area, view=ln.view, x=ln.x, y=ln.y, unit=ln.unit,
                                  product_id=ln.product_id, lot_id=ln.lot_id, vial_id=ln.vial_id))
    session.flush()
    copy_settings(session, actor.org_id, signed.id, draft.id)
    record(session, actor, "chart.amend", "treatment_note", draft.id, client_id=signed.client_id, at=now,
           appointment_id=appointment_id, version=draft.version, amends_version=signed.version)
    return _chart(session, row, [draft, *versions])


__all__ = ["FACE_VIEWS", "TREATMENT_AREAS", "clean_point", "Chart", "ChartLine", "ChartLocked", "ChartVersion", "LineInput", "amend_chart",
           "get_chart", "is_injectable", "kept_lines", "parse_units", "save_chart", "sign_chart", "validate_lines"]
