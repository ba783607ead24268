"""Client search stops at the page (issue 20): medspa_client_search_page and two indexes.

medspa_client_search (migration 0031) returns every client a lookup matches before the list
orders and cuts its page: ~400 for a common name on the large clinic, and a name of 1-2
characters, which holds no trigram, read all 60,000 folded names of the clinic (8 ms) to
return ~1,100 of them. The list's "newest" order is a keyset (created_at, id) descending, so
each lookup can stop at the page itself:

- medspa_client_search_page(words, email, phone_exact, phone_like, after_at, after_id, limit):
  the same lookups, the same arguments, the same clinic restriction as medspa_client_search
  (SECURITY DEFINER, keyed on medspa_current_org(): unset, nothing; the app role may only
  execute it), each lookup returning at most `limit` (0-1,000) of its matches in newest order
  after the keyset (after_at, after_id) (NULL: from the newest). The top `limit` of all
  lookups together are among what it returns; the caller orders, de-duplicates and cuts
  (clients.search). Every row it returns medspa_client_search would return too.
  Its statements are planned for their values each call (plan_cache_mode force_custom_plan,
  ~0.05-0.1 ms a lookup): a generic plan cannot tell a rare name (a trigram lookup, then a
  sort of a few rows) from a common one (a walk of the newest index that stops after the
  page), nor use the keyset as an index condition. Measured with the default (auto) on the
  large clinic: after a few pages of 'muller', PostgreSQL kept a generic plan and 'emma
  garcia' walked all 60,000 rows (23 ms instead of 0.9).
- ix_client_search_newest (org_id, created_at desc, client_id desc): that walk, the keyset an
  index condition. 'jo' 8 ms -> 0.5 ms on the large clinic.
- ix_client_search_phone (org_id, phone_e164, created_at desc, client_id desc): a whole phone
  number by btree, in page order (the trigram index read a posting list as long as the
  clinic, as every synthetic number is 555-01xx).

medspa_client_search stays (the "today" view's search, ordered by name, still uses it).

Revision ID: 0060
Revises: 0059
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0060'
down_revision: Union[str, None] = '0059'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SIGNATURE = "medspa_client_search_page(text[], text, text, text, timestamptz, bigint, integer)"
MAX_LIMIT = 1000
# each lookup: the clinic's rows it matches, after the keyset, newest first, at most v_limit
LOOKUP = """      return query select s.client_id, s.created_at, s.last_name, s.first_name from client_search s
        where s.org_id = v_org and {match}
          and (not v_after or (s.created_at, s.client_id) < (p_after_at, p_after_id))
        order by s.created_at desc, s.client_id desc limit v_limit;"""
FUNCTION = f"""
create or replace function medspa_client_search_page(p_words text[], p_email text, p_phone_exact text,
                                                     p_phone_like text, p_after_at timestamptz, p_after_id bigint,
                                                     p_limit integer)
  returns table (client_id bigint, created_at timestamptz, last_name text, first_name text)
  language plpgsql stable security definer rows 25
  set search_path = public, pg_temp set plan_cache_mode = force_custom_plan as $$
#variable_conflict use_column
declare
  v_org bigint := medspa_current_org();
  v_patterns text[] := array(select '%' || medspa_fold(w) || '%' from unnest(coalesce(p_words, '{{}}')) w);
  v_limit integer := least(greatest(coalesce(p_limit, 0), 0), {MAX_LIMIT});
  v_after boolean := p_after_at is not null and p_after_id is not null;
begin
  if v_org is null or v_limit = 0 then
    return;  -- no clinic on this transaction: nothing (fails closed like the tenant policy)
  end if;
  if cardinality(v_patterns) > 0 then
    if length(v_patterns[1]) >= 5 then  -- a word of 3+ characters: trigrams, or the newest walk if common
{LOOKUP.format(match="s.search_name like v_patterns[1] and s.search_name like all (v_patterns)")}
    else  -- 1-2 characters hold no trigram: walk the newest index until the page is full
{LOOKUP.format(match="(s.search_name || '') like all (v_patterns)")}
    end if;
  end if;
  if coalesce(p_email, '') <> '' then
{LOOKUP.format(match="s.email like '%' || p_email || '%'")}
  end if;
  if coalesce(p_phone_exact, '') <> '' then
{LOOKUP.format(match="s.phone_e164 = p_phone_exact")}
  end if;
  if coalesce(p_phone_like, '') <> '' then
{LOOKUP.format(match="s.phone_e164 like p_phone_like")}
  end if;
end $$;
"""


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.execute("create index ix_client_search_newest on client_search (org_id, created_at desc, client_id desc)")
    op.execute("create index ix_client_search_phone on client_search "
               "(org_id, phone_e164, created_at desc, client_id desc)")
    op.execute(FUNCTION)
    op.execute(f"revoke all on function {SIGNATURE} from public")
    op.execute(f'grant execute on function {SIGNATURE} to "{app_role}"')


def downgrade() -> None:
    op.execute(f"drop function if exists {SIGNATURE}")
    op.execute("drop index if exists ix_client_search_phone")
    op.execute("drop index if exists ix_client_search_newest")
