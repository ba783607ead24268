"""SMS through Twilio's REST API (issue 10, step 4), against a fake Twilio on a real local socket
(tests/fake_twilio.py) and the real PostgreSQL: what is POSTed (sender per location, clinic,
deployment; To, Body, StatusCallback, basic auth), sent with the SID, permanent refusals
(the number marked, the fallback email with its job, a later SMS refused at its claim without
a request), temporary ones retried, nothing deferred without Twilio, and email hard bounces
(a 5xx to RCPT marks the address, a 5xx to DATA does not)."""

from __future__ import annotations

import time as clock_time
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import select

from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.service import ClientInput
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.messaging.actions import DeliveryOutcome, do_deliver_message
from medspa.domain.messaging.models import NOT_SENT_NO_SMS_PROVIDER, MessageStatus
from medspa.domain.messaging.smtp import is_hard_bounce
from medspa.domain.messaging.failures import TemporaryFailure
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.desk import book_for_client
from medspa.settings import Settings
from tests.factories import build_clinic
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN
from tests.sms_support import (BASE_URL, CLOCK, DEFAULT_FROM, add_email, add_sms, fake_twilio, job_id_of,  # noqa: F401
                               jobs_for, messages, row, sms, sms_and_mail, smtp_box, suppressions)

NY = ZoneInfo("America/New_York")
CARD = CardDetails("4242 4242 4242 4242", 12, 2030, "123")
ANA = "+12125550147"
INVALID_TO = (400, {"code": 21211, "message": "Invalid 'To' Phone Number: +1212555XXXX"})


def at(hour: int) -> datetime:
    return datetime.combine(date(2026, 7, 15), time(hour), tzinfo=NY).astimezone(timezone.utc)


def book(clinic, hour: int = 10, email: str = "ana@example.com", phone: str = "(212) 555-0147"):
    return book_online(clinic.engine, clinic.public, OnlineBooking(
        location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=at(hour),
        client=ClientInput("Ana", "Silva", email, phone), card=CARD), TestPaymentGateway(clinic.engine, CLOCK.now), CLOCK)


def deliver(clinic, message_id: int, settings: Settings, **kw) -> DeliveryOutcome:
    return do_deliver_message(message_id, clinic.org_id, settings=settings, clock=CLOCK, engine=clinic.engine, **kw)


def set_numbers(clinic, owner_engine, *, location: str | None, org: str | None) -> None:
    with clinic.session() as s:
        loc = s.get(Location, clinic.location_id)
        loc.sms_from_number = location
        s.add(loc)
        s.commit()
    with owner_engine.begin() as conn:
        conn.execute(text("update organization set sms_from_number = :n where id = :id"), {"n": org, "id": clinic.org_id})


def test_an_sms_is_posted_from_the_right_number_and_becomes_sent_with_its_sid(engine, owner_engine, sms):
    settings, fake = sms
    clinic = build_clinic(engine, owner_engine)
    set_numbers(clinic, owner_engine, location="+12125550111", org="+12125550122")
    appt = book(clinic)
    (confirmation,) = messages(clinic, appointment_id=appt.id, channel="sms")
    assert jobs_for(owner_engine, "deliver_sms", [confirmation.id]) == [confirmation.id]
    emails = [m.id for m in messages(clinic, appointment_id=appt.id, channel="email")]
    assert len(emails) == 2 and jobs_for(owner_engine, "deliver_email", emails) == []  # no mail server: no job
    job_id = job_id_of(owner_engine, "deliver_sms", confirmation.id)

    assert deliver(clinic, confirmation.id, settings, job_id=job_id) == DeliveryOutcome.SENT
    (seen,) = fake.requests
    assert seen.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert (seen.user, seen.password) == (ACCOUNT_SID, AUTH_TOKEN)
    assert seen.form == {"To": ANA, "From": "+12125550111", "Body": confirmation.body,
                         "StatusCallback": f"{BASE_URL}/api/v1/webhooks/twilio/status"
                                           f"?org={clinic.org_id}&message={confirmation.id}&attempt=1"}
    assert confirmation.body.startswith("Test Clinic: your appointment is confirmed for Wed, Jul 15, 2026")
    assert "Botox" not in confirmation.body  # no treatment in a text unless the clinic allows it
    sent = row(clinic, confirmation.id)
    assert (sent.status, sent.provider_id, sent.attempts, sent.job_id) == ("sent", fake.sids[0], 1, job_id)
    assert sent.sent_at == CLOCK.now() and sent.failure_reason is None and sent.message_id is None
    # delivered once: a second run finds nothing to claim and posts nothing
    assert deliver(clinic, confirmation.id, settings, job_id=job_id) == DeliveryOutcome.SKIPPED
    assert len(fake.requests) == 1

    set_numbers(clinic, owner_engine, location=None, org="+12125550122")
    clinic_number = add_sms(clinic, ANA, appointment_id=appt.id, key="t-clinic")
    assert deliver(clinic, clinic_number, settings) == DeliveryOutcome.SENT
    set_numbers(clinic, owner_engine, location=None, org=None)
    default_number = add_sms(clinic, ANA, appointment_id=appt.id, key="t-default")
    assert deliver(clinic, default_number, settings) == DeliveryOutcome.SENT
    assert [r.form["From"] for r in fake.requests] == ["+12125550111", "+12125550122", DEFAULT_FROM]


def test_an_invalid_number_fails_for_good_is_marked_and_falls_back_to_email(engine, owner_engine, sms_and_mail):
    settings, fake, mailbox = sms_and_mail
    clinic = build_clinic(engine, owner_engine)
    appt = book(clinic)
    (twin,) = messages(clinic, appointment_id=appt.id, channel="sms")
    # an SMS with no email twin (e.g. a reminder the client takes by text only)
    text_id = add_sms(clinic, ANA, client_id=twin.client_id, appointment_id=appt.id, key=f"remind-sms-{appt.id}",
                      body="Test Clinic: see you tomorrow at 9:00 AM", kind="reminder", settings=settings)
    text_message = row(clinic, text_id)
    fake.answers = [INVALID_TO]
    assert deliver(clinic, text_message.id, settings) == DeliveryOutcome.FAILED  # the job succeeds: no retry
    failed = row(clinic, text_message.id)
    assert (failed.status, failed.attempts, failed.provider_id, failed.sent_at) == ("failed", 1, None, None)
    assert failed.failure_reason == "Twilio 21211: Invalid 'To' Phone Number: +1212555XXXX"
    assert suppressions(clinic) == [("sms", ANA, failed.failure_reason, text_message.id)]

    (fallback,) = messages(clinic, fallback_for_id=text_message.id)
    assert (fallback.channel, fallback.kind, fallback.to_address, fallback.status) == (
        "email", "reminder", "ana@example.com", "queued")
    assert (fallback.subject, fallback.body) == ("A message from Test Clinic", text_message.body)
    assert (fallback.client_id, fallback.appointment_id) == (text_message.client_id, appt.id)
    assert fallback.dedupe_key == f"remind-sms-{appt.id}-fallback"
    assert jobs_for(owner_engine, "deliver_email", [fallback.id]) == [fallback.id]  # deferred with the failure
    assert deliver(clinic, fallback.id, settings) == DeliveryOutcome.SENT
    ((envelope, received),) = mailbox.accepted
    assert envelope.rcpt_tos == ["ana@example.com"] and received["Subject"] == "A message from Test Clinic"
    assert received.get_body(("plain",)).get_content().strip() == text_message.body

    # a later SMS to the number fails at its claim: no request to Twilio, the mark named
    later = add_sms(clinic, ANA, client_id=text_message.client_id, key="later")
    assert deliver(clinic, later, settings) == DeliveryOutcome.FAILED
    assert len(fake.requests) == 1
    refused = row(clinic, later)
    expected = ("not sent: +1 212-555-0147 marked undeliverable on 2026-07-01 "
                "(Twilio 21211: Invalid 'To' Phone Number: +1212555XXXX)")
    assert (refused.status, refused.failure_reason, refused.attempts) == ("failed", expected, 0)
    assert refused.delivery_label(True, True) == expected
    assert [m.fallback_for_id for m in messages(clinic, dedupe_key="later-fallback")] == [later]
    # only once per SMS: the failed SMS is not claimable again, and its fallback stays single
    assert deliver(clinic, text_message.id, settings) == DeliveryOutcome.SKIPPED
    assert len(messages(clinic, fallback_for_id=text_message.id)) == 1


def test_no_fallback_when_the_visits_own_email_says_it_already(engine, owner_engine, sms_and_mail):
    """The confirmation is an email + SMS pair: a failed SMS does not repeat the queued email;
    once that email failed too (not to a marked address), the fallback is written."""
    settings, fake, _ = sms_and_mail
    clinic = build_clinic(engine, owner_engine)
    appt = book(clinic)
    (text_message,) = messages(clinic, appointment_id=appt.id, channel="sms")
    (email,) = messages(clinic, appointment_id=appt.id, channel="email", kind="booking_confirmation")
    fake.answers = [INVALID_TO]
    assert deliver(clinic, text_message.id, settings) == DeliveryOutcome.FAILED
    assert messages(clinic, fallback_for_id=text_message.id) == []
    assert row(clinic, email.id).status == "queued"


@pytest.mark.parametrize("status, code, marked", [
    (400, 21610, True),   # the recipient replied STOP
    (400, 21614, True),   # not a mobile number
    (400, 21408, False),  # our account may not send to that region: not the number's fault
    (400, 21617, False),  # the body is too long
])
def test_which_refusals_mark_the_number(engine, owner_engine, sms, status, code, marked):
    settings, fake = sms
    clinic = build_clinic(engine, owner_engine)
    message_id = add_sms(clinic, ANA)
    fake.answers = [(status, {"code": code, "message": f"error {code}"})]
    assert deliver(clinic, message_id, settings) == DeliveryOutcome.FAILED
    assert row(clinic, message_id).failure_reason == f"Twilio {code}: error {code}"
    assert suppressions(clinic) == ([("sms", ANA, f"Twilio {code}: error {code}", message_id)] if marked else [])


def test_wrong_credentials_fail_the_message_without_marking_the_number(engine, owner_engine, sms):
    settings, fake = sms
    clinic = build_clinic(engine, owner_engine)
    message_id = add_sms(clinic, ANA)
    wrong = settings.model_copy(update={"twilio_auth_token": "not-the-token"})
    assert deliver(clinic, message_id, wrong) == DeliveryOutcome.FAILED
    assert row(clinic, message_id).failure_reason == "Twilio 20003: Authenticate"
    assert suppressions(clinic) == []


@pytest.mark.parametrize("answer, reason", [
    ((429, {"code": 20429, "message": "Too Many Requests"}), "Twilio 20429: Too Many Requests"),
    ((500, {"code": 20500, "message": "Internal Server Error"}), "Twilio 20500: Internal Server Error"),
    ((503, {"message": "Service Unavailable"}), "Twilio HTTP 503: Service Unavailable"),
])
def test_a_429_or_5xx_is_retried_and_sent_on_the_retry(engine, owner_engine, sms, answer, reason):
    settings, fake = sms
    clinic = build_clinic(engine, owner_engine)
    message_id = add_sms(clinic, ANA)
    job_id = job_id_of(owner_engine, "deliver_sms", message_id)
    fake.answers = [answer]
    with pytest.raises(TemporaryFailure) as raised:
        deliver(clinic, message_id, settings, job_id=job_id)
    assert raised.value.reason == reason
    waiting = row(clinic, message_id)
    assert (waiting.status, waiting.attempts, waiting.failure_reason, waiting.provider_id) == ("queued", 1, reason, None)
    assert deliver(clinic, message_id, settings, job_id=job_id) == DeliveryOutcome.SENT
    sent = row(clinic, message_id)
    assert (sent.status, sent.attempts, sent.failure_reason, sent.provider_id) == ("sent", 2, None, fake.sids[0])
    assert len(fake.requests) == 2 and suppressions(clinic) == []


def test_a_timeout_is_retried_and_can_send_twice(engine, owner_engine, sms):
    """Twilio has no idempotency key: an answer lost to a timeout after Twilio accepted the POST
    is retried and the text goes out twice (the README's one-duplicate window)."""
    settings, fake = sms
    clinic = build_clinic(engine, owner_engine)
    message_id = add_sms(clinic, ANA)
    fake.answers = [("sleep", 1.5)]
    impatient = settings.model_copy(update={"twilio_timeout_seconds": 0.3})
    with pytest.raises(TemporaryFailure, match="Timeout"):
        deliver(clinic, message_id, impatient)
    assert row(clinic, message_id).status == MessageStatus.QUEUED
    assert deliver(clinic, message_id, impatient) == DeliveryOutcome.SENT
    deadline = clock_time.monotonic() + 10
    while len(fake.sids) < 2 and clock_time.monotonic() < deadline:
        clock_time.sleep(0.05)
    assert len(fake.sids) == 2 and row(clinic, message_id).provider_id in fake.sids
    assert row(clinic, message_id).attempts == 2


def test_without_twilio_no_sms_job_is_deferred_and_the_outbox_says_so(engine, owner_engine, monkeypatch):
    from medspa.ops.outbox import newest_outbox

    for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SMTP_HOST"):
        monkeypatch.delenv(key, raising=False)
    settings = Settings(twilio_account_sid="", twilio_auth_token="", smtp_host="")
    assert not settings.sms_enabled
    clinic = build_clinic(engine, owner_engine)
    message_id = add_sms(clinic, ANA, settings=settings)
    assert jobs_for(owner_engine, "deliver_sms", [message_id]) == []
    waiting = row(clinic, message_id)
    assert waiting.status == "queued" and waiting.delivery_label(False, False) == NOT_SENT_NO_SMS_PROVIDER
    assert waiting.delivery_label(False) == "not sent: no SMS provider set up"  # the old one-argument call
    with_mail = Settings(smtp_host="127.0.0.1", twilio_account_sid="", twilio_auth_token="")
    assert deliver(clinic, message_id, with_mail) == DeliveryOutcome.SKIPPED  # SMTP alone never claims an SMS
    assert row(clinic, message_id).attempts == 0
    box, = newest_outbox(engine, clinic=clinic.slug)
    assert [m.status for m in box.messages] == [NOT_SENT_NO_SMS_PROVIDER]


def test_an_sms_job_deferred_in_a_rolled_back_transaction_does_not_exist(engine, owner_engine, sms):
    settings, _ = sms
    clinic = build_clinic(engine, owner_engine)
    from medspa.domain.messaging.delivery import add_messages
    from medspa.domain.messaging.models import OutboxMessage

    with clinic.session() as s:
        msg = OutboxMessage(org_id=clinic.org_id, channel="sms", kind="portal_code", to_address=ANA, body="b")
        add_messages(s, [msg], settings=settings)
        gone = msg.id
        s.rollback()
    assert jobs_for(owner_engine, "deliver_sms", [gone]) == []


def test_no_fallback_without_an_email_or_to_a_marked_one(engine, owner_engine, sms_and_mail):
    settings, fake, _ = sms_and_mail
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:  # a desk booking for a client with a phone and no email: an SMS only
        appt = book_for_client(s, clinic.staff_actor(), location_id=clinic.location_id,
                               service_id=clinic.services["botox"], start_at=at(11), now=CLOCK.now(),
                               new_client=ClientInput("Ola", "Nord", "", "+12125550199"))
        s.commit()
    (only,) = messages(clinic, appointment_id=appt.id)
    assert only.channel == "sms"
    fake.answers = [INVALID_TO]
    assert deliver(clinic, only.id, settings) == DeliveryOutcome.FAILED
    assert messages(clinic, fallback_for_id=only.id) == []

    marked = book(clinic, 12, email="bounced@example.com", phone="(212) 555-0148")
    sms_id = next(m.id for m in messages(clinic, appointment_id=marked.id, channel="sms"))
    bouncing = add_email(clinic, "bounced@example.com")
    with clinic.session() as s:
        from medspa.domain.messaging.suppression import suppress_contact

        suppress_contact(s, org_id=clinic.org_id, channel="email", address="Bounced@Example.com",
                         reason="550 5.1.1 no such user", message_id=bouncing, now=CLOCK.now())
        s.commit()
    fake.answers = [INVALID_TO]
    assert deliver(clinic, sms_id, settings) == DeliveryOutcome.FAILED
    assert messages(clinic, fallback_for_id=sms_id) == []


@pytest.mark.parametrize("code, reply, bounce", [
    (550, "5.1.1 <x@example.com>: user unknown", True),
    (550, "mailbox unavailable", True),
    (551, "user not local", True),
    (553, "5.1.3 bad address syntax", True),
    (554, "5.1.1 unknown recipient", True),
    (550, "5.2.1 mailbox disabled", True),
    (550, "5.7.1 relaying denied", False),
    (552, "5.2.2 mailbox full", False),
    (553, "5.1.8 sender domain does not exist", False),
    (554, "transaction failed", False),
    (450, "4.2.1 try later", False),
])
def test_which_rcpt_refusals_are_hard_bounces(code, reply, bounce):
    assert is_hard_bounce(code, reply) is bounce


def test_a_550_to_rcpt_marks_the_address_and_a_554_to_data_does_not(engine, owner_engine, sms_and_mail):
    settings, _, mailbox = sms_and_mail
    clinic = build_clinic(engine, owner_engine)
    mailbox.refuse["gone@example.com"] = "550 5.1.1 <gone@example.com>: user unknown"
    bounced = add_email(clinic, "gone@example.com")
    assert deliver(clinic, bounced, settings) == DeliveryOutcome.FAILED
    reason = row(clinic, bounced).failure_reason
    assert reason == "550 5.1.1 <gone@example.com>: user unknown"
    assert suppressions(clinic) == [("email", "gone@example.com", reason, bounced)]

    mailbox.data_answers = ["554 5.6.0 message content rejected"]
    refused = add_email(clinic, "picky@example.com")
    assert deliver(clinic, refused, settings) == DeliveryOutcome.FAILED
    assert row(clinic, refused).failure_reason == "554 5.6.0 message content rejected"
    assert [x[1] for x in suppressions(clinic)] == ["gone@example.com"]  # the address is not marked

    tries = len(mailbox.rcpts)
    again = add_email(clinic, "Gone@Example.com")
    assert deliver(clinic, again, settings) == DeliveryOutcome.FAILED
    assert len(mailbox.rcpts) == tries  # no SMTP conversation at all
    assert row(clinic, again).failure_reason == f"not sent: gone@example.com marked undeliverable on 2026-07-01 ({reason})"
    retry = add_email(clinic, "picky@example.com")
    assert deliver(clinic, retry, settings) == DeliveryOutcome.SENT


def test_lifting_a_mark_is_audited_and_the_next_sms_goes_out(engine, owner_engine, sms):
    from medspa.domain.identity import permissions
    from medspa.domain.messaging.suppression import LIFT_PERMISSION, lift_suppression

    assert [r for r in ("owner", "manager", "provider", "front_desk") if permissions.has_permission(r, LIFT_PERMISSION)] \
        == ["owner", "manager"]
    settings, fake = sms
    clinic = build_clinic(engine, owner_engine)
    first = add_sms(clinic, ANA)
    fake.answers = [(400, {"code": 21614, "message": "'To' number is not a valid mobile number"})]
    assert deliver(clinic, first, settings) == DeliveryOutcome.FAILED
    with clinic.session() as s, pytest.raises(PermissionDenied):
        lift_suppression(s, clinic.staff_actor("front_desk"), "sms", ANA, now=CLOCK.now())
    owner = clinic.staff_actor("owner")
    with clinic.session() as s:
        assert lift_suppression(s, owner, "sms", ANA, now=CLOCK.now()) is True
        assert lift_suppression(s, owner, "sms", ANA, now=CLOCK.now()) is False
        s.commit()
    assert suppressions(clinic) == []
    with clinic.session() as s:
        (audit,) = s.exec(select(AuditEvent).where(AuditEvent.action == "contact.unsuppress")).all()
    assert (audit.actor_role, audit.occurred_at, audit.detail["channel"], audit.detail["address"]) == (
        "owner", CLOCK.now(), "sms", ANA)
    assert audit.detail["reason"] == "Twilio 21614: 'To' number is not a valid mobile number"
    second = add_sms(clinic, ANA)
    assert deliver(clinic, second, settings) == DeliveryOutcome.SENT and len(fake.requests) == 2


def test_the_sms_job_runs_on_a_worker(engine, owner_engine, db_urls, sms, monkeypatch):
    """deliver_sms run by a procrastinate worker on the app role, against the fake Twilio: one
    run each, the refused one not retried."""
    from medspa.jobs.app import IMPORT_PATHS, RETRY
    from medspa.jobs.sms import deliver_sms
    from medspa.settings import get_settings
    from tests.conftest import drain_queue

    assert "medspa.jobs.sms" in IMPORT_PATHS
    settings, fake = sms
    clinic = build_clinic(engine, owner_engine)
    refused, accepted = add_sms(clinic, "+12125550150"), add_sms(clinic, ANA)
    fake.answers = [INVALID_TO]  # the first job (lower id) runs first
    monkeypatch.setenv("DATABASE_URL", db_urls[0])
    get_settings.cache_clear()
    drain_queue(db_urls[0], "deliver_sms", deliver_sms.func, RETRY)
    with owner_engine.connect() as conn:
        jobs = conn.execute(text("select (args->>'message_id')::bigint, status, attempts from procrastinate_jobs "
                                 "where task_name = 'deliver_sms' and (args->>'message_id')::bigint = any(:ids)"),
                            {"ids": [refused, accepted]}).all()
    assert sorted(jobs) == sorted([(refused, "succeeded", 1), (accepted, "succeeded", 1)])
    assert (row(clinic, refused).status, row(clinic, accepted).status) == ("failed", "sent")
    assert [r.form["To"] for r in fake.requests] == ["+12125550150", ANA]


def test_without_any_sender_number_the_sms_fails_at_its_claim_and_falls_back(engine, owner_engine, sms):
    settings, fake = sms
    clinic = build_clinic(engine, owner_engine)
    appt = book(clinic)
    (twin,) = messages(clinic, appointment_id=appt.id, channel="sms")
    text_message = row(clinic, add_sms(clinic, ANA, client_id=twin.client_id, appointment_id=appt.id,
                                       key=f"remind-sms-{appt.id}", kind="reminder", settings=settings))
    no_default = settings.model_copy(update={"twilio_from_number": ""})
    assert deliver(clinic, text_message.id, no_default) == DeliveryOutcome.FAILED
    failed = row(clinic, text_message.id)
    assert failed.failure_reason == ("not sent: no SMS sender number set up "
                                     "(the location's, the clinic's or TWILIO_FROM_NUMBER)")
    assert fake.requests == [] and suppressions(clinic) == []
    (fallback,) = messages(clinic, fallback_for_id=text_message.id)
    assert fallback.to_address == "ana@example.com"
    assert jobs_for(owner_engine, "deliver_email", [fallback.id]) == []  # no mail server here: it waits, labelled
