"""A booking page that never dead-ends (issue 15, part 2), in a real browser at phone width.

The server's clock is frozen at conftest.FROZEN_NOW (Wed 2026-07-01, noon in New York). The
clinic's provider works Sundays 09:00-10:00 only and the first two Sundays are taken, so the
page's first 14 days have no free time: it names the next available day (Sun 19 Jul), the
client jumps there and books it; the browser's Back goes back one step; the confirmation
shows the short code, the balance due, the cancellation rule, "Add to calendar" (.ics) and the
manage link (by the booking token).

Screenshots: tests/artifacts/next-available-*.png.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timezone

import pytest
from icalendar import Calendar
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine

import medspa.domain.clients.models  # noqa: F401 - the appointment's client table, for the holds below
from medspa.db import to_sqlalchemy_url
from medspa.domain.catalog.models import Service
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.service import appointment_by_display_code, hold_slot
from tests.browser.conftest import ARTIFACTS
from tests.factories import build_clinic

PHONE = {"width": 390, "height": 844}
TIMEOUT = 20_000
SUNDAY = 6
NINE_AM = "Sun, Jul 19, 2026, 9:00 AM EDT (America/New_York)"
NINE_AM_UTC = datetime(2026, 7, 19, 13, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def engines(app_urls):
    app = create_engine(to_sqlalchemy_url(app_urls[0]), pool_size=2)
    owner = create_engine(to_sqlalchemy_url(app_urls[1]), pool_size=1)
    yield app, owner
    app.dispose()
    owner.dispose()


@pytest.fixture
def phone_page(browser, base_url):
    ctx = browser.new_context(base_url=base_url, viewport=PHONE, is_mobile=True, has_touch=True)
    ctx.set_default_timeout(TIMEOUT)
    pg = ctx.new_page()
    yield pg
    ctx.close()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"next-available-{name}.png"), full_page=True)


def sunday_clinic(engines, frozen_now, max_advance_days: int | None = None):
    """Provider 1 works Sundays 09:00-10:00; both times of Sun 5 and Sun 12 July are held."""
    clinic = build_clinic(*engines, weekly={SUNDAY: [(time(9), time(10))]})
    with clinic.session() as s:
        s.get(Location, clinic.location_id).phone = "+12125550100"
        s.get(Service, clinic.services["botox"]).max_advance_days = max_advance_days
        for day in (5, 12):
            for minute in (0, 30):
                hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                          start_at=datetime(2026, 7, day, 13, minute, tzinfo=timezone.utc), now=frozen_now,
                          hold_minutes=60 * 24 * 30)
        s.commit()
    return clinic


def to_time_step(page: Page, slug: str) -> None:
    page.goto(f"/book/{slug}")
    page.get_by_role("button", name="Botox").click()
    page.get_by_role("button", name="Provider 1", exact=True).click()
    expect(page.get_by_role("heading", name="Pick a day and time")).to_be_visible()


def test_next_available_then_book_with_back_one_step(phone_page: Page, engines, frozen_now):
    page = phone_page
    clinic = sunday_clinic(engines, frozen_now)
    to_time_step(page, clinic.slug)
    offer = page.locator("#next-available-offer")
    expect(offer).to_contain_text("Next available: Sun 19 Jul")
    expect(page).to_have_url(re.compile(r"[?&]step=time"))  # the URL follows the step a moment after it renders
    shot(page, "1-none-in-two-weeks-phone")

    page.locator("#next-available").click()
    expect(page.get_by_role("button", name="Sunday, July 19")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="Earlier dates")).to_be_enabled()
    shot(page, "2-next-available-day-phone")
    page.get_by_role("button", name=NINE_AM).click()
    expect(page.get_by_role("heading", name="Your details")).to_be_visible()
    page.wait_for_url("**step=details**")  # the step's URL is pushed just after the step renders

    # the browser's Back: one step (the time), the hold kept; Forward: the details again
    page.go_back()
    expect(page.get_by_role("heading", name="Pick a day and time")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]step=time"))  # the URL follows the step a moment after it renders
    shot(page, "3-back-to-time-phone")
    page.go_forward()
    expect(page.get_by_role("heading", name="Your details")).to_be_visible()
    expect(page.locator("#hold-note")).to_be_visible()

    page.get_by_label("First name").fill("Ava")
    page.get_by_label("Last name").fill("Nguyen")
    page.get_by_label("Email").fill("ava@example.com")
    page.get_by_label("Mobile phone").fill("(212) 555-0123")
    page.get_by_role("button", name="Continue to deposit").click()
    expect(page.get_by_role("heading", name="Secure your booking")).to_be_visible()
    page.wait_for_url("**step=payment**")
    page.go_back()  # one step: the details, as typed
    expect(page.get_by_role("heading", name="Your details")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("ava@example.com")
    page.get_by_role("button", name="Continue to deposit").click()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Month (MM)").fill("12")
    page.get_by_label("Year (YY)").fill("30")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name="Pay deposit and book").click()

    expect(page.get_by_role("heading", name="You're booked!")).to_be_visible()
    code = page.locator("#booking-reference").inner_text().strip()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code), code
    expect(page.locator("#confirm-time")).to_have_text(NINE_AM)
    expect(page.locator("#confirm-deposit")).to_have_text("$50.00")
    expect(page.locator("#confirm-balance")).to_have_text("$300.00")
    expect(page.locator("#confirm-policy")).to_have_text(
        "Cancellations more than 24 hours ahead are refunded in full. Later ones keep the deposit.")
    manage = page.locator("#manage-booking").get_attribute("href")
    match = re.fullmatch(rf"/book/{clinic.slug}/manage/([A-Za-z0-9_-]{{32}})", manage or "")
    assert match and code.replace("-", "") not in manage, manage
    token = match.group(1)
    ics = page.locator("#add-to-calendar").get_attribute("href")
    assert ics == f"/api/v1/{clinic.slug}/bookings/{token}/calendar.ics"
    shot(page, "4-confirmation-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # clicked as a client would: a download, and the confirmation stays (it was a 404 page once)
    with page.expect_download() as downloading:
        page.click("#add-to-calendar")
    body = downloading.value.path().read_bytes()
    expect(page.get_by_role("heading", name="You're booked!")).to_be_visible()
    [event] = Calendar.from_ical(body).walk("VEVENT")
    assert event.decoded("dtstart") == NINE_AM_UTC and code in str(event["description"])
    assert b"Ava" not in body and b"ava@example.com" not in body
    with clinic.session() as s:
        appt = appointment_by_display_code(s, clinic.staff_actor(), code)
        assert (appt.status, appt.start_at, appt.booking_token) == ("confirmed", NINE_AM_UTC, token)


def test_nothing_free_within_the_max_advance_offers_the_clinic(phone_page: Page, engines, frozen_now):
    page = phone_page
    clinic = sunday_clinic(engines, frozen_now, max_advance_days=12)
    to_time_step(page, clinic.slug)
    box = page.locator("#waitlist-offer")
    expect(box).to_contain_text("Nothing free in the next 12 days.")
    expect(box.get_by_role("link", name="(212) 555-0100")).to_have_attribute("href", "tel:+12125550100")
    expect(page.get_by_role("button", name="Later dates")).to_be_disabled()
    shot(page, "5-nothing-free-phone")
    # a reload keeps the step; Back goes to the provider step
    page.reload()
    expect(page.locator("#waitlist-offer")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="Choose your provider")).to_be_visible()
