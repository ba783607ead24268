"""Recurring series from the staff calendar (issue 16, section 2): book a weekly series from
the booking dialog (the dates checked first: a busy one moved to another time), then cancel
one of its visits from the panel; the first visit shows its deposit due (no card on file).
Desktop and a 390 px phone width, screenshots in tests/artifacts/. The app's clock is frozen at Wednesday 2026-07-01, 12:00 in New York."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlmodel import select

from medspa.domain.scheduling.models import Appointment
from tests.browser.test_calendar import TODAY, at, block, make_desk, new_client, open_day, script_booking, sign_in

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def test_book_a_weekly_series_and_cancel_one_visit(page: Page, app_urls, screenshot):
    desk = make_desk(app_urls)
    new_client(desk, "Ingrid", "Larsen")
    thursday = TODAY + timedelta(days=1)  # July 2
    p2 = desk.clinic.provider_ids[1]
    busy = script_booking(desk, at(thursday + timedelta(weeks=2), 10), "Other", "Client", provider=p2)  # July 16
    sign_in(page, desk.email)
    open_day(page, desk, thursday)
    page.locator(f".cal-slot[data-slot-column='{p2}'][data-slot-minute='600']").click()
    dialog = page.locator("#book-dialog")
    dialog.locator("#book-search").fill("Ingr")
    dialog.locator("[data-client-id]", has_text="Ingrid Larsen").click()
    dialog.locator("#book-service").click()
    page.get_by_role("option", name="Botox · 30 min · $350.00").click()
    expect(dialog.locator("#book-time")).to_have_text("10:00 AM EDT")
    dialog.locator("#book-repeat").click()
    page.get_by_role("option", name="Weekly on Thursday").click()
    expect(dialog.locator("#book-submit")).to_have_count(0)  # a series books with its own button
    dialog.locator("#series-count").fill("4")
    dialog.locator("#series-check").click()
    rows = dialog.locator(".series-row")
    expect(rows).to_have_count(4)
    expect(dialog.locator("#series-summary")).to_contain_text("Weekly on Thursday, 4 visits · 3 of 4 free")
    expect(dialog.locator("#series-summary")).to_contain_text(
        "deposit $50.00 first visit only, due: no card on file, collected at checkout")
    expect(rows.nth(2)).to_contain_text("Thu, Jul 16, 2026")
    expect(rows.nth(2)).to_contain_text("Provider 2 is busy then")
    expect(dialog.locator("[data-series-pick='2']")).to_have_text("Skip this date")
    dialog.locator("[data-series-pick='2']").click()
    page.get_by_role("option", name="Move to 10:30 AM").click()
    expect(dialog.locator("[data-series-pick='2']")).to_have_text("Move to 10:30 AM")
    expect(dialog.locator("#series-book")).to_have_text("Book 4 visits")
    screenshot("series-preview-1280")
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    screenshot("series-preview-390")
    page.set_viewport_size(DESKTOP)
    dialog.locator("#series-book").click()
    expect(dialog).to_have_count(0)
    # a message that stays long enough to read: how many visits and which dates
    expect(page.locator("[data-sonner-toast]")).to_contain_text("Series booked: 4 visits (Jul 2, Jul 9, Jul 16, Jul 23)")
    screenshot("series-booked-1280")
    expect(page.locator(".cal-block", has_text="Ingrid Larsen")).to_contain_text("10:00 AM – 10:30 AM")
    with desk.clinic.session() as s:
        visits = s.exec(select(Appointment).where(Appointment.series_id.is_not(None))
                        .where(Appointment.location_id == desk.clinic.location_id)
                        .order_by(Appointment.start_at)).all()
    assert [(v.series_index, v.start_at, v.status, v.provider_id) for v in visits] == [
        (0, at(thursday, 10), "confirmed", p2), (1, at(thursday + timedelta(weeks=1), 10), "confirmed", p2),
        (2, at(thursday + timedelta(weeks=2), 10, 30), "confirmed", p2),
        (3, at(thursday + timedelta(weeks=3), 10), "confirmed", p2)]
    assert busy.id not in {v.id for v in visits}

    # cancel only the second visit (July 9) from its panel
    second = visits[1]
    open_day(page, desk, thursday + timedelta(weeks=1))
    block(page, second.id).click()
    panel = page.locator("#detail-panel")
    expect(panel.locator("#detail-series")).to_have_text("Visit 2 of 4 · Weekly at 10:00 AM")
    panel.locator("#detail-cancel").click()
    expect(panel.locator("#cancel-scope-one")).to_be_visible()
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    screenshot("series-cancel-390")
    page.set_viewport_size(DESKTOP)
    screenshot("series-cancel-1280")
    panel.locator("#detail-cancel-confirm").click()  # "This visit only" is the default
    expect(panel.locator("#detail-status")).to_have_text("Cancelled")
    with desk.clinic.session() as s:
        statuses = [s.get(Appointment, v.id).status for v in visits]
    assert statuses == ["confirmed", "cancelled", "confirmed", "confirmed"]

    # the first visit's deposit: no card on file, so it is due and checkout collects it
    open_day(page, desk, thursday)
    block(page, visits[0].id).click()
    expect(panel.locator("#detail-deposit")).to_have_text("$50.00 due · no card on file: collect it at checkout")
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    screenshot("series-deposit-due-390")
