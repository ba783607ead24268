"""Failed sign-ins counted per address and network, not per account (issue 12).

Before, five wrong passwords locked the ACCOUNT for 15 minutes, so anyone who knew the
owner's address could keep her out, and only real accounts answered "try again in 30
seconds" (so accounts could be listed). sign_in_guard counts failures per (email, network):
key_hash = sha256("<email>|<ip>"), email_hash = sha256("<email>") (no address or IP in clear),
with the slow-down (throttled_until) and the lock (locked_until) of that pair only. Unknown
addresses get rows like known ones, so both answer alike. Not a tenant table: sign-in runs
before the clinic is known, and the rows name no clinic.

Revision ID: 0022
Revises: 0021
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: Union[str, None] = '0021'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.create_table(
        'sign_in_guard',
        sa.Column('key_hash', sa.String(length=64), primary_key=True),
        sa.Column('email_hash', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('throttled_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_sign_in_guard_email_hash', 'sign_in_guard', ['email_hash'])
    op.create_index('ix_sign_in_guard_updated_at', 'sign_in_guard', ['updated_at'])
    op.execute(f'grant select, insert, update, delete on sign_in_guard to "{app_role}"')


def downgrade() -> None:
    op.drop_table('sign_in_guard')
