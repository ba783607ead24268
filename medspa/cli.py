"""The `medspa` command line (typer).

    medspa serve       database (embedded unless DATABASE_URL) + migrations + demo data, then
                       `reflex run --env prod` on one port as a child process group
    medspa db upgrade  apply migrations
    medspa db stop     stop the embedded PostgreSQL in var/pg
    medspa seed        load the demo clinic (--scale large: the large synthetic clinic)

`serve` is the parent process: it owns the embedded database (when it started it), hands
DATABASE_URL / DATABASE_OWNER_URL and the Reflex variables to the web server it launches,
and on Ctrl-C (SIGINT/SIGTERM/SIGHUP) stops that server's whole process group and then the
database. Heavy imports (reflex, alembic, sqlalchemy) stay inside the commands so that
`medspa --help` and start-up stay fast.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

from medspa.settings import PROJECT_ROOT, Settings, export_env, get_settings

app = typer.Typer(
    help="medspa: practice system for medical spas.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")

DEMO_LOGINS = (
    ("owner", "owner@demo.clinic", "demo-owner-2026"),
    ("front desk", "frontdesk@demo.clinic", "demo-desk-2026"),
    ("nurse injector", "nurse@demo.clinic", "demo-nurse-2026"),
)
DEMO_SLUG = "demo"
DEMO_CODE_HINT = ("owner, manager and nurse sign in with a 6-digit code too: "
                  "run `.venv/bin/medspa demo-code EMAIL` to get it")
TOOLS_BIN = PROJECT_ROOT / "tools" / "node_modules" / ".bin"
DEFAULT_NPM_REGISTRY = "https://registry.npmjs.org/"


def _say(message: str = "", *, err: bool = False) -> None:
    typer.echo(message, err=err)


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"medspa: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


# --------------------------------------------------------------------------- database


@dataclass
class Database:
    """URLs of the database this command uses and whether this process started it."""

    app_url: str
    owner_url: str
    var_dir: Path
    started_here: bool = False

    def close(self) -> None:
        """Stop the embedded server if (and only if) this process started it."""
        if self.started_here:
            from medspa.embedded_db import stop_server

            _say("Stopping the embedded PostgreSQL ...")
            stop_server(self.var_dir)
            self.started_here = False


def _embedded_running(var_dir: Path) -> bool:
    """True when var_dir/pg has a live postmaster (its pid file names a running process)."""
    pid_file = var_dir / "pg" / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def open_database(settings: Settings) -> Database:
    """External database from DATABASE_URL, else the embedded one in var_dir/pg."""
    if settings.database_url:
        return Database(
            settings.database_url,
            settings.database_owner_url or settings.database_url,
            settings.var_dir,
        )
    from medspa.embedded_db import ensure_embedded

    was_running = _embedded_running(settings.var_dir)
    t0 = time.monotonic()
    app_url, owner_url = ensure_embedded(settings.var_dir)
    if not was_running:
        _say(f"Embedded PostgreSQL started in {settings.var_dir / 'pg'} ({time.monotonic() - t0:.1f} s)")
    return Database(app_url, owner_url, settings.var_dir, started_here=not was_running)


def _migrate(db: Database) -> None:
    from medspa import migrate

    t0 = time.monotonic()
    migrate.upgrade(db.app_url, db.owner_url)
    _say(f"Database schema is up to date ({time.monotonic() - t0:.1f} s)")


def _with_urls(settings: Settings, db: Database) -> Settings:
    return settings.model_copy(update={"database_url": db.app_url, "database_owner_url": db.owner_url})


def _count_organizations(settings: Settings, db: Database, slug: str | None = None) -> int:
    from sqlalchemy import text

    from medspa.db import get_owner_engine

    engine = get_owner_engine(_with_urls(settings, db))
    sql = "select count(*) from organization" + (" where slug = :slug" if slug else "")
    with engine.connect() as conn:
        return int(conn.execute(text(sql), {"slug": slug} if slug else {}).scalar_one())


class _Progress:
    """Prints seed progress callbacks `(label, fraction)`, one line per new label."""

    def __init__(self) -> None:
        self.last = ""

    def __call__(self, label: object = "", fraction: object = None, *args: object, **kwargs: object) -> None:
        text = re.sub(r"\s*\d+%$", "", str(label))  # "appointments 47%" -> one line per stage
        if text == self.last:
            return
        self.last = text
        pct = f"[{float(fraction) * 100:3.0f}%] " if isinstance(fraction, (int, float)) else ""
        _say(f"  {pct}{text}")


def demo_logins() -> list[tuple[str, str, str]]:
    """(role, email, password) of the demo staff, from the seed module when it is there."""
    try:
        from medspa.demo.seed import demo_credentials
    except ImportError:
        return list(DEMO_LOGINS)
    return [(role, email, password) for email, password, role in demo_credentials()]


def _run_seed(settings: Settings, db: Database) -> bool:
    """Call medspa.demo.seed.seed_demo if that module exists; False when it is missing."""
    try:
        from medspa.demo.seed import seed_demo
    except ModuleNotFoundError as exc:
        if exc.name in ("medspa.demo", "medspa.demo.seed"):
            _say("Demo data: medspa.demo.seed is not available yet; skipping the demo clinic.")
            return False
        raise
    from medspa.db import get_engine, get_owner_engine

    url_settings = _with_urls(settings, db)
    engine, owner_engine = get_engine(url_settings), get_owner_engine(url_settings)
    _say("Loading the demo clinic (first run only) ...")
    t0 = time.monotonic()
    try:
        seed_demo(engine, owner_engine, progress=_Progress(), settings=settings)
    finally:
        engine.dispose()
        owner_engine.dispose()
    _say(f"Demo clinic loaded ({time.monotonic() - t0:.1f} s)")
    return True


def _dispose_engines(settings: Settings, db: Database) -> None:
    """Close pooled connections opened by this process before it waits on the web server."""
    from medspa.db import get_engine, get_owner_engine

    url_settings = _with_urls(settings, db)
    get_engine(url_settings).dispose()
    get_owner_engine(url_settings).dispose()


# --------------------------------------------------------------------------- web server


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
        _fail(f"WEB_WORKERS must be at least 1 (got {settings.web_workers}).")
    if settings.web_workers > 1 and not settings.redis_url:
        _fail(
            f"WEB_WORKERS={settings.web_workers} needs REDIS_URL: without Redis every worker keeps "
            "its own Reflex state and browsers on different workers would not see each other's "
            "changes. Set REDIS_URL=redis://HOST:6379/0 or use WEB_WORKERS=1."
        )


def _wait_ready(port: int, proc: subprocess.Popen, on_ready) -> None:  # noqa: ANN001
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


def _banner(settings: Settings, db: Database, seeded_demo: bool, elapsed: float) -> None:
    base = settings.base_url
    lines = [
        "",
        "=" * 64,
        f"  medspa is running ({elapsed:.0f} s): {base}",
        f"  public booking page: {base}/book/{DEMO_SLUG}",
        f"  API docs:            {base}/api/v1/docs",
    ]
    if seeded_demo:
        lines.append("  demo logins:")
        lines += [f"    {role:<15} {email:<24} {password}" for role, email, password in demo_logins()]
        lines.append(f"  {DEMO_CODE_HINT}")
    stops = " and the embedded database" if db.started_here else ""
    lines += [f"  Ctrl-C stops the server{stops}", "=" * 64, ""]
    _say("\n".join(lines))


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


@app.command()
def serve(
    port: Optional[int] = typer.Option(None, "--port", help="Port for everything (default: PORT or 3000)."),
    demo_seed: Optional[bool] = typer.Option(
        None, "--demo-seed/--no-demo-seed", help="Load the demo clinic into an empty database (default: DEMO_SEED)."
    ),
    var_dir: Optional[Path] = typer.Option(None, "--var-dir", help="Embedded database, media, caches (default: VAR_DIR or ./var)."),
    app_dir: Path = typer.Option(
        PROJECT_ROOT, "--app-dir", help="Directory `reflex run` runs in (a copy lets two servers build side by side)."
    ),
) -> None:
    """Run the app: database, migrations, demo data, then the web server on one port."""
    t_start = time.monotonic()
    updates: dict = {}
    if port is not None:
        updates["port"] = port
    if demo_seed is not None:
        updates["demo_seed"] = demo_seed
    if var_dir is not None:
        updates["var_dir"] = var_dir.resolve()
    settings = get_settings().model_copy(update=updates)
    app_dir = app_dir.resolve()

    check_workers(settings)
    if not (app_dir / "rxconfig.py").exists():
        _fail(f"{app_dir} has no rxconfig.py")
    if not _port_is_free(settings.port):
        _fail(f"port {settings.port} is already in use (is another `medspa serve` running?). Use PORT=... or --port.")
    if not (TOOLS_BIN / "bun").exists():
        _fail(f"bun is missing: run `npm i --prefix tools bun@1.4.4` (or `make run`).")

    # signals: from here on Ctrl-C unwinds through the finally blocks below
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_stop)

    db: Database | None = None
    proc: subprocess.Popen | None = None
    rc = 0
    try:
        db = open_database(settings)
        _migrate(db)
        seeded_demo = False
        if settings.demo_seed:
            if _count_organizations(settings, db) == 0:
                seeded_demo = _run_seed(settings, db)
            else:
                seeded_demo = _count_organizations(settings, db, DEMO_SLUG) > 0
        _dispose_engines(settings, db)

        export_env(**reflex_env(settings, db))
        cmd = [
            sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
            "--frontend-port", str(settings.port), "--backend-port", str(settings.port),
        ]  # fmt: skip
        _say(f"Building and starting the web app on port {settings.port} (the frontend build takes a while) ...")
        proc = subprocess.Popen(cmd, cwd=app_dir, start_new_session=True)
        waiter = threading.Thread(
            target=_wait_ready,
            args=(settings.port, proc, lambda: _banner(settings, db, seeded_demo, time.monotonic() - t_start)),
            daemon=True,
        )
        waiter.start()
        rc = proc.wait()
        if rc:
            _say(f"medspa: the web server exited with status {rc}", err=True)
    except (_Stop, KeyboardInterrupt) as stop:
        _say(f"\nStopping ({stop or 'interrupt'}) ...")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if proc is not None and proc.poll() is None:
            _stop_group(proc)
        if db is not None:
            db.close()
    raise typer.Exit(rc)


# --------------------------------------------------------------------------- db / seed


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations (starts and stops the embedded server if needed)."""
    settings = get_settings()
    db = open_database(settings)
    try:
        _migrate(db)
    finally:
        db.close()


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL in VAR_DIR/pg (if it runs)."""
    settings = get_settings()
    if not _embedded_running(settings.var_dir):
        _say("The embedded PostgreSQL is not running.")
        return
    from medspa.embedded_db import stop_server

    stop_server(settings.var_dir)
    _say("Embedded PostgreSQL stopped.")


@app.command()
def seed(
    scale: str = typer.Option("demo", "--scale", help="demo: the demo clinic; large: 'Lumière Group' "
                              "(slug large), ~1,000,000 appointments over ~3 years, for performance work."),
) -> None:
    """Load the demo clinic, or with --scale large the large synthetic clinic (migrates first;
    skips when that clinic exists)."""
    if scale not in ("demo", "large"):
        _fail(f"--scale must be demo or large (got {scale!r})")
    settings = get_settings()
    db = open_database(settings)
    try:
        _migrate(db)
        if scale == "large":
            _seed_large(settings, db)
        elif _count_organizations(settings, db, DEMO_SLUG):
            _say(f"The demo clinic ('{DEMO_SLUG}') is already there; nothing to do.")
        elif _run_seed(settings, db):
            _say("Demo logins:")
            for role, email, password in demo_logins():
                _say(f"  {role:<15} {email:<24} {password}")
        _dispose_engines(settings, db)
    finally:
        db.close()


def _seed_large(settings: Settings, db: Database) -> None:
    """`medspa seed --scale large`: the large clinic at the app clock's now, with progress and row counts."""
    from medspa.clock import app_clock
    from medspa.db import get_engine, get_owner_engine
    from medspa.demo.large import LARGE_SLUG, seed_large

    if _count_organizations(settings, db, LARGE_SLUG):
        _say(f"The large clinic ('{LARGE_SLUG}') is already there; nothing to do.")
        return
    url_settings = _with_urls(settings, db)
    engine, owner_engine = get_engine(url_settings), get_owner_engine(url_settings)
    _say("Loading the large clinic (about 1,000,000 appointments; a few minutes) ...")
    t0 = time.monotonic()

    def progress(label: str, fraction: float) -> None:
        _say(f"  [{fraction * 100:3.0f}%] {time.monotonic() - t0:6.1f} s  {label}")

    try:
        _, counts = seed_large(engine, owner_engine, now=app_clock().now(), progress=progress)
    finally:
        engine.dispose()
        owner_engine.dispose()
    _say(f"Large clinic loaded in {time.monotonic() - t0:.0f} s:")
    for table, n in counts.items():
        _say(f"  {table:<15} {n:>10,}")
    _say(f"Logins: owner@{LARGE_SLUG}.clinic / large-owner-2026, manager@{LARGE_SLUG}.clinic / large-manager-2026 "
         "(two-factor is set up at the first sign-in)")


def current_demo_code(engine, email: str, *, now, settings: Settings, slug: str = DEMO_SLUG) -> tuple[str, int]:
    """(the current TOTP code, seconds it stays current) of a demo clinic account.

    Only accounts of the clinic with slug `demo`, with two-factor set up; raises ValueError
    with the reason otherwise (another clinic's account is refused like an unknown one)."""
    import pyotp
    from sqlalchemy import text
    from sqlmodel import select

    from medspa.db import tenant_session
    from medspa.domain.identity.accounts import TOTP_STEP_SECONDS
    from medspa.domain.identity.models import UserAccount
    from medspa.domain.identity.secretbox import unseal

    email = email.strip().lower()
    from medspa.domain.errors import NotFound
    from medspa.domain.practice.service import organization_by_slug

    with tenant_session(None, engine) as s:
        org_id = s.execute(text("select medspa_org_for_login(:v)"), {"v": email}).scalar()
        try:
            demo_id = organization_by_slug(s, slug).id
        except NotFound:
            demo_id = None
    if org_id is None or org_id != demo_id:
        raise ValueError(f"{email} is not an account of the demo clinic ('{slug}'); "
                         "demo-code only works for the demo logins")
    with tenant_session(org_id, engine) as s:
        user = s.exec(select(UserAccount).where(UserAccount.email == email)).first()
        if user is None or not user.active or not user.totp_secret_enc or user.totp_confirmed_at is None:
            raise ValueError(f"{email} has no two-factor sign-in set up (it signs in with the password only)")
        secret = unseal(user.totp_secret_enc, settings)
    totp = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS)
    left = TOTP_STEP_SECONDS - int(now.timestamp()) % TOTP_STEP_SECONDS
    return totp.at(now), left


@app.command("demo-code")
def demo_code(
    email: str = typer.Argument(..., help="A demo login, e.g. owner@demo.clinic."),
    var_dir: Optional[Path] = typer.Option(None, "--var-dir", help="As given to `medspa serve` (default: VAR_DIR or ./var)."),
) -> None:
    """Print the current 6-digit sign-in code of a demo account (demo clinic only)."""
    updates = {"var_dir": var_dir.resolve()} if var_dir is not None else {}
    settings = get_settings().model_copy(update=updates)
    from medspa.clock import app_clock
    from medspa.db import get_engine

    db = open_database(settings)
    try:
        engine = get_engine(_with_urls(settings, db))
        try:
            code, left = current_demo_code(engine, email, now=app_clock().now(), settings=settings)
        except ValueError as exc:
            _fail(str(exc))
        finally:
            engine.dispose()
    finally:
        db.close()
    _say(code)
    _say(f"(valid for about {left} more seconds; each code signs in once)", err=True)


@app.command("outbox")
def outbox(
    limit: int = typer.Option(10, "--limit", help="Messages per clinic, newest first."),
    clinic: str = typer.Option("", "--clinic", help="Only this clinic's slug (default: every clinic)."),
    var_dir: Optional[Path] = typer.Option(None, "--var-dir", help="As given to `medspa serve` (default: VAR_DIR or ./var)."),
) -> None:
    """Print the newest outbox messages (nothing is mailed from a laptop): portal codes,
    password-reset links, confirmations and receipts."""
    updates = {"var_dir": var_dir.resolve()} if var_dir is not None else {}
    settings = get_settings().model_copy(update=updates)
    from medspa.db import get_engine, tenant_session
    from medspa.domain.identity.actor import Actor
    from medspa.domain.messaging.service import list_outbox
    from medspa.domain.practice.service import list_clinics

    db = open_database(settings)
    try:
        engine = get_engine(_with_urls(settings, db))
        with tenant_session(None, engine) as s:
            clinics = [(slug, name) for slug, name in list_clinics(s, limit=1000) if not clinic or slug == clinic]
        from medspa.domain.practice.service import organization_by_slug

        for slug, name in clinics:
            with tenant_session(None, engine) as s:
                org_id = organization_by_slug(s, slug).id
            with tenant_session(org_id, engine) as s:
                messages = list_outbox(s, Actor.system(org_id, "medspa outbox"), limit=limit)
            _say(f"== {name} ({slug}): {len(messages)} newest")
            for m in messages:
                _say(f"-- {m.created_at:%Y-%m-%d %H:%M}Z {m.channel} {m.kind} to {m.to_address}"
                     + (f" | {m.subject}" if m.subject else ""))
                _say("   " + m.body.replace("\n", "\n   "))
        engine.dispose()
    finally:
        db.close()


if __name__ == "__main__":
    app()
