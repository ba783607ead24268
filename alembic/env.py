"""Alembic environment: migrations run as the schema owner (DATABASE_OWNER_URL)."""

from __future__ import annotations

from urllib.parse import urlparse

from alembic import context
from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel

import medspa.domain.models  # noqa: F401  (fills SQLModel.metadata)
from medspa.db import resolve_urls, to_sqlalchemy_url
from medspa.settings import get_settings

config = context.config
target_metadata = SQLModel.metadata


def _urls() -> tuple[str, str]:
    given = config.attributes.get("urls")
    return given if given else resolve_urls(get_settings())


def run_migrations_online() -> None:
    app_url, owner_url = _urls()
    # the app role receives grants; its name comes from the app URL
    config.attributes.setdefault("app_role", urlparse(app_url).username or "medspa_app")
    engine = create_engine(to_sqlalchemy_url(owner_url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
