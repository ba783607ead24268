"""Late-cancel and no-show fees (issue 16, section 1, second half).

location: late_cancel_fee_kind / no_show_fee_kind ('none' | 'flat' | 'percent', default
'none': no fee, the deposit rule alone applies as before) and late_cancel_fee_amount /
no_show_fee_amount (flat: integer cents; percent: basis points, 1 bp = 0.01 %, of the visit's
price; scheduling.policy.fee_cents rounds half up to whole cents).
appointment: booked_late_cancel_fee_cents / booked_no_show_fee_cents, the fees the visit's
terms came to when it was booked (NULL: booked before this migration or by a path that did not
record them; the location's current terms apply); a fee is the smaller of that and the
location's current one (scheduling.policy.fee_due), like the cancellation window.
policy_fee (tenant table): one row per visit and kind ('late_cancel' | 'no_show'), unique
(org_id, appointment_id, kind), so a double press, two tabs or a retry never charge twice
(payments.fees).

Revision ID: 0039
Revises: 0038
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from medspa.tenancy import protect_tenant_table

revision: str = '0039'
down_revision: Union[str, None] = '0038'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    ctx = op.get_context().config.attributes
    app_role = ctx.get("app_role", "medspa_app")
    for kind in ("late_cancel", "no_show"):
        op.add_column('location', sa.Column(f'{kind}_fee_kind', sa.String(8), nullable=False, server_default='none'))
        op.add_column('location', sa.Column(f'{kind}_fee_amount', sa.Integer(), nullable=False, server_default='0'))
        op.create_check_constraint(f'ck_location_{kind}_fee', 'location',
                                   f"{kind}_fee_kind in ('none', 'flat', 'percent') and {kind}_fee_amount >= 0 "
                                   f"and ({kind}_fee_kind <> 'percent' or {kind}_fee_amount <= 10000)")
        op.add_column('appointment', sa.Column(f'booked_{kind}_fee_cents', sa.Integer(), nullable=True))
    op.create_table(
        'policy_fee',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('appointment_id', sa.BigInteger(), sa.ForeignKey('appointment.id'), nullable=False),
        sa.Column('client_id', sa.BigInteger(), sa.ForeignKey('client.id'), nullable=True),
        sa.Column('kind', sa.String(12), nullable=False),
        sa.Column('status', sa.String(24), nullable=False),
        sa.Column('fee_cents', sa.Integer(), nullable=False),
        sa.Column('deposit_cents', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('applied_cents', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('refund_cents', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('charge_cents', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('charged_cents', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('currency', sa.String(3), nullable=False, server_default='USD'),
        sa.Column('reason', sa.Text(), nullable=False, server_default=''),
        sa.Column('card_label', sa.String(40), nullable=False, server_default=''),
        sa.Column('payment_id', sa.BigInteger(), sa.ForeignKey('payment.id'), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('waive_reason', sa.Text(), nullable=False, server_default=''),
        sa.Column('waived_by_user_id', sa.BigInteger(), nullable=True),
        sa.Column('waived_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'appointment_id', 'kind', name='uq_policy_fee_once'),
        sa.CheckConstraint("kind in ('late_cancel', 'no_show')", name='ck_policy_fee_kind'),
        sa.CheckConstraint("status in ('charging', 'paid', 'unpaid_needs_action', 'waived', 'none_due')",
                           name='ck_policy_fee_status'),
        sa.CheckConstraint("fee_cents >= 0 and applied_cents >= 0 and refund_cents >= 0 and charge_cents >= 0 "
                           "and charged_cents >= 0 and fee_cents + refund_cents = deposit_cents + charge_cents",
                           name='ck_policy_fee_adds_up'),
    )
    op.create_index('ix_policy_fee_org_id', 'policy_fee', ['org_id'])
    op.create_index('ix_policy_fee_client_id', 'policy_fee', ['client_id'])
    op.create_index('ix_policy_fee_payment_id', 'policy_fee', ['payment_id'])
    protect_tenant_table(op, 'policy_fee', app_role)


def downgrade() -> None:
    op.drop_table('policy_fee')
    for kind in ("late_cancel", "no_show"):
        op.drop_column('appointment', f'booked_{kind}_fee_cents')
        op.drop_constraint(f'ck_location_{kind}_fee', 'location')
        op.drop_column('location', f'{kind}_fee_amount')
        op.drop_column('location', f'{kind}_fee_kind')
