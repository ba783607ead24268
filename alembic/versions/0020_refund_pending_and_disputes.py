"""Refunds that are never lost (issue 11, part 3): a refund is recorded `pending` with its
idempotency key before the gateway call, and reconciliation retries it until the gateway answers.

refund:
- status (pending | succeeded | failed; existing rows were written after the gateway answered
  and are `succeeded`), idempotency_key ("refund-<payment id>-<n>", NULL for refunds only
  reported by a Stripe event and for existing rows), entry_type (the ledger line written when
  it succeeds), failure_message (the gateway's reason for a failed one).
- reconcile_after (timestamptz, NULL = settled) and reconcile_attempts (its back-off).
- uq_refund_idempotency (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL: one
  refund row per key; ix_refund_unsettled (org_id, reconcile_after) WHERE reconcile_after IS
  NOT NULL: the job reads only the open refunds.

dispute (a tenant table, row-level security like every other): a chargeback or inquiry on a
payment from Stripe's charge.dispute.* events (payments.disputes): payment, gateway dispute id
(unique per clinic), amount in cents, currency, reason, status, evidence_due_by, whether the
funds were withdrawn / reinstated (their ledger lines written), created / updated.

Revision ID: 0020
Revises: 0019
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from medspa.tenancy import protect_tenant_table

revision: str = '0020'
down_revision: Union[str, None] = '0019'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.add_column('refund', sa.Column('status', sa.String(), nullable=False, server_default='succeeded'))
    op.add_column('refund', sa.Column('idempotency_key', sa.String(), nullable=True))
    op.add_column('refund', sa.Column('entry_type', sa.String(), nullable=False, server_default=''))
    op.add_column('refund', sa.Column('failure_message', sa.String(), nullable=False, server_default=''))
    op.add_column('refund', sa.Column('reconcile_after', sa.DateTime(timezone=True), nullable=True))
    op.add_column('refund', sa.Column('reconcile_attempts', sa.Integer(), nullable=False, server_default='0'))
    op.create_index('uq_refund_idempotency', 'refund', ['org_id', 'idempotency_key'], unique=True,
                    postgresql_where=sa.text('idempotency_key is not null'))
    op.create_index('ix_refund_unsettled', 'refund', ['org_id', 'reconcile_after'],
                    postgresql_where=sa.text('reconcile_after is not null'))
    op.create_table(
        'dispute',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('payment_id', sa.BigInteger(), sa.ForeignKey('payment.id'), nullable=False),
        sa.Column('gateway_dispute_id', sa.String(length=100), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('reason', sa.String(), nullable=False),
        sa.Column('status', sa.String(), nullable=False),
        sa.Column('evidence_due_by', sa.DateTime(timezone=True), nullable=True),
        sa.Column('funds_withdrawn', sa.Boolean(), nullable=False),
        sa.Column('funds_reinstated', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'gateway_dispute_id', name='uq_dispute_gateway_id'),
    )
    op.create_index('ix_dispute_org_id', 'dispute', ['org_id'])
    op.create_index('ix_dispute_payment_id', 'dispute', ['payment_id'])
    protect_tenant_table(op, 'dispute', app_role)


def downgrade() -> None:
    op.drop_table('dispute')
    op.drop_index('ix_refund_unsettled', table_name='refund')
    op.drop_index('uq_refund_idempotency', table_name='refund')
    for column in ('reconcile_attempts', 'reconcile_after', 'failure_message', 'entry_type', 'idempotency_key',
                   'status'):
        op.drop_column('refund', column)
