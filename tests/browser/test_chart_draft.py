"""A chart draft survives a page reload (issue 18; features/charting/autosave.py and
draft_keeper.jsx): typing autosaves after a pause; what was typed since is kept in the
browser's localStorage, offered back after a reload and restored; saving clears the copy."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlmodel import select

from medspa.domain.clinical.models import TreatmentNote
from tests.browser.test_calendar import LIVE_TIMEOUT, TODAY, at, make_desk, script_booking
from tests.browser.test_chart import provider_session
from tests.consent_support import sign_required_consents


def _stored(page: Page, key: str):
    return page.evaluate("(k) => window.localStorage.getItem(k)", key)


def test_a_draft_survives_a_reload(page: Page, app_urls, base_url, screenshot):
    desk = make_desk(app_urls)
    visit = script_booking(desk, at(TODAY, 15), "Nora", "Quinn", provider=desk.clinic.provider_ids[0])
    sign_required_consents(desk.clinic, visit.id)
    provider_session(page, base_url, desk)
    key = f"medspa-chart:{visit.id}:v1"
    page.goto(f"{base_url}/chart/{visit.id}")
    expect(page.locator("#chart-client")).to_have_text("Nora Quinn", timeout=LIVE_TIMEOUT)

    # a pause in typing saves the draft on the server
    page.locator("#chart-note").press_sequentially("Glabellar lines.", delay=20)
    expect(page.locator("#chart-autosave")).to_have_text("Saved automatically at 12:00 PM", timeout=10_000)
    with desk.clinic.session() as s:
        assert s.exec(select(TreatmentNote.note).where(TreatmentNote.appointment_id == visit.id)).all() == [
            "Glabellar lines."]
    assert _stored(page, key) is None  # nothing kept while the form equals the server's draft

    # more typing, then a reload before the autosave: the browser kept it
    row = page.locator(".chart-line").first
    row.locator(".line-product input").fill("Botox")
    row.locator(".line-lot-number input").fill("C3709C3")
    row.locator(".line-units input").fill("20")
    page.locator("#chart-note").press_sequentially(" 5 points, aftercare given.", delay=5)
    assert '"note":"Glabellar lines. 5 points, aftercare given."' in (_stored(page, key) or "")
    page.reload()
    expect(page.locator("#chart-client")).to_have_text("Nora Quinn", timeout=LIVE_TIMEOUT)
    offer = page.locator("#chart-restore-offer")
    expect(offer).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(page.locator("#chart-restore-text")).to_contain_text("Restore unsaved changes from this browser, ")
    expect(page.locator("#chart-note")).to_have_value("Glabellar lines.")  # the server's draft until restored
    screenshot("chart-draft-restore-offer")
    page.click("#chart-restore")
    expect(offer).to_have_count(0)
    expect(page.locator("#chart-note")).to_have_value("Glabellar lines. 5 points, aftercare given.")
    row = page.locator(".chart-line").first
    expect(row.locator(".line-product input")).to_have_value("Botox")
    expect(row.locator(".line-lot-number input")).to_have_value("C3709C3")
    expect(row.locator(".line-units input")).to_have_value("20")
    row.locator(".line-area").click()
    page.get_by_role("option", name="Glabella").click()
    page.click("#chart-save")
    expect(page.locator("#chart-notice")).to_have_text("Draft saved.")
    screenshot("chart-draft-restored-saved")
    assert _stored(page, key) is None  # saved: the browser's copy is gone
    with desk.clinic.session() as s:
        assert s.exec(select(TreatmentNote.note).where(TreatmentNote.appointment_id == visit.id)).all() == [
            "Glabellar lines. 5 points, aftercare given."]
    page.reload()  # nothing to offer any more
    expect(page.locator("#chart-note")).to_have_value("Glabellar lines. 5 points, aftercare given.",
                                                      timeout=LIVE_TIMEOUT)
    expect(page.locator("#chart-restore-offer")).to_have_count(0)
