"""Campaigns end to end in headless Chromium (issue 19 part 4): the owner opens /campaigns,
starts a campaign for lapsed neuromodulator clients, sees the count (who is reached, who is
skipped for want of consent) and the preview for a client of the segment, sends it now and
finds it on the list with its figures. Screenshots: tests/artifacts/campaigns-*.png."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from medspa.domain.clients.models import Client
from medspa.domain.scheduling.models import Appointment
from tests.browser.conftest import FROZEN_NOW
from tests.browser.test_calendar import LIVE_TIMEOUT, make_desk
from tests.browser.test_products import owner_session


def _lapsed_clients(desk) -> None:
    """Three clients whose last Botox was ~7 months ago: two agreed to email marketing."""
    clinic = desk.clinic
    with clinic.session() as s:
        for first, consent in (("Gwen", True), ("Hana", True), ("Iris", False)):
            c = Client(org_id=clinic.org_id, first_name=first, last_name="Lapsed", email=f"{first.lower()}@example.com",
                       email_marketing_consent=consent, time_zone="America/New_York")
            s.add(c)
            s.flush()
            start = FROZEN_NOW - timedelta(days=210)
            s.add(Appointment(org_id=clinic.org_id, location_id=clinic.location_id, service_id=clinic.services["botox"],
                              provider_id=clinic.provider_ids[0], client_id=c.id, start_at=start,
                              end_at=start + timedelta(minutes=30), status="completed", price_cents=35000,
                              created_at=start - timedelta(days=7)))
        s.commit()


def test_create_a_campaign_see_count_and_preview_send_now(page: Page, app_urls, base_url, screenshot):
    desk = make_desk(app_urls)
    _lapsed_clients(desk)
    owner_session(page, base_url, desk)

    page.goto("/campaigns")
    expect(page.locator("#campaign-new")).to_be_visible(timeout=LIVE_TIMEOUT)
    page.click("#account-menu-button")  # the page is in the owner's account menu
    expect(page.locator("#account-menu-campaigns")).to_have_attribute("href", "/campaigns")
    page.keyboard.press("Escape")
    page.click("#campaign-new")
    expect(page.locator("#campaign-count")).to_have_text("3 clients match", timeout=LIVE_TIMEOUT)
    expect(page.locator("#campaign-editor")).to_contain_text("Email: 2 will get it · skipped: no marketing consent 1")

    page.click("#campaign-send-now")  # no name yet: a message by the field, nothing written
    expect(page.locator("#campaign-error-name")).to_have_text("Name the campaign")
    page.fill("#campaign-name", "Autumn touch-up")
    page.click("#campaign-preview")
    expect(page.locator("#campaign-preview-subject")).to_have_text("We miss you, Gwen")
    expect(page.locator("#campaign-preview-body")).to_contain_text("To stop these emails:")
    screenshot("campaigns-editor")

    page.click("#campaign-send-now")
    expect(page.locator("#campaign-notice")).to_have_text("Sending: 2 messages queued now.", timeout=LIVE_TIMEOUT)
    row = page.locator(".campaign-row[data-name='Autumn touch-up']")
    expect(row).to_contain_text("Sent")
    expect(page.locator("#campaign-skipped")).to_have_text("1")
    expect(page.locator("#campaign-queued")).to_have_text("2")  # in the outbox: no mail server in tests
    expect(page.locator("#campaign-waiting")).to_have_text("0")
    expect(page.locator("#campaign-skip-reasons")).to_contain_text("no marketing consent: 1")
    screenshot("campaigns-list")
