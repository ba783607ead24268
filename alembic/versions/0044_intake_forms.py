"""Intake forms (issue 17, section 2): form_response, one row per submitted form version.

form_response (tenant table): a client's answers to one built-in form template (template_key,
template_version) for one visit; version counts the submissions of that form for that visit
(a resubmission is a new row, the latest counts). Immutable: the app role has no DELETE, and a
trigger refuses any UPDATE other than moving client_id (the client merge).

Revision ID: 0044
Revises: 0043
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from medspa.tenancy import protect_tenant_table

revision: str = '0044'
down_revision: Union[str, None] = '0043'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.create_table(
        'form_response',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('client_id', sa.BigInteger(), sa.ForeignKey('client.id'), nullable=False),
        sa.Column('appointment_id', sa.BigInteger(), sa.ForeignKey('appointment.id'), nullable=False),
        sa.Column('template_key', sa.String(40), nullable=False),
        sa.Column('template_version', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('answers', JSONB(), nullable=False),
        sa.Column('source', sa.String(10), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('submitted_by_user_id', sa.BigInteger(), sa.ForeignKey('user_account.id'), nullable=True),
        sa.Column('submitted_by_label', sa.String(120), nullable=False, server_default=''),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'appointment_id', 'template_key', 'version', name='uq_form_response_version'),
        sa.CheckConstraint("source in ('portal', 'tablet')", name='ck_form_response_source'),
        sa.CheckConstraint('version >= 1', name='ck_form_response_version'),
    )
    op.create_index('ix_form_response_org_id', 'form_response', ['org_id'])
    op.create_index('ix_form_response_client_id', 'form_response', ['client_id', 'template_key', 'submitted_at'])
    op.create_index('ix_form_response_appointment_id', 'form_response', ['appointment_id'])
    protect_tenant_table(op, 'form_response', app_role, privileges="select, insert, update")
    op.execute("""
create function form_response_immutable() returns trigger language plpgsql as $$
declare
  probe form_response;
begin
  if tg_op <> 'UPDATE' then
    raise exception 'form responses are never deleted';
  end if;
  probe := new;
  probe.client_id := old.client_id;
  if probe is distinct from old then
    raise exception 'a submitted form response cannot be changed: submit a new version';
  end if;
  return new;
end $$;
create trigger form_response_immutable before update or delete on form_response
  for each row execute function form_response_immutable();
""")


def downgrade() -> None:
    op.execute("drop trigger if exists form_response_immutable on form_response")
    op.drop_table('form_response')
    op.execute("drop function if exists form_response_immutable()")
