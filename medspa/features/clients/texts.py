"""The client profile's "Texts from <client>" card: the texts the client sent to the clinic's
number (messaging.inbound), flagged ones first with "Mark handled". Loading the card is an
audited read of the client's record (inbound.read); marking one handled is audited too.
Shown only when the client sent something.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from medspa.domain.messaging.inbound_actions import do_mark_inbound_handled, fetch_client_texts
from medspa.web.inputs import parse_id
from medspa.features.clients.state import ClientProfileState

KEYWORD_WORDS = {"stop": "Opted out (STOP)", "start": "Opted back in (START)", "help": "Asked for help (HELP)"}


@dataclasses.dataclass
class TextView:
    """One text as the card shows it."""

    id: int = 0
    body: str = ""
    when: str = ""
    flagged: bool = False
    note: str = ""  # the keyword in words, or who handled it


def text_view(row) -> TextView:
    """The card's line of a domain InboundRow."""
    if row.note and row.flagged:
        note = row.note
    elif row.keyword:
        note = KEYWORD_WORDS.get(row.keyword, row.keyword)
    elif not row.flagged and row.handled_by:
        note = f"Handled by {row.handled_by}"
    else:
        note = ""
    return TextView(row.id, row.body, row.received_label, row.flagged, note)


class ClientTextsState(ClientProfileState):
    """The texts card of the profile shown."""

    texts: list[TextView] = []
    texts_error: str = ""

    @rx.event
    async def load_texts(self):
        """on_load after the profile: the client's texts (audited), nothing for roles without inbound.read."""
        self.texts, self.texts_error = [], ""
        if self.status != "ready" or not self._client_id:
            return None
        actor = await self._staff_actor()
        if actor is None or not actor.can("inbound.read"):
            return None
        done = await self._act(fetch_client_texts, self._client_id)
        if done.redirect is not None:
            return done.redirect
        if done.ok:
            self.texts = [text_view(r) for r in done.value]
        return None

    @rx.event
    async def mark_handled(self, inbound_id: Any):
        """"Mark handled" on a flagged text, then the card again."""
        text_id = parse_id(inbound_id)
        if text_id is None:
            return None
        done = await self._act(do_mark_inbound_handled, text_id)
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.texts_error = "That text is no longer here."
            return None
        return ClientTextsState.load_texts


def _text_row(t: TextView) -> rx.Component:
    return rx.hstack(
        rx.cond(t.flagged, rx.icon("message-circle-warning", size=16, color=rx.color("amber", 10)),
                rx.icon("message-circle", size=16, color=rx.color("gray", 9))),
        rx.vstack(
            rx.text(t.body, size="2", white_space="pre-wrap", weight=rx.cond(t.flagged, "medium", "regular")),
            rx.hstack(rx.text(t.when, size="1", color_scheme="gray"),
                      rx.cond(t.note != "", rx.text("· " + t.note, size="1", color_scheme="gray")), spacing="1",
                      wrap="wrap"),
            spacing="1", flex="1", min_width="0"),
        rx.cond(t.flagged, rx.button(rx.icon("check", size=14), "Mark handled", size="1", variant="soft",
                                     on_click=ClientTextsState.mark_handled(t.id), id=f"text-handle-{t.id}")),
        align="start", spacing="3", width="100%", padding_y="6px",
        class_name=rx.cond(t.flagged, "text-flagged", "text-seen"))


def texts_card() -> rx.Component:
    """The card (nothing when the client sent no text)."""
    s = ClientTextsState
    return rx.cond(s.texts.length() > 0, rx.card(rx.vstack(
        rx.hstack(rx.heading("Texts from the client", size="4"), rx.spacer(),
                  rx.text("Not a two-way inbox yet: answer by phone.", size="1", color_scheme="gray"),
                  width="100%", align="center", wrap="wrap"),
        rx.cond(s.texts_error != "", rx.callout(s.texts_error, icon="circle-alert", color_scheme="red", size="1")),
        rx.vstack(rx.foreach(s.texts, _text_row), spacing="1", width="100%"),
        spacing="3", width="100%"), width="100%", id="profile-texts"))
