"""Staff accounts in headless Chromium against the real app: password + TOTP sign-in, forced
two-factor set-up with recovery codes, lockout, forgot/reset through the outbox link, /account
and the owner's /staff page (deactivating a user ends their open calendar).

The app's clock is frozen at FROZEN_NOW, so TOTP codes are computed for that instant (a code
is accepted once; FROZEN_NOW + 30 s gives the next step's code). The server encrypts TOTP
secrets with conftest.TEST_SECRET_KEY: the tests store a known secret the same way.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pyotp
from playwright.sync_api import Page, expect
from sqlmodel import select

from medspa.domain.identity.models import SignInGuard, UserAccount
from medspa.domain.identity.secretbox import _fernet
from medspa.domain.identity.service import create_user
from medspa.domain.messaging.models import OutboxMessage
from tests.browser.conftest import FROZEN_NOW, TEST_SECRET_KEY
from tests.browser.test_calendar import LIVE_TIMEOUT, _engine
from tests.factories import build_clinic

PASSWORD = "accounts-password-2026"
NEW_PASSWORD = "plum orchard lantern"


def make_clinic(urls: tuple[str, str]):
    """A clinic with an owner (TOTP set up with a known secret), a provider without two-factor
    and a front-desk login. Returns (clinic, {role: email}, owner secret)."""
    clinic = build_clinic(_engine(urls[0]), _engine(urls[1]), providers=1)
    tag = clinic.slug
    emails = {r: f"{r.replace('_', '')}-{tag}@example.com" for r in ("owner", "provider", "front_desk")}
    names = {"owner": "Olivia Owner", "provider": "Priya Provider", "front_desk": "Dana Desk"}
    secret = pyotp.random_base32()
    with clinic.session() as s:
        for role, email in emails.items():
            create_user(s, clinic.system, email=email, password=PASSWORD, role=role, display_name=names[role])
        s.flush()
        owner = s.exec(select(UserAccount).where(UserAccount.email == emails["owner"])).one()
        owner.totp_secret_enc = _fernet(TEST_SECRET_KEY).encrypt(secret.encode()).decode()
        owner.totp_confirmed_at = FROZEN_NOW - timedelta(days=30)
        s.add(owner)
        s.commit()
    return clinic, emails, secret


def code_at(secret: str, seconds: int = 0) -> str:
    return pyotp.TOTP(secret).at(FROZEN_NOW + timedelta(seconds=seconds))


def password_step(page: Page, email: str, password: str = PASSWORD, path: str = "/calendar") -> None:
    page.goto(path)
    page.wait_for_url(f"**/login?next={path}")
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.click("#login-submit")


def test_owner_signs_in_with_password_and_totp_and_manages_staff(page: Page, browser, base_url, app_urls,
                                                                  screenshot):
    clinic, emails, secret = make_clinic(app_urls)

    # the front desk has the calendar open in another browser
    desk_ctx = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    desk = desk_ctx.new_page()
    password_step(desk, emails["front_desk"])
    desk.wait_for_url("**/calendar")
    expect(desk.locator("#staff-name")).to_have_text("Dana Desk")
    expect(desk.locator("#nav-calendar")).to_be_visible()
    expect(desk.locator("#nav-account")).to_be_visible()
    expect(desk.locator("#nav-staff")).to_have_count(0)  # owner-only links are not there
    expect(desk.locator("#nav-audit")).to_have_count(0)

    page.goto("/calendar")
    page.wait_for_url("**/login?next=/calendar")
    page.fill("#login-email", emails["owner"])
    page.fill("#login-password", PASSWORD)
    screenshot("accounts-login")
    page.click("#login-submit")
    page.wait_for_url("**/login/verify?next=/calendar")
    assert "medspa_session" not in [c["name"] for c in page.context.cookies()]
    challenge = next(c for c in page.context.cookies() if c["name"] == "medspa_challenge")
    assert challenge["httpOnly"] is True and challenge["sameSite"] == "Strict"
    assert challenge["value"] not in page.content()
    page.fill("#verify-code", "000000")
    page.click("#verify-submit")
    expect(page.locator("#verify-error")).to_have_text(
        "That code is not right; enter the current 6-digit code or a recovery code")
    page.fill("#verify-code", code_at(secret))
    screenshot("accounts-verify")
    page.click("#verify-submit")
    page.wait_for_url("**/calendar")
    expect(page.locator("#staff-name")).to_have_text("Olivia Owner")
    expect(page.locator("#clinic-name")).to_have_text("Test Clinic")
    expect(page.locator("#nav-audit")).to_be_visible()
    expect(page.locator("#nav-staff")).to_be_visible()
    assert [c["name"] for c in page.context.cookies() if c["name"] == "medspa_challenge"] == []

    # /account: two-factor is on, 0 recovery codes (set up outside the app)
    page.click("#nav-account")
    page.wait_for_url("**/account")
    expect(page.locator("#account-2fa-status")).to_have_attribute("data-enabled", "true")
    expect(page.locator("#account-codes-left")).to_have_text("0 recovery codes left")
    page.fill("#account-regen-code", code_at(secret, 30))
    page.click("#account-regen-submit")
    expect(page.locator(".account-recovery-code")).to_have_count(10)
    expect(page.locator("#account-codes-left")).to_have_text("10 recovery codes left")
    screenshot("accounts-account")

    # /staff: the owner deactivates the front desk; the desk's open calendar stops working
    page.click("#nav-staff")
    page.wait_for_url("**/staff")
    rows = page.locator(".staff-row")
    expect(rows).to_have_count(3)
    desk_row = page.locator(f".staff-row[data-email='{emails['front_desk']}']")
    provider_row = page.locator(f".staff-row[data-email='{emails['provider']}']")
    expect(desk_row.locator(".staff-role")).to_have_text("front desk")
    expect(desk_row.locator(".staff-sessions")).to_have_text("1")
    expect(provider_row.locator(".staff-2fa")).to_have_text("OffRequired by role")
    desk_row.locator(".staff-require-2fa").click()
    expect(page.locator("#staff-message")).to_have_text(
        "Dana Desk now needs two-factor sign-in (from the next sign-in)")
    expect(desk_row.locator(".staff-2fa")).to_have_text("OffRequired")
    desk_row.locator(".staff-deactivate").click()
    expect(page.locator("#staff-message")).to_have_text("Dana Desk was deactivated and signed out")
    expect(desk_row.locator(".staff-active")).to_have_text("Deactivated")
    expect(desk_row.locator(".staff-sessions")).to_have_text("0")
    expect(desk_row.locator(".staff-reactivate")).to_be_visible()
    screenshot("accounts-staff")

    desk.click("#cal-next")  # the next event is checked on the server
    desk.wait_for_url(re.compile(r"/login\?next=/calendar"), timeout=LIVE_TIMEOUT)
    desk.goto("/calendar")
    desk.wait_for_url("**/login?next=/calendar")
    desk_ctx.close()


def test_provider_is_forced_through_enrolment_and_a_recovery_code_works_once(page: Page, browser, base_url,
                                                                             app_urls, screenshot):
    clinic, emails, _ = make_clinic(app_urls)
    password_step(page, emails["provider"])
    page.wait_for_url("**/login/enrol?next=/calendar")
    expect(page.locator("#enrol-qr")).to_be_visible()
    src = page.locator("#enrol-qr").get_attribute("src")
    assert src.startswith("data:image/svg+xml;base64,")
    page.wait_for_function("document.querySelector('#enrol-qr').naturalWidth > 0")  # the QR image renders
    key = page.locator("#enrol-key").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", key)
    screenshot("accounts-enrol")
    page.fill("#enrol-code", "111111")
    page.click("#enrol-submit")
    expect(page.locator("#enrol-error")).to_contain_text("That code is not right")
    assert page.locator("#enrol-key").inner_text().replace(" ", "") == key  # the same secret after a wrong code
    page.fill("#enrol-code", code_at(key))
    page.click("#enrol-submit")
    expect(page.locator("#recovery-codes-page")).to_contain_text("Save these now")
    codes = page.locator(".recovery-code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    screenshot("accounts-recovery-codes")
    page.click("#recovery-continue")
    page.wait_for_url("**/calendar")
    expect(page.locator("#staff-name")).to_have_text("Priya Provider")

    def sign_in_with_recovery(code: str) -> Page:
        ctx = browser.new_context(base_url=base_url)
        other = ctx.new_page()
        password_step(other, emails["provider"])
        other.wait_for_url("**/login/verify?next=/calendar")
        other.fill("#verify-code", code)
        other.click("#verify-submit")
        return other

    first = sign_in_with_recovery(codes[0])
    first.wait_for_url("**/calendar")
    expect(first.locator("#staff-name")).to_have_text("Priya Provider")
    first.context.close()
    again = sign_in_with_recovery(codes[0])
    expect(again.locator("#verify-error")).to_contain_text("That code is not right")
    assert urlsplit(again.url).path == "/login/verify"
    again.context.close()


def test_five_wrong_passwords_lock_the_account(page: Page, app_urls, screenshot):
    clinic, emails, _ = make_clinic(app_urls)
    expected = ["Email or password is incorrect", "Email or password is incorrect",
                "Email or password is incorrect. Too many attempts: try again in 30 seconds",
                "Email or password is incorrect. Too many attempts: try again in 60 seconds",
                "Too many failed attempts for this account from your network: try again in 15 minutes, or reset your password"]
    page.goto("/login")
    for i, message in enumerate(expected):
        if i >= 3:  # the app's clock is frozen: let the enforced slow-down pass (as waiting would)
            with clinic.session() as s:  # the slow-down of this address from this browser's network
                guard = s.exec(select(SignInGuard).where(
                    SignInGuard.email_hash == hashlib.sha256(emails["front_desk"].encode()).hexdigest())).one()
                assert guard.throttled_until is not None
                guard.throttled_until = None
                s.add(guard)
                s.commit()
        page.fill("#login-email", emails["front_desk"])
        page.fill("#login-password", "not the password")
        page.click("#login-submit")
        expect(page.locator("#login-error")).to_have_text(message)
        expect(page.locator("#login-email")).to_have_value(emails["front_desk"])
    page.fill("#login-password", PASSWORD)  # the right password is refused while locked
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text(expected[-1])
    screenshot("accounts-locked")


def test_forgot_and_reset_password_through_the_outbox_link(page: Page, app_urls, base_url, screenshot):
    clinic, emails, _ = make_clinic(app_urls)
    page.goto("/login")
    page.click("#login-forgot")
    page.wait_for_url("**/login/forgot")
    page.fill("#forgot-email", emails["front_desk"])
    page.click("#forgot-submit")
    expect(page.locator("#forgot-sent")).to_have_text(
        "If the address is known, we emailed a link to choose a new password. It works for 30 minutes.")
    with clinic.session() as s:
        body = s.exec(select(OutboxMessage.body).where(OutboxMessage.to_address == emails["front_desk"],
                                                       OutboxMessage.kind == "password_reset")).one()
    link = re.search(r"(http://\S+/reset-password\?token=[A-Za-z0-9_-]+)", body).group(1)
    assert link.startswith(base_url)
    page.goto(link)
    page.fill("#reset-password", "short")
    page.click("#reset-submit")
    expect(page.locator("#reset-error")).to_have_text("Use at least 12 characters (a few unrelated words work well)")
    screenshot("accounts-reset-weak")
    page.fill("#reset-password", NEW_PASSWORD)
    page.click("#reset-submit")
    page.wait_for_url("**/login?error=reset")
    expect(page.locator("#login-notice")).to_have_text("Your password was changed; sign in with the new one")
    page.fill("#login-email", emails["front_desk"])
    page.fill("#login-password", NEW_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/calendar")
    # the link is spent
    page.goto(link)
    page.fill("#reset-password", "another fine phrase")
    page.click("#reset-submit")
    expect(page.locator("#reset-invalid")).to_contain_text("This reset link is not valid any more")


def test_front_desk_gets_not_found_on_staff(page: Page, app_urls, screenshot):
    clinic, emails, _ = make_clinic(app_urls)
    password_step(page, emails["front_desk"], path="/staff")
    page.wait_for_url("**/staff")
    expect(page.locator("#staff-not-found")).to_contain_text("Page not found")
    expect(page.locator(".staff-row")).to_have_count(0)
    expect(page.locator("#staff-table")).to_have_count(0)


def test_a_network_over_its_limits_reads_how_long_to_wait(page: Page, screenshot):
    """Issue 12: what /auth/login and /auth/forgot send a network over its limits to
    (?error=limited&wait=N, ?wait=N; the routes' 429 answers are tested in test_auth_routes and
    test_sign_in_limits): the message says why and how long, and the form stays usable."""
    page.goto("/login?error=limited&wait=840")
    expect(page.locator("#login-error")).to_have_text(
        "Too many sign-in attempts from your network: try again in 14 minutes")
    expect(page.locator("#login-email")).to_be_editable()
    page.goto("/login/forgot?wait=125")
    expect(page.locator("#forgot-limited")).to_have_text(
        "Too many password-reset requests from your network. Please try again in 3 minutes.")
    expect(page.locator("#forgot-email")).to_be_editable()
    screenshot("accounts-forgot-limited")
    page.goto("/login/forgot?wait=abc")  # a hand-edited address shows the plain form
    expect(page.locator("#forgot-email")).to_be_visible()
    expect(page.locator("#forgot-limited")).to_have_count(0)
