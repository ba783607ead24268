"""Rescheduling and cancellation reasons (issue 15, "The front desk's day").

appointment: who cancelled and why (cancellation_reason, one of scheduling.reschedule's
CANCEL_REASONS codes; cancellation_note, the free text; cancelled_by 'staff' | 'client' |
'system' and the staff user), how many free late reschedules the visit used
(late_reschedules) and when it was last moved (rescheduled_at).
location.late_reschedule_is_late_cancel: a client's reschedule inside the cancellation window
counts as a late cancellation (the deposit is settled as for a late cancel and the new time is
a new visit) instead of being allowed once for free.

Revision ID: 0037
Revises: 0036
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0037'
down_revision: Union[str, None] = '0036'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('appointment', sa.Column('cancellation_reason', sa.String(20), nullable=True))
    op.add_column('appointment', sa.Column('cancellation_note', sa.Text(), nullable=False, server_default=''))
    op.add_column('appointment', sa.Column('cancelled_by', sa.String(10), nullable=True))
    op.add_column('appointment', sa.Column('cancelled_by_user_id', sa.BigInteger(), nullable=True))
    op.add_column('appointment', sa.Column('late_reschedules', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('appointment', sa.Column('rescheduled_at', sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(
        'ck_appointment_cancellation_reason', 'appointment',
        "cancellation_reason is null or cancellation_reason in "
        "('client_request', 'illness', 'clinic', 'weather', 'other')")
    op.create_check_constraint('ck_appointment_cancelled_by', 'appointment',
                               "cancelled_by is null or cancelled_by in ('staff', 'client', 'system')")
    op.add_column('location', sa.Column('late_reschedule_is_late_cancel', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('location', 'late_reschedule_is_late_cancel')
    op.drop_constraint('ck_appointment_cancelled_by', 'appointment')
    op.drop_constraint('ck_appointment_cancellation_reason', 'appointment')
    for col in ('rescheduled_at', 'late_reschedules', 'cancelled_by_user_id', 'cancelled_by', 'cancellation_note',
                'cancellation_reason'):
        op.drop_column('appointment', col)
