"""lab_order: statuses one way and a reviewed result frozen, in the database too.

A trigger (like consent_signature's and form_response's) refuses for the app role, whatever
SQL it sends:
- any UPDATE moving status backwards (ordered -> collected -> resulted -> reviewed only);
- any UPDATE of a reviewed order other than moving client_id (the client merge and its undo
  move orders by a plain UPDATE of client_id), and the DELETE of a reviewed order.

Revision ID: 0047
Revises: 0046
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0047'
down_revision: Union[str, None] = '0046'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

GUARD = """
create or replace function medspa_lab_order_guard() returns trigger language plpgsql as $$
declare
  steps constant text[] := array['ordered', 'collected', 'resulted', 'reviewed'];
begin
  if old.status = 'reviewed' and (tg_op = 'DELETE'
      or (to_jsonb(new) - 'client_id') is distinct from (to_jsonb(old) - 'client_id')) then
    raise exception 'lab_order % is reviewed and read-only (% refused)', old.id, tg_op using errcode = '42501';
  end if;
  if tg_op = 'DELETE' then return old; end if;
  if coalesce(array_position(steps, new.status::text), 0) < array_position(steps, old.status::text) then
    raise exception 'lab_order % cannot go back from % to %', old.id, old.status, new.status
      using errcode = '42501';
  end if;
  return new;
end $$;
create trigger lab_order_one_way before update or delete on lab_order
  for each row execute function medspa_lab_order_guard();
"""


def upgrade() -> None:
    op.execute(GUARD)


def downgrade() -> None:
    op.execute("drop trigger if exists lab_order_one_way on lab_order")
    op.execute("drop function if exists medspa_lab_order_guard()")
