"""Every tenant table, read from the live catalog, is protected the same way."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session


def test_every_table_with_an_org_id_has_forced_rls_and_the_tenant_policy(owner_engine, engine):
    """Forced RLS everywhere, except on a table the app role may not touch at all (e.g.
    client_search, migration 0031: read only through the owner's SECURITY DEFINER search
    function, where forced RLS would forbid its trigram indexes), which still has RLS
    enabled with the tenant policy."""
    app_role = engine.url.username
    with Session(owner_engine) as s:
        rows = s.execute(text("""
            select c.relname, c.relrowsecurity,
                   c.relforcerowsecurity or not has_table_privilege(:app, c.oid, 'select, insert, update, delete'),
                   exists (select 1 from pg_policy p where p.polrelid = c.oid and p.polname = 'tenant_isolation')
            from pg_class c
            join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
            where c.relkind = 'r'
              and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'org_id'
                          and not a.attisdropped)
            order by c.relname"""), {"app": app_role}).all()
    assert len(rows) >= 25
    unprotected = [name for name, enabled, forced, policy in rows if not (enabled and forced and policy)]
    assert unprotected == []


def test_the_app_role_can_neither_bypass_rls_nor_own_tables(engine):
    with Session(engine) as s:
        role = s.execute(text("select rolsuper, rolbypassrls from pg_roles where rolname = current_user")).one()
        owned = s.execute(text("select count(*) from pg_tables where schemaname = 'public' "
                               "and tableowner = current_user")).scalar()
    assert tuple(role) == (False, False) and owned == 0


def test_a_savepoint_keeps_the_tenant_without_setting_it_again(engine, owner_engine):
    """The per-transaction app.org_id is set once when the transaction begins: a savepoint
    (session.begin_nested, e.g. each booking insert) runs inside it under the same clinic and
    sends no set_config of its own (one round trip less per booking), also after a savepoint
    rolled back."""
    from sqlalchemy import event

    from medspa.db import tenant_session
    from tests.factories import build_clinic

    clinic = build_clinic(engine, owner_engine)
    build_clinic(engine, owner_engine)  # another clinic's rows exist and stay invisible
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with tenant_session(clinic.org_id, engine) as s:
            assert s.execute(text("select current_setting('app.org_id')")).scalar() == str(clinic.org_id)
            try:
                with s.begin_nested():
                    s.execute(text("select 1/0"))
            except Exception:  # noqa: BLE001 - the savepoint rolls back
                pass
            with s.begin_nested():
                inside = s.execute(text("select current_setting('app.org_id')")).scalar()
                orgs = s.execute(text("select distinct org_id from location")).scalars().all()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert inside == str(clinic.org_id) and orgs == [clinic.org_id]
    assert sum("set_config('app.org_id'" in st for st in sent) == 1
