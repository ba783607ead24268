"""Email delivery (issue 10, step 2): outbox_message gains its delivery state; a clinic gains
the Reply-To of its email.

outbox_message (row-level security, grants and the tenant policy of 0001 stay as they are:
new columns of a table are covered by the table's grants and policy):
- status: queued -> sending -> sent / failed (domain.messaging.models.MessageStatus), kept to
  those four by a check; the "pending" rows written before this revision become queued.
- attempts (claims so far), message_id (the Message-ID made once at the first claim and
  reused by every retry), job_id (the queue job holding the claim), provider_id (the server's
  answer), failure_reason. sent_at exists since 0001.
- a partial index on the unsent rows (queued / sending) for the outbox's "waiting" views.

organization.reply_to_email: the Reply-To header of the clinic's email (NULL: none).

Revision ID: 0017
Revises: 0016
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: Union[str, None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

STATUSES = ("queued", "sending", "sent", "failed")


def upgrade() -> None:
    op.add_column('outbox_message', sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('outbox_message', sa.Column('message_id', sa.String(length=250), nullable=True))
    op.add_column('outbox_message', sa.Column('job_id', sa.BigInteger(), nullable=True))
    op.add_column('outbox_message', sa.Column('provider_id', sa.String(length=250), nullable=True))
    op.add_column('outbox_message', sa.Column('failure_reason', sa.String(length=1000), nullable=True))
    op.execute("update outbox_message set status = 'queued' where status = 'pending'")
    op.alter_column('outbox_message', 'status', server_default='queued')
    op.create_check_constraint('ck_outbox_status', 'outbox_message',
                               "status in (" + ", ".join(f"'{s}'" for s in STATUSES) + ")")
    op.create_index('ix_outbox_message_unsent', 'outbox_message', ['org_id', 'created_at'],
                    postgresql_where=sa.text("status in ('queued', 'sending')"))
    op.add_column('organization', sa.Column('reply_to_email', sa.String(length=254), nullable=True))


def downgrade() -> None:
    op.drop_column('organization', 'reply_to_email')
    op.drop_index('ix_outbox_message_unsent', table_name='outbox_message')
    op.drop_constraint('ck_outbox_status', 'outbox_message', type_='check')
    op.alter_column('outbox_message', 'status', server_default=None)
    op.execute("update outbox_message set status = 'pending' where status in ('queued', 'sending')")
    for column in ('failure_reason', 'provider_id', 'job_id', 'message_id', 'attempts'):
        op.drop_column('outbox_message', column)
