"""Settings changes also notify `settings_changed`; a row moved to another location notifies
both (issue 20: set-up data kept per worker).

Migration 0027's medspa_notify_settings() (on service, service_provider, working_hours,
resource, staff_member, location, location_hours, location_closure, staff_time_off; 0036 adds
client names) notifies calendar_changed "<org>:<location>". Every booking notifies the same
channel, so a per-worker cache of a service's set-up data (availability.booking_context) kept
by it would be dropped by every booking. The function now also sends the same payload on
`settings_changed` (not for `client`: no set-up data), which the calendar loop (medspa.live)
LISTENs to and hands to AvailabilityCache.invalidate(settings=True).

It also notified the NEW row's location only: a row whose location_id changes (a room, an
hours row, an extra shift moved from location A to B) left A's calendars and caches with
it. An UPDATE that changes location_id now notifies the OLD location too (both channels).
No table or trigger changes: only the function body.

Revision ID: 0057
Revises: 0056
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0057'
down_revision: Union[str, None] = '0056'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_OLD_BODY = """
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
"""

_NEW_BODY = """
    create or replace function medspa_notify_settings() returns trigger language plpgsql as $$
    declare
      row_json jsonb;
      old_json jsonb;
      payload text;
      old_payload text;
    begin
      if tg_op = 'DELETE' then row_json := to_jsonb(old); else row_json := to_jsonb(new); end if;
      if tg_table_name = 'location' then
        payload := (row_json->>'org_id') || ':' || (row_json->>'id');
      else
        payload := (row_json->>'org_id') || ':' || coalesce((row_json->>'location_id')::bigint, 0)::text;
      end if;
      if tg_op = 'UPDATE' and tg_table_name <> 'location' then
        old_json := to_jsonb(old);
        if (old_json->>'location_id') is distinct from (row_json->>'location_id') then
          old_payload := (old_json->>'org_id') || ':' || coalesce((old_json->>'location_id')::bigint, 0)::text;
        end if;
      end if;
      -- identical payloads merge within a transaction (one refresh per clinic and location);
      -- settings_changed is sent first: a listener has dropped set-up data before it reloads views
      if tg_table_name <> 'client' then
        perform pg_notify('settings_changed', payload);
        if old_payload is not null then perform pg_notify('settings_changed', old_payload); end if;
      end if;
      perform pg_notify('calendar_changed', payload);
      if old_payload is not null then perform pg_notify('calendar_changed', old_payload); end if;
      return null;
    end $$;
"""


def upgrade() -> None:
    op.execute(_NEW_BODY)


def downgrade() -> None:
    op.execute(_OLD_BODY)
