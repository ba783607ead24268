"""Apply Alembic migrations programmatically (CLI, launcher, tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from medspa.settings import PROJECT_ROOT


def upgrade(app_url: str, owner_url: str, revision: str = "head") -> None:
    """Upgrade the schema at owner_url to `revision`, granting the app role of app_url."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["urls"] = (app_url, owner_url)
    command.upgrade(config, revision)
