"""Booking a known client from the calendar: /calendar?client=<id> (the client profile's
"Book" button, with ?location= of the client's usual location) shows "Booking for <name>"
above the grid, and the booking dialog opened from a free cell starts with that client
picked. The id is checked on the server (clients/rebook_actions.fetch_booking_client: an
audited client.read); an unknown or forbidden id shows nothing. A calendar opened without
?client= forgets it, and so does a booking made with it.
"""

from __future__ import annotations

import reflex as rx

from medspa.domain.clients.rebook_actions import fetch_booking_client
from medspa.features.auth.state import StaffState
from medspa.web.inputs import parse_id


class ClientPresetState(StaffState):
    """The client the calendar books for (0 / "" when none) and their profile link."""

    preset_label: str = ""
    preset_href: str = ""
    _preset_id: int = 0

    def _forget(self) -> None:
        self.preset_label, self.preset_href, self._preset_id = "", "", 0

    @rx.event
    async def load(self):
        """on_load of /calendar after CalendarState.load: ?client=<id> or nothing."""
        client_id = parse_id((self.router.url.query_parameters or {}).get("client", ""))
        self._forget()
        if client_id is None:
            return None
        done = await self._act(fetch_booking_client, client_id)
        if done.ok:
            self._preset_id, self.preset_label = done.value
            self.preset_href = f"/clients/{self._preset_id}"
        return None

    @rx.event
    def clear(self):
        """Book for anyone again (the banner's "Clear")."""
        self._forget()


def preset_banner() -> rx.Component:
    """"Booking for <name>: click a free time" above the grid while a client is preset."""
    p = ClientPresetState
    return rx.cond(p.preset_label != "", rx.callout(
        rx.flex(
            rx.text("Booking for ", rx.link(p.preset_label, href=p.preset_href, weight="bold"),
                    ": click a free time on the grid.", size="2"),
            rx.button("Clear", size="1", variant="soft", color_scheme="gray", on_click=p.clear, id="cal-preset-clear"),
            justify="between", align="center", gap="12px", width="100%"),
        icon="user-check", color_scheme="teal", size="1", margin_x="20px", margin_bottom="10px",
        id="cal-preset"))
