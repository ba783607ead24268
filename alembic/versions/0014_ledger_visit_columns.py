"""ledger_entry.location_id / service_id: each ledger line's visit location and service, kept by triggers (issue 5).

The revenue reports (analytics/revenue.py) cut ledger lines at the local midnight of their
visit's location and group them by the visit's service category. Joining every line of a year
(~1M on the large clinic) to `appointment` hashes the whole appointment table (~15x a
sequential scan of appointment for 365 days in bench/dashboard.py, ~3x even for 30 days). The
two columns the reports need are copied onto the line, so a report reads only the ledger's
date range (index (org_id, created_at) of 0011) plus the tiny location and service tables:

- location_id, service_id: NULL for a line without an appointment, else the appointment's.
- BEFORE INSERT OR UPDATE OF appointment_id ON ledger_entry (row trigger): copies them from
  the appointment (the writer's session, row-level security as usual). Writers and seeds
  need no change.
- AFTER UPDATE OF location_id, service_id ON appointment: updates that visit's lines
  (SECURITY DEFINER: the app role may not update ledger lines; the owner is NOBYPASSRLS and
  the table FORCEs row-level security, so only the session's clinic is touched).
- backfill per clinic (row-level security: app.org_id set for each).

Revision ID: 0014
Revises: 0013
"""
from typing import Sequence, Union

from alembic import op

from medspa.tenancy import for_each_clinic

revision: str = '0014'
down_revision: Union[str, None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_FUNCTIONS = """
create or replace function medspa_ledger_entry_visit() returns trigger
language plpgsql set search_path = public, pg_temp as $$
begin
    if new.appointment_id is null then
        new.location_id := null;
        new.service_id := null;
    else
        select a.location_id, a.service_id into new.location_id, new.service_id
        from appointment a where a.id = new.appointment_id;
    end if;
    return new;
end $$;

create or replace function medspa_appointment_ledger_visit() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
    update ledger_entry e set location_id = new.location_id, service_id = new.service_id
    where e.appointment_id = new.id
      and (e.location_id is distinct from new.location_id or e.service_id is distinct from new.service_id);
    return null;
end $$;

create trigger ledger_entry_visit before insert or update of appointment_id on ledger_entry
  for each row execute function medspa_ledger_entry_visit();
create trigger appointment_ledger_visit after update of location_id, service_id on appointment
  for each row when (old.location_id is distinct from new.location_id or old.service_id is distinct from new.service_id)
  execute function medspa_appointment_ledger_visit();
"""


def upgrade() -> None:
    op.execute("alter table ledger_entry add column if not exists location_id bigint, "
               "add column if not exists service_id bigint")
    op.execute(_FUNCTIONS)
    for_each_clinic(op, """
        update ledger_entry e set location_id = a.location_id, service_id = a.service_id
        from appointment a where a.id = e.appointment_id""")


def downgrade() -> None:
    op.execute("""
        drop trigger if exists appointment_ledger_visit on appointment;
        drop trigger if exists ledger_entry_visit on ledger_entry;
        drop function if exists medspa_appointment_ledger_visit();
        drop function if exists medspa_ledger_entry_visit();
        alter table ledger_entry drop column if exists service_id, drop column if exists location_id;
    """)
