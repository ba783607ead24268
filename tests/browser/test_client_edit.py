"""New client and edit in headless Chromium (issue 14 §2).

A London clinic (country GB): the front desk adds a client with a mobile typed the British
way, first meets a field message (a bad email) with nothing saved, then edits the client's
alerts and reminder preference (text only, 48 hours; a bad number first) and sees them on the
profile, the alerts also as a flag on the client's block in the calendar, whose panel names
when the reminder goes.
A second record of the same person is listed as a likely duplicate and created only on
"Create anyway". Screenshots of the form at 1440 and 390 wide. The app's clock is frozen at conftest.FROZEN_NOW.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from playwright.sync_api import Page, expect
from sqlalchemy import update
from sqlmodel import select

from medspa.domain.clients.models import Client
from medspa.domain.identity.service import create_user
from medspa.domain.practice.models import Organization
from medspa.domain.scheduling.service import hold_slot
from tests.browser.conftest import FROZEN_NOW
from tests.browser.test_clients import PASSWORD, _engine
from tests.factories import build_clinic


def make_clinic(urls: tuple[str, str]):
    clinic = build_clinic(_engine(urls[0]), _engine(urls[1]), time_zone="Europe/London")
    with _engine(urls[1]).begin() as conn:
        conn.execute(update(Organization).where(Organization.id == clinic.org_id).values(country="GB"))
    email = f"desk-{clinic.slug}@example.com"
    with clinic.session() as s:
        create_user(s, clinic.system, email=email, password=PASSWORD, role="front_desk", display_name="Dana Desk")
        s.commit()
    return clinic, email


def test_create_edit_alerts_and_see_them_on_the_calendar(page: Page, app_urls, screenshot):
    clinic, email = make_clinic(app_urls)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/clients")
    page.wait_for_url("**/login?next=/clients")
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/clients")
    page.click("#clients-new")
    page.wait_for_url("**/clients/new")
    expect(page.locator("#client-form-title")).to_have_text("New client")
    screenshot("client-new-1440")

    page.fill("#client-first_name", "Siân")
    page.fill("#client-last_name", "O'Brien-Núñez")
    page.fill("#client-phone", "07911 123456")
    page.fill("#client-email", "sian@nowhere")
    page.fill("#client-emergency_name", "Tom O'Brien")
    page.fill("#client-emergency_phone", "020 7946 0018")
    page.locator("#client-email_marketing_consent").click()
    page.click("#client-save")
    expect(page.locator("#client-email-error")).to_contain_text("Enter an email address")
    expect(page.locator("#client-email")).to_have_attribute("aria-invalid", "true")
    screenshot("client-new-error-1440")
    with clinic.session() as s:
        assert s.exec(select(Client)).all() == []  # nothing half-saved

    page.fill("#client-email", "sian@example.co.uk")
    page.click("#client-save")
    page.wait_for_url(re.compile(r".*/clients/\d+$"))
    client_id = int(page.url.rstrip("/").split("/")[-1])
    expect(page.locator("#profile-name")).to_have_text("Siân O'Brien-Núñez")
    expect(page.locator("#profile-phone")).to_have_text("07911 123456")
    expect(page.locator("#profile-emergency")).to_have_text("Tom O'Brien · 020 7946 0018")
    expect(page.locator("#profile-email-consent")).to_contain_text("Yes")
    expect(page.locator("#profile-email-consent")).to_contain_text("at the desk")

    # the same person typed again without accents: listed with "Open", created only on "Create anyway"
    page.goto("/clients/new")
    page.fill("#client-first_name", "Sian")
    page.fill("#client-last_name", "O'Brien-Nunez")
    page.fill("#client-phone", "+44 7911 123456")
    page.click("#client-save")
    hit = page.locator(".duplicate-hit")
    expect(hit).to_have_count(1)
    expect(hit).to_contain_text("Siân O'Brien-Núñez")
    expect(hit.locator("a")).to_have_attribute("href", f"/clients/{client_id}")
    screenshot("client-new-duplicates-1440")
    page.click("#client-create-anyway")
    page.wait_for_url(re.compile(r".*/clients/\d+$"))
    assert int(page.url.rstrip("/").split("/")[-1]) != client_id
    expect(page.locator("#profile-name")).to_have_text("Sian O'Brien-Nunez")

    page.goto(f"/clients/{client_id}")
    page.click("#profile-edit")
    page.wait_for_url(f"**/clients/{client_id}/edit")
    expect(page.locator("#client-first_name")).to_have_value("Siân")
    expect(page.locator("#client-phone")).to_have_value("07911 123456")  # as the London desk types it
    page.fill("#client-alerts", "VIP · prefers afternoons")
    page.fill("#client-notes", "Allergic to latex gloves.")
    page.click("#client-reminder_channel")
    page.get_by_role("option", name="Text only").click()
    page.fill("#client-reminder_hours", "0")
    page.click("#client-save")
    expect(page.locator("#client-reminder_hours-error")).to_contain_text("whole hours from 1 to 168")
    page.fill("#client-reminder_hours", "48")
    screenshot("client-edit-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("client-edit-390")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.click("#client-save")
    page.wait_for_url(re.compile(rf".*/clients/{client_id}$"))
    expect(page.locator("#profile-alerts")).to_contain_text("VIP · prefers afternoons")
    expect(page.locator("#profile-notes")).to_have_text("Allergic to latex gloves.")
    expect(page.locator("#profile-reminders")).to_have_text("Text only, 48 hours before")
    screenshot("client-profile-details-1440")

    # tomorrow 10:00 in London (FROZEN_NOW is 1 July 2026, 17:00 there)
    with clinic.session() as s:
        appt = hold_slot(s, clinic.system, location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=datetime(2026, 7, 2, 9, 0, tzinfo=timezone.utc), now=FROZEN_NOW,
                         client_id=client_id, source="staff", confirm=True)
        s.commit()
        appt_id = appt.id
    page.goto(f"/calendar?location={clinic.location_id}&day=2026-07-02&view=providers&span=day")
    block = page.locator(f".cal-block[data-appointment='{appt_id}']")
    expect(block.locator(".cal-client")).to_have_text("Siân O'Brien-Núñez")
    expect(block.locator(".cal-alert")).to_have_attribute("title", "VIP · prefers afternoons")
    # booked inside her 48 hours: the clinic's shorter one, 2 h before the 10:00 visit, by text only
    block.click()
    expect(page.locator("#detail-reminder")).to_have_text("Thu, Jul 2, 2026, 8:00 AM BST (Europe/London) by SMS")
    screenshot("calendar-panel-reminder-1440")
    screenshot("client-alert-calendar-1440")
