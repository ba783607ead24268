"""A submitted "Medical history update" form feeds the client's medical history (issue 17).

The form's answers become history sections (form_answers.history_changes_from_answers) and are
recorded as versions with source "intake form" in the submission's transaction, so the provider
sees on the record what the client told the clinic before the visit, and the version viewer says
it came from the form.

What a form may change: a client answering a form adds to the lists the clinic holds
(allergies, medications, conditions, previous treatments) but never removes a row from them: an
allergy the provider recorded is not erased because a form was answered "no" in a hurry.
Removing a row stays a deliberate edit on the record (staff on the profile, or the client in the
portal's Health tab), which is kept as its own version. Single-value sections (skin type,
pregnancy, lifestyle, goals) take the form's answer, as the client's latest statement.

A form never loses a row it states (an allergy dropped is an allergy no contraindication can
flag). A list holds at most MAX_ROWS rows (medical_history); when the rows the record holds
plus the new ones the form states would pass it, the submission is REFUSED: a ValidationFailed
keyed by the form's question for that list (the question keys are the section names:
"allergies", "medications", "conditions", "previous_treatments") saying how many the record
holds, and the caller's transaction keeps nothing (neither the form nor any history change).
Nothing is ever cut to fit: the client, or the clinic with them, first removes rows that no
longer apply (the portal's Health tab, or staff on the profile), then submits again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from medspa.domain.clinical.form_answers import history_changes_from_answers
from medspa.domain.clinical.medical_history import (LIST_FIELDS, MAX_ROWS, TEXT_MAX, current_history,
                                                    record_history)
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor

SOURCE = "intake form"


def _key(section: str, row: dict[str, Any]) -> str:
    """A list row's identity: its required field (agent, name, treatment), case-insensitive."""
    return str(row.get(LIST_FIELDS[section][1], "")).strip().casefold()


def merged_changes(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The sections to record: list sections are the current rows plus the form's rows not
    already there (by agent / name / treatment, case-insensitive; a medication already listed
    takes the form's stop date when the form gives one; never cut: over_cap tells when a list
    passes MAX_ROWS); other sections as
    the form states them. Texts are cut to TEXT_MAX so a long answer never fails the history's
    own check. Pure."""
    out: dict[str, Any] = {}
    for section, value in changes.items():
        if section not in LIST_FIELDS:
            out[section] = value
            continue
        fields = LIST_FIELDS[section][0]
        rows = [dict(r) for r in current.get(section) or []]
        seen = {_key(section, r): r for r in rows}
        for new in value or []:
            clipped = {f: str(new.get(f, "") or "")[:TEXT_MAX] for f in fields}
            old = seen.get(_key(section, clipped))
            if old is None:
                rows.append(clipped)
                seen[_key(section, clipped)] = clipped
            elif section == "medications" and clipped.get("stopped_on"):
                old["stopped_on"] = clipped["stopped_on"]
        out[section] = rows
    return out


_WORDS = {"allergies": "allergies", "medications": "medicines", "conditions": "conditions",
          "previous_treatments": "previous treatments"}


def over_cap(current: dict[str, Any], merged: dict[str, Any]) -> dict[str, str]:
    """Field messages for the list sections of `merged` (merged_changes) longer than MAX_ROWS,
    keyed by section (= the form's question); {} when every list fits. Pure."""
    errors: dict[str, str] = {}
    for section, rows in merged.items():
        if section not in LIST_FIELDS or len(rows) <= MAX_ROWS:
            continue
        held, words = len(current.get(section) or []), _WORDS[section]
        if held:
            errors[section] = (f"Your record already lists {held} {words}; with these it would pass {MAX_ROWS}, "
                               f"the most it keeps. Nothing was saved: please ask the clinic to remove the "
                               f"{words} that no longer apply (or do it on the Health tab), then send this form "
                               f"again.")
        else:
            errors[section] = f"List at most {MAX_ROWS} {words}, one per line"
    return errors


def apply_intake_history(session: Session, actor: Actor, client_id: int, answers: dict[str, Any],
                         now: datetime) -> list[str]:
    """Record what a submitted medical history form states on the client's history (one version
    per changed section, source "intake form", by `actor`: the portal client or the staff member
    holding the tablet). `answers`: the form's checked answers. Returns the changed sections.
    Called by forms.submit_form in its transaction; the form's own permission check covers it.
    Raises NotFound (no such client), ValidationFailed (over_cap: a list would pass MAX_ROWS,
    keyed by the form's question; nothing recorded)."""
    changes = history_changes_from_answers(answers)
    if not changes:
        return []
    current = current_history(session, client_id)
    merged = merged_changes(current, changes)
    errors = over_cap(current, merged)
    if errors:  # never cut a stated row: refuse, the caller's transaction keeps nothing
        raise ValidationFailed(errors)
    return record_history(session, client_id, merged, by_user_id=actor.user_id, by_label=actor.label[:120],
                          source=SOURCE, now=now)
