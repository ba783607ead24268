"""Test database: a real PostgreSQL, migrated once per session.

Default: the embedded server in var/test (database medspa_test, recreated each run).
With DATABASE_URL (+ DATABASE_OWNER_URL) set, the same tests run against that server.
Tests never share data: each builds its own clinic (organisation) with a unique slug, and
row-level security keeps clinics apart.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import partial

import pytest
from sqlalchemy import create_engine

from medspa.db import to_sqlalchemy_url
from medspa.settings import PROJECT_ROOT, Settings


def pytest_configure(config):
    """Under pytest-xdist with DATABASE_URL set, each worker gets its own database on that
    server (`<database>_<worker>`, created by the db_urls fixture): the environment names it
    from the start, so everything that reads the settings (servers and workers the tests
    start, jobs) reaches the worker's database and never the other worker's job queue."""
    import os

    worker = getattr(config, "workerinput", {}).get("workerid")
    settings = Settings()
    if not worker or not settings.database_url:
        return
    os.environ["MEDSPA_TEST_BASE_DATABASE_URL"] = settings.database_url
    os.environ["MEDSPA_TEST_BASE_DATABASE_OWNER_URL"] = settings.database_owner_url or settings.database_url
    os.environ["DATABASE_URL"] = _with_database(settings.database_url, worker)
    os.environ["DATABASE_OWNER_URL"] = _with_database(settings.database_owner_url or settings.database_url, worker)
    from medspa.settings import get_settings

    get_settings.cache_clear()


def _with_database(url: str, worker: str) -> str:
    """`url` naming the database `<its database>_<worker>` instead."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


def _create_worker_database(app_url: str, owner_url: str, base_owner_url: str) -> None:
    """(Re)create the worker's database as the owner role (CREATEDB), with the extensions the
    migrations expect (trusted from PostgreSQL 13) and the app role's schema usage."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    name = make_url(owner_url).database
    app_role = make_url(app_url).username
    with psycopg.connect(base_owner_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    with psycopg.connect(owner_url, autocommit=True) as conn:
        for extension in ("btree_gist", "pg_trgm", "unaccent"):
            conn.execute(f"create extension if not exists {extension}")
        conn.execute(sql.SQL("grant usage on schema public to {}").format(sql.Identifier(app_role)))


def _drop_worker_database(owner_url: str, base_owner_url: str) -> None:
    """Best effort: the owner role may not end the app role's last connections (a worker
    process a test left); the next run's _create_worker_database drops it then."""
    import warnings

    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    try:
        with psycopg.connect(base_owner_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(make_url(owner_url).database)))
    except psycopg.Error as exc:
        warnings.warn(f"test database left behind: {exc}")


@pytest.fixture(scope="session")
def db_urls():
    """(app_url, owner_url) of a freshly migrated test database."""
    import os

    settings = Settings()
    dropper = None
    base_owner_url = os.environ.get("MEDSPA_TEST_BASE_DATABASE_OWNER_URL")
    if settings.database_url and base_owner_url:  # an xdist worker on an external server
        app_url, owner_url = settings.database_url, settings.database_owner_url or settings.database_url
        _create_worker_database(app_url, owner_url, base_owner_url)
        dropper = partial(_drop_worker_database, owner_url, base_owner_url)
    elif settings.database_url:
        app_url = settings.database_url
        owner_url = settings.database_owner_url or settings.database_url
    else:
        import fcntl

        from medspa.embedded_db import ensure_embedded, start_server

        # one database per pytest process: parallel runs on one machine never share data
        name = f"medspa_test_{os.getpid()}"
        var = PROJECT_ROOT / "var" / "test"
        var.mkdir(parents=True, exist_ok=True)
        # xdist workers start together: one at a time creates the server and the roles
        with open(var / ".bootstrap.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            app_url, owner_url = ensure_embedded(var, name, recreate=True)

        def dropper() -> None:
            import psycopg

            with psycopg.connect(start_server(var), autocommit=True) as conn:
                conn.execute(f'drop database if exists "{name}" with (force)')

    from medspa import migrate

    migrate.upgrade(app_url, owner_url)
    yield app_url, owner_url
    if dropper:
        dropper()


@pytest.fixture(scope="session")
def engine(db_urls):
    """App-role engine (NOSUPERUSER NOBYPASSRLS: row-level security applies)."""
    eng = create_engine(to_sqlalchemy_url(db_urls[0]), pool_size=12, max_overflow=12)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def owner_engine(db_urls):
    """Schema-owner engine, for setting up clinics and inspecting across them."""
    eng = create_engine(to_sqlalchemy_url(db_urls[1]))
    yield eng
    eng.dispose()


@pytest.fixture
def clinic(engine, owner_engine):
    """A fresh clinic (see tests/factories.py) with one location, provider, room and services."""
    from tests.factories import build_clinic

    return build_clinic(engine, owner_engine)


def utc(*args: int) -> datetime:
    """utc(2026, 7, 15, 8, 0) -> aware UTC datetime."""
    return datetime(*args, tzinfo=timezone.utc)


def empty_job_queue(owner_engine) -> None:
    """Delete the jobs other tests left waiting or half-run in this database (a killed worker's
    job, a delivery deferred in-process): worker processes a test starts then take only its
    own jobs. Call it before starting them; no other test's worker runs in this database then
    (pytest-xdist workers each have their own)."""
    from sqlalchemy import text

    with owner_engine.begin() as conn:
        conn.execute(text("delete from procrastinate_jobs where status in ('todo', 'doing')"))


def run_in_fresh_loop(coro):
    """asyncio.run(coro) in its own thread: Playwright's sync API (browser tests earlier in the
    same session) keeps an event loop running in the main thread, where asyncio.run refuses."""
    import asyncio
    import threading

    box: dict = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def drain_queue(db_url: str, task_name: str, func, retry) -> None:
    """Run one procrastinate worker on `db_url` with task `task_name` (the coroutine `func`,
    `retry` strategy) until the default queue has nothing left to do (wait=False)."""
    from procrastinate import App, PsycopgConnector

    worker_app = App(connector=PsycopgConnector(conninfo=db_url, min_size=1, max_size=2))
    worker_app.task(name=task_name, queue="default", retry=retry, pass_context=True)(func)

    async def run() -> None:
        async with worker_app.open_async():
            await worker_app.run_worker_async(queues=["default"], wait=False, install_signal_handlers=False,
                                              concurrency=1)

    run_in_fresh_loop(run())


NO_ABUSE_LIMITS = {"LIMIT_BOOKING_PER_IP": "", "LIMIT_BOOKING_PER_EMAIL": "", "MAX_OPEN_HOLDS_PER_IP": "0",
                   "MAX_OPEN_HOLDS_PER_CLIENT": "0", "LIMIT_PORTAL_CODE_PER_IP": "", "LIMIT_RESET_PER_IP": "",
                   "LIMIT_RESET_PER_EMAIL": "", "LIMIT_SIGN_IN_PER_IP": "", "LIMIT_MANAGE_PER_IP": "",
                   "LIMIT_MANAGE_PER_TOKEN": ""}
"""Environment of a server that a whole storm or browser suite reaches from one address."""


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Every test starts with empty abuse-limit windows (medspa.domain.ratelimits)."""
    from medspa.domain.ratelimits import reset_all

    reset_all()
    yield


@pytest.fixture
def limits(monkeypatch):
    """Set abuse limits for one test: limits(max_open_holds_per_ip=3, limit_booking_per_ip="4/hour")."""
    from medspa.settings import get_settings

    def set_limits(**values):
        for name, value in values.items():
            monkeypatch.setenv(name.upper(), str(value))
        get_settings.cache_clear()

    yield set_limits
    monkeypatch.undo()
    get_settings.cache_clear()
