"""Moving visits on the staff calendar: drag and drop (dnd-kit) and the edit dialog, in
headless Chromium against the real app, with a second browser on the same clinic that must
see every move live (no reload). Fixtures and helpers: test_calendar.py.

The app's clock is frozen at Wednesday 2026-07-01 12:00 New York; the visits are on
Thursday, both providers work 09:00-17:00.
"""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlmodel import select

from medspa.domain.scheduling.models import Appointment
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_calendar import (
    LIVE_TIMEOUT,
    PASSWORD,
    TODAY,
    at,
    block,
    make_desk,
    open_day,
    script_booking,
    sign_in,
)

THURSDAY = TODAY + timedelta(days=1)
PX_PER_MINUTE = 1.6  # layout.PX_PER_MINUTE


def in_db(desk, appointment_id: int) -> tuple[int, object]:
    with desk.clinic.session() as s:
        appt = s.exec(select(Appointment).where(Appointment.id == appointment_id)).one()
        return appt.provider_id, appt.start_at


def second_browser(browser, base_url: str, desk) -> Page:
    """Another member of the desk on the same clinic and day, in its own browser context."""
    ctx = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    other = ctx.new_page()
    sign_in(other, desk.email, PASSWORD)
    open_day(other, desk, THURSDAY)
    return other


def drag(page: Page, appointment_id: int, *, minutes: int, to_column: int | None = None, shot=None) -> None:
    """Drag a day-grid block `minutes` down (negative: up), into another column if given:
    press, a small move past dnd-kit's activation distance, then the way there in steps."""
    box = block(page, appointment_id).bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + min(box["height"] / 2, 12)
    x1 = x0
    if to_column is not None:
        head = page.locator(f"[data-column='{to_column}']").bounding_box()
        x1 = head["x"] + head["width"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 4, y0 + 8, steps=4)
    page.mouse.move(x1, y0 + minutes * PX_PER_MINUTE, steps=15)
    page.wait_for_timeout(100)
    if shot is not None:
        expect(page.locator("[data-drag-time]")).to_be_visible()  # the start it would get, on the block
        shot()  # mid-drag: the block follows the pointer, snapped to the grid's rows
    page.mouse.up()


def test_drag_to_another_time_and_provider_moves_it_in_every_browser(page: Page, browser, base_url, app_urls,
                                                                     screenshot):
    desk = make_desk(app_urls)
    p1, p2 = desk.clinic.provider_ids
    visit = script_booking(desk, at(THURSDAY, 10), "Lena", "Moreau", provider=p1)
    sign_in(page, desk.email)
    open_day(page, desk, THURSDAY)
    other = second_browser(browser, base_url, desk)
    try:
        expect(block(other, visit.id)).to_contain_text("10:00 AM – 10:30 AM")
        navigations: list[str] = []
        other.on("framenavigated", lambda frame: navigations.append(frame.url))

        # 10:00 -> 11:30, Provider 1 -> Provider 2 (not near the window's edge: dnd-kit would scroll)
        drag(page, visit.id, minutes=90, to_column=p2,
             shot=lambda: page.screenshot(path=str(ARTIFACTS / "calendar-drag-to-column.png")))
        expect(block(page, visit.id)).to_contain_text("11:30 AM – 12:00 PM")
        assert in_db(desk, visit.id) == (p2, at(THURSDAY, 11, 30))
        expect(page.locator("#cal-move-refused")).to_have_count(0)
        # the other browser redraws it live: new time, in Provider 2's column
        expect(block(other, visit.id)).to_contain_text("11:30 AM – 12:00 PM", timeout=LIVE_TIMEOUT)
        column = other.locator(f"[data-column='{p2}']").bounding_box()
        moved = block(other, visit.id).bounding_box()
        assert column["x"] - 2 <= moved["x"] < column["x"] + column["width"], (column, moved)
        assert navigations == []
        screenshot("calendar-drag-moved")
    finally:
        other.context.close()


def test_drag_onto_another_visit_snaps_back_with_the_reason(page: Page, app_urls, screenshot):
    desk = make_desk(app_urls)
    p1, _ = desk.clinic.provider_ids
    visit = script_booking(desk, at(THURSDAY, 10), "Omar", "Reyes", provider=p1)
    busy = script_booking(desk, at(THURSDAY, 11), "Pia", "Sandoval", provider=p1)
    sign_in(page, desk.email)
    open_day(page, desk, THURSDAY)
    home = block(page, visit.id).bounding_box()

    # onto Pia's 11:00 visit; the mid-drag screenshot keeps the viewport (a resize cancels a drag)
    def mid_drag():
        expect(page.locator("[data-drag-time]")).to_have_text("11:00 AM")
        page.screenshot(path=str(ARTIFACTS / "calendar-drag-dragging.png"))

    drag(page, visit.id, minutes=60, shot=mid_drag)
    expect(page.locator("#cal-move-reason")).to_be_visible()
    expect(page.locator("#cal-move-reason")).to_contain_text("Provider 1 is busy then")
    page.wait_for_timeout(300)
    back = block(page, visit.id).bounding_box()
    assert abs(back["y"] - home["y"]) < 2 and abs(back["x"] - home["x"]) < 2, (home, back)
    expect(block(page, visit.id)).to_contain_text("10:00 AM – 10:30 AM")
    assert in_db(desk, visit.id) == (p1, at(THURSDAY, 10))
    assert in_db(desk, busy.id) == (p1, at(THURSDAY, 11))
    screenshot("calendar-drag-refused")

    # the block says it can be moved (cancelled, completed and held ones do not)
    expect(page.locator(f"[data-drag='a{visit.id}']")).to_have_attribute("aria-roledescription", "movable visit")


def test_edit_dialog_changes_the_time_and_cancel_asks_why(page: Page, app_urls, screenshot):
    desk = make_desk(app_urls)
    p1, _ = desk.clinic.provider_ids
    visit = script_booking(desk, at(THURSDAY, 10), "Quinn", "Tran", provider=p1)
    sign_in(page, desk.email)
    open_day(page, desk, THURSDAY)
    block(page, visit.id).click()
    panel = page.locator("#detail-panel")
    expect(panel.locator("#detail-client")).to_have_text("Quinn Tran")
    panel.locator("#detail-edit").click()
    dialog = page.locator("#edit-dialog")
    expect(dialog.locator("#edit-time")).to_have_value("10:00")
    expect(dialog.locator("#edit-day")).to_have_value(THURSDAY.isoformat())
    screenshot("calendar-edit-dialog")
    dialog.locator("#edit-time").fill("15:30")
    dialog.locator("#edit-notes").fill("Moved by phone")
    dialog.locator("#edit-submit").click()
    expect(dialog).to_have_count(0)
    expect(panel.locator("#detail-time")).to_contain_text("3:30 PM – 4:00 PM")
    expect(block(page, visit.id)).to_contain_text("3:30 PM – 4:00 PM")
    assert in_db(desk, visit.id) == (p1, at(THURSDAY, 15, 30))

    # a time outside the provider's hours is refused with the reason, nothing changes
    panel.locator("#detail-edit").click()
    dialog.locator("#edit-time").fill("19:00")
    dialog.locator("#edit-submit").click()
    expect(dialog.locator("#edit-reason")).to_be_visible()
    assert in_db(desk, visit.id) == (p1, at(THURSDAY, 15, 30))
    screenshot("calendar-edit-refused")
    dialog.locator("button", has_text="Close").click()

    # the desk's cancel asks why: "Other" needs a note
    panel.locator("#detail-cancel").click()
    panel.locator("#cancel-reason-other").click()
    panel.locator("#detail-cancel-confirm").click()
    expect(panel.locator("#detail-cancel-note-error")).to_be_visible()
    screenshot("calendar-cancel-reason")
    panel.locator("#cancel-reason-weather").click()
    panel.locator("#detail-cancel-note").fill("Snow storm")
    panel.locator("#detail-cancel-confirm").click()
    expect(panel.locator("#detail-status")).to_have_text("Cancelled")
    with desk.clinic.session() as s:
        appt = s.exec(select(Appointment).where(Appointment.id == visit.id)).one()
        assert (appt.cancellation_reason, appt.cancellation_note) == ("weather", "Snow storm")


def test_week_view_drag_to_another_day_and_provider(page: Page, app_urls, screenshot):
    desk = make_desk(app_urls)
    p1, p2 = desk.clinic.provider_ids
    visit = script_booking(desk, at(THURSDAY, 10), "Rosa", "Ueda", provider=p1)
    sign_in(page, desk.email)
    open_day(page, desk, THURSDAY, span="week")
    friday = THURSDAY + timedelta(days=1)
    chip = page.locator(f"[data-week-appointment='{visit.id}']")
    expect(chip).to_contain_text("Rosa Ueda")
    target = page.locator(f"[data-week-cell='{friday.isoformat()}']").nth(1)  # rows: Provider 1, Provider 2
    box, goal = chip.bounding_box(), target.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 6, y0 + 6, steps=4)
    page.mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + goal["height"] / 2, steps=15)
    page.wait_for_timeout(100)
    page.mouse.up()
    # the same local time, the new day and provider
    expect(target.locator(f"[data-week-appointment='{visit.id}']")).to_contain_text("10:00 AM")
    assert in_db(desk, visit.id) == (p2, at(friday, 10))
    screenshot("calendar-week-drag")
