"""What the SMS tests share: a fake Twilio on a real socket, a real SMTP server (aiosmtpd), the
environment that points the app at them, and small readers of the outbox and the job queue."""

from __future__ import annotations


import pytest
from sqlalchemy import text
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.messaging.models import ContactSuppression, OutboxMessage
from medspa.settings import Settings, get_settings
from tests.conftest import utc
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.smtp_support import smtp_server_for

CLOCK = FixedClock(utc(2026, 7, 1, 12))
BASE_URL = "https://spa.example"
DEFAULT_FROM = "+12125550100"


class Mailbox:
    """An SMTP server's handler: RCPT answers per address (`refuse`), DATA answers in turn
    (`data_answers`, then 250); keeps every RCPT tried and every accepted message."""

    def __init__(self) -> None:
        self.refuse: dict[str, str] = {}
        self.data_answers: list[str] = []
        self.rcpts: list[str] = []
        self.accepted: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpts.append(address)
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        answer = self.data_answers.pop(0) if self.data_answers else "250 OK queued as Q1"
        if answer.startswith("250"):
            self.accepted.append((envelope, message_from_bytes(envelope.original_content, policy=policy.default)))
        return answer


@pytest.fixture
def fake_twilio():
    fake = FakeTwilio().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def smtp_box():
    box = Mailbox()
    with smtp_server_for(box) as controller:
        yield controller, box


def _environment(monkeypatch, owner_engine, env: dict[str, str], unset: tuple[str, ...] = ()):
    for key in unset:
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield Settings()
    get_settings.cache_clear()
    with owner_engine.begin() as conn:  # no stray jobs for the job-queue tests' workers
        conn.execute(text("delete from procrastinate_jobs where task_name in ('deliver_email', 'deliver_sms')"))


def twilio_env(fake: FakeTwilio) -> dict[str, str]:
    return {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM_NUMBER": DEFAULT_FROM,
            "TWILIO_API_BASE": fake.url, "PUBLIC_BASE_URL": BASE_URL}


@pytest.fixture
def sms(fake_twilio, monkeypatch, owner_engine):
    """Twilio set up (the fake), no mail server: (Settings, FakeTwilio); the process settings too."""
    for settings in _environment(monkeypatch, owner_engine, twilio_env(fake_twilio), unset=("SMTP_HOST",)):
        yield settings, fake_twilio


@pytest.fixture
def sms_and_mail(fake_twilio, smtp_box, monkeypatch, owner_engine):
    """Twilio (the fake) and a mail server (aiosmtpd): (Settings, FakeTwilio, Mailbox)."""
    controller, box = smtp_box
    env = {**twilio_env(fake_twilio), "SMTP_HOST": controller.hostname, "SMTP_PORT": str(controller.port),
           "SMTP_SECURITY": "none", "MAIL_FROM_ADDRESS": "hello@glow.example"}
    for settings in _environment(monkeypatch, owner_engine, env):
        yield settings, fake_twilio, box


def jobs_for(owner_engine, task: str, message_ids) -> list[int]:
    """The message ids that have a `task` job in procrastinate_jobs (one entry per job)."""
    with owner_engine.connect() as conn:
        rows = conn.execute(text("select (args->>'message_id')::bigint from procrastinate_jobs "
                                 "where task_name = :task and (args->>'message_id')::bigint = any(:ids) order by id"),
                            {"task": task, "ids": list(message_ids)}).all()
    return [r[0] for r in rows]


def job_id_of(owner_engine, task: str, message_id: int) -> int:
    with owner_engine.connect() as conn:
        return conn.execute(text("select id from procrastinate_jobs where task_name = :task "
                                 "and (args->>'message_id')::bigint = :id"), {"task": task, "id": message_id}).scalar_one()


def row(clinic, message_id: int) -> OutboxMessage:
    with clinic.session() as s:
        return s.exec(select(OutboxMessage).where(OutboxMessage.id == message_id)).one()


def messages(clinic, **where) -> list[OutboxMessage]:
    with clinic.session() as s:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(s.exec(query))


def suppressions(clinic) -> list[tuple[str, str, str, int | None]]:
    """(channel, address, reason, message id) of the clinic's suppressed contacts."""
    with clinic.session() as s:
        return [(x.channel, x.address, x.reason, x.message_id)
                for x in s.exec(select(ContactSuppression).order_by(ContactSuppression.id))]


def add_sms(clinic, to: str, *, client_id: int | None = None, appointment_id: int | None = None,
            key: str | None = None, body: str = "Glow: see you soon", kind: str = "booking_confirmation",
            settings: Settings | None = None) -> int:
    """One SMS added through the normal path (its job deferred when Twilio is set up); its id."""
    from medspa.domain.messaging.delivery import add_messages

    with clinic.session() as s:
        msg = OutboxMessage(org_id=clinic.org_id, channel="sms", kind=kind, to_address=to,
                            body=body, client_id=client_id, appointment_id=appointment_id, dedupe_key=key)
        add_messages(s, [msg], settings=settings)
        s.commit()
        return msg.id


def add_email(clinic, to: str, *, settings: Settings | None = None) -> int:
    from medspa.domain.messaging.delivery import add_messages

    with clinic.session() as s:
        msg = OutboxMessage(org_id=clinic.org_id, channel="email", kind="portal_code", to_address=to,
                            subject="Your code", body="Hi,\n\nYour code is 123456.")
        add_messages(s, [msg], settings=settings)
        s.commit()
        return msg.id
