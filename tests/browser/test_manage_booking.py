"""The manage-booking link /book/[clinic]/manage/[token] on a phone (390 px) against the running
app: a client moves their visit to another day and time (the terms shown before confirming;
the same link then shows the new time), another cancels with a reason ("Another reason" needs
words); an unknown link is "not found". Screenshots: tests/artifacts/manage-*.png.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine

from medspa.clock import FixedClock
from medspa.db import tenant_session, to_sqlalchemy_url
from medspa.domain.clients.service import ClientInput
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.references import manage_url
from tests.browser.conftest import ARTIFACTS
from tests.factories import build_clinic

PHONE = {"width": 390, "height": 844}
TIMEOUT = 20_000
ANA_AT = datetime(2026, 7, 3, 14, 0, tzinfo=timezone.utc)  # Fri Jul 3, 10:00 AM EDT
BO_AT = datetime(2026, 7, 3, 15, 0, tzinfo=timezone.utc)   # 11:00 AM EDT


@pytest.fixture(scope="module")
def engines(app_urls):
    app = create_engine(to_sqlalchemy_url(app_urls[0]), pool_size=2)
    owner = create_engine(to_sqlalchemy_url(app_urls[1]), pool_size=1)
    yield app, owner
    app.dispose()
    owner.dispose()


@pytest.fixture(scope="module")
def booked(engines, frozen_now):
    """A clinic where Ana and Bo booked Botox ($50 deposit) on Friday, both well outside the 24-hour window."""
    app, owner = engines
    clinic = build_clinic(app, owner)
    clock = FixedClock(frozen_now)
    out = {}
    for first, start in (("Ana", ANA_AT), ("Bo", BO_AT)):
        req = OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=start,
                            client=ClientInput(first, "Silva", f"{first.lower()}@example.com", "(212) 555-0147"),
                            card=CardDetails("4242 4242 4242 4242", 12, 2030, "123"))
        out[first] = book_online(app, clinic.public, req, TestPaymentGateway(app, clock.now), clock)
    return clinic, out


@pytest.fixture
def phone(browser, base_url):
    ctx = browser.new_context(base_url=base_url, viewport=PHONE, is_mobile=True, has_touch=True)
    ctx.set_default_timeout(TIMEOUT)
    yield ctx.new_page()
    ctx.close()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"manage-{name}.png"), full_page=True)


def test_a_client_moves_their_visit_from_the_link(phone: Page, booked, engines):
    clinic, visits = booked
    ana = visits["Ana"]
    link = manage_url(clinic.slug, ana.booking_token)
    phone.goto(link)
    expect(phone.locator("#manage-day")).to_have_text("Friday, July 3, 2026", timeout=TIMEOUT)
    expect(phone.locator("#manage-times")).to_have_text("10:00 AM – 10:30 AM EDT")
    expect(phone.locator("#manage-deposit")).to_have_text("$50.00 deposit paid")
    shot(phone, "1-visit-phone")

    phone.get_by_role("button", name="Reschedule").click()
    expect(phone.locator("#free-times")).to_be_visible(timeout=TIMEOUT)
    phone.get_by_role("button", name="Monday, July 6").click()
    phone.get_by_role("button", name="Mon, Jul 6, 2026, 11:00 AM EDT (America/New_York)").click()
    expect(phone.locator("#picked-time")).to_have_text("Mon, Jul 6, 2026, 11:00 AM EDT (America/New_York)")
    expect(phone.locator("#reschedule-terms")).not_to_be_empty()  # the terms before anything moves
    shot(phone, "2-pick-phone")
    phone.locator("#confirm-reschedule").click()
    expect(phone.locator("#manage-notice")).to_contain_text("Your visit is moved to Mon, Jul 6, 2026, 11:00 AM EDT",
                                                            timeout=TIMEOUT)
    expect(phone.locator("#manage-day")).to_have_text("Monday, July 6, 2026")
    shot(phone, "3-moved-phone")

    phone.goto(link)  # the same link shows the live visit: the new time, never a second booking
    expect(phone.locator("#manage-times")).to_have_text("11:00 AM – 11:30 AM EDT", timeout=TIMEOUT)
    with tenant_session(clinic.org_id, engines[0]) as s:
        row = s.get(Appointment, ana.id)
        assert (row.status, row.start_at) == ("confirmed", datetime(2026, 7, 6, 15, 0, tzinfo=timezone.utc))


def test_a_client_cancels_with_a_reason_and_a_bad_link_is_not_found(phone: Page, booked, engines):
    clinic, visits = booked
    bo = visits["Bo"]
    phone.goto(manage_url(clinic.slug, bo.booking_token))
    phone.get_by_role("button", name="Cancel visit").click()
    expect(phone.locator("#cancel-outcome")).to_contain_text("deposit of $50.00 will be refunded", timeout=TIMEOUT)
    phone.get_by_role("radio", name="Another reason").click()
    phone.locator("#confirm-cancel").click()
    expect(phone.locator("#cancel-note-error")).to_have_text("Tell us the reason in a few words")
    phone.locator("#cancel-note").fill("Moving to another city")
    shot(phone, "4-cancel-phone")
    phone.locator("#confirm-cancel").click()
    expect(phone.locator("#manage-notice")).to_contain_text("cancelled and your deposit of $50.00 is being refunded",
                                                            timeout=TIMEOUT)
    expect(phone.locator("#manage-status")).to_have_text("Cancelled")
    expect(phone.get_by_role("button", name="Reschedule")).to_have_count(0)
    shot(phone, "5-cancelled-phone")
    with tenant_session(clinic.org_id, engines[0]) as s:
        row = s.get(Appointment, bo.id)
        assert (row.status, row.cancellation_reason, row.cancellation_note) == ("cancelled", "other",
                                                                               "Moving to another city")

    phone.goto(f"/book/{clinic.slug}/manage/{bo.display_code}")  # the display code is no key
    expect(phone.get_by_role("heading", name="Booking not found")).to_be_visible(timeout=TIMEOUT)
