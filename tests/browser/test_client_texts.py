"""Texts from clients for the desk (issue 19): a text Ana sent to the clinic's number is counted
on Today, listed at /texts with a link to her profile, shown on the profile flagged (her STOP
is kept but not flagged) and marked handled. Screenshots: tests/artifacts/texts-*.png."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import create_engine

from medspa.db import to_sqlalchemy_url
from medspa.domain.clients.service import ClientInput, create_client
from medspa.domain.identity.service import create_user
from medspa.domain.messaging.engage_models import InboundMessage
from tests.browser.conftest import FROZEN_NOW
from tests.factories import build_clinic

PASSWORD = "texts-password-2026"


def test_a_flagged_text_reaches_the_desk_and_is_handled(page: Page, app_urls, screenshot):
    app, owner = (create_engine(to_sqlalchemy_url(u), pool_size=1) for u in app_urls)
    clinic = build_clinic(app, owner)
    email = f"desk-{clinic.slug}@example.com"
    with clinic.session() as s:
        create_user(s, clinic.system, email=email, password=PASSWORD, role="front_desk", display_name="Dana Desk")
        ana = create_client(s, clinic.system, ClientInput("Ana", "Silva", "ana.texts@example.com", "(646) 555-0190"))
        for body, keyword, ago in (("STOP", "stop", 3), ("Running 10 minutes late, sorry!", "", 1)):
            s.add(InboundMessage(org_id=clinic.org_id, client_id=ana.id, from_address="+16465550190",
                                 to_address="+12125550100", body=body, received_at=FROZEN_NOW - timedelta(hours=ago),
                                 keyword=keyword, flagged=not keyword))
        s.commit()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/today")
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#today-texts")).to_contain_text("1 text from a client waits for the desk")
    page.locator("#today-texts-link").click()
    page.wait_for_url("**/texts")
    expect(page.locator("#texts-list")).to_contain_text("Running 10 minutes late, sorry!")
    expect(page.locator("#texts-list")).not_to_contain_text("STOP")
    screenshot("texts-list-1280")
    page.get_by_role("link", name="Ana Silva").click()
    page.wait_for_url(f"**/clients/{ana.id}")
    card = page.locator("#profile-texts")
    expect(card.locator(".text-flagged")).to_contain_text("Running 10 minutes late, sorry!")
    expect(card.locator(".text-seen")).to_contain_text("Opted out (STOP)")
    screenshot("texts-profile-1280")
    card.get_by_role("button", name="Mark handled").click()
    expect(card.locator(".text-flagged")).to_have_count(0)
    expect(card).to_contain_text("Handled by Dana Desk")
    page.goto("/texts")
    expect(page.locator("#texts-empty")).to_be_visible()
    app.dispose()
    owner.dispose()
