"""Messages that bring clients back (issue 19): templates, reminder settings, opt-out, inbound
texts, campaigns.

- message_template: a clinic's wording of one message kind on one channel, clinic-wide
  (service_id null) or for one service; unique per (clinic, kind, channel, service) with NULLS
  NOT DISTINCT (PostgreSQL 15).
- organization: reminder timing (hours before, what a late booking gets), quiet hours (local
  wall-clock, default 21:00-08:00), whether the treatment is named in SMS / email.
- client: reminder channel and timing preference; the wording of each marketing consent.
- contact_suppression.kind: 'undeliverable' (a hard bounce, an invalid number: an owner's
  resend may lift it) or 'opted_out' (the client said STOP: only START lifts it).
- inbound_message: texts received (STOP / START / HELP keywords, others flagged for the desk).
- campaign, campaign_recipient: a segment's one-off send and who it reached; outbox_message
  .campaign_id ties each message to its campaign for the results.
- medspa_orgs_for_sms_number(number, is_default): the clinics that send from a number (the
  inbound webhook must find the clinic before any tenant is set).

Revision ID: 0053
Revises: 0052
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from medspa.tenancy import protect_tenant_table

revision: str = '0053'
down_revision: Union[str, None] = '0052'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ORG_COLUMNS = ("reminder_hours, reminder_late_booking, reminder_short_hours, quiet_start, quiet_end, "
               "treatment_in_sms, treatment_in_email")
CLIENT_COLUMNS = ("reminder_channel", "reminder_hours", "email_marketing_consent_wording",
                  "sms_marketing_consent_wording")


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(name: str, target: str, nullable: bool = True, ondelete: str | None = None) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable)


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    owner = op.get_bind().execute(sa.text("select current_user")).scalar()
    # --- clinic settings
    op.add_column('organization', sa.Column('reminder_hours', sa.Integer(), nullable=False, server_default='24'))
    op.add_column('organization', sa.Column('reminder_late_booking', sa.String(10), nullable=False,
                                            server_default='shorter'))
    op.add_column('organization', sa.Column('reminder_short_hours', sa.Integer(), nullable=False,
                                            server_default='2'))
    op.add_column('organization', sa.Column('quiet_start', sa.Time(), nullable=False, server_default='21:00'))
    op.add_column('organization', sa.Column('quiet_end', sa.Time(), nullable=False, server_default='08:00'))
    op.add_column('organization', sa.Column('treatment_in_sms', sa.Boolean(), nullable=False,
                                            server_default=sa.false()))
    op.add_column('organization', sa.Column('treatment_in_email', sa.Boolean(), nullable=False,
                                            server_default=sa.true()))
    op.execute("""
        alter table organization add constraint ck_org_reminder_hours check (reminder_hours between 1 and 168);
        alter table organization add constraint ck_org_reminder_short check (reminder_short_hours between 1 and 24);
        alter table organization add constraint ck_org_reminder_late
          check (reminder_late_booking in ('none', 'shorter'));
    """)
    op.execute(f'grant update ({ORG_COLUMNS}) on organization to "{app_role}"')
    # --- client preferences and consent wording
    op.add_column('client', sa.Column('reminder_channel', sa.String(10), nullable=False, server_default='both'))
    op.add_column('client', sa.Column('reminder_hours', sa.Integer(), nullable=True))
    op.add_column('client', sa.Column('email_marketing_consent_wording', sa.Text(), nullable=False,
                                      server_default=''))
    op.add_column('client', sa.Column('sms_marketing_consent_wording', sa.Text(), nullable=False,
                                      server_default=''))
    op.execute("""
        alter table client add constraint ck_client_reminder_channel
          check (reminder_channel in ('both', 'email', 'sms', 'none'));
        alter table client add constraint ck_client_reminder_hours
          check (reminder_hours is null or reminder_hours between 1 and 168);
    """)
    # --- suppression kinds
    op.add_column('contact_suppression', sa.Column('kind', sa.String(20), nullable=False,
                                                   server_default='undeliverable'))
    op.execute("alter table contact_suppression add constraint ck_contact_suppression_kind "
               "check (kind in ('undeliverable', 'opted_out'))")
    # --- templates
    op.create_table(
        'message_template',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        _fk('org_id', 'organization.id', False),
        sa.Column('kind', sa.String(40), nullable=False),
        sa.Column('channel', sa.String(10), nullable=False),
        _fk('service_id', 'service.id', True, ondelete='CASCADE'),
        sa.Column('subject', sa.String(300), nullable=False, server_default=''),
        sa.Column('body', sa.Text(), nullable=False),
        _ts('updated_at', False),
        sa.Column('updated_by', sa.String(200), nullable=False, server_default=''),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint("channel in ('email', 'sms')", name='ck_message_template_channel'),
        sa.CheckConstraint("length(body) between 1 and 20000", name='ck_message_template_body'),
    )
    op.execute("alter table message_template add constraint uq_message_template "
               "unique nulls not distinct (org_id, kind, channel, service_id)")
    op.create_index('ix_message_template_org_id', 'message_template', ['org_id'])
    protect_tenant_table(op, 'message_template', app_role)
    # --- inbound texts
    op.create_table(
        'inbound_message',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        _fk('org_id', 'organization.id', False),
        _fk('client_id', 'client.id'),
        sa.Column('channel', sa.String(10), nullable=False, server_default='sms'),
        sa.Column('from_address', sa.String(254), nullable=False),
        sa.Column('to_address', sa.String(254), nullable=False),
        sa.Column('body', sa.Text(), nullable=False, server_default=''),
        sa.Column('provider_id', sa.String(64), nullable=True),
        _ts('received_at', False),
        sa.Column('keyword', sa.String(10), nullable=False, server_default=''),
        sa.Column('flagged', sa.Boolean(), nullable=False, server_default=sa.false()),
        _ts('handled_at'),
        sa.Column('handled_by', sa.String(200), nullable=False, server_default=''),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint("keyword in ('', 'stop', 'start', 'help')", name='ck_inbound_message_keyword'),
    )
    op.create_index('ix_inbound_message_org_id', 'inbound_message', ['org_id'])
    op.create_index('ix_inbound_message_client', 'inbound_message', ['org_id', 'client_id', 'received_at'])
    op.execute("create unique index uq_inbound_message_provider on inbound_message (org_id, provider_id) "
               "where provider_id is not null")
    protect_tenant_table(op, 'inbound_message', app_role, privileges="select, insert")
    op.execute(f'grant update (client_id, flagged, handled_at, handled_by) on inbound_message to "{app_role}"')
    # --- campaigns
    op.create_table(
        'campaign',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        _fk('org_id', 'organization.id', False),
        sa.Column('name', sa.String(120), nullable=False),
        sa.Column('segment', sa.String(40), nullable=False),
        sa.Column('segment_params', JSONB(), nullable=False, server_default='{}'),
        sa.Column('channel', sa.String(10), nullable=False),
        sa.Column('subject', sa.String(300), nullable=False, server_default=''),
        sa.Column('body', sa.Text(), nullable=False, server_default=''),
        sa.Column('sms_body', sa.Text(), nullable=False, server_default=''),
        sa.Column('status', sa.String(12), nullable=False, server_default='draft'),
        _ts('scheduled_at'),
        _ts('started_at'),
        _ts('finished_at'),
        _ts('created_at', False),
        sa.Column('created_by', sa.String(200), nullable=False, server_default=''),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint("channel in ('email', 'sms', 'both')", name='ck_campaign_channel'),
        sa.CheckConstraint("status in ('draft', 'scheduled', 'sending', 'sent', 'cancelled')",
                           name='ck_campaign_status'),
        sa.CheckConstraint("length(btrim(name)) > 0", name='ck_campaign_name'),
    )
    op.create_index('ix_campaign_org_id', 'campaign', ['org_id'])
    protect_tenant_table(op, 'campaign', app_role)
    op.create_table(
        'campaign_recipient',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        _fk('org_id', 'organization.id', False),
        _fk('campaign_id', 'campaign.id', False, ondelete='CASCADE'),
        _fk('client_id', 'client.id', False),
        sa.Column('channel', sa.String(10), nullable=False),
        sa.Column('address', sa.String(254), nullable=False),
        _ts('due_at', False),
        sa.Column('status', sa.String(10), nullable=False, server_default='pending'),
        sa.Column('skip_reason', sa.String(200), nullable=False, server_default=''),
        _fk('message_id', 'outbox_message.id'),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint("channel in ('email', 'sms')", name='ck_campaign_recipient_channel'),
        sa.CheckConstraint("status in ('pending', 'queued', 'skipped')", name='ck_campaign_recipient_status'),
        sa.UniqueConstraint('campaign_id', 'client_id', 'channel', name='uq_campaign_recipient'),
    )
    op.create_index('ix_campaign_recipient_org_id', 'campaign_recipient', ['org_id'])
    op.create_index('ix_campaign_recipient_due', 'campaign_recipient', ['org_id', 'status', 'due_at'])
    op.create_index('ix_campaign_recipient_client', 'campaign_recipient', ['client_id'])
    protect_tenant_table(op, 'campaign_recipient', app_role)
    op.add_column('outbox_message', _fk('campaign_id', 'campaign.id'))
    op.create_index('ix_outbox_message_campaign', 'outbox_message', ['campaign_id'],
                    postgresql_where=sa.text('campaign_id is not null'))
    # --- inbound routing: which clinics send from a number (no tenant is set yet); the function
    # runs as the schema owner, who reads locations across clinics only through this policy
    op.execute(f'create policy owner_lookup on location for select to "{owner}" using (true)')
    op.execute("""
        create or replace function medspa_orgs_for_sms_number(p_number text, p_is_default boolean)
          returns setof bigint language sql stable security definer set search_path = public as $$
            select o.id from organization o
             where o.sms_from_number = p_number
                or exists (select 1 from location l where l.org_id = o.id and l.sms_from_number = p_number)
                or (p_is_default and o.sms_from_number is null)
        $$;
    """)
    op.execute(f'alter function medspa_orgs_for_sms_number(text, boolean) owner to "{owner}"')
    op.execute("revoke all on function medspa_orgs_for_sms_number(text, boolean) from public")
    op.execute(f'grant execute on function medspa_orgs_for_sms_number(text, boolean) to "{app_role}"')


def downgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.execute("drop function if exists medspa_orgs_for_sms_number(text, boolean)")
    op.execute("drop policy if exists owner_lookup on location")
    op.drop_index('ix_outbox_message_campaign', table_name='outbox_message')
    op.drop_column('outbox_message', 'campaign_id')
    op.drop_table('campaign_recipient')
    op.drop_table('campaign')
    op.drop_table('inbound_message')
    op.drop_table('message_template')
    op.drop_constraint('ck_contact_suppression_kind', 'contact_suppression')
    op.drop_column('contact_suppression', 'kind')
    op.drop_constraint('ck_client_reminder_hours', 'client')
    op.drop_constraint('ck_client_reminder_channel', 'client')
    for name in CLIENT_COLUMNS:
        op.drop_column('client', name)
    op.execute(f'revoke update ({ORG_COLUMNS}) on organization from "{app_role}"')
    for name in ('ck_org_reminder_late', 'ck_org_reminder_short', 'ck_org_reminder_hours'):
        op.drop_constraint(name, 'organization')
    for name in ORG_COLUMNS.split(", "):
        op.drop_column('organization', name)
