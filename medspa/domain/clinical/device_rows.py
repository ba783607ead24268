"""Device/laser and peel rows of a chart, and the chart templates per service (issue 18).

A service's chart template says what its chart opens with: "injectable" (the face map and
product lines), "device" (device rows), "peel" (peel rows) or "general" (lines and note).
service.chart_template stores the clinic's choice; NULL means the default from its category
(`default_template`). The rows themselves: device_models.TreatmentSetting (units there).

Services here take a session and never commit; the chart service (clinical/service.py)
calls them inside its save/amend, so the permission check and the audit row are its.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, select

from medspa.domain.clinical.device_models import SETTING_KINDS, TreatmentSetting
from medspa.domain.errors import ValidationFailed
from medspa.domain.practice.models import Resource
from medspa.domain.textrules import has_control

CHART_TEMPLATES = ("injectable", "device", "peel", "general")
TEMPLATE_LABELS = {"injectable": "Injectables (face map)", "device": "Device / laser settings",
                   "peel": "Chemical peel", "general": "General (lines and note)"}
# service category (lowercased) -> template; anything else is "general"
_CATEGORY_TEMPLATES = {"neuromodulators": "injectable", "dermal fillers": "injectable", "fillers": "injectable",
                       "biostimulators": "injectable", "laser hair removal": "device", "ipl photofacial": "device",
                       "microneedling": "device", "body contouring": "device", "laser": "device",
                       "chemical peels": "peel", "peels": "peel"}
MAX_ROWS = 20

# (field, label with unit, decimals, lowest, highest) of the numeric settings
NUMBERS: dict[str, tuple[str, int, Decimal, Decimal]] = {
    "fluence": ("Fluence (J/cm²)", 1, Decimal("0.1"), Decimal("300")),
    "pulse_width": ("Pulse width (ms)", 2, Decimal("0.01"), Decimal("1000")),
    "spot_size": ("Spot size (mm)", 1, Decimal("0.1"), Decimal("100")),
    "passes": ("Passes", 0, Decimal(1), Decimal(20)),
    "concentration": ("Concentration (%)", 1, Decimal("0.1"), Decimal(100)),
    "layers": ("Layers", 0, Decimal(1), Decimal(20)),
    "minutes": ("Minutes on skin", 0, Decimal(1), Decimal(60)),
}
_COLUMNS = {"fluence": "fluence_tenths", "pulse_width": "pulse_hundredths", "spot_size": "spot_tenths",
            "passes": "passes", "concentration": "concentration_tenths", "layers": "layers", "minutes": "minutes"}
DEVICE_FIELDS = ("device", "handpiece", "fluence", "pulse_width", "spot_size", "passes", "cooling")
PEEL_FIELDS = ("agent", "concentration", "layers", "minutes")
_NUMBER = re.compile(r"^\d{1,6}(\.\d{1,2})?$")


def default_template(category: str) -> str:
    """The chart template a service of `category` gets unless the clinic chose one."""
    return _CATEGORY_TEMPLATES.get((category or "").strip().lower(), "general")


def template_of(chart_template: str | None, category: str) -> str:
    """The service's template: its stored choice when valid, else the category's default."""
    return chart_template if chart_template in CHART_TEMPLATES else default_template(category)


@dataclass(frozen=True)
class SettingInput:
    """One device or peel row as typed (numbers as text; "" for none). resource_id: one of the
    clinic's device resources, or None with `device` typed freely."""

    kind: str = "device"
    device: str = ""
    resource_id: int | None = None
    handpiece: str = ""
    fluence: str = ""
    pulse_width: str = ""
    spot_size: str = ""
    passes: str = ""
    cooling: str = ""
    agent: str = ""
    concentration: str = ""
    layers: str = ""
    minutes: str = ""


def _fmt(value: int | None, decimals: int) -> str:
    if value is None:
        return ""
    text = str(Decimal(value).scaleb(-decimals))
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_number(field: str, text: object) -> int | None:
    """`text` of the numeric setting `field` as an integer in its fixed decimals (None when
    empty). Raises ValueError with the user message naming the unit and the bounds."""
    label, decimals, low, high = NUMBERS[field]
    raw = text.strip() if isinstance(text, str) else ""
    if not raw:
        return None
    unit = label[label.find("(") + 1:-1] if "(" in label else ""
    if not _NUMBER.match(raw) or (decimals == 0 and "." in raw) or len(raw.partition(".")[2]) > decimals:
        example = "e.g. 3" if decimals == 0 else f"with at most {decimals} decimal{'s' if decimals > 1 else ''}"
        raise ValueError(f"Enter a number {example}")
    value = Decimal(raw)
    if not low <= value <= high:
        raise ValueError(f"Between {low} and {high}{' ' + unit if unit else ''}")
    return int(value.scaleb(decimals))


@dataclass(frozen=True)
class SettingRow:
    """A stored row as the chart shows it: numbers formatted back to text ("12.5")."""

    kind: str
    device: str
    resource_id: int | None
    handpiece: str
    fluence: str
    pulse_width: str
    spot_size: str
    passes: str
    cooling: str
    agent: str
    concentration: str
    layers: str
    minutes: str

    def as_input(self) -> SettingInput:
        """The row as the form sends it back."""
        return SettingInput(**{k: getattr(self, k) for k in SettingInput.__dataclass_fields__})


def device_choices(session: Session) -> list[tuple[int, str]]:
    """The clinic's active device resources as (id, name), by name (the rows' device select)."""
    return [(i, n) for i, n in session.exec(select(Resource.id, Resource.name).where(
        Resource.kind == "device", Resource.active).order_by(Resource.name, Resource.id))]


def _text(value: object, limit: int, key: str, errors: dict[str, str], required: str = "") -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        errors[key] = required
    elif len(text) > limit or has_control(text):
        errors[key] = f"Use at most {limit} characters, no control characters"
    return text[:limit]


def validate_settings(session: Session, rows: list[SettingInput]) -> list[TreatmentSetting]:
    """Unsaved TreatmentSetting rows (no org/note yet) from `rows`, or ValidationFailed with
    one message per field keyed "settings.<i>.<field>" (or "settings"). A device row needs a
    device (a device resource of the clinic's, whose name it takes, or a typed name); a peel
    row needs its agent; numbers are optional and checked against NUMBERS."""
    if not isinstance(rows, (list, tuple)) or len(rows) > MAX_ROWS:
        raise ValidationFailed({"settings": f"At most {MAX_ROWS} device or peel rows"})
    devices = dict(device_choices(session)) if any(
        isinstance(r, SettingInput) and r.resource_id is not None for r in rows) else {}
    errors: dict[str, str] = {}
    out: list[TreatmentSetting] = []
    for i, row in enumerate(rows):
        if not isinstance(row, SettingInput) or row.kind not in SETTING_KINDS:
            raise ValidationFailed({"settings": "Unreadable device or peel row"})
        key = f"settings.{i}."
        values: dict[str, object] = {"kind": row.kind, "position": i}
        fields = DEVICE_FIELDS if row.kind == "device" else PEEL_FIELDS
        for name in fields:
            if name in NUMBERS:
                try:
                    values[_COLUMNS[name]] = parse_number(name, getattr(row, name))
                except ValueError as exc:
                    errors[key + name] = str(exc)
        if row.kind == "device":
            rid = row.resource_id
            if rid is not None and (isinstance(rid, bool) or rid not in devices):
                errors[key + "device"] = "Choose one of the clinic's devices, or type the device"
            elif rid is not None:
                values["resource_id"], values["device"] = rid, devices[rid][:80]
            else:
                values["device"] = _text(row.device, 80, key + "device", errors, "Choose or type the device")
            values["handpiece"] = _text(row.handpiece, 60, key + "handpiece", errors)
            values["cooling"] = _text(row.cooling, 60, key + "cooling", errors)
        else:
            values["agent"] = _text(row.agent, 80, key + "agent", errors, "Enter the peel agent, e.g. glycolic acid")
        out.append(TreatmentSetting(org_id=0, note_id=0, **values))
    if errors:
        raise ValidationFailed(errors)
    return out


def read_settings(session: Session, note_id: int) -> list[TreatmentSetting]:
    """The note's rows in position order."""
    return list(session.exec(select(TreatmentSetting).where(TreatmentSetting.note_id == note_id)
                             .order_by(TreatmentSetting.position, TreatmentSetting.id)))


def setting_rows(session: Session, note_id: int | None) -> list[SettingRow]:
    """The note's rows formatted for the chart (empty for no note)."""
    if note_id is None:
        return []
    return [SettingRow(kind=s.kind, device=s.device, resource_id=s.resource_id, handpiece=s.handpiece,
                       fluence=_fmt(s.fluence_tenths, 1), pulse_width=_fmt(s.pulse_hundredths, 2),
                       spot_size=_fmt(s.spot_tenths, 1), passes=_fmt(s.passes, 0), cooling=s.cooling,
                       agent=s.agent, concentration=_fmt(s.concentration_tenths, 1), layers=_fmt(s.layers, 0),
                       minutes=_fmt(s.minutes, 0))
            for s in read_settings(session, note_id)]


def replace_settings(session: Session, org_id: int, note_id: int, clean: list[TreatmentSetting]) -> None:
    """Replace the (draft) note's rows with `clean` (from validate_settings). A signed note's
    rows are refused by the database trigger."""
    for old in read_settings(session, note_id):
        session.delete(old)
    session.flush()
    for row in clean:
        row.org_id, row.note_id = org_id, note_id
        session.add(row)
    session.flush()


def copy_settings(session: Session, org_id: int, from_note: int, to_note: int) -> None:
    """Copy the rows of `from_note` (the signed version) to `to_note` (its amendment)."""
    for s in read_settings(session, from_note):
        data = s.model_dump(exclude={"id", "note_id", "org_id"})
        session.add(TreatmentSetting(org_id=org_id, note_id=to_note, **data))
    session.flush()


__all__ = ["CHART_TEMPLATES", "DEVICE_FIELDS", "NUMBERS", "PEEL_FIELDS", "SettingInput", "SettingRow",
           "TEMPLATE_LABELS", "copy_settings", "default_template", "device_choices", "parse_number",
           "read_settings", "replace_settings", "setting_rows", "template_of", "validate_settings"]
