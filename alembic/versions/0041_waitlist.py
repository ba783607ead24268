"""The waitlist (issue 16, section 3): clients' wishes for a time that frees, and the offers.

waitlist_entry (tenant table): a client's wish at a location for a service, with a provider or
anyone (provider_id null), between two local dates (both inclusive) and inside a local
time-of-day window [window_start, window_end); joined_at orders the offers; status waiting |
offered | booked | closed; source public (the booking page) | desk.
waitlist_offer (tenant table): one offered time of one entry. The unique key (org_id, entry_id,
slot_start) is the rule "no entry is offered the same time twice", whatever runs twice.
token: the unguessable key of the offer's link; hold_appointment_id: the hold that keeps the
time for the entry ("one at a time" mode), null when every matching entry got the link
("all at once").
location.waitlist_mode ('one_at_a_time' | 'all_at_once') and waitlist_hold_minutes (how long
an offer's hold lasts).

Revision ID: 0041
Revises: 0040
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from medspa.tenancy import protect_tenant_table

revision: str = '0041'
down_revision: Union[str, None] = '0040'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.add_column('location', sa.Column('waitlist_mode', sa.String(16), nullable=False,
                                        server_default='one_at_a_time'))
    op.add_column('location', sa.Column('waitlist_hold_minutes', sa.Integer(), nullable=False, server_default='30'))
    op.create_check_constraint('ck_location_waitlist_mode', 'location',
                               "waitlist_mode in ('one_at_a_time', 'all_at_once')")
    op.create_check_constraint('ck_location_waitlist_hold', 'location',
                               "waitlist_hold_minutes between 5 and 1440")
    op.create_table(
        'waitlist_entry',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('client_id', sa.BigInteger(), sa.ForeignKey('client.id'), nullable=False),
        sa.Column('location_id', sa.BigInteger(), sa.ForeignKey('location.id'), nullable=False),
        sa.Column('service_id', sa.BigInteger(), sa.ForeignKey('service.id'), nullable=False),
        sa.Column('provider_id', sa.BigInteger(), sa.ForeignKey('staff_member.id'), nullable=True),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('window_start', sa.Time(), nullable=False),
        sa.Column('window_end', sa.Time(), nullable=False),
        sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(10), nullable=False, server_default='waiting'),
        sa.Column('source', sa.String(8), nullable=False),
        sa.Column('note', sa.String(300), nullable=False, server_default=''),
        sa.Column('booked_appointment_id', sa.BigInteger(), sa.ForeignKey('appointment.id'), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint('last_day >= first_day', name='ck_waitlist_entry_days'),
        sa.CheckConstraint('window_end > window_start', name='ck_waitlist_entry_window'),
        sa.CheckConstraint("status in ('waiting', 'offered', 'booked', 'closed')", name='ck_waitlist_entry_status'),
        sa.CheckConstraint("source in ('public', 'desk')", name='ck_waitlist_entry_source'),
    )
    op.create_index('ix_waitlist_entry_org_id', 'waitlist_entry', ['org_id'])
    op.create_index('ix_waitlist_entry_client_id', 'waitlist_entry', ['client_id'])
    op.create_index('ix_waitlist_entry_match', 'waitlist_entry', ['org_id', 'location_id', 'status', 'joined_at'])
    protect_tenant_table(op, 'waitlist_entry', app_role)
    op.create_table(
        'waitlist_offer',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('entry_id', sa.BigInteger(), sa.ForeignKey('waitlist_entry.id'), nullable=False),
        sa.Column('slot_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('slot_end', sa.DateTime(timezone=True), nullable=False),
        sa.Column('provider_id', sa.BigInteger(), sa.ForeignKey('staff_member.id'), nullable=False),
        sa.Column('mode', sa.String(16), nullable=False),
        sa.Column('token', sa.String(64), nullable=False),
        sa.Column('hold_appointment_id', sa.BigInteger(), sa.ForeignKey('appointment.id'), nullable=True),
        sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('status', sa.String(10), nullable=False, server_default='open'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'entry_id', 'slot_start', name='uq_waitlist_offer_entry_slot'),
        sa.UniqueConstraint('org_id', 'token', name='uq_waitlist_offer_token'),
        sa.CheckConstraint("status in ('open', 'booked', 'lapsed', 'gone')", name='ck_waitlist_offer_status'),
        sa.CheckConstraint("mode in ('one_at_a_time', 'all_at_once')", name='ck_waitlist_offer_mode'),
    )
    op.create_index('ix_waitlist_offer_org_id', 'waitlist_offer', ['org_id'])
    op.create_index('ix_waitlist_offer_entry_id', 'waitlist_offer', ['entry_id'])
    op.create_index('ix_waitlist_offer_hold', 'waitlist_offer', ['hold_appointment_id'])
    protect_tenant_table(op, 'waitlist_offer', app_role)


def downgrade() -> None:
    op.drop_table('waitlist_offer')
    op.drop_table('waitlist_entry')
    op.drop_constraint('ck_location_waitlist_hold', 'location')
    op.drop_constraint('ck_location_waitlist_mode', 'location')
    op.drop_column('location', 'waitlist_hold_minutes')
    op.drop_column('location', 'waitlist_mode')
