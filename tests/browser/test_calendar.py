"""Staff sign-in and the live staff calendar, in headless Chromium against the real app.

The app's clock is frozen at conftest.FROZEN_NOW (Wednesday 2026-07-01, 12:00 in New York).
Each test builds its own clinic (New York, two providers working 09:00-17:00 every day, a
treatment room and a laser) and a front-desk login, through the domain services on the
app's own database. Writes "from outside" go through the JSON API of the running app and
through a plain script using the domain services (no Reflex involved): the calendar must
show them without a reload.

RX-1 (module fixture `cluster`): a second app server with WEB_WORKERS=2 and a private
redis-server proves the same across workers, and that Reflex state survives a reload.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time as wall, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, update
from sqlmodel import Session, select

from medspa.clock import FixedClock
from medspa.db import to_sqlalchemy_url
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.identity.service import create_user
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.payments.models import LedgerEntry, Payment
from medspa.domain.practice.models import Organization
from medspa.domain.practice.service import add_resource
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import hold_slot
from tests.browser.conftest import FROZEN_NOW, SERVER_ENV, START_TIMEOUT
from tests.factories import build_clinic
from tests.redis_support import RedisServer

NY = ZoneInfo("America/New_York")
TODAY = FROZEN_NOW.astimezone(NY).date()  # Wednesday 2026-07-01
PASSWORD = "desk-password-2026"
CARD = CardDetails("4242 4242 4242 4242", 12, 2030, "123")
LIVE_TIMEOUT = 15_000  # ms: generous, the measured latency is printed


def at(day: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(day, wall(h, m), tzinfo=NY).astimezone(timezone.utc)


@dataclass
class Desk:
    """A test clinic with a front-desk login."""

    clinic: object
    email: str
    engine: object


_engines: dict[str, object] = {}


def _engine(url: str):
    if url not in _engines:
        # pre-ping: the two-worker cluster's database is stopped and started again when a second
        # module uses that fixture in one run (same URL, so its pooled connections are dead)
        _engines[url] = create_engine(to_sqlalchemy_url(url), pool_size=2, max_overflow=4, pool_pre_ping=True)
    return _engines[url]


def make_desk(urls: tuple[str, str]) -> Desk:
    engine, owner = _engine(urls[0]), _engine(urls[1])
    clinic = build_clinic(engine, owner, providers=2)
    email = f"desk-{clinic.slug}@example.com"
    with clinic.session() as s:
        create_user(s, clinic.system, email=email, password=PASSWORD, role="front_desk", display_name="Dana Desk")
        s.commit()
    return Desk(clinic, email, engine)


def new_client(desk: Desk, first: str, last: str) -> int:
    with desk.clinic.session() as s:
        c = find_or_create_client(s, desk.clinic.system,
                                  ClientInput(first, last, f"{first.lower()}.{uuid.uuid4().hex[:6]}@example.com",
                                              "(212) 555-0147"), require_contact=False)
        s.commit()
        return c.id


def script_booking(desk: Desk, start: datetime, first: str, last: str, provider: int | None = None,
                   service: str = "botox") -> Appointment:
    """A write from outside the UI: the domain services in this (test) process."""
    client_id = new_client(desk, first, last)
    with desk.clinic.session() as s:
        appt = hold_slot(s, desk.clinic.staff_actor(), location_id=desk.clinic.location_id,
                         service_id=desk.clinic.services[service], start_at=start, now=FROZEN_NOW,
                         provider_id=provider, client_id=client_id, source="staff", confirm=True)
        s.commit()
        return appt


def paid_booking(desk: Desk, start: datetime, first: str) -> Appointment:
    clock = FixedClock(FROZEN_NOW - timedelta(days=3))
    req = OnlineBooking(location_id=desk.clinic.location_id, service_id=desk.clinic.services["botox"], start_at=start,
                        client=ClientInput(first, "Paid", f"{first.lower()}.{uuid.uuid4().hex[:6]}@example.com",
                                           "(212) 555-0147"), card=CARD)
    return book_online(desk.engine, desk.clinic.public, req, TestPaymentGateway(desk.engine, clock.now), clock)


def status_in_db(desk: Desk, appointment_id: int) -> str:
    with desk.clinic.session() as s:
        return s.exec(select(Appointment.status).where(Appointment.id == appointment_id)).one()


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.click("#login-submit")
    page.wait_for_url("**/calendar**")
    # let the first calendar load finish before navigating on: a reload racing it can wait for the
    # Redis state lock (first contention on a cold worker), which is Reflex's business, not ours
    expect(page.locator("#calendar")).not_to_have_attribute("data-version", "0", timeout=LIVE_TIMEOUT)


def open_day(page: Page, desk: Desk, day: date, **params: str) -> None:
    query = "&".join(f"{k}={v}" for k, v in {"location": desk.clinic.location_id, "day": day.isoformat(),
                                             "view": "providers", "span": "day", **params}.items())
    page.goto(f"/calendar?{query}")
    expect(page.locator("#calendar")).to_have_attribute("data-day", day.isoformat(), timeout=LIVE_TIMEOUT)
    expect(page.locator("#calendar")).to_have_attribute("data-span", params.get("span", "day"))


def block(page: Page, appointment_id: int):
    return page.locator(f".cal-block[data-appointment='{appointment_id}']")


def appears(page: Page, selector: str) -> float:
    """Wait (generously) until `selector` is in the DOM; seconds it took."""
    t0 = time.monotonic()
    page.wait_for_selector(selector, timeout=LIVE_TIMEOUT)
    return time.monotonic() - t0


# --------------------------------------------------------------------------- sign-in


def test_sign_in_wrong_password_then_calendar_and_sign_out(page: Page, app_urls, screenshot):
    desk = make_desk(app_urls)
    page.goto("/calendar")
    page.wait_for_url("**/login?next=/calendar")  # staff pages send strangers to sign in
    page.fill("#login-email", desk.email)
    page.fill("#login-password", "not-the-password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("Email or password is incorrect")
    assert page.url.endswith("/login?next=/calendar&error=1")  # the form POST came back with the error
    screenshot("login-error")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/calendar")
    expect(page.locator("#staff-name")).to_have_text("Dana Desk")
    expect(page.locator("#calendar")).to_have_attribute("data-today", TODAY.isoformat())
    expect(page.locator("#cal-title")).to_have_text("Wednesday, July 1, 2026")
    expect(page.locator("#cal-zone")).to_have_text("EDT · America/New_York")
    cookie = next(c for c in page.context.cookies() if c["name"] == "medspa_session")
    assert cookie["sameSite"] == "Strict" and len(cookie["value"]) >= 40
    page.click("#account-menu-button")  # below 1640 px Sign out is in the account menu
    page.click("#account-menu-sign-out")
    page.wait_for_url("**/login")
    page.goto("/calendar")
    page.wait_for_url("**/login?next=/calendar")  # the session was revoked on the server


# --------------------------------------------------------------------------- live


def test_bookings_from_the_api_and_a_script_appear_without_reload(page: Page, app_urls, screenshot):
    desk = make_desk(app_urls)
    friday = TODAY + timedelta(days=2)
    sign_in(page, desk.email)
    open_day(page, desk, friday)
    expect(page.locator(".cal-block")).to_have_count(0)
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    version = int(page.get_attribute("#calendar", "data-version"))

    # 1. the public JSON API of the running app (hold, deposit, confirm)
    response = page.request.post(f"/api/v1/{desk.clinic.slug}/bookings", data={
        "location_id": desk.clinic.location_id, "service_id": desk.clinic.services["botox"],
        "provider_id": desk.clinic.provider_ids[0], "start": at(friday, 10).astimezone(NY).isoformat(),
        "client": {"first_name": "Aiko", "last_name": "Tanaka", "email": "aiko@example.com",
                   "phone": "+1 212 555 0111"},
        "payment": {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    assert response.status == 201, response.text()
    api_latency = appears(page, ".cal-block .cal-client:has-text('Aiko Tanaka')")

    # 2. a script writing through the domain services (no HTTP, no Reflex)
    appt = script_booking(desk, at(friday, 13, 30), "Bruno", "Costa", provider=desk.clinic.provider_ids[1])
    script_latency = appears(page, f".cal-block[data-appointment='{appt.id}']")
    print(f"\n[live] API booking -> DOM {api_latency * 1000:.0f} ms; script booking -> DOM "
          f"{script_latency * 1000:.0f} ms")

    aiko = page.locator(".cal-block", has_text="Aiko Tanaka")
    expect(aiko).to_have_attribute("data-status", "confirmed")
    expect(aiko).to_contain_text("10:00 AM – 10:30 AM")
    expect(aiko).to_contain_text("Botox")
    expect(block(page, appt.id)).to_contain_text("Bruno Costa")
    expect(block(page, appt.id)).to_contain_text("1:30 PM – 2:00 PM")
    expect(page.locator("#cal-count")).to_have_text("2 appointments")
    assert navigations == []  # no reload happened
    assert int(page.get_attribute("#calendar", "data-version")) >= version + 2
    screenshot("calendar-day")


def test_check_in_and_cancel_from_the_details_panel(page: Page, app_urls, screenshot):
    desk = make_desk(app_urls)
    visit = script_booking(desk, at(TODAY, 14), "Chloe", "Martin", provider=desk.clinic.provider_ids[0])
    paid = paid_booking(desk, at(TODAY, 15), "Dmitri")          # today: inside the 24-hour window
    later = paid_booking(desk, at(TODAY + timedelta(days=5), 11), "Elena")  # outside it
    sign_in(page, desk.email)
    open_day(page, desk, TODAY)
    expect(page.locator("#cal-now")).to_be_visible()  # the current-time line (12:00 PM)

    block(page, visit.id).click()
    panel = page.locator("#detail-panel")
    expect(panel.locator("#detail-client")).to_have_text("Chloe Martin")
    expect(panel.locator("#detail-profile-link")).to_have_attribute("href", f"/clients/{visit.client_id}")
    expect(panel.locator("#detail-time")).to_have_text("2:00 PM – 2:30 PM EDT (America/New_York)")
    expect(panel.locator("#detail-phone")).to_have_text("+1 212-555-0147")
    expect(panel.locator("#detail-status")).to_have_text("Confirmed")
    screenshot("calendar-detail")
    panel.locator("#detail-check-in").click()
    expect(panel.locator("#detail-status")).to_have_text("Checked in")
    expect(panel.locator("#detail-notice")).to_have_text("Checked in")
    expect(block(page, visit.id)).to_have_attribute("data-status", "checked_in")
    assert status_in_db(desk, visit.id) == "checked_in"
    expect(panel.locator("#detail-check-in")).to_have_count(0)

    block(page, paid.id).click()
    expect(panel.locator("#detail-client")).to_have_text("Dmitri Paid")
    expect(panel.locator("#detail-deposit")).to_have_text("$50.00")
    panel.locator("#detail-cancel").click()
    expect(panel.locator("#detail-cancel-policy")).to_have_text(
        "Inside the 24-hour window: the $50.00 deposit will be kept.")
    panel.locator("#detail-cancel-confirm").click()
    expect(panel.locator("#detail-status")).to_have_text("Cancelled")
    expect(panel.locator("#detail-notice")).to_have_text("Cancelled · $50.00 deposit kept")
    expect(block(page, paid.id)).to_have_count(0)  # cancelled visits are hidden by default...
    page.locator("#cal-show-cancelled").click()
    expect(block(page, paid.id)).to_have_attribute("data-status", "cancelled")  # ...and shown greyed
    assert status_in_db(desk, paid.id) == "cancelled"
    with desk.clinic.session() as s:
        kinds = s.exec(select(LedgerEntry.entry_type).where(LedgerEntry.appointment_id == paid.id)
                       .order_by(LedgerEntry.id)).all()
    assert kinds == ["deposit_paid", "processing_fee", "deposit_forfeited"]

    # five days ahead: cancelling refunds the deposit
    open_day(page, desk, TODAY + timedelta(days=5))
    block(page, later.id).click()
    panel.locator("#detail-cancel").click()
    expect(panel.locator("#detail-cancel-policy")).to_have_text(
        "More than 24 hours ahead: the $50.00 deposit will be refunded.")
    panel.locator("#detail-cancel-confirm").click()
    expect(panel.locator("#detail-notice")).to_have_text("Cancelled · $50.00 deposit refunded")
    with desk.clinic.session() as s:
        assert s.exec(select(Payment.status).where(Payment.appointment_id == later.id)).one() == "refunded"


def test_week_and_rooms_views_show_the_booking(page: Page, app_urls, screenshot):
    desk = make_desk(app_urls)
    thursday = TODAY + timedelta(days=1)
    facial = script_booking(desk, at(thursday, 11), "Farah", "Haddad", service="facial")
    script_booking(desk, at(thursday, 9, 30), "Gus", "Ito", provider=desk.clinic.provider_ids[1])
    sign_in(page, desk.email)
    open_day(page, desk, thursday, span="week")
    chip = page.locator(f"[data-week-appointment='{facial.id}']")
    expect(chip).to_contain_text("11:00 AM")
    expect(chip).to_contain_text("Farah Haddad")
    # the paperwork still missing is an amber dot named in its title, as the day's chips name it
    expect(chip.locator(".week-paperwork")).to_have_attribute("title", re.compile(r"^Still missing: Forms 0/1"))
    expect(page.locator("#cal-title")).to_have_text("Jun 29 – Jul 5, 2026")
    expect(page.locator("[data-week-day='2026-07-02']")).to_contain_text("2 booked")
    page.wait_for_timeout(300)  # let the segmented control's slide settle (screenshot only)
    screenshot("calendar-week")

    page.get_by_role("radio", name="Day").click()
    expect(page.locator("#calendar")).to_have_attribute("data-span", "day")
    page.get_by_role("radio", name="Rooms & devices").click()
    expect(page.locator("#calendar")).to_have_attribute("data-view", "rooms")
    expect(page.locator("[data-column]")).to_have_count(2)  # Room 1 and the GentleMax laser
    expect(block(page, facial.id)).to_contain_text("Farah Haddad")
    expect(block(page, facial.id)).to_contain_text("HydraFacial")
    expect(page.locator(".cal-block")).to_have_count(1)  # the Botox visit needs no room
    page.wait_for_timeout(300)  # let the segmented control's slide settle (screenshot only)
    screenshot("calendar-rooms")

    # a week view is live too
    page.get_by_role("radio", name="Week").click()
    expect(page.locator("#calendar")).to_have_attribute("data-span", "week")
    late = script_booking(desk, at(TODAY + timedelta(days=3), 16), "Hana", "Jung")
    appears(page, f"[data-week-appointment='{late.id}']")


def panel_is_beside_the_grid(page: Page) -> None:
    """The open panel covers neither the grid nor the toolbar (the page narrows beside it)."""
    panel = page.locator("#detail-panel").bounding_box()
    for selector in ("#cal-grid", "#cal-span", "#cal-next"):
        box = page.locator(selector).bounding_box()
        assert box["x"] + box["width"] <= panel["x"] + 1, f"{selector} is under the detail panel"


def test_detail_panel_closes_on_navigation_and_follows_the_clicked_block(page: Page, app_urls, screenshot):
    desk = make_desk(app_urls)
    thursday = TODAY + timedelta(days=1)
    p1, p2 = desk.clinic.provider_ids
    a = script_booking(desk, at(thursday, 10), "Amira", "Sayed", provider=p1)
    b = script_booking(desk, at(thursday, 11), "Bram", "Vos", provider=p2)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, desk.email)
    open_day(page, desk, thursday)
    panel = page.locator("#detail-panel")
    calendar = page.locator("#calendar")

    # block A, then block B: the panel switches to B
    block(page, a.id).click()
    expect(panel.locator("#detail-client")).to_have_text("Amira Sayed")
    panel_is_beside_the_grid(page)
    page.wait_for_timeout(300)  # let the segmented control's slide settle (screenshot only)
    screenshot("calendar-day-panel")
    block(page, b.id).click()
    expect(panel.locator("#detail-client")).to_have_text("Bram Vos")
    expect(panel).to_have_attribute("data-appointment-id", str(b.id))

    # next day: the panel closes
    page.locator("#cal-next").click()
    expect(calendar).to_have_attribute("data-day", (thursday + timedelta(days=1)).isoformat())
    expect(panel).to_have_count(0)

    # previous day, open A, switch to Week: the panel closes and the week is visible
    page.locator("#cal-prev").click()
    expect(calendar).to_have_attribute("data-day", thursday.isoformat())
    block(page, a.id).click()
    expect(panel.locator("#detail-client")).to_have_text("Amira Sayed")
    page.get_by_role("radio", name="Week").click()
    expect(calendar).to_have_attribute("data-span", "week")
    expect(panel).to_have_count(0)
    expect(page.locator("#cal-week")).to_be_visible()
    expect(page.locator(f"[data-week-appointment='{a.id}']")).to_be_visible()

    # a chip of the week opens the panel; Day closes it
    page.locator(f"[data-week-appointment='{b.id}']").click()
    expect(panel.locator("#detail-client")).to_have_text("Bram Vos")
    page.get_by_role("radio", name="Day").click()
    expect(calendar).to_have_attribute("data-span", "day")
    expect(panel).to_have_count(0)

    # Providers -> Rooms & devices closes it
    block(page, a.id).click()
    expect(panel.locator("#detail-client")).to_have_text("Amira Sayed")
    page.get_by_role("radio", name="Rooms & devices").click()
    expect(calendar).to_have_attribute("data-view", "rooms")
    expect(panel).to_have_count(0)

    # the date picker and Today close it
    page.get_by_role("radio", name="Providers").click()
    expect(calendar).to_have_attribute("data-view", "providers")
    block(page, a.id).click()
    expect(panel).to_be_visible()
    page.locator("#cal-date").fill((thursday + timedelta(days=4)).isoformat())
    expect(calendar).to_have_attribute("data-day", (thursday + timedelta(days=4)).isoformat())
    expect(panel).to_have_count(0)
    open_day(page, desk, thursday)
    block(page, b.id).click()
    expect(panel).to_be_visible()
    page.locator("#cal-today").click()
    expect(calendar).to_have_attribute("data-day", TODAY.isoformat())
    expect(panel).to_have_count(0)


def test_header_names_the_clinic_and_rooms_show_full_names(page: Page, app_urls, screenshot):
    desk = make_desk(app_urls)
    with Session(_engine(app_urls[1])) as s:  # the app role may not rename a clinic
        s.execute(update(Organization).where(Organization.id == desk.clinic.org_id).values(name="Lumière Aesthetics"))
        s.commit()
    with desk.clinic.session() as s:
        loc = desk.clinic.location_id
        add_resource(s, desk.clinic.system, loc, "room", "Treatment Room 2 – Laser Suite North", "treatment_room")
        add_resource(s, desk.clinic.system, loc, "room", "Treatment Room 2 – Laser Suite South", "treatment_room")
        add_resource(s, desk.clinic.system, loc, "room", "Facial Room", "facial_room")
        add_resource(s, desk.clinic.system, loc, "device", "CoolSculpting Elite (Body)", "coolsculpting")
        add_resource(s, desk.clinic.system, loc, "device", "BBL HERO", "ipl_bbl")
        s.commit()
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, desk.email)
    expect(page.locator("#clinic-name")).to_have_text("Lumière Aesthetics")
    open_day(page, desk, TODAY + timedelta(days=1), view="rooms")
    expect(page.locator("[data-column]")).to_have_count(7)

    def header(name: str):
        return page.locator("[data-column]", has=page.locator(".cal-col-name", has_text=name))

    for name, subtitle in [("Treatment Room 2 – Laser Suite North", "Room · Treatment room"),
                           ("Treatment Room 2 – Laser Suite South", "Room · Treatment room"),
                           ("Facial Room", "Room"), ("CoolSculpting Elite (Body)", "Device · Coolsculpting"),
                           ("BBL HERO", "Device · IPL / BBL"), ("GentleMax", "Device · Laser")]:
        col = header(name)
        expect(col.locator(".cal-col-name")).to_have_text(name)
        expect(col.locator(".cal-col-sub")).to_have_text(subtitle)
        # the whole name is on screen: not cut off by an ellipsis or the line clamp
        clipped = col.locator(".cal-col-name").evaluate(
            "el => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1")
        assert not clipped, f"{name!r} is truncated"
    page.wait_for_timeout(300)  # let the segmented control's slide settle (screenshot only)
    screenshot("calendar-rooms-1440")
    page.get_by_role("radio", name="Week").click()
    expect(page.locator("#calendar")).to_have_attribute("data-span", "week")
    page.wait_for_timeout(300)
    screenshot("calendar-week-1440")


def test_book_a_client_from_an_empty_cell(page: Page, app_urls, screenshot):
    desk = make_desk(app_urls)
    new_client(desk, "Ingrid", "Larsen")
    thursday = TODAY + timedelta(days=1)
    p2 = desk.clinic.provider_ids[1]
    sign_in(page, desk.email)
    open_day(page, desk, thursday)
    page.locator(f".cal-slot[data-slot-column='{p2}'][data-slot-minute='600']").click()
    dialog = page.locator("#book-dialog")
    expect(dialog.locator("#book-when")).to_have_text("Thursday, July 2, 2026 · 10:00 AM EDT · Provider 2")
    expect(dialog.locator("#book-provider")).to_have_text("Provider 2")
    # issue 15: the starts are that provider's free ones for the service, so a service comes first
    expect(dialog.locator("#book-times-note")).to_have_text("Choose a service to see the free start times.")
    dialog.locator("#book-search").fill("Ingr")
    dialog.locator("[data-client-id]", has_text="Ingrid Larsen").click()
    expect(dialog.locator("#book-client-picked")).to_have_text("Ingrid Larsen")
    expect(dialog.locator("#book-client-profile")).to_have_attribute("href", re.compile(r"^/clients/\d+$"))
    dialog.locator("#book-service").click()
    page.get_by_role("option", name="Botox · 30 min · $350.00").click()
    expect(dialog.locator("#book-time")).to_have_text("10:00 AM EDT")  # the clicked cell, free: picked
    expect(dialog.locator("#book-times-note")).to_have_count(0)
    screenshot("calendar-book")
    dialog.locator("#book-submit").click()
    expect(dialog).to_have_count(0)
    booked = page.locator(".cal-block", has_text="Ingrid Larsen")
    expect(booked).to_contain_text("10:00 AM – 10:30 AM")
    with desk.clinic.session() as s:
        appt = s.exec(select(Appointment).where(Appointment.location_id == desk.clinic.location_id)).one()
    assert (appt.status, appt.source, appt.provider_id, appt.deposit_cents) == ("confirmed", "staff", p2, 0)
    assert appt.start_at == at(thursday, 10)

    # a new client; the taken 10:00 (and 10:15, which would overlap it) are not offered at all
    page.locator(f".cal-slot[data-slot-column='{p2}'][data-slot-minute='660']").click()
    dialog.locator("#book-new-client").click()
    dialog.locator("#book-first").fill("Jonas")
    dialog.locator("#book-last").fill("Berg")
    dialog.locator("#book-phone").fill("(646) 555-0100")
    dialog.locator("#book-service").click()
    page.get_by_role("option", name="Botox · 30 min · $350.00").click()
    expect(dialog.locator("#book-time")).to_have_text("11:00 AM EDT")
    dialog.locator("#book-time").click()
    expect(page.get_by_role("option", name="10:30 AM EDT")).to_be_visible()
    expect(page.get_by_role("option", name="10:00 AM EDT")).to_have_count(0)
    expect(page.get_by_role("option", name="10:15 AM EDT")).to_have_count(0)
    expect(page.get_by_role("option", name="4:45 PM EDT")).to_have_count(0)  # would end after 5:00 PM
    page.get_by_role("option", name="11:00 AM EDT").click()
    dialog.locator("#book-submit").click()
    expect(page.locator(".cal-block", has_text="Jonas Berg")).to_contain_text("11:00 AM – 11:30 AM")


# --------------------------------------------------------------------------- RX-1: two workers + Redis


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cluster:
    base_url: str
    app_url: str
    owner_url: str
    redis: RedisServer  # the cluster's private redis-server (restartable)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A second app server: WEB_WORKERS=2, Reflex state in a private redis-server."""
    from medspa.embedded_db import ensure_embedded, stop_server
    from tests.browser.conftest import _claim_slot, _copy_app, _log_tail, _ping, _stop

    redis = RedisServer(tmp_path_factory.mktemp("redis"))
    redis.start()
    slot, lock = _claim_slot()
    app_dir, log_path = slot / "app", slot / "serve.log"
    _copy_app(app_dir)
    app_url, owner_url = ensure_embedded(slot, "medspa", recreate=True)
    port = _free_port()
    base_url = f"http://localhost:{port}"
    env = {**SERVER_ENV, "REDIS_URL": redis.url, "WEB_WORKERS": "2"}
    cmd = ["env", *(f"{k}={v}" for k, v in env.items()), sys.executable, "-m", "medspa.cli", "serve", "--port",
           str(port), "--var-dir", str(slot), "--app-dir", str(app_dir)]
    t0 = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while not _ping(base_url):
            if proc.poll() is not None:
                pytest.fail(f"second server exited with {proc.returncode}:\n{_log_tail(log_path)}")
            if time.monotonic() - t0 > START_TIMEOUT:
                pytest.fail(f"second server not up after {START_TIMEOUT} s:\n{_log_tail(log_path)}")
            time.sleep(0.5)
        print(f"\n[rx-1] 2 workers + redis up at {base_url} in {time.monotonic() - t0:.1f} s")
        yield Cluster(base_url, app_url, owner_url, redis)
    finally:
        _stop(proc)
        stop_server(slot)
        lock.close()
        redis.stop()


def _loads(pg: Page) -> int:
    return int(pg.get_attribute("#calendar", "data-loads") or 0)


def reload_tabs(pages: list[Page], url: str = "") -> list[str]:
    """Reload the tabs (or open `url` in them) at the same moment, so each gets a new websocket;
    returns the worker each tab's on_load ran on."""
    before = [_loads(pg) for pg in pages]
    for pg in pages:
        pg.evaluate("url => setTimeout(() => url ? location.assign(url) : location.reload(), 0)", url)
    for pg, n in zip(pages, before):
        # the reloaded tab gets its state back from Redis (n), then on_load runs once more
        expect(pg.locator("#calendar")).to_have_attribute("data-loads", str(n + 1), timeout=LIVE_TIMEOUT)
    return [pg.get_attribute("#calendar", "data-worker") for pg in pages]


def test_rx1_two_workers_share_live_updates_and_state_survives_reload(browser, cluster):
    desk = make_desk((cluster.app_url, cluster.owner_url))
    friday = TODAY + timedelta(days=2)
    contexts, tabs = [], []
    try:
        for _ in range(2):
            ctx = browser.new_context(base_url=cluster.base_url, viewport={"width": 1280, "height": 900})
            ctx.set_default_timeout(20_000)
            contexts.append(ctx)
            pg = ctx.new_page()
            sign_in(pg, desk.email)
            open_day(pg, desk, friday)
            expect(pg.locator("#calendar")).not_to_have_attribute("data-loads", "0")
            tabs.append(pg)
        # reconnect both tabs together until they are served by different workers
        workers = [pg.get_attribute("#calendar", "data-worker") for pg in tabs]
        for _ in range(40):
            if workers[0] != workers[1]:
                break
            workers = reload_tabs(tabs)
        assert workers[0] != workers[1], f"both tabs stayed on worker {workers[0]}"
        a, b = tabs

        # a write from outside the UI (domain script), then one through the API: both tabs see both
        appt = script_booking(desk, at(friday, 9), "Kai", "Nakamura")
        latencies = [appears(pg, f".cal-block[data-appointment='{appt.id}']") for pg in (a, b)]
        response = a.request.post(f"/api/v1/{desk.clinic.slug}/bookings", data={
            "location_id": desk.clinic.location_id, "service_id": desk.clinic.services["botox"],
            "provider_id": desk.clinic.provider_ids[1], "start": at(friday, 15).astimezone(NY).isoformat(),
            "client": {"first_name": "Lena", "last_name": "Vogel", "email": "lena@example.com",
                       "phone": "+1 212 555 0123"},
            "payment": {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
        assert response.status == 201, response.text()
        latencies += [appears(pg, ".cal-block .cal-client:has-text('Lena Vogel')") for pg in (a, b)]
        print(f"\n[rx-1] workers {workers}: write -> DOM {[round(x * 1000) for x in latencies]} ms")

        # a cancellation in tab A (a Reflex event on one worker) disappears from tab B (the other)
        block(a, appt.id).click()
        a.locator("#detail-cancel").click()
        a.locator("#detail-cancel-confirm").click()
        expect(a.locator("#detail-status")).to_have_text("Cancelled")
        expect(block(b, appt.id)).to_have_count(0, timeout=LIVE_TIMEOUT)
        assert status_in_db(desk, appt.id) == "cancelled"

        # state set by an event survives a reconnect: next day, then reload the bare URL
        b.locator("#cal-next").click()
        saturday = (friday + timedelta(days=1)).isoformat()
        expect(b.locator("#calendar")).to_have_attribute("data-day", saturday)
        first_worker, seen = workers[1], []
        for _ in range(40):  # reconnect until the tab lands on the other worker
            seen += reload_tabs([b], "/calendar")  # the bare URL: no ?day= to fall back on
            expect(b.locator("#calendar")).to_have_attribute("data-day", saturday)
            expect(b.locator("#cal-title")).to_have_text("Saturday, July 4, 2026")
            if seen[-1] != first_worker:
                break
        print(f"[rx-1] reloads landed on {seen} (state set on {first_worker})")
        assert seen[-1] != first_worker, "no reload landed on the other worker"
        # ...and the reloaded tab is live again, whichever worker it landed on now
        late = script_booking(desk, at(friday + timedelta(days=1), 12), "Mara", "Olsen")
        appears(b, f".cal-block[data-appointment='{late.id}']")
    finally:
        for ctx in contexts:
            ctx.close()
