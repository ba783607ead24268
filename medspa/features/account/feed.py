"""The "Calendar feed" card of /account: a staff member's secret link for Apple, Google or
Outlook calendars (scheduling.feeds). The link is shown once, right after it is made; making a
new one stops the old."""

from __future__ import annotations

import reflex as rx

from medspa.domain.errors import NotFound
from medspa.domain.scheduling.actions.feeds import do_rotate_my_feed, fetch_my_feed
from medspa.features.auth.state import StaffState
from medspa.settings import get_settings


class FeedState(StaffState):
    """available: the account has a staff record; since: when the current link was made ("" none);
    url: the new link, only right after making it."""

    feed_available: bool = False
    feed_since: str = ""
    feed_url: str = ""

    @rx.event
    async def load_feed(self):
        """on_load: whether the account can have a feed, and since when it has one."""
        self.feed_url = ""
        done = await self._act(fetch_my_feed)
        if not done.ok:
            self.feed_available, self.feed_since = False, ""
            return
        status = done.value
        self.feed_available = status.available
        self.feed_since = status.created_at.strftime("%b %-d, %Y") if status.created_at else ""

    @rx.event
    async def make_feed_link(self):
        """Make a new link (the old one, if any, stops working) and show it once."""
        if not self.feed_available:
            return
        try:
            done = await self._act(do_rotate_my_feed, get_settings().base_url)
        except NotFound:
            self.feed_available = False
            return
        if not done.ok:
            return done.redirect
        self.feed_url = done.value.url
        self.feed_since = done.value.created_at.strftime("%b %-d, %Y")


def feed_card(section) -> rx.Component:
    """The card, built with the account page's `section(title, subtitle, *children, id=...)`."""
    f = FeedState
    return rx.cond(f.feed_available, section(
        "Calendar feed",
        "Your visits in your phone's calendar (Apple, Google, Outlook): subscribe to this private link. It "
        "shows the service and the client's first name and initial, never contact or health details.",
        rx.cond(f.feed_url != "", rx.vstack(
            rx.code(f.feed_url, size="2", id="account-feed-url", style={"word_break": "break-all"}),
            rx.text("Copy it now: it is not shown again. Anyone with it sees your visits; make a new one if it leaks.",
                    size="1", color_scheme="gray"),
            spacing="1", width="100%")),
        rx.hstack(
            rx.button(rx.icon("calendar-sync", size=15),
                      rx.cond(f.feed_since != "", "Make a new link", "Make my feed link"),
                      on_click=f.make_feed_link, variant="soft", size="2", id="account-feed-make"),
            rx.cond(f.feed_since != "", rx.text("Current link made ", f.feed_since,
                                                "; a new one stops it.", size="1", color_scheme="gray")),
            align="center", spacing="3", wrap="wrap"),
        id="account-feed",
    ))
