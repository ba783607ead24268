"""What a process needs before it runs a job worker (`medspa worker`, `medspa serve`'s
in-process worker): a database with the job queue, and this process's domain actions
pointed at it. medspa.jobs may not import medspa.db (rule 2), so the check and the app
role's URL come from here."""

from __future__ import annotations

from medspa.ops import OpsError
from medspa.ops.database import Database
from medspa.settings import Settings, export_env, get_settings


def require_job_queue(settings: Settings, db: Database) -> None:
    """OpsError when the database has no job queue tables (migration 0016 not applied)."""
    from sqlalchemy import text

    from medspa.db import get_engine

    with get_engine(db.settings(settings)).connect() as conn:
        if conn.execute(text("select to_regclass('procrastinate_jobs')")).scalar() is None:
            raise OpsError("the database has no job queue yet: run `medspa db upgrade` (or `medspa serve`) first")


def bind_worker_database(settings: Settings, db: Database) -> str:
    """Point this process at `db` for its jobs and return the app role's URL for the queue.

    Tasks call domain actions without an engine, i.e. on the process-wide settings: they
    get DATABASE_URL = the app role's URL (never the owner's: least privilege, as the web
    workers) and VAR_DIR, and the cached settings are dropped so the next read sees them."""
    require_job_queue(settings, db)
    export_env(DATABASE_URL=db.app_url, DATABASE_OWNER_URL="", VAR_DIR=str(settings.var_dir.resolve()))
    get_settings.cache_clear()
    return db.app_url
