"""Enforced slow-down after repeated failed sign-ins (user_account.throttled_until).

Revision ID: 0007
Revises: 0006
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: Union[str, None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("user_account", sa.Column("throttled_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("user_account", "throttled_until")
