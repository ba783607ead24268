"""Late-cancel and no-show fees and the checkout's next-visit offer (issue 16), in headless
Chromium against the real app (offline test payments; the app's clock is frozen at
conftest.FROZEN_NOW, 12:00 in New York)."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlmodel import select

from medspa.domain.identity.service import create_user
from medspa.domain.payments.fee_actions import do_set_fees
from medspa.domain.payments.models import PolicyFee
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.policy import FeeTerms
from medspa.domain.scheduling.service import change_status
from tests.browser.conftest import FROZEN_NOW
from tests.browser.test_audit import owner_session
from tests.browser.test_calendar import PASSWORD, TODAY, at, block, make_desk, open_day, paid_booking, sign_in
from tests.test_policy_fees import _save_card

PHONE = {"width": 390, "height": 844}


def test_desk_marks_a_no_show_and_the_unpaid_fee_shows_on_the_visit_and_the_ledger(page: Page, app_urls, screenshot):
    desk = make_desk(app_urls)
    do_set_fees(desk.clinic.staff_actor("owner"), desk.clinic.location_id, FeeTerms(), FeeTerms("flat", 7500),
                engine=desk.engine)
    visit = paid_booking(desk, at(TODAY, 10), "Nora")  # Botox $350, $50 deposit paid online
    _save_card(desk.engine, desk.clinic, visit.client_id, "4000002760003184")  # needs authentication off-session
    sign_in(page, desk.email)
    open_day(page, desk, TODAY)
    block(page, visit.id).click()
    panel = page.locator("#detail-panel")
    panel.locator("#detail-no-show").click()  # asks first, with what it costs
    expect(panel.locator("#detail-no-show-preview")).to_have_text(
        "A no-show fee of $75.00 applies: $50.00 from the deposit, $25.00 charged to Visa ••3184.")
    expect(panel.locator("#detail-status")).to_have_text("Confirmed")
    screenshot("fees-no-show-confirm")
    panel.locator("#detail-no-show-confirm").click()
    expect(panel.locator("#detail-status")).to_have_text("No-show")
    expect(panel.locator("#detail-fee")).to_have_text(
        "No-show fee $75.00: $50.00 from the deposit, $25.00 unpaid, needs action: The card needs the client's "
        "authentication (3-D Secure): collect it from the client")
    expect(panel.locator("#fee-waive")).to_have_count(0)  # the front desk cannot waive
    expect(panel.locator("#fee-charge-again")).to_have_text("Charge card on file again (Visa ••3184)")
    screenshot("fees-no-show-panel")

    panel.locator("#detail-profile-link").click()
    fees = page.locator("#profile-fees")
    expect(fees).to_contain_text("No-show fee $75.00")
    expect(fees).to_contain_text("unpaid, needs action")
    expect(page.locator("#profile-ledger")).to_contain_text("Deposit kept for the fee $50.00")
    screenshot("fees-ledger-desktop")
    page.set_viewport_size(PHONE)
    expect(fees).to_be_visible()
    fees.scroll_into_view_if_needed()
    screenshot("fees-ledger-phone")
    with desk.clinic.session() as s:
        [fee] = s.exec(select(PolicyFee).where(PolicyFee.appointment_id == visit.id)).all()
    assert (fee.status, fee.applied_cents, fee.charge_cents, fee.charged_cents) == ("unpaid_needs_action", 5000,
                                                                                    2500, 0)


def test_manager_sets_fees_waives_one_and_checkout_offers_the_next_visit(page: Page, app_urls, base_url,
                                                                          screenshot):
    desk = make_desk(app_urls)
    email = f"manager-{desk.clinic.slug}@example.com"
    with desk.clinic.session() as s:
        create_user(s, desk.clinic.system, email=email, password=PASSWORD, role="manager", display_name="Mia Manager")
        s.commit()
    owner_session(page, base_url, desk.clinic, email)  # managers sign in with a second factor: a session instead

    # the Locations tab: the fee block with the rounding rule, a bad amount, then saved
    page.goto("/settings")
    page.click("#settings-tab-locations")
    card = page.locator(".loc-card").first
    expect(card.locator(".loc-fees")).to_contain_text("rounded half up to whole cents")
    card.locator(".loc-edit-fees").click()
    dialog = page.locator("#fee-dialog")
    dialog.locator("#fee-no_show-term").click()
    page.get_by_role("option", name="Percent of the service price").click()
    dialog.locator("#fee-no_show-amount").fill("150")
    dialog.locator("#fee-save").click()
    expect(dialog.locator("#fee-no_show-error")).to_have_text("At most 100% of the service price")
    screenshot("fees-settings-dialog")
    dialog.locator("#fee-no_show-amount").fill("20")
    dialog.locator("#fee-save").click()
    expect(page.locator("#fee-message")).to_be_visible()
    expect(card.locator(".loc-fee-line").nth(1)).to_have_text("No-show: 20% of the service price")
    screenshot("fees-settings-card")

    # a no-show under that fee (20 % of $350 = $70 > the $50 deposit; no card: unpaid), waived
    visit = paid_booking(desk, at(TODAY, 9), "Wren")
    other = paid_booking(desk, at(TODAY, 11), "Kai")
    with desk.clinic.session() as s:
        change_status(s, desk.clinic.staff_actor(), other.id, "check_in", now=FROZEN_NOW)
        s.commit()
    open_day(page, desk, TODAY)
    block(page, visit.id).click()
    panel = page.locator("#detail-panel")
    panel.locator("#detail-no-show").click()
    panel.locator("#detail-no-show-confirm").click()
    expect(panel.locator("#detail-fee")).to_contain_text("No-show fee $70.00: $50.00 from the deposit, $20.00 unpaid")
    panel.locator("#fee-waive").click()
    panel.locator("#fee-waive-confirm").click()
    expect(panel.locator("#fee-waive-error")).to_have_text("Say why the fee is waived")
    panel.locator("#fee-waive-reason").fill("Flight cancelled, first time")
    panel.locator("#fee-waive-confirm").click()
    expect(panel.locator("#detail-fee")).to_have_text("No-show fee $70.00: waived (Flight cancelled, first time)")
    screenshot("fees-waived-panel")

    # checkout of the other visit offers its next visit; booking it records the rebooking
    panel.locator("#detail-close").click()
    block(page, other.id).click()
    section = panel.locator("#checkout-section")
    section.locator("#checkout-card_number").fill("4242 4242 4242 4242")
    section.locator("#checkout-exp_month").fill("12")
    section.locator("#checkout-exp_year").fill("30")
    section.locator("#checkout-cvc").fill("123")
    section.locator("#checkout-pay").click()
    offer = panel.locator("#checkout-rebook")
    expect(offer.locator("#rebook-from")).to_have_text("Next free time from 4 weeks after this visit")
    expect(offer.locator("#rebook-when")).to_have_text("Wed, Jul 29, 11:00 AM EDT with Provider 1")
    expect(offer.locator("#rebook-pick")).to_be_visible()
    screenshot("fees-checkout-rebook")
    offer.locator("#rebook-book").click()
    expect(offer.locator("#rebook-message")).to_contain_text("Next visit booked: Botox on")
    with desk.clinic.session() as s:
        rebooked = s.exec(select(Appointment).where(Appointment.rebooked_from_id == other.id)).all()
    assert len(rebooked) == 1 and rebooked[0].status == "confirmed"
