"""The Locations tab's "Waitlist" block (issue 16 §3), a block of its own on each location card:
how a freed time is offered to the waitlist there. "One at a time": the first client in line
gets the time held for them for the chosen minutes, then the next one if they do not book;
"Everyone at once": every matching client gets the link, no hold, the first to book wins.

Its own small state (settings.write through domain/waitlist/actions.py, audited); each change
saves at once.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from medspa.domain.errors import ValidationFailed
from medspa.domain.waitlist.actions import do_set_waitlist_mode, fetch_waitlist_settings
from medspa.features.auth.state import StaffState
from medspa.web.inputs import ascii_int, parse_id

MODES = (("one_at_a_time", "One at a time, holding the time"), ("all_at_once", "Everyone at once, no hold"))
HOLDS = ("10", "15", "30", "60", "120", "240")


class WaitlistSettingsState(StaffState):
    """Each location's waitlist setting, by location id (as text)."""

    wl_mode: dict[str, str] = {}
    wl_hold: dict[str, str] = {}
    wl_message: dict[str, str] = {}

    @rx.event
    async def load_waitlist(self):
        done = await self._act(fetch_waitlist_settings)
        if done.redirect is not None or done.error:
            return done.redirect
        self.wl_mode = {str(s.location_id): s.mode for s in done.value}
        self.wl_hold = {str(s.location_id): str(s.hold_minutes) for s in done.value}
        self.wl_message = {}
        return None

    async def _save(self, location_id: Any, mode: str, hold: str):
        key = str(parse_id(location_id))
        if key not in self.wl_mode:
            return None
        minutes = ascii_int(hold, 4)
        try:
            done = await self._act(do_set_waitlist_mode, int(key), mode, minutes if minutes is not None else -1)
        except ValidationFailed as exc:
            self.wl_message = {key: next(iter(exc.fields.values()))}
            return None
        if done.redirect is not None or done.error:
            return done.redirect
        self.wl_mode = {**self.wl_mode, key: done.value.mode}
        self.wl_hold = {**self.wl_hold, key: str(done.value.hold_minutes)}
        self.wl_message = {key: "Saved"}
        return None

    @rx.event
    async def set_waitlist_mode(self, location_id: Any, mode: Any):
        key = str(parse_id(location_id))
        if isinstance(mode, str) and key in self.wl_hold:
            return await self._save(location_id, mode, self.wl_hold[key])

    @rx.event
    async def set_waitlist_hold(self, location_id: Any, minutes: Any):
        key = str(parse_id(location_id))
        if isinstance(minutes, str) and key in self.wl_mode:
            return await self._save(location_id, self.wl_mode[key], minutes)


def waitlist_block(location_id) -> rx.Component:
    """The block for one location card (`location_id`: its id var)."""
    S = WaitlistSettingsState
    key = location_id.to_string()
    mode = S.wl_mode[key]
    return rx.vstack(
        rx.text("Waitlist", size="1", weight="bold", color_scheme="gray", text_transform="uppercase"),
        rx.flex(
            rx.select.root(rx.select.trigger(class_name="loc-waitlist-mode", min_width="220px"),
                           rx.select.content(*[rx.select.item(label, value=v) for v, label in MODES]),
                           value=mode, on_change=lambda v: S.set_waitlist_mode(location_id, v), size="2"),
            rx.cond(mode == "one_at_a_time",
                    rx.hstack(rx.text("hold for", size="2"),
                              rx.select.root(rx.select.trigger(class_name="loc-waitlist-hold"),
                                             rx.select.content(*[rx.select.item(f"{h} min", value=h) for h in HOLDS]),
                                             value=S.wl_hold[key],
                                             on_change=lambda v: S.set_waitlist_hold(location_id, v), size="2"),
                              spacing="2", align="center")),
            rx.cond(S.wl_message[key], rx.text(S.wl_message[key], size="1", color_scheme="gray")),
            gap="10px", wrap="wrap", align="center"),
        rx.text(rx.cond(mode == "one_at_a_time",
                        "A freed time goes to the first client in line, held for them; if they do not book, the next.",
                        "A freed time goes to every matching client at once; the first to book gets it."),
                size="1", color_scheme="gray"),
        spacing="2", width="100%", class_name="loc-waitlist", on_mount=S.load_waitlist)
