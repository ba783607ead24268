"""calendar watch: the open staff calendar tabs the live-update listeners push to

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:00:00.000000
"""
from typing import Sequence, Union

from alembic import op

from medspa.tenancy import protect_tenant_table
import sqlalchemy as sa
import sqlmodel

revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.create_table('calendar_watch',
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.Column('client_token', sa.String(length=64), nullable=False),
    sa.Column('instance_id', sa.String(length=64), nullable=False),
    sa.Column('location_id', sa.BigInteger(), nullable=False),
    sa.Column('day_from', sa.Date(), nullable=False),
    sa.Column('day_to', sa.Date(), nullable=False),
    sa.Column('view', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('org_id', 'client_token', name='pk_calendar_watch')
    )
    op.create_index(op.f('ix_calendar_watch_org_id'), 'calendar_watch', ['org_id'], unique=False)
    op.create_index('ix_calendar_watch_location', 'calendar_watch', ['org_id', 'location_id'], unique=False)
    # tenant isolation like every other tenant table (fails closed without app.org_id)
    op.execute("alter table calendar_watch add constraint calendar_watch_days_ordered check (day_to >= day_from)")
    protect_tenant_table(op, "calendar_watch", app_role, sequence=False)


def downgrade() -> None:
    op.drop_index('ix_calendar_watch_location', table_name='calendar_watch')
    op.drop_index(op.f('ix_calendar_watch_org_id'), table_name='calendar_watch')
    op.drop_table('calendar_watch')
