"""POST /auth/invite (medspa/api/invite.py): accept a staff invitation, then the same answer as
a correct password at /auth/login. The browser half is tests/browser/test_clinic_setup.py."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from medspa.api import invite as invite_routes
from medspa.api import security, v1
from medspa.api.app import api
from medspa.api.security import SecurityHeaders
from medspa.clock import FixedClock
from medspa.domain.identity.actions import do_invite_staff
from medspa.domain.identity.actor import Actor
from tests.conftest import utc
from tests.factories import build_clinic
from tests.test_auth_routes import ORIGIN, SETTINGS, cookies_of

NOW = utc(2026, 7, 1, 12)
PASSWORD = "lantern orchard quiet"


@pytest.fixture
def client(engine, monkeypatch):
    from medspa.api import auth as auth_routes

    monkeypatch.setattr(auth_routes, "get_settings", lambda: SETTINGS)
    monkeypatch.setattr(invite_routes, "get_settings", lambda: SETTINGS)
    monkeypatch.setattr(security, "get_settings", lambda: SETTINGS)
    api.dependency_overrides[v1.get_db_engine] = lambda: engine
    api.dependency_overrides[v1.get_clock] = lambda: FixedClock(NOW)
    yield TestClient(SecurityHeaders(api, settings=SETTINGS), follow_redirects=False, headers={"Origin": ORIGIN})
    api.dependency_overrides.clear()


def _invite(engine, owner_engine, role: str) -> tuple[str, str]:
    clinic = build_clinic(engine, owner_engine)
    owner = Actor(org_id=clinic.org_id, role="owner", label="test owner")
    email = f"{role}-{clinic.slug}@example.com"
    link = do_invite_staff(owner, email, "New Person", role, base_url="http://localhost:3000", now=NOW, engine=engine)
    return link.split("token=", 1)[1], email


def test_front_desk_accepts_and_gets_a_session(client, engine, owner_engine):
    token, _ = _invite(engine, owner_engine, "front_desk")
    weak = client.post("/auth/invite", data={"token": token, "new_password": "short"})
    assert weak.status_code == 303
    assert parse_qs(urlsplit(weak.headers["location"]).query) == {"token": [token], "error": ["short"]}
    done = client.post("/auth/invite", data={"token": token, "new_password": PASSWORD})
    assert (done.status_code, done.headers["location"]) == (303, "/calendar")
    assert "medspa_session" in cookies_of(done)
    again = client.post("/auth/invite", data={"token": token, "new_password": PASSWORD})
    assert again.headers["location"] == "/invite?error=invalid&reason=used"
    as_json = client.post("/auth/invite", json={"token": token, "new_password": PASSWORD})
    assert as_json.status_code == 410 and as_json.json()["reason"] == "used"


def test_a_provider_goes_to_the_forced_two_factor_set_up(client, engine, owner_engine):
    token, _ = _invite(engine, owner_engine, "provider")
    done = client.post("/auth/invite", data={"token": token, "new_password": PASSWORD})
    assert (done.status_code, done.headers["location"]) == (303, "/login/enrol?next=/calendar")
    cookies = cookies_of(done)
    assert "medspa_challenge" in cookies and "medspa_session" not in cookies


def test_another_site_cannot_post_an_invitation(client, engine, owner_engine):
    token, _ = _invite(engine, owner_engine, "lab")
    refused = client.post("/auth/invite", data={"token": token, "new_password": PASSWORD},
                          headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
