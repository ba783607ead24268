"""A location chooses whether a late cancellation keeps the deposit (issue 13).

location.late_cancel_keeps_deposit (default true: a cancellation inside the window keeps the
paid deposit, as before; false: it is refunded however late). appointment.
cancellation_keeps_deposit records what the policy decided when the visit was cancelled, so a
deposit whose payment settles later (reconciliation) follows the rule the client was told,
not a setting changed since (NULL on visits cancelled before: kept exactly when late,
which was the only rule then; payments.reconcile reads it so).

Revision ID: 0030
Revises: 0027 (re-chained at merge)
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0030'
down_revision: Union[str, None] = '0029'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('location', sa.Column('late_cancel_keeps_deposit', sa.Boolean(), nullable=False,
                                        server_default=sa.true()))
    op.add_column('appointment', sa.Column('cancellation_keeps_deposit', sa.Boolean(), nullable=True))


def downgrade() -> None:
    op.drop_column('appointment', 'cancellation_keeps_deposit')
    op.drop_column('location', 'late_cancel_keeps_deposit')
