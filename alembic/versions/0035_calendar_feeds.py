"""Providers' calendar feeds (issue 15 part 4).

calendar_feed (tenant table): one secret feed link per staff member; only the SHA-256 of its
token is stored (the link is shown once; rotating replaces it, the old one stops working).
medspa_org_for_feed(token hash) finds a feed's clinic before any tenant row is read, like the
other token lookups (SECURITY DEFINER of the schema owner, with an owner-only select policy).

appointment.ical_sequence: RFC 5545's SEQUENCE of the visit's event, raised by a trigger
whenever what a calendar shows of it changes (start, end, status, provider, location,
service), so calendar apps replace their copy instead of keeping a stale one.

Revision ID: 0035
Revises: 0034
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from medspa.tenancy import protect_tenant_table

revision: str = '0035'
down_revision: Union[str, None] = '0034'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    ctx = op.get_context().config.attributes
    app_role = ctx.get("app_role", "medspa_app")
    owner = op.get_bind().execute(sa.text("select current_user")).scalar()
    op.create_table(
        'calendar_feed',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('staff_id', sa.BigInteger(), sa.ForeignKey('staff_member.id'), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'staff_id', name='uq_calendar_feed_staff'),
        sa.UniqueConstraint('token_hash', name='uq_calendar_feed_token'),
    )
    op.create_index('ix_calendar_feed_org_id', 'calendar_feed', ['org_id'])
    protect_tenant_table(op, 'calendar_feed', app_role)
    op.execute(f'create policy owner_lookup on calendar_feed for select to "{owner}" using (true)')
    op.execute("""
        create or replace function medspa_org_for_feed(p_token_hash text) returns bigint
          language sql stable security definer set search_path = public as
          $$ select org_id from calendar_feed where token_hash = p_token_hash $$;
    """)
    op.execute('revoke all on function medspa_org_for_feed(text) from public')
    op.execute(f'grant execute on function medspa_org_for_feed(text) to "{app_role}"')
    op.add_column('appointment', sa.Column('ical_sequence', sa.Integer(), server_default='0', nullable=False))
    op.execute("""
        create or replace function medspa_appointment_ical_sequence() returns trigger language plpgsql as $$
        begin
          if (new.start_at, new.end_at, new.status, new.provider_id, new.location_id, new.service_id)
             is distinct from (old.start_at, old.end_at, old.status, old.provider_id, old.location_id, old.service_id)
          then
            new.ical_sequence := old.ical_sequence + 1;
          end if;
          return new;
        end $$;
        create trigger appointment_ical_sequence before update on appointment
          for each row execute function medspa_appointment_ical_sequence();
    """)


def downgrade() -> None:
    op.execute("drop trigger if exists appointment_ical_sequence on appointment")
    op.execute("drop function if exists medspa_appointment_ical_sequence()")
    op.drop_column('appointment', 'ical_sequence')
    op.execute("drop function if exists medspa_org_for_feed(text)")
    op.drop_table('calendar_feed')
