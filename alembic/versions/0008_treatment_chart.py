"""Treatment charts: treatment_note (one row per visit and version) and treatment_line.

Signed notes are read-only in the database too: a trigger refuses any UPDATE or DELETE of a
signed note and any change to the lines of a signed note (amendments are new versions).

Revision ID: 0008
Revises: 0007
"""
from typing import Sequence, Union

from alembic import op

from medspa.tenancy import protect_tenant_table
import sqlalchemy as sa

revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NEW_TABLES = ("treatment_note", "treatment_line")


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")

    op.create_table('treatment_note',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.Column('appointment_id', sa.BigInteger(), nullable=False),
    sa.Column('client_id', sa.BigInteger(), nullable=False),
    sa.Column('provider_id', sa.BigInteger(), nullable=False),
    sa.Column('author_user_id', sa.BigInteger(), nullable=True),
    sa.Column('author_label', sa.String(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('amends_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_by_user_id', sa.BigInteger(), nullable=True),
    sa.Column('signed_by_label', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], ),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.ForeignKeyConstraint(['provider_id'], ['staff_member.id'], ),
    sa.ForeignKeyConstraint(['author_user_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['signed_by_user_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['amends_id'], ['treatment_note.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'appointment_id', 'version', name='uq_treatment_note_version'),
    )
    op.create_index(op.f('ix_treatment_note_org_id'), 'treatment_note', ['org_id'], unique=False)
    op.create_index(op.f('ix_treatment_note_appointment_id'), 'treatment_note', ['appointment_id'], unique=False)
    op.create_index(op.f('ix_treatment_note_client_id'), 'treatment_note', ['client_id'], unique=False)
    op.create_index(op.f('ix_treatment_note_provider_id'), 'treatment_note', ['provider_id'], unique=False)
    op.create_table('treatment_line',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.Column('note_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('product', sa.String(length=80), nullable=False),
    sa.Column('lot_number', sa.String(length=40), nullable=False),
    sa.Column('units_tenths', sa.Integer(), nullable=False),
    sa.Column('treatment_area', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['note_id'], ['treatment_note.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_treatment_line_org_id'), 'treatment_line', ['org_id'], unique=False)
    op.create_index(op.f('ix_treatment_line_note_id'), 'treatment_line', ['note_id'], unique=False)

    op.execute("""
        alter table treatment_note add constraint treatment_note_status_valid check (status in ('draft','signed'));
        alter table treatment_note add constraint treatment_note_version_valid check (version >= 1);
        alter table treatment_note add constraint treatment_note_signed_valid
          check ((status = 'signed') = (signed_at is not null));
        alter table treatment_line add constraint treatment_line_units_valid
          check (units_tenths > 0 and units_tenths <= 2000);
        alter table treatment_line add constraint treatment_line_area_valid check (treatment_area in
          ('glabella','forehead','crow''s feet','lips','cheeks','jawline','chin','neck','other'));
        -- at most one draft per visit (an amendment starts only from a signed chart)
        create unique index uq_treatment_note_one_draft on treatment_note (org_id, appointment_id)
          where status = 'draft';
    """)

    # signed is final: the note and its lines cannot change (amendments are new rows)
    op.execute("""
        create or replace function medspa_signed_note_guard() returns trigger language plpgsql as $$
        declare
          note_status text;
        begin
          if tg_table_name = 'treatment_note' then
            if old.status = 'signed' then
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
        create trigger treatment_note_signed_guard before update or delete on treatment_note
          for each row execute function medspa_signed_note_guard();
        create trigger treatment_line_signed_guard before insert or update or delete on treatment_line
          for each row execute function medspa_signed_note_guard();
    """)

    # tenant isolation like every other tenant table (fails closed without app.org_id)
    for table in NEW_TABLES:
        protect_tenant_table(op, table, app_role)


def downgrade() -> None:
    op.drop_table('treatment_line')
    op.execute("drop index if exists uq_treatment_note_one_draft")
    op.drop_table('treatment_note')
    op.execute("drop function if exists medspa_signed_note_guard()")
