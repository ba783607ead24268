"""/settings, Messages tab, in headless Chromium against the real app (issue 19 §1): the owner
opens the booking confirmation, types a misspelt variable (its message under the body, nothing
saved), writes a new wording, sees it previewed on the clinic's next visit (email and text with
its segments), saves it; then a visit is booked and its confirmation, delivered to a test SMTP
server (aiosmtpd), says the new wording with the invite attached.

Screenshots: the Messages tab at 1440 wide (email, then the text).
"""

from __future__ import annotations

from datetime import datetime, timezone
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from sqlmodel import select

import medspa.domain.models  # noqa: F401  (every table)
from medspa.domain.clients.service import ClientInput
from medspa.domain.identity.service import create_user
from medspa.domain.messaging.actions import DeliveryOutcome, do_deliver_message
from medspa.domain.messaging.engage_models import MessageTemplate
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.scheduling.desk import book_for_client
from medspa.settings import Settings
from tests.browser.conftest import FROZEN_NOW
from tests.browser.test_audit import PASSWORD, _engine, owner_session
from tests.factories import build_clinic
from tests.smtp_support import smtp_server_for

NY = ZoneInfo("America/New_York")
TIMEOUT = 20_000
BODY = ("Hello {{ client.first_name }}! Your {{ visit.treatment }} with {{ visit.provider }} is on {{ visit.when }}.\n"
        "Reference {{ visit.reference }}. Change it here: {{ links.manage }}")


class Sink:
    """Keeps every message the test SMTP server is given."""

    def __init__(self) -> None:
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope, message_from_bytes(envelope.original_content, policy=policy.default)))
        return "250 OK queued"


def _book(clinic, hour: int, n: int) -> int:
    with clinic.session() as s:
        appt = book_for_client(s, clinic.staff_actor(), location_id=clinic.location_id,
                               service_id=clinic.services["botox"], now=FROZEN_NOW,
                               start_at=datetime(2026, 7, 15, hour, tzinfo=NY).astimezone(timezone.utc),
                               new_client=ClientInput("Ana" if n == 1 else "Bea", "Silva", f"client{n}@example.com",
                                                      f"+1212555{n:04d}"))
        s.commit()
        return appt.id


def test_staff_edit_the_confirmation_preview_it_and_the_next_one_arrives_in_their_words(
        page: Page, app_urls, base_url, screenshot):
    clinic = build_clinic(_engine(app_urls[0]), _engine(app_urls[1]))
    email = f"owner-{clinic.slug}@example.com"
    with clinic.session() as s:
        create_user(s, clinic.system, email=email, password=PASSWORD, role="owner", display_name="Olivia Owner")
        s.commit()
    _book(clinic, 10, 1)  # the clinic's next visit: the preview uses it
    page.set_viewport_size({"width": 1440, "height": 1000})
    owner_session(page, base_url, clinic, email)
    page.goto("/settings?tab=messages")
    expect(page.locator("#msg-title")).to_have_text("Booking confirmation", timeout=TIMEOUT)
    expect(page.locator("#msg-source")).to_have_text("Default wording")
    expect(page.locator("#msg-preview-basis")).to_contain_text("Ana S.'s visit on Wed, Jul 15, 2026, 10:00 AM EDT")
    expect(page.locator("#msg-preview-email")).to_contain_text("Your Botox with Provider 1 is confirmed")

    # a misspelt variable: its message under the body, and Save writes nothing
    page.fill("#msg-body", "Hi {{ visit.tretment }}")
    expect(page.locator("#msg-body-error")).to_have_text(
        "There is no variable named 'tretment': use one from the list of variables")
    page.click("#msg-save")
    expect(page.locator("#msg-error")).to_have_text("Nothing was saved: fix the field marked in red")
    with clinic.session() as s:
        assert s.exec(select(MessageTemplate)).all() == []

    page.fill("#msg-subject", "See you {{ visit.date }}, {{ client.first_name }}")
    page.fill("#msg-body", BODY)
    expect(page.locator("#msg-preview-email")).to_contain_text(
        "Hello Ana! Your Botox with Provider 1 is on Wed, Jul 15, 2026, 10:00 AM EDT (America/New_York).")
    expect(page.locator("#msg-preview-subject")).to_have_text("See you Wed, Jul 15, Ana")
    expect(page.locator("#msg-body-error")).to_have_count(0)
    page.click("#msg-save")
    expect(page.locator("#msg-message")).to_have_text("Saved: clients now get this wording by email", timeout=TIMEOUT)
    expect(page.locator("#msg-source")).to_have_text("Your clinic's wording")
    expect(page.locator("#msg-kind-booking_confirmation")).to_contain_text("Edited")
    screenshot("settings-messages-email")

    page.get_by_role("radio", name="Text (SMS)").click()
    expect(page.locator("#msg-source")).to_have_text("Default wording")
    expect(page.locator("#msg-body")).to_have_value(
        "{{ clinic.name }}: your {{ visit.treatment }} is confirmed for {{ visit.when }}. {{ visit.terms }} "
        "Ref {{ visit.reference }}")
    expect(page.locator("#msg-preview-sms")).to_contain_text("Test Clinic: your appointment is confirmed for Wed")
    expect(page.locator("#msg-preview-count")).to_contain_text("characters · 2 segments")
    screenshot("settings-messages-sms")

    # the next confirmation, delivered to a test SMTP server, says the saved wording
    appt_id = _book(clinic, 11, 2)
    with clinic.session() as s:
        mail = s.exec(select(OutboxMessage).where(OutboxMessage.appointment_id == appt_id,
                                                  OutboxMessage.channel == "email")).one()
    sink = Sink()
    with smtp_server_for(sink) as controller:
        settings = Settings(smtp_host=controller.hostname, smtp_port=controller.port, smtp_security="none",
                            mail_from_address="hello@clinic.example")
        outcome = do_deliver_message(mail.id, clinic.org_id, settings=settings, engine=_engine(app_urls[0]))
    assert outcome == DeliveryOutcome.SENT
    ((envelope, received),) = sink.received
    assert envelope.rcpt_tos == ["client2@example.com"]
    assert received["Subject"] == "See you Wed, Jul 15, Bea"
    text = received.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("Hello Bea! Your Botox with Provider 1 is on Wed, Jul 15, 2026, 11:00 AM EDT "
                           "(America/New_York).\nReference ")
    assert f"{clinic.slug}/manage/" in text
    assert [p.get_filename() for p in received.iter_attachments()] == ["invite.ics"]
