"""Checkout offers to book the next visit (issue 16): once a visit is checked out, the side
panel shows the next free time for its service (the profile's "Book again" search:
clients/rebook.py) with "Book this time", and "Pick another time", which opens the calendar
with the booking dialog preset for the client (features/calendar/preset.py). A booking made
here records the visit it came from (appointment.rebooked_from_id), the rebooking the
dashboard measures.

The handlers are entry points: the session and appointment.book are checked on the server
again (StaffState._act and the actions); the time booked is the one this server state
offered, never one sent by the browser.
"""

from __future__ import annotations

from datetime import datetime

import reflex as rx

from medspa.domain.clients.rebook_actions import do_book_again, fetch_checkout_rebook
from medspa.domain.errors import ValidationFailed
from medspa.domain.scheduling.service import SlotTaken
from medspa.features.auth.state import StaffState
from medspa.features.calendar.state import DetailState


class CheckoutRebookState(StaffState):
    """The next-visit offer of the checked-out visit shown in the panel."""

    rebook_label: str = ""  # "Tue, Aug 11, 10:30 AM EDT with Nina" ("" when none)
    rebook_from: str = ""  # "4 weeks after this visit"
    rebook_note: str = ""
    rebook_href: str = ""  # /calendar?location=..&client=..&day=.. (the preset booking dialog on the offered day)
    rebook_message: str = ""
    rebook_error: str = ""
    rebook_busy: bool = False
    _offer: dict = {}

    @rx.event
    async def load_offer(self):
        """When the checked-out panel shows: the next free time for the visit's service."""
        detail = (await self.get_state(DetailState)).detail
        self.rebook_label = self.rebook_note = self.rebook_href = self.rebook_message = self.rebook_error = ""
        self._offer = {}
        if not detail.id or not detail.checked_out:
            return None
        done = await self._act(fetch_checkout_rebook, detail.id)
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            return None
        got = done.value
        day = f"&day={got.day.isoformat()}" if got.day else ""  # the offered day, not today (finding 12)
        self.rebook_href = f"/calendar?location={got.location_id}&client={got.client_id}{day}"
        self.rebook_label, self.rebook_note = got.offer.label, got.offer.note
        self.rebook_from = f"{got.weeks} week{'s' if got.weeks != 1 else ''} after this visit"
        if got.offer.start is not None:
            self._offer = {"client": got.client_id, "source": got.offer.source_id, "start": got.offer.start.isoformat(),
                           "provider": got.offer.provider_id, "service": got.offer.service, "label": got.offer.label}
        return None

    @rx.event
    async def book(self):
        """Book the offered time once (the offer is spent before the booking is asked for)."""
        offer, self._offer = self._offer, {}
        if not offer or self.rebook_busy:
            return None
        self.rebook_busy, self.rebook_error = True, ""
        try:
            done = await self._act(do_book_again, offer["client"], offer["source"],
                                   start_at=datetime.fromisoformat(offer["start"]), provider_id=offer["provider"],
                                   rebooked_from=True)
        except (SlotTaken, ValidationFailed):
            self.rebook_error = "That time was just taken. Pick another time."
            return None
        finally:
            self.rebook_busy = False
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            self.rebook_error = "The next visit cannot be booked from here."
            return None
        self.rebook_label, self.rebook_note = "", ""
        self.rebook_message = (f"{offer['service']} was already booked for {offer['label']}." if done.value.already
                               else f"Next visit booked: {offer['service']} on {offer['label']}.")
        panel = await self.get_state(DetailState)
        await panel._after(done.actor, "")
        return None


R = CheckoutRebookState


def checkout_rebook_section() -> rx.Component:
    """"Book the next visit" under a checked-out visit's receipt (remounted per visit)."""
    d = DetailState.detail
    return rx.cond(
        d.checked_out,
        rx.card(
            rx.vstack(
                rx.hstack(rx.icon("calendar-plus", size=16), rx.text("Book the next visit", weight="bold", size="2"),
                          spacing="2", align="center"),
                rx.cond(R.rebook_message != "",
                        rx.callout(R.rebook_message, icon="circle-check", color_scheme="grass", size="1",
                                   width="100%", id="rebook-message")),
                rx.cond(R.rebook_label != "",
                        rx.vstack(rx.text("Next free time from ", R.rebook_from, size="1", color_scheme="gray",
                                          id="rebook-from"),
                                  rx.text(R.rebook_label, size="3", weight="bold", id="rebook-when"), spacing="0")),
                rx.cond(R.rebook_note != "", rx.text(R.rebook_note, size="1", color=rx.color("amber", 11),
                                                     id="rebook-note")),
                rx.cond(R.rebook_error != "", rx.text(R.rebook_error, size="1", color=rx.color("red", 11),
                                                      role="alert", id="rebook-error")),
                rx.cond(R.rebook_message == "",
                        rx.flex(
                            rx.cond(R.rebook_label != "",
                                    rx.button("Book this time", size="2", color_scheme="teal", on_click=R.book,
                                              loading=R.rebook_busy, id="rebook-book")),
                            rx.cond(R.rebook_href != "",
                                    rx.link(rx.button("Pick another time", size="2", variant="soft", type="button"),
                                            href=R.rebook_href, id="rebook-pick")),
                            gap="8px", wrap="wrap")),
                spacing="2", width="100%"),
            width="100%", id="checkout-rebook", on_mount=R.load_offer, key=d.id.to(str)),
    )
