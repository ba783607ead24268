"""The client portal /portal/[clinic] in a real browser against the running app.

A client books online (domain services, in the server's database), a front-desk user opens
their record; the client asks for a sign-in code (read here from the outbox table), signs
in, sees the booking and the access log naming the front-desk user, previews and confirms a
cancellation. A second client of the same clinic sees only their own visit.
Screenshots: tests/artifacts/portal-*.png (desktop and phone).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.db import tenant_session, to_sqlalchemy_url
from medspa.domain.clients.service import ClientInput, get_client
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.service import create_user
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from tests.browser.conftest import ARTIFACTS
from tests.factories import build_clinic

PHONE = {"width": 390, "height": 844}
TIMEOUT = 20_000
ANA_AT = datetime(2026, 7, 3, 14, 0, tzinfo=timezone.utc)  # Fri Jul 3, 10:00 AM EDT
BO_AT = datetime(2026, 7, 3, 15, 0, tzinfo=timezone.utc)   # 11:00 AM EDT
ANA_WHEN = "Fri, Jul 3, 2026, 10:00 AM EDT (America/New_York)"
BO_WHEN = "Fri, Jul 3, 2026, 11:00 AM EDT (America/New_York)"


@pytest.fixture(scope="module")
def engines(app_urls):
    app = create_engine(to_sqlalchemy_url(app_urls[0]), pool_size=2)
    owner = create_engine(to_sqlalchemy_url(app_urls[1]), pool_size=1)
    yield app, owner
    app.dispose()
    owner.dispose()


@pytest.fixture(scope="module")
def clinic(engines, frozen_now):
    """A clinic where Ana and Bo booked Botox on Friday and front desk "Dana Desk" opened Ana's record."""
    app, owner = engines
    clinic = build_clinic(app, owner)
    clock = FixedClock(frozen_now)
    gateway = TestPaymentGateway(app, clock.now)
    booked = {}
    for first, start in (("Ana", ANA_AT), ("Bo", BO_AT)):
        req = OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=start,
                            client=ClientInput(first, "Silva", f"{first.lower()}@example.com", "(212) 555-0147"),
                            card=CardDetails("4242 4242 4242 4242", 12, 2030, "123"))
        booked[first] = book_online(app, clinic.public, req, gateway, clock)
    with tenant_session(clinic.org_id, app) as s:
        user = create_user(s, clinic.system, email=f"dana-{clinic.slug}@example.com", password="pw-123456789",
                           role="front_desk", display_name="Dana Desk")
        s.flush()
        get_client(s, Actor(org_id=clinic.org_id, role="front_desk", user_id=user.id, label="Dana Desk"),
                   booked["Ana"].client_id)
        s.commit()
    return clinic


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-{name}.png"), full_page=True)


def outbox_code(engines, clinic, email: str) -> str:
    with tenant_session(clinic.org_id, engines[0]) as s:
        msg = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "portal_code", OutboxMessage.to_address == email)
                     .order_by(OutboxMessage.id.desc())).first()
    assert msg is not None, "no portal_code message in the outbox"
    return re.search(r"\b(\d{6})\b", msg.body).group(1)


def sign_in(page: Page, engines, clinic, email: str, snap: str = "") -> None:
    page.goto(f"/portal/{clinic.slug}")
    expect(page.get_by_role("heading", name="Sign in to your portal")).to_be_visible(timeout=TIMEOUT)
    snap and shot(page, f"1-email-{snap}")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a code").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#portal-info")).to_contain_text("6-digit code is on its way")
    page.get_by_label("6-digit code").fill("000000" if outbox_code(engines, clinic, email) != "000000" else "111111")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#portal-error")).to_contain_text("not right or has expired")
    snap and shot(page, f"2-code-{snap}")
    page.get_by_label("6-digit code").fill(outbox_code(engines, clinic, email))
    page.get_by_role("button", name="Sign in").click()


def test_client_signs_in_sees_booking_and_access_log_then_cancels(page: Page, engines, clinic):
    sign_in(page, engines, clinic, "ana@example.com", snap="desktop")
    expect(page.get_by_role("heading", name="Hi Ana")).to_be_visible(timeout=TIMEOUT)
    upcoming = page.locator("#upcoming")
    expect(upcoming).to_contain_text("Botox")
    expect(upcoming).to_contain_text(ANA_WHEN)
    expect(upcoming).to_contain_text("Provider 1")
    expect(upcoming).to_contain_text("Deposit $50.00 paid")
    expect(page.locator(".visit-card")).to_have_count(1)
    expect(page.get_by_text(BO_WHEN)).to_have_count(0)
    shot(page, "3-visits-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "3-visits-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("tab", name="Record access").click()
    log = page.locator("#access-log")
    expect(log).to_contain_text("Dana Desk", timeout=TIMEOUT)
    expect(log).to_contain_text("Viewed your client record")
    expect(log).to_contain_text("Front desk")
    expect(log).to_contain_text("(America/New_York)")
    shot(page, "4-access-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "4-access-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("tab", name="My details").click()
    expect(page.get_by_text("ana@example.com")).to_be_visible()
    page.locator("#consent-email").click()
    expect(page.locator("#portal-notice")).to_contain_text("preferences are saved")
    expect(page.locator("#consent-email")).to_have_attribute("aria-checked", "true")
    shot(page, "5-details-desktop")

    page.get_by_role("tab", name="Visits").click()
    page.get_by_role("button", name=re.compile("^Cancel Botox")).click()
    expect(page.locator("#cancel-policy")).to_contain_text("deposit of $50.00 will be refunded", timeout=TIMEOUT)
    shot(page, "6-cancel-desktop")
    page.locator("#confirm-cancel").click()
    expect(page.locator("#portal-notice")).to_contain_text("cancelled and your deposit of $50.00 is being refunded",
                                                           timeout=TIMEOUT)
    expect(page.locator("#upcoming")).to_contain_text("No upcoming visits")
    # the visit's time is still ahead: listed as cancelled, not under "Past" (the portal mend)
    expect(page.locator("#cancelled")).to_contain_text("Deposit $50.00 refunded")
    expect(page.locator("#cancelled")).to_contain_text("Cancelled")
    expect(page.locator("#past")).to_contain_text("No past visits yet")
    shot(page, "7-cancelled-desktop")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to your portal")).to_be_visible()


def test_a_second_client_sees_only_their_own_data(browser, base_url, engines, clinic):
    ctx = browser.new_context(base_url=base_url, viewport=PHONE, is_mobile=True, has_touch=True)
    ctx.set_default_timeout(TIMEOUT)
    page = ctx.new_page()
    try:
        sign_in(page, engines, clinic, "bo@example.com", snap="phone")
        expect(page.get_by_role("heading", name="Hi Bo")).to_be_visible(timeout=TIMEOUT)
        expect(page.locator("#upcoming")).to_contain_text(BO_WHEN)
        expect(page.get_by_text(ANA_WHEN)).to_have_count(0)
        expect(page.get_by_text("ana@example.com")).to_have_count(0)
        page.get_by_role("tab", name="Record access").click()
        expect(page.locator("#access-log")).to_contain_text("Created your client record", timeout=TIMEOUT)
        expect(page.locator("#access-log")).not_to_contain_text("Dana Desk")
        shot(page, "8-second-client-phone")
    finally:
        ctx.close()


def test_unknown_clinic_is_not_found(page: Page):
    page.goto("/portal/no-such-clinic-here")
    expect(page.get_by_role("heading", name="Clinic not found")).to_be_visible(timeout=TIMEOUT)
