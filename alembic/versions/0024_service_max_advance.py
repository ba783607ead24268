"""Services: a maximum advance for online booking (issue 13, settings: services).

service.max_advance_days: how many days ahead a client may book this service online; NULL
means the clinic-wide online horizon (scheduling.service.ONLINE_HORIZON_DAYS, 365 days).
Staff bookings at the desk are not limited by it.

Revision ID: 0024
Revises: 0022 (re-chained after 0023 at merge)
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: Union[str, None] = '0023'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('service', sa.Column('max_advance_days', sa.Integer(), nullable=True))
    op.create_check_constraint('ck_service_max_advance_days', 'service',
                               'max_advance_days is null or max_advance_days > 0')


def downgrade() -> None:
    op.drop_constraint('ck_service_max_advance_days', 'service', type_='check')
    op.drop_column('service', 'max_advance_days')
