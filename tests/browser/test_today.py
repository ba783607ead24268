"""/today in headless Chromium (issue 15 §3): a provider's "My day" on a phone (390 px) and the
front desk's arrivals on a tablet (1024 px), where one click checks a late client in and the
row moves to "waiting". The app's clock is frozen at conftest.FROZEN_NOW (12:00 in New York)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from sqlalchemy import create_engine

from medspa.clock import FixedClock
from medspa.db import to_sqlalchemy_url
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.scheduling.actions.desk import do_checkout_visit
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.identity.models import UserSession
from medspa.domain.identity.service import create_user
from medspa.domain.scheduling.service import change_status, hold_slot
from tests.browser.conftest import FROZEN_NOW
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
TODAY = date(2026, 7, 1)
_engines: dict[str, object] = {}


def _engine(url: str):
    if url not in _engines:
        _engines[url] = create_engine(to_sqlalchemy_url(url), pool_size=2, max_overflow=4)
    return _engines[url]


def at(h: int, m: int = 0, day: date = TODAY) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).astimezone(timezone.utc)


def make_day(urls: tuple[str, str]):
    """Provider 1's day (Nurse Amy) and provider 2's, with history behind the alerts."""
    clinic = build_clinic(_engine(urls[0]), _engine(urls[1]), providers=2)
    ids = {}
    with clinic.session() as s:
        def client(first: str, last: str, alerts: str = "") -> int:
            email = f"{first.lower()}-{clinic.slug}@example.com"
            c = find_or_create_client(s, clinic.system, ClientInput(first, last, email, "+12125550140"))
            c.alerts = alerts
            s.add(c)
            s.flush()
            return c.id

        def visit(who: int, start: datetime, provider: int = 0, service: str = "botox", *steps: tuple[str, datetime]):
            appt = hold_slot(s, clinic.system, location_id=clinic.location_id, service_id=clinic.services[service],
                             start_at=start, now=at(8, day=date(2026, 6, 1)), provider_id=clinic.provider_ids[provider],
                             client_id=who, confirm=True, source="staff")
            for step, when in steps:
                change_status(s, clinic.system, appt.id, step, now=when)
            return appt.id

        ada, bea = client("Ada", "Moreno"), client("Bea", "Lindqvist", "VIP · numbing cream 20 min before")
        cleo, dan = client("Cleo", "Hart"), client("Dan", "Okafor", "Prefers a female chaperone")
        eve, fay, gus = client("Eve", "Santos"), client("Fay", "Wong"), client("Gus", "Adler")
        ada_before = visit(ada, at(10, day=date(2026, 6, 10)), 0, "botox", ("check_in", at(10, day=date(2026, 6, 10))))
        visit(bea, at(10, day=date(2026, 6, 24)), 0, "botox", ("check_in", at(10, day=date(2026, 6, 24))),
              ("complete", at(10, 30, date(2026, 6, 24))))  # never checked out: she owes $350
        visit(dan, at(11, day=date(2026, 6, 3)), 1, "botox", ("check_in", at(11, day=date(2026, 6, 3))),
              ("complete", at(11, 30, date(2026, 6, 3))))
        visit(ada, at(9), 0, "botox", ("check_in", at(8, 55)), ("complete", at(9, 30)))
        ids["bea"] = visit(bea, at(11, 45), 0)
        visit(cleo, at(13), 0, "facial")
        visit(dan, at(15, 30), 0, "laser")
        visit(gus, at(10), 1, "botox", ("no_show", at(10, 20)))
        visit(eve, at(11, 30), 1, "botox", ("check_in", at(11, 50)))
        visit(fay, at(12, 30), 1, "botox")
        s.commit()
    paid_at = at(10, 30, date(2026, 6, 10))  # Ada paid at checkout: no balance
    do_checkout_visit(clinic.staff_actor(), ada_before, CardDetails("4242 4242 4242 4242", 12, 2030, "123"),
                      clock=FixedClock(paid_at), engine=clinic.engine,
                      gateway=TestPaymentGateway(clinic.engine, lambda: paid_at))
    return clinic, ids


def session_for(page: Page, base_url: str, clinic, role: str, name: str, staff_id: int | None) -> None:
    """Providers sign in with a second factor: hand the browser a server-side session instead
    (HttpOnly cookie, SHA-256 stored), as the sign-in would."""
    token = secrets.token_urlsafe(32)
    with clinic.session() as s:
        user = create_user(s, clinic.system, email=f"{role}-{clinic.slug}@example.com", password="today-password-2026",
                           role=role, display_name=name, staff_id=staff_id)
        s.add(UserSession(org_id=clinic.org_id, user_id=user.id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                          created_at=FROZEN_NOW, last_seen_at=FROZEN_NOW, expires_at=FROZEN_NOW + timedelta(hours=8)))
        s.commit()
    page.context.add_cookies([{"name": "medspa_session", "value": token, "url": base_url, "httpOnly": True,
                               "sameSite": "Strict"}])


def test_my_day_on_a_phone_and_arrivals_check_in(page: Page, app_urls, base_url, screenshot):
    clinic, ids = make_day(app_urls)

    # the provider's own day at phone width
    page.set_viewport_size({"width": 390, "height": 844})
    session_for(page, base_url, clinic, "provider", "Nurse Amy", clinic.provider_ids[0])
    page.goto("/today")
    expect(page.locator("#today-my-list .today-visit")).to_have_count(4)
    expect(page.locator("#today-tabs")).to_have_count(0)  # a provider has one list
    cards = page.locator(".today-visit")
    expect(cards.nth(0).locator(".today-time")).to_have_text("9:00 AM")
    expect(cards.nth(1).locator(".today-client")).to_have_text("Bea Lindqvist")
    expect(cards.nth(1).locator(".today-alert")).to_have_text(["VIP · numbing cream 20 min before",
                                                               "Unpaid balance $350.00"])
    expect(cards.nth(0).locator(".today-alert")).to_have_count(0)  # returning, paid up
    expect(cards.nth(1).locator(".today-status")).to_have_text("15 min late")
    expect(cards.nth(2).locator(".today-alert")).to_have_text(["New client"])
    expect(cards.nth(2).locator(".today-service")).to_have_text("HydraFacial · Room 1")
    expect(page.locator("#today-remaining")).to_have_text("4 visits · 3 to go")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    screenshot("today-my-day-390")
    cards.nth(1).locator(".today-client").click()
    page.wait_for_url("**/clients/*")

    # the front desk at tablet width: arrivals, check the late client in
    page.context.clear_cookies()
    session_for(page, base_url, clinic, "front_desk", "Dana Desk", None)
    page.set_viewport_size({"width": 1024, "height": 900})
    page.goto("/today")
    rows = page.locator(".today-arrival")
    expect(rows).to_have_count(7)
    bea = page.locator(f".today-arrival[data-id='{ids['bea']}']")
    expect(bea).to_have_attribute("data-bucket", "late")
    expect(bea.locator(".today-timing")).to_have_text("15 min late")
    expect(rows.nth(1).locator(".today-timing")).to_have_text("waiting 10 min")
    expect(page.locator("#today-counts")).to_contain_text("1Late")
    bea.locator(".today-check-in").click()
    expect(bea).to_have_attribute("data-bucket", "waiting")
    expect(bea.locator(".today-timing")).to_have_text("just checked in")
    expect(page.locator("#today-notice")).to_have_text("Bea Lindqvist is checked in.")
    expect(bea.locator(".today-check-in")).to_have_count(0)
    screenshot("today-arrivals-1024")
