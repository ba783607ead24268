"""Signed, versioned consent (issue 17, section 2).

consent_template (tenant): a consent the clinic asks for, built-in key (neuromodulator, filler,
laser_ipl, peel, microneedling, general, photo_use), unique per clinic; created on first use
from the built-in texts (domain/clinical/consent.py ensure_templates).
consent_version (tenant): title + body of one version and the SHA-256 of the exact text shown;
editable in place until signed. A trigger refuses, once any signature names the version, an
UPDATE of its text (template_id, version, title, body, sha256) and any DELETE.
service_consent (tenant): a service's own choice for a template (required or not), overriding
the category default.
consent_signature (tenant, client-owned: listed in clients.merge.CLIENT_ROWS): append-only. A
trigger refuses DELETE and any UPDATE except a merge's move of client_id; the app role has no
DELETE grant either.

Revision ID: 0043
Revises: 0042
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from medspa.tenancy import protect_tenant_table

revision: str = '0043'
down_revision: Union[str, None] = '0042'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

GUARDS = """
create or replace function medspa_consent_version_guard() returns trigger language plpgsql as $$
begin
  if exists (select 1 from consent_signature where version_id = old.id) then
    if tg_op = 'DELETE' or new.template_id <> old.template_id or new.version <> old.version
        or new.title <> old.title or new.body <> old.body or new.sha256 <> old.sha256 then
      raise exception 'consent_version % is signed and read-only (% refused)', old.id, tg_op
        using errcode = '42501';
    end if;
  end if;
  if tg_op = 'DELETE' then return old; end if;
  return new;
end $$;
create trigger consent_version_signed_guard before update or delete on consent_version
  for each row execute function medspa_consent_version_guard();

create or replace function medspa_consent_signature_guard() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' or (to_jsonb(new) - 'client_id') is distinct from (to_jsonb(old) - 'client_id') then
    raise exception 'consent_signature % is append-only (% refused)', old.id, tg_op using errcode = '42501';
  end if;
  return new;
end $$;
create trigger consent_signature_append_only before update or delete on consent_signature
  for each row execute function medspa_consent_signature_guard();
create trigger consent_signature_no_truncate before truncate on consent_signature
  for each statement execute function medspa_consent_signature_guard();
"""


def _id_org():
    return [sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
            sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False)]


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.create_table(
        'consent_template', *_id_org(),
        sa.Column('key', sa.String(40), nullable=False),
        sa.Column('kind', sa.String(12), nullable=False, server_default='treatment'),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'key', name='uq_consent_template_key'),
        sa.CheckConstraint("kind in ('treatment', 'photo_use')", name='ck_consent_template_kind'),
    )
    op.create_index('ix_consent_template_org_id', 'consent_template', ['org_id'])
    protect_tenant_table(op, 'consent_template', app_role, privileges="select, insert, update")
    op.create_table(
        'consent_version', *_id_org(),
        sa.Column('template_id', sa.BigInteger(), sa.ForeignKey('consent_template.id'), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(120), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('edited_by', sa.String(200), nullable=False, server_default=''),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'template_id', 'version', name='uq_consent_version'),
        sa.CheckConstraint("version >= 1", name='ck_consent_version_number'),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name='ck_consent_version_sha256'),
    )
    op.create_index('ix_consent_version_org_id', 'consent_version', ['org_id'])
    op.create_index('ix_consent_version_template_id', 'consent_version', ['template_id'])
    protect_tenant_table(op, 'consent_version', app_role, privileges="select, insert, update")
    op.create_table(
        'service_consent', *_id_org(),
        sa.Column('service_id', sa.BigInteger(), sa.ForeignKey('service.id'), nullable=False),
        sa.Column('template_id', sa.BigInteger(), sa.ForeignKey('consent_template.id'), nullable=False),
        sa.Column('required', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'service_id', 'template_id', name='uq_service_consent'),
    )
    op.create_index('ix_service_consent_org_id', 'service_consent', ['org_id'])
    op.create_index('ix_service_consent_service_id', 'service_consent', ['service_id'])
    op.create_index('ix_service_consent_template_id', 'service_consent', ['template_id'])
    protect_tenant_table(op, 'service_consent', app_role)
    op.create_table(
        'consent_signature', *_id_org(),
        sa.Column('client_id', sa.BigInteger(), sa.ForeignKey('client.id'), nullable=False),
        sa.Column('template_id', sa.BigInteger(), sa.ForeignKey('consent_template.id'), nullable=False),
        sa.Column('version_id', sa.BigInteger(), sa.ForeignKey('consent_version.id'), nullable=False),
        sa.Column('appointment_id', sa.BigInteger(), sa.ForeignKey('appointment.id'), nullable=True),
        sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('method', sa.String(8), nullable=False),
        sa.Column('typed_name', sa.String(120), nullable=False, server_default=''),
        sa.Column('signer', sa.String(8), nullable=False),
        sa.Column('collected_by_user_id', sa.BigInteger(), sa.ForeignKey('user_account.id'), nullable=True),
        sa.Column('collected_by', sa.String(200), nullable=False, server_default=''),
        sa.Column('choice', sa.String(12), nullable=False, server_default=''),
        sa.Column('ip', sa.String(64), nullable=False, server_default=''),
        sa.Column('user_agent', sa.String(400), nullable=False, server_default=''),
        sa.Column('text_sha256', sa.String(64), nullable=False),
        sa.Column('signature_key', sa.String(200), nullable=False, server_default=''),
        sa.Column('pdf_key', sa.String(200), nullable=False),
        sa.Column('pdf_sha256', sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint("method in ('drawn', 'typed')", name='ck_consent_signature_method'),
        sa.CheckConstraint("signer in ('portal', 'tablet')", name='ck_consent_signature_signer'),
        sa.CheckConstraint("choice in ('', 'clinical', 'marketing')", name='ck_consent_signature_choice'),
        sa.CheckConstraint("(method = 'typed') = (typed_name <> '') and (method = 'drawn') = (signature_key <> '')",
                           name='ck_consent_signature_mark'),
    )
    for column in ('org_id', 'client_id', 'template_id', 'version_id', 'appointment_id'):
        op.create_index(f'ix_consent_signature_{column}', 'consent_signature', [column])
    protect_tenant_table(op, 'consent_signature', app_role, privileges="select, insert, update")
    op.execute(GUARDS)


def downgrade() -> None:
    op.drop_table('consent_signature')
    op.drop_table('service_consent')
    op.drop_table('consent_version')
    op.drop_table('consent_template')
    op.execute("drop function if exists medspa_consent_signature_guard(); "
               "drop function if exists medspa_consent_version_guard();")
