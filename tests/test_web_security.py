"""Web hardening (issue 4 part 6): the HttpOnly session cookie set by POST /auth/login, the
logout route, the Origin (CSRF) check, the session-cookie parser and the security headers.
The browser half (document.cookie, CSP violations, the websocket Origin) is in
tests/browser/test_web_security.py."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from medspa.api import auth as auth_routes
from medspa.api import security, v1
from medspa.api.app import api
from medspa.api.security import SecurityHeaders, content_security_policy, origin_allowed
from medspa.web.auth import session_token_from_cookies
from medspa.clock import FixedClock
from medspa.domain.identity.actions import actor_for_token
from medspa.domain.identity.service import create_user
from medspa.web.auth import safe_next
from medspa.settings import Settings
from tests.conftest import utc
from tests.factories import build_clinic

NOW = utc(2026, 7, 1, 12)
PASSWORD = "correct horse battery"
ORIGIN = "http://localhost:3000"
HTTP_SETTINGS = Settings(port=3000, public_base_url="", stripe_secret_key="", stripe_publishable_key="")
HTTPS_SETTINGS = Settings(port=3000, public_base_url="https://clinic.example", stripe_secret_key="",
                          stripe_publishable_key="")


@pytest.fixture
def settings(monkeypatch):
    """The app's settings, fixed for these tests (whatever the environment says)."""
    current = {"value": HTTP_SETTINGS}

    def use(value: Settings) -> None:
        current["value"] = value

    monkeypatch.setattr(auth_routes, "get_settings", lambda: current["value"])
    monkeypatch.setattr(security, "get_settings", lambda: current["value"])
    return use


@pytest.fixture
def client(engine, settings):
    clock = FixedClock(NOW)
    api.dependency_overrides[v1.get_db_engine] = lambda: engine
    api.dependency_overrides[v1.get_clock] = lambda: clock
    yield TestClient(SecurityHeaders(api, settings=HTTP_SETTINGS), follow_redirects=False)
    api.dependency_overrides.clear()


@pytest.fixture
def desk(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    email = f"desk-{clinic.slug}@example.com"
    with clinic.session() as s:
        create_user(s, clinic.system, email=email, password=PASSWORD, role="front_desk", display_name="Dana Desk")
        s.commit()
    return clinic, email


def _set_cookie(response) -> str:
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    assert len(cookies) == 1, cookies
    return cookies[0]


def _token(set_cookie: str) -> str:
    first = set_cookie.split(";")[0]
    name, _, value = first.partition("=")
    assert name == "medspa_session"
    return value


# --------------------------------------------------------------------------- login / logout


def test_form_login_sets_an_httponly_strict_cookie_and_redirects_to_next(client, desk, engine):
    clinic, email = desk
    r = client.post("/auth/login", data={"email": email, "password": PASSWORD, "next": "/calendar?day=2026-07-02"},
                    headers={"Origin": ORIGIN})
    assert r.status_code == 303
    assert r.headers["location"] == "/calendar?day=2026-07-02"
    assert r.headers["cache-control"] == "no-store"
    cookie = _set_cookie(r)
    attrs = [a.strip() for a in cookie.split(";")[1:]]
    assert "HttpOnly" in attrs and "SameSite=Strict" in attrs and "Path=/" in attrs
    assert "Max-Age=43200" in attrs
    assert "Secure" not in attrs  # plain http on localhost
    token = _token(cookie)
    assert len(token) >= 40
    actor = actor_for_token(token, now=NOW, engine=engine)
    assert (actor.org_id, actor.role) == (clinic.org_id, "front_desk")


def test_wrong_password_goes_back_to_the_login_page_with_an_error_and_no_cookie(client, desk):
    _, email = desk
    r = client.post("/auth/login", data={"email": email, "password": "nope", "next": "/calendar"},
                    headers={"Origin": ORIGIN})
    assert r.status_code == 303
    parts = urlsplit(r.headers["location"])
    assert parts.path == "/login"
    assert parse_qs(parts.query) == {"next": ["/calendar"], "error": ["1"]}
    # no session; the email comes back to the form through a short-lived HttpOnly cookie, not the URL
    assert _set_cookie(r).startswith("medspa_login_email=") and "HttpOnly" in _set_cookie(r)
    assert "medspa_session" not in _set_cookie(r) and email not in r.headers["location"]
    ok = client.post("/auth/login", data={"email": email, "password": PASSWORD}, headers={"Origin": ORIGIN})
    assert [c.split(";")[0] for k, c in ok.headers.multi_items() if k == "set-cookie"][1] == "medspa_login_email="
    r = client.post("/auth/login", data={"email": "", "password": ""}, headers={"Origin": ORIGIN})
    assert parse_qs(urlsplit(r.headers["location"]).query)["error"] == ["missing"]


def test_json_login_answers_json(client, desk, engine):
    _, email = desk
    r = client.post("/auth/login", json={"email": email, "password": PASSWORD}, headers={"Origin": ORIGIN})
    assert r.status_code == 200
    assert r.json() == {"next": "/calendar", "name": "Dana Desk", "role": "front_desk"}
    assert actor_for_token(_token(_set_cookie(r)), now=NOW, engine=engine) is not None
    r = client.post("/auth/login", json={"email": email, "password": "nope"}, headers={"Origin": ORIGIN})
    assert r.status_code == 401
    assert r.json() == {"error": "Email or password is incorrect"}
    assert "set-cookie" not in r.headers
    r = client.post("/auth/login", content=b"{not json", headers={"Origin": ORIGIN,
                                                                    "Content-Type": "application/json"})
    assert r.status_code == 422


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "calendar",
                                    "/login?next=/x", "/auth/logout", "/cal\r\nSet-Cookie: x=1"])
def test_next_is_only_ever_a_local_path(client, desk, target):
    _, email = desk
    r = client.post("/auth/login", data={"email": email, "password": PASSWORD, "next": target},
                    headers={"Origin": ORIGIN})
    assert r.status_code == 303
    assert r.headers["location"] == "/calendar"
    assert safe_next(target) == "/calendar"


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://localhost:3001"},
    {},  # neither Origin nor Referer
    {"Referer": "https://evil.example/login"},
])
def test_login_from_another_origin_is_refused(client, desk, headers):
    _, email = desk
    r = client.post("/auth/login", data={"email": email, "password": PASSWORD}, headers=headers)
    assert r.status_code == 403
    assert r.json()["error"] == "cross_origin"
    assert "set-cookie" not in r.headers


def test_same_origin_referer_is_enough_when_no_origin_is_sent(client, desk):
    _, email = desk
    r = client.post("/auth/login", data={"email": email, "password": PASSWORD},
                    headers={"Referer": "http://127.0.0.1:3000/login?next=/calendar"})
    assert r.status_code == 303 and r.headers["location"] == "/calendar"


def test_logout_revokes_the_session_and_clears_the_cookie(client, desk, engine):
    _, email = desk
    token = _token(_set_cookie(client.post("/auth/login", data={"email": email, "password": PASSWORD},
                                           headers={"Origin": ORIGIN})))
    # another site cannot sign the browser out
    client.cookies.clear()
    r = client.post("/auth/logout", headers={"Origin": "https://evil.example",
                                             "Cookie": f"medspa_session={token}"})
    assert r.status_code == 403
    assert actor_for_token(token, now=NOW, engine=engine) is not None
    r = client.post("/auth/logout", headers={"Origin": ORIGIN, "Cookie": f"medspa_session={token}"})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    cleared = _set_cookie(r)
    assert cleared.startswith("medspa_session=;") and "Max-Age=0" in cleared and "HttpOnly" in cleared
    assert actor_for_token(token, now=NOW, engine=engine) is None
    # without a cookie it still answers (and clears)
    assert client.post("/auth/logout", headers={"Origin": ORIGIN, "Accept": "application/json"}).json() == {
        "signed_out": True}


def test_only_get_post_routes_exist(client):
    assert client.get("/auth/login").status_code in (404, 405)
    assert client.get("/auth/logout").status_code in (404, 405)


def test_cookie_is_secure_over_https(engine, desk, settings):
    settings(HTTPS_SETTINGS)
    clock = FixedClock(NOW)
    api.dependency_overrides[v1.get_db_engine] = lambda: engine
    api.dependency_overrides[v1.get_clock] = lambda: clock
    try:
        https_client = TestClient(SecurityHeaders(api, settings=HTTPS_SETTINGS), base_url="https://clinic.example",
                                  follow_redirects=False)
        _, email = desk
        r = https_client.post("/auth/login", data={"email": email, "password": PASSWORD},
                              headers={"Origin": "https://clinic.example"})
        assert r.status_code == 303
        assert "; Secure" in _set_cookie(r)
        assert r.headers["strict-transport-security"].startswith("max-age=")
        # the http origin of the same host is not the https one
        r = https_client.post("/auth/login", data={"email": email, "password": PASSWORD},
                              headers={"Origin": "http://clinic.example"})
        assert r.status_code == 403
    finally:
        api.dependency_overrides.clear()


# --------------------------------------------------------------------------- helpers


def test_session_token_from_cookies():
    assert session_token_from_cookies(None) is None
    assert session_token_from_cookies("") is None
    assert session_token_from_cookies("theme=dark; medspa_session=abc123; x=1") == "abc123"
    assert session_token_from_cookies('medspa_session="abc"') == "abc"
    assert session_token_from_cookies("medspa_session=") is None
    assert session_token_from_cookies("xmedspa_session=abc") is None
    assert session_token_from_cookies("medspa_session=" + "a" * 201) is None
    # two different values (a second cookie tossed in for a deeper path): refuse, don't guess
    assert session_token_from_cookies("medspa_session=aaa; medspa_session=bbb") is None
    assert session_token_from_cookies("medspa_session=aaa; medspa_session=aaa") == "aaa"


def test_origin_allowed_uses_the_settings_origins():
    s = HTTP_SETTINGS
    assert s.allowed_origins == ("http://127.0.0.1:3000", "http://localhost:3000")
    assert origin_allowed({"origin": "http://localhost:3000"}, s)
    assert origin_allowed({"origin": "HTTP://LOCALHOST:3000"}, s)
    assert not origin_allowed({"origin": "http://localhost:3000.evil.example"}, s)
    assert not origin_allowed({"origin": "null"}, s)
    assert not origin_allowed({}, s)
    assert origin_allowed({"referer": "http://localhost:3000/login"}, s)
    assert HTTPS_SETTINGS.allowed_origins == ("http://127.0.0.1:3000", "http://localhost:3000",
                                              "https://clinic.example")


# --------------------------------------------------------------------------- headers


def _policy(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_security_headers_on_api_responses_and_no_hsts_over_http(client):
    for path in ("/api/v1/health", "/api/v1/openapi.json", "/no-such-page"):
        r = client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "strict-transport-security" not in r.headers
        csp = _policy(r.headers["content-security-policy"])
        assert csp["default-src"] == ["'self'"]
        assert csp["frame-ancestors"] == ["'none'"]
        assert csp["img-src"] == ["'self'", "data:"]
        assert "'unsafe-inline'" not in csp["script-src"]
        assert "https://js.stripe.com" not in csp["script-src"]
        assert set(csp["connect-src"]) == {"'self'", "http://localhost:3000", "http://127.0.0.1:3000",
                                           "ws://localhost:3000", "ws://127.0.0.1:3000"}
    r = client.post("/auth/login", data={}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and r.headers["x-frame-options"] == "DENY"


def test_hsts_when_the_request_came_over_https(engine):
    https_client = TestClient(SecurityHeaders(api, settings=HTTP_SETTINGS), base_url="https://localhost")
    assert https_client.get("/api/v1/openapi.json").headers["strict-transport-security"].startswith("max-age=")


def test_headers_a_route_set_itself_are_kept():
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"x-frame-options", b"SAMEORIGIN"), (b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    r = TestClient(SecurityHeaders(app, settings=HTTP_SETTINGS)).get("/")
    assert r.headers["x-frame-options"] == "SAMEORIGIN"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_inline_scripts_of_the_build_are_allowed_by_hash_only(tmp_path):
    body = 'window.__reactRouterContext = {"basename":"/"};'
    (tmp_path / "index.html").write_text(
        f'<html><head><script>{body}</script><script src="/assets/x.js"></script>'
        '<script type="module" async="">import "/assets/m.js";</script></head></html>')
    (tmp_path / "login").mkdir()
    (tmp_path / "login" / "index.html").write_text("<script>$RC(1)</script>")
    expected = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
                for s in (body, 'import "/assets/m.js";', "$RC(1)")}

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    r = TestClient(SecurityHeaders(app, settings=HTTP_SETTINGS, static_dir=tmp_path)).get("/")
    script = _policy(r.headers["content-security-policy"])["script-src"]
    assert script[0] == "'self'"
    assert {s for s in script if s.startswith("'sha256-")} == expected
    assert "'unsafe-inline'" not in script


def test_stripe_sources_only_when_stripe_is_configured():
    off = _policy(content_security_policy(HTTP_SETTINGS))
    on = _policy(content_security_policy(Settings(port=3000, public_base_url="", stripe_secret_key="sk_test_x",
                                                  stripe_publishable_key="pk_test_x")))
    half = _policy(content_security_policy(Settings(port=3000, public_base_url="", stripe_secret_key="",
                                                    stripe_publishable_key="pk_test_x")))
    assert "https://js.stripe.com" not in off["script-src"] and off["frame-src"] == ["'self'"]
    assert "https://js.stripe.com" in on["script-src"]
    assert "https://js.stripe.com" in on["frame-src"] and "https://hooks.stripe.com" in on["frame-src"]
    assert "https://api.stripe.com" in on["connect-src"]
    assert half == off


def test_https_public_url_gives_wss_in_connect_src():
    csp = _policy(content_security_policy(HTTPS_SETTINGS))
    assert "wss://clinic.example" in csp["connect-src"] and "https://clinic.example" in csp["connect-src"]


def test_request_bodies_are_capped_before_anything_reads_them():
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from medspa.api.security import BODY_LIMIT, UPLOAD_BODY_LIMIT, BodyLimit

    async def echo(request):
        return JSONResponse({"bytes": len(await request.body())})

    inner = Starlette(routes=[Route("/_upload", echo, methods=["POST"]), Route("/api/v1/x", echo, methods=["POST"])])
    client = TestClient(BodyLimit(inner))
    assert client.post("/api/v1/x", content=b"x" * 1000).json() == {"bytes": 1000}
    big = client.post("/api/v1/x", content=b"x" * (BODY_LIMIT + 1))
    assert big.status_code == 413 and big.json()["error"] == "too_large"
    assert client.post("/_upload", content=b"x" * (BODY_LIMIT + 1)).json() == {"bytes": BODY_LIMIT + 1}
    assert client.post("/_upload", content=b"x" * (UPLOAD_BODY_LIMIT + 1)).status_code == 413

    def stream(n):  # no Content-Length: counted as it arrives
        for _ in range(n):
            yield b"y" * 65536

    assert client.post("/api/v1/x", content=stream(20)).status_code == 413
    assert client.post("/api/v1/x", content=stream(2)).json() == {"bytes": 131072}
