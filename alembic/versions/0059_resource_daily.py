"""resource_daily: each room's and device's booked visits per local day, kept by triggers (issue 20).

Room and device utilization (analytics/service.py resource_utilization) joined the visits of
the range to their occupancy rows: over 365 days of the large clinic (bench/dashboard.py)
about 3x a sequential scan of appointment. Its booked / attended minutes are sums over the
distinct (resource, visit) pairs of the range, so this table holds exactly those sums:

- one row per (org_id, resource_id, local_day, location_id, status) that has pairs:
  visits = how many distinct visits (appointments) with that status, local day and location
  have at least one occupancy row with kind 'appointment' on the resource (any occupancy
  status: released + rebooked rows of one visit count once), seconds = the sum of those
  visits' service seconds (end_at - start_at, buffers excluded); no row without a pair
  (visits > 0 always).
- every resource kind (provider, room, device): the reports pick the kind they show, and no
  row depends on a resource's kind or location.
- only the statuses the reports count: confirmed, checked_in, completed, no_show (held and
  expired slots never were visits, so a hold's occupancy rows only cost the trigger a look).
- local_day = (start_at AT TIME ZONE location.time_zone)::date of the visit's location,
  location_id = the visit's (the rule of service.py); minutes = (sum(seconds) / 60)::bigint,
  equal to the sum of the visits' minutes for visits of whole minutes (every appointment the
  app writes), as visit_daily (0054).

Kept exact by statement-level AFTER triggers with transition tables:
- on occupancy (INSERT, UPDATE, DELETE): the pairs (appointment_id, resource_id) of the
  statement's rows with kind 'appointment' (an UPDATE: only rows whose appointment_id,
  resource_id or kind changed; a status or time change is no change here), then per pair the
  rows it has now (n) and had before the statement (n - inserted + deleted): a pair that
  appears adds its visit, one that disappears removes it, at the visit's current key;
- on appointment (UPDATE only): rows whose org, location, start, end or status changed with
  a counted status before or after move their pairs (read from occupancy) from the old key to
  the new. An INSERT has no occupancy rows yet and a DELETE none left (occupancy's foreign key
  to appointment is checked at the end of each statement), so those add nothing. The trigger
  is named to fire after the visit_daily / visit_rebooking ones (PostgreSQL fires a table's
  triggers of one event in name order): a status change then takes visit_daily's row before
  resource_daily's, as a booking does (appointment INSERT, then occupancy INSERT), so two
  such writers of one provider's day wait for each other instead of deadlocking.
The delta is grouped by key and upserted in key order with ON CONFLICT adding it (concurrent
writers of one key serialize on the row: no lost update), then the rows it left with 0 visits
are deleted by key. A pair depends on both tables, so both triggers first take a
transaction-level advisory lock per appointment (the clinic's in shared mode; exclusive for a
statement over more than 64 appointments, as 0054) and then read the other table in a new
statement (READ COMMITTED: a new snapshot), which sees the other writer's committed rows; a
writer of the same appointment waits for the commit. Not supported: one statement that writes
both tables (a data-modifying WITH); the app never does, and the backfill repairs.

Time zones: a visit's local day uses its location's zone when the row is written; the app
never changes a location's zone (see 0015); after a change by hand run
`SELECT medspa_resource_daily_backfill()` per clinic (app.org_id set, as the owner).

Security: as 0054: SECURITY DEFINER functions owned by the (NOBYPASSRLS) owner, FORCE row
level security with the tenant policy, the app role only SELECTs.

Backfill: per organisation with app.org_id set, in the migration.

Revision ID: 0059
Revises: 0058
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from medspa.tenancy import (
    drop_statement_triggers_sql,
    for_each_clinic,
    protect_tenant_table,
    statement_triggers_sql,
)

revision: str = '0059'
down_revision: Union[str, None] = '0058'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_KEY = "org_id, resource_id, local_day, location_id, status"
_COUNTED = "('confirmed', 'checked_in', 'completed', 'no_show')"
# advisory lock keys, two-int form: (CLINIC_LOCK, org_id), (APPOINTMENT_LOCK, appointment_id mod
# 2^31 - 1); a statement over more than BULK_APPOINTMENTS takes its clinic's lock exclusively
CLINIC_LOCK = 1200590001
APPOINTMENT_LOCK = 1200590002
BULK_APPOINTMENTS = 64

# d: (org_id, resource_id, local_day, location_id, status, sign, secs), grouped by key,
# upserted in key order, then the rows it emptied removed by key (a statement only when there are some)
_UPSERT = f"""with d as ({{source}}),
    up as (insert into resource_daily as r ({_KEY}, visits, seconds)
    select {_KEY}, sum(sign)::int, sum(sign * secs)::bigint from d
    group by {_KEY}
    having sum(sign) <> 0 or sum(sign * secs) <> 0
    order by {_KEY}
    on conflict ({_KEY}) do update
      set visits = r.visits + excluded.visits, seconds = r.seconds + excluded.seconds
    returning r.*)
    select array_agg(u) filter (where u.visits = 0) {{into}} from up as u"""
_DELETE_EMPTIED = """
    if emptied is not null then
      delete from resource_daily r using unnest(emptied) as e
      where (r.org_id, r.resource_id, r.local_day, r.location_id, r.status)
            = (e.org_id, e.resource_id, e.local_day, e.location_id, e.status) and r.visits = 0;
    end if;"""


def _apply(source: str) -> str:
    """PL/pgSQL that upserts the delta `source` (a SELECT of d's columns) without nested loops
    (the comment above _OCC_DELTA), then deletes the rows it emptied (by primary key, with the
    caller's enable_nestloop, kept in the function's variable `nestloop`)."""
    return f"""
    perform set_config('enable_nestloop', 'off', true);  -- hash joins: linear in the statement
    {_UPSERT.format(source=source, into="into emptied")};
    perform set_config('enable_nestloop', nestloop, true);{_DELETE_EMPTIED}"""


# occupancy: the statement's (appointment_id, resource_id, +1 per new row / -1 per old row)
_OCC_NEW = ("select n.org_id, n.appointment_id, n.resource_id, 1 as sign from new_rows n "
            "where n.kind = 'appointment' and n.appointment_id is not null")
_OCC_OLD = ("select o.org_id, o.appointment_id, o.resource_id, -1 as sign from old_rows o "
            "where o.kind = 'appointment' and o.appointment_id is not null")
_OCC_MOVED = ("(o.appointment_id, o.resource_id, o.kind) is distinct from (n.appointment_id, n.resource_id, n.kind)")
_OCC_UPDATE = (f"select n.org_id, n.appointment_id, n.resource_id, 1 as sign from old_rows o "
               f"join new_rows n on n.id = o.id "
               f"where {_OCC_MOVED} and n.kind = 'appointment' and n.appointment_id is not null "
               f"union all "
               f"select o.org_id, o.appointment_id, o.resource_id, -1 from old_rows o join new_rows n on n.id = o.id "
               f"where {_OCC_MOVED} and o.kind = 'appointment' and o.appointment_id is not null")

# per touched pair: rows now (after the statement, and every committed writer's) and before
# (now - this statement's net); a pair whose existence changed adds or removes its visit at
# the visit's current key. Each table is read once for the statement's appointments (`ids`)
# and joined by hash (the upsert runs with enable_nestloop off): linear in the statement's
# rows whatever the estimates. PL/pgSQL keeps the plan it made on the function's first run in
# a session; with nested loops, one made for a small statement (a transition table without
# statistics estimated at 25 rows, a new clinic's appointments or occupancy at 1) scanned the
# clinic's appointments outside and regrouped the statement's rows for each of them, or read
# the clinic's occupancy for each pair: the demo seed's 5,000-visit batches ran for minutes on
# PostgreSQL 15. The trigger functions also run with enable_seqscan off: the statement's rows
# are found by index whatever size the cached plan assumed.
_OCC_DELTA = f"""
    select a.org_id, s.resource_id, (a.start_at at time zone l.time_zone)::date as local_day,
           a.location_id, a.status, case when coalesce(n.now_n, 0) > 0 then 1 else -1 end as sign,
           extract(epoch from a.end_at - a.start_at) as secs
    from (select appointment_id, resource_id, sum(sign) as net from ({{pairs}}) t
          group by appointment_id, resource_id) s
    left join (select o.appointment_id, o.resource_id, count(*) as now_n from occupancy o
               where o.appointment_id = any (ids) and o.kind = 'appointment'
               group by o.appointment_id, o.resource_id) n
           on n.appointment_id = s.appointment_id and n.resource_id = s.resource_id
    join appointment a on a.id = s.appointment_id and a.id = any (ids)
    join location l on l.id = a.location_id
    where a.status in {_COUNTED} and (coalesce(n.now_n, 0) > 0) <> (coalesce(n.now_n, 0) - s.net > 0)"""

# appointment UPDATE: rows whose key changed with a counted status before or after
_APPT_CHANGED = f"""
    select o.id, o.org_id from old_rows o join new_rows n on n.id = o.id
    where (o.status in {_COUNTED} or n.status in {_COUNTED})
      and (o.org_id, o.location_id, o.start_at, o.end_at, o.status)
          is distinct from (n.org_id, n.location_id, n.start_at, n.end_at, n.status)"""
_APPT_DELTA = f"""
    select v.org_id, p.resource_id, (v.start_at at time zone l.time_zone)::date as local_day,
           v.location_id, v.status, v.sign, extract(epoch from v.end_at - v.start_at) as secs
    from (select n.id, n.org_id, n.location_id, n.start_at, n.end_at, n.status, 1 as sign
          from new_rows n where n.id = any (ids) and n.status in {_COUNTED}
          union all
          select o.id, o.org_id, o.location_id, o.start_at, o.end_at, o.status, -1
          from old_rows o where o.id = any (ids) and o.status in {_COUNTED}) v
    join (select distinct o.appointment_id, o.resource_id from occupancy o
          where o.appointment_id = any (ids) and o.kind = 'appointment') p on p.appointment_id = v.id
    join location l on l.id = v.location_id"""

# the advisory locks of the statement's appointments `ids` in clinics `orgs` (module docstring),
# in key order
_LOCK = f"""
  if cardinality(ids) > {BULK_APPOINTMENTS} then
    perform pg_advisory_xact_lock({CLINIC_LOCK}, x.o::int)
      from (select distinct o from unnest(orgs) as o order by o) as x;
  else
    perform pg_advisory_xact_lock_shared({CLINIC_LOCK}, x.o::int)
      from (select distinct o from unnest(orgs) as o order by o) as x;
    perform pg_advisory_xact_lock({APPOINTMENT_LOCK}, (x.a % 2147483647)::int)
      from (select distinct a from unnest(ids) as a order by a) as x;
  end if;"""

_FUNCTIONS = f"""
create or replace function medspa_resource_daily_occupancy_sync() returns trigger
  language plpgsql security definer set search_path = public, pg_temp
  set enable_seqscan = off as $$  -- index look-ups whatever the cached plan's estimates (above)
declare
  ids bigint[];
  orgs bigint[];
  emptied resource_daily[];
  nestloop text := current_setting('enable_nestloop');
begin
  if tg_op = 'INSERT' then
    select array_agg(distinct t.appointment_id), array_agg(distinct t.org_id) into ids, orgs from ({_OCC_NEW}) t;
  elsif tg_op = 'DELETE' then
    select array_agg(distinct t.appointment_id), array_agg(distinct t.org_id) into ids, orgs from ({_OCC_OLD}) t;
  else
    select array_agg(distinct t.appointment_id), array_agg(distinct t.org_id) into ids, orgs
    from ({_OCC_UPDATE}) t;
  end if;
  if ids is null then
    return null;  -- blocks, or only status / time changes: no pair appeared or disappeared
  end if;
  {_LOCK}
  -- a new statement after the locks: sees the committed rows of the other writers
  if tg_op = 'INSERT' then
    {_apply(_OCC_DELTA.format(pairs=_OCC_NEW))}
  elsif tg_op = 'DELETE' then
    {_apply(_OCC_DELTA.format(pairs=_OCC_OLD))}
  else
    {_apply(_OCC_DELTA.format(pairs=_OCC_UPDATE))}
  end if;
  return null;
end $$;

create or replace function medspa_resource_daily_appointment_sync() returns trigger
  language plpgsql security definer set search_path = public, pg_temp
  set enable_seqscan = off as $$  -- index look-ups whatever the cached plan's estimates (above)
declare
  ids bigint[];
  orgs bigint[];
  emptied resource_daily[];
  nestloop text := current_setting('enable_nestloop');
begin
  select array_agg(c.id), array_agg(distinct c.org_id) into ids, orgs from ({_APPT_CHANGED}) c;
  if ids is null then
    return null;
  end if;
  {_LOCK}
  {_apply(_APPT_DELTA)}
  return null;
end $$;

-- every row of the current clinic (app.org_id) from appointment and occupancy: the migration's
-- backfill, or a repair (e.g. after a location's time zone was changed by hand)
create or replace function medspa_resource_daily_backfill() returns void
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if medspa_current_org() is null then
    raise exception 'app.org_id is not set';
  end if;
  perform pg_advisory_xact_lock({CLINIC_LOCK}, medspa_current_org()::int);
  delete from resource_daily where org_id = medspa_current_org();
  insert into resource_daily ({_KEY}, visits, seconds)
  select a.org_id, p.resource_id, (a.start_at at time zone l.time_zone)::date, a.location_id, a.status,
         count(*), sum(extract(epoch from a.end_at - a.start_at))::bigint
  from (select distinct o.appointment_id, o.resource_id from occupancy o
        where o.org_id = medspa_current_org() and o.kind = 'appointment' and o.appointment_id is not null) p
  join appointment a on a.id = p.appointment_id
  join location l on l.id = a.location_id
  where a.org_id = medspa_current_org() and a.status in {_COUNTED}
  group by 1, 2, 3, 4, 5;
end $$;

revoke all on function medspa_resource_daily_occupancy_sync() from public;
revoke all on function medspa_resource_daily_appointment_sync() from public;
revoke all on function medspa_resource_daily_backfill() from public;

""" + statement_triggers_sql("occupancy", "resource_daily", "medspa_resource_daily_occupancy_sync") + """
create trigger appointment_z_resource_daily_update after update on appointment
  referencing old table as old_rows new table as new_rows
  for each statement execute function medspa_resource_daily_appointment_sync();
"""


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.create_table('resource_daily',
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.Column('resource_id', sa.BigInteger(), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('location_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    # the reports read the day range of a clinic's rooms (or devices): a range scan per resource
    sa.PrimaryKeyConstraint('org_id', 'resource_id', 'local_day', 'location_id', 'status'),
    )
    # room on each page for the upserts' new row versions: an update of visits / seconds (no
    # indexed column) then stays on its page (HOT), with no new index entry
    op.execute("alter table resource_daily set (fillfactor = 80)")
    # the app only reads it; the SECURITY DEFINER trigger functions write it (docstring)
    protect_tenant_table(op, "resource_daily", app_role, privileges="select", sequence=False)
    op.execute(_FUNCTIONS)

    for_each_clinic(op, "select medspa_resource_daily_backfill()")
    op.execute("analyze resource_daily")  # planner statistics right away


def downgrade() -> None:
    op.execute(drop_statement_triggers_sql("occupancy", "resource_daily") + """
        drop trigger if exists appointment_z_resource_daily_update on appointment;
        drop function if exists medspa_resource_daily_occupancy_sync();
        drop function if exists medspa_resource_daily_appointment_sync();
        drop function if exists medspa_resource_daily_backfill();
    """)
    op.drop_table('resource_daily')
