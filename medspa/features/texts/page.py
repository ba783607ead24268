"""Texts from clients waiting for the desk, at `/texts` (every booking role: inbound.read), and
the Today page's banner that counts them.

A text a client sends to the clinic's number that is not STOP / START / HELP is flagged
(messaging.inbound), and so is a CANCEL (it opts the number out, with a note: they may have
meant their visit); the list shows each with its client (a link to the profile) and "Mark
handled". Loading the list is an audited read (it names clients); the banner's count is not.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from medspa.domain.messaging.inbound_actions import do_mark_inbound_handled, fetch_flagged_count, fetch_flagged_texts
from medspa.web.inputs import parse_id
from medspa.features.auth.shell import not_found_view, staff_header
from medspa.features.auth.state import StaffState

ROUTE = "/texts"


@dataclasses.dataclass
class FlaggedView:
    """One flagged text in the list."""

    id: int = 0
    body: str = ""
    when: str = ""
    who: str = ""  # the client's name, or the number when no client has it
    href: str = ""  # the client's profile ("" unknown sender)
    phone: str = ""  # the sender's number, to call or text back ("" when `who` is already the number)
    phone_href: str = ""  # tel: link of the number
    note: str = ""  # what the desk should know beside the words ("Cancel" opted the number out)


def flagged_view(row) -> FlaggedView:
    """The list's line of a domain InboundRow: a known client's name with their number beside it
    (the desk answers by phone: user trial), or the number alone."""
    href = f"/clients/{row.client_id}" if row.client_id else ""
    phone = row.from_label if row.client_name else ""
    return FlaggedView(row.id, row.body, row.received_label, row.client_name or row.from_label, href, phone,
                       f"tel:{row.from_address}" if row.from_address else "", row.note)


class FlaggedTextsState(StaffState):
    """The /texts list and the Today banner's count."""

    flagged_count: int = 0
    flagged: list[FlaggedView] = []
    texts_status: str = "loading"  # loading | ready | not_found

    @rx.event
    async def load_count(self):
        """on_load of Today: how many texts wait (0 for roles without inbound.read)."""
        done = await self._act(fetch_flagged_count)
        self.flagged_count = done.value if done.ok else 0

    @rx.event
    async def load(self):
        """on_load of /texts: the flagged texts, oldest first (audited)."""
        self.texts_status, self.flagged = "loading", []
        actor = await self._staff_actor()
        if actor is None:
            return self._to_login()
        if not actor.can("inbound.read"):
            self.texts_status = "not_found"
            return None
        done = await self._act(fetch_flagged_texts)
        if done.redirect is not None:
            return done.redirect
        self.flagged = [flagged_view(r) for r in done.value] if done.ok else []
        self.flagged_count = len(self.flagged)
        self.texts_status = "ready" if done.ok else "not_found"
        return None

    @rx.event
    async def mark_handled(self, inbound_id: Any):
        """"Mark handled": the text leaves the list."""
        text_id = parse_id(inbound_id)
        if text_id is None:
            return None
        done = await self._act(do_mark_inbound_handled, text_id)
        if done.redirect is not None:
            return done.redirect
        return FlaggedTextsState.load


def flagged_banner() -> rx.Component:
    """The Today page's line "2 texts from clients wait for the desk · Open" (nothing when none)."""
    s = FlaggedTextsState
    return rx.cond(s.flagged_count > 0, rx.callout.root(
        rx.callout.icon(rx.icon("message-circle-warning")),
        rx.callout.text(rx.hstack(
            rx.text(rx.cond(s.flagged_count == 1, "1 text from a client waits for the desk",
                            s.flagged_count.to_string() + " texts from clients wait for the desk")),
            rx.link("Open", href=ROUTE, weight="medium", id="today-texts-link"), spacing="2", wrap="wrap")),
        color_scheme="amber", size="1", width="100%", id="today-texts"))


def _row(t: FlaggedView) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.hstack(rx.cond(t.href != "", rx.link(t.who, href=t.href, weight="medium", size="2"),
                              rx.text(t.who + " (not a client on file)", size="2", weight="medium")),
                      rx.cond(t.phone != "", rx.link(t.phone, href=t.phone_href, size="2")),
                      rx.text(t.when, size="1", color_scheme="gray"), spacing="2", align="baseline", wrap="wrap"),
            rx.text(t.body, size="2", white_space="pre-wrap"),
            rx.cond(t.note != "", rx.text(t.note, size="1", color_scheme="amber", class_name="texts-note")),
            spacing="1", flex="1", min_width="0"),
        rx.button(rx.icon("check", size=14), "Mark handled", size="1", variant="soft",
                  on_click=FlaggedTextsState.mark_handled(t.id), id=f"texts-handle-{t.id}"),
        align="start", spacing="3", width="100%", padding="12px", border_radius="8px",
        background=rx.color("gray", 1), border=f"1px solid {rx.color('gray', 5)}")


def _body() -> rx.Component:
    s = FlaggedTextsState
    return rx.vstack(
        rx.heading("Texts from clients", size="7", weight="bold"),
        rx.text("Texts sent to the clinic's number that need an answer. STOP, START and HELP are handled "
                "automatically and never appear here; a CANCEL turns texts off and appears here too, in case "
                "the client meant their visit.", size="2", color_scheme="gray"),
        rx.cond(s.flagged.length() > 0, rx.vstack(rx.foreach(s.flagged, _row), spacing="2", width="100%",
                                                  id="texts-list"),
                rx.callout("Nothing waiting: every text is handled.", icon="check", color_scheme="grass", size="1",
                           id="texts-empty")),
        spacing="4", width="100%", max_width="760px", margin_x="auto", padding=rx.breakpoints(initial="14px", sm="24px"))


def texts_page() -> rx.Component:
    """/texts: the flagged texts."""
    s = FlaggedTextsState
    return rx.box(
        rx.cond(s.texts_status == "ready", rx.fragment(staff_header("today"), _body()),
                rx.cond(s.texts_status == "not_found", rx.fragment(staff_header("today"),
                                                                   not_found_view("texts-not-found")),
                        rx.center(rx.spinner(size="3"), padding_top="20vh"))),
        min_height="100vh", background=rx.color("gray", 2), id="texts-page")


def register(app: rx.App) -> None:
    """Add /texts (staff with inbound.read)."""
    app.add_page(texts_page, route=ROUTE, title="Texts from clients · medspa", on_load=FlaggedTextsState.load)
