"""The medical history's section forms, shared by the staff profile card
(features/clients/health_card.py) and the client portal's Health tab (features/portal/health.py):
the fields of each section, reading a submitted form into a section's value, placing the
service's messages next to the fields, and the form's components (for any state class with the
edit_* vars and an add_row event).
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.clinical.medical_history import SECTION_LABELS, SECTIONS, describe
from medspa.web.inputs import form_text

LIST_SPECS: dict[str, list[tuple[str, str]]] = {
    "allergies": [("agent", "Agent or ingredient"), ("reaction", "Reaction")],
    "medications": [("name", "Medication"), ("dose", "Dose"), ("stopped_on", "Stopped on (YYYY-MM-DD; empty: taking)")],
    "conditions": [("name", "Condition")],
    "previous_treatments": [("treatment", "Treatment"), ("when", "When")],
}
"""The list sections' fields and their labels, in form column order."""
BLANK_ROWS = 2  # empty rows offered under the filled ones
NONE = "none"  # a Radix select item cannot be "": "not recorded"


@dataclasses.dataclass
class SectionView:
    """A section on the card: key, label, its value in words, recorded (ever filled in)."""

    key: str = ""
    label: str = ""
    text: str = ""
    recorded: bool = False


@dataclasses.dataclass
class EditRow:
    """A row of a list section's form: its index and up to three field values."""

    index: int = 0
    v0: str = ""
    v1: str = ""
    v2: str = ""


@dataclasses.dataclass
class VersionView:
    """A change for the viewer: when, who, source, section label, old -> new in words."""

    when: str = ""
    who: str = ""
    source: str = ""
    section: str = ""
    old: str = ""
    new: str = ""


def changes_from_form(section: str, form: dict, rows: int) -> object:
    """The section's value from the submitted form (fields "r<i>_<k>" for list sections with
    `rows` rows; "fitz", "pregnant", "breastfeeding", "sun", "smoking", "goals" otherwise).
    validate_section does the checking."""
    data = form if isinstance(form, dict) else {}
    if section in LIST_SPECS:
        fields = [f for f, _label in LIST_SPECS[section]]
        return [{f: form_text(data, f"r{i}_{k}", 200) for k, f in enumerate(fields)} for i in range(rows)]
    on = {n: data.get(n) in ("on", "true", True) for n in ("pregnant", "breastfeeding", "smoking")}
    if section == "fitzpatrick":
        value = form_text(data, "fitz", 8)
        return {"type": "" if value == NONE else value}
    if section == "pregnancy":
        return {"pregnant": on["pregnant"], "breastfeeding": on["breastfeeding"]}
    if section == "lifestyle":
        sun = form_text(data, "sun", 16)
        return {"sun_exposure": "" if sun == NONE else sun, "smoking": on["smoking"]}
    return {"text": form_text(data, "goals", 2001)}


def field_errors(section: str, fields: dict[str, str]) -> dict[str, str]:
    """Service messages keyed for the form: "<section>.<i>.<field>" -> "r<i>_<k>",
    "<section>.<field>" -> "<field>", anything else -> "general"."""
    out: dict[str, str] = {}
    names = {f: k for k, (f, _l) in enumerate(LIST_SPECS.get(section, []))}
    for key, message in fields.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[1].isdigit() and parts[2] in names:
            out[f"r{parts[1]}_{names[parts[2]]}"] = message
        elif len(parts) == 2 and parts[0] == section:
            out[{"type": "fitz", "sun_exposure": "sun", "text": "goals"}.get(parts[1], parts[1])] = message
        else:
            out.setdefault("general", message)
    return out



def section_views(values: dict, recorded) -> list[SectionView]:
    """The eight sections in words ("Not recorded" for one never filled in)."""
    return [SectionView(s, SECTION_LABELS[s], describe(s, values[s]) if s in recorded else "Not recorded",
                        s in recorded) for s in SECTIONS]


def edit_values(section: str, value) -> tuple[list[str], list[EditRow], dict[str, bool], dict[str, str]]:
    """(column labels, rows, flags, texts) that open the form of `section` filled with `value`."""
    if section in LIST_SPECS:
        fields = [f for f, _l in LIST_SPECS[section]]
        rows = [[str(r.get(f, "")) for f in fields] for r in (value or [])] + [[""] * len(fields)] * BLANK_ROWS
        return ([label for _f, label in LIST_SPECS[section]],
                [EditRow(i, *(vals + ["", ""])[:3]) for i, vals in enumerate(rows)], {}, {})
    value = value or {}
    flags = {"pregnant": bool(value.get("pregnant")), "breastfeeding": bool(value.get("breastfeeding")),
             "smoking": bool(value.get("smoking"))}
    texts = {"fitz": value.get("type") or NONE, "sun": value.get("sun_exposure") or NONE, "goals": value.get("text", "")}
    return [], [], flags, texts


def _error(S, name) -> rx.Component:
    return rx.cond(S.edit_errors.contains(name),
                   rx.text(S.edit_errors[name], size="1", color=rx.color("red", 11), custom_attrs={"data-error": name}))


def _cell(S, row: EditRow, k: int, value) -> rx.Component:
    name = "r" + row.index.to(str) + "_" + str(k)
    return rx.cond(S.edit_cols.length() > k, rx.vstack(
        rx.input(name=name, default_value=value, placeholder=S.edit_cols[k], width="100%", size="3",
                 id="health-" + name, aria_label=S.edit_cols[k],
                 color_scheme=rx.cond(S.edit_errors.contains(name), "red", "gray")),
        _error(S, name), spacing="1", flex="1 1 160px", min_width="0"))


def _choice(S, name: str, label: str, items: list[tuple[str, str]]) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.select.root(rx.select.trigger(id=f"health-{name}", width="100%"),
                       rx.select.content(*[rx.select.item(text, value=value) for value, text in items]),
                       name=name, default_value=S.edit_texts[name], size="3"),
        _error(S, name), spacing="1", width="100%")


def _check(S, name: str, label: str) -> rx.Component:
    return rx.text(rx.flex(rx.checkbox(name=name, default_checked=S.edit_flags[name], id=f"health-{name}", size="3"),
                           label, spacing="2", align="center"), as_="label", size="3")


def section_fields(S) -> rx.Component:
    """The open section's fields (S.edit_section) for the state class `S`."""
    def row(r: EditRow) -> rx.Component:
        return rx.flex(_cell(S, r, 0, r.v0), _cell(S, r, 1, r.v1), _cell(S, r, 2, r.v2), gap="8px", wrap="wrap",
                       width="100%", padding_bottom="6px", border_bottom=f"1px dashed {rx.color('gray', 5)}")
    heads = rx.flex(rx.foreach(S.edit_cols, lambda c: rx.text(c, size="1", weight="bold", flex="1 1 160px",
                                                               color=rx.color("gray", 11))),
                    gap="8px", width="100%", display=rx.breakpoints(initial="none", sm="flex"))
    lists = rx.vstack(
        heads,
        rx.foreach(S.edit_rows, row),
        rx.button(rx.icon("plus", size=14), "Add a row", variant="ghost", size="2", type="button",
                  on_click=S.add_row, id="health-add-row"),
        spacing="2", width="100%")
    return rx.match(
        S.edit_section,
        ("fitzpatrick", _choice(S, "fitz", "Fitzpatrick skin type", [(NONE, "Not recorded")] + [
            (t, f"Type {t}") for t in ("I", "II", "III", "IV", "V", "VI")])),
        ("pregnancy", rx.vstack(_check(S, "pregnant", "Pregnant"), _check(S, "breastfeeding", "Breastfeeding"),
                                spacing="2")),
        ("lifestyle", rx.vstack(_choice(S, "sun", "Sun exposure", [(NONE, "Not recorded"), ("low", "Low"),
                                                                   ("moderate", "Moderate"), ("high", "High")]),
                                _check(S, "smoking", "Smokes"), spacing="3", width="100%")),
        ("goals", rx.vstack(rx.text_area(name="goals", default_value=S.edit_texts["goals"], rows="3", width="100%",
                                         id="health-goals", max_length=2000), _error(S, "goals"), width="100%")),
        lists,
    )


def section_form(S, note: str) -> rx.Component:
    """The open section's form: fields, a general message, Cancel and Save (S.save_edit)."""
    return rx.form(rx.vstack(
        rx.cond(S.edit_errors.contains("general"), rx.callout(S.edit_errors["general"], icon="circle-alert",
                                                              color_scheme="red", size="1", width="100%")),
        section_fields(S),
        rx.text(note, size="1", color_scheme="gray"),
        rx.hstack(rx.button("Cancel", variant="soft", color_scheme="gray", type="button", on_click=S.cancel_edit),
                  rx.button("Save", type="submit", loading=S.saving, id="health-save"),
                  justify="end", spacing="2", width="100%"),
        spacing="3", width="100%"), on_submit=S.save_edit, reset_on_submit=False, key=S.edit_section, width="100%")
