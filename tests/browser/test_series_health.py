"""A flagged recurring series from the calendar's book dialog (issue 17): the series part shows
the contraindication callout (the desk's generic words) with its own reason field; Book
without a reason is refused next to the field with nothing booked; with the reason typed (and
Book pressed at once) every visit is booked and the reason kept per visit. Desktop and a
390 px phone width, screenshots in tests/artifacts/."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import text

from medspa.clock import FixedClock
from medspa.domain.clinical.contraindications import GENERIC
from medspa.domain.clinical.history_actions import do_update_history
from tests.browser.test_calendar import FROZEN_NOW, TODAY, make_desk, new_client, open_day, sign_in

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
REASON = "Provider reviewed: delivered in May, not breastfeeding"


def test_a_flagged_series_needs_the_reason_typed_in_the_series_part(page: Page, app_urls, screenshot):
    desk = make_desk(app_urls)
    client = new_client(desk, "Greta", "Flagged")
    do_update_history(desk.clinic.staff_actor("provider"), client,
                      {"pregnancy": {"pregnant": True, "breastfeeding": False}}, clock=FixedClock(FROZEN_NOW),
                      engine=desk.engine)
    thursday = TODAY + timedelta(days=1)
    p1 = desk.clinic.provider_ids[0]
    sign_in(page, desk.email)
    open_day(page, desk, thursday)
    page.locator(f".cal-slot[data-slot-column='{p1}'][data-slot-minute='600']").click()
    dialog = page.locator("#book-dialog")
    dialog.locator("#book-search").fill("Greta")
    dialog.locator("[data-client-id]", has_text="Greta Flagged").click()
    dialog.locator("#book-service").click()
    page.get_by_role("option", name="Botox · 30 min · $350.00").click()
    expect(dialog.locator("#book-health")).to_contain_text(GENERIC)
    dialog.locator("#book-repeat").click()
    page.get_by_role("option", name="Weekly on Thursday").click()
    expect(dialog.locator("#book-health")).to_have_count(0)  # the series part has its own
    expect(dialog.locator("#series-health")).to_contain_text(GENERIC)
    dialog.locator("#series-count").fill("3")
    dialog.locator("#series-check").click()
    expect(dialog.locator(".series-row")).to_have_count(3)
    dialog.locator("#series-book").click()
    expect(dialog.locator("#series-health [data-error='health_reason']")).to_have_text(
        "A contraindication is flagged: give the reason to go ahead")
    with desk.clinic.session() as s:
        assert s.execute(text("select count(*) from appointment where location_id = :l"),
                         {"l": desk.clinic.location_id}).scalar() == 0
    screenshot("series-health-refused-1280")
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    dialog.locator("#series-health").scroll_into_view_if_needed()
    screenshot("series-health-refused-390")
    page.set_viewport_size(DESKTOP)
    dialog.locator("#series-health-reason").fill(REASON)
    dialog.locator("#series-book").click()  # at once: the reason must not be lost to the typing's debounce
    expect(dialog).to_have_count(0)
    expect(page.locator("[data-sonner-toast]")).to_contain_text("Series booked: 3 visits")
    with desk.clinic.session() as s:
        rows = s.execute(text("select o.reason, o.stage from health_override o join appointment a "
                              "on a.id = o.appointment_id where a.location_id = :l"),
                         {"l": desk.clinic.location_id}).all()
    assert [tuple(r) for r in rows] == [(REASON, "booking")] * 3
