"""client portal: client accounts, one-time sign-in codes, client sessions

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000
"""
from typing import Sequence, Union

from alembic import op

from medspa.tenancy import protect_tenant_table
import sqlalchemy as sa

revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NEW_TABLES = ("client_account", "portal_code", "portal_session")


def _base(name: str, *columns: sa.Column, client_nullable: bool = False) -> None:
    op.create_table(name,
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.Column('client_id', sa.BigInteger(), nullable=client_nullable),
    *columns,
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f(f'ix_{name}_org_id'), name, ['org_id'], unique=False)
    op.create_index(op.f(f'ix_{name}_client_id'), name, ['client_id'], unique=False)


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")

    _base('client_account',
          sa.Column('email', sa.String(length=320), nullable=False),
          sa.Column('verified_at', sa.DateTime(timezone=True), nullable=False),
          sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
          sa.UniqueConstraint('org_id', 'client_id', name='uq_client_account_client'))
    _base('portal_code',
          sa.Column('email', sa.String(length=320), nullable=False),
          sa.Column('salt', sa.String(length=32), nullable=False),
          sa.Column('code_hash', sa.String(length=64), nullable=False),
          sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
          sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
          sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
          sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
          client_nullable=True)
    op.create_index(op.f('ix_portal_code_email'), 'portal_code', ['org_id', 'email', 'created_at'], unique=False)
    op.execute("alter table portal_code add constraint portal_code_attempts_valid check (attempts between 0 and 5)")
    _base('portal_session',
          sa.Column('token_hash', sa.String(length=64), nullable=False),
          sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
          sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
          sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
          sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
          sa.UniqueConstraint('token_hash'))

    # tenant isolation like every other tenant table (fails closed without app.org_id);
    # the portal URL names the clinic, so no cross-clinic lookup function is needed
    for table in NEW_TABLES:
        protect_tenant_table(op, table, app_role)


def downgrade() -> None:
    op.drop_index(op.f('ix_portal_code_email'), table_name='portal_code')
    for table in reversed(NEW_TABLES):
        op.drop_index(op.f(f'ix_{table}_client_id'), table_name=table)
        op.drop_index(op.f(f'ix_{table}_org_id'), table_name=table)
        op.drop_table(table)
