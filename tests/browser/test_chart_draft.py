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


def _session(page: Page, base_url: str, clinic, *, role: str, name: str, staff_id: int | None) -> None:
    """A server-side session of a new user (as tests/browser/test_chart.provider_session)."""
    import hashlib
    import secrets
    from datetime import timedelta

    from medspa.domain.identity.models import UserSession
    from medspa.domain.identity.service import create_user
    from tests.browser.conftest import FROZEN_NOW
    token = secrets.token_urlsafe(32)
    with clinic.session() as s:
        user = create_user(s, clinic.system, email=f"{role}-{secrets.token_hex(4)}@example.com",
                           password="staff-password-2026", role=role, display_name=name, staff_id=staff_id)
        s.add(UserSession(org_id=clinic.org_id, user_id=user.id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                          created_at=FROZEN_NOW, last_seen_at=FROZEN_NOW, expires_at=FROZEN_NOW + timedelta(hours=8)))
        s.commit()
    page.context.add_cookies([{"name": "medspa_session", "value": token, "url": base_url, "httpOnly": True,
                               "sameSite": "Strict"}])


def test_the_medical_director_reviews_and_cosigns_a_nurses_chart(page: Page, app_urls, base_url, screenshot):
    from datetime import date

    from medspa.domain.clinical.prescriber_orders import record_order
    from medspa.domain.clinical.service import LineInput, save_chart, sign_chart
    from medspa.domain.identity.actor import Actor
    from medspa.domain.practice.models import Organization, StaffMember
    from tests.browser.conftest import FROZEN_NOW
    desk = make_desk(app_urls)
    clinic = desk.clinic
    rn_id, np_id = clinic.provider_ids
    with clinic.session() as s:
        s.get(StaffMember, rn_id).licence = "RN"
        s.get(StaffMember, np_id).display_name = "Dr. Lee"
        s.get(Organization, clinic.org_id).medical_director_id = np_id
        s.commit()
    visit = script_booking(desk, at(TODAY, 13), "Mira", "Lopez", provider=rn_id)
    sign_required_consents(clinic, visit.id)
    nurse = Actor(org_id=clinic.org_id, role="provider", staff_id=rn_id, label="Nurse Amy")
    director = Actor(org_id=clinic.org_id, role="provider", staff_id=np_id, label="Dr. Lee")
    with clinic.session() as s:
        record_order(s, director, visit.client_id, scope="neuromodulators", examined_on=date(2026, 6, 15),
                     valid_until=None, note="", time_zone="America/New_York", now=FROZEN_NOW)
        save_chart(s, nurse, visit.id, [LineInput("Botox", "C3709C3", "20", "glabella")], "5 points.", FROZEN_NOW)
        sign_chart(s, nurse, visit.id, FROZEN_NOW)
        s.commit()
    _session(page, base_url, clinic, role="provider", name="Dr. Lee", staff_id=np_id)
    page.goto(f"{base_url}/reviews")
    expect(page.locator(".review-row")).to_have_count(1, timeout=LIVE_TIMEOUT)
    expect(page.locator(".review-row")).to_contain_text("Mira Lopez")
    screenshot("reviews-queue")
    page.locator(".review-row a").first.click()
    page.wait_for_url(f"**/chart/{visit.id}")
    expect(page.locator("#chart-order")).to_have_text(
        "Under the order of Dr. Lee (NP), exam Jun 15, 2026, valid until Jun 15, 2027", timeout=LIVE_TIMEOUT)
    expect(page.locator("#chart-cosign-waiting")).to_be_visible()
    page.fill("#chart-addendum-text", "Follow-up call: no bruising.")
    page.click("#chart-addendum-add")
    expect(page.locator(".chart-addendum")).to_contain_text("Follow-up call: no bruising.")
    page.fill("#chart-cosign-comment", "Dosing appropriate.")
    page.click("#chart-cosign")
    expect(page.locator("#chart-cosigned")).to_have_text(
        "Co-signed by Dr. Lee, Jul 1, 2026 12:00 PM EDT: Dosing appropriate.")
    expect(page.locator("#chart-cosign-waiting")).to_have_count(0)
    screenshot("chart-cosigned-addendum")
    page.goto(f"{base_url}/reviews")
    expect(page.locator("#reviews-empty")).to_be_visible(timeout=LIVE_TIMEOUT)
    # the owner's dashboard: the chart was signed in time
    with clinic.session() as s:
        s.execute(__import__("sqlalchemy").text("update appointment set status = 'completed' where id = :a"),
                  {"a": visit.id})
        s.commit()
    _session(page, base_url, clinic, role="owner", name="Olivia Owner", staff_id=None)
    page.goto(f"{base_url}/dashboard")
    expect(page.locator("#dash-timeliness")).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(page.locator(".dash-timely[data-key='signed_24h'] .dash-timely-value")).to_have_text("100.0%")
    expect(page.locator(".dash-timely[data-key='signed_24h'] .dash-timely-detail")).to_have_text("1 of 1 charts")
    page.locator("#dash-timeliness").scroll_into_view_if_needed()
    screenshot("dashboard-chart-timeliness")
