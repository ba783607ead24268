"""audit trail search: newest-first per clinic (org_id, occurred_at, id)

The owner's audit search (medspa/domain/audit/query.py) filters by clinic and a local-day
range and orders by occurred_at desc, id desc: a backward scan of this index serves it
without sorting the clinic's whole trail.

Revision ID: 0006
Revises: 0005
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0006"
down_revision: Union[str, None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("create index if not exists ix_audit_event_org_occurred on audit_event (org_id, occurred_at, id)")


def downgrade() -> None:
    op.execute("drop index if exists ix_audit_event_org_occurred")
