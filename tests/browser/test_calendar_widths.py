"""Issue 15: the staff calendar at the desk's iPad and the treatment room's tablet (768 and
1024 px wide) and its header on a phone (390 px): nothing cut off, the account menu at hand.

Screenshots go to tests/artifacts/calendar-width-*.png.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.test_accounts import code_at, make_clinic, password_step
from tests.browser.test_calendar import LIVE_TIMEOUT

TOOLBAR = ("#cal-today", "#cal-prev", "#cal-next", "#cal-title", "#cal-date", "#cal-location", "#cal-span",
           "#cal-view", "#cal-show-cancelled", "#cal-find-code", "#cal-find")
OWNER_LINKS = ("calendar", "clients", "dashboard", "outbox", "audit", "staff", "settings", "account")


def _inside(page: Page, selector: str, width: int) -> dict:
    """The element's box, asserted to lie within the viewport's width."""
    box = None
    for _ in range(20):  # a header re-rendered just after a navigation has no box for a moment (seen in CI)
        box = page.locator(selector).bounding_box()
        if box is not None:
            break
        page.wait_for_timeout(250)
    assert box is not None, f"{selector} is not shown"
    assert box["x"] >= -0.5 and box["x"] + box["width"] <= width + 0.5, (selector, box, width)
    return box


def _account_menu_opens(page: Page, width: int) -> None:
    page.click("#account-menu-button")
    expect(page.locator("#account-menu")).to_be_visible()
    expect(page.locator("#account-menu-name")).to_have_text("Olivia Owner")
    for selector in ("#account-menu", "#account-menu-account", "#account-menu-sign-out"):
        _inside(page, selector, width)


def test_the_calendar_fits_tablets_and_its_header_a_phone(page: Page, app_urls, screenshot):
    clinic, emails, secret = make_clinic(app_urls)  # the owner: the most pages in the bar
    page.set_viewport_size({"width": 1024, "height": 768})
    password_step(page, emails["owner"])
    page.wait_for_url("**/login/verify?next=/calendar")
    page.fill("#verify-code", code_at(secret))
    page.click("#verify-submit")
    page.wait_for_url("**/calendar")
    expect(page.locator("#calendar")).not_to_have_attribute("data-version", "0", timeout=LIVE_TIMEOUT)

    for width, height in ((1024, 768), (768, 1024)):
        page.set_viewport_size({"width": width, "height": height})
        expect(page.locator("#nav-menu-button")).to_be_hidden()
        nav = _inside(page, "#staff-nav", width)
        for key in OWNER_LINKS:  # every page's link is in the bar, none clipped by it
            link = _inside(page, f"#nav-{key}", width)
            assert link["x"] + link["width"] <= nav["x"] + nav["width"] + 0.5, (key, link, nav)
        for selector in (*TOOLBAR, "#account-menu-button"):
            _inside(page, selector, width)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(f"calendar-width-{width}")
        _account_menu_opens(page, width)
        screenshot(f"calendar-width-{width}-account-menu")
        page.keyboard.press("Escape")
        expect(page.locator("#account-menu")).to_be_hidden()

    # booking from an empty cell on the tablet: the dialog fits and offers the provider's free starts
    page.set_viewport_size({"width": 768, "height": 1024})
    provider = clinic.provider_ids[0]
    page.locator(f".cal-slot[data-slot-column='{provider}'][data-slot-minute='840']").click()
    dialog = page.locator("#book-dialog")
    dialog.locator("#book-service").click()
    page.get_by_role("option", name="Botox · 30 min · $350.00").click()
    expect(dialog.locator("#book-time")).to_have_text("2:00 PM EDT")
    for selector in ("#book-dialog", "#book-service", "#book-time", "#book-submit"):
        _inside(page, selector, 768)
    screenshot("calendar-width-768-book-dialog")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    # a phone: the pages behind one button, the account menu still there, the toolbar wraps
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#staff-nav")).to_be_hidden()
    for selector in ("#clinic-name", "#nav-menu-button", "#account-menu-button", *TOOLBAR):
        _inside(page, selector, 390)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("calendar-width-390")
    page.click("#nav-menu-button")
    expect(page.locator("#nav-menu")).to_be_visible()
    for key in OWNER_LINKS:
        _inside(page, f"#menu-nav-{key}", 390)
    screenshot("calendar-width-390-pages-menu")
    page.keyboard.press("Escape")
    _account_menu_opens(page, 390)
    screenshot("calendar-width-390-account-menu")
    page.click("#account-menu-account")
    page.wait_for_url("**/account")
    expect(page.locator("#account-menu-button")).to_be_visible()
    _inside(page, "#account-menu-button", 390)
    screenshot("account-width-390")

    # the tablet's account menu signs out
    page.set_viewport_size({"width": 768, "height": 1024})
    page.click("#account-menu-button")
    page.click("#account-menu-sign-out")
    page.wait_for_url("**/login**")
    page.goto("/calendar")
    page.wait_for_url("**/login?next=/calendar")
