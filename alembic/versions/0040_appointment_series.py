"""Recurring series (issue 16, section 2).

appointment_series (tenant table): one recurring booking made at the desk: its RFC 5545
RRULE text (rrule, e.g. "FREQ=WEEKLY;INTERVAL=2;COUNT=6"), the first visit's local wall-clock
start (dtstart_local, a naive timestamp read in time_zone, the location's zone when booked),
client, service, provider and location, and the deposit rule it was booked under
(deposit_each_visit). A series split by "this and following" ends the old rule (UNTIL) and
starts a new row whose split_from_id names the old one.
appointment.series_id / series_index: the visit's series and its occurrence number (0 = the
first occurrence of the rule; a visit moved elsewhere keeps its number).
location.series_deposit_each_visit: a series takes the deposit for each visit, not only the
first (default: first only).

Revision ID: 0040
Revises: 0039
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from medspa.tenancy import protect_tenant_table

revision: str = '0040'
down_revision: Union[str, None] = '0039'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.create_table(
        'appointment_series',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('location_id', sa.BigInteger(), sa.ForeignKey('location.id'), nullable=False),
        sa.Column('service_id', sa.BigInteger(), sa.ForeignKey('service.id'), nullable=False),
        sa.Column('provider_id', sa.BigInteger(), sa.ForeignKey('staff_member.id'), nullable=False),
        sa.Column('client_id', sa.BigInteger(), sa.ForeignKey('client.id'), nullable=False),
        sa.Column('rrule', sa.String(length=200), nullable=False),
        sa.Column('dtstart_local', sa.DateTime(timezone=False), nullable=False),
        sa.Column('time_zone', sa.String(length=64), nullable=False),
        sa.Column('deposit_each_visit', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('split_from_id', sa.BigInteger(), sa.ForeignKey('appointment_series.id'), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_user_id', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_appointment_series_org_id', 'appointment_series', ['org_id'])
    op.create_index('ix_appointment_series_client_id', 'appointment_series', ['client_id'])
    protect_tenant_table(op, 'appointment_series', app_role)
    op.add_column('appointment', sa.Column('series_id', sa.BigInteger(), sa.ForeignKey('appointment_series.id'),
                                           nullable=True))
    op.add_column('appointment', sa.Column('series_index', sa.Integer(), nullable=True))
    op.create_index('ix_appointment_series_id', 'appointment', ['series_id'])
    op.add_column('location', sa.Column('series_deposit_each_visit', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('location', 'series_deposit_each_visit')
    op.drop_index('ix_appointment_series_id', 'appointment')
    op.drop_column('appointment', 'series_index')
    op.drop_column('appointment', 'series_id')
    op.drop_table('appointment_series')
