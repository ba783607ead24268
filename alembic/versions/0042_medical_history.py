"""Medical history and contraindications (issue 17, section 1).

medical_history_version (tenant, client-owned): every change of one section of a client's
medical history, append-only for the app role (SELECT and INSERT, and UPDATE of client_id
alone: the merge moves rows; nothing else changes a version).
service_contraindication (tenant): what each service may not be done with; filled here for the
existing services from the built-in defaults of their category (as new services get them).
health_override (tenant, client-owned): a flagged visit booked or charted anyway, with the
reason, the flags shown, who and when; append-only like the versions.

Revision ID: 0042
Revises: 0041
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from medspa.tenancy import for_each_clinic, protect_tenant_table

revision: str = '0042'
down_revision: Union[str, None] = '0041'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_PREGNANCY = [("pregnancy", "", 0), ("breastfeeding", "", 0)]
_RESURFACING = [("medication", "isotretinoin", 6), ("pregnancy", "", 0)]
DEFAULTS = {  # a frozen copy of contraindications.CATEGORY_DEFAULTS as of this migration
    "Neuromodulators": _PREGNANCY + [("allergy", "albumin", 0), ("allergy", "botulinum toxin", 0),
                                     ("condition", "myasthenia gravis", 0)],
    "Dermal fillers": _PREGNANCY + [("allergy", "lidocaine", 0), ("allergy", "hyaluronic acid", 0)],
    "Laser hair removal": _RESURFACING + [("fitzpatrick", "V-VI", 0)],
    "IPL photofacial": _RESURFACING + [("fitzpatrick", "V-VI", 0)],
    "Chemical peels": _RESURFACING,
    "Microneedling": _RESURFACING,
}


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.create_table(
        'medical_history_version',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('client_id', sa.BigInteger(), sa.ForeignKey('client.id'), nullable=False),
        sa.Column('section', sa.String(24), nullable=False),
        sa.Column('value', JSONB(), nullable=False),
        sa.Column('old_value', JSONB(), nullable=True),
        sa.Column('source', sa.String(12), nullable=False),
        sa.Column('by_user_id', sa.BigInteger(), sa.ForeignKey('user_account.id'), nullable=True),
        sa.Column('by_label', sa.String(120), nullable=False, server_default=''),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint("section in ('allergies', 'medications', 'conditions', 'fitzpatrick', "
                           "'previous_treatments', 'pregnancy', 'lifestyle', 'goals')",
                           name='ck_medical_history_version_section'),
        sa.CheckConstraint("source in ('staff', 'portal', 'intake form')", name='ck_medical_history_version_source'),
    )
    op.create_index('ix_medical_history_version_org_id', 'medical_history_version', ['org_id'])
    op.create_index('ix_medical_history_version_client', 'medical_history_version',
                    ['client_id', 'section', 'changed_at', 'id'])
    protect_tenant_table(op, 'medical_history_version', app_role, privileges="select, insert")
    op.execute(f'grant update (client_id) on medical_history_version to "{app_role}"')

    op.create_table(
        'service_contraindication',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('service_id', sa.BigInteger(), sa.ForeignKey('service.id'), nullable=False),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('term', sa.String(80), nullable=False, server_default=''),
        sa.Column('months', sa.Integer(), nullable=False, server_default='0'),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint("kind in ('pregnancy', 'breastfeeding', 'medication', 'allergy', 'condition', "
                           "'fitzpatrick')", name='ck_service_contraindication_kind'),
        sa.CheckConstraint('months between 0 and 120', name='ck_service_contraindication_months'),
    )
    op.create_index('ix_service_contraindication_org_id', 'service_contraindication', ['org_id'])
    op.create_index('ix_service_contraindication_service_id', 'service_contraindication', ['service_id'])
    protect_tenant_table(op, 'service_contraindication', app_role)

    op.create_table(
        'health_override',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('client_id', sa.BigInteger(), sa.ForeignKey('client.id'), nullable=False),
        sa.Column('appointment_id', sa.BigInteger(), sa.ForeignKey('appointment.id'), nullable=False),
        sa.Column('stage', sa.String(8), nullable=False),
        sa.Column('reason', sa.String(500), nullable=False),
        sa.Column('flags', JSONB(), nullable=False),
        sa.Column('by_user_id', sa.BigInteger(), sa.ForeignKey('user_account.id'), nullable=True),
        sa.Column('by_label', sa.String(120), nullable=False, server_default=''),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint("stage in ('booking', 'chart')", name='ck_health_override_stage'),
        sa.CheckConstraint("length(btrim(reason)) > 0", name='ck_health_override_reason'),
    )
    op.create_index('ix_health_override_org_id', 'health_override', ['org_id'])
    op.create_index('ix_health_override_client_id', 'health_override', ['client_id'])
    op.create_index('ix_health_override_appointment_id', 'health_override', ['appointment_id'])
    protect_tenant_table(op, 'health_override', app_role, privileges="select, insert")
    op.execute(f'grant update (client_id) on health_override to "{app_role}"')

    # the existing services get their category's defaults (owner under FORCE RLS: per clinic)
    values = ", ".join(f"('{cat}', '{kind}', '{term}', {months})" for cat, rules in DEFAULTS.items()
                       for kind, term, months in rules)  # constants above: no quotes inside
    for_each_clinic(op, "insert into service_contraindication (org_id, service_id, kind, term, months) "
                        "select s.org_id, s.id, d.kind, d.term, d.months from service s "
                        f"join (values {values}) as d(category, kind, term, months) on d.category = s.category "
                        "where s.org_id = medspa_current_org() order by s.id")


def downgrade() -> None:
    op.drop_table('health_override')
    op.drop_table('service_contraindication')
    op.drop_table('medical_history_version')
