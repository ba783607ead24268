"""Locations: opening hours per weekday and closures (issue 13, settings: locations).

location_hours: opening intervals per weekday (local wall times); a location without rows
keeps the old behaviour (open whenever its providers work). location_closure: closed dates
(start_date..end_date inclusive) with a reason. Availability honours both.

Revision ID: 0025
Revises: 0024
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from medspa.tenancy import protect_tenant_table

revision: str = '0025'
down_revision: Union[str, None] = '0024'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.create_table(
        'location_hours',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('location_id', sa.BigInteger(), sa.ForeignKey('location.id'), nullable=False),
        sa.Column('weekday', sa.SmallInteger(), nullable=False),
        sa.Column('start_time', sa.Time(), nullable=False),
        sa.Column('end_time', sa.Time(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint('weekday between 0 and 6', name='ck_location_hours_weekday'),
        sa.CheckConstraint('end_time > start_time', name='ck_location_hours_order'),
    )
    op.create_index('ix_location_hours_org_id', 'location_hours', ['org_id'])
    op.create_index('ix_location_hours_location_id', 'location_hours', ['location_id'])
    protect_tenant_table(op, 'location_hours', app_role)
    op.create_table(
        'location_closure',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('location_id', sa.BigInteger(), sa.ForeignKey('location.id'), nullable=False),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('end_date', sa.Date(), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint('end_date >= start_date', name='ck_location_closure_order'),
    )
    op.create_index('ix_location_closure_org_id', 'location_closure', ['org_id'])
    op.create_index('ix_location_closure_location_id', 'location_closure', ['location_id'])
    protect_tenant_table(op, 'location_closure', app_role)


def downgrade() -> None:
    op.drop_table('location_closure')
    op.drop_table('location_hours')
