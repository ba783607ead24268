"""A clinic's website may call the public booking API from the browser (API_CORS_ORIGINS):
preflights answered, no credentials, and nothing else opened. The stack is the one Reflex
serves: PublicApiCors outside Reflex's own same-origin CORS layer, outside the app."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.middleware.cors import CORSMiddleware

from medspa.api import v1
from medspa.api.app import api, with_security_headers
from medspa.api.cors import PublicApiCors
from medspa.clock import FixedClock
from medspa.domain.payments.gateway import TestPaymentGateway
from medspa.settings import Settings
from tests.conftest import utc
from tests.factories import build_clinic
from tests.test_api import booking

SITE = "https://glow-clinic.example"
PREFLIGHT = {"origin": SITE, "access-control-request-method": "POST", "access-control-request-headers": "content-type"}


@pytest.fixture
def served(engine):
    """served(api_cors_origins) -> a TestClient of the app stacked as Reflex serves it."""
    clock = FixedClock(utc(2026, 7, 1, 12))
    api.dependency_overrides[v1.get_db_engine] = lambda: engine
    api.dependency_overrides[v1.get_clock] = lambda: clock
    api.dependency_overrides[v1.get_gateway] = lambda: TestPaymentGateway(engine, clock.now)

    def make(origins: str) -> TestClient:
        settings = Settings(port=3000, public_base_url="", api_cors_origins=origins)
        reflex_cors = CORSMiddleware(with_security_headers(api), allow_origins=list(settings.allowed_origins),
                                     allow_credentials=True, allow_methods=["*"], allow_headers=["*"])
        return TestClient(PublicApiCors(reflex_cors, settings=settings))

    yield make
    api.dependency_overrides.clear()


def test_by_default_no_foreign_page_may_call_the_api(served, engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    client = served("")
    r = client.options(f"/api/v1/{clinic.slug}/bookings", headers=PREFLIGHT)
    assert r.status_code == 400 and "access-control-allow-origin" not in r.headers
    same = client.options(f"/api/v1/{clinic.slug}/bookings", headers={**PREFLIGHT, "origin": "http://localhost:3000"})
    assert same.status_code == 200 and same.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_a_listed_clinic_website_can_preflight_and_book_without_credentials(served, engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    client = served(f"{SITE}/, https://other.example")
    url = f"/api/v1/{clinic.slug}/bookings"
    pre = client.options(url, headers=PREFLIGHT)
    assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == SITE
    assert set(pre.headers["access-control-allow-methods"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert "content-type" in pre.headers["access-control-allow-headers"].lower().split(", ")
    assert pre.headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in pre.headers
    made = client.post(url, json=booking(clinic), headers={"origin": SITE})
    assert made.status_code == 201 and made.headers["access-control-allow-origin"] == SITE
    assert "access-control-allow-credentials" not in made.headers
    listed = client.get(f"/api/v1/{clinic.slug}/locations", headers={"origin": SITE})
    assert listed.status_code == 200 and listed.headers["access-control-allow-origin"] == SITE
    stranger = client.options(url, headers={**PREFLIGHT, "origin": "https://evil.example"})
    assert stranger.status_code == 400 and "access-control-allow-origin" not in stranger.headers


def test_star_opens_only_the_clinic_routes(served, engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    client = served("*")
    ok = client.options(f"/api/v1/{clinic.slug}/availability",
                        headers={**PREFLIGHT, "access-control-request-method": "GET"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "*"
    got = client.get(f"/api/v1/{clinic.slug}/locations", headers={"origin": SITE})
    assert got.headers["access-control-allow-origin"] == "*" and "access-control-allow-credentials" not in got.headers
    for path in ("/auth/login", "/api/stripe/webhook", "/api/v1/webhooks/twilio/status", "/media/photos/1"):
        refused = client.options(path, headers=PREFLIGHT)
        assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers, path


def test_the_served_app_puts_public_cors_outside_reflexs_own(monkeypatch):
    """granian calls `medspa.medspa:app` as a factory: MedspaApp wraps whatever Reflex builds
    (its CORS layer outermost) in PublicApiCors."""
    import reflex as rx

    from medspa.medspa import MedspaApp, app

    built = object()
    monkeypatch.setattr(rx.App, "__call__", lambda self: built)
    served = app()
    assert isinstance(app, MedspaApp) and isinstance(served, PublicApiCors) and served.app is built
