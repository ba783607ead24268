"""Checkout from the staff calendar's detail panel, in headless Chromium against the real app
(offline test payments; the app's clock is frozen at conftest.FROZEN_NOW, 12:00 in New York)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import select

from medspa.domain.payments.models import LedgerEntry, Payment
from medspa.domain.scheduling.service import change_status
from tests.browser.conftest import FROZEN_NOW
from tests.browser.test_calendar import TODAY, at, block, make_desk, open_day, paid_booking, sign_in, status_in_db


def test_front_desk_checks_a_visit_out_after_a_declined_card(page: Page, app_urls, screenshot):
    desk = make_desk(app_urls)
    visit = paid_booking(desk, at(TODAY, 11, 30), "Farah")  # Botox $350, $50 deposit paid online
    with desk.clinic.session() as s:
        change_status(s, desk.clinic.staff_actor(), visit.id, "check_in", now=FROZEN_NOW)
        s.commit()
    sign_in(page, desk.email)
    open_day(page, desk, TODAY)
    block(page, visit.id).click()
    panel = page.locator("#detail-panel")
    expect(panel.locator("#detail-status")).to_have_text("Checked in")
    section = panel.locator("#checkout-section")
    expect(section.locator("#checkout-sale")).to_have_text("$350.00")
    expect(section.locator("#checkout-applied")).to_have_text("− $50.00")
    expect(section.locator("#checkout-balance")).to_have_text("$300.00")
    expect(section.locator("#checkout-pay")).to_have_text("Charge $300.00")

    # a declined card: the message next to the card field, nothing sold
    section.locator("#checkout-card_number").fill("4000 0000 0000 0002")
    section.locator("#checkout-exp_month").fill("12")
    section.locator("#checkout-exp_year").fill("30")
    section.locator("#checkout-cvc").fill("123")
    section.locator("#checkout-pay").click()
    expect(section.locator("#checkout-card-error")).to_have_text("Your card was declined.")
    expect(panel.locator("#detail-status")).to_have_text("Checked in")
    screenshot("checkout-declined")

    section.locator("#checkout-card_number").fill("4242 4242 4242 4242")
    section.locator("#checkout-pay").click()
    expect(panel.locator("#checkout-done")).to_have_text("Checked out · $300.00 paid")
    expect(panel.locator("#detail-notice")).to_have_text("Checkout complete · card ending 4242")
    expect(panel.locator("#detail-status")).to_have_text("Completed")
    expect(panel.locator("#checkout-section")).to_have_count(0)
    expect(block(page, visit.id)).to_have_attribute("data-status", "completed")
    screenshot("checkout-paid")
    assert status_in_db(desk, visit.id) == "completed"
    with desk.clinic.session() as s:
        lines = s.exec(select(LedgerEntry.entry_type, LedgerEntry.amount_cents)
                       .where(LedgerEntry.appointment_id == visit.id).order_by(LedgerEntry.id)).all()
        payments = s.exec(select(Payment.purpose, Payment.status, Payment.idempotency_key)
                          .where(Payment.appointment_id == visit.id).order_by(Payment.id)).all()
    assert lines == [("deposit_paid", 5000), ("processing_fee", -175), ("sale", 35000), ("deposit_applied", -5000),
                     ("processing_fee", -900)]
    assert payments == [("deposit", "succeeded", f"deposit-{visit.id}-attempt-1"),
                        ("balance", "declined", f"checkout-{visit.id}-attempt-1"),
                        ("balance", "succeeded", f"checkout-{visit.id}-attempt-2")]


def test_front_desk_charges_the_card_on_file_and_types_another_when_it_is_declined(page: Page, app_urls,
                                                                                   screenshot):
    """Trial findings 6 and 12: "Charge $300.00 to Visa ••0341" (the card on file), its decline
    next to the choice, "Type another card" pays; "Pick another time" opens the offered day."""
    from medspa.domain.payments.cards import save_card
    from medspa.domain.payments.gateway import CardDetails, SetupRequest, TestPaymentGateway

    desk = make_desk(app_urls)
    visit = paid_booking(desk, at(TODAY, 11, 30), "Gina")
    clinic = desk.clinic
    saved = TestPaymentGateway(clinic.engine, lambda: FROZEN_NOW).setup_card(SetupRequest(
        org_id=clinic.org_id, idempotency_key="setup-browser-1", card=CardDetails("4000 0000 0000 0341", 12, 2030, "123")))
    with clinic.session() as s:
        change_status(s, clinic.staff_actor(), visit.id, "check_in", now=FROZEN_NOW)
        save_card(s, clinic.system, client_id=visit.client_id, gateway="test", result=saved, now=FROZEN_NOW)
        s.commit()
    sign_in(page, desk.email)
    open_day(page, desk, TODAY)
    block(page, visit.id).click()
    section = page.locator("#detail-panel #checkout-section")
    expect(section.locator("#checkout-pay")).to_have_text("Charge $300.00 to Visa ••0341")
    expect(section.locator("#checkout-card_number")).to_have_count(0)  # no card to type while the saved one is picked
    section.locator("#checkout-pay").click()
    expect(section.locator("#checkout-saved_card-error")).to_have_text("Your card was declined.")
    screenshot("checkout-card-on-file-declined")
    section.locator("#checkout-pay-typed").click()
    expect(section.locator("#checkout-pay")).to_have_text("Charge $300.00")
    section.locator("#checkout-card_number").fill("4242 4242 4242 4242")
    section.locator("#checkout-exp_month").fill("12")
    section.locator("#checkout-exp_year").fill("30")
    section.locator("#checkout-cvc").fill("123")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("checkout-type-another-card-390")
    section.locator("#checkout-pay").click()
    panel = page.locator("#detail-panel")
    expect(panel.locator("#checkout-done")).to_have_text("Checked out · $300.00 paid")
    with clinic.session() as s:
        payments = s.exec(select(Payment.status, Payment.card_last4).where(
            Payment.appointment_id == visit.id, Payment.purpose == "balance").order_by(Payment.id)).all()
    assert payments == [("declined", "0341"), ("succeeded", "4242")]
    page.set_viewport_size({"width": 1280, "height": 900})
    pick = panel.locator("#rebook-pick")
    expect(pick).to_have_attribute("href", re.compile(r"&day=\d{4}-\d{2}-\d{2}$"))
    href = pick.get_attribute("href")
    pick.click()
    day = href.rsplit("day=", 1)[1]
    expect(page.locator("#cal-preset")).to_contain_text("Booking for")
    expect(page.locator("input[type=date]").first).to_have_value(day)
    assert day != TODAY.isoformat()
    screenshot("checkout-pick-another-time")
