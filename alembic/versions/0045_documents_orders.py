"""Documents, the test catalog, orders and results (issue 17, section 3).

client_document (tenant table): a file the client uploaded in the portal (PDF, or a JPEG/PNG
re-encoded without EXIF): title, kind (prescription | lab_report | image | other), the private
media store key, type, size, SHA-256; uploaded_by_client or a staff user.
lab_test (tenant table): the clinic's test catalog: name (unique per clinic), category
(patch_test | lab_panel | other), price in cents, active. Built-ins are added per clinic on
first use (medspa.domain.clinical.lab_tests.ensure_builtin_tests).
lab_order (tenant table): a test ordered for a client (optionally for a visit): status
ordered -> collected -> resulted -> reviewed, each step stamped who/when; result values
(JSON list of {name, value, unit, low, high, flag}), notes, an optional result file (media key),
the provider's review note. Price copied from the catalog at ordering.

Revision ID: 0045
Revises: 0044
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from medspa.tenancy import protect_tenant_table

revision: str = '0045'
down_revision: Union[str, None] = '0044'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(name: str, target: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), sa.ForeignKey(target), nullable=nullable)


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.create_table(
        'client_document',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        _fk('org_id', 'organization.id', False),
        _fk('client_id', 'client.id', False),
        sa.Column('title', sa.String(120), nullable=False),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('storage_key', sa.String(200), nullable=False),
        sa.Column('content_type', sa.String(40), nullable=False),
        sa.Column('bytes', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('uploaded_by_client', sa.Boolean(), nullable=False, server_default=sa.false()),
        _fk('uploaded_by_user', 'user_account.id'),
        _ts('created_at', False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('storage_key', name='uq_client_document_storage_key'),
        sa.CheckConstraint("kind in ('prescription', 'lab_report', 'image', 'other')", name='ck_client_document_kind'),
        sa.CheckConstraint("content_type in ('application/pdf', 'image/jpeg', 'image/png')",
                           name='ck_client_document_type'),
    )
    op.create_index('ix_client_document_org_id', 'client_document', ['org_id'])
    op.create_index('ix_client_document_client_id', 'client_document', ['client_id'])
    protect_tenant_table(op, 'client_document', app_role)

    op.create_table(
        'lab_test',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        _fk('org_id', 'organization.id', False),
        sa.Column('name', sa.String(80), nullable=False),
        sa.Column('category', sa.String(20), nullable=False),
        sa.Column('price_cents', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column('builtin', sa.Boolean(), nullable=False, server_default=sa.false()),
        _ts('created_at', False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'name', name='uq_lab_test_name'),
        sa.CheckConstraint("category in ('patch_test', 'lab_panel', 'other')", name='ck_lab_test_category'),
        sa.CheckConstraint('price_cents >= 0', name='ck_lab_test_price'),
    )
    op.create_index('ix_lab_test_org_id', 'lab_test', ['org_id'])
    protect_tenant_table(op, 'lab_test', app_role)

    op.create_table(
        'lab_order',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        _fk('org_id', 'organization.id', False),
        _fk('client_id', 'client.id', False),
        _fk('test_id', 'lab_test.id', False),
        _fk('appointment_id', 'appointment.id'),
        sa.Column('test_name', sa.String(80), nullable=False),
        sa.Column('category', sa.String(20), nullable=False),
        sa.Column('price_cents', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(12), nullable=False, server_default='ordered'),
        sa.Column('order_note', sa.String(500), nullable=False, server_default=''),
        _ts('ordered_at', False), _fk('ordered_by', 'user_account.id'),
        sa.Column('ordered_by_label', sa.String(120), nullable=False, server_default=''),
        _ts('collected_at'), _fk('collected_by', 'user_account.id'),
        sa.Column('collected_by_label', sa.String(120), nullable=False, server_default=''),
        _ts('resulted_at'), _fk('resulted_by', 'user_account.id'),
        sa.Column('resulted_by_label', sa.String(120), nullable=False, server_default=''),
        sa.Column('result_values', JSONB(), nullable=False, server_default='[]'),
        sa.Column('result_notes', sa.Text(), nullable=False, server_default=''),
        sa.Column('result_file_key', sa.String(200), nullable=True),
        sa.Column('result_file_type', sa.String(40), nullable=True),
        _ts('reviewed_at'), _fk('reviewed_by', 'user_account.id'),
        sa.Column('reviewed_by_label', sa.String(120), nullable=False, server_default=''),
        sa.Column('review_note', sa.Text(), nullable=False, server_default=''),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint("status in ('ordered', 'collected', 'resulted', 'reviewed')", name='ck_lab_order_status'),
        sa.CheckConstraint("status = 'ordered' or collected_at is not null", name='ck_lab_order_collected'),
        sa.CheckConstraint("status in ('ordered', 'collected') or resulted_at is not null",
                           name='ck_lab_order_resulted'),
        sa.CheckConstraint("status <> 'reviewed' or reviewed_at is not null", name='ck_lab_order_reviewed'),
    )
    op.create_index('ix_lab_order_org_id', 'lab_order', ['org_id'])
    op.create_index('ix_lab_order_client_id', 'lab_order', ['client_id'])
    op.create_index('ix_lab_order_worklist', 'lab_order', ['org_id', 'status', 'ordered_at'])
    protect_tenant_table(op, 'lab_order', app_role)


def downgrade() -> None:
    op.drop_table('lab_order')
    op.drop_table('lab_test')
    op.drop_table('client_document')
