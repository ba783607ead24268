"""Signed consent in a real browser (issue 17): at phone width a client signs a consent in the
portal with a drawn signature and downloads the PDF; the front desk hands a tablet to another
client who signs by typing their name. Screenshots: /tmp/shots/c17/ and tests/artifacts/."""

from __future__ import annotations

import hashlib
import io
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import create_engine, text

from medspa.clock import FixedClock
from medspa.db import tenant_session, to_sqlalchemy_url
from medspa.domain.clients.service import ClientInput
from medspa.domain.identity.models import UserSession
from medspa.domain.identity.service import create_user
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from tests.browser.conftest import FROZEN_NOW
from tests.browser.test_calendar import LIVE_TIMEOUT, TODAY, at, make_desk, script_booking
from tests.browser.test_calendar import sign_in as staff_sign_in
from tests.browser.test_portal import sign_in as portal_sign_in
from tests.factories import build_clinic

PHONE = {"width": 390, "height": 844}
TIMEOUT = 20_000
SHOTS = Path("/tmp/shots/c17")
ANA_AT = datetime(2026, 7, 3, 14, 0, tzinfo=timezone.utc)  # Fri Jul 3, 10:00 AM EDT
TITLE = "Consent to neuromodulator treatment (botulinum toxin)"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def engines(app_urls):
    app = create_engine(to_sqlalchemy_url(app_urls[0]), pool_size=2)
    owner = create_engine(to_sqlalchemy_url(app_urls[1]), pool_size=1)
    yield app, owner
    app.dispose()
    owner.dispose()


def test_client_draws_a_signature_in_the_portal_and_downloads_the_pdf(page: Page, engines, frozen_now):
    app, owner = engines
    clinic = build_clinic(app, owner)
    clock = FixedClock(frozen_now)
    book_online(app, clinic.public, OnlineBooking(
        location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=ANA_AT,
        client=ClientInput("Ana", "Silva", "ana@example.com", "(212) 555-0147"),
        card=CardDetails("4242 4242 4242 4242", 12, 2030, "123")), TestPaymentGateway(app, clock.now), clock)

    page.set_viewport_size(PHONE)
    portal_sign_in(page, engines, clinic, "ana@example.com")
    expect(page.get_by_role("heading", name="Hi Ana")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("tab", name="Consents").click()
    todo = page.locator(".consent-todo")
    expect(todo).to_have_count(2, timeout=TIMEOUT)  # the Botox consent, and the optional photo consent
    expect(todo.first).to_contain_text(TITLE)
    expect(todo.first).to_contain_text("Needed for Botox on Fri, Jul 3")
    shot(page, "portal-consents-390")

    todo.first.locator(".consent-start").click()
    expect(page.locator("#consent-title")).to_have_text(TITLE)
    expect(page.locator("#consent-text")).to_contain_text("botulinum toxin type A")
    page.locator("#consent-pad [data-role=save]").click()  # an empty pad
    expect(page.locator(".field-error")).to_contain_text("Draw your signature")
    canvas = page.get_by_test_id("signature-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box and box["width"] <= 390
    x, y = box["x"], box["y"]
    page.mouse.move(x + 30, y + 110)
    page.mouse.down()
    for dx, dy in ((80, 40), (140, 120), (200, 50), (280, 115)):
        page.mouse.move(x + dx, y + dy, steps=8)
    page.mouse.up()
    shot(page, "portal-signing-390")
    page.locator("#consent-pad [data-role=save]").click()
    expect(page.locator("#consent-notice")).to_contain_text("is signed", timeout=TIMEOUT)
    signed = page.locator(".consent-signed")
    expect(signed).to_have_count(1)
    expect(signed).to_contain_text(TITLE)
    expect(signed).to_contain_text("Drawn in the portal")
    expect(page.locator(".consent-todo")).to_have_count(1)  # the optional photo consent is left
    shot(page, "portal-signed-390")

    with page.expect_download() as info:
        signed.locator(".consent-pdf").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    path = SHOTS / "portal-consent.pdf"
    download.save_as(str(path))
    pdf_text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages).split())
    assert "Ana Silva" in pdf_text and TITLE in pdf_text and "Fri, Jul 3" not in pdf_text
    assert "Wed, Jul 1, 2026, 12:00 PM EDT" in pdf_text  # the app's (frozen) clock, in the clinic's zone
    with tenant_session(clinic.org_id, app) as s:
        rows = s.execute(text("select method, signer, length(ip) > 0, user_agent like '%Chrome%' "
                              "from consent_signature")).all()
        assert rows == [("drawn", "portal", True, True)]
        actions = [r[0] for r in s.execute(text("select action from audit_event where action like 'consent.%' "
                                                "order by id"))]
        assert actions.count("consent.sign") == 1 and actions[-1] == "consent.download" and "consent.read" in actions


def test_front_desk_hands_a_tablet_to_the_client_who_types_their_name(page: Page, app_urls):
    desk = make_desk(app_urls)
    visit = script_booking(desk, at(TODAY, 15), "Bea", "Moss")
    staff_sign_in(page, desk.email)
    page.goto(f"/consent/{visit.id}")
    expect(page.locator("#tablet-client")).to_have_text("Consent for Bea", timeout=LIVE_TIMEOUT)
    page.locator(".consent-todo").first.locator(".consent-start").click()
    page.get_by_role("radio", name="Type my name").click()
    page.fill("#consent-typed-name", "Bea Moss")
    shot(page, "tablet-typed")
    page.click("#consent-sign-typed")
    expect(page.locator("#consent-notice")).to_contain_text("is signed", timeout=LIVE_TIMEOUT)
    expect(page.locator(".consent-todo")).to_have_count(1)  # the optional photo consent
    shot(page, "tablet-signed")
    with desk.clinic.session() as s:
        assert s.execute(text("select method, signer, typed_name, collected_by, appointment_id "
                              "from consent_signature")).all() == [("typed", "tablet", "Bea Moss", "Dana Desk",
                                                                     visit.id)]


def staff_session(page: Page, base_url: str, clinic, role: str, name: str) -> None:
    """A server-side session of a new `role` user (these roles sign in with a second factor: the
    browser gets the session cookie as the sign-in would give it; see tests/browser/test_chart.py)."""
    token = secrets.token_urlsafe(32)
    with clinic.session() as s:
        user = create_user(s, clinic.system, email=f"{role}-{clinic.slug}@example.com",
                           password="staff-password-2026", role=role, display_name=name,
                           staff_id=clinic.provider_ids[0] if role == "provider" else None)  # signs its visits
        s.add(UserSession(org_id=clinic.org_id, user_id=user.id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                          created_at=FROZEN_NOW, last_seen_at=FROZEN_NOW, expires_at=FROZEN_NOW + timedelta(hours=8)))
        s.commit()
    page.context.add_cookies([{"name": "medspa_session", "value": token, "url": base_url, "httpOnly": True,
                               "sameSite": "Strict"}])


def test_manager_edits_a_signed_consent_and_gets_a_new_version(page: Page, app_urls, base_url):
    from tests.consent_support import sign_required_consents

    desk = make_desk(app_urls)
    visit = script_booking(desk, at(TODAY, 16), "Cara", "Lind")
    sign_required_consents(desk.clinic, visit.id)  # version 1 of the Botox consent is signed
    staff_session(page, base_url, desk.clinic, "manager", "Mona Manager")
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto("/settings")
    page.click("#settings-tab-consents")
    templates = page.locator(".consent-template")
    expect(templates).to_have_count(7, timeout=LIVE_TIMEOUT)
    templates.first.click()
    expect(page.locator("#consent-edit-title")).to_have_value(TITLE)
    body = page.locator("#consent-edit-body")
    body.fill(body.input_value() + "\n\nDo not rub the treated area for 4 hours.")
    expect(page.locator("#consent-preview")).to_contain_text("Do not rub the treated area", timeout=LIVE_TIMEOUT)
    page.click("#consent-edit-save")
    expect(page.locator("#consent-edit-notice")).to_contain_text("Saved as version 2", timeout=LIVE_TIMEOUT)
    expect(page.locator("#consent-versions tbody tr")).to_have_count(2)
    services = page.locator("#consent-services tbody tr")
    expect(services).to_have_count(3)
    hydrafacial = services.filter(has_text="HydraFacial")
    expect(hydrafacial).to_contain_text("Not required")
    hydrafacial.locator(".consent-service-choice button").click()
    page.get_by_role("option", name="Always required").click()
    expect(hydrafacial).to_contain_text("Required", timeout=LIVE_TIMEOUT)
    expect(hydrafacial).not_to_contain_text("Not required")
    shot(page, "settings-consent-editor")
    from medspa.domain.clinical.consent import required_consents
    with desk.clinic.session() as s:
        keys = [r.key for r in required_consents(s, desk.clinic.services["facial"])]
    assert keys == ["neuromodulator", "general"]


def test_provider_is_stopped_by_the_gate_and_reads_signed_consents_on_the_profile(page: Page, app_urls, base_url,
                                                                                 browser_server):
    from medspa.domain.clinical.consent_signing import consents_to_sign, sign_consent
    from medspa.domain.clinical.photos import LocalMediaStore
    from medspa.domain.identity.actor import Actor

    desk = make_desk(app_urls)
    clinic = desk.clinic
    visit = script_booking(desk, at(TODAY, 14), "Dora", "Vance", provider=clinic.provider_ids[0])
    staff_session(page, base_url, clinic, "provider", "Nurse Amy")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/chart/{visit.id}")
    row = page.locator(".chart-line").first
    expect(row).to_be_visible(timeout=LIVE_TIMEOUT)
    row.locator(".line-product input").fill("Botox")
    row.locator(".line-lot-number input").fill("C3709C3")
    row.locator(".line-units input").fill("20")
    row.locator(".line-area").click()
    page.get_by_role("option", name="Glabella").click()
    page.click("#chart-sign")
    page.click("#chart-sign-confirm")
    expect(page.locator("#chart-error")).to_contain_text("cannot be signed yet", timeout=LIVE_TIMEOUT)
    expect(page.locator("#chart-error")).to_contain_text(TITLE)
    shot(page, "chart-consent-gate")
    page.click("#chart-sign-consent")  # saves the draft first, then the visit's consent page
    page.wait_for_url(f"**/consent/{visit.id}", timeout=LIVE_TIMEOUT)
    page.go_back()
    expect(page.locator(".chart-line .line-product input").first).to_have_value("Botox", timeout=LIVE_TIMEOUT)
    shot(page, "chart-back-from-sign-with-client")

    store = LocalMediaStore(browser_server.slot_dir / "media")  # the server's media folder
    with clinic.session() as s:
        actor = Actor.client(clinic.org_id, visit.client_id, ip="198.51.100.20", user_agent="Phone")
        item = consents_to_sign(s, actor, visit.client_id, FROZEN_NOW)[0]
        sign_consent(s, actor, visit.client_id, item.version_id, item.sha256, method="typed", typed_name="Dora Vance",
                     now=FROZEN_NOW, store=store)
        s.commit()
    page.goto(f"/clients/{visit.client_id}")
    card = page.locator("#profile-consents")
    expect(card).to_contain_text(TITLE, timeout=LIVE_TIMEOUT)
    expect(card).to_contain_text("Typed in the portal")
    card.scroll_into_view_if_needed()
    shot(page, "profile-signed-consents")
    with page.expect_download() as info:
        card.locator(".profile-consent-pdf").click()
    assert info.value.suggested_filename.endswith(".pdf")
