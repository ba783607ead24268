"""The owners' dashboard /dashboard in headless Chromium against the real app.

The clock is frozen at conftest.FROZEN_NOW (2026-07-01 12:00 in New York), so the page opens
on 2026-06-02..2026-07-01. The test writes a small June history (past visits are written
directly, as tests/test_analytics.py does) and checks the tiles and a drill-down.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.identity.service import create_user
from medspa.domain.payments.models import LedgerEntry
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import new_reference
from tests.browser.test_audit import PASSWORD, _engine, owner_session, sign_in_to_audit
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")


def ny(day: int, hour: int) -> datetime:
    return datetime.combine(date(2026, 6, day), time(hour), tzinfo=NY).astimezone(timezone.utc)


def make_clinic(urls: tuple[str, str]):
    clinic = build_clinic(_engine(urls[0]), _engine(urls[1]))
    tag = clinic.slug
    with clinic.session() as s:
        create_user(s, clinic.system, email=f"owner-{tag}@example.com", password=PASSWORD, role="owner",
                    display_name="Olivia Owner")
        create_user(s, clinic.system, email=f"desk-{tag}@example.com", password=PASSWORD, role="front_desk",
                    display_name="Dana Desk")
        clients = [find_or_create_client(s, clinic.system, ClientInput("Ana", f"Client{n}",
                                                                       f"c{n}.{uuid.uuid4().hex[:6]}@example.com"),
                                         require_contact=False).id for n in range(3)]
        s.flush()

        uptown = Location(org_id=clinic.org_id, name="Uptown", time_zone="America/New_York")
        s.add(uptown)
        s.flush()

        def visit(day: int, hour: int, status: str, client: int, late: bool | None = None,
                  location_id: int | None = None) -> Appointment:
            start = ny(day, hour)
            a = Appointment(org_id=clinic.org_id, reference=new_reference(), location_id=location_id or clinic.location_id,
                            service_id=clinic.services["botox"], provider_id=clinic.provider_ids[0],
                            client_id=client, start_at=start, end_at=start + timedelta(minutes=30), status=status,
                            price_cents=35000, created_at=start - timedelta(days=7), cancellation_late=late)
            s.add(a)
            s.flush()
            return a

        done = [visit(10, 10, "completed", clients[0]), visit(11, 10, "completed", clients[1]),
                visit(12, 10, "completed", clients[2]), visit(20, 10, "completed", clients[0])]
        visit(15, 11, "no_show", clients[1])
        visit(18, 11, "no_show", clients[1], location_id=uptown.id)  # only with "All locations" or Uptown
        visit(16, 11, "cancelled", clients[2], late=True)
        visit(17, 11, "cancelled", clients[0], late=False)
        for appt, kind, amount in ((done[0], "deposit_paid", 5000), (done[1], "deposit_paid", 5000),
                                   (done[2], "deposit_paid", 5000), (done[2], "deposit_refunded", -5000)):
            s.add(LedgerEntry(org_id=clinic.org_id, appointment_id=appt.id, client_id=appt.client_id,
                              entry_type=kind, amount_cents=amount, created_at=appt.start_at))
        s.commit()
    return clinic, f"owner-{tag}@example.com", f"desk-{tag}@example.com"


def tile(page: Page, key: str):
    return page.locator(f".dash-tile[data-key='{key}']")


def test_owner_sees_tiles_and_drills_down(page: Page, app_urls, base_url, screenshot):
    clinic, owner_email, _ = make_clinic(app_urls)
    page.goto("/dashboard")
    page.wait_for_url("**/login?next=/dashboard")
    owner_session(page, base_url, clinic, owner_email)
    page.goto("/dashboard")
    expect(page.locator("#dash-start")).to_have_value("2026-06-02")
    expect(page.locator("#dash-end")).to_have_value("2026-07-01")
    expect(page.locator("#nav-dashboard")).to_be_visible()
    expect(tile(page, "no_show").locator(".dash-tile-value")).to_have_text("33.3%")  # 2 of 6 due
    expect(tile(page, "no_show")).to_contain_text("2 no-shows of 6 due")
    expect(tile(page, "no_show")).to_contain_text("completed + no-shows")  # the definition beside it
    expect(tile(page, "cancellations").locator(".dash-tile-value")).to_have_text("2")
    expect(tile(page, "cancellations")).to_contain_text("1 late")
    expect(tile(page, "new_clients").locator(".dash-tile-value")).to_have_text("3")
    expect(tile(page, "net_revenue").locator(".dash-tile-value")).to_have_text("$100.00")
    # the clinic's first location only: Uptown's no-show drops out
    page.click("#dash-location")
    page.get_by_role("option", name="Main", exact=True).click()
    expect(tile(page, "no_show").locator(".dash-tile-value")).to_have_text("20.0%")  # 1 of 5 due
    expect(tile(page, "no_show")).to_contain_text("1 no-shows of 5 due")
    # booked = 5 visits x 30 min (4 completed + 1 no-show) of 30 days x 8 h = 14,400 min
    expect(tile(page, "booked_util")).to_contain_text("150 of 14,400 min")
    expect(page.locator("#dash-util-chart .recharts-bar-rectangle").first).to_be_visible()

    tile(page, "cancellations").click()
    expect(page.locator("#dash-drill-summary")).to_have_text("2 cancellations, 1 late")
    expect(page.locator(".dash-drill-row")).to_have_count(2)
    tile(page, "net_revenue").click()
    expect(page.locator(".dash-drill-row")).to_have_count(4)
    expect(page.locator("#dash-drill-summary")).to_have_text("4 entries, net $100.00")
    tile(page, "no_show").click()
    expect(page.locator(".dash-drill-row")).to_have_count(5)
    page.wait_for_timeout(500)
    screenshot("dashboard")

    # a narrower range moves the figures
    page.fill("#dash-start", "2026-06-14")
    expect(tile(page, "no_show").locator(".dash-tile-value")).to_have_text("50.0%")  # June 15 no-show, June 20 done
    expect(page.locator(".dash-drill-row")).to_have_count(2)


def test_front_desk_gets_not_found(page: Page, app_urls):
    clinic, _, desk_email = make_clinic(app_urls)
    sign_in_to_audit(page, desk_email)
    page.goto("/calendar")
    expect(page.locator("#nav-calendar")).to_be_visible()
    expect(page.locator("#nav-dashboard")).to_have_count(0)
    page.goto("/dashboard")
    expect(page.locator("#dash-not-found")).to_contain_text("Page not found")
    expect(page.locator(".dash-tile")).to_have_count(0)
