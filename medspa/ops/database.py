"""Which database a command uses: the external one of DATABASE_URL, else the embedded
PostgreSQL in VAR_DIR/pg (started here when it is not running, and then stopped again by
`Database.close`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from medspa.ops import OpsError
from medspa.settings import Settings

Say = Callable[[str], None]


def _quiet(message: str) -> None:
    pass


@dataclass
class Database:
    """URLs of the database this command uses and whether this process started it."""

    app_url: str
    owner_url: str
    var_dir: Path
    started_here: bool = False

    def close(self, say: Say = _quiet) -> None:
        """Stop the embedded server if (and only if) this process started it."""
        if self.started_here:
            from medspa.embedded_db import stop_server

            say("Stopping the embedded PostgreSQL ...")
            stop_server(self.var_dir)
            self.started_here = False

    def settings(self, settings: Settings) -> Settings:
        """`settings` with this database's URLs."""
        return settings.model_copy(update={"database_url": self.app_url, "database_owner_url": self.owner_url})


def embedded_exists(var_dir: Path) -> bool:
    """True when var_dir/pg holds an initialised PostgreSQL data directory."""
    return (var_dir / "pg" / "PG_VERSION").is_file()


def embedded_running(var_dir: Path) -> bool:
    """True when var_dir/pg has a live postmaster (its pid file names a running process)."""
    from medspa.embedded_db import server_running

    return server_running(var_dir)


def no_database_message(var_dir: Path) -> str:
    """The error text when var_dir/pg holds no database, naming the commands that create one."""
    return (f"no database in {var_dir / 'pg'}: start the app once (`medspa serve --var-dir {var_dir}`) "
            "or run `medspa db upgrade` there first")


def open_database(settings: Settings, *, create: bool = True, say: Say = _quiet) -> Database:
    """External database from DATABASE_URL, else the embedded one in var_dir/pg.

    With create=False an embedded database that is not there yet is not made: OpsError
    (a command that reads the database has nothing to read)."""
    if settings.database_url:
        return Database(settings.database_url, settings.database_owner_url or settings.database_url,
                        settings.var_dir)
    if not create and not embedded_exists(settings.var_dir):
        raise OpsError(no_database_message(settings.var_dir))
    from medspa.embedded_db import ensure_embedded

    was_running = embedded_running(settings.var_dir)
    t0 = time.monotonic()
    app_url, owner_url = ensure_embedded(settings.var_dir)
    if not was_running:
        say(f"Embedded PostgreSQL started in {settings.var_dir / 'pg'} ({time.monotonic() - t0:.1f} s)")
    return Database(app_url, owner_url, settings.var_dir, started_here=not was_running)


def stop_embedded(var_dir: Path) -> bool:
    """Stop the embedded PostgreSQL in var_dir/pg; False when it was not running.
    OpsError when there is no database there at all."""
    if not embedded_exists(var_dir):
        raise OpsError(f"no embedded database in {var_dir / 'pg'}")
    if not embedded_running(var_dir):
        return False
    from medspa.embedded_db import stop_server

    stop_server(var_dir)
    return True


def migrate(db: Database) -> float:
    """Apply all migrations; returns the seconds it took."""
    from medspa import migrate as alembic_migrate

    t0 = time.monotonic()
    alembic_migrate.upgrade(db.app_url, db.owner_url)
    return time.monotonic() - t0


def count_organizations(settings: Settings, db: Database, slug: str | None = None) -> int:
    """Clinics in the database (only the one with `slug` when given)."""
    from sqlalchemy import text

    from medspa.db import get_owner_engine

    engine = get_owner_engine(db.settings(settings))
    sql = "select count(*) from organization" + (" where slug = :slug" if slug else "")
    with engine.connect() as conn:
        return int(conn.execute(text(sql), {"slug": slug} if slug else {}).scalar_one())


def require_schema(settings: Settings, db: Database) -> None:
    """OpsError when the database has no tables yet (never migrated)."""
    from sqlalchemy import text

    from medspa.db import get_engine

    with get_engine(db.settings(settings)).connect() as conn:
        if conn.execute(text("select to_regclass('public.organization')")).scalar() is None:
            raise OpsError("the database has no tables yet: run `medspa db upgrade` (or `medspa serve`) first")


def dispose_engines(settings: Settings, db: Database) -> None:
    """Close pooled connections this process opened (before it waits on the web server)."""
    from medspa.db import get_engine, get_owner_engine

    url_settings = db.settings(settings)
    get_engine(url_settings).dispose()
    get_owner_engine(url_settings).dispose()
