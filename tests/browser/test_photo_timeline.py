"""Issue 18 photos in headless Chromium against the real app: on the chart a provider uploads a
before photo (JPEG, area lips) and an after photo (HEIC, as an iPhone sends it); the client's
profile shows both on the photo timeline, compares them side by side, then with the slider
(react-compare-slider): dragging the handle moves it. Screenshots of the timeline and of the
comparison go to tests/artifacts/."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlmodel import select

from medspa.domain.clinical.photos import ClinicalPhoto
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_calendar import LIVE_TIMEOUT, TODAY, at, make_desk, script_booking
from tests.browser.test_chart import provider_session
from tests.test_photo_pipeline import heic
from tests.test_photos import jpeg


def _choose(page: Page, trigger: str, option: str) -> None:
    page.click(trigger)
    page.get_by_role("option", name=option, exact=True).click()


def _upload(page: Page, name: str, mime: str, data: bytes, notice: str) -> None:
    page.locator("#chart-photos-upload input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}])
    expect(page.locator("#chart-photo-selected")).to_contain_text(name)
    page.click("#chart-photo-upload")
    expect(page.locator("#chart-photo-notice")).to_have_text(notice, timeout=LIVE_TIMEOUT)


def _loaded(page: Page, selector: str) -> None:
    for img in page.locator(selector).all():
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle(),
                               timeout=LIVE_TIMEOUT)


def test_before_jpeg_after_heic_on_the_timeline_and_the_slider_moves(page: Page, app_urls, base_url):
    desk = make_desk(app_urls)
    visit = script_booking(desk, at(TODAY, 15), "Lena", "Park", provider=desk.clinic.provider_ids[0])
    provider_session(page, base_url, desk)
    page.goto(f"/chart/{visit.id}")
    expect(page.locator("#chart-client")).to_have_text("Lena Park", timeout=LIVE_TIMEOUT)
    expect(page.locator("#chart-photos").get_by_text("No photos yet.")).to_be_visible(timeout=LIVE_TIMEOUT)

    _choose(page, "#chart-photo-area", "Lips")
    _upload(page, "IMG_0001.jpg", "image/jpeg", jpeg(1600, 1200), "Before photo added.")
    _choose(page, "#chart-photo-kind", "After")
    _upload(page, "IMG_0002.HEIC", "image/heic", heic(1600, 1200), "After photo added.")
    expect(page.locator(".chart-photo")).to_have_count(2)
    with desk.clinic.session() as s:
        rows = s.exec(select(ClinicalPhoto).where(ClinicalPhoto.appointment_id == visit.id)
                      .order_by(ClinicalPhoto.id)).all()
    assert [(r.kind, r.area, r.content_type) for r in rows] == [("before", "lips", "image/jpeg"),
                                                                 ("after", "lips", "image/jpeg")]

    page.goto(f"/clients/{visit.client_id}")
    card = page.locator("#profile-photo-timeline")
    expect(card).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(card.locator(".timeline-photo")).to_have_count(2)
    expect(card.locator(".timeline-photo[data-side=A]")).to_have_attribute("data-kind", "before")
    expect(card.locator(".timeline-photo[data-side=B]")).to_have_attribute("data-kind", "after")
    expect(page.locator("#photo-compare-side img")).to_have_count(2)
    _loaded(page, "#profile-photo-timeline img")
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(ARTIFACTS / "photo-timeline-side-by-side.png"))

    page.locator("#photo-compare-mode").get_by_role("radio", name="Slider").click()
    slider = page.locator("[data-testid=photo-slider]")
    expect(slider).to_be_visible()
    _loaded(page, "[data-testid=photo-slider] img")
    handle_root = page.locator("[data-rcs=handle-root]")
    expect(handle_root).to_have_attribute("aria-valuenow", "50")
    box = page.locator("[data-rcs=handle]").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 150, y, steps=12)
    page.mouse.up()
    page.wait_for_function("() => Number(document.querySelector('[data-rcs=handle-root]')"
                           ".getAttribute('aria-valuenow')) < 40", timeout=LIVE_TIMEOUT)
    moved = float(handle_root.get_attribute("aria-valuenow"))
    assert 15 < moved < 40
    page.locator("#photo-compare").screenshot(path=str(ARTIFACTS / "photo-compare-slider.png"))
