"""Live calendars follow settings changes (issue 13): a committed change of a service, the
providers who perform it, a provider's working hours, a room or device, a staff member or a
location notifies `calendar_changed` like an appointment does (migration 0001), so a new
provider column, new hours or a closure reach every open calendar without a reload.

Payload "<org>:<location>": the row's location_id when it has one (a location: its own id),
else 0 (every location of the clinic refreshes). Tables added by later migrations call
medspa_notify_settings() from their own triggers (location hours and closures, time off:
created here when those tables exist already).

Revision ID: 0027
Revises: 0026
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0027'
down_revision: Union[str, None] = '0026'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("service", "service_provider", "working_hours", "resource", "staff_member", "location",
          "location_hours", "location_closure", "staff_time_off")


def upgrade() -> None:
    op.execute("""
        create or replace function medspa_notify_settings() returns trigger language plpgsql as $$
        declare
          row_json jsonb;
          loc bigint;
        begin
          if tg_op = 'DELETE' then row_json := to_jsonb(old); else row_json := to_jsonb(new); end if;
          if tg_table_name = 'location' then
            loc := (row_json->>'id')::bigint;
          else
            loc := coalesce((row_json->>'location_id')::bigint, 0);
          end if;
          -- identical payloads merge within a transaction (one refresh per clinic and location)
          perform pg_notify('calendar_changed', (row_json->>'org_id') || ':' || loc::text);
          return null;
        end $$;
    """)
    for table in TABLES:
        op.execute(f"""
            do $$ begin
              if to_regclass('public.{table}') is not null then
                execute 'create trigger {table}_notify_calendar after insert or update or delete on {table}
                         for each row execute function medspa_notify_settings()';
              end if;
            end $$;
        """)


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"""
            do $$ begin
              if to_regclass('public.{table}') is not null then
                execute 'drop trigger if exists {table}_notify_calendar on {table}';
              end if;
            end $$;
        """)
    op.execute("drop function if exists medspa_notify_settings()")
