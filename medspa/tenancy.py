"""The one recipe that makes a table a tenant table (used by every migration).

Row-level security enabled and forced (the owner is subject to it too), one policy keyed on
the per-transaction app.org_id that fails closed when it is missing, and grants to the app
role. tests/test_tenancy.py checks the live catalog: every table with an org_id has it.
"""

from __future__ import annotations

TENANT_POLICY = "tenant_isolation"


def protect_tenant_table(op, table: str, app_role: str, *,
                         privileges: str | None = "select, insert, update, delete", sequence: bool = True) -> None:
    """Enable + force RLS on `table` with the tenant policy and grant `privileges` (None: no
    grants, the caller grants) and the id sequence to `app_role`. `op` is alembic's operations."""
    op.execute(f"""
        alter table {table} enable row level security;
        alter table {table} force row level security;
        create policy {TENANT_POLICY} on {table}
          using (org_id = medspa_current_org()) with check (org_id = medspa_current_org());
    """)
    if privileges is None:
        return
    op.execute(f'grant {privileges} on {table} to "{app_role}"')
    if sequence:
        op.execute(f'grant usage, select on sequence {table}_id_seq to "{app_role}"')


def statement_triggers_sql(source: str, name: str, function: str) -> str:
    """SQL creating three AFTER ... FOR EACH STATEMENT triggers on `source` (insert, update,
    delete; one per event because each references its own transition tables, and transition
    tables allow no column list) that call `function()` with the statement's rows as
    `new_rows` / `old_rows`: the way summary tables are kept exact (migrations 0012, 0015)."""
    return f"""
create trigger {source}_{name}_insert after insert on {source}
  referencing new table as new_rows for each statement execute function {function}();
create trigger {source}_{name}_update after update on {source}
  referencing old table as old_rows new table as new_rows
  for each statement execute function {function}();
create trigger {source}_{name}_delete after delete on {source}
  referencing old table as old_rows for each statement execute function {function}();
"""


def drop_statement_triggers_sql(source: str, name: str) -> str:
    """SQL dropping the three triggers statement_triggers_sql(source, name, ...) created."""
    return "".join(f"drop trigger if exists {source}_{name}_{event} on {source};\n"
                   for event in ("insert", "update", "delete"))


def for_each_clinic(op, sql: str) -> None:
    """Run `sql` once per organisation with app.org_id set to it: how a migration (run as the
    owner under FORCE row level security, where an unset app.org_id sees nothing) backfills
    tenant rows. app.org_id is cleared afterwards."""
    import sqlalchemy as sa

    bind = op.get_bind()
    for (org_id,) in bind.execute(sa.text("select id from organization order by id")).all():
        bind.execute(sa.text("select set_config('app.org_id', :org, true)"), {"org": str(org_id)})
        bind.execute(sa.text(sql))
    bind.execute(sa.text("select set_config('app.org_id', '', true)"))
