"""Merging duplicate clients, with undo (issue 14 part 3).

client.merged_into_id / merged_at: a client merged into another stays (nothing is deleted:
its audit trail still names it) but is hidden and points to the client that absorbed it.
client_merge (tenant table): one merge, with every row it moved ({"table.column": [row ids]})
and every field it filled on the surviving client ({field: [old, new]}), so that undo
(within the window, clients.merge.MERGE_UNDO_DAYS) moves exactly those rows back.

A merge moves a client's rows by their client_id, also rows that are otherwise read-only: a
signed treatment note may now change its client_id and nothing else (the guard of migration
0008 compares the rows without that column), and the app role may update clinical_photo's
client_id column only (photos stay insert-only otherwise). A merged record leaves the client
search (migration 0031's client_search row is dropped, and comes back on undo).

Revision ID: 0032
Revises: 0031
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from medspa.tenancy import protect_tenant_table

revision: str = '0032'
down_revision: Union[str, None] = '0031'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

GUARD = """
create or replace function medspa_signed_note_guard() returns trigger language plpgsql as $$
declare
  note_status text;
begin
  if tg_table_name = 'treatment_note' then
    if old.status = 'signed' and (tg_op = 'DELETE'
        or (to_jsonb(new) - 'client_id') is distinct from (to_jsonb(old) - 'client_id')) then
      raise exception 'treatment_note % is signed and read-only (% refused)', old.id, tg_op
        using errcode = '42501';
    end if;
  else
    select status into note_status from treatment_note
      where id = case when tg_op = 'DELETE' then old.note_id else new.note_id end;
    if note_status = 'signed' or (tg_op = 'UPDATE' and old.note_id <> new.note_id and exists (
        select 1 from treatment_note where id = old.note_id and status = 'signed')) then
      raise exception 'the lines of a signed treatment_note are read-only (% refused)', tg_op
        using errcode = '42501';
    end if;
  end if;
  if tg_op = 'DELETE' then return old; end if;
  return new;
end $$;
"""
SEARCH_SYNC = """
create or replace function medspa_client_search_sync() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if new.merged_into_id is not null then
    delete from client_search where client_id = new.id;
    return null;
  end if;
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
"""
SYNC_TRIGGER = """
drop trigger client_search_sync on client;
create trigger client_search_sync after insert or update of first_name, last_name, email, phone_e164, org_id,
  created_at{extra} on client for each row execute function medspa_client_search_sync();
"""
OLD_SEARCH_SYNC = SEARCH_SYNC.replace("""  if new.merged_into_id is not null then
    delete from client_search where client_id = new.id;
    return null;
  end if;
""", "")

OLD_GUARD = GUARD.replace("""    if old.status = 'signed' and (tg_op = 'DELETE'
        or (to_jsonb(new) - 'client_id') is distinct from (to_jsonb(old) - 'client_id')) then""",
                          """    if old.status = 'signed' then""")


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.add_column('client', sa.Column('merged_into_id', sa.BigInteger(), sa.ForeignKey('client.id'), nullable=True))
    op.add_column('client', sa.Column('merged_at', sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint('ck_client_not_merged_into_itself', 'client', 'merged_into_id is distinct from id')
    op.create_table(
        'client_merge',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('survivor_id', sa.BigInteger(), sa.ForeignKey('client.id'), nullable=False),
        sa.Column('absorbed_id', sa.BigInteger(), sa.ForeignKey('client.id'), nullable=False),
        sa.Column('merged_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('merged_by', sa.String(length=200), server_default='', nullable=False),
        sa.Column('undo_until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('moved', JSONB(), server_default='{}', nullable=False),
        sa.Column('filled', JSONB(), server_default='{}', nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint('survivor_id <> absorbed_id', name='ck_client_merge_two_clients'),
    )
    op.create_index('ix_client_merge_org_id', 'client_merge', ['org_id'])
    op.create_index('ix_client_merge_absorbed', 'client_merge', ['org_id', 'absorbed_id'])
    op.create_index('ix_client_merge_survivor', 'client_merge', ['org_id', 'survivor_id'])
    protect_tenant_table(op, 'client_merge', app_role)
    op.execute(GUARD)
    op.execute(SEARCH_SYNC)
    op.execute(SYNC_TRIGGER.format(extra=", merged_into_id"))
    op.execute(f'grant update (client_id) on clinical_photo to "{app_role}"')


def downgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.execute(f'revoke update (client_id) on clinical_photo from "{app_role}"')
    op.execute(OLD_GUARD)
    op.execute(SYNC_TRIGGER.format(extra=""))
    op.execute(OLD_SEARCH_SYNC)
    op.drop_table('client_merge')
    op.drop_constraint('ck_client_not_merged_into_itself', 'client')
    op.drop_column('client', 'merged_at')
    op.drop_column('client', 'merged_into_id')
