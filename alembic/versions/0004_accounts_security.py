"""accounts security: two-factor (TOTP + recovery codes), login challenges, lockout, password reset

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:00:00.000000
"""
from typing import Sequence, Union

from alembic import op

from medspa.tenancy import protect_tenant_table
import sqlalchemy as sa
import sqlmodel

revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NEW_TABLES = ("user_recovery_code", "login_challenge", "password_reset_token")


def _token_table(name: str, *extra: sa.Column) -> None:
    op.create_table(name,
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    *extra,
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f(f'ix_{name}_org_id'), name, ['org_id'], unique=False)
    op.create_index(op.f(f'ix_{name}_user_id'), name, ['user_id'], unique=False)


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    owner = op.get_bind().execute(sa.text("select current_user")).scalar()

    op.add_column('user_account', sa.Column('require_2fa', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('user_account', sa.Column('totp_secret_enc', sa.Text(), nullable=True))
    op.add_column('user_account', sa.Column('totp_confirmed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('user_account', sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    op.add_column('user_account', sa.Column('failed_login_count', sa.Integer(), server_default='0', nullable=False))
    op.add_column('user_account', sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    op.add_column('user_account', sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('user_account', sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("alter table user_account add constraint user_failed_logins_valid check (failed_login_count >= 0)")

    _token_table('user_recovery_code', sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False))
    _token_table('login_challenge',
                 sa.Column('token_hash', sa.String(length=64), nullable=False),
                 sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
                 sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
                 sa.UniqueConstraint('token_hash'))
    _token_table('password_reset_token',
                 sa.Column('token_hash', sa.String(length=64), nullable=False),
                 sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
                 sa.UniqueConstraint('token_hash'))
    op.execute("alter table login_challenge add constraint login_challenge_purpose_valid "
               "check (purpose in ('totp','enrol'))")

    # tenant isolation like every other tenant table (fails closed without app.org_id)
    for table in NEW_TABLES:
        protect_tenant_table(op, table, app_role)
    # the second sign-in step and the reset link find their clinic before any org is set,
    # like medspa_org_for_session: SECURITY DEFINER functions of the schema owner
    for table in ("login_challenge", "password_reset_token"):
        op.execute(f'create policy owner_lookup on {table} for select to "{owner}" using (true)')
    op.execute("""
        create or replace function medspa_org_for_challenge(p_token_hash text) returns bigint
          language sql stable security definer set search_path = public as
          $$ select org_id from login_challenge where token_hash = p_token_hash and used_at is null $$;
        create or replace function medspa_org_for_reset(p_token_hash text) returns bigint
          language sql stable security definer set search_path = public as
          $$ select org_id from password_reset_token where token_hash = p_token_hash and used_at is null $$;
    """)
    op.execute(f'grant execute on function medspa_org_for_challenge(text), medspa_org_for_reset(text) to "{app_role}"')


def downgrade() -> None:
    for fn in ('medspa_org_for_challenge(text)', 'medspa_org_for_reset(text)'):
        op.execute(f'drop function if exists {fn}')
    for table in reversed(NEW_TABLES):
        op.drop_index(op.f(f'ix_{table}_user_id'), table_name=table)
        op.drop_index(op.f(f'ix_{table}_org_id'), table_name=table)
        op.drop_table(table)
    op.execute("alter table user_account drop constraint if exists user_failed_logins_valid")
    for column in ('deactivated_at', 'password_changed_at', 'locked_until', 'failed_login_count', 'totp_last_step',
                   'totp_confirmed_at', 'totp_secret_enc', 'require_2fa'):
        op.drop_column('user_account', column)
