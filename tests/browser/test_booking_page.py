"""The public booking page /book/[clinic] in a real browser against the running app.

Each test builds its own clinic in the server's database (tests/factories.build_clinic:
providers work 09:00-17:00 every day in America/New_York). The server's clock is frozen at
conftest.FROZEN_NOW (2026-07-01, noon in New York), so Friday 2026-07-03 10:00 EDT
(14:00 UTC) is a free, bookable time.

Screenshots of every step, at desktop and phone width, go to tests/artifacts/booking-*.png.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine

from medspa.db import to_sqlalchemy_url
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.service import add_location, set_working_hours
from medspa.domain.scheduling.availability import find_slots
from medspa.domain.scheduling.service import appointment_by_display_code
from tests.browser.conftest import ARTIFACTS
from tests.factories import build_clinic

DAY = date(2026, 7, 3)
DAY_BUTTON = "Friday, July 3"
TEN_AM = "Fri, Jul 3, 2026, 10:00 AM EDT (America/New_York)"
TEN_AM_UTC = datetime(2026, 7, 3, 14, 0, tzinfo=timezone.utc)
PHONE = {"width": 390, "height": 844}
TIMEOUT = 20_000


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
    page.screenshot(path=str(ARTIFACTS / f"booking-{name}.png"), full_page=True)


def both_widths(page: Page, name: str) -> None:
    """Screenshots at the current (desktop) size and at phone width, then back."""
    size = page.viewport_size
    shot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    shot(page, f"{name}-phone")
    page.set_viewport_size(size)


def pick_slot(page: Page, slug: str, provider: str = "Provider 1", snap: str = "") -> None:
    """Open the page and walk to the 10:00 AM EDT slot on Friday July 3 (the slot gets held)."""
    page.goto(f"/book/{slug}")
    expect(page.get_by_role("heading", name="Test Clinic")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="Choose a treatment")).to_be_visible()
    snap and shot(page, f"1-service-{snap}")
    page.get_by_role("button", name="Botox").click()
    expect(page.get_by_role("heading", name="Choose your provider")).to_be_visible()
    snap and shot(page, f"2-provider-{snap}")
    page.get_by_role("button", name=provider, exact=True).click()
    page.get_by_role("button", name=DAY_BUTTON).click()
    expect(page.get_by_role("button", name=TEN_AM)).to_be_visible()
    snap and shot(page, f"3-time-{snap}")
    page.get_by_role("button", name=TEN_AM).click()


def fill_details(page: Page, first="Ava", last="Nguyen", email="ava@example.com", phone="(212) 555-0123") -> None:
    expect(page.get_by_role("heading", name="Your details")).to_be_visible()
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mobile phone").fill(phone)


def fill_card(page: Page, number: str, mm="12", yy="30", cvc="123") -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Month (MM)").fill(mm)
    page.get_by_label("Year (YY)").fill(yy)
    page.get_by_label("CVC").fill(cvc)


def free_starts(clinic, frozen_now) -> set[datetime]:
    with clinic.session() as s:
        slots = find_slots(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                           start_date=DAY, end_date=DAY, now=frozen_now, provider_id=clinic.provider_ids[0])
    return {sl.start for sl in slots}


def test_book_with_test_card(page: Page, engines, frozen_now):
    clinic = build_clinic(*engines, providers=2)
    page.set_default_timeout(TIMEOUT)
    pick_slot(page, clinic.slug, snap="desktop")
    expect(page.locator("#hold-note")).to_contain_text("We're holding this time for 10 minutes")
    fill_details(page)
    shot(page, "4-details-desktop")
    page.get_by_role("button", name="Continue to deposit").click()
    expect(page.get_by_role("heading", name="Secure your booking")).to_be_visible()
    expect(page.locator("#test-payments-note")).to_contain_text("Test payments — use 4242 4242 4242 4242")
    expect(page.locator("#booking-summary")).to_contain_text("$50.00 deposit")
    fill_card(page, "4242 4242 4242 4242")
    shot(page, "5-payment-desktop")
    page.get_by_role("button", name="Pay deposit and book").click()

    expect(page.get_by_role("heading", name="You're booked!")).to_be_visible()
    reference = page.locator("#booking-reference").inner_text().strip()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", reference), reference
    expect(page.locator("#confirm-time")).to_have_text(TEN_AM)
    expect(page.locator("#confirm-service")).to_have_text("Botox")
    expect(page.locator("#confirm-provider")).to_have_text("Provider 1")
    expect(page.locator("#confirm-location")).to_have_text("Main")
    expect(page.locator("#confirm-deposit")).to_have_text("$50.00")
    shot(page, "6-confirmation-desktop")

    with clinic.session() as s:
        appt = appointment_by_display_code(s, clinic.staff_actor(), reference)
        assert (appt.status, appt.start_at, appt.deposit_cents) == ("confirmed", TEN_AM_UTC, 5000)
        assert appt.provider_id == clinic.provider_ids[0]
    assert TEN_AM_UTC not in free_starts(clinic, frozen_now)


def test_service_without_deposit_books_without_a_card(page: Page, engines, frozen_now):
    clinic = build_clinic(*engines)
    page.set_default_timeout(TIMEOUT)
    page.goto(f"/book/{clinic.slug}")
    page.get_by_role("button", name="Laser underarms").click()
    page.get_by_role("button", name="Provider 1", exact=True).click()
    page.get_by_role("button", name=DAY_BUTTON).click()
    page.get_by_role("button", name=TEN_AM).click()
    fill_details(page, first="Lea", email="lea@example.com")
    page.get_by_role("button", name="Book now").click()
    expect(page.get_by_role("heading", name="You're booked!")).to_be_visible()
    expect(page.get_by_label("Card number")).to_have_count(0)
    reference = page.locator("#booking-reference").inner_text().strip()
    with clinic.session() as s:
        appt = appointment_by_display_code(s, clinic.staff_actor(), reference)
        assert (appt.status, appt.deposit_cents, appt.service_id) == ("confirmed", 0, clinic.services["laser"])


def test_declined_card_keeps_the_slot_then_books_at_phone_width(phone_page: Page, engines, frozen_now):
    page = phone_page
    clinic = build_clinic(*engines)
    pick_slot(page, clinic.slug, snap="phone")
    expect(page.locator("#hold-note")).to_be_visible()
    assert TEN_AM_UTC not in free_starts(clinic, frozen_now), "the picked slot should be held"
    fill_details(page)
    shot(page, "4-details-phone")
    page.get_by_role("button", name="Continue to deposit").click()
    fill_card(page, "4000 0000 0000 0002")
    page.get_by_role("button", name="Pay deposit and book").click()

    error = page.locator("#card-error")
    # issue 15: the time stays the client's for another card, and the page says until when
    expect(error).to_have_text(re.compile(r"^Your card was declined\. Your time is held until \d{1,2}:\d\d [AP]M; "
                                          r"try another card\.$"))
    # the message sits with the card number field and is announced for it
    card_field = page.get_by_label("Card number")
    assert "card-error" in (card_field.get_attribute("aria-describedby") or "")
    box_field, box_error = card_field.bounding_box(), error.bounding_box()
    assert 0 <= box_error["y"] - (box_field["y"] + box_field["height"]) < 60
    shot(page, "5-payment-declined-phone")

    # the hold stays: neither the domain nor the public API offer 10:00 to anyone else
    assert TEN_AM_UTC not in free_starts(clinic, frozen_now)
    api = page.request.get(f"/api/v1/{clinic.slug}/availability", params={
        "location_id": clinic.location_id, "service_id": clinic.services["botox"],
        "start_date": DAY.isoformat(), "end_date": DAY.isoformat()})
    assert api.ok
    assert "2026-07-03T10:00:00-04:00" not in {s["start"] for s in api.json()["slots"]}
    with clinic.session() as s:
        from sqlmodel import select

        from medspa.domain.scheduling.models import Appointment

        ((held_id, status),) = s.exec(select(Appointment.id, Appointment.status)).all()
        assert status == "held"

    # another card books the same time: that very hold is confirmed
    fill_card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Pay deposit and book").click()
    expect(page.get_by_role("heading", name="You're booked!")).to_be_visible()
    expect(page.locator("#confirm-time")).to_have_text(TEN_AM)
    shot(page, "6-confirmation-phone")
    with clinic.session() as s:
        assert s.exec(select(Appointment.id, Appointment.status)).all() == [(held_id, "confirmed")]
    # nothing overflows sideways at 390 px
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_race_for_one_slot(browser, base_url, engines, frozen_now):
    clinic = build_clinic(*engines, providers=1)
    pages = []
    for _ in range(2):
        ctx = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(TIMEOUT)
        pages.append(ctx.new_page())
    try:
        for pg in pages:  # both see 10:00 as free before either picks it
            pg.goto(f"/book/{clinic.slug}")
            pg.get_by_role("button", name="Botox").click()
            pg.get_by_role("button", name="Provider 1", exact=True).click()
            pg.get_by_role("button", name=DAY_BUTTON).click()
            expect(pg.get_by_role("button", name=TEN_AM)).to_be_visible()
        for pg in pages:  # two clicks in flight at once: the database decides
            pg.get_by_role("button", name=TEN_AM).click(no_wait_after=True)
        outcome = {}
        for i, pg in enumerate(pages):
            expect(pg.locator("#hold-note, #taken-message").first).to_be_visible()
            outcome[i] = "held" if pg.locator("#hold-note").count() else "taken"
        assert sorted(outcome.values()) == ["held", "taken"], outcome
        winner = pages[[i for i, o in outcome.items() if o == "held"][0]]
        loser = pages[[i for i, o in outcome.items() if o == "taken"][0]]

        expect(loser.locator("#taken-message")).to_contain_text("that time was just taken")
        alternatives = loser.locator("#alternatives button")
        expect(alternatives.first).to_be_visible()
        labels = [alt.get_attribute("aria-label") for alt in alternatives.all()]
        assert TEN_AM not in labels
        assert {TEN_AM.replace("10:00", "9:30"), TEN_AM.replace("10:00", "10:30")} <= set(labels), labels
        both_widths(loser, "3-time-taken")

        fill_details(winner)
        winner.get_by_role("button", name="Continue to deposit").click()
        fill_card(winner, "4242 4242 4242 4242")
        winner.get_by_role("button", name="Pay deposit and book").click()
        expect(winner.get_by_role("heading", name="You're booked!")).to_be_visible()
        assert loser.get_by_role("heading", name="You're booked!").count() == 0

        # the loser takes an alternative instead
        loser.get_by_role("button", name="Fri, Jul 3, 2026, 10:30 AM EDT (America/New_York)").click()
        expect(loser.locator("#hold-note")).to_be_visible()
        with clinic.session() as s:
            from sqlmodel import select

            from medspa.domain.scheduling.models import Appointment

            rows = sorted((a.start_at, a.status) for a in s.exec(select(Appointment)))
        assert rows == [(TEN_AM_UTC, "confirmed"), (datetime(2026, 7, 3, 14, 30, tzinfo=timezone.utc), "held")]
    finally:
        for pg in pages:
            pg.context.close()


def test_field_validation_messages(page: Page, engines):
    clinic = build_clinic(*engines)
    actor = Actor.system(clinic.org_id, "test")
    with clinic.session() as s:  # a second location: the page starts by asking where
        uptown = add_location(s, actor, "Uptown", "America/Chicago", address="200 Lake St")
        set_working_hours(s, actor, clinic.provider_ids[0], uptown.id, {d: [(time(9), time(17))] for d in range(7)})
        s.commit()
    page.set_default_timeout(TIMEOUT)
    page.goto(f"/book/{clinic.slug}")
    expect(page.get_by_role("heading", name="Choose a location")).to_be_visible()
    both_widths(page, "0-location")
    page.get_by_role("button", name="Main").click()
    page.get_by_role("button", name="Botox").click()
    page.get_by_role("button", name="Anyone available").click()
    page.get_by_role("button", name=DAY_BUTTON).click()
    page.get_by_role("button", name=TEN_AM).click()
    expect(page.get_by_role("heading", name="Your details")).to_be_visible()
    page.wait_for_url("**step=details**")  # the step's URL is pushed just after the step renders

    # a reload (like a websocket reconnect) keeps the visitor's place and hold
    page.reload()
    expect(page.get_by_role("heading", name="Your details")).to_be_visible()
    expect(page.locator("#hold-note")).to_be_visible()

    page.get_by_role("button", name="Continue to deposit").click()
    expect(page.locator("#first_name-error")).to_have_text("Enter a first name")
    expect(page.locator("#last_name-error")).to_have_text("Enter a last name")
    expect(page.locator("#email-error")).to_have_text("Enter an email address like name@example.com")
    expect(page.locator("#phone-error")).to_have_text(re.compile("phone|mobile", re.I))
    expect(page.get_by_label("First name")).to_have_attribute("aria-invalid", "true")
    both_widths(page, "4-details-errors")

    fill_details(page, email="ava@", phone="123")
    page.get_by_role("button", name="Continue to deposit").click()
    expect(page.locator("#first_name-error")).to_have_count(0)
    expect(page.locator("#email-error")).to_have_text("Enter an email address like name@example.com")
    expect(page.locator("#phone-error")).to_be_visible()
    fill_details(page)
    page.get_by_role("button", name="Continue to deposit").click()

    page.get_by_role("button", name="Pay deposit and book").click()  # empty card
    expect(page.locator("#card_number-error")).to_have_text("Your card number is invalid.")
    expect(page.locator("#exp_month-error")).to_have_text("Your card's expiration month is invalid.")
    expect(page.locator("#cvc-error")).to_have_text("Your card's security code is invalid.")
    fill_card(page, "4242 4242 4242 4241", mm="13", yy="20", cvc="1")
    page.get_by_role("button", name="Pay deposit and book").click()
    expect(page.locator("#card_number-error")).to_have_text("Your card number is invalid.")
    expect(page.locator("#exp_month-error")).to_have_text("Your card's expiration month is invalid.")
    expect(page.locator("#exp_year-error")).to_have_text("Your card's expiration date is in the past.")
    both_widths(page, "5-payment-errors")
    # nothing was booked by the bad attempts; the slot is still held for this visitor
    expect(page.locator("#hold-note")).to_be_visible()


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE], ids=["desktop", "phone"])
def test_unknown_clinic_is_friendly(browser, base_url, viewport):
    ctx = browser.new_context(base_url=base_url, viewport=viewport)
    try:
        pg = ctx.new_page()
        pg.goto("/book/no-such-clinic")
        expect(pg.get_by_role("heading", name="Clinic not found")).to_be_visible(timeout=TIMEOUT)
        pg.goto("/book/%3Cscript%3E")
        expect(pg.get_by_role("heading", name="Clinic not found")).to_be_visible(timeout=TIMEOUT)
        shot(pg, f"not-found-{'phone' if viewport is PHONE else 'desktop'}")
    finally:
        ctx.close()
