"""Photos: tags, kept originals, portal sharing (issue 18).

clinical_photo gains the tags area (a treatment area or null) and angle (front, left45,
right45, left, right, other; existing photos: other), the kept full-resolution original
(original_key and its size; null when the clinic keeps only the display copy) and the portal
sharing mark (shared, shared_at, shared_by). The app role may update the tags and the sharing
mark (never the keys, sizes or bytes). organization gains keep_photo_originals (owner setting).

Revision ID: 0052
Revises: 0051
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0052'
down_revision: Union[str, None] = '0051'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ANGLES = ("front", "left45", "right45", "left", "right", "other")
EDITABLE = "kind, area, angle, shared, shared_at, shared_by"


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.add_column('clinical_photo', sa.Column('area', sa.String(length=40), nullable=True))
    op.add_column('clinical_photo', sa.Column('angle', sa.String(length=10), server_default='other', nullable=False))
    op.add_column('clinical_photo', sa.Column('original_key', sa.String(length=200), nullable=True))
    op.add_column('clinical_photo', sa.Column('original_width', sa.Integer(), nullable=True))
    op.add_column('clinical_photo', sa.Column('original_height', sa.Integer(), nullable=True))
    op.add_column('clinical_photo', sa.Column('original_bytes', sa.Integer(), nullable=True))
    op.add_column('clinical_photo', sa.Column('shared', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('clinical_photo', sa.Column('shared_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('clinical_photo', sa.Column('shared_by', sa.BigInteger(), sa.ForeignKey('user_account.id'),
                                              nullable=True))
    angles = ", ".join(f"'{a}'" for a in ANGLES)
    op.execute(f"""
        alter table clinical_photo add constraint clinical_photo_angle_valid check (angle in ({angles}));
        alter table clinical_photo add constraint clinical_photo_area_valid
          check (area is null or length(area) between 1 and 40);
        alter table clinical_photo add constraint clinical_photo_original_valid
          check ((original_key is null and original_width is null and original_height is null
                  and original_bytes is null)
                 or (original_key is not null and original_width > 0 and original_height > 0
                     and original_bytes > 0));
        alter table clinical_photo add constraint clinical_photo_shared_valid
          check (shared = (shared_at is not null));
    """)
    op.create_index('ix_clinical_photo_client_area', 'clinical_photo', ['org_id', 'client_id', 'area'])
    op.execute(f'grant update ({EDITABLE}) on clinical_photo to "{app_role}"')
    op.add_column('organization', sa.Column('keep_photo_originals', sa.Boolean(), server_default='false',
                                            nullable=False))
    op.execute(f'grant update (keep_photo_originals) on organization to "{app_role}"')


def downgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.execute(f'revoke update (keep_photo_originals) on organization from "{app_role}"')
    op.drop_column('organization', 'keep_photo_originals')
    op.execute(f'revoke update ({EDITABLE}) on clinical_photo from "{app_role}"')
    op.drop_index('ix_clinical_photo_client_area', table_name='clinical_photo')
    for name in ('shared_by', 'shared_at', 'shared', 'original_bytes', 'original_height', 'original_width',
                 'original_key', 'angle', 'area'):
        op.drop_column('clinical_photo', name)
