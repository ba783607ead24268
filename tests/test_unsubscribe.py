"""The unsubscribe link of marketing emails (issue 19, consent and opt-out): /u/{token} through
the app's own FastAPI on the real PostgreSQL (GET changes nothing, the page's POST and an RFC
8058 one-click POST unsubscribe, audited; a bad token is a friendly 404), and the
List-Unsubscribe headers on marketing emails only, as a real SMTP server receives them."""

from __future__ import annotations

import re

import secrets

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from medspa.api import v1
from medspa.api.app import api
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.models import Client
from medspa.domain.messaging.actions import DeliveryOutcome, do_deliver_message
from medspa.domain.messaging.delivery import add_messages
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.messaging.unsubscribe import unsubscribe_token, unsubscribe_url
from tests.factories import build_clinic
from tests.sms_support import BASE_URL, CLOCK, fake_twilio, sms_and_mail, smtp_box  # noqa: F401


@pytest.fixture
def http(engine):
    api.dependency_overrides[v1.get_db_engine] = lambda: engine
    api.dependency_overrides[v1.get_clock] = lambda: CLOCK
    try:
        yield TestClient(api)
    finally:
        api.dependency_overrides.clear()


def add_client(clinic, *, email_consent: bool = True) -> int:
    with clinic.session() as s:
        c = Client(org_id=clinic.org_id, first_name="Ana", last_name="Silva",
                   email=f"ana.{secrets.token_hex(4)}@example.com", email_marketing_consent=email_consent,
                   sms_marketing_consent=True, email_marketing_consent_source="desk")
        s.add(c)
        s.commit()
        return c.id


def consent(clinic, client_id: int) -> tuple[bool, str, bool]:
    with clinic.session() as s:
        c = s.get(Client, client_id)
        return c.email_marketing_consent, c.email_marketing_consent_source, c.sms_marketing_consent


def events(clinic) -> list[AuditEvent]:
    with clinic.session() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == "client.unsubscribe").order_by(AuditEvent.id)))


def test_get_shows_the_clinic_and_changes_nothing_then_post_unsubscribes(engine, owner_engine, http):
    clinic = build_clinic(engine, owner_engine)
    ana = add_client(clinic)
    path = f"/u/{unsubscribe_token(clinic.org_id, ana)}"
    for _ in range(2):  # a mail scanner, then the client
        page = http.get(path)
        assert page.status_code == 200 and "Test Clinic" in page.text and 'id="unsubscribe-confirm"' in page.text
        assert page.headers["cache-control"] == "private, no-store"
    assert consent(clinic, ana) == (True, "desk", True) and events(clinic) == []
    done = http.post(path, data={"confirm": "1"})
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    portal = re.search(r'<a href="([^"]+)" id="unsubscribe-portal">', done.text)  # user trial: offers back on, one click
    assert portal is not None and portal.group(1).endswith(f"/portal/{clinic.slug}")
    assert consent(clinic, ana) == (False, "unsubscribe link", True)  # SMS consent untouched
    (event,) = events(clinic)
    assert (event.client_id, event.actor_role, event.detail) == (ana, "public", {"channel": "email", "one_click": False,
                                                                                 "changed": True})
    assert "You are not subscribed" in http.get(path).text


def test_one_click_post_unsubscribes(engine, owner_engine, http):
    clinic = build_clinic(engine, owner_engine)
    ana = add_client(clinic)
    answer = http.post(f"/u/{unsubscribe_token(clinic.org_id, ana)}", content="List-Unsubscribe=One-Click",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200
    assert consent(clinic, ana)[:2] == (False, "unsubscribe link")
    assert events(clinic)[0].detail["one_click"] is True


def test_a_bad_token_is_a_friendly_404(engine, owner_engine, http):
    clinic = build_clinic(engine, owner_engine)
    ana = add_client(clinic)
    token = unsubscribe_token(clinic.org_id, ana)
    other = add_client(clinic)
    forged = token.replace(f".{ana}.", f".{other}.")
    for bad in (forged, "nonsense", token[:-2], f"{clinic.org_id}.{ana}.e"):
        for answer in (http.get(f"/u/{bad}"), http.post(f"/u/{bad}", content="List-Unsubscribe=One-Click")):
            assert answer.status_code == 404 and "This link is not valid" in answer.text
    assert consent(clinic, ana)[0] is True and consent(clinic, other)[0] is True


def _email(clinic, settings, client_id: int, kind: str, to: str) -> int:
    with clinic.session() as s:
        msg = OutboxMessage(org_id=clinic.org_id, channel="email", kind=kind, to_address=to, client_id=client_id,
                            subject=f"{kind} subject", body="Hello from Glow")
        add_messages(s, [msg], settings=settings)
        s.commit()
        message_id = msg.id
    assert do_deliver_message(message_id, clinic.org_id, settings=settings, clock=CLOCK,
                              engine=clinic.engine) == DeliveryOutcome.SENT
    return message_id


def test_marketing_emails_carry_list_unsubscribe_and_transactional_ones_do_not(engine, owner_engine, sms_and_mail):
    settings, _, box = sms_and_mail
    clinic = build_clinic(engine, owner_engine)
    ana = add_client(clinic)
    _email(clinic, settings, ana, "review_request", "ana.review@example.com")
    _email(clinic, settings, ana, "campaign", "ana.campaign@example.com")
    _email(clinic, settings, ana, "booking_confirmation", "ana.confirm@example.com")
    received = {envelope.rcpt_tos[0]: message for envelope, message in box.accepted}
    link = unsubscribe_url(clinic.org_id, ana, settings=settings)
    assert link.startswith(f"{BASE_URL}/u/{clinic.org_id}.{ana}.e.")
    for address in ("ana.review@example.com", "ana.campaign@example.com"):
        assert received[address]["List-Unsubscribe"] == f"<{link}>"
        assert received[address]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    confirmation = received["ana.confirm@example.com"]
    assert confirmation["List-Unsubscribe"] is None and confirmation["List-Unsubscribe-Post"] is None
