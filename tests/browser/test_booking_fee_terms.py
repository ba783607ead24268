"""The booking page states the clinic's late-cancel and no-show fees before the card is saved
and on the confirmation (new-user trial of issue 16, finding 2), at phone width. The server's
clock is frozen at conftest.FROZEN_NOW (Wed 2026-07-01, noon in New York).

Screenshots: tests/artifacts/fee-terms-*.png."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from medspa.domain.payments.fee_actions import do_set_fees
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.policy import FeeTerms
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_booking_next_available import engines, phone_page  # noqa: F401 (fixtures)
from tests.factories import build_clinic

TERMS = ("Cancellations more than 24 hours ahead are free. Later ones cost $40.00 (taken from the deposit first). "
         "A missed visit costs 50% of the price ($175.00, taken from the deposit first).")


def test_the_fees_are_shown_before_the_card_and_on_the_confirmation(phone_page: Page, engines):  # noqa: F811
    page = phone_page
    clinic = build_clinic(*engines)
    with clinic.session() as s:
        s.get(Location, clinic.location_id).card_required = True
        s.commit()
    do_set_fees(clinic.staff_actor("owner"), clinic.location_id, FeeTerms("flat", 4000), FeeTerms("percent", 5000),
                engine=engines[0])
    page.goto(f"/book/{clinic.slug}")
    page.get_by_role("button", name="Botox").click()
    page.get_by_role("button", name="Provider 1", exact=True).click()
    page.get_by_role("button", name="Thursday, July 2").click()
    page.get_by_role("button", name="Thu, Jul 2, 2026, 3:00 PM EDT (America/New_York)").click()
    expect(page.locator("#details-policy")).to_have_text(TERMS)
    page.get_by_label("First name").fill("Ava")
    page.get_by_label("Last name").fill("Nguyen")
    page.get_by_label("Email").fill("ava@example.com")
    page.get_by_label("Mobile phone").fill("(212) 555-0123")
    page.get_by_role("button", name="Continue to deposit").click()
    expect(page.locator("#booking-policy")).to_have_text(TERMS)  # before the card is saved
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "fee-terms-card-step-phone.png"), full_page=True)
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Month (MM)").fill("12")
    page.get_by_label("Year (YY)").fill("30")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name="Save card, pay deposit and book").click()
    expect(page.get_by_role("heading", name="You're booked!")).to_be_visible()
    expect(page.locator("#confirm-policy")).to_have_text(TERMS)
    page.screenshot(path=str(ARTIFACTS / "fee-terms-confirmed-phone.png"), full_page=True)
