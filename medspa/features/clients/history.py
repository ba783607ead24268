"""The client profile's "Book again" and "Charts & photos" (/clients/<id>).

- Book again: the top card offers the next free time for the most recent past visit (same
  service and provider at the same location, else any provider: domain clients/rebook.py);
  every past visit has a "Book again" button. The offer is confirmed in a dialog, then booked
  as a desk booking (clients/rebook_actions.do_book_again) and the profile reloads: the visit
  shows under Upcoming. The time booked is the one this server state offered, never one sent
  by the browser; visit ids the browser sends are checked against the profile's past visits.
- "Book" opens the calendar on the client's usual location with the booking dialog ready for
  this client (/calendar?location=<id>&client=<id>: features/calendar/preset.py).
- Charts & photos: for chart.read / photo.read only (provider, owner); for anyone else the
  state holds nothing and the section is not rendered at all. Each list is an audited read
  (clinical/actions.fetch_client_clinical); thumbnails come from the protected media route.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import reflex as rx

from medspa.domain.clients.rebook_actions import do_book_again, fetch_book_again
from medspa.domain.clinical.actions import fetch_client_clinical
from medspa.domain.errors import ValidationFailed
from medspa.domain.scheduling.service import SlotTaken
from medspa.features.charting.photos import photo_url
from medspa.features.clients.state import ClientProfileState

CHART_COLORS = {"signed": "green", "draft": "amber", "amended": "blue", "amending": "amber"}


@dataclasses.dataclass
class ChartView:
    """A chart of the client's: visit date, service, provider, status word and colour, link."""

    date: str = ""
    service: str = ""
    provider: str = ""
    status: str = ""
    color: str = "gray"
    href: str = ""


@dataclasses.dataclass
class ThumbView:
    """A photo thumbnail: id, caption ("Before · Jan 8, 2030 · Botox"), thumbnail URL, chart link."""

    id: int = 0
    caption: str = ""
    src: str = ""
    href: str = ""


class ClientHistoryState(ClientProfileState):
    """Book again (top offer, the confirm dialog) and the clinical lists of the profile."""

    top_id: int = 0  # the most recent past visit (0: none)
    top_label: str = ""  # its next free time, "" when none
    top_note: str = ""
    book_href: str = "/calendar"
    ask_open: bool = False
    ask_title: str = ""  # "Botox with Nina"
    ask_label: str = ""
    ask_note: str = ""
    booking: bool = False
    book_message: str = ""
    book_error: str = ""
    show_charts: bool = False
    show_photos: bool = False
    charts: list[ChartView] = []
    thumbs: list[ThumbView] = []
    _offer: dict = {}  # what confirm books: source, start (ISO), provider; {} when nothing is offered

    @rx.event
    async def load(self):
        """on_load after the profile: a fresh page without the last one's messages."""
        self.book_message = self.book_error = ""
        return await self.refresh()

    @rx.event
    async def refresh(self):
        """The top offer, the calendar link and the clinical lists of the profile shown."""
        self.ask_open, self.booking, self._offer = False, False, {}
        self.top_id, self.top_label, self.top_note, self.book_href = 0, "", "", "/calendar"
        self.show_charts = self.show_photos = False
        self.charts, self.thumbs = [], []
        if self.status != "ready" or not self._client_id:
            return None
        self.book_href = f"/calendar?client={self._client_id}"
        top = self.past[0].id if self.past else None
        done = await self._act(fetch_book_again, self._client_id, top)
        if done.redirect is not None:
            return done.redirect
        if done.ok:
            offer = done.value.offer
            if done.value.usual_location_id:
                self.book_href = f"/calendar?location={done.value.usual_location_id}&client={self._client_id}"
            if offer is not None:
                self.top_id, self.top_label, self.top_note = offer.source_id, offer.label, offer.note
        if self.clinical or self.photos:
            await self._clinical()
        return None

    async def _clinical(self) -> None:
        done = await self._act(fetch_client_clinical, self._client_id)
        if not done.ok:
            return
        got = done.value
        self.show_charts, self.show_photos = got.can_charts, got.can_photos
        self.charts = [ChartView(c.date, c.service, c.provider, c.status, CHART_COLORS.get(c.status, "gray"),
                                 f"/chart/{c.appointment_id}") for c in got.charts]
        self.thumbs = [ThumbView(p.id, f"{p.kind.capitalize()} · {p.date} · {p.service}", photo_url(p.id, thumb=True),
                                 f"/chart/{p.appointment_id}") for p in got.photos]

    @rx.event
    async def ask(self, appointment_id: int):
        """"Book again" on a past visit: its next free time in the confirm dialog (ids that are
        not among the profile's past visits are ignored)."""
        past = {v.id: v for v in self.past}
        if isinstance(appointment_id, bool) or not isinstance(appointment_id, int) or appointment_id not in past:
            return None
        visit = past[appointment_id]
        self.book_error, self.book_message, self._offer = "", "", {}
        done = await self._act(fetch_book_again, self._client_id, appointment_id)
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            self.book_error = "This visit cannot be booked again."
            return None
        offer = done.value.offer
        self.ask_title = f"{visit.service} with {visit.provider}"
        self.ask_label, self.ask_note = offer.label, offer.note
        if offer.start is not None:
            self._offer = {"source": offer.source_id, "start": offer.start.isoformat(), "provider": offer.provider_id,
                           "label": offer.label, "service": offer.service}
        self.ask_open = True
        return None

    @rx.event
    def cancel(self):
        """Close the confirm dialog without booking."""
        self.ask_open, self._offer = False, {}

    @rx.event
    def set_ask_open(self, value: bool):
        """The dialog's open state from the component (it may close itself, never open itself)."""
        if not value:
            self.cancel()

    @rx.event
    async def confirm(self):
        """Book the offered time (once: the offer is spent before the booking is asked for)."""
        offer, self._offer = self._offer, {}
        if not offer or self.booking:
            return None
        self.booking, self.book_error = True, ""
        try:
            done = await self._act(do_book_again, self._client_id, offer["source"],
                                   start_at=datetime.fromisoformat(offer["start"]), provider_id=offer["provider"])
        except (SlotTaken, ValidationFailed):
            self.booking, self.ask_open = False, False
            self.book_error = "That time was just taken. Press Book again for the next free time."
            return None
        self.booking, self.ask_open = False, False
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            self.book_error = "This visit cannot be booked again."
            return None
        self.book_message = (f"{offer['service']} was already booked for {offer['label']}." if done.value.already
                             else f"Booked {offer['service']} on {offer['label']}.")
        return [ClientProfileState.load, ClientHistoryState.refresh]


# ---- components


def book_again_cell(v) -> rx.Component:
    """The "Book again" cell of a past visit's row."""
    return rx.table.cell(rx.button(rx.icon("calendar-plus", size=13), "Book again", size="1", variant="soft",
                                   on_click=ClientHistoryState.ask(v.id), class_name="book-again",
                                   custom_attrs={"data-visit-id": v.id}), white_space="nowrap")


def _confirm_dialog() -> rx.Component:
    h = ClientHistoryState
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Book again"),
        rx.text(h.ask_title, size="2", color_scheme="gray"),
        rx.cond(h.ask_label != "",
                rx.vstack(rx.text("Next free time", size="1", color_scheme="gray", weight="medium"),
                          rx.text(h.ask_label, size="4", weight="bold", id="book-again-when"), spacing="1",
                          padding_y="12px")),
        rx.cond(h.ask_note != "", rx.callout(h.ask_note, icon="info", color_scheme="amber", size="1",
                                             id="book-again-note")),
        rx.hstack(
            rx.button("Cancel", variant="soft", color_scheme="gray", on_click=h.cancel),
            rx.cond(h.ask_label != "", rx.button("Book this time", on_click=h.confirm, loading=h.booking,
                                                 id="book-again-confirm")),
            justify="end", spacing="2", width="100%", padding_top="16px"),
        max_width="440px", id="book-again-dialog"), open=h.ask_open, on_open_change=h.set_ask_open)


def book_again_card() -> rx.Component:
    """The top card: the next free time for the most recent visit, and "Book" (the calendar)."""
    h = ClientHistoryState
    latest = rx.cond(h.top_id != 0, rx.vstack(
        rx.text("Again as last time: ", rx.text.strong(ClientProfileState.past[0].service), " with ",
                ClientProfileState.past[0].provider, size="2", color_scheme="gray"),
        rx.cond(h.top_label != "", rx.text(h.top_label, size="4", weight="bold", id="book-again-top-when")),
        rx.cond(h.top_note != "", rx.text(h.top_note, size="2", color_scheme="amber", id="book-again-top-note")),
        spacing="1"), rx.text("No past visits yet.", size="2", color_scheme="gray"))
    return rx.card(
        rx.vstack(
            rx.cond(h.book_message != "", rx.callout(h.book_message, icon="circle-check", color_scheme="green",
                                                     size="1", width="100%", id="book-again-message")),
            rx.cond(h.book_error != "", rx.callout(h.book_error, icon="circle-alert", color_scheme="red", size="1",
                                                   width="100%", id="book-again-error")),
            rx.flex(
                latest,
                rx.hstack(
                    rx.cond((h.top_id != 0) & (h.top_label != ""),
                            rx.button(rx.icon("calendar-plus", size=14), "Book again", on_click=h.ask(h.top_id),
                                      id="book-again-top")),
                    rx.link(rx.button(rx.icon("calendar", size=14), "Book", variant="soft"), href=h.book_href,
                            id="profile-book"),
                    spacing="2", flex_shrink="0"),
                justify="between", align=rx.breakpoints(initial="start", sm="center"), gap="12px", width="100%",
                direction=rx.breakpoints(initial="column", sm="row")),
            spacing="3", width="100%"),
        _confirm_dialog(),
        width="100%", id="profile-book-again",
    )


def _chart_row(c: ChartView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(c.date, size="2", white_space="nowrap")),
        rx.table.cell(rx.text(c.service, size="2")),
        rx.table.cell(rx.text(c.provider, size="2", white_space="nowrap")),
        rx.table.cell(rx.badge(c.status, color_scheme=c.color, variant="soft", text_transform="capitalize")),
        rx.table.cell(rx.link("Open chart", href=c.href, size="2"), text_align="right"),
        class_name="history-chart")


def _thumb(p: ThumbView) -> rx.Component:
    return rx.link(rx.vstack(
        rx.image(src=p.src, alt=p.caption, width="140px", height="140px", object_fit="cover", border_radius="8px",
                 background=rx.color("gray", 3), loading="lazy"),
        rx.text(p.caption, size="1", color_scheme="gray", width="140px", trim="both"),
        spacing="1"), href=p.href, class_name="history-photo", underline="none")


def clinical_section() -> rx.Component:
    """Charts & photos: rendered only for chart.read / photo.read (absent from the page otherwise)."""
    h = ClientHistoryState
    charts = rx.cond(h.charts.length() > 0, rx.box(rx.table.root(
        rx.table.header(rx.table.row(*(rx.table.column_header_cell(t) for t in ("Date", "Service", "Provider",
                                                                                "Status")),
                                     rx.table.column_header_cell(""))),
        rx.table.body(rx.foreach(h.charts, _chart_row)), size="1", variant="ghost", width="100%"),
        width="100%", overflow_x="auto"), rx.text("No charts yet.", size="2", color_scheme="gray"))
    photos = rx.cond(h.thumbs.length() > 0, rx.flex(rx.foreach(h.thumbs, _thumb), gap="12px", wrap="wrap"),
                     rx.text("No photos yet.", size="2", color_scheme="gray"))
    return rx.cond(h.show_charts | h.show_photos, rx.card(rx.vstack(
        rx.hstack(rx.heading("Charts & photos", size="4"), rx.badge("Clinical", color_scheme="violet", variant="soft"),
                  align="center", spacing="2"),
        rx.cond(h.show_charts, rx.vstack(rx.text("Charts", size="2", weight="medium"), charts, spacing="2",
                                         width="100%", id="history-charts")),
        rx.cond(h.show_photos, rx.vstack(rx.text("Photos", size="2", weight="medium"), photos, spacing="2",
                                         width="100%", id="history-photos")),
        spacing="4", width="100%"), width="100%", id="profile-clinical"))
