"""Orders and results end to end in headless Chromium against the real app (issue 17).

A provider orders a CBC from the client's profile; the lab user (password sign-in, no second
factor) marks it collected and records the result on /lab (one value under its range is
flagged); the provider reviews it with a note; the client signs in to the portal on a phone
(390 px), sees the reviewed result with the flag and the note, and uploads a prescription PDF
in the Documents tab. Screenshots: /tmp/shots/d17/*.png and tests/artifacts/lab-*.png.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlmodel import select

from medspa.domain.clients.models import Client
from medspa.domain.clinical.documents import ClientDocument
from medspa.domain.identity.service import create_user
from tests.browser.test_calendar import LIVE_TIMEOUT, PASSWORD, TODAY, at, make_desk, script_booking, sign_in
from tests.browser.test_chart import provider_session
from tests.browser.test_portal import PHONE
from tests.browser.test_portal import sign_in as portal_sign_in
from tests.test_documents import pdf

SHOTS = Path("/tmp/shots/d17")


def snap(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_order_result_review_then_the_client_sees_it(page: Page, browser, app_urls, base_url):
    desk = make_desk(app_urls)
    visit = script_booking(desk, at(TODAY, 15), "Lena", "Ortiz", provider=desk.clinic.provider_ids[0])
    lab_email = f"lab-{desk.clinic.slug}@example.com"
    with desk.clinic.session() as s:
        create_user(s, desk.clinic.system, email=lab_email, password=PASSWORD, role="lab", display_name="Lee Lab")
        email = s.get(Client, visit.client_id).email
        s.commit()

    # the provider orders a test from the profile
    provider_session(page, base_url, desk)
    page.goto(f"/clients/{visit.client_id}")
    card = page.locator("#profile-orders")
    expect(card.get_by_text("No tests ordered.")).to_be_visible(timeout=LIVE_TIMEOUT)
    page.click("#order-open")
    expect(page.locator("#order-test")).to_contain_text("Complete blood count (CBC)")
    page.fill("#order-note", "Fasting sample, please")
    page.click("#order-save")
    expect(page.locator("#records-notice")).to_contain_text("It is on the lab worklist", timeout=LIVE_TIMEOUT)
    expect(card.locator(".profile-order[data-status=ordered]")).to_have_count(1)

    # the lab collects and records the result on /lab
    lab_context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    try:
        lab = lab_context.new_page()
        lab.goto("/login")  # the lab lands on /lab, not the calendar (issue 17 user trial)
        lab.fill("#login-email", lab_email)
        lab.fill("#login-password", PASSWORD)
        lab.click("#login-submit")
        lab.wait_for_url("**/lab")
        expect(lab.locator("#nav-lab")).to_be_visible()
        expect(lab.locator("#nav-calendar")).to_have_count(0)
        snap(lab, "lab-landing")
        lab.goto("/clients")  # a page the lab may not use points back to the lab's own home
        expect(lab.get_by_text("Page not found")).to_be_visible()
        expect(lab.get_by_role("link", name="Back to the lab worklist")).to_have_attribute("href", "/lab")
        expect(lab.get_by_role("link", name="Back to the calendar")).to_have_count(0)
        lab.goto("/lab")
        item = lab.locator(".lab-item").first
        expect(item).to_have_attribute("data-status", "ordered", timeout=LIVE_TIMEOUT)
        expect(item.locator(".lab-client")).to_have_text("Lena Ortiz")
        expect(item).to_contain_text("Fasting sample, please")
        snap(lab, "lab-worklist")
        item.locator(".lab-collect").click()
        expect(item).to_have_attribute("data-status", "collected", timeout=LIVE_TIMEOUT)
        item.locator(".lab-record").click()
        for i, (name, value, unit, low, high) in enumerate((("Hemoglobin", "11.2", "g/dL", "12", "15.5"),
                                                             ("WBC", "6.1", "10^9/L", "4", "11"))):
            for field, text in zip(("name", "value", "unit", "low", "high"), (name, value, unit, low, high)):
                lab.fill(f"input[name={field}_{i}]", text)
        lab.fill("input[name=low_1]", "abc")
        lab.click("#lab-save")
        expect(lab.locator(".lab-row-error").first).to_have_text("Enter a number.", timeout=LIVE_TIMEOUT)
        lab.fill("input[name=low_1]", "4")
        lab.fill("#lab-notes", "Slightly haemolysed.")
        snap(lab, "lab-result-dialog")
        lab.click("#lab-save")
        expect(lab.locator("#lab-notice")).to_contain_text("Result recorded", timeout=LIVE_TIMEOUT)
        expect(item).to_have_attribute("data-status", "resulted")
        snap(lab, "lab-after-result")
    finally:
        lab_context.close()

    # the provider reviews it on the profile
    page.reload()
    order = page.locator(".profile-order").first
    expect(order).to_have_attribute("data-status", "resulted", timeout=LIVE_TIMEOUT)
    expect(order.locator(".result-value[data-flag=Low]")).to_contain_text("Hemoglobin")
    order.locator(".review-start").click()
    page.fill("#review-note", "Mild anaemia: iron-rich diet, recheck in 3 months.")
    page.click("#review-save")
    expect(page.locator("#records-notice")).to_contain_text("Result reviewed", timeout=LIVE_TIMEOUT)
    expect(order).to_have_attribute("data-status", "reviewed")
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(SHOTS / "profile-orders-card.png"))

    # the client on a phone: the reviewed result, then a document upload
    phone = browser.new_context(base_url=base_url, viewport=PHONE)
    try:
        client = phone.new_page()
        portal_sign_in(client, (desk.engine, None), desk.clinic, email)
        expect(client.get_by_role("tab", name="Results")).to_be_visible(timeout=LIVE_TIMEOUT)
        client.get_by_role("tab", name="Results").click()
        result = client.locator(".portal-result").first
        expect(result).to_contain_text("Complete blood count (CBC)", timeout=LIVE_TIMEOUT)
        expect(result.locator(".result-value[data-flag=Low]")).to_contain_text("Low")
        expect(result).to_contain_text("Mild anaemia: iron-rich diet")
        snap(client, "portal-results-390")
        client.get_by_role("tab", name="Documents").click()
        expect(client.get_by_text("No documents yet.")).to_be_visible(timeout=LIVE_TIMEOUT)
        upload = client.locator("#portal-document-upload input[type=file]")
        upload.set_input_files(files=[{"name": "renamed.pdf", "mimeType": "application/pdf",
                                       "buffer": b"MZ\x90\x00" + b"\x00" * 64}])
        client.click("#doc-upload")
        expect(client.locator("#doc-error")).to_have_text("This file is not a PDF, JPEG or PNG.",
                                                          timeout=LIVE_TIMEOUT)
        upload.set_input_files(files=[{"name": "tretinoin.pdf", "mimeType": "application/pdf", "buffer": pdf()}])
        client.fill("#doc-title", "Tretinoin prescription")
        client.click("#doc-upload")
        expect(client.locator("#doc-notice")).to_contain_text("is uploaded", timeout=LIVE_TIMEOUT)
        expect(client.locator(".portal-doc")).to_have_count(1)
        snap(client, "portal-documents-390")
        assert client.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    finally:
        phone.close()
    with desk.clinic.session() as s:
        docs = s.exec(select(ClientDocument).where(ClientDocument.client_id == visit.client_id)).all()
    assert [(d.title, d.content_type) for d in docs] == [("Tretinoin prescription", "application/pdf")]

    # the provider sees the document on the profile
    page.reload()
    expect(page.locator("#profile-documents .profile-doc")).to_have_count(1, timeout=LIVE_TIMEOUT)
    with page.expect_download() as got:
        page.locator("#profile-documents .doc-download").click()
    assert got.value.suggested_filename.startswith("document-") and got.value.suggested_filename.endswith(".pdf")
