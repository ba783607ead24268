"""Room and device maintenance blocks (issue 13): a manager blocks a room or device for a
time range with a reason ("laser service visit").

A block is an `occupancy` row of kind 'block' (status 'booked', no appointment) on the room's
or device's resource: the same exclusion constraint that forbids double booking
(occupancy_no_overlap, migration 0001) forbids a visit and a block overlapping, so a booking
racing a block cannot both win, and availability (which reads every live occupancy) stops
offering the resource at once. The table already has org_id and row-level security; this
migration adds:

- a check that a block carries no appointment (and an appointment occupancy always one);
- a partial index of the clinic's blocks (kind 'block'), for "the upcoming blocks" and the
  calendar's rooms out of service: blocks are few next to visits. Keyed on org_id and the
  plain starts_at column, not on upper(during): under row-level security a non-leakproof
  function such as upper() never makes an index condition (see migration 0013);
- the live notify of a block names its room's location (a provider block: 0, every
  location of the clinic), so open calendars of that location redraw without a reload.

Revision ID: 0029
Revises: 0027 (re-chained at merge)
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0029'
down_revision: Union[str, None] = '0028'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("""
        alter table occupancy add constraint occupancy_block_shape check (
          (kind = 'block' and appointment_id is null) or (kind = 'appointment' and appointment_id is not null));
        create index ix_occupancy_blocks on occupancy (org_id, starts_at) where kind = 'block';
    """)
    op.execute("""
        create or replace function medspa_notify_calendar() returns trigger language plpgsql as $$
        declare
          r record;
          loc bigint;
        begin
          if tg_op = 'DELETE' then r := old; else r := new; end if;
          if tg_table_name = 'appointment' then
            loc := r.location_id;
          else
            if r.kind <> 'block' then return null; end if;
            -- a room or device block: its location; a provider block (or a row hidden by RLS): every location
            select location_id into loc from resource where id = r.resource_id;
            loc := coalesce(loc, 0);
          end if;
          -- payload "org:location"; identical payloads merge within a transaction
          perform pg_notify('calendar_changed', r.org_id::text || ':' || loc::text);
          return null;
        end $$;
    """)


def downgrade() -> None:
    op.execute("""
        create or replace function medspa_notify_calendar() returns trigger language plpgsql as $$
        declare
          r record;
          loc bigint;
        begin
          if tg_op = 'DELETE' then r := old; else r := new; end if;
          if tg_table_name = 'appointment' then
            loc := r.location_id;
          else
            if r.kind <> 'block' then return null; end if;
            loc := 0;
          end if;
          perform pg_notify('calendar_changed', r.org_id::text || ':' || loc::text);
          return null;
        end $$;
    """)
    op.execute("drop index if exists ix_occupancy_blocks")
    op.execute("alter table occupancy drop constraint if exists occupancy_block_shape")
