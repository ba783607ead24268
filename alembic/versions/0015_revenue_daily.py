"""revenue_daily: the ledger summed per clinic, location, local day, service and entry type, kept by triggers (issue 5).

The revenue reports (analytics/revenue.py: revenue by month / category / location / service /
month_category, ticket_summary's checkouts, sales and net, top_services) read a year of ledger
lines (~1M on the large clinic) and convert each to a local date: 4-16x a sequential scan of
appointment in bench/dashboard.py. Every one of those figures is a sum over lines grouped by
(location, local day, service, entry type), so this table holds exactly those sums:

- one row per (org_id, location_id, local_day, service_id, entry_type) that has ledger lines:
  lines = their count, amount_cents = their sum; no row without a line (lines > 0 always).
- only lines with a visit: ledger_entry.location_id and service_id (migration 0014, copied
  from the line's appointment, both NOT NULL there) are either both set or both NULL, and the
  reports drop lines without a location/service (they join location and service), so such
  lines are not in the table and the key columns are NOT NULL.
- local_day = (created_at AT TIME ZONE location.time_zone)::date, the rule of revenue.py.
- not by provider: ledger_entry carries no provider; revenue(by="provider") stays on the raw
  ledger (it looks each line's visit up), as do the drill-downs (*_rows list the lines) and
  ticket_summary's distinct clients (not a sum: read from the covering index below).

Kept exact by three statement-level AFTER triggers on ledger_entry (INSERT, UPDATE, DELETE,
each with its transition tables): the statement's delta, +1 line / +amount per new row and
-1 / -amount per old row (for an UPDATE only rows whose org, location, service, created_at,
entry type or amount changed, e.g. 0014's trigger moving the lines of an appointment moved to
another location or service), grouped by key, is upserted in key order (ON CONFLICT adds it;
concurrent writers of one key serialize on the row, no lost update), then rows left with 0
lines are deleted (found by the tiny partial index on lines = 0). A bulk INSERT ... SELECT of
a million lines pays one GROUP BY.

Time zones: a line's local day uses its location's zone at the time the line is written. The
app has no way to change a location's time zone (practice/service.add_location sets it once,
no UI edits it); a zone changed by hand in the database requires
`SELECT medspa_revenue_daily_backfill()` per clinic (app.org_id set, as the owner), which
rebuilds the clinic's rows from ledger_entry.

Security: as migration 0012. The functions are SECURITY DEFINER (owner), the app role only
gets SELECT on the table; the table is a tenant table (FORCE row level security) and the owner
NOBYPASSRLS, so the trigger writes the session's clinic only (the statement's own rows).

Backfill: per organisation with app.org_id set (set_config(..., true)), as 0012.

Also ix_ledger_entry_org_created_cover (org_id, created_at) INCLUDE (location_id, service_id,
client_id, appointment_id): ticket_summary's distinct clients of a range as an index-only scan.

Revision ID: 0015
Revises: 0014
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

revision: str = '0015'
down_revision: Union[str, None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_KEY = "org_id, location_id, local_day, service_id, entry_type"

# the statement's delta (d: org_id, location_id, service_id, created_at, entry_type, sign,
# amount_cents) grouped by key, upserted in key order, then emptied rows removed
_APPLY = """
    with d as ({source}),
    g as (
        select d.org_id, d.location_id, (d.created_at at time zone l.time_zone)::date as local_day,
               d.service_id, d.entry_type, sum(d.sign)::int as lines,
               sum(d.sign * d.amount_cents)::bigint as amount_cents
        from d join location l on l.id = d.location_id
        group by 1, 2, 3, 4, 5
        having sum(d.sign) <> 0 or sum(d.sign * d.amount_cents) <> 0)
    insert into revenue_daily as r ({key}, lines, amount_cents)
    select {key}, lines, amount_cents from g order by {key}
    on conflict ({key}) do update
      set lines = r.lines + excluded.lines, amount_cents = r.amount_cents + excluded.amount_cents;
    delete from revenue_daily where lines = 0;
"""
_NEW = ("select n.org_id, n.location_id, n.service_id, n.created_at, n.entry_type, 1 as sign, n.amount_cents "
        "from new_rows n where n.location_id is not null and n.service_id is not null")
_OLD = ("select o.org_id, o.location_id, o.service_id, o.created_at, o.entry_type, -1 as sign, o.amount_cents "
        "from old_rows o where o.location_id is not null and o.service_id is not null")
_CHANGED = ("(select o.id from old_rows o join new_rows n on n.id = o.id "
            "where (o.org_id, o.location_id, o.service_id, o.created_at, o.entry_type, o.amount_cents) "
            "is distinct from (n.org_id, n.location_id, n.service_id, n.created_at, n.entry_type, n.amount_cents))")
_UPDATE_SOURCE = (f"{_NEW} and n.id in (select id from changed) union all {_OLD} and o.id in (select id from changed)")

_FUNCTIONS = f"""
create or replace function medspa_revenue_daily_sync() returns trigger
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

-- every row of the current clinic (app.org_id) from ledger_entry: the migration's backfill, or a
-- repair (e.g. after a location's time zone was changed by hand)
create or replace function medspa_revenue_daily_backfill() returns void
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if medspa_current_org() is null then
    raise exception 'app.org_id is not set';
  end if;
  perform pg_advisory_xact_lock(1200150001, medspa_current_org()::int);
  lock table revenue_daily in share row exclusive mode;
  delete from revenue_daily where org_id = medspa_current_org();
  insert into revenue_daily ({_KEY}, lines, amount_cents)
  select e.org_id, e.location_id, (e.created_at at time zone l.time_zone)::date, e.service_id, e.entry_type,
         count(*), sum(e.amount_cents)
  from ledger_entry e join location l on l.id = e.location_id
  where e.org_id = medspa_current_org() and e.location_id is not null and e.service_id is not null
  group by 1, 2, 3, 4, 5;
end $$;

revoke all on function medspa_revenue_daily_sync() from public;
revoke all on function medspa_revenue_daily_backfill() from public;

""" + statement_triggers_sql("ledger_entry", "revenue_daily", "medspa_revenue_daily_sync")


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.create_table('revenue_daily',
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.Column('location_id', sa.BigInteger(), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('service_id', sa.BigInteger(), nullable=False),
    sa.Column('entry_type', sa.String(), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('org_id', 'location_id', 'local_day', 'service_id', 'entry_type'),
    )
    # the reports read a clinic's day range (all locations); the primary key serves one location
    op.execute("create index ix_revenue_daily_day on revenue_daily (org_id, local_day) "
               "include (location_id, service_id, entry_type, lines, amount_cents)")
    op.execute("create index ix_revenue_daily_empty on revenue_daily (org_id) where lines = 0")
    op.execute("create index if not exists ix_ledger_entry_org_created_cover on ledger_entry (org_id, created_at) "
               "include (location_id, service_id, client_id, appointment_id)")
    # the app only reads it; the SECURITY DEFINER trigger functions write it (docstring)
    protect_tenant_table(op, "revenue_daily", app_role, privileges="select", sequence=False)
    op.execute(_FUNCTIONS)

    for_each_clinic(op, "select medspa_revenue_daily_backfill()")


def downgrade() -> None:
    op.execute(drop_statement_triggers_sql("ledger_entry", "revenue_daily") + """
        drop function if exists medspa_revenue_daily_sync();
        drop function if exists medspa_revenue_daily_backfill();
        drop index if exists ix_ledger_entry_org_created_cover;
    """)
    op.drop_table('revenue_daily')
