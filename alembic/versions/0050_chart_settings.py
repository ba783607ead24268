"""Device/laser and peel rows of a chart; a service's chart template (issue 18).

treatment_setting (tenant table): one row per device pass or peel application of a treatment
note (units in medspa/domain/clinical/device_models.py). Guarded like treatment_line by
medspa_signed_note_guard: the rows of a signed note cannot be inserted, changed or deleted.
service.chart_template: injectable / device / peel / general, NULL for the category's default.

Revision ID: 0050
Revises: 0048
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from medspa.tenancy import protect_tenant_table

revision: str = '0050'
down_revision: Union[str, None] = '0048'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _int(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=True)


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.add_column('service', sa.Column('chart_template', sa.String(12), nullable=True))
    op.create_check_constraint('ck_service_chart_template', 'service',
                               "chart_template is null or chart_template in ('injectable', 'device', 'peel', 'general')")
    op.create_table(
        'treatment_setting',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('note_id', sa.BigInteger(), sa.ForeignKey('treatment_note.id', ondelete='CASCADE'), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(8), nullable=False),
        sa.Column('device', sa.String(80), nullable=False, server_default=''),
        sa.Column('resource_id', sa.BigInteger(), sa.ForeignKey('resource.id'), nullable=True),
        sa.Column('handpiece', sa.String(60), nullable=False, server_default=''),
        _int('fluence_tenths'), _int('pulse_hundredths'), _int('spot_tenths'), _int('passes'),
        sa.Column('cooling', sa.String(60), nullable=False, server_default=''),
        sa.Column('agent', sa.String(80), nullable=False, server_default=''),
        _int('concentration_tenths'), _int('layers'), _int('minutes'),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint("kind in ('device', 'peel')", name='ck_treatment_setting_kind'),
        sa.CheckConstraint("(kind = 'device' and length(btrim(device)) > 0) or (kind = 'peel' and length(btrim(agent)) > 0)",
                           name='ck_treatment_setting_named'),
        sa.CheckConstraint("fluence_tenths is null or fluence_tenths between 1 and 3000", name='ck_treatment_setting_fluence'),
        sa.CheckConstraint("pulse_hundredths is null or pulse_hundredths between 1 and 100000",
                           name='ck_treatment_setting_pulse'),
        sa.CheckConstraint("spot_tenths is null or spot_tenths between 1 and 1000", name='ck_treatment_setting_spot'),
        sa.CheckConstraint("passes is null or passes between 1 and 20", name='ck_treatment_setting_passes'),
        sa.CheckConstraint("concentration_tenths is null or concentration_tenths between 1 and 1000",
                           name='ck_treatment_setting_concentration'),
        sa.CheckConstraint("layers is null or layers between 1 and 20", name='ck_treatment_setting_layers'),
        sa.CheckConstraint("minutes is null or minutes between 1 and 60", name='ck_treatment_setting_minutes'),
    )
    op.create_index('ix_treatment_setting_org_id', 'treatment_setting', ['org_id'])
    op.create_index('ix_treatment_setting_note_id', 'treatment_setting', ['note_id'])
    protect_tenant_table(op, 'treatment_setting', app_role)
    op.execute("""
        create trigger treatment_setting_signed_guard before insert or update or delete on treatment_setting
          for each row execute function medspa_signed_note_guard();
    """)


def downgrade() -> None:
    op.drop_table('treatment_setting')
    op.drop_constraint('ck_service_chart_template', 'service')
    op.drop_column('service', 'chart_template')
