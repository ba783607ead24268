"""Cards on file (issue 16): a client books online at a location that requires a card, the
card is saved at booking (offline test gateway, Stripe's 4242 test card) and the front desk
sees "Visa ••4242" on the visit in the calendar's detail panel. The server's clock is frozen
at conftest.FROZEN_NOW (2026-07-01, noon in New York); Friday 2026-07-03 10:00 EDT is free.

Screenshots (desktop and 390 px) go to tests/artifacts/cards-*.png.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from medspa.domain.practice.models import Location
from medspa.domain.scheduling.service import appointment_by_display_code
from tests.browser.test_booking_page import DAY, PHONE, TIMEOUT, fill_card, fill_details, pick_slot, shot
from tests.browser.test_calendar import block, make_desk, open_day, sign_in


def both(page: Page, name: str) -> None:
    size = page.viewport_size
    shot(page, f"cards-{name}-desktop")
    page.set_viewport_size(PHONE)
    shot(page, f"cards-{name}-phone")
    page.set_viewport_size(size)


def test_book_with_a_card_on_file_and_see_it_on_the_visit(page: Page, app_urls):
    desk = make_desk(app_urls)
    clinic = desk.clinic
    with clinic.session() as s:
        s.get(Location, clinic.location_id).card_required = True
        s.commit()
    page.set_default_timeout(TIMEOUT)
    pick_slot(page, clinic.slug)
    fill_details(page, first="Nora", last="Blake", email="nora@example.com")
    page.get_by_role("button", name="Continue to deposit").click()
    expect(page.locator("#card-on-file-note")).to_contain_text("keeps a card on file")
    fill_card(page, "4242 4242 4242 4242")
    both(page, "1-payment")
    page.get_by_role("button", name="Save card, pay deposit and book").click()
    expect(page.get_by_role("heading", name="You're booked!")).to_be_visible()
    reference = page.locator("#booking-reference").inner_text().strip()
    with clinic.session() as s:
        visit = appointment_by_display_code(s, clinic.staff_actor(), reference)
        assert visit.status == "confirmed"

    page.context.clear_cookies()
    sign_in(page, desk.email)
    open_day(page, desk, DAY)
    block(page, visit.id).click()
    panel = page.locator("#detail-panel")
    expect(panel.locator("#detail-card")).to_have_text("Visa ••4242")
    expect(panel).to_contain_text("Card on file")
    both(page, "2-panel")
