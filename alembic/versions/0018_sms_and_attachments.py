"""SMS delivery, suppressed contacts and email attachments (issue 10, step 4): the schema both
the SMS channel and the attachments build on.

outbox_message:
- status gains `delivered` (the carrier's delivery receipt, Twilio's status callback) next to
  queued / sending / sent / failed; delivered_at is when it was learnt.
- fallback_for_id: the email written when an SMS failed for good points at that SMS (one
  fallback per SMS: a unique index).

contact_suppression (tenant table): an email address or phone number (E.164) that failed for
good (hard bounce, invalid number, the person texted STOP), per clinic and channel, with the
provider's reason and the message that learnt it. Nothing is sent to a suppressed contact;
an owner who resends to it lifts the suppression (audited).

outbox_attachment (tenant table): files sent with an email (the booking confirmation's .ics),
written with the message in its transaction so a retry sends the same bytes.

organization.sms_from_number, location.sms_from_number: the E.164 sender of the clinic's SMS
(the location's when set, else the clinic's, else the deployment's TWILIO_FROM_NUMBER).

Revision ID: 0018
Revises: 0017
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from medspa.tenancy import for_each_clinic, protect_tenant_table

revision: str = '0018'
down_revision: Union[str, None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OLD_STATUSES = ("queued", "sending", "sent", "failed")
STATUSES = OLD_STATUSES + ("delivered",)


def _status_check(statuses: tuple[str, ...]) -> str:
    return "status in (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.drop_constraint('ck_outbox_status', 'outbox_message', type_='check')
    op.create_check_constraint('ck_outbox_status', 'outbox_message', _status_check(STATUSES))
    op.add_column('outbox_message', sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('outbox_message', sa.Column('fallback_for_id', sa.BigInteger(),
                                              sa.ForeignKey('outbox_message.id'), nullable=True))
    op.create_index('uq_outbox_fallback_for', 'outbox_message', ['fallback_for_id'], unique=True,
                    postgresql_where=sa.text('fallback_for_id is not null'))
    op.create_index('ix_outbox_message_provider_id', 'outbox_message', ['provider_id'],
                    postgresql_where=sa.text('provider_id is not null'))

    op.create_table(
        'contact_suppression',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('reason', sa.String(length=1000), nullable=False),
        sa.Column('message_id', sa.BigInteger(), sa.ForeignKey('outbox_message.id'), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'channel', 'address', name='uq_contact_suppression'),
        sa.CheckConstraint("channel in ('email', 'sms')", name='ck_contact_suppression_channel'),
    )
    op.create_index('ix_contact_suppression_org_id', 'contact_suppression', ['org_id'])
    protect_tenant_table(op, 'contact_suppression', app_role)

    op.create_table(
        'outbox_attachment',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('message_id', sa.BigInteger(), sa.ForeignKey('outbox_message.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_outbox_attachment_message_id', 'outbox_attachment', ['message_id'])
    op.create_index('ix_outbox_attachment_org_id', 'outbox_attachment', ['org_id'])
    protect_tenant_table(op, 'outbox_attachment', app_role)

    op.add_column('organization', sa.Column('sms_from_number', sa.String(length=16), nullable=True))
    op.add_column('location', sa.Column('sms_from_number', sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column('location', 'sms_from_number')
    op.drop_column('organization', 'sms_from_number')
    op.drop_table('outbox_attachment')
    op.drop_table('contact_suppression')
    op.drop_index('ix_outbox_message_provider_id', table_name='outbox_message')
    op.drop_index('uq_outbox_fallback_for', table_name='outbox_message')
    op.drop_column('outbox_message', 'fallback_for_id')
    op.drop_column('outbox_message', 'delivered_at')
    # as the owner under FORCE row level security an unset app.org_id sees no row: clinic by clinic
    for_each_clinic(op, "update outbox_message set status = 'sent' where status = 'delivered'")
    op.drop_constraint('ck_outbox_status', 'outbox_message', type_='check')
    op.create_check_constraint('ck_outbox_status', 'outbox_message', _status_check(OLD_STATUSES))
