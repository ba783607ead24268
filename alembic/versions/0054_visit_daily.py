"""visit_daily: the appointments counted per clinic, location, local day, provider and status, kept by triggers (issue 20).

The visit figures of the owners' dashboard (analytics/service.py no_show_rate, cancellations,
the booked / attended minutes of utilization; trends.py monthly_trend's due, no-show,
scheduled and cancellation counts) read every appointment of the range and convert each
start to a local date: over 365 days of the large clinic (bench/dashboard.py) that is several
times a sequential scan of appointment. Each of those figures is a count or a sum over
appointments grouped by (location, local day, provider, status), so this table holds exactly
those sums:

- one row per (org_id, location_id, local_day, provider_id, status) that has appointments:
  visits = their count, late = how many have cancellation_late true, seconds = the sum of
  their service seconds (end_at - start_at, buffers excluded); no row without a visit
  (visits > 0 always).
- only the statuses the reports count: confirmed, checked_in, completed, no_show and
  cancelled (held and expired slots never were appointments, and leaving them out keeps the
  booking path's hold writes away from this table).
- local_day = (start_at AT TIME ZONE location.time_zone)::date, the rule of service.py.
- minutes: the reports sum seconds and convert once ((sum(seconds) / 60)::bigint, numeric),
  as they summed each visit's minutes before: equal for visits of whole minutes (every
  appointment the app writes: services last whole minutes).

Kept exact by three statement-level AFTER triggers on appointment (INSERT, UPDATE, DELETE,
with transition tables), as revenue_daily (migration 0015): the statement's delta (+1 per new
row, -1 per old row; for an UPDATE only rows whose org, location, provider, start, end, status
or cancellation_late changed), grouped by key, upserted in key order with ON CONFLICT adding
it (concurrent writers of one key serialize on the row: no lost update), then rows left with
0 visits deleted (partial index on visits = 0).

Time zones: a visit's local day uses its location's zone when the row is written; the app
never changes a location's zone (see 0015); after a change by hand run
`SELECT medspa_visit_daily_backfill()` per clinic (app.org_id set, as the owner).

Security: as 0012/0015: SECURITY DEFINER functions owned by the (NOBYPASSRLS) owner, FORCE row
level security with the tenant policy, the app role only SELECTs.

Backfill: per organisation with app.org_id set, in the migration.

visit_rebooking: the rebooking flags of every completed visit with a client, for the default
window of 90 days (analytics/service.py REBOOKING_WINDOW_DAYS; the reports read it only for
that window): one row per visit with its location, local day and
- rebooked = some other booking b of the same client (status not held/expired) starting after
  the visit, created in [visit start, visit end + 90 days];
- before_leaving = some such b starting after the visit with b.rebooked_from_id = the visit,
  or created at or after the visit's start on the visit's local day (in its zone);
the literal definition of service.py's module docstring. rebooking() counts rebooked OR
before_leaving, as its set-based SQL does. A visit's flags depend on the client's other
appointments, so the triggers (as 0012's) collect the clients a statement may have changed
(a row not held/expired before or after whose status, start, end, creation, client, location,
rebooked_from_id or clinic changed, or that was inserted or deleted) and recompute those
clients' visits from appointment (index ix_appointment_client), upserting changed flags and
deleting rows of visits no longer completed. Concurrency as 0012: a transaction-level advisory
lock per client (the clinic's in shared mode; exclusive for a statement over more than 64
clients) before the recompute, whose statement takes a new snapshot (READ COMMITTED) and so
sees the other writer's committed rows: no lost update.

Revision ID: 0054
Revises: 0053
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

revision: str = '0054'
down_revision: Union[str, None] = '0053'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_KEY = "org_id, location_id, local_day, provider_id, status"
_COUNTED = "('confirmed', 'checked_in', 'completed', 'no_show', 'cancelled')"
# visit_rebooking: the window its flags are kept for (= service.REBOOKING_WINDOW_DAYS today; the
# reports use the table only when asked for this window), advisory lock keys (two-int form:
# (CLINIC_LOCK, org_id), (CLIENT_LOCK, client_id mod 2^31)) and the bulk threshold, as 0012
WINDOW_DAYS = 90
CLINIC_LOCK = 1200540002
CLIENT_LOCK = 1200540003
BULK_CLIENTS = 64

# the statement's delta (d: org_id, location_id, provider_id, start_at, end_at, status, late,
# sign) grouped by key, upserted in key order, then emptied rows removed
_APPLY = """
    with d as ({source}),
    g as (
        select d.org_id, d.location_id, (d.start_at at time zone l.time_zone)::date as local_day,
               d.provider_id, d.status, sum(d.sign)::int as visits,
               sum(d.sign) filter (where d.late) ::int as late,
               sum(d.sign * extract(epoch from d.end_at - d.start_at))::bigint as seconds
        from d join location l on l.id = d.location_id
        group by 1, 2, 3, 4, 5
        having sum(d.sign) <> 0 or coalesce(sum(d.sign) filter (where d.late), 0) <> 0
            or sum(d.sign * extract(epoch from d.end_at - d.start_at)) <> 0)
    insert into visit_daily as r ({key}, visits, late, seconds)
    select {key}, visits, coalesce(late, 0), seconds from g order by {key}
    on conflict ({key}) do update
      set visits = r.visits + excluded.visits, late = r.late + excluded.late,
          seconds = r.seconds + excluded.seconds;
    delete from visit_daily where visits = 0;
"""
_COLS = "{t}.org_id, {t}.location_id, {t}.provider_id, {t}.start_at, {t}.end_at, {t}.status, " \
        "coalesce({t}.cancellation_late, false) as late"
_NEW = f"select {_COLS.format(t='n')}, 1 as sign from new_rows n where n.status in {_COUNTED}"
_OLD = f"select {_COLS.format(t='o')}, -1 as sign from old_rows o where o.status in {_COUNTED}"
_CHANGED = ("(select o.id from old_rows o join new_rows n on n.id = o.id "
            "where (o.org_id, o.location_id, o.provider_id, o.start_at, o.end_at, o.status, o.cancellation_late) "
            "is distinct from (n.org_id, n.location_id, n.provider_id, n.start_at, n.end_at, n.status, "
            "n.cancellation_late))")
_UPDATE_SOURCE = f"{_NEW} and n.id in (select id from changed) union all {_OLD} and o.id in (select id from changed)"

_FUNCTIONS = f"""
create or replace function medspa_visit_daily_sync() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if tg_op = 'INSERT' then
    {_APPLY.format(source=_NEW, key=_KEY)}
  elsif tg_op = 'DELETE' then
    {_APPLY.format(source=_OLD, key=_KEY)}
  else
    {_APPLY.format(source=_UPDATE_SOURCE, key=_KEY).replace("with d as", f"with changed as {_CHANGED}, d as", 1)}
  end if;
  return null;
end $$;

-- every row of the current clinic (app.org_id) from appointment: the migration's backfill, or a
-- repair (e.g. after a location's time zone was changed by hand)
create or replace function medspa_visit_daily_backfill() returns void
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if medspa_current_org() is null then
    raise exception 'app.org_id is not set';
  end if;
  perform pg_advisory_xact_lock(1200540001, medspa_current_org()::int);
  lock table visit_daily in share row exclusive mode;
  delete from visit_daily where org_id = medspa_current_org();
  insert into visit_daily ({_KEY}, visits, late, seconds)
  select a.org_id, a.location_id, (a.start_at at time zone l.time_zone)::date, a.provider_id, a.status,
         count(*), count(*) filter (where a.cancellation_late),
         sum(extract(epoch from a.end_at - a.start_at))::bigint
  from appointment a join location l on l.id = a.location_id
  where a.org_id = medspa_current_org() and a.status in {_COUNTED}
  group by 1, 2, 3, 4, 5;
end $$;

-- the clients' completed visits' rebooking flags (module docstring: visit_rebooking)
create or replace function medspa_visit_rebooking_refresh(p_orgs bigint[], p_clients bigint[])
  returns void language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if p_clients is null or cardinality(p_clients) = 0 then
    return;
  end if;
  if cardinality(p_clients) > {BULK_CLIENTS} then
    perform pg_advisory_xact_lock({CLINIC_LOCK}, x.o::int)
      from (select distinct o from unnest(p_orgs) as o order by o) as x;
  else
    perform pg_advisory_xact_lock_shared({CLINIC_LOCK}, x.o::int)
      from (select distinct o from unnest(p_orgs) as o order by o) as x;
    perform pg_advisory_xact_lock({CLIENT_LOCK}, (x.c % 2147483647)::int)
      from (select distinct c from unnest(p_clients) as c order by c) as x;
  end if;
  with touched as (
      select distinct t.o as org_id, t.c as client_id from unnest(p_orgs, p_clients) as t(o, c)
      where t.c is not null),
  fresh as (
      select v.org_id, v.id, v.client_id, v.location_id, (v.start_at at time zone l.time_zone)::date as local_day,
             exists (select 1 from appointment b
                     where b.org_id = v.org_id and b.client_id = v.client_id and b.id <> v.id
                       and b.status not in ('held', 'expired') and b.start_at > v.start_at
                       and b.created_at >= v.start_at
                       and b.created_at <= v.end_at + interval '{WINDOW_DAYS} days') as rebooked,
             exists (select 1 from appointment b
                     where b.org_id = v.org_id and b.client_id = v.client_id and b.id <> v.id
                       and b.status not in ('held', 'expired') and b.start_at > v.start_at
                       and (b.rebooked_from_id = v.id
                            or (b.created_at >= v.start_at
                                and (b.created_at at time zone l.time_zone)::date
                                    = (v.start_at at time zone l.time_zone)::date))) as before_leaving
      from touched t
      join appointment v on v.org_id = t.org_id and v.client_id = t.client_id and v.status = 'completed'
      join location l on l.id = v.location_id),
  upserted as (
      insert into visit_rebooking as x (org_id, appointment_id, client_id, location_id, local_day, rebooked,
                                        before_leaving)
      select org_id, id, client_id, location_id, local_day, rebooked, before_leaving from fresh
      order by org_id, id
      on conflict (org_id, appointment_id) do update set
        client_id = excluded.client_id, location_id = excluded.location_id, local_day = excluded.local_day,
        rebooked = excluded.rebooked, before_leaving = excluded.before_leaving
      where (x.client_id, x.location_id, x.local_day, x.rebooked, x.before_leaving)
            is distinct from (excluded.client_id, excluded.location_id, excluded.local_day, excluded.rebooked,
                              excluded.before_leaving)
      returning 1)
  delete from visit_rebooking x using touched t
  where x.org_id = t.org_id and x.client_id = t.client_id
    and not exists (select 1 from fresh f where f.org_id = x.org_id and f.id = x.appointment_id);
end $$;

create or replace function medspa_visit_rebooking_sync() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
declare
  orgs bigint[];
  clients bigint[];
begin
  if tg_op = 'INSERT' then
    select array_agg(t.org_id), array_agg(t.client_id) into orgs, clients
    from (select distinct n.org_id, n.client_id from new_rows n
          where n.status not in ('held', 'expired') and n.client_id is not null) as t;
  elsif tg_op = 'DELETE' then
    select array_agg(t.org_id), array_agg(t.client_id) into orgs, clients
    from (select distinct o.org_id, o.client_id from old_rows o
          where o.status not in ('held', 'expired') and o.client_id is not null) as t;
  else
    -- a row not held/expired (before or after) whose relevant columns changed
    select array_agg(t.org_id), array_agg(t.client_id) into orgs, clients
    from (select distinct k.org_id, k.client_id
          from old_rows o join new_rows n on n.id = o.id
          cross join lateral (values (o.org_id, o.client_id), (n.org_id, n.client_id)) as k(org_id, client_id)
          where k.client_id is not null
            and not (o.status in ('held', 'expired') and n.status in ('held', 'expired'))
            and (o.status, o.start_at, o.end_at, o.created_at, o.client_id, o.location_id, o.rebooked_from_id,
                 o.org_id)
                is distinct from (n.status, n.start_at, n.end_at, n.created_at, n.client_id, n.location_id,
                                  n.rebooked_from_id, n.org_id)) as t;
  end if;
  perform medspa_visit_rebooking_refresh(orgs, clients);
  return null;
end $$;

-- every client of the current clinic (app.org_id): the migration's backfill, or a repair
create or replace function medspa_visit_rebooking_backfill() returns void
  language plpgsql security definer set search_path = public, pg_temp as $$
declare
  orgs bigint[];
  clients bigint[];
begin
  if medspa_current_org() is null then
    raise exception 'app.org_id is not set';
  end if;
  select array_agg(t.org_id), array_agg(t.client_id) into orgs, clients
  from (select a.org_id, a.client_id from appointment a
        where a.org_id = medspa_current_org() and a.status = 'completed' and a.client_id is not null
        union
        select r.org_id, r.client_id from visit_rebooking r where r.org_id = medspa_current_org()) as t;
  perform medspa_visit_rebooking_refresh(orgs, clients);
end $$;

revoke all on function medspa_visit_rebooking_refresh(bigint[], bigint[]) from public;
revoke all on function medspa_visit_rebooking_sync() from public;
revoke all on function medspa_visit_rebooking_backfill() from public;
revoke all on function medspa_visit_daily_sync() from public;
revoke all on function medspa_visit_daily_backfill() from public;

""" + statement_triggers_sql("appointment", "visit_daily", "medspa_visit_daily_sync") \
  + statement_triggers_sql("appointment", "visit_rebooking", "medspa_visit_rebooking_sync")


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.create_table('visit_daily',
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.Column('location_id', sa.BigInteger(), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('provider_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('late', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('org_id', 'location_id', 'local_day', 'provider_id', 'status'),
    )
    # the reports read a clinic's day range (all locations); the primary key serves one location
    op.execute("create index ix_visit_daily_day on visit_daily (org_id, local_day) "
               "include (location_id, provider_id, status, visits, late, seconds)")
    op.execute("create index ix_visit_daily_empty on visit_daily (org_id) where visits = 0")
    # the app only reads it; the SECURITY DEFINER trigger functions write it (docstring)
    protect_tenant_table(op, "visit_daily", app_role, privileges="select", sequence=False)

    op.create_table('visit_rebooking',
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.Column('appointment_id', sa.BigInteger(), nullable=False),
    sa.Column('client_id', sa.BigInteger(), nullable=False),
    sa.Column('location_id', sa.BigInteger(), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('rebooked', sa.Boolean(), nullable=False),
    sa.Column('before_leaving', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('org_id', 'appointment_id'),
    )
    # the reports count a clinic's day range (index-only); the refresh finds a client's rows
    op.execute("create index ix_visit_rebooking_day on visit_rebooking (org_id, local_day) "
               "include (location_id, rebooked, before_leaving)")
    op.execute("create index ix_visit_rebooking_client on visit_rebooking (org_id, client_id)")
    protect_tenant_table(op, "visit_rebooking", app_role, privileges="select", sequence=False)
    op.execute(_FUNCTIONS)

    for_each_clinic(op, "select medspa_visit_daily_backfill()")
    for_each_clinic(op, "select medspa_visit_rebooking_backfill()")
    # planner statistics for the new tables right away (autovacuum would come later)
    op.execute("analyze visit_daily")
    op.execute("analyze visit_rebooking")


def downgrade() -> None:
    op.execute(drop_statement_triggers_sql("appointment", "visit_daily")
               + drop_statement_triggers_sql("appointment", "visit_rebooking") + """
        drop function if exists medspa_visit_daily_sync();
        drop function if exists medspa_visit_daily_backfill();
        drop function if exists medspa_visit_rebooking_sync();
        drop function if exists medspa_visit_rebooking_backfill();
        drop function if exists medspa_visit_rebooking_refresh(bigint[], bigint[]);
    """)
    op.drop_table('visit_rebooking')
    op.drop_table('visit_daily')
