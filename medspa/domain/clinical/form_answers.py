"""Checking a form's answers and turning the medical history update into history sections.

Pure functions, no database: `clean_answers` validates what a client typed against a template
(required questions, choice values, dates, lengths; a message per field, nothing partial), and
`history_changes_from_answers` maps the "Medical history update" answers to the shared section
shapes of the medical history (plan17 "Shared shapes"; the lead hands the result to
medical_history.record_history with source "intake form").
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from medspa.domain.clinical.form_templates import (
    CHOICE,
    DATE,
    LONG_TEXT,
    MAX_LENGTH,
    YES_NO,
    FormField,
    FormTemplate,
)
from medspa.domain.errors import ValidationFailed
from medspa.domain.textrules import has_control

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPLIT = re.compile(r"\s+[-–—]\s*|\s*[:–—]\s*|,\s*")


def _has_control(text: str, multiline: bool) -> bool:
    """textcheck.has_control (THE check), a tab allowed in a one-line answer as before."""
    return has_control(text.replace("\t", " "), multiline=multiline)


def _check(f: FormField, raw: Any, today: date) -> tuple[str, str]:
    """(clean value, message) for one field; message "" when the answer is fine."""
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        return "", "Enter text here"
    value = raw.replace("\r\n", "\n").strip()
    if not value:
        if not f.required:
            return "", ""
        return "", "Choose yes or no" if f.kind == YES_NO else "Choose one option" if f.kind == CHOICE else (
            "Enter a date" if f.kind == DATE else "Answer this question")
    if f.kind in (YES_NO, CHOICE):
        if value not in {v for v, _ in f.options}:
            return "", "Choose one of the options"
        return value, ""
    if f.kind == DATE:
        try:
            when = date.fromisoformat(value) if _ISO_DATE.match(value) else None
        except ValueError:
            when = None
        if when is None:
            return "", "Enter a date like 2026-05-31"
        if f.past_only and when > today:
            return "", "This date cannot be in the future"
        if when.year < 1900:
            return "", "Enter a date after 1900"
        return when.isoformat(), ""
    limit = MAX_LENGTH[f.kind]
    if len(value) > limit:
        return "", f"Keep this under {limit:,} characters (now {len(value):,})"
    if _has_control(value, f.kind == LONG_TEXT):
        return "", "Remove the special characters"
    return value, ""


def clean_answers(tpl: FormTemplate, answers: Any, *, today: date) -> dict[str, str]:
    """Every field of `tpl` -> its cleaned answer ("" = not answered); keys not in the
    template are dropped. `today`: the clinic's local date (past-only dates).

    Raises ValidationFailed with a message per field key ("Answer this question", "Choose one
    of the options", "Enter a date like 2026-05-31", "Keep this under 200 characters (now 230)").
    """
    given = answers if isinstance(answers, dict) else {}
    out: dict[str, str] = {}
    errors: dict[str, str] = {}
    for f in tpl.fields:
        value, message = _check(f, given.get(f.key), today)
        if message:
            errors[f.key] = message
        out[f.key] = value
    if errors:
        raise ValidationFailed(errors)
    return out


def display_answer(f: FormField, value: str) -> str:
    """What staff read for an answer: the option's label, or the text; "—" when unanswered."""
    if not value:
        return "—"
    return dict(f.options).get(value, value) if f.kind in (YES_NO, CHOICE) else value


# ---------------------------------------------------------------------------- history sections


def _lines(text: Any) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()] if isinstance(text, str) else []


def _pair(line: str) -> tuple[str, str]:
    """"Lidocaine - hives" -> ("Lidocaine", "hives"); "Ibuprofen, 200 mg" -> ("Ibuprofen", "200 mg")."""
    parts = _SPLIT.split(line, maxsplit=1)
    first = parts[0].strip()
    rest = parts[1].strip() if len(parts) > 1 else ""
    return first, rest


def _yes(value: Any) -> bool | None:
    return True if value == "yes" else False if value == "no" else None


def history_changes_from_answers(answers: dict[str, Any]) -> dict[str, Any]:
    """The medical history sections a submitted "Medical history update" states, in the shared
    section shapes (plan17): only sections the answers speak to are returned, so an unanswered
    optional question never erases what the record holds.

    allergies: [{"agent", "reaction"}] ("no" -> []); medications: [{"name", "dose", "stopped_on"}]
    ("no" -> [] unless an isotretinoin stop date is given, which adds {"isotretinoin", "",
    date}); conditions: [{"name"}]; fitzpatrick: {"type": "I".."VI" or ""} ("not_sure" -> "");
    previous_treatments: [{"treatment", "when"}]; pregnancy: {"pregnant", "breastfeeding"}
    (both needed); lifestyle: {"sun_exposure", "smoking"} (when either is answered; the other
    defaults to "" / False); goals: {"text"}. Pure: no database, no permission.
    """
    a = answers if isinstance(answers, dict) else {}
    out: dict[str, Any] = {}
    allergies = _yes(a.get("allergies_any"))
    if allergies is not None:
        out["allergies"] = [{"agent": agent, "reaction": reaction}
                            for agent, reaction in map(_pair, _lines(a.get("allergies")))] if allergies else []
    taking = _yes(a.get("medications_any"))
    stopped = a.get("isotretinoin_stopped") if isinstance(a.get("isotretinoin_stopped"), str) else ""
    if taking is not None or stopped:
        meds = [{"name": name, "dose": dose, "stopped_on": ""}
                for name, dose in map(_pair, _lines(a.get("medications")))] if taking else []
        if stopped and _ISO_DATE.match(stopped):
            meds = [m for m in meds if m["name"].lower() not in ("isotretinoin", "accutane")]
            meds.append({"name": "isotretinoin", "dose": "", "stopped_on": stopped})
        out["medications"] = meds
    if "conditions" in a and isinstance(a.get("conditions"), str):
        out["conditions"] = [{"name": name} for name in _lines(a["conditions"])]
    fitz = a.get("fitzpatrick")
    if fitz in ("I", "II", "III", "IV", "V", "VI", "not_sure"):
        out["fitzpatrick"] = {"type": "" if fitz == "not_sure" else fitz}
    if isinstance(a.get("previous_treatments"), str) and a["previous_treatments"].strip():
        out["previous_treatments"] = [{"treatment": t, "when": w}
                                      for t, w in map(_pair, _lines(a["previous_treatments"]))]
    pregnant, feeding = _yes(a.get("pregnant")), _yes(a.get("breastfeeding"))
    if pregnant is not None and feeding is not None:
        out["pregnancy"] = {"pregnant": pregnant, "breastfeeding": feeding}
    sun, smoking = a.get("sun_exposure"), _yes(a.get("smoking"))
    if sun in ("low", "moderate", "high") or smoking is not None:
        out["lifestyle"] = {"sun_exposure": sun if sun in ("low", "moderate", "high") else "",
                            "smoking": bool(smoking)}
    if isinstance(a.get("goals"), str) and a["goals"].strip():
        out["goals"] = {"text": a["goals"].strip()}
    return out
