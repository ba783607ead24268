"""/settings, Services tab, in headless Chromium against the real app: the owner adds a
service with a price and a deposit, gets a message under the deposit when it is above the
price (nothing saved), fixes it, and the service is then offered on /book/{slug}.

Screenshots at 1440 wide: the list, the dialog with the field message, the list after.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlmodel import select

import medspa.domain.models  # noqa: F401  (every table)
from medspa.domain.catalog.models import Service
from medspa.domain.identity.service import create_user
from tests.browser.test_audit import PASSWORD, _engine, owner_session
from tests.browser.test_outbox import shot
from tests.factories import build_clinic


def test_owner_adds_a_service_that_clients_can_book(page: Page, app_urls, base_url, screenshot):
    clinic = build_clinic(_engine(app_urls[0]), _engine(app_urls[1]), providers=2)
    email = f"owner-{clinic.slug}@example.com"
    with clinic.session() as s:
        create_user(s, clinic.system, email=email, password=PASSWORD, role="owner", display_name="Olivia Owner")
        s.commit()
    page.set_viewport_size({"width": 1440, "height": 960})
    owner_session(page, base_url, clinic, email)
    page.goto("/calendar")
    page.click("#nav-settings")  # the owner finds it in the staff header
    page.wait_for_url("**/settings")
    expect(page.locator(".svc-row")).to_have_count(3)
    expect(page.locator(".svc-category")).to_have_count(3)
    screenshot("settings-services")

    page.click("#svc-new")
    expect(page.locator("#svc-dialog")).to_be_visible()
    page.fill("#svc-name", "Lip filler")
    page.fill("#svc-category", "Dermal fillers")
    page.fill("#svc-description", "Hyaluronic acid filler for fuller, defined lips.")
    page.fill("#svc-duration_minutes", "45")
    page.fill("#svc-buffer_after_minutes", "10")
    page.fill("#svc-price_cents", "650")
    page.fill("#svc-deposit_cents", "700")
    page.click("#svc-save")
    expect(page.locator("#svc-deposit_cents-error")).to_have_text("Deposit cannot be more than the price")
    expect(page.locator("#svc-deposit_cents")).to_have_attribute("aria-invalid", "true")
    shot(page, "settings-service-dialog-error")
    with clinic.session() as s:
        assert s.exec(select(Service).where(Service.name == "Lip filler")).first() is None  # nothing half-saved

    page.fill("#svc-deposit_cents", "100")
    expect(page.locator("#svc-deposit_cents-error")).to_have_count(0)
    page.click("#svc-save")
    expect(page.locator("#svc-dialog")).to_have_count(0)
    expect(page.locator("#settings-message")).to_have_text("Lip filler was added")
    row = page.locator(".svc-row", has_text="Lip filler")
    expect(row.locator(".svc-price")).to_have_text("$650.00")
    expect(row.locator(".svc-deposit")).to_have_text("$100.00")
    screenshot("settings-services-added")
    with clinic.session() as s:
        svc = s.exec(select(Service).where(Service.name == "Lip filler")).one()
        assert (svc.price_cents, svc.deposit_cents, svc.duration_minutes, svc.buffer_after_minutes) == (
            65000, 10000, 45, 10)

    page.goto(f"/book/{clinic.slug}")
    expect(page.get_by_role("heading", name="Choose a treatment")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("button", name="Lip filler")).to_be_visible()
    screenshot("settings-service-on-booking-page")
