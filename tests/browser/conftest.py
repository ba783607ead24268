"""Browser tests: the real app (prod build, one port) in headless Debian Chromium.

The session starts `medspa serve` (the same launcher as `make run`) in its own process
group, with its own port, its own embedded PostgreSQL and a private copy of the app
directory under var/browser-test/slot-N/ (a prod build bakes its port into the bundle, so
two servers must never build in one directory; `make run` may be running meanwhile).
The demo seed is off: tests build their own clinics with the domain services through
`app_urls` (the server's app-role and owner URLs).

Every test under tests/browser is marked `browser` (deselect with -m "not browser").
Screenshots go to tests/artifacts/ (gitignored); a failing test saves one automatically.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import pytest
from playwright.sync_api import expect

from medspa.settings import PROJECT_ROOT
from tests.conftest import NO_ABUSE_LIMITS

BROWSER_DIR = Path(__file__).resolve().parent
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
BROWSER_VAR = PROJECT_ROOT / "var" / "browser-test"
# what a prod build needs; .web inside the copy is kept between runs (warm bun install)
APP_ITEMS = ("medspa", "assets", "rxconfig.py", "reflex.lock", "alembic", "alembic.ini", "pyproject.toml")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# every expect() waits up to 15 s (Playwright's default is 5 s): on a loaded 2-core CI machine a
# server round trip can take longer; a test's waiting is generous, its latency is a bench's business
expect.set_options(timeout=15_000)
START_TIMEOUT = 300  # seconds: a cold frontend build (bun install + vite) on 2 cores
# The app under test runs on a frozen clock (medspa.clock.app_clock): build test data
# relative to the `frozen_now` fixture. The demo seed is off: tests make their own clinics.
FROZEN_NOW = datetime(2026, 7, 1, 16, 0, tzinfo=timezone.utc)
# a known SECRET_KEY: tests can store TOTP secrets the way the server reads them (secretbox)
TEST_SECRET_KEY = "browser-tests-secret-key-not-for-production"
SERVER_ENV = {"DEMO_SEED": "0", "FROZEN_NOW": FROZEN_NOW.isoformat(), "SECRET_KEY": TEST_SECRET_KEY,
              **NO_ABUSE_LIMITS}  # one server serves every browser test from 127.0.0.1


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test below tests/browser as `browser` (before -m deselects)."""
    for item in items:
        if BROWSER_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    """Remember each phase's report on the item (the page fixture screenshots failures)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# --------------------------------------------------------------------------- server


@dataclass
class BrowserServer:
    base_url: str
    app_url: str
    owner_url: str
    slot_dir: Path
    log_path: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _claim_slot() -> tuple[Path, object]:
    """A slot directory no other test session uses right now (flock), reused across runs."""
    BROWSER_VAR.mkdir(parents=True, exist_ok=True)
    for n in range(16):
        slot = BROWSER_VAR / f"slot-{n}"
        slot.mkdir(exist_ok=True)
        handle = open(slot / "lock", "w")  # noqa: SIM115 - held for the whole session
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return slot, handle
    raise RuntimeError(f"all browser-test slots in {BROWSER_VAR} are busy")


def _copy_app(dest: Path) -> None:
    """Refresh the app sources in `dest`, keeping its .web (compiled frontend, node_modules)."""
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in APP_ITEMS:
        src, dst = PROJECT_ROOT / name, dest / name
        if dst.is_dir() and not dst.is_symlink():
            shutil.rmtree(dst)
        elif dst.exists() or dst.is_symlink():
            dst.unlink()
        if src.is_dir():
            shutil.copytree(src, dst, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, dst)


def _ping(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/ping", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def _log_tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen, timeout: float = 40) -> None:
    """SIGTERM the launcher's group (it stops the web server group), SIGKILL if stuck."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


@pytest.fixture(scope="session")
def browser_server() -> Iterator[BrowserServer]:
    """The running app (started once per test session)."""
    from medspa.embedded_db import ensure_embedded, stop_server

    slot, lock = _claim_slot()
    app_dir = slot / "app"
    log_path = slot / "serve.log"
    _copy_app(app_dir)
    # a fresh database for every session; the launcher finds the server running and
    # therefore leaves stopping it to us
    app_url, owner_url = ensure_embedded(slot, "medspa", recreate=True)
    port = _free_port()
    base_url = f"http://localhost:{port}"
    # `env NAME=value ...` hands SERVER_ENV to the launcher and its web server
    cmd = [
        "env", *(f"{k}={v}" for k, v in SERVER_ENV.items()),
        sys.executable, "-m", "medspa.cli", "serve", "--port", str(port),
        "--var-dir", str(slot), "--app-dir", str(app_dir),
    ]  # fmt: skip
    t0 = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        while not _ping(base_url):
            if proc.poll() is not None:
                pytest.fail(f"medspa serve exited with {proc.returncode}:\n{_log_tail(log_path)}")
            if time.monotonic() - t0 > START_TIMEOUT:
                pytest.fail(f"app not up after {START_TIMEOUT} s:\n{_log_tail(log_path)}")
            time.sleep(0.5)
        print(f"\n[browser] app up at {base_url} in {time.monotonic() - t0:.1f} s (log {log_path})")
        yield BrowserServer(base_url, app_url, owner_url, slot, log_path)
    finally:
        _stop(proc)
        stop_server(slot)
        lock.close()


@pytest.fixture(scope="session")
def base_url(browser_server: BrowserServer) -> str:
    """http://localhost:PORT of the app under test (no trailing slash)."""
    return browser_server.base_url


@pytest.fixture(scope="session")
def frozen_now() -> datetime:
    """The instant the app under test treats as now (FROZEN_NOW)."""
    return FROZEN_NOW


@pytest.fixture(scope="session")
def app_urls(browser_server: BrowserServer) -> tuple[str, str]:
    """(app_url, owner_url) of the app's database, for building clinics with the services."""
    return browser_server.app_url, browser_server.owner_url


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def playwright_session():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_session):
    """Debian's Chromium (never `playwright install`: it downloads)."""
    b = playwright_session.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()


@pytest.fixture
def context(browser, base_url):
    """A fresh browser context (own cookies and storage) per test."""
    ctx = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, request):
    """A page in a fresh context; saved as tests/artifacts/FAILED-<test>.png if the test fails."""
    pg = context.new_page()
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            pg.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"), full_page=True)
        except Exception:  # noqa: BLE001 - a broken page must not hide the real failure
            pass


@pytest.fixture
def screenshot(page) -> Callable[[str], Path]:
    """screenshot("name") saves the page to tests/artifacts/name.png and returns the path."""

    def take(name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
