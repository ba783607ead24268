"""The treatment chart /chart/<appointment_id> in headless Chromium against the real app.

A provider (nurse injector) opens the chart from the calendar's detail panel, sees a per-field
message, adds a Botox line and signs; the signed chart is read-only. The front desk sees no
"Open chart" link and gets "not found" at the URL. The app's clock is frozen at
conftest.FROZEN_NOW (Wednesday 2026-07-01, 12:00 in New York).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlmodel import select

from medspa.domain.clinical.models import TreatmentLine, TreatmentNote
from medspa.domain.identity.models import UserSession
from medspa.domain.identity.service import create_user
from tests.browser.conftest import FROZEN_NOW
from tests.consent_support import sign_required_consents
from tests.browser.test_calendar import LIVE_TIMEOUT, TODAY, at, block, make_desk, open_day, script_booking, sign_in


def provider_session(page: Page, base_url: str, desk) -> None:
    """Providers sign in with a second factor (TOTP): instead of enrolling one, hand the browser
    a server-side session of the nurse, as the sign-in would (HttpOnly cookie, SHA-256 stored)."""
    token = secrets.token_urlsafe(32)
    with desk.clinic.session() as s:
        user = create_user(s, desk.clinic.system, email=f"nurse-{desk.clinic.slug}@example.com",
                           password="nurse-password-2026", role="provider", display_name="Nurse Amy",
                           staff_id=desk.clinic.provider_ids[0])  # the visit's provider (issue 18: who signs)
        s.add(UserSession(org_id=desk.clinic.org_id, user_id=user.id,
                          token_hash=hashlib.sha256(token.encode()).hexdigest(), created_at=FROZEN_NOW,
                          last_seen_at=FROZEN_NOW, expires_at=FROZEN_NOW + timedelta(hours=8)))
        s.commit()
    page.context.add_cookies([{"name": "medspa_session", "value": token, "url": base_url, "httpOnly": True,
                               "sameSite": "Strict"}])


def test_provider_charts_a_botox_visit_and_signs(page: Page, app_urls, base_url, screenshot):
    desk = make_desk(app_urls)
    visit = script_booking(desk, at(TODAY, 14), "Mira", "Lopez", provider=desk.clinic.provider_ids[0])
    sign_required_consents(desk.clinic, visit.id)  # the chart gate (issue 17): the consent is signed
    provider_session(page, base_url, desk)
    open_day(page, desk, TODAY)
    block(page, visit.id).click()
    expect(page.locator("#detail-panel")).to_have_attribute("data-appointment-id", str(visit.id))
    expect(page.locator("#detail-open-chart")).to_be_visible()
    screenshot("chart-calendar-panel")
    page.click("#detail-open-chart")
    page.wait_for_url(f"**/chart/{visit.id}")

    expect(page.locator("#chart-client")).to_have_text("Mira Lopez", timeout=LIVE_TIMEOUT)
    expect(page.locator("#chart-time")).to_have_text("2:00 PM – 2:30 PM EDT (America/New_York)")
    expect(page.locator("#chart-date")).to_have_text("Wednesday, July 1, 2026")
    expect(page.locator("#chart-status")).to_have_text("Draft · version 1")

    row = page.locator(".chart-line").first
    row.locator(".line-product input").fill("Botox")
    row.locator(".line-units input").fill("250")  # too many, and no lot: messages next to the fields
    row.locator(".line-area").click()
    page.get_by_role("option", name="Glabella").click()
    page.click("#chart-save")
    expect(row).to_contain_text("Enter the lot number (required for injectables)")
    expect(row).to_contain_text("At most 200 units per line")
    expect(page.locator("#chart-error")).to_have_text("Check the highlighted fields.")
    screenshot("chart-validation")

    row.locator(".line-lot-number input").fill("C3709C3")
    row.locator(".line-units input").fill("20")
    page.click("#chart-add-line")  # an extra row, removed again
    expect(page.locator(".chart-line")).to_have_count(2)
    page.locator(".chart-line").nth(1).locator(".line-remove").click()
    expect(page.locator(".chart-line")).to_have_count(1)
    page.fill("#chart-note", "Glabellar lines, 5 points. Aftercare explained.")
    page.click("#chart-save")
    expect(page.locator("#chart-notice")).to_have_text("Draft saved.")
    expect(page.locator(".field-error")).to_have_count(0)

    page.click("#chart-sign")
    page.click("#chart-sign-confirm")
    expect(page.locator("#chart-status")).to_have_text("Signed · version 1")
    expect(page.locator("#chart-signed")).to_have_text("Signed by Nurse Amy, July 1, 2026 at 12:00 PM EDT")
    line = page.locator(".chart-line")
    expect(line).to_have_count(1)
    expect(line).to_contain_text("Botox")
    expect(line).to_contain_text("C3709C3")
    expect(line).to_contain_text("20")
    expect(line).to_contain_text("glabella")
    expect(page.locator("#chart-lines input")).to_have_count(0)  # read-only: no inputs, no Save, no Sign
    expect(page.locator("#chart-save")).to_have_count(0)
    expect(page.locator("#chart-sign")).to_have_count(0)
    expect(page.locator("#chart-amend")).to_be_visible()
    expect(page.locator("#chart-note-text")).to_have_text("Glabellar lines, 5 points. Aftercare explained.")
    screenshot("chart-signed")

    with desk.clinic.session() as s:
        note = s.exec(select(TreatmentNote).where(TreatmentNote.appointment_id == visit.id)).one()
        lines = s.exec(select(TreatmentLine).where(TreatmentLine.note_id == note.id)).all()
    assert (note.status, note.version, note.signed_at) == ("signed", 1, FROZEN_NOW)
    assert [(ln.product, ln.lot_number, ln.units_tenths, ln.treatment_area) for ln in lines] == [
        ("Botox", "C3709C3", 200, "glabella")]


def test_front_desk_has_no_chart_link_and_gets_not_found(page: Page, app_urls, screenshot):
    desk = make_desk(app_urls)
    visit = script_booking(desk, at(TODAY, 15), "Noor", "Haddad")
    sign_in(page, desk.email)
    open_day(page, desk, TODAY)
    block(page, visit.id).click()
    expect(page.locator("#detail-panel")).to_have_attribute("data-appointment-id", str(visit.id))
    expect(page.locator("#detail-client")).to_have_text("Noor Haddad")
    expect(page.locator("#detail-open-chart")).to_have_count(0)
    page.goto(f"/chart/{visit.id}")
    expect(page.locator("#chart-not-found")).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(page.locator("#chart-client")).to_have_count(0)
    screenshot("chart-front-desk-not-found")
