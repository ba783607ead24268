"""/settings, Locations tab, in headless Chromium against the real app: the owner looks at a
location's hours, closes it on a day that already has a booked visit (the tab warns the
visit is kept) and the public booking page /book/{slug} no longer offers that day.

Screenshots at 1440 wide: the tab, the edit dialog with the hours editor, the closure dialog,
the tab with the closure and its warning, the booking page's day strip.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

import medspa.domain.models  # noqa: F401  (every table)
from medspa.domain.identity.service import create_user
from medspa.domain.scheduling.service import hold_slot
from tests.browser.conftest import FROZEN_NOW
from tests.browser.test_audit import PASSWORD, _engine, owner_session
from tests.browser.test_outbox import shot
from tests.factories import build_clinic

CLOSED = date(2026, 7, 3)


def test_owner_closes_a_day_and_the_booking_page_stops_offering_it(page: Page, app_urls, base_url, screenshot):
    clinic = build_clinic(_engine(app_urls[0]), _engine(app_urls[1]), providers=2)
    email = f"owner-{clinic.slug}@example.com"
    with clinic.session() as s:
        create_user(s, clinic.system, email=email, password=PASSWORD, role="owner", display_name="Olivia Owner")
        hold_slot(s, clinic.system, location_id=clinic.location_id, service_id=clinic.services["botox"],
                  start_at=datetime.combine(CLOSED, time(11), tzinfo=ZoneInfo("America/New_York")),
                  now=FROZEN_NOW, confirm=True)
        s.commit()
    page.set_viewport_size({"width": 1440, "height": 960})
    owner_session(page, base_url, clinic, email)
    page.goto("/settings")
    page.click("#settings-tab-locations")
    card = page.locator(".loc-card")
    expect(card).to_have_count(1)
    expect(card.locator(".loc-name")).to_have_text("Main")
    expect(card.locator(".loc-hours")).to_contain_text("open whenever providers work")
    expect(card).to_contain_text("Series deposit: first visit only")  # the rule the Edit dialog sets
    expect(card).to_contain_text("No card on file needed without a deposit")  # the Edit choice's own words
    screenshot("settings-locations")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    hours = card.locator(".loc-hours")  # the no-hours line wraps inside the card, never clipped
    assert hours.evaluate("n => n.scrollWidth <= n.clientWidth + 1"), "the opening-hours text is clipped"
    screenshot("settings-locations-390")
    page.set_viewport_size({"width": 1440, "height": 960})

    card.locator(".loc-edit").click()
    expect(page.locator("#loc-dialog")).to_be_visible()
    expect(page.locator("#loc-time_zone")).to_have_value("America/New_York")
    expect(page.locator(".loc-day")).to_have_count(7)
    expect(page.locator(".loc-day-closed").first).to_have_text("When providers work")
    monday = page.locator(".loc-day").first
    monday.get_by_role("button", name="Hours", exact=True).click()
    monday.get_by_role("button", name="Hours", exact=True).click()
    expect(monday.locator(".loc-span-start")).to_have_count(2)
    monday.locator(".loc-span-end input").first.fill("13:00")
    monday.locator(".loc-span-start input").nth(1).fill("14:00")
    expect(page.locator(".loc-day-closed").first).to_have_text("Closed")  # Tuesday, now that hours are set
    shot(page, "settings-location-dialog")
    page.get_by_role("button", name="Cancel").click()  # nothing saved: every day stays bookable
    expect(page.locator("#loc-dialog")).to_have_count(0)

    card.locator(".loc-add-closure").click()
    expect(page.locator("#closure-dialog")).to_be_visible()
    page.fill("#loc-start_date", CLOSED.isoformat())
    page.fill("#loc-reason", "Independence Day (observed)")
    shot(page, "settings-closure-dialog")
    page.click("#closure-save")
    expect(page.locator("#closure-dialog")).to_have_count(0)
    expect(page.locator("#loc-message")).to_have_text("Main is closed on Fri, Jul 3, 2026: no slots are offered then")
    expect(page.locator("#loc-warning")).to_have_text(
        "1 booked visit on the closed day is kept: move or cancel it on the calendar")
    expect(card.locator(".loc-closure")).to_contain_text("Independence Day (observed)")
    screenshot("settings-locations-closed")

    page.goto(f"/book/{clinic.slug}")
    expect(page.get_by_role("heading", name="Choose a treatment")).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Botox").click()
    page.get_by_role("button", name="Provider 2", exact=True).click()
    expect(page.get_by_role("button", name="Thursday, July 2")).to_be_enabled()
    expect(page.get_by_role("button", name="Friday, July 3")).to_be_disabled()
    expect(page.get_by_role("button", name="Saturday, July 4")).to_be_enabled()
    screenshot("settings-closure-on-booking-page")
