"""The waitlist end to end (issue 16 §3) in headless Chromium against the running app: a client
finds nothing that suits on Friday July 3 and joins the waitlist on the public booking page;
the desk sees her on /waitlist; a cancellation frees 10:00; the server's own job worker offers
it (one at a time: held for her); the offer is in the owner's outbox; its link opens the
booking page on that time with her details filled in, and she books it with the test card.

Screenshots (desktop and 390 px) go to tests/artifacts/waitlist-*.png.
"""

from __future__ import annotations

import re
import time as clock_time
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from sqlmodel import select

import medspa.domain.models  # noqa: F401  (every table)
from medspa.clock import FixedClock
from medspa.domain.clients.service import ClientInput
from medspa.domain.identity.service import create_user
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.gateway import TestPaymentGateway
from medspa.domain.scheduling.actions.desk import do_book_for_client, do_cancel_visit
from medspa.domain.scheduling.service import add_block
from medspa.domain.waitlist.models import WaitlistEntry
from tests.browser.conftest import ARTIFACTS, FROZEN_NOW
from tests.browser.test_audit import PASSWORD, _engine, owner_session
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
DAY = date(2026, 7, 3)
PHONE = {"width": 390, "height": 844}


def ny(h: int, m: int = 0) -> datetime:
    return datetime.combine(DAY, time(h, m), tzinfo=NY).astimezone(timezone.utc)


def both_widths(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.screenshot(path=str(ARTIFACTS / f"waitlist-{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"waitlist-{name}-phone.png"), full_page=True)
    page.set_viewport_size(size)


def _offer(clinic, timeout: float = 30) -> OutboxMessage:
    """The offer email, once the server's worker has run the job."""
    deadline = clock_time.monotonic() + timeout
    while True:
        with clinic.session() as s:
            row = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "waitlist_offer",
                                                     OutboxMessage.channel == "email")).first()
        if row is not None or clock_time.monotonic() > deadline:
            assert row is not None, "no waitlist offer within the timeout"
            return row
        clock_time.sleep(0.5)


def test_a_client_joins_a_cancellation_frees_the_time_and_the_offer_books_it(page: Page, browser, base_url, app_urls):
    clinic = build_clinic(_engine(app_urls[0]), _engine(app_urls[1]))
    owner_email = f"owner-{clinic.slug}@example.com"
    with clinic.session() as s:
        create_user(s, clinic.system, email=owner_email, password=PASSWORD, role="owner", display_name="Olivia Owner")
        add_block(s, clinic.system, staff_id=clinic.provider_ids[0], start_at=ny(9), end_at=ny(10), now=FROZEN_NOW)
        add_block(s, clinic.system, staff_id=clinic.provider_ids[0], start_at=ny(10, 30), end_at=ny(17),
                  now=FROZEN_NOW)
        s.commit()
    vera = do_book_for_client(clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                              provider_id=clinic.provider_ids[0], start_at=ny(10), client_id=None,
                              new_client=ClientInput("Vera", "Busy", "vera@example.com", ""),
                              clock=FixedClock(FROZEN_NOW), engine=clinic.engine)

    # the client: Friday is full; she joins the waitlist (default dates and hours)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/book/{clinic.slug}")
    page.get_by_role("button", name="Botox").click()
    page.get_by_role("button", name="Provider 1", exact=True).click()
    expect(page.get_by_role("button", name="Friday, July 3")).to_be_disabled()  # her day: nothing free
    page.click("#waitlist-open")
    expect(page.locator("#waitlist-form")).to_be_visible()
    expect(page.locator("#wl-first_day")).to_have_value("2026-07-01")
    page.fill("#wl-first_name", "Wendy")
    page.fill("#wl-last_name", "Waits")
    page.fill("#wl-email", "wendy@example.com")
    page.fill("#wl-phone", "(212) 555-0188")
    both_widths(page, "join-form")
    page.click("#waitlist-join")
    expect(page.locator("#waitlist-joined")).to_contain_text("You're on the waitlist, Wendy")
    both_widths(page, "joined")

    # the desk sees her on Friday's list
    desk = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    owner = desk.new_page()
    owner_session(owner, base_url, clinic, owner_email)
    owner.goto(f"/waitlist?day={DAY.isoformat()}")
    entry = owner.locator(".wl-entry")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Wendy Waits")
    expect(entry).to_contain_text("Botox · Provider 1")
    expect(owner.locator("#nav-waitlist")).to_be_visible()
    both_widths(owner, "desk-day")
    expect(owner.locator("#wl-hint")).to_contain_text("the messages are in the Outbox")  # the owner opens it
    owner.click("#wl-add")  # the desk's own form: an existing client is found, not retyped
    expect(owner.locator("#wlf-save")).to_be_visible()
    expect(owner.locator("#wlf-first_name")).to_have_count(0)  # name fields only for a new client
    owner.fill("#wlf-client-search", "Wend")
    expect(owner.locator(".wlf-hit", has_text="Wendy Waits")).to_be_visible()
    owner.wait_for_timeout(400)
    owner.screenshot(path=str(ARTIFACTS / "waitlist-desk-add-desktop.png"))
    owner.set_viewport_size(PHONE)
    owner.wait_for_timeout(300)
    owner.screenshot(path=str(ARTIFACTS / "waitlist-desk-add-phone.png"))
    owner.set_viewport_size({"width": 1280, "height": 900})
    owner.locator(".wlf-hit", has_text="Wendy Waits").click()
    expect(owner.locator("#wlf-client-picked")).to_have_text("Wendy Waits")
    owner.keyboard.press("Escape")
    expect(owner.locator("#wlf-save")).to_have_count(0)

    # the owner's setting: one at a time (the default), held 30 minutes
    owner.goto("/settings")
    owner.click("#settings-tab-locations")
    block = owner.locator(".loc-waitlist")
    expect(block).to_contain_text("first client in line")
    expect(owner.locator(".loc-waitlist-hold")).to_contain_text("30 min")
    both_widths(owner, "settings-block")

    # a cancellation frees 10:00: the job (the server's worker) offers it, held for her
    do_cancel_visit(clinic.staff_actor(), vera, clock=FixedClock(FROZEN_NOW), engine=clinic.engine,
                    gateway=TestPaymentGateway(clinic.engine, FixedClock(FROZEN_NOW).now))
    offer = _offer(clinic)
    assert offer.to_address == "wendy@example.com" and "10:00 AM EDT" in offer.body
    owner.goto("/outbox")
    rows = owner.locator(".outbox-row", has_text="Waitlist offer")
    expect(rows).to_have_count(2)  # her email and her text message
    expect(rows.first).to_contain_text("Wendy Waits")
    expect(rows.first).to_contain_text("Jul 1, 2026, 12:00 PM EDT")
    both_widths(owner, "outbox")

    # her link opens the booking page on that time, her details filled in; she books it
    path = re.search(r"/book/[a-z0-9-]+/offer/[A-Za-z0-9_-]+", offer.body).group(0)
    page.goto(path)
    expect(page.get_by_role("heading", name="Your details")).to_be_visible()
    expect(page.locator("#first_name")).to_have_value("Wendy")
    expect(page.locator("#email")).to_have_value("wendy@example.com")
    expect(page.locator("#hold-note")).to_be_visible()
    both_widths(page, "offer-details")
    page.get_by_role("button", name="Continue to deposit").click()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Month (MM)").fill("12")
    page.get_by_label("Year (YY)").fill("30")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name="Pay deposit and book").click()
    expect(page.get_by_role("heading", name="You're booked!")).to_be_visible()
    expect(page.get_by_text("Fri, Jul 3, 2026, 10:00 AM EDT").first).to_be_visible()
    both_widths(page, "booked")
    with clinic.session() as s:
        status = s.exec(select(WaitlistEntry.status)).one()
    assert status == "booked"
    # her link opened again: it says she booked it, with the reference and her manage link
    page.goto(path)
    expect(page.locator("#offer-booked")).to_contain_text("You booked this time")
    expect(page.locator("#offer-booked")).to_contain_text("Fri, Jul 3, 2026, 10:00 AM EDT")
    expect(page.locator("#offer-booked-ref")).to_have_text(re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}$"))
    expect(page.locator("#offer-booked-manage")).to_have_attribute("href", re.compile(r"/book/[a-z0-9-]+/manage/"))
    expect(page.locator("#offer-ended")).to_have_count(0)
    both_widths(page, "offer-reopened")
    # the desk's day keeps her entry, booked, with what happened
    owner.goto(f"/waitlist?day={DAY.isoformat()}")
    expect(owner.locator("#wl-empty")).to_be_visible()
    expect(owner.locator("#wl-booked")).to_contain_text("Wendy Waits")
    expect(owner.locator("#wl-booked .wl-outcome")).to_contain_text("through the offer")
    both_widths(owner, "desk-booked")
    # the owner's top menu with the calendar's panel open at 1280 px: every link fits (icons)
    owner.goto(f"/calendar?location={clinic.location_id}&day={DAY.isoformat()}&view=providers&span=day")
    owner.locator(".cal-block", has_text="Wendy Waits").click()
    expect(owner.locator("#detail-panel")).to_be_visible()
    owner.wait_for_timeout(400)
    nav = owner.locator("#staff-nav")
    assert nav.evaluate("n => n.scrollWidth <= n.clientWidth + 1"), "the header's links are clipped"
    expect(owner.locator("#nav-outbox")).to_be_in_viewport()
    owner.screenshot(path=str(ARTIFACTS / "waitlist-owner-panel-1280.png"))
    desk.close()
