"""The launcher and its configuration: RX-1 (several workers need Redis), the Reflex
environment handed to the web server, rxconfig, and the health route."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from medspa import cli
from medspa.cli import common as cli_common
from medspa.cli import launcher as cli_serve
from medspa.ops.database import Database
from medspa.settings import Settings, get_settings


@pytest.fixture
def fresh_settings():
    """Let get_settings() see the test's environment, and forget it afterwards."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_rx1_several_workers_without_redis_are_refused(fresh_settings, monkeypatch):
    monkeypatch.setenv("WEB_WORKERS", "3")
    monkeypatch.delenv("REDIS_URL", raising=False)
    result = CliRunner().invoke(cli.app, ["serve", "--port", "3999"])
    assert result.exit_code == 2
    assert "WEB_WORKERS=3 needs REDIS_URL" in result.output


def test_zero_workers_are_refused(fresh_settings, monkeypatch):
    monkeypatch.setenv("WEB_WORKERS", "0")
    result = CliRunner().invoke(cli.app, ["serve", "--port", "3999"])
    assert result.exit_code == 2


def test_reflex_env_hands_redis_and_workers_to_reflex(tmp_path: Path):
    settings = Settings(redis_url="redis://127.0.0.1:6379/3", web_workers=3, port=4100, var_dir=tmp_path)
    env = cli_serve.reflex_env(settings, Database("postgresql://app@h/db", "postgresql://own@h/db", tmp_path))
    assert env["REFLEX_REDIS_URL"] == env["REDIS_URL"] == "redis://127.0.0.1:6379/3"
    assert env["GRANIAN_WORKERS"] == "3"
    assert env["REFLEX_USE_GRANIAN"] == "1"
    assert env["DATABASE_URL"] == "postgresql://app@h/db"
    assert env["DATABASE_OWNER_URL"] == ""  # workers run as the app role only
    assert env["PORT"] == "4100"
    assert env["REFLEX_USE_SYSTEM_BUN"] == "1"
    assert env["REFLEX_TELEMETRY_ENABLED"] == env["REFLEX_CHECK_LATEST_VERSION"] == "0"
    assert env["PATH"].split(":")[0].endswith("tools/node_modules/.bin")
    for key in ("BUN_INSTALL_CACHE_DIR", "REFLEX_DIR"):
        assert env[key].startswith(str(tmp_path))


def test_reflex_env_without_redis_has_no_redis(tmp_path: Path):
    env = cli_serve.reflex_env(Settings(redis_url="", var_dir=tmp_path), Database("a", "b", tmp_path))
    assert "REFLEX_REDIS_URL" not in env and "REDIS_URL" not in env
    assert env["GRANIAN_WORKERS"] == "1"


def test_rxconfig_reads_settings_and_keeps_the_database_out(fresh_settings, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/5")
    monkeypatch.setenv("PORT", "4200")
    import rxconfig

    config = importlib.reload(rxconfig).config
    assert config.app_name == "medspa"
    assert config.telemetry_enabled is False
    assert config.redis_url == "redis://127.0.0.1:6379/5"
    assert config.db_url is None
    assert set(config.cors_allowed_origins) == {"http://localhost:4200", "http://127.0.0.1:4200"}
    assert config.frontend_port == config.backend_port == 4200


@pytest.fixture
def health_client(monkeypatch):
    from medspa.api import app as api_app

    def use(database_url: str) -> TestClient:
        monkeypatch.setattr(api_app, "get_settings", lambda: Settings(database_url=database_url))
        return TestClient(api_app.api)

    return use


def test_health_ok(health_client, db_urls):
    response = health_client(db_urls[0]).get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_health_database_down(health_client):
    response = health_client("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2").get("/api/v1/health")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error"}


def test_openapi_and_docs_live_under_api_v1(health_client):
    client = health_client("")
    assert "/api/v1/health" in client.get("/api/v1/openapi.json").json()["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_outbox_command_prints_a_clinics_newest_messages(engine, owner_engine, db_urls, monkeypatch):
    from typer.testing import CliRunner

    from medspa.clock import FixedClock
    from medspa.domain.clients.service import ClientInput
    from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
    from medspa.domain.scheduling.booking import OnlineBooking, book_online
    from tests.conftest import utc
    from tests.factories import build_clinic
    from tests.test_booking import NY, at

    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(utc(2026, 7, 1, 12))
    book_online(engine, clinic.public, OnlineBooking(
        location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=at(NY, 10),
        client=ClientInput("Una", "Park", "una@example.com", "+12125550188"),
        card=CardDetails("4242424242424242", 12, 2030, "123")), TestPaymentGateway(engine, clock.now), clock)
    settings = Settings(database_url=db_urls[0], database_owner_url=db_urls[1])
    monkeypatch.setattr(cli_common, "get_settings", lambda: settings)
    result = CliRunner().invoke(cli.app, ["outbox", "--clinic", clinic.slug, "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert f"({clinic.slug}): 3 newest" in result.output
    assert "email deposit_receipt to una@example.com" in result.output
    assert "10:00 AM EDT (America/New_York)" in result.output


@pytest.mark.parametrize("in_process", [True, False], ids=["IN_PROCESS_WORKER=true", "IN_PROCESS_WORKER=false"])
def test_serve_runs_exactly_one_job_worker_in_its_parent(fresh_settings, monkeypatch, db_urls, owner_engine, tmp_path,
                                                         in_process):
    """Issue 10: the parent of `medspa serve` starts ONE job worker (a thread, before the web
    workers exist) and stops it on the way out; none with IN_PROCESS_WORKER=false. The web
    server is replaced by a probe; database, migrations and the worker are real."""
    import signal
    import threading
    import time

    from sqlalchemy import text

    def worker_threads() -> int:
        return sum(1 for t in threading.enumerate() if t.name == "procrastinate-worker" and t.is_alive())

    def registered_workers() -> int:
        with owner_engine.connect() as conn:
            return conn.execute(text("select count(*) from procrastinate_workers")).scalar_one()

    seen = {}

    def fake_web(settings, db, app_dir, on_ready) -> int:
        deadline = time.monotonic() + 60  # bounds the wait for the worker's registration only
        while in_process and registered_workers() < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        seen.update(threads=worker_threads(), rows=registered_workers())
        return 0

    # the launcher hands the database to its own process's jobs through the environment
    for name, value in (("DATABASE_URL", db_urls[0]), ("DATABASE_OWNER_URL", db_urls[1]), ("VAR_DIR", str(tmp_path))):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("IN_PROCESS_WORKER", "true" if in_process else "false")
    monkeypatch.setattr(cli_serve, "_check_can_start", lambda settings, app_dir: None)
    monkeypatch.setattr(cli_serve, "_run_web", fake_web)
    handlers = {sig: signal.getsignal(sig) for sig in cli_serve.STOP_SIGNALS}
    try:
        result = CliRunner().invoke(cli.app, ["serve", "--no-demo-seed", "--port", "3999"])
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert result.exit_code == 0, result.output
    expected = 1 if in_process else 0
    assert seen == {"threads": expected, "rows": expected}
    assert worker_threads() == 0 and registered_workers() == 0  # stopped, and unregistered
    assert ("medspa worker" in result.output) == (not in_process)
