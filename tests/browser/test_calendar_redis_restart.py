"""Two web workers and Redis (issue 15, section 3): after redis-server restarts (empty: no
persistence), the next click on an open calendar is processed from the day the page shows;
after a dropped websocket the page says "Reconnecting…" instead of "Live" and processes the
click made meanwhile once it is back (medspa/state_manager.py, reflex-dev/reflex#3505).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_calendar import (  # noqa: F401  (cluster: the two-worker + Redis fixture)
    LIVE_TIMEOUT, TODAY, _free_port, at, block, cluster, make_desk, open_day, script_booking, sign_in)

pytestmark = pytest.mark.browser


# The page's websockets, kept where the test can drop them; while "offline", a new /_event
# socket goes to a port nobody listens on, so the browser fails to connect as it would without a network.
DROPPABLE_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.__offline = false;
  function Droppable(url, protocols) {
    const target = window.__offline && String(url).includes("/_event") ? "ws://127.0.0.1:CLOSED_PORT/_event" : url;
    const ws = new Native(target, protocols);
    window.__sockets.push(ws);
    return ws;
  }
  Droppable.prototype = Native.prototype;
  Object.assign(Droppable, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.WebSocket = Droppable;
})();
"""


def drop_socket(page: Page) -> None:
    """The websocket drops and cannot connect again until `restore_socket`."""
    page.evaluate("window.__offline = true; window.__sockets.forEach(ws => ws.close()); window.__sockets = []")


def restore_socket(page: Page) -> None:
    page.evaluate("window.__offline = false")


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_clicks_are_processed_after_redis_restarts_and_after_the_websocket_drops(browser, cluster):
    desk = make_desk((cluster.app_url, cluster.owner_url))
    friday, saturday = TODAY + timedelta(days=2), TODAY + timedelta(days=3)
    sunday = saturday + timedelta(days=1)
    appt = script_booking(desk, at(saturday, 10), "Ingrid", "Larsen")
    ctx = browser.new_context(base_url=cluster.base_url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(20_000)
    try:
        pg = ctx.new_page()
        pg.add_init_script(DROPPABLE_SOCKETS.replace("CLOSED_PORT", str(_free_port())))
        sign_in(pg, desk.email)
        open_day(pg, desk, friday)
        pg.goto("/calendar")  # the bare URL: from here on only the tab's state knows the day
        cal = pg.locator("#calendar")
        expect(cal).to_have_attribute("data-day", friday.isoformat(), timeout=LIVE_TIMEOUT)
        pg.locator("#cal-next").click()
        expect(cal).to_have_attribute("data-day", saturday.isoformat(), timeout=LIVE_TIMEOUT)
        expect(pg.locator("#cal-live")).to_be_visible()

        cluster.redis.restart()  # every state in Redis is gone
        pg.locator("#cal-next").click()
        expect(cal).to_have_attribute("data-day", sunday.isoformat(), timeout=LIVE_TIMEOUT)
        pg.locator("#cal-prev").click()
        expect(cal).to_have_attribute("data-day", saturday.isoformat(), timeout=LIVE_TIMEOUT)
        block(pg, appt.id).click()  # a visit opens (ids are checked against what the day offered)
        expect(pg.locator("#detail-status")).to_be_visible(timeout=LIVE_TIMEOUT)

        drop_socket(pg)
        expect(pg.locator("#cal-reconnecting")).to_be_visible(timeout=LIVE_TIMEOUT)
        expect(pg.locator("#cal-live")).to_have_count(0)
        shot(pg, "calendar-reconnecting")
        pg.locator("#cal-next").click()  # clicked while reconnecting: waits, then goes through
        restore_socket(pg)
        expect(pg.locator("#cal-live")).to_be_visible(timeout=LIVE_TIMEOUT)
        expect(cal).to_have_attribute("data-day", sunday.isoformat(), timeout=LIVE_TIMEOUT)
        shot(pg, "calendar-live-again")
    finally:
        ctx.close()
