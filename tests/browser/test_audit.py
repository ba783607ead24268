"""The owner's audit trail page /audit in headless Chromium against the real app.

The app's clock is frozen at conftest.FROZEN_NOW (2026-07-01 12:00 in New York); the page
opens on the last 30 days of the clinic's zone. Each test builds its own clinic with an
owner and a front-desk login and writes audit rows through the domain services.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from sqlalchemy import create_engine
from sqlmodel import select

from medspa.db import to_sqlalchemy_url
from medspa.domain.audit.models import AuditEvent
from medspa.domain.audit.service import record
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.models import UserAccount, UserSession
from medspa.domain.identity.service import create_user
from tests.browser.conftest import FROZEN_NOW
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
PASSWORD = "audit-password-2026"
_engines: dict[str, object] = {}


def _engine(url: str):
    if url not in _engines:
        _engines[url] = create_engine(to_sqlalchemy_url(url), pool_size=2, max_overflow=4)
    return _engines[url]


def ny(day: int, hour: int) -> datetime:
    return datetime(2026, 6, day, hour, tzinfo=NY).astimezone(timezone.utc)


def make_clinic(urls: tuple[str, str]):
    """A clinic with an owner and a front-desk login, two clients and a few audited reads."""
    clinic = build_clinic(_engine(urls[0]), _engine(urls[1]))
    tag = clinic.slug
    with clinic.session() as s:
        owner = create_user(s, clinic.system, email=f"owner-{tag}@example.com", password=PASSWORD, role="owner",
                            display_name="Olivia Owner")
        desk = create_user(s, clinic.system, email=f"desk-{tag}@example.com", password=PASSWORD, role="front_desk",
                           display_name="Dana Desk")
        clients = {}
        for first, last in (("Ana", "Alves"), ("Ben", "Brook")):
            c = find_or_create_client(s, clinic.system, ClientInput(first, last, f"{first.lower()}.{uuid.uuid4().hex[:6]}@example.com"),
                                      require_contact=False)
            clients[first] = c.id
        desk_actor = Actor(clinic.org_id, "front_desk", user_id=desk.id, label="Dana Desk", ip="198.51.100.4",
                           user_agent="Mozilla/5.0 (desk)")
        owner_actor = Actor(clinic.org_id, "owner", user_id=owner.id, label="Olivia Owner", ip="198.51.100.9",
                            user_agent="Mozilla/5.0 (owner)")
        record(s, desk_actor, "client.read", "client", clients["Ana"], client_id=clients["Ana"], at=ny(29, 10))
        record(s, desk_actor, "client.read", "client", clients["Ben"], client_id=clients["Ben"], at=ny(30, 11))
        record(s, owner_actor, "client.write", "client", clients["Ana"], client_id=clients["Ana"], at=ny(30, 15))
        s.commit()
    return clinic, f"owner-{tag}@example.com", f"desk-{tag}@example.com", clients


def sign_in_to_audit(page: Page, email: str) -> None:
    page.goto("/audit")
    page.wait_for_url("**/login?next=/audit")  # strangers sign in first, then come back
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/audit")


def owner_session(page: Page, base_url: str, clinic, email: str) -> None:
    """Owners sign in with a second factor (TOTP): instead of enrolling one, hand the browser a
    server-side session of the owner, as the sign-in would (HttpOnly cookie, SHA-256 stored)."""
    token = secrets.token_urlsafe(32)
    with clinic.session() as s:
        user = s.exec(select(UserAccount).where(UserAccount.email == email)).one()
        s.add(UserSession(org_id=clinic.org_id, user_id=user.id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                          created_at=FROZEN_NOW, last_seen_at=FROZEN_NOW, expires_at=FROZEN_NOW + timedelta(hours=8)))
        s.commit()
    page.context.add_cookies([{"name": "medspa_session", "value": token, "url": base_url, "httpOnly": True,
                               "sameSite": "Strict"}])


def test_owner_filters_by_client_and_downloads_csv(page: Page, app_urls, base_url, screenshot):
    clinic, owner_email, _, clients = make_clinic(app_urls)
    page.goto("/audit")
    page.wait_for_url("**/login?next=/audit")  # strangers sign in first
    owner_session(page, base_url, clinic, owner_email)
    page.goto("/audit")
    rows = page.locator(".audit-row")
    expect(page.locator("#audit-start")).to_have_value("2026-06-02")
    expect(page.locator("#audit-end")).to_have_value("2026-07-01")
    expect(rows.filter(has_text="client.write")).to_have_count(1)
    expect(rows.filter(has_text="Ben Brook")).to_have_count(1)
    first_row = rows.filter(has_text="client.write")
    expect(first_row).to_contain_text("Jun 30, 2026 3:00:00 PM EDT")
    expect(first_row).to_contain_text("Olivia Owner")
    expect(first_row).to_contain_text("198.51.100.9")

    page.fill("#audit-client-search", "Ana Al")
    page.locator(".audit-client-hit", has_text="Ana Alves").click()
    expect(page.locator("#audit-client")).to_contain_text("Ana Alves")
    expect(rows).to_have_count(2)
    expect(page.locator(".audit-client-cell")).to_have_text(["Ana Alves", "Ana Alves"])
    expect(page.locator(".audit-client-cell a").first).to_have_attribute("href", re.compile(r"^/clients/\d+$"))
    expect(rows.nth(0)).to_contain_text("client.write")  # newest first
    expect(rows.nth(1)).to_contain_text("Dana Desk")
    screenshot("audit-owner-client-filter")

    with page.expect_download() as info:
        page.click("#audit-export")
    download = info.value
    assert download.suggested_filename == "audit-2026-06-02-2026-07-01.csv"
    body = open(download.path(), encoding="utf-8", newline="").read()
    table = list(csv.DictReader(io.StringIO(body, newline="")))
    assert [(r["action"], r["actor"], r["client"]) for r in table] == [
        ("client.write", "Olivia Owner", "Ana Alves"), ("client.read", "Dana Desk", "Ana Alves")]
    assert table[1]["time"] == "2026-06-29T10:00:00-04:00" and table[1]["ip"] == "198.51.100.4"

    # the page's own searches and the export are in the trail
    with clinic.session() as s:
        actions = s.exec(select(AuditEvent.action).where(AuditEvent.action.in_(["audit.search", "audit.export"]))).all()
    assert actions.count("audit.export") == 1 and actions.count("audit.search") >= 2

    page.click("#audit-client-clear")
    expect(rows.filter(has_text="Ben Brook")).to_have_count(1)


def test_front_desk_gets_not_found(page: Page, app_urls, screenshot):
    clinic, _, desk_email, _ = make_clinic(app_urls)
    sign_in_to_audit(page, desk_email)
    expect(page.locator("#audit-not-found")).to_contain_text("Page not found")
    expect(page.locator("#audit-table")).to_have_count(0)
    expect(page.locator(".audit-row")).to_have_count(0)
    screenshot("audit-front-desk-not-found")
    with clinic.session() as s:
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "audit.search")).all() == []
