"""Email over SMTP through the job queue (issue 10, step 2), against a real SMTP server the
tests start (aiosmtpd) and the real PostgreSQL: headers and parts of a received confirmation,
sent / failed (5xx, no retry) / retried (4xx, same Message-ID), one send for two concurrent
deliveries (the claim), nothing deferred without a mail server, no job after a rollback."""

from __future__ import annotations

import socket
import threading
from datetime import date, datetime, time, timezone
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.service import ClientInput
from medspa.domain.messaging.actions import DeliveryOutcome, do_deliver_message
from medspa.domain.messaging.delivery import add_messages
from medspa.domain.messaging.models import NOT_SENT_NO_MAIL_SERVER, MessageStatus, OutboxMessage
from medspa.domain.messaging.smtp import TemporaryFailure
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.settings import Settings, get_settings
from tests.conftest import run_in_fresh_loop, utc
from tests.smtp_support import smtp_server_for
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
CARD = CardDetails("4242 4242 4242 4242", 12, 2030, "123")
CLOCK = FixedClock(utc(2026, 7, 1, 12))


class Sink:
    """Keeps every DATA it is given; answers from `answers` in turn (then 250)."""

    def __init__(self) -> None:
        self.messages, self.answers, self.received = [], [], []

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append(parsed)
        answer = self.answers.pop(0) if self.answers else "250 OK queued as Q1"
        if answer.startswith("250"):
            self.messages.append((envelope, parsed))
        return answer


@pytest.fixture
def smtp_server():
    sink = Sink()
    with smtp_server_for(sink) as controller:
        yield controller, sink


@pytest.fixture
def mail(smtp_server, monkeypatch, owner_engine):
    """Settings with the test SMTP server; the process settings too (services read them)."""
    controller, sink = smtp_server
    env = {"SMTP_HOST": controller.hostname, "SMTP_PORT": str(controller.port), "SMTP_SECURITY": "none",
           "MAIL_FROM_NAME": "Glow Aesthetics", "MAIL_FROM_ADDRESS": "hello@glow.example"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield Settings(), sink
    get_settings.cache_clear()
    with owner_engine.begin() as conn:  # no stray jobs for the job-queue tests' workers
        conn.execute(text("delete from procrastinate_jobs where task_name = 'deliver_email'"))


def _jobs_for(owner_engine, message_ids) -> list[tuple[int, int]]:
    with owner_engine.connect() as conn:
        rows = conn.execute(text("select id, (args->>'message_id')::bigint from procrastinate_jobs "
                                 "where task_name = 'deliver_email' and (args->>'message_id')::bigint = any(:ids) "
                                 "order by id"), {"ids": list(message_ids)}).all()
    return [(r[0], r[1]) for r in rows]


def _one_email(clinic, to="ana@example.com", settings=None) -> int:
    with clinic.session() as s:
        msg = OutboxMessage(org_id=clinic.org_id, channel="email", kind="portal_code", to_address=to,
                            subject="Your code", body="Hi Ana,\n\nYour code is 123456.\n\nGlow")
        add_messages(s, [msg], settings=settings)
        s.commit()
        return msg.id


def _row(clinic, message_id) -> OutboxMessage:
    with clinic.session() as s:
        return s.exec(select(OutboxMessage).where(OutboxMessage.id == message_id)).one()


def test_a_booking_confirmation_arrives_with_its_headers_and_parts(engine, owner_engine, mail):
    settings, sink = mail
    clinic = build_clinic(engine, owner_engine)
    with owner_engine.begin() as conn:
        conn.execute(text("update organization set reply_to_email = 'desk@glow.example' where id = :id"),
                     {"id": clinic.org_id})
    start = datetime.combine(date(2026, 7, 15), time(10), tzinfo=NY).astimezone(timezone.utc)
    client = ClientInput("Ana", "Silva", "ana.mail@example.com", "(212) 555-0147")
    appt = book_online(engine, clinic.public, OnlineBooking(location_id=clinic.location_id,
                       service_id=clinic.services["botox"], start_at=start, client=client, card=CARD),
                       TestPaymentGateway(engine, CLOCK.now), CLOCK)
    with clinic.session() as s:
        emails = {m.kind: m.id for m in s.exec(select(OutboxMessage).where(
            OutboxMessage.appointment_id == appt.id, OutboxMessage.channel == "email"))}
    assert set(emails) == {"booking_confirmation", "deposit_receipt"}
    jobs = dict((m, j) for j, m in _jobs_for(owner_engine, emails.values()))
    assert set(jobs) == set(emails.values())  # one job per email, none for the SMS

    confirmation = emails["booking_confirmation"]
    outcome = do_deliver_message(confirmation, clinic.org_id, job_id=jobs[confirmation], settings=settings,
                                 clock=CLOCK, engine=engine)
    assert outcome == DeliveryOutcome.SENT, _row(clinic, confirmation).failure_reason
    (envelope, received), = sink.messages
    assert envelope.mail_from == "hello@glow.example" and envelope.rcpt_tos == ["ana.mail@example.com"]
    assert received["From"].addresses[0].display_name == "Glow Aesthetics"
    assert received["From"].addresses[0].addr_spec == "hello@glow.example"
    assert received["To"] == "ana.mail@example.com" and received["Reply-To"] == "desk@glow.example"
    assert received["Subject"].startswith("Confirmed: Botox on ")
    assert received.get_content_type() == "multipart/mixed"  # text + HTML, then invite.ics (test_email_attachments)
    text_part, html_part = received.get_body(("plain",)), received.get_body(("html",))
    assert "Botox" in text_part.get_content() and "Booking reference" in text_part.get_content()
    assert "<p>Hi Ana,</p>" in html_part.get_content()
    row = _row(clinic, confirmation)
    assert (row.status, row.attempts, row.job_id) == (MessageStatus.SENT, 1, jobs[confirmation])
    assert row.message_id == received["Message-ID"] and row.message_id.endswith("@glow.example>")
    assert row.sent_at == CLOCK.now() and row.provider_id.startswith("250")
    # RFC 5322 3.6.1: every message has a Date (the hand-over instant); missing, spam filters score it
    from email.utils import parsedate_to_datetime
    assert parsedate_to_datetime(received["Date"]) == CLOCK.now()
    # delivered once: a second run of the job finds nothing to claim
    assert do_deliver_message(confirmation, clinic.org_id, job_id=jobs[confirmation], settings=settings,
                              engine=engine) == DeliveryOutcome.SKIPPED
    assert len(sink.messages) == 1


def test_a_5xx_fails_the_message_for_good(engine, owner_engine, mail):
    settings, sink = mail
    clinic = build_clinic(engine, owner_engine)
    message_id = _one_email(clinic)
    sink.answers = ["550 5.1.1 mailbox unavailable"]
    # returns (the job succeeds: procrastinate retries only a task that raises)
    assert do_deliver_message(message_id, clinic.org_id, settings=settings, engine=engine) == DeliveryOutcome.FAILED
    row = _row(clinic, message_id)
    assert (row.status, row.attempts, row.sent_at) == (MessageStatus.FAILED, 1, None)
    assert row.failure_reason.startswith("550 5.1.1 mailbox unavailable")
    assert row.delivery_label(True).startswith("failed: 550")
    assert do_deliver_message(message_id, clinic.org_id, settings=settings, engine=engine) == DeliveryOutcome.SKIPPED
    assert sink.messages == [] and len(sink.received) == 1


def test_a_4xx_is_retried_with_the_same_message_id(engine, owner_engine, mail):
    settings, sink = mail
    clinic = build_clinic(engine, owner_engine)
    message_id = _one_email(clinic)
    (job_id, _), = _jobs_for(owner_engine, [message_id])
    sink.answers = ["451 4.3.0 try again later"]
    with pytest.raises(TemporaryFailure, match="451"):
        do_deliver_message(message_id, clinic.org_id, job_id=job_id, settings=settings, engine=engine)
    row = _row(clinic, message_id)
    assert (row.status, row.attempts) == (MessageStatus.QUEUED, 1) and row.failure_reason.startswith("451")
    assert row.delivery_label(True) == f"retrying: {row.failure_reason}"  # the outbox says why it waits
    first_id = row.message_id
    assert do_deliver_message(message_id, clinic.org_id, job_id=job_id, settings=settings,
                              engine=engine) == DeliveryOutcome.SENT
    assert [m["Message-ID"] for m in sink.received] == [first_id, first_id]
    row = _row(clinic, message_id)
    assert (row.status, row.attempts, row.message_id, row.failure_reason) == (MessageStatus.SENT, 2, first_id, None)


def test_a_4xx_on_the_last_attempt_fails_the_message_so_an_owner_can_resend_it(engine, owner_engine, mail):
    """The job will not be retried: the message must not wait `queued` with no job behind it."""
    settings, sink = mail
    clinic = build_clinic(engine, owner_engine)
    message_id = _one_email(clinic)
    (job_id, _), = _jobs_for(owner_engine, [message_id])
    sink.answers = ["451 4.3.0 try again later", "452 4.2.2 mailbox full"]
    with pytest.raises(TemporaryFailure):
        do_deliver_message(message_id, clinic.org_id, job_id=job_id, settings=settings, engine=engine)
    assert do_deliver_message(message_id, clinic.org_id, job_id=job_id, settings=settings, engine=engine,
                              last_attempt=True) == DeliveryOutcome.FAILED
    row = _row(clinic, message_id)
    assert (row.status, row.attempts) == (MessageStatus.FAILED, 2)
    assert row.failure_reason == "gave up after 2 tries: 452 4.2.2 mailbox full"
    assert row.delivery_label(True) == "failed: gave up after 2 tries: 452 4.2.2 mailbox full"


def test_the_last_attempt_is_the_one_procrastinate_will_not_retry():
    from procrastinate import JobContext
    from procrastinate.jobs import Job

    from medspa.jobs.app import RETRY, is_last_attempt

    def context(attempts: int) -> JobContext:
        job = Job(id=1, queue="default", lock=None, queueing_lock=None, task_name="deliver_email",
                  task_kwargs={}, attempts=attempts)
        return JobContext(app=None, worker_name="w", worker_queues=None, job=job, start_timestamp=0.0,
                          abort_reason=lambda: None)

    exc = TemporaryFailure("451")
    for attempts in range(RETRY.max_attempts + 1):
        job = context(attempts).job
        retried = RETRY.get_retry_decision(exception=exc, job=job) is not None
        assert is_last_attempt(context(attempts), RETRY) is (not retried), attempts
    assert is_last_attempt(context(RETRY.max_attempts), RETRY) and not is_last_attempt(context(0), RETRY)


def _job_context(attempts: int, job_id: int = 1):
    from procrastinate import JobContext
    from procrastinate.jobs import Job

    job = Job(id=job_id, queue="default", lock=None, queueing_lock=None, task_name="deliver_email",
              task_kwargs={}, attempts=attempts)
    return JobContext(app=None, worker_name="w", worker_queues=None, job=job, start_timestamp=0.0,
                      abort_reason=lambda: None)


@pytest.mark.parametrize("last", [False, True])
def test_an_unexpected_exception_on_the_jobs_last_run_fails_the_message_and_earlier_runs_leave_it_for_the_retry(
        engine, owner_engine, mail, monkeypatch, last):
    """Not a provider's answer (those the action handles) but a bug or a lost database: the job
    ends `failed` after its last run, so the message must not stay `sending` with no job."""
    import functools

    from medspa.domain.messaging.actions import do_give_up_delivery
    from medspa.jobs import delivery as job_delivery
    from medspa.jobs.app import RETRY

    settings, _ = mail
    clinic = build_clinic(engine, owner_engine)
    message_id = _one_email(clinic)
    (job_id, _), = _jobs_for(owner_engine, [message_id])

    def claims_then_breaks(mid, org_id, *, job_id, last_attempt):
        do_deliver_message(mid, org_id, job_id=job_id, settings=settings, engine=engine,
                           send=lambda *_: (_ for _ in ()).throw(RuntimeError("a bug in the adapter")))

    monkeypatch.setattr(job_delivery, "do_deliver_message", claims_then_breaks)
    monkeypatch.setattr(job_delivery, "do_give_up_delivery",
                        functools.partial(do_give_up_delivery, settings=settings, engine=engine))
    context = _job_context(RETRY.max_attempts if last else 0, job_id)
    with pytest.raises(RuntimeError, match="a bug in the adapter"):
        run_in_fresh_loop(job_delivery.run_delivery(context, message_id, clinic.org_id))
    row = _row(clinic, message_id)
    if last:
        assert (row.status, row.failure_reason) == (
            MessageStatus.FAILED, "gave up after 1 tries: the delivery job failed (RuntimeError)")
    else:  # the job's retry reclaims its own `sending` row
        assert (row.status, row.job_id, row.failure_reason) == (MessageStatus.SENDING, job_id, None)


def test_giving_up_on_a_delivery_fails_only_a_waiting_message_in_its_own_clinic(engine, owner_engine, mail):
    from medspa.domain.messaging.actions import WORKER_STOPPED, do_give_up_delivery

    settings, _ = mail
    clinic, other = build_clinic(engine, owner_engine), build_clinic(engine, owner_engine)
    message_id = _one_email(clinic)
    assert do_deliver_message(message_id, clinic.org_id, settings=settings, engine=engine) == DeliveryOutcome.SENT
    assert do_give_up_delivery(message_id, clinic.org_id, cause=WORKER_STOPPED, settings=settings,
                               engine=engine) is False
    assert _row(clinic, message_id).status == MessageStatus.SENT  # sent stays sent
    waiting = _one_email(clinic)
    assert do_give_up_delivery(waiting, other.org_id, cause=WORKER_STOPPED, settings=settings,
                               engine=engine) is False  # another clinic's id: row-level security hides it
    assert do_give_up_delivery(waiting, clinic.org_id, cause=WORKER_STOPPED, settings=settings, engine=engine)
    row = _row(clinic, waiting)
    assert (row.status, row.failure_reason) == (
        MessageStatus.FAILED, "gave up after 0 tries: the worker stopped during delivery")


def test_a_retry_after_a_crash_mid_send_reclaims_with_the_same_message_id(engine, owner_engine, mail):
    """A worker that died after the claim leaves `sending`: only the same job may claim again."""
    settings, sink = mail
    clinic = build_clinic(engine, owner_engine)
    message_id = _one_email(clinic)
    (job_id, _), = _jobs_for(owner_engine, [message_id])

    def crash(_settings, _email):
        raise KeyboardInterrupt  # the process goes away between the claim and the outcome

    with pytest.raises(KeyboardInterrupt):
        do_deliver_message(message_id, clinic.org_id, job_id=job_id, settings=settings, engine=engine, send=crash)
    claimed = _row(clinic, message_id)
    assert claimed.status == MessageStatus.SENDING
    other = do_deliver_message(message_id, clinic.org_id, job_id=job_id + 10_000, settings=settings, engine=engine)
    assert other == DeliveryOutcome.SKIPPED
    assert do_deliver_message(message_id, clinic.org_id, job_id=job_id, settings=settings,
                              engine=engine) == DeliveryOutcome.SENT
    (_, received), = sink.messages
    assert received["Message-ID"] == claimed.message_id and _row(clinic, message_id).attempts == 2


def test_two_concurrent_deliveries_send_once(engine, owner_engine, mail):
    settings, sink = mail
    clinic = build_clinic(engine, owner_engine)
    message_id = _one_email(clinic)
    barrier, outcomes = threading.Barrier(2), []

    def deliver(job_id):
        barrier.wait()
        outcomes.append(do_deliver_message(message_id, clinic.org_id, job_id=job_id, settings=settings,
                                           engine=engine))

    threads = [threading.Thread(target=deliver, args=(j,)) for j in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == [DeliveryOutcome.SENT, DeliveryOutcome.SKIPPED]
    assert len(sink.received) == 1 and _row(clinic, message_id).attempts == 1


def test_without_a_mail_server_nothing_is_deferred_and_the_outbox_says_so(engine, owner_engine, monkeypatch):
    from medspa.ops.outbox import newest_outbox

    monkeypatch.delenv("SMTP_HOST", raising=False)
    clinic = build_clinic(engine, owner_engine)
    settings = Settings(smtp_host="")
    message_id = _one_email(clinic, settings=settings)
    assert _jobs_for(owner_engine, [message_id]) == []
    row = _row(clinic, message_id)
    assert row.status == MessageStatus.QUEUED and row.delivery_label(settings.mail_enabled) == NOT_SENT_NO_MAIL_SERVER
    assert do_deliver_message(message_id, clinic.org_id, settings=settings, engine=engine) == DeliveryOutcome.SKIPPED
    box, = newest_outbox(engine, clinic=clinic.slug)
    assert [m.status for m in box.messages] == [NOT_SENT_NO_MAIL_SERVER]


def test_a_job_deferred_in_a_rolled_back_transaction_does_not_exist(engine, owner_engine, mail):
    settings, _ = mail
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        msg = OutboxMessage(org_id=clinic.org_id, channel="email", kind="portal_code", to_address="x@example.com",
                            subject="s", body="b")
        add_messages(s, [msg], settings=settings)
        gone = msg.id
        assert len(_jobs_for(owner_engine, [gone])) == 0  # not visible before the commit
        s.rollback()
    assert _jobs_for(owner_engine, [gone]) == []
    kept = _one_email(clinic, settings=settings)
    assert [m for _, m in _jobs_for(owner_engine, [kept])] == [kept]


def test_the_job_delivers_through_a_worker_and_a_5xx_is_not_retried(engine, owner_engine, db_urls, mail,
                                                                      monkeypatch):
    """deliver_email run by a procrastinate worker on the app role: the domain's actions use the
    process's settings (DATABASE_URL = the test database), as `medspa worker` binds them."""
    from medspa.jobs.app import RETRY
    from medspa.jobs.email import deliver_email
    from tests.conftest import drain_queue

    settings, sink = mail
    clinic = build_clinic(engine, owner_engine)
    refused, accepted = _one_email(clinic, to="gone@example.com"), _one_email(clinic, to="ana@example.com")
    sink.answers = ["550 5.1.1 mailbox unavailable"]  # the first job (lower id) runs first
    monkeypatch.setenv("DATABASE_URL", db_urls[0])
    get_settings.cache_clear()
    drain_queue(db_urls[0], "deliver_email", deliver_email.func, RETRY)
    with owner_engine.connect() as conn:
        jobs = conn.execute(text("select (args->>'message_id')::bigint, status, attempts from procrastinate_jobs "
                                 "where task_name = 'deliver_email' and (args->>'message_id')::bigint = any(:ids)"),
                            {"ids": [refused, accepted]}).all()
    assert sorted(jobs) == sorted([(refused, "succeeded", 1), (accepted, "succeeded", 1)])  # one run each
    assert _row(clinic, refused).status == MessageStatus.FAILED
    assert _row(clinic, accepted).status == MessageStatus.SENT
    assert [env.rcpt_tos for env, _ in sink.messages] == [["ana@example.com"]]


def test_an_unreachable_mail_server_is_named_in_words_an_owner_reads():
    """The retry reason shown on the outbox page says what is wrong, not a Python exception."""
    from medspa.domain.messaging.smtp import Email, send_email

    email = Email(from_name="Glow", from_address="hello@glow.example", to="ana@example.com", subject="Hi",
                  text="Hi", message_id="<t@glow.example>")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    refused = Settings(smtp_host="127.0.0.1", smtp_port=closed, smtp_security="none", smtp_timeout_seconds=5)
    with pytest.raises(TemporaryFailure) as caught:
        send_email(refused, email)
    assert caught.value.reason == f"the mail server 127.0.0.1:{closed} refused the connection"

    with socket.socket() as silent:  # accepts, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        hanging = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", smtp_timeout_seconds=0.5)
        with pytest.raises(TemporaryFailure) as caught:
            send_email(hanging, email)
    assert caught.value.reason == f"the mail server 127.0.0.1:{port} did not answer within 0.5 s"
