"""Client search (issue 14, section 1): folded names and trigram indexes the search can use.

Why a side table: client has FORCE row level security, and PostgreSQL only turns a condition
into an index condition under a policy when its operator is LEAKPROOF. LIKE (textlike) is
not (and only a superuser may declare it so), so on client itself `search_name LIKE
'%nunez%'` is always a filter over every row of the clinic, whatever index exists (measured:
the planner walks ix_client_org_id over all 60,000 rows). So the searchable text lives in
client_search, one row per client, without row level security, which the app role cannot
read at all: it asks medspa_client_search(...), a SECURITY DEFINER function (owner) that
keys every query on medspa_current_org() (unset: NULL, nothing matches), the pattern of the
sign-in lookups of migration 0001. RLS on client is untouched; the app reads the rows the
function names through it as before.

- Extensions pg_trgm and unaccent (trusted from PostgreSQL 13 on: the schema owner may
  create them; the embedded server's bootstrap creates them as superuser, like btree_gist).
- medspa_fold(text) = lower(unaccent(text)), declared IMMUTABLE (unaccent is STABLE only
  because its dictionary could change; ours does not): "Núñez" -> "nunez". The one
  definition of folded text: the trigger and the search both call it.
- client_search (client_id, org_id, search_name = medspa_fold(first || ' ' || last),
  email = lower(email), phone_e164, and the list's sort keys created_at, last_name,
  first_name, so a search orders and cuts its page before reading any client row), kept by an AFTER INSERT OR UPDATE trigger on client
  (every writer: the app, the bulk demo loaders in SQL, a later import); deleted with the
  client (ON DELETE CASCADE). GIN trigram indexes on each text column.
- medspa_client_search(words text[], email text, phone_exact text, phone_like text): (id,
  created_at, last_name, first_name) of the clinic's clients whose folded name contains every word (each LIKE-escaped by the
  caller), or whose email contains `email`, or whose phone is `phone_exact` or LIKE
  `phone_like`; NULL / empty arguments match nothing.
- btree (org_id, date_of_birth) and (org_id, created_at desc, id desc) on client: the date
  of birth search and the "newest" view's keyset paging (equality and ordering are
  leakproof: usable under the policy).

Backfill runs per clinic (the owner sees a clinic's clients only with app.org_id set).

Revision ID: 0031
Revises: 0028 (re-chained at merge)
"""
from typing import Sequence, Union

from alembic import op

from medspa.tenancy import for_each_clinic

revision: str = '0031'
down_revision: Union[str, None] = '0030'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.execute("create extension if not exists pg_trgm")
    op.execute("create extension if not exists unaccent")
    op.execute("""
        create or replace function medspa_fold(text) returns text
          language sql immutable strict parallel safe set search_path = public, pg_temp
          as $$ select lower(unaccent('unaccent'::regdictionary, $1)) $$;
    """)
    op.execute("""
        create table client_search (
          client_id bigint primary key references client (id) on delete cascade,
          org_id bigint not null,
          search_name text not null default '',
          email text not null default '',
          phone_e164 text not null default '',
          created_at timestamptz,
          last_name text not null default '',
          first_name text not null default ''
        )
    """)
    # defence in depth: row level security with the tenant policy, NOT forced, so the owner's
    # SECURITY DEFINER functions (which key on medspa_current_org() themselves) use the
    # indexes; the app role has no privilege on the table at all (tests/test_tenancy.py)
    op.execute("""
        alter table client_search enable row level security;
        create policy tenant_isolation on client_search
          using (org_id = medspa_current_org()) with check (org_id = medspa_current_org());
    """)
    op.execute(f'revoke all on client_search from "{app_role}"')
    op.execute("""
        create or replace function medspa_client_search_sync() returns trigger
          language plpgsql security definer set search_path = public, pg_temp as $$
        begin
          insert into client_search (client_id, org_id, search_name, email, phone_e164, created_at, last_name,
                                     first_name)
          values (new.id, new.org_id,
                  coalesce(medspa_fold(coalesce(new.first_name, '') || ' ' || coalesce(new.last_name, '')), ''),
                  coalesce(lower(new.email), ''), coalesce(new.phone_e164, ''), new.created_at,
                  coalesce(new.last_name, ''), coalesce(new.first_name, ''))
          on conflict (client_id) do update set org_id = excluded.org_id, search_name = excluded.search_name,
            email = excluded.email, phone_e164 = excluded.phone_e164, created_at = excluded.created_at,
            last_name = excluded.last_name, first_name = excluded.first_name;
          return null;
        end $$;
    """)
    op.execute("""
        create trigger client_search_sync after insert or update of first_name, last_name, email, phone_e164, org_id, created_at
          on client for each row execute function medspa_client_search_sync()
    """)
    op.execute("""
        create or replace function medspa_client_search(p_words text[], p_email text, p_phone_exact text,
                                                        p_phone_like text)
          returns table (client_id bigint, created_at timestamptz, last_name text, first_name text)
          language plpgsql stable security definer rows 50 set search_path = public, pg_temp as $$
        #variable_conflict use_column
        declare
          v_org bigint := medspa_current_org();
          v_patterns text[] := array(select '%' || medspa_fold(w) || '%' from unnest(coalesce(p_words, '{}')) w);
        begin
          if v_org is null then
            return;  -- no clinic on this transaction: nothing (fails closed like the tenant policy)
          end if;
          if cardinality(v_patterns) > 0 then
            if length(v_patterns[1]) >= 5 then  -- a word of 3+ characters: its trigrams narrow the search
              return query select s.client_id, s.created_at, s.last_name, s.first_name from client_search s
                where s.org_id = v_org and s.search_name like v_patterns[1] and s.search_name like all (v_patterns);
            else  -- 1-2 characters hold no trigram: the index cannot narrow them, read the clinic's names
              return query select s.client_id, s.created_at, s.last_name, s.first_name from client_search s
                where s.org_id = v_org and (s.search_name || '') like all (v_patterns);
            end if;
          end if;
          if coalesce(p_email, '') <> '' then
            return query select s.client_id, s.created_at, s.last_name, s.first_name from client_search s
              where s.org_id = v_org and s.email like '%' || p_email || '%';
          end if;
          if coalesce(p_phone_exact, '') <> '' then
            return query select s.client_id, s.created_at, s.last_name, s.first_name from client_search s
              where s.org_id = v_org and s.phone_e164 = p_phone_exact;
          end if;
          if coalesce(p_phone_like, '') <> '' then
            return query select s.client_id, s.created_at, s.last_name, s.first_name from client_search s
              where s.org_id = v_org and s.phone_e164 like p_phone_like;
          end if;
        end $$;
    """)
    op.execute("revoke all on function medspa_client_search(text[], text, text, text) from public")
    op.execute(f'grant execute on function medspa_client_search(text[], text, text, text) to "{app_role}"')
    op.execute("revoke all on function medspa_client_search_sync() from public")
    for_each_clinic(op, """
        insert into client_search (client_id, org_id, search_name, email, phone_e164, created_at, last_name,
                                   first_name)
        select id, org_id, coalesce(medspa_fold(first_name || ' ' || last_name), ''), coalesce(lower(email), ''),
               coalesce(phone_e164, ''), created_at, last_name, first_name
        from client on conflict do nothing""")
    op.execute("create index ix_client_search_org on client_search (org_id)")
    op.execute("create index ix_client_search_name_trgm on client_search using gin (search_name gin_trgm_ops)")
    op.execute("create index ix_client_search_email_trgm on client_search using gin (email gin_trgm_ops)")
    op.execute("create index ix_client_search_phone_trgm on client_search using gin (phone_e164 gin_trgm_ops)")
    op.execute("create index ix_client_dob on client (org_id, date_of_birth)")
    op.execute("create index ix_client_newest on client (org_id, created_at desc, id desc)")


def downgrade() -> None:
    op.execute("drop index if exists ix_client_newest")
    op.execute("drop index if exists ix_client_dob")
    op.execute("drop trigger if exists client_search_sync on client")
    op.execute("drop function if exists medspa_client_search(text[], text, text, text)")
    op.execute("drop function if exists medspa_client_search_sync()")
    op.execute("drop table if exists client_search")
    op.execute("drop function if exists medspa_fold(text)")
