"""The client list /clients and profile /clients/<id> in headless Chromium (issue 14 §1).

A London clinic (country GB): the front desk types a mobile number the way people say it
("07911 123456"), sees the client, opens the profile with its upcoming visit; a front-desk
account sees no chart or photo column. The app's clock is frozen at conftest.FROZEN_NOW.
"""

from __future__ import annotations

from datetime import datetime, timezone

from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, update

from medspa.db import to_sqlalchemy_url
from medspa.domain.clients.service import ClientInput, create_client
from medspa.domain.identity.service import create_user
from medspa.domain.practice.models import Organization
from medspa.domain.scheduling.service import hold_slot
from tests.browser.conftest import FROZEN_NOW
from tests.factories import build_clinic

PASSWORD = "clients-password-2026"
_engines: dict[str, object] = {}


def _engine(url: str):
    if url not in _engines:
        _engines[url] = create_engine(to_sqlalchemy_url(url), pool_size=2, max_overflow=4)
    return _engines[url]


def make_clinic(urls: tuple[str, str]):
    clinic = build_clinic(_engine(urls[0]), _engine(urls[1]), time_zone="Europe/London")
    with _engine(urls[1]).begin() as conn:
        conn.execute(update(Organization).where(Organization.id == clinic.org_id).values(country="GB"))
    email = f"desk-{clinic.slug}@example.com"
    with clinic.session() as s:
        create_user(s, clinic.system, email=email, password=PASSWORD, role="front_desk", display_name="Dana Desk")
        for first, last, phone in (("Amélie", "Dubois", "07400 123456"), ("Oliver", "Grant", "020 7946 0958"),
                                   ("Priya", "Shah", "07700 100200")):
            create_client(s, clinic.system, ClientInput(first, last, f"{first.lower()}@example.com", phone),
                          region="GB")
        sian = create_client(s, clinic.system, ClientInput("Siân", "Ellis", "sian.ellis@example.co.uk",
                                                           "07911 123456"), region="GB")
        # tomorrow 10:00 in London (FROZEN_NOW is 1 July 2026, 17:00 there)
        hold_slot(s, clinic.system, location_id=clinic.location_id, service_id=clinic.services["botox"],
                  start_at=datetime(2026, 7, 2, 9, 0, tzinfo=timezone.utc), now=FROZEN_NOW, client_id=sian.id,
                  source="staff", confirm=True)
        s.commit()
    return clinic, email, sian.id


def test_find_by_national_phone_and_open_the_profile(page: Page, app_urls, screenshot):
    clinic, email, sian_id = make_clinic(app_urls)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/clients")
    page.wait_for_url("**/login?next=/clients")
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/clients")
    expect(page.locator("#nav-clients")).to_have_attribute("aria-current", "page")
    expect(page.locator(".client-row")).to_have_count(4)
    screenshot("clients-list-1440")
    page.locator("#clients-view").get_by_role("radio", name="Today's clients").click()
    expect(page.locator("#clients-empty")).to_contain_text("No client has a visit today")
    page.locator("#clients-view").get_by_role("radio", name="Newest").click()
    expect(page.locator(".client-row")).to_have_count(4)

    page.fill("#clients-search", "07911 123456")
    expect(page.locator(".client-row")).to_have_count(1)
    row = page.locator(".client-row").first
    expect(row.locator(".client-link")).to_have_text("Siân Ellis")
    expect(row.locator(".client-phone")).to_have_text("07911 123456")
    screenshot("clients-search-1440")

    page.fill("#clients-search", "sian")  # accentless
    expect(page.locator(".client-row")).to_have_count(1)
    row.locator(".client-link").click()
    page.wait_for_url(f"**/clients/{sian_id}")
    expect(page.locator("#profile-name")).to_have_text("Siân Ellis")
    expect(page.locator("#profile-phone")).to_have_text("07911 123456")
    upcoming = page.locator("#profile-upcoming .visit-row")
    expect(upcoming).to_have_count(1)
    expect(upcoming.first).to_contain_text("Botox")
    expect(upcoming.first).to_contain_text("Confirmed")
    expect(upcoming.first).to_contain_text("Thu, Jul 2, 2026, 10:00 AM")
    expect(page.locator("#profile-upcoming-chart-col")).to_have_count(0)  # front desk: no chart data
    expect(page.locator(".visit-chart")).to_have_count(0)
    screenshot("client-profile-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("client-profile-390")
    page.goto("/clients")
    expect(page.locator(".client-row")).to_have_count(4)
    expect(page.locator("#clients-search")).to_have_value("")
    screenshot("clients-list-390")

    page.goto("/clients/999999999")
    expect(page.locator("#profile-not-found")).to_be_visible()


def test_a_manager_merges_a_duplicate_from_the_profile_and_undoes_it(page: Page, app_urls, base_url, screenshot):
    """Two records of one person (same mobile): the manager opens one, sees the other under
    "Possible duplicates", merges it after confirming, sees it under "Merged records" and
    undoes it."""
    from tests.browser.test_audit import owner_session

    clinic = build_clinic(_engine(app_urls[0]), _engine(app_urls[1]))
    email = f"manager-{clinic.slug}@example.com"
    with clinic.session() as s:
        create_user(s, clinic.system, email=email, password=PASSWORD, role="manager", display_name="Max Manager")
        keep = create_client(s, clinic.staff_actor("manager"), ClientInput("Rosa", "Diaz", "rosa@example.com",
                                                                           "+12125550190"))
        dup = create_client(s, clinic.staff_actor("manager"), ClientInput("Rosie", "Diaz", "", "(212) 555-0190"))
        s.commit()
        keep_id, dup_id = keep.id, dup.id
    page.set_viewport_size({"width": 1440, "height": 960})
    owner_session(page, base_url, clinic, email)
    page.goto(f"/clients/{keep_id}")
    row = page.locator(f".duplicate-row[data-client-id='{dup_id}']")
    expect(row).to_contain_text("Rosie Diaz", timeout=20_000)
    expect(row).to_contain_text("same phone")
    row.locator(".merge-ask").click()
    expect(row).to_contain_text("can be undone for 30 days")
    screenshot("client-profile-merge-confirm")
    page.click("#merge-confirm")
    expect(page.locator("#merge-message")).to_have_text("Rosie Diaz was merged into this record.", timeout=20_000)
    expect(page.locator(".merge-row")).to_contain_text("Rosie Diaz was merged into this record")
    expect(page.locator("#profile-duplicates")).to_have_count(0)
    screenshot("client-profile-merged")
    page.locator(".merge-undo").click()
    expect(page.locator("#merge-message")).to_have_text("The merge with Rosie Diaz was undone.", timeout=20_000)
    expect(page.locator(f".duplicate-row[data-client-id='{dup_id}']")).to_be_visible()
