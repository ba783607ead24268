"""A client's medical history: eight sections, every change a version (issue 17, section 1).

The sections and their JSON shapes (shared with the intake forms, which feed the same
`record_history`):

    allergies:           list of {"agent": str, "reaction": str}        agent e.g. "lidocaine"
    medications:         list of {"name": str, "dose": str, "stopped_on": "YYYY-MM-DD" or ""}  ("" = still taking)
    conditions:          list of {"name": str}
    fitzpatrick:         {"type": "I".."VI" or ""}
    previous_treatments: list of {"treatment": str, "when": str}
    pregnancy:           {"pregnant": bool, "breastfeeding": bool}
    lifestyle:           {"sun_exposure": "low"|"moderate"|"high"|"", "smoking": bool}
    goals:               {"text": str}

`validate_section` checks and normalises one section's value (trimmed text, empty list rows
dropped) or raises ValidationFailed keyed "<section>.<row>.<field>" (lists) or
"<section>.<field>". `record_history` writes a medical_history_version row per section that
really changed (who, when, source, old and new value); the current history is the newest row
of each section (`current_history`), the viewer lists the rows (`history_versions`).

These functions check no permission: the callers' services do (history_service.py for staff
with history.read / history.write, the portal for the client's own record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel import Session, select

from medspa.domain.base import among
from medspa.domain.clients.live import live_client
from medspa.domain.clinical.health_models import MedicalHistoryVersion
from medspa.domain.errors import ValidationFailed
from medspa.domain.textrules import refuse_control

SECTIONS = ("allergies", "medications", "conditions", "fitzpatrick", "previous_treatments", "pregnancy",
            "lifestyle", "goals")
SECTION_LABELS = {"allergies": "Allergies", "medications": "Medications", "conditions": "Conditions",
                  "fitzpatrick": "Skin type (Fitzpatrick)", "previous_treatments": "Previous treatments",
                  "pregnancy": "Pregnancy", "lifestyle": "Lifestyle", "goals": "Goals"}
SOURCES = ("staff", "portal", "intake form")
FITZPATRICK_TYPES = ("I", "II", "III", "IV", "V", "VI")
SUN_EXPOSURE = ("low", "moderate", "high")
MAX_ROWS = 30
TEXT_MAX = 120
GOALS_MAX = 2000

LIST_FIELDS = {  # list sections: (the row's fields, the one that must not be empty)
    "allergies": (("agent", "reaction"), "agent"),
    "medications": (("name", "dose", "stopped_on"), "name"),
    "conditions": (("name",), "name"),
    "previous_treatments": (("treatment", "when"), "treatment"),
}
_REQUIRED_WORDS = {"agent": "Name the agent or ingredient", "name": "Name it", "treatment": "Name the treatment"}


def empty_value(section: str) -> Any:
    """The value of a section nobody has filled in yet."""
    if section in LIST_FIELDS:
        return []
    return {"fitzpatrick": {"type": ""}, "pregnancy": {"pregnant": False, "breastfeeding": False},
            "lifestyle": {"sun_exposure": "", "smoking": False}, "goals": {"text": ""}}[section]


def _text(value: Any, key: str, errors: dict[str, str], limit: int = TEXT_MAX) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[key] = "Must be text"
        return ""
    text = " ".join(value.split())
    if len(text) > limit:
        errors[key] = f"At most {limit} characters"
    refuse_control(text, key, errors)  # NUL and the like: a message, never a database error
    return text


def _flag(value: Any, key: str, errors: dict[str, str]) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        errors[key] = "Must be yes or no"
        return False
    return value


def _stopped_on(text: str, key: str, errors: dict[str, str]) -> str:
    if not text:
        return ""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        errors[key] = "A date like 2026-03-31, or empty while still taking it"
        return ""


def validate_section(section: str, value: Any) -> Any:
    """`value` checked and normalised for `section` (one of SECTIONS): text trimmed and
    whitespace collapsed (at most TEXT_MAX characters, goals GOALS_MAX; no control characters,
    textcheck.refuse_control), list rows with every
    field empty dropped, at most MAX_ROWS rows, dates ISO "YYYY-MM-DD".

    Raises ValidationFailed: keys "<section>" (unknown section, wrong shape, too many rows),
    "<section>.<row>.<field>" (list sections, row counted from 0) or "<section>.<field>"."""
    if section not in SECTIONS:
        raise ValidationFailed({"section": "Unknown section of the medical history"})
    errors: dict[str, str] = {}
    if section in LIST_FIELDS:
        fields, required = LIST_FIELDS[section]
        if not isinstance(value, list):
            raise ValidationFailed({section: "Must be a list"})
        rows = []
        for i, row in enumerate(value):
            if not isinstance(row, dict):
                errors[f"{section}.{i}"] = "Must be a row of fields"
                continue
            clean = {f: _text(row.get(f), f"{section}.{i}.{f}", errors) for f in fields}
            if "stopped_on" in clean:
                clean["stopped_on"] = _stopped_on(clean["stopped_on"], f"{section}.{i}.stopped_on", errors)
            if not any(clean.values()):
                continue  # an empty row the form left
            if not clean[required]:
                errors[f"{section}.{i}.{required}"] = _REQUIRED_WORDS[required]
            rows.append(clean)
        if len(rows) > MAX_ROWS:
            errors[section] = f"At most {MAX_ROWS} rows"
        out: Any = rows
    else:
        if not isinstance(value, dict):
            raise ValidationFailed({section: "Must be a set of fields"})
        if section == "fitzpatrick":
            kind = _text(value.get("type"), "fitzpatrick.type", errors).upper()
            if kind not in FITZPATRICK_TYPES + ("",):
                errors["fitzpatrick.type"] = "Choose a type from I to VI"
            out = {"type": kind}
        elif section == "pregnancy":
            out = {"pregnant": _flag(value.get("pregnant"), "pregnancy.pregnant", errors),
                   "breastfeeding": _flag(value.get("breastfeeding"), "pregnancy.breastfeeding", errors)}
        elif section == "lifestyle":
            sun = _text(value.get("sun_exposure"), "lifestyle.sun_exposure", errors).lower()
            if sun not in SUN_EXPOSURE + ("",):
                errors["lifestyle.sun_exposure"] = "Choose low, moderate or high"
            out = {"sun_exposure": sun, "smoking": _flag(value.get("smoking"), "lifestyle.smoking", errors)}
        else:
            out = {"text": _text(value.get("text"), "goals.text", errors, GOALS_MAX)}
    if errors:
        raise ValidationFailed(errors)
    return out


def current_history(session: Session, client_id: int) -> dict[str, Any]:
    """section -> current value for every section (empty_value where never filled): the newest
    version row of each section of the client."""
    out = {s: empty_value(s) for s in SECTIONS}
    rows = session.exec(select(MedicalHistoryVersion.section, MedicalHistoryVersion.value)
                        .where(MedicalHistoryVersion.client_id == client_id)
                        .ext(distinct_on(MedicalHistoryVersion.section))
                        .order_by(MedicalHistoryVersion.section, MedicalHistoryVersion.changed_at.desc(),
                                  MedicalHistoryVersion.id.desc())).all()
    for section, value in rows:
        if section in out:
            out[section] = value
    return out


def current_histories(session: Session, client_ids: list[int], *, sections: tuple[str, ...] = SECTIONS,
                      recorded_only: bool = False) -> dict[int, dict[str, Any]]:
    """client id -> current_history, in one query (the calendar's flags). `sections`: only
    these are read (the others are left out of each history); `recorded_only`: leave out the
    clients with none of `sections` recorded (their history would be all empty_value)."""
    ids = sorted({c for c in client_ids if c is not None})
    wanted = [s for s in SECTIONS if s in sections]
    out = {} if recorded_only else {c: {s: empty_value(s) for s in wanted} for c in ids}
    if not ids or not wanted:
        return out
    stmt = (select(MedicalHistoryVersion.client_id, MedicalHistoryVersion.section, MedicalHistoryVersion.value)
            .where(among(MedicalHistoryVersion.client_id, ids))
            .ext(distinct_on(MedicalHistoryVersion.client_id, MedicalHistoryVersion.section))
            .order_by(MedicalHistoryVersion.client_id, MedicalHistoryVersion.section,
                      MedicalHistoryVersion.changed_at.desc(), MedicalHistoryVersion.id.desc()))
    if len(wanted) < len(SECTIONS):
        stmt = stmt.where(MedicalHistoryVersion.section.in_(wanted))
    for client_id, section, value in session.exec(stmt).all():
        if section in wanted:
            if client_id not in out:
                out[client_id] = {s: empty_value(s) for s in wanted}
            out[client_id][section] = value
    return out


def record_history(session: Session, client_id: int, changes: dict[str, Any], *, by_user_id: int | None,
                   by_label: str, source: str, now: datetime) -> list[str]:
    """Validate every section of `changes` (section -> value) and write one version row per
    section whose normalised value differs from the current one (old and new value, who, when,
    `source` one of SOURCES). Returns the changed sections in SECTIONS order ([] when nothing
    changed). All or nothing: any invalid section raises before a row is written. `now`: aware
    UTC. No permission check: the caller's service checks it.

    Raises NotFound (no such client, or merged away), ValidationFailed (field keys as in
    validate_section; "source" for an unknown source; "changes" when not a dict)."""
    if source not in SOURCES:
        raise ValidationFailed({"source": "Unknown source of the change"})
    if not isinstance(changes, dict):
        raise ValidationFailed({"changes": "Nothing to save"})
    client = live_client(session, client_id, lock=True)  # one writer of a history at a time
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for section, value in changes.items():
        try:
            clean[section] = validate_section(section, value)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(errors)
    current = current_history(session, client.id)
    changed = []
    for section in SECTIONS:
        if section in clean and clean[section] != current[section]:
            session.add(MedicalHistoryVersion(
                org_id=client.org_id, client_id=client.id, section=section, value=clean[section],
                old_value=current[section], source=source, by_user_id=by_user_id, by_label=by_label[:120],
                changed_at=now))
            changed.append(section)
    session.flush()
    return changed


@dataclass(frozen=True)
class HistoryVersion:
    """One change for the viewer: section, when (aware UTC), who (label), source, old and new
    value (JSON as stored; old None for the first version); in words: when_label (the
    clinic's wall clock), section_label, old_text and new_text (describe)."""

    id: int
    section: str
    changed_at: datetime
    by_label: str
    source: str
    old_value: Any
    value: Any
    when_label: str = ""
    section_label: str = ""
    old_text: str = ""
    new_text: str = ""


MAX_VERSIONS = 300


def history_versions(session: Session, client_id: int, section: str | None = None, *,
                     time_zone: str = "UTC") -> list[HistoryVersion]:
    """The client's versions, newest first (of one section when given; at most MAX_VERSIONS);
    when_label in `time_zone`. Raises ValidationFailed for an unknown section."""
    if section is not None and section not in SECTIONS:
        raise ValidationFailed({"section": "Unknown section of the medical history"})
    stmt = select(MedicalHistoryVersion).where(MedicalHistoryVersion.client_id == client_id)
    if section is not None:
        stmt = stmt.where(MedicalHistoryVersion.section == section)
    rows = session.exec(stmt.order_by(MedicalHistoryVersion.changed_at.desc(), MedicalHistoryVersion.id.desc())
                        .limit(MAX_VERSIONS)).all()
    # the oldest version of each section (rows are newest first): what it replaced was never recorded
    first = {r.section: r.id for r in rows} if len(rows) < MAX_VERSIONS else {}
    zone = ZoneInfo(time_zone)
    return [HistoryVersion(r.id, r.section, r.changed_at, r.by_label, r.source, r.old_value, r.value,
                           format_datetime(r.changed_at.astimezone(zone), "MMM d, y, h:mm a", locale="en_US"),
                           SECTION_LABELS[r.section],
                           "Not recorded" if r.old_value is None or first.get(r.section) == r.id
                           else describe(r.section, r.old_value), describe(r.section, r.value)) for r in rows]


def describe(section: str, value: Any) -> str:
    """A section's value in words for the viewer and the card ("lidocaine (hives); latex",
    "Type III", "Pregnant", "None recorded")."""
    if value is None:
        return "Not recorded"
    if section == "allergies":
        text = "; ".join(f"{r['agent']} ({r['reaction']})" if r.get("reaction") else r["agent"] for r in value)
    elif section == "medications":
        parts = []
        for r in value:
            part = " ".join(p for p in (r["name"], r.get("dose", "")) if p)
            parts.append(f"{part}, stopped {r['stopped_on']}" if r.get("stopped_on") else f"{part}, taking")
        text = "; ".join(parts)
    elif section == "conditions":
        text = "; ".join(r["name"] for r in value)
    elif section == "previous_treatments":
        text = "; ".join(f"{r['treatment']} ({r['when']})" if r.get("when") else r["treatment"] for r in value)
    elif section == "fitzpatrick":
        text = f"Type {value['type']}" if value.get("type") else ""
    elif section == "pregnancy":
        text = ", ".join(w for w, on in (("Pregnant", value.get("pregnant")),
                                        ("Breastfeeding", value.get("breastfeeding"))) if on)
        text = text or "Not pregnant or breastfeeding"
    elif section == "lifestyle":
        bits = [f"Sun exposure {value['sun_exposure']}"] if value.get("sun_exposure") else []
        bits.append("Smokes" if value.get("smoking") else "Does not smoke")
        text = ", ".join(bits)
    else:
        text = value.get("text", "")
    return text or "None recorded"
