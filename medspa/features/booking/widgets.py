"""Small building blocks of the booking page: choice cards, fields with their messages,
section titles, the back button and provider avatars."""

from __future__ import annotations

import reflex as rx

from medspa.features.booking.state import BookingState as S, CheckoutState as C

ACCENT = "teal"

# ---------------------------------------------------------------- small building blocks


def choice_card(*children: rx.Component, on_click, selected=False, aria_label=None, **props) -> rx.Component:
    """A whole card that is one real <button> (keyboard and screen-reader friendly)."""
    return rx.card(
        rx.el.button(
            *children,
            on_click=on_click,
            type="button",
            aria_label=aria_label,
            aria_pressed=selected,
            style={"text_align": "left", "width": "100%", "cursor": "pointer"},
        ),
        as_child=True,
        size="2",
        width="100%",
        style={
            "outline": rx.cond(selected, f"2px solid {rx.color(ACCENT, 9)}", "none"),
            "background": rx.cond(selected, rx.color(ACCENT, 2), "var(--color-panel-solid)"),
        },
        **props,
    )


def field_error(name: str) -> rx.Component:
    """The booking page's message under field `name` (nothing when it has none)."""
    message = C.errors[name]
    return rx.cond(
        message,
        rx.text(rx.icon("circle-alert", size=14, flex_shrink="0"), message, id=f"{name}-error", role="alert", size="2",
                color=rx.color("red", 11), display="flex", align_items="center", gap="0.35em"),
    )


def text_field(name: str, label: str, *, default=None, width="100%", with_error: bool = True,
               **props) -> rx.Component:
    """A labelled input; its message (errors[name]) right below it, linked by aria-describedby
    (with_error=False: the caller shows field_error(name) itself, e.g. below a row of fields)."""
    return rx.vstack(
        rx.el.label(label, html_for=name, style={"font_weight": "500", "font_size": "0.9em"}),
        rx.input(
            id=name,
            name=name,
            default_value=default,
            size="3",
            width="100%",
            custom_attrs={"aria-describedby": f"{name}-error", "aria-invalid": rx.cond(C.errors[name], "true", "false")},
            **props,
        ),
        field_error(name) if with_error else rx.fragment(),
        spacing="1",
        width=width,
        align="stretch",
    )


def section_title(text, subtitle=None) -> rx.Component:
    """A step heading of the booking page, with an optional grey subtitle."""
    return rx.vstack(
        rx.heading(text, size="6", weight="bold", as_="h2"),
        rx.cond(subtitle, rx.text(subtitle, size="2", color_scheme="gray")) if subtitle is not None else rx.fragment(),
        spacing="1",
        width="100%",
    )


def back_button() -> rx.Component:
    """The booking page's "Back" button to the previous step."""
    return rx.button(rx.icon("arrow-left", size=16), "Back", variant="ghost", size="2", on_click=S.go_back,
                     color_scheme="gray")


# ---------------------------------------------------------------- header, progress, summary
