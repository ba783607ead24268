"""A real clinic moves in (issue 13, part 1): the one-time set-up token, staff invitations and
the clinic's country.

organization.country: ISO 3166 alpha-2 ("" for clinics made before), the default region of
phone numbers.

setup_token (NOT a tenant table: it exists before any clinic): the one-time link `medspa
serve` prints on an empty database. Only the SHA-256 of the token is stored, with its expiry,
when it was spent and the clinic it made (clinic_id: not org_id, which names tenant rows).
The app role has no privilege on it at all: it reaches it only through two SECURITY DEFINER
functions, so a web worker can check a link (medspa_setup_token_open) and create a clinic
with it (medspa_create_clinic: the app role cannot insert organizations otherwise), and
nothing else. Kept in the database rather than in
var/ because web workers on other machines (DATABASE_URL) share the database, not var/, and
because spending the token and creating the clinic must be one transaction.

invitation (a tenant table, row-level security like every other): an emailed single-use link
that makes a staff account: email, name, role, title, SHA-256 of the token, who invited
(NULL: the set-up link or the CLI), created / expires / accepted / revoked, and the account
it made. One pending invitation per address and clinic (uq_invitation_pending).
medspa_org_for_invitation finds a link's clinic before any tenant row is read, like the
reset link's medspa_org_for_reset; medspa_email_taken says whether any staff account (any
clinic, active or not) already uses an address (email is unique across clinics).

Revision ID: 0023
Revises: 0022
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from medspa.tenancy import protect_tenant_table

revision: str = '0023'
down_revision: Union[str, None] = '0022'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

FUNCTIONS = ("medspa_setup_token_open(text, timestamptz)",
             "medspa_create_clinic(text, timestamptz, text, text, text, text)",
             "medspa_org_for_invitation(text)", "medspa_email_taken(text)")


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    owner = op.get_bind().execute(sa.text("select current_user")).scalar()
    op.add_column('organization', sa.Column('country', sa.String(length=2), nullable=False, server_default=''))
    op.create_table(
        'setup_token',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('clinic_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.execute(f'revoke all on setup_token from "{app_role}"')
    op.create_table(
        'invitation',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('display_name', sa.String(length=200), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False, server_default=''),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('invited_by', sa.BigInteger(), sa.ForeignKey('user_account.id'), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('user_id', sa.BigInteger(), sa.ForeignKey('user_account.id'), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
        sa.CheckConstraint("role in ('owner','manager','provider','front_desk','lab')", name='invitation_role_valid'),
    )
    op.create_index('ix_invitation_org_id', 'invitation', ['org_id'])
    op.create_index('uq_invitation_pending', 'invitation', ['org_id', 'email'], unique=True,
                    postgresql_where=sa.text('accepted_at is null and revoked_at is null'))
    protect_tenant_table(op, 'invitation', app_role)
    op.execute(f'create policy owner_lookup on invitation for select to "{owner}" using (true)')
    op.execute("""
        create or replace function medspa_setup_token_open(p_token_hash text, p_now timestamptz) returns boolean
          language sql stable security definer set search_path = public as
          $$ select exists(select 1 from setup_token where token_hash = p_token_hash and used_at is null
                           and expires_at > p_now) $$;

        -- spend an open set-up token and create its clinic in the caller's transaction; NULL
        -- when the token is unknown, spent or expired (a slug taken raises unique_violation)
        create or replace function medspa_create_clinic(p_token_hash text, p_now timestamptz, p_slug text,
                                                        p_name text, p_currency text, p_country text) returns bigint
          language plpgsql volatile security definer set search_path = public as $$
          declare v_token bigint; v_org bigint;
          begin
            select id into v_token from setup_token where token_hash = p_token_hash and used_at is null
              and expires_at > p_now for update;
            if v_token is null then return null; end if;
            insert into organization (slug, name, currency, country, created_at)
              values (p_slug, p_name, p_currency, p_country, p_now) returning id into v_org;
            update setup_token set used_at = p_now, clinic_id = v_org where id = v_token;
            return v_org;
          end $$;

        create or replace function medspa_org_for_invitation(p_token_hash text) returns bigint
          language sql stable security definer set search_path = public as
          $$ select org_id from invitation where token_hash = p_token_hash $$;

        create or replace function medspa_email_taken(p_email text) returns boolean
          language sql stable security definer set search_path = public as
          $$ select exists(select 1 from user_account where email = lower(p_email)) $$;
    """)
    for fn in FUNCTIONS:
        op.execute(f'revoke all on function {fn} from public')
        op.execute(f'grant execute on function {fn} to "{app_role}"')


def downgrade() -> None:
    for fn in FUNCTIONS:
        op.execute(f'drop function if exists {fn}')
    op.drop_table('invitation')
    op.drop_table('setup_token')
    op.drop_column('organization', 'country')
