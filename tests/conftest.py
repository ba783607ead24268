"""Test database: a real PostgreSQL, migrated once per session.

Default: the embedded server in var/test (database medspa_test, recreated each run).
With DATABASE_URL (+ DATABASE_OWNER_URL) set, the same tests run against that server.
Tests never share data: each builds its own clinic (organisation) with a unique slug, and
row-level security keeps clinics apart.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine

from medspa.db import to_sqlalchemy_url
from medspa.settings import PROJECT_ROOT, Settings


@pytest.fixture(scope="session")
def db_urls():
    """(app_url, owner_url) of a freshly migrated test database."""
    settings = Settings()
    dropper = None
    if settings.database_url:
        app_url = settings.database_url
        owner_url = settings.database_owner_url or settings.database_url
    else:
        import os

        from medspa.embedded_db import ensure_embedded, start_server

        # one database per pytest process: parallel runs on one machine never share data
        name = f"medspa_test_{os.getpid()}"
        var = PROJECT_ROOT / "var" / "test"
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
