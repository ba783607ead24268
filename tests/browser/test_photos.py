"""Before / After photos on the treatment chart, in headless Chromium against the real app.

A provider uploads a phone photo (4032x3024, EXIF Orientation 6, GPS) on the chart page and sees
its portrait thumbnail, served by the protected route; the front desk, signed in the same way,
gets 404 at the photo's URL. The app's clock is frozen at conftest.FROZEN_NOW.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlmodel import select

from medspa.domain.clinical.photos import ClinicalPhoto
from tests.browser.test_calendar import LIVE_TIMEOUT, TODAY, at, make_desk, script_booking, sign_in
from tests.browser.test_chart import provider_session
from tests.test_photos import jpeg


def test_provider_uploads_a_photo_and_the_front_desk_gets_404(page: Page, browser, app_urls, base_url, screenshot):
    desk = make_desk(app_urls)
    visit = script_booking(desk, at(TODAY, 15), "Nora", "Quinn", provider=desk.clinic.provider_ids[0])
    provider_session(page, base_url, desk)
    page.goto(f"/chart/{visit.id}")
    expect(page.locator("#chart-client")).to_have_text("Nora Quinn", timeout=LIVE_TIMEOUT)
    panel = page.locator("#chart-photos")
    expect(panel.get_by_text("Before / After photos")).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(panel.get_by_text("No photos yet.")).to_be_visible()

    page.locator("#chart-photos-upload input[type=file]").set_input_files(
        files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": jpeg(4032, 3024, orientation=6, gps=True)}])
    expect(page.locator("#chart-photo-selected")).to_contain_text("IMG_0001.jpg")
    page.click("#chart-photo-upload")
    expect(page.locator("#chart-photo-notice")).to_have_text("Before photo added.", timeout=LIVE_TIMEOUT)
    thumb = page.locator(".chart-photo img").first
    expect(thumb).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle(),
                           timeout=LIVE_TIMEOUT)
    natural = thumb.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert natural == [300, 400]  # portrait, scaled: orientation applied on the server
    screenshot("photos-thumbnail")

    with desk.clinic.session() as s:
        photo = s.exec(select(ClinicalPhoto).where(ClinicalPhoto.appointment_id == visit.id)).one()
    assert (photo.width, photo.height) == (1920, 2560)  # the display copy (issue 18)
    page.locator(".chart-photo").first.click()
    large = page.locator("#chart-photo-large")
    expect(large).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=large.element_handle(),
                           timeout=LIVE_TIMEOUT)
    assert large.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [1920, 2560]
    ok = page.request.get(f"{base_url}/media/photos/{photo.id}")
    assert ok.status == 200 and ok.headers["cache-control"] == "private, no-store"

    # the front desk, signed in for real in its own browser context: 404 at the media URL
    context = browser.new_context(base_url=base_url)
    try:
        desk_page = context.new_page()
        sign_in(desk_page, desk.email)
        for url in (f"/media/photos/{photo.id}", f"/media/photos/{photo.id}?thumb=1"):
            answer = desk_page.request.get(base_url + url)
            assert answer.status == 404 and answer.headers["cache-control"] == "private, no-store"
            assert answer.body() == b'{"error":"not_found"}'
        assert desk_page.goto(f"{base_url}/media/photos/{photo.id}").status == 404
    finally:
        context.close()
