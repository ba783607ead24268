"""One client record per email per clinic (concurrent first bookings raced into duplicates).

Revision ID: 0003
Revises: 0002
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0003"
down_revision: Union[str, None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("drop index if exists ix_client_email")
    op.execute("create unique index uq_client_email on client (org_id, lower(email)) where email is not null")


def downgrade() -> None:
    op.execute("drop index if exists uq_client_email")
    op.execute("create index ix_client_email on client (org_id, lower(email))")
