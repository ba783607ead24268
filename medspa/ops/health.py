"""The health route's database check (`GET /api/v1/health`)."""

from __future__ import annotations

import logging

from medspa.settings import Settings

log = logging.getLogger(__name__)


def database_problem(settings: Settings) -> str | None:
    """None when `select 1` answers, else a short reason."""
    if settings.uses_embedded_db:
        # workers never start a database: `medspa serve` hands them DATABASE_URL
        return "DATABASE_URL is not set (start the app with `medspa serve`)"
    try:
        from sqlalchemy import text

        from medspa.db import get_engine

        with get_engine(settings).connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        log.warning("health check: database unreachable: %s", exc)
        return type(exc).__name__
    return None


def dispose_app_engine() -> None:
    """Dispose the cached app-role engine's pool (a web worker stopping)."""
    from medspa.db import get_engine

    get_engine().dispose()
