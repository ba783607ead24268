"""Intake forms in headless Chromium (issue 17 §2): a client on a phone (390 px) opens the
portal from the confirmation's forms link (/portal/<clinic>?tab=forms), signs in, lands on the
Forms tab, sends the neuromodulator intake with a required question left out (the message
shows next to it), answers it and sends; the staff calendar then shows the visit's block with
"Forms 1/2", the visit panel offers "Fill with client", and the tablet page shows only the form
and then "Thank you ... hand the tablet back".
Screenshots: /tmp/shots/f17/*.png."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from sqlalchemy import create_engine
from sqlmodel import select

from medspa.db import to_sqlalchemy_url
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.identity.models import UserSession
from medspa.domain.identity.service import create_user
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.scheduling.service import hold_slot
from tests.browser.conftest import FROZEN_NOW
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
SHOTS = Path("/tmp/shots/f17")
PHONE = {"width": 390, "height": 844}
_engines: dict[str, object] = {}


def _engine(url: str):
    if url not in _engines:
        _engines[url] = create_engine(to_sqlalchemy_url(url), pool_size=2, max_overflow=4)
    return _engines[url]


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _code(clinic, email: str) -> str:
    with clinic.session() as s:
        msg = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "portal_code", OutboxMessage.to_address == email)
                     .order_by(OutboxMessage.id.desc())).first()
    return re.search(r"\b(\d{6})\b", msg.body).group(1)


def _staff_session(page: Page, base_url: str, clinic, role: str) -> None:
    token = secrets.token_urlsafe(32)
    with clinic.session() as s:
        user = create_user(s, clinic.system, email=f"{role}-{clinic.slug}@example.com", password="forms-password-2026",
                           role=role, display_name="Dana Desk")
        s.add(UserSession(org_id=clinic.org_id, user_id=user.id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                          created_at=FROZEN_NOW, last_seen_at=FROZEN_NOW, expires_at=FROZEN_NOW + timedelta(hours=8)))
        s.commit()
    page.context.add_cookies([{"name": "medspa_session", "value": token, "url": base_url, "httpOnly": True,
                               "sameSite": "Strict"}])


def test_client_fills_intake_on_a_phone_and_staff_see_completion(page: Page, app_urls, base_url):
    clinic = build_clinic(_engine(app_urls[0]), _engine(app_urls[1]))
    email = f"ana-{clinic.slug}@example.com"
    day = date(2026, 7, 2)
    with clinic.session() as s:
        ana = find_or_create_client(s, clinic.system, ClientInput("Ana", "Silva", email, "+12125550147"))
        appt = hold_slot(s, clinic.system, location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=datetime.combine(day, time(10), tzinfo=NY).astimezone(timezone.utc),
                         now=FROZEN_NOW, client_id=ana.id, confirm=True, source="staff")
        s.commit()
        appt_id = appt.id

    # the client, on a phone, from the confirmation's link
    page.set_viewport_size(PHONE)
    page.goto(f"/portal/{clinic.slug}?tab=forms")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a code").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.get_by_label("6-digit code").fill(_code(clinic, email))
    page.get_by_role("button", name="Sign in").click()
    due = page.locator(".due-form")
    expect(due).to_have_count(2)  # lands on the Forms tab: history update + neuromodulator intake
    expect(page.get_by_role("tab", name="Forms")).to_have_attribute("data-state", "active")
    shot(page, "1-portal-forms-list-390")
    page.locator(".due-form[data-form='neuromodulator'] .fill-form").click()
    expect(page.locator("#form-title")).to_have_text("Neuromodulator intake")
    page.locator("#field-areas").fill("Forehead and frown lines")
    page.locator("[data-field='previous_toxin'][data-value='yes']").click()
    page.locator("[data-field='neuromuscular'][data-value='no']").click()
    page.locator("#field-last_toxin").fill("2026-03-01")
    page.locator("#send-form").click()  # "blood thinners" left unanswered
    error = page.locator("#error-blood_thinners")
    expect(error).to_have_text("Choose yes or no")
    expect(page.locator(".field-error")).to_have_count(1)
    # the message sits right under its own question
    box_q, box_e = (page.locator(".form-field[data-field='blood_thinners']").bounding_box(), error.bounding_box())
    assert box_q["y"] <= box_e["y"] <= box_q["y"] + box_q["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    error.scroll_into_view_if_needed()
    shot(page, "2-portal-form-error-390")
    page.locator("[data-field='blood_thinners'][data-value='no']").click()
    page.locator("#send-form").click()
    expect(page.locator("#forms-notice")).to_contain_text("neuromodulator intake is sent")
    expect(page.locator(".due-form[data-form='neuromodulator']")).to_have_attribute("data-done", "true")
    shot(page, "3-portal-forms-sent-390")

    # the front desk's calendar: the visit's block shows the completion
    page.context.clear_cookies()
    _staff_session(page, base_url, clinic, "front_desk")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/calendar?location={clinic.location_id}&day={day.isoformat()}")
    block = page.locator(f".cal-block[data-appointment='{appt_id}']")
    expect(block.locator(".cal-forms")).to_have_text("Forms 1/2")
    block.scroll_into_view_if_needed()
    shot(page, "4-calendar-block")
    block.click()
    expect(page.locator("#detail-forms")).to_have_text("Forms 1/2")
    expect(page.locator("#read-answers")).to_have_count(0)  # the desk never reads answers
    shot(page, "5-visit-panel")
    page.locator(".fill-with-client").first.click()

    # the tablet page: only the form, then the thank-you
    page.set_viewport_size({"width": 820, "height": 1180})
    expect(page.locator("#tablet-title")).to_have_text("Medical history update")
    expect(page.locator("body")).not_to_contain_text("Silva")  # no client data on the tablet
    expect(page.locator("body")).not_to_contain_text(email)
    shot(page, "6-tablet-form")
    for key in ("allergies_any", "medications_any", "pregnant", "breastfeeding", "smoking"):
        page.locator(f"[data-field='{key}'][data-value='no']").click()
    page.locator("#tablet-send").click()
    expect(page.locator("#tablet-thanks")).to_have_text("Thank you")
    expect(page.get_by_text("Please hand the tablet back")).to_be_visible()
    shot(page, "7-tablet-thanks")
    page.goto(f"/calendar?location={clinic.location_id}&day={day.isoformat()}")
    expect(page.locator(f".cal-block[data-appointment='{appt_id}'] .cal-forms")).to_have_text("Forms done")
