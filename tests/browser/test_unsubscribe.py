"""The unsubscribe link of a marketing email on a phone (390 px) against the running app: the
page names the clinic and changes nothing until "Unsubscribe" is pressed; then the client's
email marketing consent is off (source "unsubscribe link"). A broken link is a friendly page.
Screenshots: tests/artifacts/unsubscribe-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine

from medspa.db import tenant_session, to_sqlalchemy_url
from medspa.domain.clients.models import Client
from medspa.domain.messaging.unsubscribe import unsubscribe_token
from medspa.settings import Settings
from tests.browser.conftest import ARTIFACTS, TEST_SECRET_KEY
from tests.factories import build_clinic


@pytest.fixture(scope="module")
def engines(app_urls):
    app = create_engine(to_sqlalchemy_url(app_urls[0]), pool_size=2)
    owner = create_engine(to_sqlalchemy_url(app_urls[1]), pool_size=1)
    yield app, owner
    app.dispose()
    owner.dispose()


def test_the_unsubscribe_page_confirms_before_it_changes_anything(browser, base_url, engines):
    app, owner = engines
    clinic = build_clinic(app, owner)
    with tenant_session(clinic.org_id, app) as s:
        ana = Client(org_id=clinic.org_id, first_name="Ana", last_name="Silva", email="ana.unsub@example.com",
                     email_marketing_consent=True, email_marketing_consent_source="desk")
        s.add(ana)
        s.commit()
        ana_id = ana.id
    token = unsubscribe_token(clinic.org_id, ana_id, settings=Settings(secret_key=TEST_SECRET_KEY))
    ctx = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844}, is_mobile=True)
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    try:
        page.goto(f"/u/{token}")
        expect(page.get_by_text("Test Clinic").first).to_be_visible()
        expect(page.get_by_role("heading", name="Stop marketing emails?")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "unsubscribe-confirm.png"), full_page=True)
        with tenant_session(clinic.org_id, app) as s:
            assert s.get(Client, ana_id).email_marketing_consent is True  # opening the link changed nothing
        page.locator("#unsubscribe-confirm").click()
        expect(page.locator("#unsubscribe-done")).to_have_text("You are unsubscribed")
        page.screenshot(path=str(ARTIFACTS / "unsubscribe-done.png"), full_page=True)
        with tenant_session(clinic.org_id, app) as s:
            c = s.get(Client, ana_id)
            assert (c.email_marketing_consent, c.email_marketing_consent_source) == (False, "unsubscribe link")
        page.goto(f"/u/{token[:-3]}")
        expect(page.locator("#unsubscribe-invalid")).to_be_visible()
    finally:
        ctx.close()
