"""Cards on file (issue 16 section 1).

saved_card (tenant table): a client's card kept at the gateway (Stripe PaymentMethod on a
Customer, or the offline test gateway's equivalent): the gateway's ids, brand, last four digits
and expiry only, never the number; payment_method_id unique per clinic.
card_setup (tenant table): one attempt to save a card (a SetupIntent), committed pending with
its idempotency key before the gateway is called, so the webhook or reconciliation settles it.
location.card_required: online booking at this location saves a card before confirming.

Revision ID: 0038
Revises: 0037
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from medspa.tenancy import protect_tenant_table

revision: str = '0038'
down_revision: Union[str, None] = '0037'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    ctx = op.get_context().config.attributes
    app_role = ctx.get("app_role", "medspa_app")
    op.create_table(
        'saved_card',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('client_id', sa.BigInteger(), sa.ForeignKey('client.id'), nullable=False),
        sa.Column('gateway', sa.String(length=20), nullable=False),
        sa.Column('gateway_customer_id', sa.String(length=100), nullable=False, server_default=''),
        sa.Column('payment_method_id', sa.String(length=100), nullable=False),
        sa.Column('brand', sa.String(length=30), nullable=False, server_default=''),
        sa.Column('last4', sa.String(length=4), nullable=False, server_default=''),
        sa.Column('exp_month', sa.Integer(), nullable=False),
        sa.Column('exp_year', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'payment_method_id', name='uq_saved_card_payment_method'),
        sa.CheckConstraint("last4 ~ '^[0-9]{0,4}$'", name='ck_saved_card_last4'),
    )
    op.create_index('ix_saved_card_org_id', 'saved_card', ['org_id'])
    op.create_index('ix_saved_card_client_id', 'saved_card', ['client_id'])
    protect_tenant_table(op, 'saved_card', app_role)

    op.create_table(
        'card_setup',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('client_id', sa.BigInteger(), sa.ForeignKey('client.id'), nullable=False),
        sa.Column('appointment_id', sa.BigInteger(), sa.ForeignKey('appointment.id'), nullable=True),
        sa.Column('gateway', sa.String(length=20), nullable=False),
        sa.Column('idempotency_key', sa.String(length=200), nullable=False),
        sa.Column('setup_intent_id', sa.String(length=100), nullable=False, server_default=''),
        sa.Column('status', sa.String(), nullable=False),
        sa.Column('saved_card_id', sa.BigInteger(), sa.ForeignKey('saved_card.id'), nullable=True),
        sa.Column('failure_message', sa.String(), nullable=False, server_default=''),
        sa.Column('decline_code', sa.String(), nullable=False, server_default=''),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reconcile_after', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'idempotency_key', name='uq_card_setup_idempotency'),
        sa.CheckConstraint("status in ('pending', 'requires_action', 'succeeded', 'declined', 'failed')",
                           name='ck_card_setup_status'),
    )
    for col in ('org_id', 'client_id', 'appointment_id', 'saved_card_id', 'setup_intent_id'):
        op.create_index(f'ix_card_setup_{col}', 'card_setup', [col])
    protect_tenant_table(op, 'card_setup', app_role)

    op.add_column('location', sa.Column('card_required', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('location', 'card_required')
    op.drop_table('card_setup')
    op.drop_table('saved_card')
