"""Engine and sessions.

Every tenant query runs in a transaction that first sets `app.org_id` (SET LOCAL via
set_config(..., true)); the row-level security policies read it and show no rows when it
is missing (fail closed). The app connects as a NOSUPERUSER NOBYPASSRLS role, so even a
query that forgets `WHERE org_id = ...` sees only the current clinic.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from medspa.settings import Settings, get_settings


def to_sqlalchemy_url(url: str) -> str:
    """Turn postgres:// or postgresql:// into the psycopg 3 SQLAlchemy URL."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    raise ValueError(f"not a PostgreSQL URL: {url!r}")


def resolve_urls(settings: Settings) -> tuple[str, str]:
    """(app_url, owner_url) for this process; starts the embedded server if none is set."""
    if settings.database_url:
        return settings.database_url, settings.database_owner_url or settings.database_url
    from medspa.embedded_db import ensure_embedded

    return ensure_embedded(settings.var_dir)


@lru_cache(maxsize=4)
def _engine_for(url: str, echo: bool) -> Engine:
    return create_engine(
        to_sqlalchemy_url(url), echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10
    )


def get_engine(settings: Settings | None = None) -> Engine:
    """The app-role engine (cached per URL)."""
    settings = settings or get_settings()
    app_url, _ = resolve_urls(settings)
    return _engine_for(app_url, settings.log_sql)


def get_owner_engine(settings: Settings | None = None) -> Engine:
    """The schema-owner engine: migrations, set-up and benches only."""
    settings = settings or get_settings()
    _, owner_url = resolve_urls(settings)
    return _engine_for(owner_url, False)


@event.listens_for(Session, "after_begin")
def _set_tenant(session: Session, transaction, connection) -> None:  # noqa: ANN001
    if transaction.nested:  # a savepoint inside the transaction, whose setting already holds
        return
    org_id = session.info.get("org_id")
    connection.execute(
        text("select set_config('app.org_id', :org, true)"),
        {"org": "" if org_id is None else str(int(org_id))},
    )


@contextmanager
def tenant_session(org_id: int | None, engine: Engine | None = None) -> Iterator[Session]:
    """A session whose every transaction is scoped to clinic `org_id`.

    With org_id None only non-tenant tables (organisation lookups) are visible.
    The caller commits; an exception rolls back.
    """
    session = Session(engine or get_engine(), expire_on_commit=False)
    session.info["org_id"] = org_id
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def set_session_org(session: Session, org_id: int) -> None:
    """Scope `session` to `org_id` from its next statement on (same transaction)."""
    session.info["org_id"] = org_id
    session.execute(text("select set_config('app.org_id', :org, true)"), {"org": str(int(org_id))})
