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

    page.click("#campaign-send-now")  # asks first, with the count preview's number
    expect(page.locator("#campaign-confirm-title")).to_have_text("Send to 2 clients now?")
    page.click("#campaign-confirm-send")  # no name yet: a message by the field, nothing written
    expect(page.locator("#campaign-error-name")).to_have_text("Name the campaign")
    page.fill("#campaign-name", "Autumn touch-up")
    page.click("#campaign-preview")
    expect(page.locator("#campaign-preview-subject")).to_have_text("We miss you, Gwen")
    expect(page.locator("#campaign-preview-body")).to_contain_text("To stop these emails:")
    screenshot("campaigns-editor")

    page.click("#campaign-send-now")
    page.click("#campaign-confirm-send")
    expect(page.locator("#campaign-notice")).to_have_text("Campaign started: 2 messages queued for delivery.",
                                                          timeout=LIVE_TIMEOUT)
    row = page.locator(".campaign-row[data-name='Autumn touch-up']")
    expect(row).to_contain_text("Queued")  # written, but no mail server in tests: not "Sent"
    expect(page.locator("#campaign-skipped")).to_have_text("1")
    expect(page.locator("#campaign-queued")).to_have_text("2")
    expect(page.locator("#campaign-sent")).to_have_text("0")
    expect(page.locator("#campaign-waiting")).to_have_text("0")
    expect(page.locator("#campaign-skip-reasons")).to_contain_text("no marketing consent: 1")
    screenshot("campaigns-list")

    # the campaign's name opens its results (no "#" link reloading the page)
    page.get_by_role("button", name="Close").click()
    expect(page.locator("#campaign-results")).to_have_count(0)
    opener = row.locator(".campaign-open")
    expect(opener).not_to_have_attribute("href", "#")
    opener.click()
    expect(page.locator("#campaign-title")).to_have_text("Autumn touch-up", timeout=LIVE_TIMEOUT)
    expect(page.locator("#campaign-queued")).to_have_text("2")

    page.goto("/outbox")  # its messages: found by kind, each naming the campaign
    expect(page.locator("#outbox-kind")).to_be_visible(timeout=LIVE_TIMEOUT)
    page.click("#outbox-kind")
    page.get_by_role("option", name="Campaign").click()
    expect(page.locator("#outbox-page")).to_contain_text("Campaign: Autumn touch-up", timeout=LIVE_TIMEOUT)
    screenshot("campaigns-outbox")
