"""Drawing an intake form (the portal's Forms tab and the staff tablet page share it).

A form is a list of FieldUI; text, long text and date answers are plain named inputs read from
the submitted form, yes/no and single choice are radio cards kept in the state (`picks`), so
both are sent together on submit. Each field's message (`errors[key]`) shows right under its
question, with aria-describedby pointing at it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from medspa.domain.clinical.forms import FormView


@dataclasses.dataclass
class OptionUI:
    """One choice of a yes/no or single-choice question."""

    value: str = ""
    label: str = ""


@dataclasses.dataclass
class FieldUI:
    """One question as the page draws it; value: the answer to start from ("" none)."""

    key: str = ""
    label: str = ""
    kind: str = "text"
    required: bool = False
    help: str = ""
    value: str = ""
    options: list[OptionUI] = dataclasses.field(default_factory=list)


def field_views(view: FormView) -> list[FieldUI]:
    """The FieldUI rows of a FormView (its answers as the starting values)."""
    return [FieldUI(f.key, f.label, f.kind, f.required, f.help, view.answers.get(f.key, ""),
                    [OptionUI(v, label) for v, label in f.options]) for f in view.fields]


def field_messages(fields: list[FieldUI], messages: dict[str, str] | None = None) -> dict[str, str]:
    """A message for every field ("" none): the page reads errors[key] for each question."""
    messages = messages or {}
    return {f.key: str(messages.get(f.key, "")) for f in fields}


def answers_from(form: Any, fields: list[FieldUI], picks: dict[str, str]) -> dict[str, str]:
    """The answers to send: typed fields from the submitted `form`, choices from `picks`;
    only keys of `fields`, only strings (anything else from a browser is dropped)."""
    out: dict[str, str] = {}
    given = form if isinstance(form, dict) else {}
    for f in fields:
        value = picks.get(f.key, "") if f.kind in ("yes_no", "choice") else given.get(f.key, "")
        out[f.key] = value[:5000] if isinstance(value, str) else ""
    return out


def _label(f: FieldUI, large) -> rx.Component:
    return rx.el.label(
        f.label, rx.cond(f.required, rx.text.span(" *", color=rx.color("red", 10), aria_hidden="true")),
        html_for="field-" + f.key,
        style={"font_weight": "600", "font_size": ("1.15em" if large else "0.95em"), "line_height": "1.35"},
    )


def _choice(f: FieldUI, picks, on_pick, large) -> rx.Component:
    return rx.radio_cards.root(
        rx.foreach(f.options, lambda o: rx.radio_cards.item(
            rx.text(o.label, size=("4" if large else "2")), value=o.value,
            custom_attrs={"data-field": f.key, "data-value": o.value})),
        value=picks[f.key].to(str),
        on_value_change=lambda value: on_pick(f.key, value),
        columns=rx.cond(f.kind == "yes_no", "2", rx.breakpoints(initial="1", sm="2")),
        size=("3" if large else "2"),
        gap="2",
        width="100%",
        id="field-" + f.key,
        custom_attrs={"aria-describedby": "error-" + f.key},
    )


def _input(f: FieldUI, large) -> rx.Component:
    common = {"id": "field-" + f.key, "name": f.key, "default_value": f.value, "width": "100%",
              "custom_attrs": {"aria-describedby": "error-" + f.key}}
    return rx.match(
        f.kind,
        ("long_text", rx.text_area(rows="3", size=("3" if large else "2"), max_length=2000, **common)),
        ("date", rx.input(type="date", size=("3" if large else "2"), **common)),
        rx.input(size=("3" if large else "2"), max_length=200, **common),
    )


def form_field(f: FieldUI, errors, picks, on_pick, large) -> rx.Component:
    """One question: label (a red * when required), help, the input, and its message."""
    message = errors[f.key].to(str)
    return rx.vstack(
        _label(f, large),
        rx.cond(f.help != "", rx.text(f.help, size=("3" if large else "1"), color_scheme="gray")),
        rx.cond((f.kind == "yes_no") | (f.kind == "choice"), _choice(f, picks, on_pick, large), _input(f, large)),
        rx.cond(message != "", rx.text(rx.icon("circle-alert", size=14, flex_shrink="0"), message,
                                       id="error-" + f.key, role="alert", size=("3" if large else "2"),
                                       color=rx.color("red", 11), display="flex", align_items="center",
                                       gap="0.35em", class_name="field-error")),
        spacing="2",
        width="100%",
        padding="0.75em",
        border_radius="10px",
        background=rx.cond(message != "", rx.color("red", 2), "transparent"),
        border=rx.cond(message != "", f"1px solid {rx.color('red', 6)}", "1px solid transparent"),
        class_name="form-field",
        custom_attrs={"data-field": f.key},
    )


def form_fields(fields, errors, picks, on_pick, *, large: bool = False) -> rx.Component:
    """Every question of a form (a foreach over `fields`)."""
    return rx.vstack(rx.foreach(fields, lambda f: form_field(f, errors, picks, on_pick, large)),
                     spacing="4" if large else "2",
                     width="100%")
