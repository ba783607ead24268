"""Providers' time off and extra shifts (issue 13, settings: provider hours).

staff_time_off (tenant table): a staff member away (kind 'off') or working outside the weekly
hours (kind 'extra') over [starts_at, ends_at). One table with a kind rather than two: both
are dated exceptions of the same shape to the weekly working_hours, listed, audited and read
by availability together. Time off with no location applies at every location; an extra
shift names its location (a check says so).

Revision ID: 0026
Revises: 0024 (re-chained at merge)
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from medspa.tenancy import protect_tenant_table

revision: str = '0026'
down_revision: Union[str, None] = '0025'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.create_table(
        'staff_time_off',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('staff_id', sa.BigInteger(), sa.ForeignKey('staff_member.id'), nullable=False),
        sa.Column('location_id', sa.BigInteger(), sa.ForeignKey('location.id'), nullable=True),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=200), server_default='', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint('ends_at > starts_at', name='ck_staff_time_off_span'),
        sa.CheckConstraint("kind in ('off', 'extra')", name='ck_staff_time_off_kind'),
        sa.CheckConstraint("kind = 'off' or location_id is not null", name='ck_staff_time_off_extra_location'),
    )
    op.create_index('ix_staff_time_off_org_id', 'staff_time_off', ['org_id'])
    op.create_index('ix_staff_time_off_staff_id', 'staff_time_off', ['staff_id'])
    op.create_index('ix_staff_time_off_location_id', 'staff_time_off', ['location_id'])
    op.create_index('ix_staff_time_off_span', 'staff_time_off', ['org_id', 'staff_id', 'ends_at'])
    protect_tenant_table(op, 'staff_time_off', app_role)


def downgrade() -> None:
    op.drop_table('staff_time_off')
