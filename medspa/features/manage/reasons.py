"""The cancellation reason picker, one UI for the manage-booking page and the client portal:
the reasons of scheduling.reschedule.CANCEL_REASONS in a client's words, and a note (needed for
"Other") with its message right below it."""

from __future__ import annotations

import reflex as rx

from medspa.features.manage.flow import REASON_CODES

# what a client reads for each reason code (the staff calendar shows CANCEL_REASONS' own labels)
CLIENT_WORDS = {"client_request": "My plans changed", "illness": "I'm unwell", "clinic": "The clinic asked me to",
                "weather": "Weather or travel", "other": "Another reason"}


def reason_picker(value, on_change, note_error, *, disabled=False, prefix: str = "cancel") -> rx.Component:
    """Radio buttons of the reasons (`value`: the picked code, `on_change(code)`), then a note
    field named "note" (send it with the enclosing form) and `note_error` under it."""
    return rx.vstack(
        rx.el.label("Why are you cancelling?", id=f"{prefix}-reason-label", style={"font_weight": "500"}),
        rx.radio_group.root(
            rx.vstack(*[rx.radio_group.item(CLIENT_WORDS.get(code, code), value=code) for code in REASON_CODES],
                      spacing="2"),
            value=value,
            on_change=on_change,
            disabled=disabled,
            size="3",
            id=f"{prefix}-reason",
            name=f"{prefix}-reason",
            custom_attrs={"aria-labelledby": f"{prefix}-reason-label"},
        ),
        rx.el.label(rx.cond(value == "other", "Tell us the reason", "Anything to add? (optional)"),
                    html_for=f"{prefix}-note", style={"font_weight": "500", "font_size": "0.9em"}, margin_top="0.5em"),
        rx.text_area(id=f"{prefix}-note", name="note", max_length=500, rows="2", width="100%", size="3",
                     placeholder=rx.cond(value == "other", "A few words", ""),
                     custom_attrs={"aria-describedby": f"{prefix}-note-error",
                                   "aria-invalid": rx.cond(note_error, "true", "false")}),
        rx.cond(note_error, rx.text(rx.icon("circle-alert", size=14, flex_shrink="0"), note_error,
                                    id=f"{prefix}-note-error", role="alert", size="2", color=rx.color("red", 11),
                                    display="flex", align_items="center", gap="0.35em")),
        spacing="2",
        width="100%",
    )
