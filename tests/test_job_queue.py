"""The job queue on PostgreSQL (issue 10, section 1): migration 0016 and its grants, periodic
hold expiry once per tick with two `medspa worker` processes, retries with back-off ending in
the dead letter owners read. Real PostgreSQL throughout; timeouts only bound the waiting."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from procrastinate import App, PsycopgConnector, RetryStrategy
from sqlalchemy import text

from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.domain.queue.actions import fetch_failed_jobs
from medspa.domain.scheduling.service import hold_slot
from medspa.jobs.app import RETRY, TICK_RETRY
from medspa.settings import PROJECT_ROOT
from tests.conftest import empty_job_queue, run_in_fresh_loop
from tests.factories import build_clinic

WAIT = 180  # seconds: an upper bound for waiting on a busy machine, never a speed claim


def _rows(owner_engine, sql: str, **params):
    with owner_engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def _clinic_rows(clinic, sql: str, **params):
    """Rows of a tenant table (row-level security: the clinic's own session)."""
    with clinic.session() as s:
        return s.execute(text(sql), params).all()


def _wait_for(condition, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _test_app(app_url: str) -> App:
    """An App of the test's own (own queue, no periodic tasks) on the app role's URL."""
    return App(connector=PsycopgConnector(conninfo=app_url, min_size=1, max_size=2))


# -- migration 0016 and the app role's grants -------------------------------------------------


def test_public_has_no_execute_on_the_queue_functions_nor_usage_on_its_types(owner_engine):
    functions = _rows(owner_engine, """
        select p.proname, p.proacl is null
                          or exists (select 1 from aclexplode(p.proacl) a
                                     where a.grantee = 0 and a.privilege_type = 'EXECUTE')
        from pg_proc p where p.proname like 'procrastinate%' order by 1""")
    types = _rows(owner_engine, """
        select t.typname, t.typacl is null
                          or exists (select 1 from aclexplode(t.typacl) a
                                     where a.grantee = 0 and a.privilege_type = 'USAGE')
        from pg_type t where t.typname in ('procrastinate_job_status', 'procrastinate_job_event_type',
                                           'procrastinate_job_to_defer_v1')""")
    assert len(functions) == 18 and len(types) == 3
    assert [name for name, public in functions + types if public] == []


def test_the_app_role_uses_the_queue_without_owning_it(db_urls, owner_engine, engine):
    """Defer, fetch, finish, cancel and list as the app role (exactly migration 0016's grants);
    it owns none of the queue and cannot drop it."""
    app_url = db_urls[0]
    app = _test_app(app_url)
    done = []

    @app.task(name="test_grants_echo", queue="test_grants")
    def echo(value: int) -> None:
        done.append(value)

    async def scenario() -> tuple[int, int]:
        async with app.open_async():
            ran = await echo.defer_async(value=7)
            cancelled = await echo.defer_async(value=8)
            assert await app.job_manager.cancel_job_by_id_async(cancelled, delete_job=True)
            await app.run_worker_async(queues=["test_grants"], wait=False, install_signal_handlers=False)
            assert [j.id for j in await app.job_manager.list_jobs_async(queue="test_grants", status="succeeded")]
            return ran, cancelled

    ran, cancelled = run_in_fresh_loop(scenario())
    assert done == [7]
    assert _rows(owner_engine, "select status from procrastinate_jobs where id = :id", id=ran) == [("succeeded",)]
    assert _rows(owner_engine, "select count(*) from procrastinate_jobs where id = :id", id=cancelled) == [(0,)]
    owned = _rows(owner_engine, "select count(*) from pg_class c join pg_roles r on r.oid = c.relowner "
                                "where c.relname like 'procrastinate%' and r.rolname = current_user")
    assert owned[0][0] >= 4  # tables, sequences and indexes belong to the schema owner
    import psycopg

    with psycopg.connect(app_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("drop table procrastinate_jobs")


# -- periodic hold expiry: two worker processes, one run per tick ---------------------------------


@contextmanager
def _worker_processes(db_urls, count: int):
    """`count` `medspa worker` processes on the test database; stopped with SIGTERM on exit,
    which must end each one cleanly (exit status 0)."""
    env = {**os.environ, "DATABASE_URL": db_urls[0], "DATABASE_OWNER_URL": db_urls[1], "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("FROZEN_NOW", None)
    procs = [subprocess.Popen([sys.executable, "-m", "medspa.cli", "worker", "--name", f"test-w{i}"], cwd=PROJECT_ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for i in range(count)]
    try:
        yield procs
    finally:
        outputs = []
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                outputs.append(proc.communicate(timeout=WAIT)[0])
            except subprocess.TimeoutExpired:
                proc.kill()
                outputs.append(proc.communicate()[0])
        codes = [proc.returncode for proc in procs]
        print("\n".join(outputs))  # shown when the test fails
        assert codes == [0] * count, "\n".join(outputs)[-4000:]
        assert all("stopped" in out for out in outputs), "\n".join(outputs)[-4000:]


def _lapsed_hold(engine, owner_engine) -> tuple[object, int]:
    """A clinic with one hold that lapsed 20 minutes ago by the real clock (the worker's)."""
    clinic = build_clinic(engine, owner_engine)
    now = datetime.now(timezone.utc) - timedelta(minutes=30)
    local = now.astimezone(ZoneInfo(clinic.time_zone)).date() + timedelta(days=2)
    while local.weekday() != 1:  # a Tuesday: a working day of the factory's providers
        local += timedelta(days=1)
    start = datetime(local.year, local.month, local.day, 10, tzinfo=ZoneInfo(clinic.time_zone)).astimezone(timezone.utc)
    with clinic.session() as s:
        appt = hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=start, now=now, provider_id=clinic.provider_ids[0])
        s.commit()
        return clinic, appt.id


def test_hold_expiry_runs_once_per_tick_with_two_workers(engine, owner_engine, db_urls):
    clinic, appointment_id = _lapsed_hold(engine, owner_engine)
    status = "select status from appointment where id = :id"
    # this test's jobs only: an earlier test's killed worker may have left a tick behind, which
    # the new workers would run instead of deferring this minute's (xdist runs test files in any order)
    empty_job_queue(owner_engine)
    floor = _rows(owner_engine, "select coalesce(max(id), 0) from procrastinate_jobs")[0][0]
    with _worker_processes(db_urls, 2):
        _wait_for(lambda: _rows(owner_engine, "select count(*) from procrastinate_workers")[0][0] >= 2,
                  "two registered workers")
        _wait_for(lambda: _clinic_rows(clinic, status, id=appointment_id) == [("expired",)], "the hold to lapse")
        _wait_for(lambda: not _rows(owner_engine, "select id from procrastinate_jobs where task_name = 'expire_holds' "
                                                  "and status in ('todo', 'doing') and scheduled_at is null and id > :floor",
                                                  floor=floor),
                  "the tick's job to finish")
    assert _rows(owner_engine, "select count(*) from procrastinate_workers") == [(0,)]  # both unregistered
    per_tick = _rows(owner_engine, """
        select (args ->> 'timestamp')::bigint, count(*), array_agg(status::text)
        from procrastinate_jobs where task_name = 'expire_holds' and id > :floor group by 1""", floor=floor)
    assert per_tick and all(n == 1 for _, n, _ in per_tick), per_tick
    reminder_ticks = _rows(owner_engine, """
        select (args ->> 'timestamp')::bigint, count(*) from procrastinate_jobs
        where task_name = 'send_due_reminders' and id > :floor group by 1""", floor=floor)
    assert reminder_ticks and all(n == 1 for _, n in reminder_ticks), reminder_ticks  # the reminder tick too
    runs = _rows(owner_engine, """
        select j.id, count(*) from procrastinate_jobs j join procrastinate_events e on e.job_id = j.id
        where j.task_name = 'expire_holds' and e.type = 'started' and j.id > :floor group by j.id""", floor=floor)
    assert all(n == 1 for _, n in runs), runs  # no job of a tick ran twice
    audit = _clinic_rows(clinic, "select count(*) from audit_event where action = 'appointment.release' "
                                 "and object_id = :id", id=str(appointment_id))
    assert audit == [(1,)]


# -- retries with back-off, then the dead letter ------------------------------------------------


def test_the_retry_strategies_back_off():
    from procrastinate.jobs import Job

    def delays(strategy):
        out = []
        for attempts in range(10):
            job = Job(queue="q", lock=None, queueing_lock=None, task_name="t", attempts=attempts)
            decision = strategy.get_retry_decision(exception=RuntimeError(), job=job)
            if decision is None:
                return out
            out.append((decision.retry_at - datetime.now(timezone.utc)).total_seconds())
        return out

    for strategy, runs in ((RETRY, 6), (TICK_RETRY, 3)):
        waits = delays(strategy)
        assert len(waits) == runs - 1  # runs - 1 retries, then failed
        assert all(later > earlier for earlier, later in zip(waits, waits[1:]))
    assert sum(delays(TICK_RETRY)) < 60  # a tick's retries end inside its minute


def test_a_failing_task_is_retried_with_back_off_then_is_a_dead_letter_for_its_owner(db_urls, engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    other = build_clinic(engine, owner_engine)
    app = _test_app(db_urls[0])

    @app.task(name="test_always_fails", queue="test_retry", retry=RetryStrategy(max_attempts=2, exponential_wait=2))
    def always_fails(org_id: int) -> None:
        raise RuntimeError("the provider is down")

    async def scenario() -> int:
        async with app.open_async():
            job_id = await always_fails.defer_async(org_id=clinic.org_id)
            worker = asyncio.create_task(app.run_worker_async(
                queues=["test_retry"], install_signal_handlers=False, fetch_job_polling_interval=0.2))
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline and not worker.done():
                jobs = await app.job_manager.list_jobs_async(id=job_id)
                if jobs and jobs[0].status == "failed":
                    break
                await asyncio.sleep(0.3)
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
            return job_id

    job_id = run_in_fresh_loop(scenario())
    assert _rows(owner_engine, "select status, attempts from procrastinate_jobs where id = :id", id=job_id) == \
        [("failed", 3)]
    events = _rows(owner_engine, "select type::text, at from procrastinate_events where job_id = :id order by id",
                   id=job_id)
    kinds = [kind for kind, _ in events]
    assert [k for k in kinds if k != "scheduled"] == ["deferred", "started", "deferred_for_retry", "started",
                                                       "deferred_for_retry", "started", "failed"]
    # each retry is scheduled later than the one before, and runs no earlier than scheduled
    retried_at = [at for kind, at in events if kind == "deferred_for_retry"]
    scheduled_for = [at for kind, at in events if kind == "scheduled"]
    started = [at for kind, at in events if kind == "started"]
    waits = [(s - r).total_seconds() for r, s in zip(retried_at, scheduled_for)]
    assert len(waits) == 2 and 1 < waits[0] < waits[1], waits  # 2 s, then 4 s
    assert all(run >= due for run, due in zip(started[1:], scheduled_for))

    owner = Actor(org_id=clinic.org_id, role="owner", user_id=None, label="test owner")
    dead = {j.id: j for j in fetch_failed_jobs(owner, engine=engine)}
    assert job_id in dead
    assert (dead[job_id].task_name, dead[job_id].attempts, dead[job_id].args, dead[job_id].clinic_wide) == \
        ("test_always_fails", 3, {"org_id": clinic.org_id}, False)
    assert dead[job_id].failed_at is not None
    other_owner = Actor(org_id=other.org_id, role="owner", user_id=None, label="other owner")
    assert job_id not in {j.id for j in fetch_failed_jobs(other_owner, engine=engine)}  # another clinic's job
    for role in ("manager", "front_desk", "provider"):
        with pytest.raises((PermissionDenied, NotFound)):
            fetch_failed_jobs(clinic.staff_actor(role), engine=engine)



def test_stalled_jobs_go_back_to_the_queue_and_a_repeat_offender_fails(db_urls, owner_engine):
    """A worker that stopped sending heartbeats (killed) leaves its job `doing`: the periodic
    retry_stalled_jobs puts it back (attempts + 1), or fails it after STALLED_MAX_ATTEMPTS."""
    from types import SimpleNamespace

    import psycopg

    from medspa.jobs.app import STALLED_MAX_ATTEMPTS, opened, retry_stalled_jobs

    with psycopg.connect(db_urls[0], autocommit=True) as conn:  # as the app role, like a worker
        dead = conn.execute("insert into procrastinate_workers (last_heartbeat) "
                            "values (now() - interval '10 minutes') returning id").fetchone()[0]
        ids = [conn.execute("insert into procrastinate_jobs (queue_name, task_name, status, attempts, worker_id) "
                            "values ('test_stalled', 'test_stalled', 'doing', %s, %s) returning id",
                            (attempts, dead)).fetchone()[0] for attempts in (0, STALLED_MAX_ATTEMPTS)]

    async def sweep() -> int:
        async with opened(db_urls[0]) as app:
            return await retry_stalled_jobs.func(SimpleNamespace(app=app), timestamp=0)

    try:
        assert run_in_fresh_loop(sweep()) >= 1
        states = dict((i, (st, n)) for i, st, n in _rows(
            owner_engine, "select id, status::text, attempts from procrastinate_jobs where id in (:a, :b)",
            a=ids[0], b=ids[1]))
        assert states == {ids[0]: ("todo", 1), ids[1]: ("failed", STALLED_MAX_ATTEMPTS + 1)}
    finally:  # no later worker should meet jobs of a task it does not know
        with owner_engine.begin() as conn:
            conn.execute(text("delete from procrastinate_jobs where queue_name = 'test_stalled'"))
            conn.execute(text("delete from procrastinate_workers where id = :id"), {"id": dead})


def test_a_stalled_tick_with_a_queued_twin_is_aborted_not_left_doing(db_urls, owner_engine):
    """A periodic tick job (queueing lock) stalled while the next tick is already queued: putting
    it back would break the queueing lock's uniqueness (found in CI: a killed worker's
    expire_holds job stayed `doing` for good and every sweep failed on it). The sweep aborts it:
    the queued twin does the same work; the twin is untouched."""
    from types import SimpleNamespace

    import psycopg

    from medspa.jobs.app import opened, retry_stalled_jobs

    with psycopg.connect(db_urls[0], autocommit=True) as conn:
        dead = conn.execute("insert into procrastinate_workers (last_heartbeat) "
                            "values (now() - interval '10 minutes') returning id").fetchone()[0]
        stalled, twin = [conn.execute(
            "insert into procrastinate_jobs (queue_name, task_name, status, attempts, worker_id, queueing_lock) "
            "values ('test_twin', 'test_twin', %s, 0, %s, 'test_twin_lock') returning id",
            (status, worker)).fetchone()[0] for status, worker in (("doing", dead), ("todo", None))]

    async def sweep() -> int:
        async with opened(db_urls[0]) as app:
            return await retry_stalled_jobs.func(SimpleNamespace(app=app), timestamp=0)

    try:
        run_in_fresh_loop(sweep())
        states = dict((i, st) for i, st in _rows(
            owner_engine, "select id, status::text from procrastinate_jobs where id in (:a, :b)", a=stalled, b=twin))
        assert states == {stalled: "aborted", twin: "todo"}
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("delete from procrastinate_jobs where queue_name = 'test_twin'"))
            conn.execute(text("delete from procrastinate_workers where id = :id"), {"id": dead})


def test_no_web_worker_runs_a_job_worker():
    """Jobs run in `medspa worker` or the serve parent's one thread, never per web worker:
    neither the Reflex app module nor a page or route starts a worker or a job loop."""
    web = [PROJECT_ROOT / "medspa" / "medspa.py", *(PROJECT_ROOT / "medspa" / "features").rglob("*.py"),
           *(PROJECT_ROOT / "medspa" / "api").rglob("*.py")]
    offenders = [p.name for p in web if any(w in p.read_text() for w in ("medspa.jobs.worker", "InProcessWorker",
                                                                           "run_worker", "hold_expiry_loop"))]
    assert offenders == []


def test_the_downgrade_drops_the_queue_and_the_upgrade_brings_it_back(db_urls, owner_engine):
    from alembic import command
    from alembic.config import Config

    from medspa import migrate

    count = """select (select count(*) from pg_class where relname like 'procrastinate%')
                    + (select count(*) from pg_proc where proname like 'procrastinate%')
                    + (select count(*) from pg_type where typname like 'procrastinate%')"""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["urls"] = db_urls
    command.downgrade(config, "0015")
    try:
        assert _rows(owner_engine, count) == [(0,)]
    finally:
        migrate.upgrade(*db_urls)
    assert _rows(owner_engine, count)[0][0] > 0
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(config).get_current_head()
    assert _rows(owner_engine, "select version_num from alembic_version") == [(head,)]
