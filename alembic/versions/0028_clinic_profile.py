"""The clinic's own settings (issue 13, /settings Clinic tab): name, currency, country, public
listing and logo.

- organization.listed: the landing page lists the clinic (false by default; its booking link
  works either way). organization.logo_version: the id of its clinic_logo row (NULL: none; every
  upload is a new row, so ids are never reused), so the landing page and the booking page can
  build a cache-busting URL without reading the bytes.
- The app role may now UPDATE name, currency, country, listed and logo_version of its OWN
  organization only: column grants plus row-level security on organization (enabled, not
  forced: the schema owner and medspa_create_clinic are unaffected) with a select policy open
  to everyone (slugs and names are public: the booking page resolves them anonymously) and an
  update policy keyed on medspa_current_org(). Insert and delete stay revoked.
- clinic_logo (tenant table, one row per clinic): the re-encoded logo bytes, content type,
  pixel size; served publicly by GET /clinics/{slug}/logo.
- organization changes notify calendar_changed "<org>:0" (migration 0027 pattern) so open
  calendars pick up a renamed clinic.

Revision ID: 0028
Revises: 0027
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from medspa.tenancy import protect_tenant_table

revision: str = '0028'
down_revision: Union[str, None] = '0027'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.add_column('organization', sa.Column('listed', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('organization', sa.Column('logo_version', sa.BigInteger(), nullable=True))
    op.execute("""
        alter table organization enable row level security;
        create policy organization_public_read on organization for select using (true);
        create policy organization_own_update on organization for update
          using (id = medspa_current_org()) with check (id = medspa_current_org());
    """)
    op.execute(f'grant update (name, currency, country, listed, logo_version) on organization to "{app_role}"')
    op.create_table(
        'clinic_logo',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('content_type', sa.String(length=32), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', name='uq_clinic_logo_org'),
        sa.CheckConstraint('octet_length(data) <= 1048576', name='ck_clinic_logo_size'),
    )
    op.create_index('ix_clinic_logo_org_id', 'clinic_logo', ['org_id'])
    protect_tenant_table(op, 'clinic_logo', app_role)
    op.execute("""
        create or replace function medspa_notify_organization() returns trigger language plpgsql as $$
        begin
          perform pg_notify('calendar_changed', new.id::text || ':' || '0');
          return null;
        end $$;
        create trigger organization_notify_calendar after update on organization
          for each row when (old.name is distinct from new.name) execute function medspa_notify_organization();
    """)


def downgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.execute("drop trigger if exists organization_notify_calendar on organization")
    op.execute("drop function if exists medspa_notify_organization()")
    op.drop_table('clinic_logo')
    op.execute(f'revoke update on organization from "{app_role}"')
    op.execute("""
        drop policy if exists organization_own_update on organization;
        drop policy if exists organization_public_read on organization;
        alter table organization disable row level security;
    """)
    op.drop_column('organization', 'logo_version')
    op.drop_column('organization', 'listed')
