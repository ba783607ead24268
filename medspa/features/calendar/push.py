"""The calendar's subscriber of the live loop (`medspa.live`): put a freshly loaded view
into one tab's private CalendarState (and refresh its open detail panel)."""

from __future__ import annotations

import reflex as rx

from medspa import live
from medspa.domain.scheduling.actions.calendar import ViewKey
from medspa.features.calendar.state import CalendarState, DetailState


def calendar_push(app: rx.App) -> live.Push:
    """The push into one tab of this worker, for `live.subscribe`: False when the tab moved
    on (its own load re-registered it) or its session ended (the tab is emptied)."""

    async def push(org_id: int, client_token: str, key: ViewKey, loaded) -> bool:
        async with app.modify_state(rx.BaseStateToken(ident=client_token, cls=CalendarState)) as root:
            cal = await root.get_state(CalendarState)
            if cal._view_key() != key:
                return False  # the tab moved on; its own load re-registered it
            actor = await live.session_actor(cal.session_token, org_id)
            if actor is None:
                cal._signed_out()
                return False
            changed = cal._apply_loaded(key, loaded)
            detail = await root.get_state(DetailState)
            if detail.panel_open and detail.detail.id in changed:
                await detail._reload(actor)
            return True

    return push
