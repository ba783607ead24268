"""Products, lots and recall end to end in headless Chromium against the real app (issue 18).

The owner receives a lot of Botox on /settings (Products tab: the lot appears with its stock),
charts a visit picking the product (the soonest-expiring lot and the only opened vial are
picked for them), then opens /recall, searches the lot number of a lot two clients received
(charts signed by the domain) and downloads the CSV. Screenshots: tests/artifacts/products-*.png.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from medspa.domain.identity.actor import Actor
from medspa.domain.clinical.inventory import ProductInput, open_vial, receive_lot, save_product
from medspa.domain.clinical.service import LineInput, save_chart, sign_chart
from medspa.domain.identity.models import UserSession
from medspa.domain.identity.service import create_user
from tests.browser.conftest import FROZEN_NOW
from tests.browser.test_calendar import LIVE_TIMEOUT, TODAY, at, make_desk, script_booking
from tests.consent_support import sign_required_consents


def owner_session(page: Page, base_url: str, desk) -> None:
    """The owner's server-side session handed to the browser (as test_chart.provider_session)."""
    token = secrets.token_urlsafe(32)
    with desk.clinic.session() as s:
        user = create_user(s, desk.clinic.system, email=f"owner-{desk.clinic.slug}@example.com",
                           password="owner-password-2026", role="owner", display_name="Olivia Owner")
        s.add(UserSession(org_id=desk.clinic.org_id, user_id=user.id,
                          token_hash=hashlib.sha256(token.encode()).hexdigest(), created_at=FROZEN_NOW,
                          last_seen_at=FROZEN_NOW, expires_at=FROZEN_NOW + timedelta(hours=8)))
        s.commit()
    page.context.add_cookies([{"name": "medspa_session", "value": token, "url": base_url, "httpOnly": True,
                               "sameSite": "Strict"}])


def _stock(desk) -> dict:
    """Botox with lot C3709C3 (a vial opened at 9 AM) charted and signed for two clients."""
    clinic, owner = desk.clinic, desk.clinic.staff_actor("owner")
    with clinic.session() as s:
        botox = save_product(s, owner, None, ProductInput("Botox", "Allergan", "neuromodulator", "units", "", "",
                                                          "100"), FROZEN_NOW)
        lot = receive_lot(s, owner, botox, "C3709C3", date(2026, 11, 30), "300", FROZEN_NOW)
        vial = open_vial(s, clinic.staff_actor("provider"), lot, "2.5", FROZEN_NOW - timedelta(hours=3)).id
        s.commit()
    for hour, first in ((13, "Ivy"), (14, "Mia")):
        visit = script_booking(desk, at(TODAY, hour), first, "Stone", provider=clinic.provider_ids[0])
        sign_required_consents(clinic, visit.id)
        with clinic.session() as s:
            provider = Actor(org_id=clinic.org_id, role="provider", label="test provider",
                             staff_id=clinic.provider_ids[0])  # the visit's provider signs (clinical/signing.py)
            save_chart(s, provider, visit.id, [LineInput("", "", "20", "glabella",
                                                         product_id=botox, lot_id=lot, vial_id=vial)], "", FROZEN_NOW)
            sign_chart(s, provider, visit.id, FROZEN_NOW)
            s.commit()
    return {"botox": botox, "lot": lot, "vial": vial}


def test_receive_a_lot_chart_with_it_and_recall_its_clients(page: Page, app_urls, base_url, screenshot):
    desk = make_desk(app_urls)
    _stock(desk)
    visit = script_booking(desk, at(TODAY, 15), "Noor", "Haddad", provider=desk.clinic.provider_ids[0])
    sign_required_consents(desk.clinic, visit.id)
    owner_session(page, base_url, desk)

    # Settings, Products tab: receive a lot
    page.goto("/settings?tab=products")
    card = page.locator(".product-card[data-product='Botox']")
    expect(card).to_contain_text("260 units in stock", timeout=LIVE_TIMEOUT)  # 300 - 2 x 20
    card.locator(".product-receive").click()
    page.fill("#lot-number", "bad lot!")
    page.fill("#lot-expires", "2027-01-31")
    page.fill("#lot-quantity", "200")
    page.click("#lot-save")
    expect(page.get_by_text("Use letters, digits, '-', '.', '/' (at most 40)")).to_be_visible()
    page.fill("#lot-number", "d4411b")
    page.click("#lot-save")
    expect(page.locator("#products-notice")).to_have_text("Lot D4411B of Botox received.", timeout=LIVE_TIMEOUT)
    row = card.locator(".lot-row[data-lot='D4411B']")
    expect(row).to_contain_text("Jan 31, 2027")
    expect(row.locator(".lot-left")).to_have_text("200")
    expect(card).to_contain_text("460 units in stock")
    expect(card.locator(".vial-row")).to_contain_text("40 u/mL")
    screenshot("products-settings")

    # the chart: the product select picks the soonest-expiring lot and its only opened vial
    page.goto(f"/chart/{visit.id}")
    line = page.locator(".chart-line").first
    line.locator(".line-product-select").click()
    page.get_by_role("option", name="Botox").click()
    expect(line.locator(".line-lot-select")).to_contain_text("C3709C3 · exp Nov 30, 2026 · 260 left")
    expect(line.locator(".line-vial-select")).to_contain_text("2.5 mL · 40 u/mL")
    line.locator(".line-units input").fill("12")
    line.locator(".line-area").click()
    page.get_by_role("option", name="Forehead").click()
    page.click("#chart-save")
    expect(page.locator("#chart-notice")).to_have_text("Draft saved.", timeout=LIVE_TIMEOUT)
    expect(line.locator(".line-unit")).to_have_text("units")
    screenshot("products-chart-line")

    # recall, found from the account menu (the header keeps its width): search the lot number, two clients, CSV
    page.click("#account-menu-button")
    expect(page.locator("#account-menu-products")).to_be_visible()
    page.click("#account-menu-recall")
    page.wait_for_url("**/recall")
    page.fill("#recall-search", "c3709")
    page.click("#recall-search-go")
    expect(page.locator("#recall-lot-label")).to_have_text("Botox · C3709C3 · exp Nov 30, 2026",
                                                           timeout=LIVE_TIMEOUT)
    expect(page.locator("#recall-count")).to_have_text("2 clients received this lot")
    rows = page.locator(".recall-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Ivy Stone")
    expect(rows.first).to_contain_text("Jul 1, 2026")
    expect(rows.first).to_contain_text("20 units")
    screenshot("products-recall")
    with page.expect_download() as got:
        page.click("#recall-csv")
    text = open(got.value.path(), encoding="utf-8-sig").read()
    assert got.value.suggested_filename == "recall-C3709C3.csv"
    assert "Ivy Stone" in text and "Mia Stone" in text and "Noor" not in text
