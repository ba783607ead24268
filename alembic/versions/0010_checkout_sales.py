"""checkout sales: the processing fee on a payment, one sale per visit.

- payment.fee_cents (integer cents, default 0): the gateway's processing fee of a succeeded
  charge (ChargeResult.fee_cents);
- uq_ledger_sale_once: a unique partial index on ledger_entry(appointment_id) WHERE
  entry_type = 'sale', so a visit is checked out at most once whatever the writer.

Revision ID: 0010
Revises: 0009
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('payment', sa.Column('fee_cents', sa.Integer(), nullable=False, server_default='0'))
    op.create_index('uq_ledger_sale_once', 'ledger_entry', ['appointment_id'], unique=True,
                    postgresql_where=sa.text("entry_type = 'sale'"))


def downgrade() -> None:
    op.drop_index('uq_ledger_sale_once', table_name='ledger_entry')
    op.drop_column('payment', 'fee_cents')
