"""The client profile's "Book again" and "Charts & photos" in headless Chromium (issue 14 §2).

A client whose last visit (a week ago, Botox with Provider 1) has a signed chart and a before
photo: the front desk books it again from the past visit's row, confirms the next free time
and sees the visit under Upcoming, with no "Charts & photos" section on the page; a provider
sees the section with the chart and the photo's thumbnail. (The calendar side of "Book",
/calendar?client=<id>, is covered by tests/test_client_book_again_handlers.py.) The app's clock is frozen at
conftest.FROZEN_NOW (Wed 1 July 2026, 12:00 in New York).
"""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from medspa.domain.clinical.photos import LocalMediaStore, add_photo
from medspa.domain.clinical.service import LineInput, save_chart, sign_chart
from tests.browser.conftest import ARTIFACTS, FROZEN_NOW
from tests.consent_support import sign_required_consents
from tests.browser.test_calendar import LIVE_TIMEOUT, make_desk, new_client, sign_in
from tests.browser.test_chart import provider_session
from tests.test_analytics_trends import _visit
from tests.test_photos import jpeg


def test_book_again_from_a_past_visit_and_charts_for_providers_only(page: Page, browser, browser_server, base_url,
                                                                      app_urls, screenshot):
    desk = make_desk(app_urls)
    clinic = desk.clinic
    client_id = new_client(desk, "Hana", "Ito")
    with clinic.session() as s:
        visit = _visit(s, clinic, FROZEN_NOW - timedelta(days=7), client_id=client_id).id
        s.commit()
    nurse = clinic.staff_actor("provider", clinic.provider_ids[0])  # the visit's provider signs (issue 18)
    sign_required_consents(clinic, visit, now=FROZEN_NOW - timedelta(days=7))
    with clinic.session() as s:
        save_chart(s, nurse, visit, [LineInput("Botox", "C3709C3", "20", "glabella")], "Tolerated well.",
                   FROZEN_NOW - timedelta(days=7))
        sign_chart(s, nurse, visit, FROZEN_NOW - timedelta(days=7))
        add_photo(s, nurse, visit, jpeg(800, 600), "before", FROZEN_NOW - timedelta(days=7),
                  LocalMediaStore(browser_server.slot_dir / "media"))
        s.commit()

    page.set_viewport_size({"width": 1440, "height": 1000})
    sign_in(page, desk.email)
    page.goto(f"/clients/{client_id}")
    expect(page.locator("#profile-name")).to_have_text("Hana Ito", timeout=LIVE_TIMEOUT)
    top = page.locator("#profile-book-again")
    expect(top.locator("#book-again-top-when")).to_have_text("Wed, Jul 1, 12:00 PM EDT with Provider 1",
                                                             timeout=LIVE_TIMEOUT)
    book_href = f"/calendar?location={clinic.location_id}&client={client_id}"
    expect(page.locator("#profile-book")).to_have_attribute("href", book_href)
    expect(page.locator("#profile-upcoming .visit-row")).to_have_count(0)
    expect(page.locator("#profile-clinical")).to_have_count(0)  # the front desk: not on the page at all
    expect(page.locator(".history-chart")).to_have_count(0)
    screenshot("client-book-again-desk-1440")

    page.locator(f"#profile-past .book-again[data-visit-id='{visit}']").click()
    dialog = page.locator("#book-again-dialog")
    expect(dialog.locator("#book-again-when")).to_have_text("Wed, Jul 1, 12:00 PM EDT with Provider 1")
    expect(dialog).to_contain_text("Botox with Provider 1")
    screenshot("client-book-again-confirm-1440")
    page.click("#book-again-confirm")
    expect(page.locator("#book-again-message")).to_have_text(
        "Booked Botox on Wed, Jul 1, 12:00 PM EDT with Provider 1.", timeout=LIVE_TIMEOUT)
    upcoming = page.locator("#profile-upcoming .visit-row")
    expect(upcoming).to_have_count(1)
    expect(upcoming.first).to_contain_text("Wed, Jul 1, 2026, 12:00 PM")
    expect(upcoming.first).to_contain_text("Confirmed")
    expect(top.locator("#book-again-top-when")).to_have_text("Wed, Jul 1, 12:30 PM EDT with Provider 1")
    screenshot("client-book-again-booked-1440")


    context = browser.new_context(base_url=base_url)
    try:
        nurse_page = context.new_page()
        nurse_page.set_viewport_size({"width": 1440, "height": 1200})
        provider_session(nurse_page, base_url, desk)
        nurse_page.goto(f"/clients/{client_id}")
        section = nurse_page.locator("#profile-clinical")
        expect(section).to_be_visible(timeout=LIVE_TIMEOUT)
        charts = section.locator(".history-chart")
        expect(charts).to_have_count(1)
        expect(charts.first).to_contain_text("Jun 24, 2026")
        expect(charts.first).to_contain_text("signed")
        expect(charts.first.get_by_role("link", name="Open chart")).to_have_attribute("href", f"/chart/{visit}")
        thumb = section.locator(".history-photo img")
        expect(thumb).to_have_count(1)
        nurse_page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle(),
                                     timeout=LIVE_TIMEOUT)
        nurse_page.screenshot(path=str(ARTIFACTS / "client-history-provider-1440.png"), full_page=True)
    finally:
        context.close()
