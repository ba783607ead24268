"""What the consent screens show (portal tab and staff tablet): small view rows and the
signing card, parameterised by the state class that drives it (ConsentPortalState or
ConsentTabletState: both have items, current, method, choice, typed_name, errors, busy and the
events start, back, set_method, set_choice, set_typed_name, sign_drawn, sign_typed)."""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.clinical.consent_builtins import PHOTO_CHOICES
from medspa.domain.clinical.consent_signing import ConsentToSign, SignedConsent
from medspa.features.consent.widgets import signature_pad

ACCENT = "teal"


@dataclasses.dataclass
class ConsentItem:
    """A consent waiting for a signature: the exact text shown and its version's hash."""

    version_id: int = 0
    version: int = 0
    kind: str = ""
    title: str = ""
    body: str = ""
    sha256: str = ""
    for_label: str = ""
    required: bool = False


@dataclasses.dataclass
class SignedItem:
    """A signed consent in a list (no text, no signature)."""

    id: int = 0
    title: str = ""
    version: int = 0
    signed_label: str = ""
    how: str = ""
    choice_label: str = ""


def item_of(c: ConsentToSign) -> ConsentItem:
    """The view row of a consent to sign."""
    return ConsentItem(c.version_id, c.version, c.kind, c.title, c.body, c.sha256, c.for_label, c.required)


def signed_of(c: SignedConsent) -> SignedItem:
    """The view row of a signed consent."""
    return SignedItem(c.id, c.title, c.version, c.signed_label, c.how, c.choice_label)


def _field_error(message) -> rx.Component:
    return rx.cond(message, rx.text(message, color_scheme="red", size="2", class_name="field-error"))


def todo_row(S, item: ConsentItem, index) -> rx.Component:
    """One consent to sign, with its "Read and sign" button."""
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.text(item.title, weight="bold", size="3"),
                rx.text(item.for_label, size="2", color_scheme="gray"),
                spacing="1",
            ),
            rx.button("Read and sign", on_click=S.start(index), color_scheme=ACCENT, size="3",
                      class_name="consent-start", width=rx.breakpoints(initial="100%", sm="auto"), flex_shrink="0"),
            direction=rx.breakpoints(initial="column", sm="row"),
            justify="between",
            align=rx.breakpoints(initial="stretch", sm="center"),
            gap="3",
        ),
        width="100%",
        class_name="consent-todo",
    )


def _choice_picker(S) -> rx.Component:
    return rx.vstack(
        rx.text("How may your photos be used?", weight="bold", size="3"),
        rx.radio_group.root(
            rx.vstack(*[rx.text(rx.flex(rx.radio_group.item(value=value), label, spacing="2", align="center"),
                                as_="label", size="3") for value, label in PHOTO_CHOICES.items()], spacing="2"),
            value=S.choice,
            on_change=S.set_choice,
            id="consent-choice",
        ),
        _field_error(S.errors["choice"]),
        spacing="2",
        width="100%",
    )


def signing_card(S) -> rx.Component:
    """The consent being signed: its full text, the photo choice if any, and the signature."""
    item = S.current
    return rx.vstack(
        rx.button(rx.icon("arrow-left", size=16), "Back", variant="ghost", on_click=S.back, size="2",
                  id="consent-back"),
        rx.heading(item.title, size="5", as_="h3", id="consent-title"),
        rx.text("Version ", item.version, size="1", color_scheme="gray"),
        rx.box(
            rx.text(item.body, white_space="pre-wrap", size="3", line_height="1.6"),
            id="consent-text",
            padding="1em",
            border_radius="10px",
            background=rx.color("gray", 2),
            border=f"1px solid {rx.color('gray', 5)}",
            max_height=rx.breakpoints(initial="22em", sm="28em"),
            overflow_y="auto",
            width="100%",
        ),
        rx.cond(item.kind == "photo_use", _choice_picker(S)),
        rx.text("Sign below", weight="bold", size="3"),
        rx.segmented_control.root(
            rx.segmented_control.item("Draw", value="drawn"),
            rx.segmented_control.item("Type my name", value="typed"),
            value=S.method,
            on_change=S.set_method,
            id="consent-method",
            width="100%",
        ),
        rx.cond(
            S.method == "drawn",
            rx.vstack(
                signature_pad(
                    save_label=rx.cond(S.busy, "Signing…", "Sign consent"),
                    clear_label="Clear",
                    disabled=S.busy,
                    canvas_props={"width": 320, "height": 160, "data-testid": "signature-canvas",
                                  "style": {"width": "320px", "height": "160px", "border": "1px dashed #9aa",
                                            "borderRadius": "10px", "background": "white", "touchAction": "none",
                                            "maxWidth": "100%"}},
                    on_save=S.sign_drawn,
                    id="consent-pad",
                ),
                rx.text("Draw with your finger or the mouse inside the box.", size="1", color_scheme="gray"),
                spacing="1",
                width="100%",
            ),
            rx.form(
                rx.vstack(
                    rx.input(name="typed_name", placeholder="Your full name", size="3", id="consent-typed-name",
                             width="100%", default_value=S.typed_name, auto_complete="name"),
                    _field_error(S.errors["typed_name"]),
                    rx.button(rx.cond(S.busy, "Signing…", "Sign consent"), type="submit", size="3",
                              color_scheme=ACCENT, width="100%", loading=S.busy, id="consent-sign-typed"),
                    spacing="2",
                    width="100%",
                ),
                on_submit=S.sign_typed,
                width="100%",
            ),
        ),
        _field_error(S.errors["signature"]),
        rx.text("By signing you confirm that you read and agree to the text above. The clinic keeps the time, your "
                "device's IP address and browser, and a fingerprint (SHA-256) of this exact text with your signature.",
                size="1", color_scheme="gray"),
        spacing="3",
        width="100%",
        id="consent-signing",
    )


def stale_notice(S) -> rx.Component:
    """The message shown when the consent changed while it was read."""
    return rx.cond(S.error, rx.callout(S.error, icon="triangle-alert", color_scheme="amber", width="100%",
                                       id="consent-error"))
