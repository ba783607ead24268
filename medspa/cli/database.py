"""`medspa db upgrade`, `medspa db stop` and `medspa seed`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from medspa.cli.common import database, fail, say, settings_for, var_dir_option
from medspa.ops import OpsError
from medspa.ops import database as ops_db
from medspa.ops import seed as ops_seed


def db_upgrade(var_dir: Optional[Path] = var_dir_option()) -> None:
    """Apply all migrations (starts and stops the embedded server if needed)."""
    with database(settings_for(var_dir), create=True) as db:
        say(f"Database schema is up to date ({ops_db.migrate(db):.1f} s)")


def db_stop(var_dir: Optional[Path] = var_dir_option()) -> None:
    """Stop the embedded PostgreSQL in VAR_DIR/pg (if it runs)."""
    try:
        stopped = ops_db.stop_embedded(settings_for(var_dir).var_dir)
    except OpsError as exc:
        fail(str(exc))
    say("Embedded PostgreSQL stopped." if stopped else "The embedded PostgreSQL is not running.")


def seed(
    scale: str = typer.Option("demo", "--scale", help="demo: the demo clinic; large: 'Lumière Group' "
                              "(slug large), ~1,000,000 appointments over ~3 years, for performance work."),
    var_dir: Optional[Path] = var_dir_option(),
) -> None:
    """Load the demo clinic, or with --scale large the large synthetic clinic (migrates first;
    skips when that clinic exists)."""
    if scale not in ("demo", "large"):
        fail(f"--scale must be demo or large (got {scale!r})")
    settings = settings_for(var_dir)
    with database(settings, create=True) as db:
        say(f"Database schema is up to date ({ops_db.migrate(db):.1f} s)")
        if scale == "large":
            ops_seed.seed_large(settings, db, say)
        elif ops_seed.demo_present(settings, db):
            say(f"The demo clinic ('{ops_seed.DEMO_SLUG}') is already there; nothing to do.")
        elif ops_seed.run_seed(settings, db, say):
            say("Demo logins:")
            for role, email, password in ops_seed.demo_logins():
                say(f"  {role:<15} {email:<24} {password}")
        ops_db.dispose_engines(settings, db)
