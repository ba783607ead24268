"""Clinical photos: clinical_photo (before/after pictures of a visit; the bytes live in the
private media store, never in the database nor in Reflex's public upload folder).

Revision ID: 0009
Revises: 0008
"""
from typing import Sequence, Union

from alembic import op

from medspa.tenancy import protect_tenant_table
import sqlalchemy as sa

revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")

    op.create_table('clinical_photo',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.Column('appointment_id', sa.BigInteger(), nullable=False),
    sa.Column('client_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('thumb_key', sa.String(length=200), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], ),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.ForeignKeyConstraint(['uploaded_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('storage_key', name='uq_clinical_photo_storage_key'),
    sa.UniqueConstraint('thumb_key', name='uq_clinical_photo_thumb_key'),
    )
    op.create_index(op.f('ix_clinical_photo_org_id'), 'clinical_photo', ['org_id'], unique=False)
    op.create_index(op.f('ix_clinical_photo_appointment_id'), 'clinical_photo', ['appointment_id'], unique=False)
    op.create_index(op.f('ix_clinical_photo_client_id'), 'clinical_photo', ['client_id'], unique=False)
    op.execute("""
        alter table clinical_photo add constraint clinical_photo_kind_valid check (kind in ('before','after'));
        alter table clinical_photo add constraint clinical_photo_type_valid
          check (content_type in ('image/jpeg','image/png'));
        alter table clinical_photo add constraint clinical_photo_size_valid
          check (width > 0 and height > 0 and bytes > 0);
        alter table clinical_photo add constraint clinical_photo_sha_valid check (sha256 ~ '^[0-9a-f]{64}$');
    """)

    # tenant isolation like every other tenant table (fails closed without app.org_id)
    # photos are never edited in place: the app role may add and read them (no update/delete yet)
    protect_tenant_table(op, "clinical_photo", app_role, privileges="select, insert")


def downgrade() -> None:
    op.drop_table('clinical_photo')
