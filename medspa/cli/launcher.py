"""`medspa serve`: the database (embedded unless DATABASE_URL), migrations and demo data,
then `reflex run --env prod` on one port as a child process group.

`serve` is the parent process: it owns the embedded database (when it started it), runs
the one in-process job worker (IN_PROCESS_WORKER, a thread here: never one per web worker),
hands DATABASE_URL / DATABASE_OWNER_URL and the Reflex variables to the web server it
launches, and on Ctrl-C (SIGINT/SIGTERM/SIGHUP) stops that server's whole process group,
then the job worker, then the database.
"""

from __future__ import annotations

import logging

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Callable, Optional

import typer

from medspa.cli.common import fail, say, settings_for, var_dir_option
from medspa.ops import OpsError
from medspa.ops import database as ops_db
from medspa.ops import jobs as ops_jobs
from medspa.ops import seed as ops_seed
from medspa.ops import setup as ops_setup
from medspa.ops.database import Database
from medspa.settings import PROJECT_ROOT, Settings, export_env

DEMO_CODE_HINT = ("owner, manager, nurse and director sign in with a 6-digit code too: "
                  "run `.venv/bin/medspa demo-code EMAIL` to get it")
TOOLS_BIN = PROJECT_ROOT / "tools" / "node_modules" / ".bin"
DEFAULT_NPM_REGISTRY = "https://registry.npmjs.org/"
LOCK_DIR = "reflex.lock"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def _npm_registry() -> str:
    """The registry npm is configured with, so Reflex does not probe mirrors (~0.2 s)."""
    npm = shutil.which("npm")
    if not npm:
        return DEFAULT_NPM_REGISTRY
    try:
        out = subprocess.run(
            [npm, "config", "get", "registry"], capture_output=True, text=True, timeout=20, check=True
        ).stdout.strip()
    except (subprocess.SubprocessError, OSError):
        return DEFAULT_NPM_REGISTRY
    return out if out.startswith(("http://", "https://")) else DEFAULT_NPM_REGISTRY


def reflex_env(settings: Settings, db: Database) -> dict[str, str]:
    """Variables the Reflex child (and its web workers) need, besides the inherited ones."""
    var_dir = settings.var_dir.resolve()
    env = {
        "DATABASE_URL": db.app_url,
        # least privilege: web workers never get the schema owner's URL (migrations ran above)
        "DATABASE_OWNER_URL": "",
        "PORT": str(settings.port),
        "VAR_DIR": str(var_dir),
        "PATH": os.pathsep.join([str(TOOLS_BIN), *os.get_exec_path()]),
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_CHECK_LATEST_VERSION": "0",
        "REFLEX_TELEMETRY_ENABLED": "0",
        "REFLEX_USE_GRANIAN": "1",
        "NPM_CONFIG_REGISTRY": _npm_registry(),
        "BUN_INSTALL_CACHE_DIR": str(var_dir / "cache" / "bun"),
        "BUN_RUNTIME_TRANSPILER_CACHE_PATH": "0",
        "REFLEX_DIR": str(var_dir / "cache" / "reflex"),
        "GRANIAN_WORKERS": str(settings.web_workers),
    }
    if settings.public_base_url:
        env["PUBLIC_BASE_URL"] = settings.public_base_url
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
        env["REFLEX_REDIS_URL"] = settings.redis_url  # Reflex reads only this one
    return env


def check_workers(settings: Settings) -> None:
    """Refuse several web workers without Redis (each would keep its own Reflex state)."""
    if settings.web_workers < 1:
        fail(f"WEB_WORKERS must be at least 1 (got {settings.web_workers}).")
    if settings.web_workers > 1 and not settings.redis_url:
        fail(
            f"WEB_WORKERS={settings.web_workers} needs REDIS_URL: without Redis every worker keeps "
            "its own Reflex state and browsers on different workers would not see each other's "
            "changes. Set REDIS_URL=redis://HOST:6379/0 or use WEB_WORKERS=1."
        )


def persist_lock(app_dir: Path, project: Path = PROJECT_ROOT) -> list[str]:
    """Copy the build's lock files from a copy of the app (`--app-dir`) back to the project,
    as `reflex run` in the project itself does: a build that had to add a front-end package
    then shows up in `git status` (CI checks that reflex.lock is committed). Returns the
    names of the files that changed."""
    source, target = app_dir / LOCK_DIR, project / LOCK_DIR
    if app_dir.resolve() == project.resolve() or not source.is_dir():
        return []
    changed = []
    for path in sorted(source.iterdir()):
        dest = target / path.name
        if path.is_file() and (not dest.exists() or dest.read_bytes() != path.read_bytes()):
            target.mkdir(exist_ok=True)
            tmp = dest.with_name(f".{path.name}.{os.getpid()}")
            shutil.copyfile(path, tmp)
            os.replace(tmp, dest)  # atomic: two test servers may finish their builds together
            changed.append(path.name)
    return changed


def _wait_ready(port: int, proc: subprocess.Popen, on_ready: Callable[[], None]) -> None:
    url = f"http://127.0.0.1:{port}/ping"
    while proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    on_ready()
                    return
        except OSError:
            pass
        time.sleep(0.5)


def _banner(settings: Settings, db: Database, seeded_demo: bool, elapsed: float, setup_link: str | None = None) -> None:
    base = settings.base_url
    lines = [
        "",
        "=" * 64,
        f"  medspa is running ({elapsed:.0f} s): {base}",
    ]
    if setup_link:  # an empty database: the one way in (whoever reaches the server first cannot take it)
        lines += ["  No clinic yet. Create yours with this one-time link (24 hours; keep it private):",
                  f"    {setup_link}"]
    else:
        lines.append(f"  public booking page: {base}/book/{ops_seed.DEMO_SLUG}")
    lines.append(f"  API docs:            {base}/api/v1/docs")
    if seeded_demo:
        lines.append("  demo logins:")
        lines += [f"    {role:<15} {email:<24} {password}" for role, email, password in ops_seed.demo_logins()]
        lines.append(f"  {DEMO_CODE_HINT}")
    stops = " and the embedded database" if db.started_here else ""
    lines += [f"  Ctrl-C stops the server{stops}", "=" * 64, ""]
    say("\n".join(lines))


def _stop_group(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM the child's process group, SIGKILL what is left after `timeout`."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    # the leader may be gone while workers linger: sweep the group either way
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


class _Stop(Exception):
    """Raised in the main thread by the signal handler."""


def _raise_stop(signum: int, frame) -> None:  # noqa: ANN001
    raise _Stop(signal.Signals(signum).name)


def _check_can_start(settings: Settings, app_dir: Path) -> None:
    check_workers(settings)
    if not (app_dir / "rxconfig.py").exists():
        fail(f"{app_dir} has no rxconfig.py")
    if not _port_is_free(settings.port):
        fail(f"port {settings.port} is already in use (is another `medspa serve` running?). Use PORT=... or --port.")
    if not (TOOLS_BIN / "bun").exists():
        fail("bun is missing: run `npm i --prefix tools bun@1.4.4` (or `make run`).")


def _prepare_database(settings: Settings, db: Database) -> tuple[bool, str | None]:
    """Migrations and (when DEMO_SEED) the demo clinic; (True when the demo clinic is there,
    the one-time set-up link when the database still has no clinic)."""
    say(f"Database schema is up to date ({ops_db.migrate(db):.1f} s)")
    seeded_demo = ops_seed.seed_demo_if_empty(settings, db, say) if settings.demo_seed else False
    setup_link = None if seeded_demo else ops_setup.setup_link_if_empty(settings, db)
    ops_db.dispose_engines(settings, db)
    return seeded_demo, setup_link


def start_jobs(settings: Settings, db: Database):
    """The server's one in-process job worker, started here in the parent before any web
    worker exists (the web workers run no jobs); None with IN_PROCESS_WORKER=false, when
    `medspa worker` processes run them."""
    if not settings.in_process_worker:
        say("Jobs: IN_PROCESS_WORKER=false, so this server runs none: start `medspa worker` for them")
        return None
    conninfo = ops_jobs.bind_worker_database(settings, db)
    from medspa.jobs.worker import InProcessWorker

    _log_job_warnings()
    worker = InProcessWorker(conninfo).start()
    say("Jobs: one worker runs in this process (email and SMS delivery, hold expiry, payment "
        "reconciliation); its warnings and errors print here")
    return worker


def _log_job_warnings() -> None:
    """Warnings and errors of the in-process jobs (a retried delivery, a stalled job, a failed
    reconciliation) on this terminal, as `medspa worker` prints them; not the INFO chatter."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("medspa", "procrastinate"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(handler)
            logger.setLevel(logging.WARNING)


def _stop_jobs(worker) -> None:  # noqa: ANN001
    if worker is not None and not worker.stop():
        say("medspa: the job worker did not stop in time", err=True)


def _run_web(settings: Settings, db: Database, app_dir: Path, on_ready: Callable[[], None]) -> int:
    """Start `reflex run` in its own process group and wait for it; returns its status."""
    export_env(**reflex_env(settings, db))
    cmd = [
        sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
        "--frontend-port", str(settings.port), "--backend-port", str(settings.port),
    ]  # fmt: skip
    say(f"Building and starting the web app on port {settings.port} (the frontend build takes a while) ...")
    proc = subprocess.Popen(cmd, cwd=app_dir, start_new_session=True)
    try:
        threading.Thread(target=_wait_ready, args=(settings.port, proc, on_ready), daemon=True).start()
        rc = proc.wait()
        if rc:
            say(f"medspa: the web server exited with status {rc}", err=True)
        return rc
    finally:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        if proc.poll() is None:
            _stop_group(proc)


def serve(
    port: Optional[int] = typer.Option(None, "--port", help="Port for everything (default: PORT or 3000)."),
    demo_seed: Optional[bool] = typer.Option(
        None, "--demo-seed/--no-demo-seed", help="Load the demo clinic into an empty database (default: DEMO_SEED)."
    ),
    var_dir: Optional[Path] = var_dir_option(),
    app_dir: Path = typer.Option(
        PROJECT_ROOT, "--app-dir", help="Directory `reflex run` runs in (a copy lets two servers build side by side)."
    ),
) -> None:
    """Run the app: database, migrations, demo data, then the web server on one port."""
    t_start = time.monotonic()
    settings = settings_for(var_dir, port=port, demo_seed=demo_seed)
    app_dir = app_dir.resolve()
    _check_can_start(settings, app_dir)
    # signals: from here on Ctrl-C unwinds through the finally blocks below
    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise_stop)
    db: Database | None = None
    jobs = None
    rc = 0
    try:
        db = ops_db.open_database(settings, say=say)
        seeded_demo, setup_link = _prepare_database(settings, db)
        jobs = start_jobs(settings, db)

        def ready() -> None:
            _banner(settings, db, seeded_demo, time.monotonic() - t_start, setup_link)
            for name in persist_lock(app_dir):
                say(f"medspa: the build changed {LOCK_DIR}/{name}: commit it", err=True)

        rc = _run_web(settings, db, app_dir, ready)
    except (_Stop, KeyboardInterrupt) as stop:
        say(f"\nStopping ({stop or 'interrupt'}) ...")
    except OpsError as exc:
        say(f"medspa: {exc}", err=True)
        rc = 2
    finally:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        _stop_jobs(jobs)
        if db is not None:
            db.close(say)
    raise typer.Exit(rc)
