"""Products, lots, opened vials, lot usage; chart lines name product, lot and face-map point (issue 18).

product, product_lot, product_vial (tenant tables): the catalog, its received lots and opened
neuromodulator vials (medspa/domain/clinical/product_models.py for the fields and units).
lot_usage (tenant table): the ledger of what left a lot, append-only for the app role (SELECT
and INSERT, and UPDATE of client_id alone: the merge moves rows).
treatment_line: unit, product_id, lot_id, vial_id, and the face-map point (view, x, y in
thousandths); the treatment area check takes the face map's areas (service.TREATMENT_AREAS).

Revision ID: 0048
Revises: 0047
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from medspa.tenancy import protect_tenant_table

revision: str = '0048'
down_revision: Union[str, None] = '0047'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

AREAS = ("forehead", "glabella", "crow''s feet", "bunny lines", "brow", "temples", "tear troughs", "cheeks",
         "nasolabial folds", "lips", "perioral lines", "marionette lines", "dao", "chin", "jawline",
         "masseter", "neck", "other")
OLD_AREAS = ("glabella", "forehead", "crow''s feet", "lips", "cheeks", "jawline", "chin", "neck", "other")


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(name: str, target: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), sa.ForeignKey(target), nullable=nullable)


def _area_check(areas: tuple[str, ...]) -> str:
    return ("alter table treatment_line add constraint treatment_line_area_valid check (treatment_area in ("
            + ",".join(f"'{a}'" for a in areas) + "))")


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.create_table(
        'product',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        _fk('org_id', 'organization.id', False),
        sa.Column('name', sa.String(80), nullable=False),
        sa.Column('manufacturer', sa.String(80), nullable=False, server_default=''),
        sa.Column('category', sa.String(20), nullable=False),
        sa.Column('unit', sa.String(10), nullable=False),
        sa.Column('units_per_vial', sa.Integer(), nullable=True),
        sa.Column('beyond_use_hours', sa.Integer(), nullable=True),
        sa.Column('low_stock_tenths', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()),
        _ts('created_at', False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'name', name='uq_product_name'),
        sa.CheckConstraint("category in ('neuromodulator', 'filler', 'biostimulator', 'skin booster', 'peel', "
                           "'other')", name='ck_product_category'),
        sa.CheckConstraint("unit in ('units', 'mL', 'syringes', 'vials')", name='ck_product_unit'),
        sa.CheckConstraint("units_per_vial is null or units_per_vial between 1 and 10000",
                           name='ck_product_units_per_vial'),
        sa.CheckConstraint("beyond_use_hours is null or beyond_use_hours between 1 and 2160",
                           name='ck_product_beyond_use'),
        sa.CheckConstraint("low_stock_tenths >= 0", name='ck_product_low_stock'),
    )
    op.create_index('ix_product_org_id', 'product', ['org_id'])
    protect_tenant_table(op, 'product', app_role)

    op.create_table(
        'product_lot',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        _fk('org_id', 'organization.id', False),
        _fk('product_id', 'product.id', False),
        sa.Column('lot_number', sa.String(40), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.Column('received_tenths', sa.Integer(), nullable=False),
        _ts('received_at', False),
        _fk('received_by_user_id', 'user_account.id'),
        sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'product_id', 'lot_number', name='uq_product_lot_number'),
        sa.CheckConstraint("received_tenths > 0 and received_tenths <= 100000000", name='ck_product_lot_received'),
        sa.CheckConstraint("length(btrim(lot_number)) > 0", name='ck_product_lot_number'),
    )
    op.create_index('ix_product_lot_org_id', 'product_lot', ['org_id'])
    op.create_index('ix_product_lot_product_id', 'product_lot', ['product_id'])
    protect_tenant_table(op, 'product_lot', app_role)

    op.create_table(
        'product_vial',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        _fk('org_id', 'organization.id', False),
        _fk('lot_id', 'product_lot.id', False),
        sa.Column('diluent_ml_tenths', sa.Integer(), nullable=False),
        sa.Column('units_per_ml_tenths', sa.Integer(), nullable=False),
        _ts('opened_at', False),
        _ts('beyond_use_at', False),
        _fk('opened_by_user_id', 'user_account.id'),
        sa.Column('opened_by_label', sa.String(120), nullable=False, server_default=''),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint("diluent_ml_tenths between 1 and 100", name='ck_product_vial_diluent'),
        sa.CheckConstraint("units_per_ml_tenths > 0", name='ck_product_vial_concentration'),
        sa.CheckConstraint("beyond_use_at > opened_at", name='ck_product_vial_beyond_use'),
    )
    op.create_index('ix_product_vial_org_id', 'product_vial', ['org_id'])
    op.create_index('ix_product_vial_lot_id', 'product_vial', ['lot_id'])
    protect_tenant_table(op, 'product_vial', app_role)

    op.create_table(
        'lot_usage',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        _fk('org_id', 'organization.id', False),
        _fk('lot_id', 'product_lot.id', False),
        _fk('product_id', 'product.id', False),
        _fk('client_id', 'client.id', False),
        _fk('appointment_id', 'appointment.id', False),
        _fk('note_id', 'treatment_note.id', False),
        sa.Column('quantity_tenths', sa.Integer(), nullable=False),
        _ts('created_at', False),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint("quantity_tenths <> 0", name='ck_lot_usage_quantity'),
    )
    op.create_index('ix_lot_usage_org_id', 'lot_usage', ['org_id'])
    op.create_index('ix_lot_usage_lot_client', 'lot_usage', ['lot_id', 'client_id'])
    op.create_index('ix_lot_usage_client_id', 'lot_usage', ['client_id'])
    op.create_index('ix_lot_usage_appointment_id', 'lot_usage', ['appointment_id'])
    protect_tenant_table(op, 'lot_usage', app_role, privileges="select, insert")
    op.execute(f'grant update (client_id) on lot_usage to "{app_role}"')

    op.add_column('treatment_line', sa.Column('unit', sa.String(10), nullable=False, server_default='units'))
    op.add_column('treatment_line', _fk('product_id', 'product.id'))
    op.add_column('treatment_line', _fk('lot_id', 'product_lot.id'))
    op.add_column('treatment_line', _fk('vial_id', 'product_vial.id'))
    op.add_column('treatment_line', sa.Column('view', sa.String(8), nullable=True))
    op.add_column('treatment_line', sa.Column('x', sa.Integer(), nullable=True))
    op.add_column('treatment_line', sa.Column('y', sa.Integer(), nullable=True))
    op.create_index('ix_treatment_line_lot_id', 'treatment_line', ['lot_id'])
    op.execute("""
        alter table treatment_line add constraint ck_treatment_line_unit
          check (unit in ('units', 'mL', 'syringes', 'vials'));
        alter table treatment_line add constraint ck_treatment_line_point
          check ((view is null and x is null and y is null)
                 or (view in ('front', 'left', 'right') and x between 0 and 1000 and y between 0 and 1000));
        alter table treatment_line add constraint ck_treatment_line_lot_product
          check (lot_id is null or product_id is not null);
        alter table treatment_line drop constraint treatment_line_area_valid;
    """)
    op.execute(_area_check(AREAS))


def downgrade() -> None:
    op.execute("alter table treatment_line drop constraint treatment_line_area_valid")
    # NOT VALID: lines charted with the face map's areas stay as they were signed (a signed line
    # is read-only, and row-level security hides every clinic's rows from this connection)
    op.execute(_area_check(OLD_AREAS) + " not valid")
    for name in ('ck_treatment_line_unit', 'ck_treatment_line_point', 'ck_treatment_line_lot_product'):
        op.execute(f"alter table treatment_line drop constraint {name}")
    op.drop_index('ix_treatment_line_lot_id', 'treatment_line')
    for column in ('y', 'x', 'view', 'vial_id', 'lot_id', 'product_id', 'unit'):
        op.drop_column('treatment_line', column)
    op.drop_table('lot_usage')
    op.drop_table('product_vial')
    op.drop_table('product_lot')
    op.drop_table('product')
