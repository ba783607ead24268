"""Real `medspa worker` processes delivering email (issue 10, "Tests that must exist"): two
workers and a retry send each message once; a worker killed (SIGKILL) between the claim and
the server's answer is recovered by a fresh worker's start-up sweep and the message arrives
with the Message-ID the claim stored. Real PostgreSQL, a real SMTP server (aiosmtpd) in this
process, workers as subprocesses running this checkout's code. Timeouts only bound the
waiting on a busy machine; nothing asserts how long anything took."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from medspa.domain.messaging.delivery import add_messages
from medspa.domain.messaging.models import MessageStatus, OutboxMessage
from medspa.settings import PROJECT_ROOT, Settings
from tests.conftest import empty_job_queue
from tests.factories import build_clinic
from tests.smtp_support import smtp_server_for

WAIT = 120  # seconds: an upper bound for waiting on a busy machine, never a speed claim
STALLED_AFTER = 4  # JOB_STALLED_AFTER_SECONDS of the kill test's workers (heartbeat every 1.3 s)


class MailServer:
    """An SMTP handler: accepts every message (kept in `accepted`), except that with `hold`
    set the first DATA gets no answer until `release` is set (kept in `held`, then refused):
    a client sending it is stuck inside the send, after its claim committed."""

    def __init__(self, *, hold: bool = False) -> None:
        self.accepted: list = []
        self.held: list = []
        self.hold = hold
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        if self.hold and not self.holding.is_set():
            self.held.append(parsed)
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 held by the test"  # the client is gone by now
        self.accepted.append(parsed)
        return "250 2.0.0 OK queued"


@contextmanager
def _smtp(handler: MailServer):
    with smtp_server_for(handler) as controller:
        try:
            yield controller
        finally:
            handler.release.set()  # a held DATA answers before the server stops


class Workers:
    """`medspa worker` subprocesses on the test database and SMTP server, each logging to a
    file; stop_all() ends them (SIGTERM, SIGKILL after WAIT) and returns their exit codes."""

    def __init__(self, db_urls, smtp_port: int, logs: Path, **env: str) -> None:
        self.env = {**os.environ, "DATABASE_URL": db_urls[0], "DATABASE_OWNER_URL": db_urls[1],
                    "PYTHONPATH": str(PROJECT_ROOT), "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port),
                    "SMTP_SECURITY": "none", "MAIL_FROM_NAME": "Glow Aesthetics",
                    "MAIL_FROM_ADDRESS": "hello@glow.example", "SMTP_TIMEOUT_SECONDS": "300", **env}
        self.env.pop("FROZEN_NOW", None)
        self.logs, self.procs = logs, {}

    def start(self, name: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - closed by the process's end
        proc = subprocess.Popen([sys.executable, "-m", "medspa.cli", "worker", "--name", name], cwd=PROJECT_ROOT,
                                env=self.env, stdout=log, stderr=subprocess.STDOUT, text=True)
        log.close()
        self.procs[name] = proc
        return proc

    def output(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()

    def stop_all(self) -> dict[str, int]:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return {name: proc.returncode for name, proc in self.procs.items()}


@contextmanager
def _workers(db_urls, owner_engine, smtp_port: int, logs: Path, **env: str):
    empty_job_queue(owner_engine)  # these workers must hold only this test's messages (CI)
    pool = Workers(db_urls, smtp_port, logs, **env)
    try:
        yield pool
    finally:
        codes = pool.stop_all()
        for name in codes:
            print(f"--- {name} (exit {codes[name]})\n{pool.output(name)[-3000:]}")  # shown when a test fails
        with owner_engine.begin() as conn:  # the start-up sweeps still waiting: none for later tests' workers
            conn.execute(text("delete from procrastinate_jobs where task_name = 'retry_stalled_jobs_after_start' "
                              "and status = 'todo'"))


def _wait_for(condition, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _queue(owner_engine, sql: str, **params):
    with owner_engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def _worker_count(owner_engine) -> int:
    return _queue(owner_engine, "select count(*) from procrastinate_workers")[0][0]


def _jobs(owner_engine, message_ids) -> list[tuple[int, int, str, int, int | None]]:
    """(job id, message id, status, attempts, worker id) of the messages' deliver_email jobs."""
    return [tuple(r) for r in _queue(owner_engine, """
        select id, (args->>'message_id')::bigint, status::text, attempts, worker_id from procrastinate_jobs
        where task_name = 'deliver_email' and (args->>'message_id')::bigint = any(:ids) order by id""",
                                     ids=list(message_ids))]


def _rows(clinic, ids) -> list[OutboxMessage]:
    with clinic.session() as s:
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)))


def _write_emails(clinic, count: int, smtp_port: int) -> list[int]:
    """`count` emails added in ONE transaction; their jobs deferred in it (mail server set)."""
    settings = Settings(smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_security="none")
    with clinic.session() as s:
        messages = [OutboxMessage(org_id=clinic.org_id, channel="email", kind="portal_code",
                                  to_address=f"client{i}@example.com", subject=f"Your code {i}",
                                  body=f"Hi,\n\nYour code is {100000 + i}.\n\nGlow") for i in range(count)]
        add_messages(s, messages, settings=settings)
        s.commit()
        return [m.id for m in messages]


def test_two_worker_processes_send_each_email_once(engine, owner_engine, db_urls, tmp_path):
    clinic = build_clinic(engine, owner_engine)
    server = MailServer()
    with _smtp(server) as controller, _workers(db_urls, owner_engine, controller.port, tmp_path) as pool:
        before = _worker_count(owner_engine)
        pool.start("pair-1")
        pool.start("pair-2")
        _wait_for(lambda: _worker_count(owner_engine) >= before + 2, "two registered workers")
        ids = _write_emails(clinic, 30, controller.port)
        _wait_for(lambda: all(r.status == MessageStatus.SENT for r in _rows(clinic, ids)), "30 messages sent")
        _wait_for(lambda: all(status == "succeeded" for _, _, status, _, _ in _jobs(owner_engine, ids)),
                  "30 jobs to succeed")
        by_worker = Counter(worker for *_, worker in _jobs(owner_engine, ids))
        print(f"jobs per worker: {dict(by_worker)}")
        codes = pool.stop_all()
    assert codes == {"pair-1": 0, "pair-2": 0}, codes
    rows = _rows(clinic, ids)
    received = Counter(m["Message-ID"] for m in server.accepted)
    assert len(rows) == 30 and all(r.status == MessageStatus.SENT and r.attempts == 1 for r in rows)
    assert received == Counter({r.message_id: 1 for r in rows})  # each one received exactly once
    assert sorted(m["To"] for m in server.accepted) == sorted(r.to_address for r in rows)
    assert [(status, attempts) for _, _, status, attempts, _ in _jobs(owner_engine, ids)] == [("succeeded", 1)] * 30


def test_a_worker_killed_between_claim_and_send_is_recovered_with_the_same_message_id(
        engine, owner_engine, db_urls, tmp_path):
    clinic = build_clinic(engine, owner_engine)
    server = MailServer(hold=True)
    env = {"JOB_STALLED_AFTER_SECONDS": str(STALLED_AFTER)}
    with _smtp(server) as controller, _workers(db_urls, owner_engine, controller.port, tmp_path, **env) as pool:
        victim = pool.start("victim")
        message_id, = _write_emails(clinic, 1, controller.port)
        _wait_for(server.holding.is_set, "the server to hold the victim's DATA")
        claimed, = _rows(clinic, [message_id])
        assert claimed.status == MessageStatus.SENDING and claimed.attempts == 1 and claimed.message_id
        (job_id, _, status, _, victim_id), = _jobs(owner_engine, [message_id])
        assert status == "doing" and victim_id is not None and claimed.job_id == job_id

        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=WAIT)
        assert victim.returncode == -signal.SIGKILL
        assert _rows(clinic, [message_id])[0].status == MessageStatus.SENDING  # left behind
        server.release.set()

        pool.start("fresh")  # its start-up sweep finds the victim silent and retries the job
        _wait_for(lambda: _rows(clinic, [message_id])[0].status == MessageStatus.SENT, "the retried delivery")
        _wait_for(lambda: _jobs(owner_engine, [message_id])[0][2] == "succeeded", "the job to succeed")
        codes = pool.stop_all()
    assert codes["fresh"] == 0, codes
    sent, = _rows(clinic, [message_id])
    assert (sent.status, sent.attempts, sent.job_id, sent.message_id) == \
        (MessageStatus.SENT, 2, job_id, claimed.message_id)
    assert [m["Message-ID"] for m in server.accepted] == [claimed.message_id]  # received once, same Message-ID
    assert [m["Message-ID"] for m in server.held] == [claimed.message_id]  # the copy the victim never finished
    (_, _, status, attempts, _), = _jobs(owner_engine, [message_id])
    assert (status, attempts) == ("succeeded", 2)  # the stalled run, then the retry
    assert _queue(owner_engine, "select count(*) from procrastinate_workers where id = :id", id=victim_id) == [(0,)]
    assert "stalled: retried" in pool.output("fresh")


def test_the_stall_window_is_a_setting_and_workers_beat_three_times_inside_it(monkeypatch):
    from pydantic import ValidationError

    from medspa.jobs.app import heartbeat_seconds, stalled_after_seconds
    from medspa.settings import get_settings

    assert Settings().job_stalled_after_seconds == 30 and heartbeat_seconds(30) == 10
    assert heartbeat_seconds(4) == pytest.approx(4 / 3) and heartbeat_seconds(300) == 10
    with pytest.raises(ValidationError):
        Settings(job_stalled_after_seconds=1)
    monkeypatch.setenv("JOB_STALLED_AFTER_SECONDS", "7")
    get_settings.cache_clear()
    try:
        assert stalled_after_seconds() == 7
    finally:
        monkeypatch.delenv("JOB_STALLED_AFTER_SECONDS")
        get_settings.cache_clear()


def test_two_sweeps_at_once_retry_a_stalled_job_once(db_urls, owner_engine, caplog):
    """Deleting the silent worker's row is the claim: of two sweeps running together, one
    retries its job (attempts + 1 once), the other does not even try."""
    from types import SimpleNamespace

    import psycopg

    from medspa.jobs.app import opened, retry_stalled_jobs, retry_stalled_jobs_after_start
    from tests.conftest import run_in_fresh_loop

    with psycopg.connect(db_urls[0], autocommit=True) as conn:  # as the app role, like a worker
        dead = conn.execute("insert into procrastinate_workers (last_heartbeat) "
                            "values (now() - interval '10 minutes') returning id").fetchone()[0]
        job_id = conn.execute("insert into procrastinate_jobs (queue_name, task_name, status, attempts, worker_id) "
                              "values ('test_sweeps', 'test_sweeps', 'doing', 0, %s) returning id",
                              (dead,)).fetchone()[0]

    async def sweeps() -> list[int]:
        async with opened(db_urls[0]) as app:
            context = SimpleNamespace(app=app, job=None)
            return list(await asyncio.gather(retry_stalled_jobs.func(context, timestamp=0),
                                             retry_stalled_jobs_after_start.func(context, worker="test")))

    try:
        counts = run_in_fresh_loop(sweeps())
        assert _queue(owner_engine, "select status::text, attempts from procrastinate_jobs where id = :id",
                      id=job_id) == [("todo", 1)]
        assert counts.count(0) >= 1 and sum(counts) >= 1  # this job once (other tests' jobs may add to it)
        assert [r.message for r in caplog.records if f"job {job_id} " in r.message] == \
            [f"job {job_id} (test_sweeps) stalled: retried"]
        assert _queue(owner_engine, "select count(*) from procrastinate_workers where id = :id", id=dead) == [(0,)]
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("delete from procrastinate_jobs where queue_name = 'test_sweeps'"))
            conn.execute(text("delete from procrastinate_workers where id = :id"), {"id": dead})


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_the_sweep_that_gives_up_on_a_delivery_job_fails_its_message_so_it_can_be_resent(
        engine, owner_engine, db_urls, caplog, monkeypatch, channel):
    """A delivery job already retried STALLED_MAX_ATTEMPTS times stalls once more: the sweep
    fails the job AND its message (in the message's clinic), which an owner can then resend;
    the log counts the runs right."""
    from types import SimpleNamespace

    import psycopg

    from medspa.domain.identity.actor import Actor
    from medspa.domain.messaging.delivery import DELIVER_EMAIL_TASK, DELIVER_SMS_TASK
    from medspa.domain.messaging.outbox_actions import do_resend_message
    from medspa.jobs.app import STALLED_MAX_ATTEMPTS, opened, retry_stalled_jobs
    from tests.conftest import run_in_fresh_loop
    from medspa.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", db_urls[0])  # the action runs on the app's engine, as in a worker
    monkeypatch.setenv("DATABASE_OWNER_URL", db_urls[1])
    get_settings.cache_clear()

    clinic = build_clinic(engine, owner_engine)
    task = DELIVER_EMAIL_TASK if channel == "email" else DELIVER_SMS_TASK
    with clinic.session() as s:
        m = OutboxMessage(org_id=clinic.org_id, channel=channel, kind="reminder", status="sending", attempts=3,
                          to_address="ana@example.com" if channel == "email" else "+12125550147",
                          subject="Reminder" if channel == "email" else None, body="See you tomorrow")
        s.add(m)
        s.commit()
        message_id = m.id
    args = f'{{"message_id": {message_id}, "org_id": {clinic.org_id}}}'
    with psycopg.connect(db_urls[0], autocommit=True) as conn:  # as the app role, like a worker
        dead = conn.execute("insert into procrastinate_workers (last_heartbeat) "
                            "values (now() - interval '10 minutes') returning id").fetchone()[0]
        job_id = conn.execute("insert into procrastinate_jobs (queue_name, task_name, args, status, attempts, "
                              "worker_id) values ('test_give_up', %s, %s, 'doing', %s, %s) returning id",
                              (task, args, STALLED_MAX_ATTEMPTS, dead)).fetchone()[0]
    with clinic.session() as s:
        row = s.get(OutboxMessage, message_id)
        row.job_id = job_id
        s.add(row)
        s.commit()

    async def sweep() -> int:
        async with opened(db_urls[0]) as app:
            return await retry_stalled_jobs.func(SimpleNamespace(app=app, job=None), timestamp=0)

    try:
        run_in_fresh_loop(sweep())
        assert _queue(owner_engine, "select status::text from procrastinate_jobs where id = :id", id=job_id) == [
            ("failed",)]
        failed, = _rows(clinic, [message_id])
        assert (failed.status, failed.failure_reason) == (
            MessageStatus.FAILED, "gave up after 3 tries: the worker stopped during delivery")
        assert [r.message for r in caplog.records if f"job {job_id} " in r.message] == [
            f"job {job_id} ({task}) stalled on its run {STALLED_MAX_ATTEMPTS + 1} (the {STALLED_MAX_ATTEMPTS} "
            "runs before it failed or stalled): given up, failed"]
        owner = Actor(org_id=clinic.org_id, role="owner", user_id=None, label="test owner")
        resent = do_resend_message(owner, message_id, settings=Settings(smtp_host=""), engine=engine)
        assert resent.status == "queued"
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("delete from procrastinate_jobs where queue_name = 'test_give_up'"))
            conn.execute(text("delete from procrastinate_workers where id = :id"), {"id": dead})
        get_settings.cache_clear()


def test_a_worker_killed_on_the_jobs_last_run_leaves_no_message_sending(engine, owner_engine, db_urls, tmp_path):
    """Real processes: a delivery job whose earlier runs used up its retries is killed mid-send;
    the next worker's sweep gives up on the job and fails the message (not `sending` forever)."""
    clinic = build_clinic(engine, owner_engine)
    server = MailServer(hold=True)
    env = {"JOB_STALLED_AFTER_SECONDS": str(STALLED_AFTER)}
    with _smtp(server) as controller, _workers(db_urls, owner_engine, controller.port, tmp_path, **env) as pool:
        message_id, = _write_emails(clinic, 1, controller.port)
        with owner_engine.begin() as conn:  # as after five 4xx answers (the back-off would take ~23 min)
            conn.execute(text("update procrastinate_jobs set attempts = 5 where task_name = 'deliver_email' "
                              "and (args->>'message_id')::bigint = :m"), {"m": message_id})
        victim = pool.start("victim")
        _wait_for(server.holding.is_set, "the victim to hand over the DATA")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=WAIT)
        server.release.set()
        pool.start("rescuer")
        _wait_for(lambda: _rows(clinic, [message_id])[0].status == MessageStatus.FAILED, "the message to fail")
        pool.stop_all()
    (_, _, status, attempts, _), = _jobs(owner_engine, [message_id])
    failed, = _rows(clinic, [message_id])
    assert (status, attempts) == ("failed", 6)  # five runs before, then the stalled one
    assert (failed.attempts, failed.failure_reason) == (1, "gave up after 1 tries: the worker stopped during delivery")
    assert "given up, failed" in pool.output("rescuer")
