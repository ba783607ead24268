"""Payments that are never lost (issue 11, part 1): a payment is recorded `pending` before the
gateway is called, and a reconciliation job settles every payment whose fate is open.

payment:
- status gains `pending` (committed with its idempotency key before the gateway call: the
  outcome is unknown until the gateway answers or reconciliation asks it) and `failed` (never
  charged: refused before charging, or the intent was canceled). The column has no check
  constraint (none before either); the values are payments.models.PaymentStatus.
- reconcile_after (timestamptz, NULL = settled): from when the reconciliation job may claim
  the payment; reconcile_attempts (integer, default 0): its back-off.
- ix_payment_unsettled (org_id, reconcile_after) WHERE reconcile_after IS NOT NULL: the job's
  claim reads only the few open payments, never the history.

Existing rows were written after the gateway answered: they keep reconcile_after NULL (settled),
except deposits still waiting for 3-D Secure, which get reconcile_after = created_at so the job
settles those whose webhook never came (row-level security is lifted for this one update:
the owner is subject to it only while it is forced).

Revision ID: 0019
Revises: 0018
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: Union[str, None] = '0018'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('payment', sa.Column('reconcile_after', sa.DateTime(timezone=True), nullable=True))
    op.add_column('payment', sa.Column('reconcile_attempts', sa.Integer(), nullable=False, server_default='0'))
    op.create_index('ix_payment_unsettled', 'payment', ['org_id', 'reconcile_after'],
                    postgresql_where=sa.text('reconcile_after is not null'))
    op.execute("alter table payment no force row level security")
    op.execute("update payment set reconcile_after = created_at "
               "where status = 'requires_action' and purpose = 'deposit'")
    op.execute("alter table payment force row level security")


def downgrade() -> None:
    op.drop_index('ix_payment_unsettled', table_name='payment')
    op.drop_column('payment', 'reconcile_attempts')
    op.drop_column('payment', 'reconcile_after')
