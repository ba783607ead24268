"""Who may treat and sign (issue 18): licences, prescriber orders, addenda, co-sign.

staff_member.licence: "" (not recorded), MD, DO, NP, PA, RN, LPN, aesthetician, other.
service.requires_prescriber_order: the visit needs a prescriber's good-faith exam / order
before a non-prescriber charts it (turned on here for the injectable categories).
organization.covering_may_sign (providers other than the visit's may sign its chart) and
organization.medical_director_id (the prescriber who co-signs; the /reviews queue).
prescriber_order (tenant): a prescriber's exam/order for a client, append-only for the app role
except client_id (the client merge moves rows).
chart_addendum, chart_cosign (tenant): append-only (select, insert), one co-sign per note.
treatment_note.prescriber_order_id: the order a signed note rests on, set in the update that
signs it (the signed-note guard refuses later updates).

Revision ID: 0051
Revises: 0050
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from medspa.tenancy import protect_tenant_table

revision: str = '0051'
down_revision: Union[str, None] = '0050'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

LICENCES = ("", "MD", "DO", "NP", "PA", "RN", "LPN", "aesthetician", "other")


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(name: str, target: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), sa.ForeignKey(target), nullable=nullable)


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.add_column('staff_member', sa.Column('licence', sa.String(12), nullable=False, server_default=''))
    op.execute("alter table staff_member add constraint ck_staff_member_licence check (licence in ("
               + ",".join(f"'{v}'" for v in LICENCES) + "))")
    op.add_column('service', sa.Column('requires_prescriber_order', sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    op.execute("update service set requires_prescriber_order = true where lower(category) in "
               "('neuromodulators', 'dermal fillers', 'fillers', 'biostimulators')")
    op.add_column('organization', sa.Column('covering_may_sign', sa.Boolean(), nullable=False,
                                            server_default=sa.false()))
    op.add_column('organization', _fk('medical_director_id', 'staff_member.id'))
    op.execute(f'grant update (covering_may_sign, medical_director_id) on organization to "{app_role}"')

    op.create_table(
        'prescriber_order',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        _fk('org_id', 'organization.id', False),
        _fk('client_id', 'client.id', False),
        _fk('prescriber_id', 'staff_member.id', False),
        sa.Column('scope', sa.String(60), nullable=False),
        _ts('examined_at', False),
        _ts('valid_until', False),
        sa.Column('note', sa.Text(), nullable=False, server_default=''),
        _fk('created_by_user_id', 'user_account.id'),
        _ts('created_at', False),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint("valid_until > examined_at", name='ck_prescriber_order_validity'),
        sa.CheckConstraint("length(btrim(scope)) > 0", name='ck_prescriber_order_scope'),
    )
    op.create_index('ix_prescriber_order_org_id', 'prescriber_order', ['org_id'])
    op.create_index('ix_prescriber_order_client_id', 'prescriber_order', ['client_id'])
    protect_tenant_table(op, 'prescriber_order', app_role, privileges="select, insert")
    op.execute(f'grant update (client_id) on prescriber_order to "{app_role}"')

    op.add_column('treatment_note', _fk('prescriber_order_id', 'prescriber_order.id'))

    op.create_table(
        'chart_addendum',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        _fk('org_id', 'organization.id', False),
        _fk('note_id', 'treatment_note.id', False),
        _fk('author_user_id', 'user_account.id'),
        sa.Column('author_label', sa.String(120), nullable=False, server_default=''),
        sa.Column('text', sa.Text(), nullable=False),
        _ts('created_at', False),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint("length(btrim(text)) > 0", name='ck_chart_addendum_text'),
    )
    op.create_index('ix_chart_addendum_note_id', 'chart_addendum', ['note_id'])
    protect_tenant_table(op, 'chart_addendum', app_role, privileges="select, insert")

    op.create_table(
        'chart_cosign',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        _fk('org_id', 'organization.id', False),
        _fk('note_id', 'treatment_note.id', False),
        _fk('cosigned_by_user_id', 'user_account.id'),
        _fk('cosigned_by_staff_id', 'staff_member.id'),
        sa.Column('cosigned_by_label', sa.String(120), nullable=False, server_default=''),
        sa.Column('comment', sa.Text(), nullable=False, server_default=''),
        _ts('created_at', False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('note_id', name='uq_chart_cosign_note'),
    )
    protect_tenant_table(op, 'chart_cosign', app_role, privileges="select, insert")
    # an addendum or a co-sign belongs to a SIGNED note only
    op.execute("""
        create or replace function medspa_signed_only_guard() returns trigger language plpgsql as $$
        begin
          if not exists (select 1 from treatment_note where id = new.note_id and status = 'signed') then
            raise exception '% needs a signed treatment_note', tg_table_name using errcode = '42501';
          end if;
          return new;
        end $$;
        create trigger chart_addendum_signed_only before insert on chart_addendum
          for each row execute function medspa_signed_only_guard();
        create trigger chart_cosign_signed_only before insert on chart_cosign
          for each row execute function medspa_signed_only_guard();
    """)


def downgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.drop_table('chart_cosign')
    op.drop_table('chart_addendum')
    op.execute("drop function if exists medspa_signed_only_guard()")
    op.drop_column('treatment_note', 'prescriber_order_id')
    op.drop_table('prescriber_order')
    op.execute(f'revoke update (covering_may_sign, medical_director_id) on organization from "{app_role}"')
    op.drop_column('organization', 'medical_director_id')
    op.drop_column('organization', 'covering_may_sign')
    op.drop_column('service', 'requires_prescriber_order')
    op.execute("alter table staff_member drop constraint ck_staff_member_licence")
    op.drop_column('staff_member', 'licence')
