"""Web hardening in the real app (prod build, one port): the HttpOnly session cookie set by the
login form's POST, no CSP violation on the pages, the security headers on pages, assets and
the API, and the /_event websocket refusing a foreign Origin."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.browser.test_calendar import LIVE_TIMEOUT, PASSWORD, make_desk

# Collects CSP violations in the page (an init script runs outside the page's CSP).
CSP_WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
});
"""


def watch(page: Page) -> list[str]:
    """Console errors and uncaught page errors from now on."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.add_init_script(CSP_WATCH)
    return errors


def violations(page: Page) -> list[str]:
    return page.evaluate("window.__csp || []")


def test_login_form_sets_an_httponly_cookie_javascript_cannot_read(page: Page, app_urls, screenshot):
    desk = make_desk(app_urls)
    errors = watch(page)
    page.goto("/calendar")
    page.wait_for_url("**/login?next=/calendar")
    expect(page.locator("#login-next")).to_have_value("/calendar")
    page.fill("#login-email", desk.email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/calendar")
    expect(page.locator("#staff-name")).to_have_text("Dana Desk")
    expect(page.locator("#calendar")).not_to_have_attribute("data-version", "0", timeout=LIVE_TIMEOUT)
    screenshot("web-security-calendar")

    cookie = next(c for c in page.context.cookies() if c["name"] == "medspa_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/"
    assert cookie["secure"] is False  # plain http on localhost; Secure over https (tests/test_web_security.py)
    token = cookie["value"]
    assert len(token) >= 40
    # nothing the page's JavaScript can reach holds the token
    assert "medspa_session" not in page.evaluate("document.cookie")
    assert token not in page.evaluate("document.cookie")
    storages = page.evaluate("JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert token not in storages
    assert token not in page.content()
    # and JavaScript cannot overwrite it either
    page.evaluate("document.cookie = 'medspa_session=forged; path=/'")
    assert next(c for c in page.context.cookies() if c["name"] == "medspa_session")["value"] == token

    # the calendar works on the cookie from the websocket handshake, also after a reload
    page.reload()
    expect(page.locator("#staff-name")).to_have_text("Dana Desk")
    assert violations(page) == []
    assert [e for e in errors if "Content Security Policy" in e or "pageerror" in e] == []

    # sign out: the server revokes the session and clears the cookie
    page.click("#account-menu-button")  # below 1640 px Sign out is in the account menu
    page.click("#account-menu-sign-out")
    page.wait_for_url("**/login")
    assert [c for c in page.context.cookies() if c["name"] == "medspa_session"] == []
    # the old token is dead on the server too: replaying it gets no calendar
    page.context.add_cookies([{"name": "medspa_session", "value": token, "url": page.url}])
    page.goto("/calendar")
    page.wait_for_url("**/login?next=/calendar")


def test_pages_render_without_csp_violations(page: Page, app_urls):
    desk = make_desk(app_urls)
    errors = watch(page)
    for path, ready in (("/", "body"), ("/login", "#login-submit"), (f"/book/{desk.clinic.slug}", "body")):
        page.goto(path)
        page.wait_for_selector(ready)
        page.wait_for_load_state("networkidle")
        assert violations(page) == [], path
    page.goto("/login?next=/calendar&error=1")
    expect(page.locator("#login-error")).to_have_text("Email or password is incorrect")
    assert violations(page) == []
    csp_errors = [e for e in errors if "Content Security Policy" in e or "pageerror" in e]
    assert csp_errors == []


def test_security_headers_on_pages_assets_and_api(page: Page):
    page.goto("/login")
    asset = page.evaluate("[...document.querySelectorAll('link[rel=modulepreload]')].map(l => l.href)[0]")
    for url in ("/", "/calendar", "/login", "/book/nowhere", "/api/v1/health", "/ping", urlsplit(asset).path):
        r = page.request.get(url, max_redirects=0)
        h = r.headers
        assert h.get("x-content-type-options") == "nosniff", url
        assert h.get("x-frame-options") == "DENY", url
        assert h.get("referrer-policy") == "strict-origin-when-cross-origin", url
        assert "strict-transport-security" not in h, url  # plain http
        csp = h.get("content-security-policy", "")
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, url
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0], url
        assert "js.stripe.com" not in csp, url  # no Stripe keys in the test server


def test_cross_site_login_post_is_refused(page: Page, app_urls):
    desk = make_desk(app_urls)
    r = page.request.post("/auth/login", form={"email": desk.email, "password": PASSWORD},
                          headers={"Origin": "https://evil.example"}, max_redirects=0)
    assert r.status == 403
    assert "set-cookie" not in r.headers


def _handshake(base_url: str, origin: str | None) -> str:
    """A raw websocket upgrade of /_event; returns the status line."""
    parts = urlsplit(base_url)
    lines = [
        "GET /_event/?EIO=4&transport=websocket HTTP/1.1",
        f"Host: {parts.netloc}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0].decode()


def test_event_websocket_refuses_a_foreign_origin(base_url: str):
    assert " 101 " in _handshake(base_url, base_url) + " "  # our own page: accepted
    for foreign in ("https://evil.example", "http://localhost.evil.example", "null"):
        status = _handshake(base_url, foreign)
        assert " 101" not in status, (foreign, status)
        assert status.split()[1].startswith("4"), (foreign, status)
