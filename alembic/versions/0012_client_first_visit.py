"""client_first_visit: each client's first and second completed visits, kept by triggers (issue 5).

The owners' dashboard asks "whose first completed visit falls in this range" (new clients,
analytics/service.py) and "did they come back within N days" (retention, analytics/cohorts.py)
on every load. Answering from `appointment` means a DISTINCT ON over the clinic's whole history
(~10x a sequential scan of appointment on the large clinic). This table holds the answer per
client, so both become an index range scan on (org_id, first_start_at):

- first visit = the client's earliest completed visit (start_at, then id), any location;
- second visit = the earliest completed visit (start_at, then id) that starts strictly after
  the first visit's start: exactly the visits cohorts.py counts as a return, so "returned
  within N days" is `second_start_at <= first local start + N days`.

Kept exact by three statement-level AFTER triggers on appointment (INSERT, UPDATE, DELETE; one
each, since each references its own transition tables, and transition tables allow no column
list). Each collects the clients whose completed visits the statement may have changed
(status, start, client, location or clinic of a completed row, before or after) and calls
medspa_client_first_visit_refresh, which recomputes those clients' two visits from
appointment (index ix_appointment_client (org_id, client_id, start_at)) and upserts / deletes
their rows. A bulk INSERT ... SELECT of a million visits pays once per statement.

Security: the functions are SECURITY DEFINER (owner), so the app role only gets SELECT on the
table and cannot write it directly. The owner is NOBYPASSRLS and the table is a tenant table
(FORCE row level security), so inside the trigger the tenant policy still applies with the
session's app.org_id; every query is also keyed on the (org_id, client_id) pairs of the
statement's own rows. A superuser owner would bypass RLS, and the keys still confine it.

Concurrency (READ COMMITTED): two transactions completing visits of one client at once would
each recompute from a snapshot without the other's visit. The refresh takes a transaction-level
advisory lock per client (and the clinic's lock in shared mode) before recomputing, so the
second waits for the first to commit and its recompute (a new snapshot) sees both; a statement
touching more than 64 clients (bulk seeds) takes the clinic's lock in exclusive mode instead
of one lock per client (the lock table is small).

The appointment ids reference appointment with DEFERRABLE INITIALLY DEFERRED foreign keys:
deleting a first visit is checked at commit, after the statement trigger moved the row on.

Backfill: migrations run as the owner under FORCE row level security with app.org_id unset
(every tenant query sees nothing), so the upgrade sets app.org_id (set_config(..., true))
to each organisation in turn and runs medspa_client_first_visit_backfill(), which recomputes
every client of the current clinic (also callable later to repair one clinic).

Revision ID: 0012
Revises: 0011
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

revision: str = '0012'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# advisory lock keys (two-int form): (CLINIC_LOCK, org_id) and (CLIENT_LOCK, client_id mod 2^31)
CLINIC_LOCK = 1200120001
CLIENT_LOCK = 1200120002
BULK_CLIENTS = 64

_FUNCTIONS = f"""
create or replace function medspa_client_first_visit_refresh(p_orgs bigint[], p_clients bigint[])
  returns void language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if p_clients is null or cardinality(p_clients) = 0 then
    return;
  end if;
  -- serialize recomputes of one client (module docstring of migration 0012)
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
      select t.org_id, t.client_id, f.id as first_id, f.location_id, f.start_at as first_at,
             s.id as second_id, s.start_at as second_at
      from touched t
      join lateral (
          select a.id, a.location_id, a.start_at from appointment a
          where a.org_id = t.org_id and a.client_id = t.client_id and a.status = 'completed'
          order by a.start_at, a.id limit 1) as f on true
      left join lateral (
          select a.id, a.start_at from appointment a
          where a.org_id = t.org_id and a.client_id = t.client_id and a.status = 'completed'
            and a.start_at > f.start_at
          order by a.start_at, a.id limit 1) as s on true),
  upserted as (
      insert into client_first_visit as x (org_id, client_id, first_appointment_id, first_location_id,
                                           first_start_at, second_appointment_id, second_start_at)
      select org_id, client_id, first_id, location_id, first_at, second_id, second_at from fresh
      on conflict (org_id, client_id) do update set
        first_appointment_id = excluded.first_appointment_id, first_location_id = excluded.first_location_id,
        first_start_at = excluded.first_start_at, second_appointment_id = excluded.second_appointment_id,
        second_start_at = excluded.second_start_at
      where (x.first_appointment_id, x.first_location_id, x.first_start_at, x.second_appointment_id, x.second_start_at)
            is distinct from (excluded.first_appointment_id, excluded.first_location_id, excluded.first_start_at,
                              excluded.second_appointment_id, excluded.second_start_at)
      returning 1)
  delete from client_first_visit x using touched t
  where x.org_id = t.org_id and x.client_id = t.client_id
    and not exists (select 1 from appointment a where a.org_id = t.org_id and a.client_id = t.client_id
                                                  and a.status = 'completed');
end $$;

create or replace function medspa_client_first_visit_sync() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
declare
  orgs bigint[];
  clients bigint[];
begin
  if tg_op = 'INSERT' then
    select array_agg(t.org_id), array_agg(t.client_id) into orgs, clients
    from (select distinct n.org_id, n.client_id from new_rows n
          where n.status = 'completed' and n.client_id is not null) as t;
  elsif tg_op = 'DELETE' then
    select array_agg(t.org_id), array_agg(t.client_id) into orgs, clients
    from (select distinct o.org_id, o.client_id from old_rows o
          where o.status = 'completed' and o.client_id is not null) as t;
  else
    -- a completed row (before or after) whose status, start, client, location or clinic changed
    select array_agg(t.org_id), array_agg(t.client_id) into orgs, clients
    from (select distinct k.org_id, k.client_id
          from old_rows o full join new_rows n on n.id = o.id
          cross join lateral (values (o.org_id, o.client_id, o.status), (n.org_id, n.client_id, n.status))
            as k(org_id, client_id, status)
          where k.status = 'completed' and k.client_id is not null
            and (o.id is null or n.id is null
                 or (o.status, o.start_at, o.client_id, o.location_id, o.org_id)
                    is distinct from (n.status, n.start_at, n.client_id, n.location_id, n.org_id))) as t;
  end if;
  perform medspa_client_first_visit_refresh(orgs, clients);
  return null;
end $$;

-- every client of the current clinic (app.org_id): the migration's backfill, or a repair
create or replace function medspa_client_first_visit_backfill() returns void
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
        select f.org_id, f.client_id from client_first_visit f where f.org_id = medspa_current_org()) as t;
  perform medspa_client_first_visit_refresh(orgs, clients);
end $$;

revoke all on function medspa_client_first_visit_refresh(bigint[], bigint[]) from public;
revoke all on function medspa_client_first_visit_backfill() from public;
revoke all on function medspa_client_first_visit_sync() from public;

""" + statement_triggers_sql("appointment", "first_visit", "medspa_client_first_visit_sync")


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.create_table('client_first_visit',
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.Column('client_id', sa.BigInteger(), nullable=False),
    sa.Column('first_appointment_id', sa.BigInteger(), nullable=False),
    sa.Column('first_location_id', sa.BigInteger(), nullable=False),
    sa.Column('first_start_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('second_appointment_id', sa.BigInteger(), nullable=True),
    sa.Column('second_start_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.ForeignKeyConstraint(['first_location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['first_appointment_id'], ['appointment.id'], deferrable=True, initially='DEFERRED'),
    sa.ForeignKeyConstraint(['second_appointment_id'], ['appointment.id'], deferrable=True, initially='DEFERRED'),
    sa.PrimaryKeyConstraint('org_id', 'client_id'),
    )
    op.create_index('ix_client_first_visit_first', 'client_first_visit', ['org_id', 'first_start_at'], unique=False)
    # the app only reads it; the SECURITY DEFINER trigger functions write it (docstring)
    protect_tenant_table(op, "client_first_visit", app_role, privileges="select", sequence=False)
    op.execute(_FUNCTIONS)

    for_each_clinic(op, "select medspa_client_first_visit_backfill()")


def downgrade() -> None:
    op.execute(drop_statement_triggers_sql("appointment", "first_visit") + """
        drop function if exists medspa_client_first_visit_sync();
        drop function if exists medspa_client_first_visit_backfill();
        drop function if exists medspa_client_first_visit_refresh(bigint[], bigint[]);
    """)
    op.drop_index('ix_client_first_visit_first', table_name='client_first_visit')
    op.drop_table('client_first_visit')
