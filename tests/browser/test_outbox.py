"""The owners' outbox /outbox in headless Chromium against the real app: the owner opens the
outbox, filters to failed, opens the failed message and resends it; its status changes and
the read and the resend are in the audit trail. The browser server runs without a mail
server, so the resent email waits in the outbox ("not sent: no mail server set up"), and a
queued email with no job offers no "Send now" but says it waits for the mail server.

The clock is frozen at conftest.FROZEN_NOW (2026-07-01 12:00 in New York). The clinic and its
messages are written through the domain services and the ORM, like the other browser tests.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from sqlalchemy import text
from sqlmodel import select

import medspa.domain.models  # noqa: F401  (every table: the message's foreign keys)
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.identity.service import create_user
from medspa.domain.messaging.models import OutboxMessage
from tests.browser.conftest import ARTIFACTS, FROZEN_NOW
from tests.browser.test_audit import PASSWORD, _engine, owner_session
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
PHONE = {"width": 390, "height": 844}


def ny(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=NY).astimezone(timezone.utc)


def make_outbox(urls: tuple[str, str]):
    """A clinic with an owner, two clients and four messages: sent, queued, SMS, and one failed
    to a mistyped address the desk has since corrected on the client's record."""
    clinic = build_clinic(_engine(urls[0]), _engine(urls[1]))
    with clinic.session() as s:
        create_user(s, clinic.system, email=f"owner-{clinic.slug}@example.com", password=PASSWORD, role="owner",
                    display_name="Olivia Owner")
        ana = find_or_create_client(s, clinic.system, ClientInput("Ana", "Alves", "ana@example.com", "+12125550147"))
        ben = find_or_create_client(s, clinic.system, ClientInput("Ben", "Brook", "ben@example.com", "+12125550148"))
        org = clinic.org_id
        failed = OutboxMessage(
            org_id=org, channel="email", kind="cancellation_notice", to_address="ben@exmaple.com",
            subject="Cancelled: HydraFacial on Tue, Jun 30", client_id=ben.id, status="failed", attempts=1,
            failure_reason="550 5.1.1 <ben@exmaple.com>: mailbox unavailable", created_at=ny(29, 16, 5),
            message_id=f"<outbox-1@{clinic.slug}.example>",
            body="Hi Ben,\n\nYour HydraFacial on Tue, Jun 30, 2026, 2:00 PM EDT at Main is cancelled.\n"
                 "Your deposit: $40.00 refunded to your card.\n\nTest Clinic")
        s.add_all([
            OutboxMessage(org_id=org, channel="email", kind="booking_confirmation", to_address="ana@example.com",
                          subject="Confirmed: Botox on Wed, Jul 15", client_id=ana.id, status="sent", attempts=1,
                          created_at=ny(30, 10), sent_at=ny(30, 10, 1), provider_id="250 2.0.0 Ok: queued as 4F2A",
                          body="Hi Ana,\n\nYour Botox is confirmed."),
            OutboxMessage(org_id=org, channel="sms", kind="booking_confirmation", to_address="+12125550147",
                          client_id=ana.id, status="queued", created_at=ny(30, 10), body="Botox confirmed"),
            OutboxMessage(org_id=org, channel="email", kind="checkout_receipt", to_address="ana@example.com",
                          subject="Receipt: Botox $350.00", client_id=ana.id, status="queued", created_at=ny(30, 11),
                          body="Thank you for your visit."),
            failed,
        ])
        s.commit()
        return clinic, f"owner-{clinic.slug}@example.com", failed.id, ben.id


def dead_letter(urls: tuple[str, str], clinic, message_id: int) -> None:
    """The failed message's delivery job as a dead letter (it failed its last attempt an hour ago)."""
    with _engine(urls[1]).begin() as conn:
        job_id = conn.execute(text(
            "insert into procrastinate_jobs (queue_name, task_name, args, status, attempts) "
            "values ('default', 'deliver_email', cast(:args as jsonb), 'failed', 6) returning id"),
            {"args": json.dumps({"message_id": message_id, "org_id": clinic.org_id})}).scalar()
        conn.execute(text("insert into procrastinate_events (job_id, type, at) values (:j, 'failed', :at)"),
                     {"j": job_id, "at": FROZEN_NOW - timedelta(hours=1)})


def still(page: Page) -> None:
    """Wait until no animation or transition runs (a dialog opening, a selection sliding)."""
    page.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")


def shot(page: Page, name: str) -> None:
    """The viewport with the dialog open, once its opening animation is over."""
    still(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def settle(page: Page) -> None:
    expect(page.locator("#outbox-page")).to_have_attribute("data-busy", "false")


def test_owner_resends_a_failed_message(page: Page, app_urls, base_url, screenshot):
    clinic, owner_email, failed_id, ben_id = make_outbox(app_urls)
    dead_letter(app_urls, clinic, failed_id)
    page.set_viewport_size({"width": 1440, "height": 960})
    page.goto("/outbox")
    page.wait_for_url("**/login?next=/outbox")  # strangers sign in first
    owner_session(page, base_url, clinic, owner_email)
    page.goto("/outbox")
    rows = page.locator(".outbox-row")
    expect(rows).to_have_count(4)
    expect(page.locator("#outbox-mail-banner")).to_contain_text("not sent: no mail server set up")
    expect(page.locator("#nav-outbox")).to_be_visible()
    screenshot("outbox-owner-all")

    # the owner's dead letters: the delivery job that gave up, with its message's failure
    page.click("#outbox-tab-jobs")
    job = page.locator(".outbox-job-row")
    expect(job).to_have_count(1)
    for words in ("Email delivery", "Jul 1, 2026, 11:00 AM EDT", "550 5.1.1", "This clinic"):
        expect(job).to_contain_text(words)
    screenshot("outbox-owner-failed-jobs")
    page.click("#outbox-tab-messages")

    page.click("#outbox-status-failed")
    settle(page)
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_have_attribute("data-status", "failed")
    expect(row).to_contain_text("Cancellation notice")
    expect(row).to_contain_text("Jun 29, 2026, 4:05 PM EDT")
    expect(row).to_contain_text("mailbox unavailable")
    still(page)
    screenshot("outbox-owner-failed")

    row.click()
    dialog = page.locator("#outbox-message")
    expect(dialog).to_be_visible()
    expect(page.locator("#outbox-msg-body")).to_contain_text("Your deposit: $40.00 refunded to your card.")
    expect(page.locator("#outbox-msg-failure")).to_contain_text("550 5.1.1")
    expect(page.locator("#outbox-resend-hint")).to_contain_text("Goes to ben@example.com")
    shot(page, "outbox-owner-message")
    page.click("#outbox-resend")
    expect(page.locator("#outbox-resend-note")).to_have_text(
        "Goes to ben@example.com, the client's current address (it went to ben@exmaple.com).")
    page.click("#outbox-resend-confirm")
    expect(page.locator("#outbox-msg-notice")).to_contain_text("Queued again for ben@example.com")
    expect(page.locator("#outbox-msg-status")).to_have_attribute("data-status", "queued")
    expect(page.locator("#outbox-resend")).to_have_count(0)
    shot(page, "outbox-owner-resent")
    page.click("#outbox-msg-close")
    expect(row).to_have_attribute("data-status", "queued")
    expect(row).to_contain_text("no mail server set up")
    expect(row).to_contain_text("ben@example.com")

    with clinic.session() as s:
        events = s.exec(select(AuditEvent.action, AuditEvent.client_id).where(
            AuditEvent.object_type == "outbox_message", AuditEvent.object_id == str(failed_id))).all()
        status = s.exec(select(OutboxMessage.status).where(OutboxMessage.id == failed_id)).one()
    assert sorted(events) == [("outbox.message.read", ben_id), ("outbox.message.resend", ben_id)]
    assert status == "queued"

    # the dead letter now says its message went back in line; then the page at a phone's width
    page.click("#outbox-tab-jobs")
    expect(job).to_contain_text("its message is queued now")
    page.click("#outbox-tab-messages")
    page.click("#outbox-status-all")
    settle(page)
    page.set_viewport_size(PHONE)
    expect(page.locator(".outbox-card").first).to_be_visible()
    page.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")
    expect(page.locator("#outbox-table")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot("outbox-owner-phone")
    page.locator(".outbox-card").first.click()
    expect(page.locator("#outbox-message")).to_be_visible()
    shot(page, "outbox-owner-phone-message")
    # the newest card is the receipt queued with no job: no "Send now" while there is no mail server
    expect(page.locator("#outbox-msg-status")).to_have_attribute("data-status", "queued")
    expect(page.locator("#outbox-resend-refused")).to_have_text(
        "Waiting for the mail server: set SMTP_HOST, then send it.")
    expect(page.locator("#outbox-resend")).to_have_count(0)
