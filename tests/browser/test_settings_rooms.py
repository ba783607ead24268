"""/settings, Provider hours and Rooms and devices tabs, in headless Chromium against the real
app: the owner gives Provider 1 Friday July 3 off, the page lists it, and the public booking
page /book/{slug} no longer offers Provider 1 that day (the day button is disabled) while the
day before still is; then a new room is added on the Rooms tab.

Screenshots at 1440 wide: the hours tab with the day off, the rooms tab, the booking page.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlmodel import select

import medspa.domain.models  # noqa: F401  (every table)
from medspa.domain.identity.service import create_user
from medspa.domain.practice.models import Resource
from medspa.domain.practice.shifts import StaffTimeOff
from tests.browser.test_audit import PASSWORD, _engine, owner_session
from tests.factories import build_clinic

TIMEOUT = 20_000


def test_owner_gives_a_day_off_and_the_booking_page_stops_offering_it(page: Page, app_urls, base_url, screenshot):
    clinic = build_clinic(_engine(app_urls[0]), _engine(app_urls[1]), providers=2)
    email = f"owner-{clinic.slug}@example.com"
    with clinic.session() as s:
        create_user(s, clinic.system, email=email, password=PASSWORD, role="owner", display_name="Olivia Owner")
        s.commit()
    page.set_viewport_size({"width": 1440, "height": 960})
    owner_session(page, base_url, clinic, email)
    page.goto("/settings")
    page.click("#settings-tab-hours")
    expect(page.locator(".hours-day")).to_have_count(7, timeout=TIMEOUT)
    expect(page.locator("#hours-staff")).to_contain_text("Provider 1")
    expect(page.locator(".hours-interval")).to_have_count(7)  # 09:00-17:00 every day

    page.fill("#off-start_date", "2026-07-03")
    page.fill("#off-reason", "Training")
    page.click("#off-add")
    expect(page.locator("#off-message")).to_have_text("Time off added: Fri 3 Jul, all day")
    expect(page.locator(".off-entry")).to_have_count(1)
    expect(page.locator(".off-entry")).to_contain_text("Training")
    screenshot("settings-hours-day-off")
    with clinic.session() as s:
        [row] = s.exec(select(StaffTimeOff)).all()
        assert (row.staff_id, row.kind, row.location_id) == (clinic.provider_ids[0], "off", None)

    page.click("#settings-tab-rooms")
    expect(page.locator(".room-row")).to_have_count(2, timeout=TIMEOUT)
    page.click("#room-new")
    page.fill("#room-name", "Room 2")
    page.fill("#room-resource_type", "Treatment room")
    page.click("#room-save")
    expect(page.locator("#room-message")).to_have_text("Room 2 was added")
    expect(page.locator(".room-row")).to_have_count(3)
    screenshot("settings-rooms")
    with clinic.session() as s:
        room = s.exec(select(Resource).where(Resource.name == "Room 2")).one()
        assert (room.kind, room.resource_type, room.location_id, room.active) == (
            "room", "treatment_room", clinic.location_id, True)

    page.goto(f"/book/{clinic.slug}")
    expect(page.get_by_role("heading", name="Choose a treatment")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="Botox").click()
    page.get_by_role("button", name="Provider 1", exact=True).click()
    expect(page.get_by_role("button", name="Thursday, July 2")).to_be_enabled(timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Friday, July 3")).to_be_disabled()
    screenshot("settings-day-off-on-booking-page")
