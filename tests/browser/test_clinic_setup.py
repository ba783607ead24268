"""A real clinic moves in, in headless Chromium (issue 13): from the empty database the test
server starts on (DEMO_SEED=0), the one-time set-up link it printed creates a clinic at
/setup; the owner accepts the invitation (password, forced two-factor set-up), invites a
front-desk member on /staff, who opens the link, sets a password and lands signed in."""

from __future__ import annotations

import re
import time
import uuid

from playwright.sync_api import Page, expect

from tests.browser.test_accounts import code_at

PASSWORD = "harbour violet kettle"
LINK = re.compile(r"(http://\S+/setup\?token=[A-Za-z0-9_-]+)")


def _setup_link(log_path) -> str:
    """The set-up link `medspa serve` printed on the empty database (the banner follows /ping)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = LINK.search(log_path.read_text(errors="replace"))
        if found:
            return found.group(1)
        time.sleep(0.25)
    raise AssertionError(f"no set-up link in {log_path}")


def test_new_clinic_from_the_setup_link_then_owner_invites_front_desk(page: Page, browser, base_url,
                                                                     browser_server, screenshot):
    link = _setup_link(browser_server.log_path)
    slug = f"glow-{uuid.uuid4().hex[:6]}"
    page.goto("/setup?token=not-the-token")
    expect(page.locator("#setup-invalid")).to_contain_text("not valid")

    page.goto(link.split(base_url, 1)[1])
    expect(page.locator("#setup-form")).to_be_visible()
    page.fill("#setup-name", "Glow Aesthetics")
    page.fill("#setup-slug", slug)
    page.fill("#setup-location_name", "River North")
    page.fill("#setup-address", "401 N Wabash Ave, Chicago")
    page.fill("#setup-time_zone", "America/Chicago")
    page.fill("#setup-phone", "12")
    page.fill("#setup-owner_name", "Ada Glow")
    page.fill("#setup-owner_email", f"ada@{slug}.example")
    page.click("#setup-submit")
    expect(page.locator("#setup-phone-error")).to_have_text("This phone number is not valid")
    screenshot("setup-form-error")
    page.fill("#setup-phone", "(212) 555-0123")
    page.click("#setup-submit")
    expect(page.locator("#setup-invite-link")).to_contain_text("/invite?token=")
    screenshot("setup-done")
    owner_link = page.locator("#setup-invite-link").inner_text().strip()

    # the owner: password, then the forced two-factor set-up, then signed in
    page.goto(owner_link.split(base_url, 1)[1])
    expect(page.locator("#invite-clinic")).to_have_text("Glow Aesthetics")
    expect(page.locator("#invite-role")).to_have_text("Owner")
    page.fill("#invite-password", "short")
    page.click("#invite-submit")
    expect(page.locator("#invite-error")).to_contain_text("Use at least 12 characters")
    screenshot("invite-owner-weak-password")
    page.fill("#invite-password", PASSWORD)
    page.click("#invite-submit")
    page.wait_for_url("**/login/enrol?next=/calendar")
    expect(page.locator("#enrol-qr")).to_be_visible()
    expect(page.locator("#enrol-key")).to_have_text(re.compile(r"[A-Z2-7 ]{26,}"))
    key = page.locator("#enrol-key").inner_text().replace(" ", "")
    page.fill("#enrol-code", code_at(key))
    page.click("#enrol-submit")
    page.click("#recovery-continue")
    page.wait_for_url("**/calendar")
    expect(page.locator("#staff-name")).to_have_text("Ada Glow")

    # the owner invites a front-desk member
    page.goto("/staff")
    page.fill("#invite-email", f"dee@{slug}.example")
    page.fill("#invite-name", "Dee Desk")
    page.select_option("#invite-role", "front_desk")
    page.fill("#invite-title", "Front desk coordinator")
    page.click("#invite-send")
    expect(page.locator("#invite-link")).to_contain_text("/invite?token=")
    expect(page.locator(".invite-row")).to_have_count(1)
    expect(page.locator(".invite-row")).to_contain_text("Front desk")
    screenshot("staff-invite")
    desk_link = page.locator("#invite-link").inner_text().strip().split(base_url, 1)[1]

    # ... who opens the link in their own browser, sets a password and lands signed in
    desk = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}).new_page()
    try:
        desk.goto(desk_link)
        expect(desk.locator("#invite-role")).to_have_text("Front desk")
        desk.screenshot(path=str(screenshot("staff-invite").parent / "invite-front-desk.png"), full_page=True)
        desk.fill("#invite-password", PASSWORD + " desk")
        desk.click("#invite-submit")
        desk.wait_for_url("**/calendar")
        expect(desk.locator("#staff-name")).to_have_text("Dee Desk")
        desk.goto(desk_link)  # single use
        expect(desk.locator("#invite-invalid")).to_contain_text("already used")
    finally:
        desk.context.close()
    page.goto("/staff")
    expect(page.locator(".staff-row[data-email='dee@" + slug + ".example']")).to_contain_text("front desk")
    expect(page.locator(".invite-row")).to_have_count(0)
