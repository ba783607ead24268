"""The medical history and contraindication flags in headless Chromium (issue 17, section 1).

A provider edits a client's allergies on the profile (/clients/<id>) and sees the version
history (old -> new); the front desk then books that client for Botox from an empty calendar
cell: the dialog shows "Health flag: a provider must review" (never the allergy), refuses to
book without a reason, books with one (kept on a health_override row), and the calendar block
carries the red mark. The app's clock is frozen at conftest.FROZEN_NOW (Wed 1 July 2026).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import text

from medspa.domain.clinical.contraindications import GENERIC
from tests.browser.test_calendar import LIVE_TIMEOUT, TODAY, make_desk, new_client, open_day, sign_in
from tests.browser.test_chart import provider_session

SHOTS = Path("/tmp/shots/h17")


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_provider_edits_allergies_desk_books_a_flagged_visit_with_a_reason(page: Page, browser, base_url, app_urls):
    desk = make_desk(app_urls)
    clinic = desk.clinic
    client_id = new_client(desk, "Nora", "Quinn")

    # the provider: edit the allergies section, then look at the versions
    nurse_ctx = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 1000})
    try:
        nurse = nurse_ctx.new_page()
        provider_session(nurse, base_url, desk)
        nurse.goto(f"/clients/{client_id}")
        card = nurse.locator("#profile-health")
        expect(card).to_be_visible(timeout=LIVE_TIMEOUT)
        expect(card.locator("[data-section-row='allergies']")).to_contain_text("Not recorded")
        card.locator("[data-section='allergies']").click()
        edit = nurse.locator("#health-edit")
        edit.locator("#health-r0_1").fill("hives")  # a reaction without the agent: a message at the field
        edit.locator("#health-save").click()
        expect(edit.locator("[data-error='r0_0']")).to_have_text("Name the agent or ingredient")
        edit.locator("#health-r0_0").fill("Albumin")
        edit.locator("#health-save").click()
        expect(edit).to_have_count(0)
        expect(card.locator("[data-section-row='allergies']")).to_contain_text("Albumin (hives)")
        card.locator("[data-section='allergies']").click()  # a second change: latex added
        edit.locator("#health-r1_0").fill("Latex")
        _shot(nurse, "history-edit-dialog")
        edit.locator("#health-save").click()
        expect(card.locator("[data-section-row='allergies']")).to_contain_text("Albumin (hives); Latex")
        expect(card.locator("#health-updated")).to_contain_text("by Nurse Amy")
        _shot(nurse, "history-card")
        nurse.click("#health-history-button")
        versions = nurse.locator("#health-versions .health-version")
        expect(versions).to_have_count(2)
        expect(versions.first).to_contain_text("Albumin (hives)")
        expect(versions.first).to_contain_text("Albumin (hives); Latex")
        expect(versions.nth(1)).to_contain_text("Not recorded")  # the first version replaced nothing
        expect(versions.first).to_contain_text("Nurse Amy · staff")
        _shot(nurse, "history-versions")
    finally:
        nurse_ctx.close()

    # the desk: no history card, and a flag without the detail when booking Botox
    sign_in(page, desk.email)
    page.goto(f"/clients/{client_id}")
    expect(page.locator("#profile-name")).to_have_text("Nora Quinn", timeout=LIVE_TIMEOUT)
    expect(page.locator("#profile-health")).to_have_count(0)
    thursday = TODAY + timedelta(days=1)
    p1 = clinic.provider_ids[0]
    open_day(page, desk, thursday)
    page.locator(f".cal-slot[data-slot-column='{p1}'][data-slot-minute='600']").click()
    dialog = page.locator("#book-dialog")
    dialog.locator("#book-search").fill("Nora")
    dialog.locator("[data-client-id]", has_text="Nora Quinn").click()
    dialog.locator("#book-service").click()
    page.get_by_role("option", name="Botox · 30 min · $350.00").click()
    health = dialog.locator("#book-health")
    expect(health).to_contain_text(GENERIC)
    expect(health).not_to_contain_text("Albumin")
    dialog.locator("#book-submit").click()
    expect(dialog.locator("[data-error='health_reason']")).to_contain_text("give the reason")
    _shot(page, "book-dialog-flag")
    dialog.locator("#book-health-reason").fill("Nurse Amy checked: albumin-free product planned")
    dialog.locator("#book-submit").click()
    expect(dialog).to_have_count(0)
    booked = page.locator(".cal-block", has_text="Nora Quinn")
    expect(booked.locator(".cal-health")).to_have_attribute("title", GENERIC)
    _shot(page, "calendar-block-flag")
    booked.click()  # the panel says what the flag is (no hover on a tablet): the desk's generic words
    expect(page.locator("#detail-health")).to_contain_text(GENERIC, timeout=LIVE_TIMEOUT)
    expect(page.locator("#detail-health")).not_to_contain_text("Albumin")
    _shot(page, "calendar-panel-flag")
    with clinic.session() as s:
        row = s.execute(text("select stage, reason, flags from health_override")).one()
    assert (row.stage, row.reason) == ("booking", "Nurse Amy checked: albumin-free product planned")
    assert row.flags == [{"code": "allergy", "detail": "Allergy: Albumin (hives)"}]


def test_client_updates_own_history_in_the_portal_on_a_phone(page: Page, app_urls):
    from medspa.domain.clients.service import ClientInput, find_or_create_client
    from tests.browser.test_portal import sign_in as portal_sign_in

    desk = make_desk(app_urls)
    clinic = desk.clinic
    email = f"pia-{clinic.slug}@example.com"
    with clinic.session() as s:
        client = find_or_create_client(s, clinic.system, ClientInput("Pia", "Moss", email, "(212) 555-0148"))
        s.commit()
        client_id = client.id
    page.set_viewport_size({"width": 390, "height": 844})
    portal_sign_in(page, (desk.engine, None), clinic, email)
    page.get_by_role("tab", name="Health").click()
    tab = page.locator("#portal-health")
    expect(tab.locator("[data-section-row='pregnancy']")).to_contain_text("Not recorded", timeout=LIVE_TIMEOUT)
    tab.locator("[data-section='pregnancy']").click()
    tab.locator("#health-breastfeeding").click()
    _shot(page, "portal-health-edit-390")
    tab.locator("#health-save").click()
    expect(tab.locator("[data-section-row='pregnancy']")).to_contain_text("Breastfeeding")
    tab.locator("[data-section='medications']").click()
    tab.locator("#health-r0_0").fill("Isotretinoin")
    tab.locator("#health-r0_2").fill("March 2026")
    tab.locator("#health-save").click()
    expect(tab.locator("[data-error='r0_2']")).to_contain_text("A date like 2026-03-31")
    tab.locator("#health-r0_2").fill("2026-03-31")
    tab.locator("#health-save").click()
    expect(tab.locator("[data-section-row='medications']")).to_contain_text("Isotretinoin, stopped 2026-03-31")
    _shot(page, "portal-health-390")
    with clinic.session() as s:
        rows = s.execute(text("select section, source from medical_history_version where client_id = :c order by id"),
                         {"c": client_id}).all()
    assert [(r.section, r.source) for r in rows] == [("pregnancy", "portal"), ("medications", "portal")]
    page.get_by_role("tab", name="Record access").click()
    expect(page.get_by_text("Updated your medical history").first).to_be_visible(timeout=LIVE_TIMEOUT)
