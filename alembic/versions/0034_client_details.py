"""A client's details beyond name and contact (issue 14 part 2): address, own time zone,
emergency contact, preferred provider, insurance, when and how each marketing consent last
changed, calendar alerts and free notes.

Columns on `client` rather than a 1:1 table: every client has exactly one set, the profile,
the edit form and the calendar read them with the client row, `client` already has its
row-level security policy and grants, and a second table naming client_id would have to join
the merge registry (clients.merge.CLIENT_ROWS) and be kept in step on create and import.

- address: one text block, as typed ('' none).
- time_zone: an IANA name; NULL means the zone of the client's usual location
  (clients.details.client_time_zone).
- emergency_name / emergency_phone_e164 (E.164, read with the clinic's country).
- preferred_provider_id: a staff member of the same clinic (FK; ON DELETE SET NULL).
- insurance_carrier / insurance_member_id ('' none; no claims).
- email_marketing_consent_at / _source, sms_marketing_consent_at / _source: the instant and
  source ("desk", "import", "portal", "online booking", "merge") of the last change of the
  existing email_marketing_consent / sms_marketing_consent booleans (NULL / '': never changed
  since this migration).
- alerts: one short line shown on the calendar block ("VIP · prefers afternoons").
- notes: free notes of the desk.

Revision ID: 0034
Revises: 0033
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0034'
down_revision: Union[str, None] = '0033'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_TEXT = (("address", sa.Text()), ("emergency_name", sa.String(120)), ("insurance_carrier", sa.String(120)),
         ("insurance_member_id", sa.String(60)), ("email_marketing_consent_source", sa.String(40)),
         ("sms_marketing_consent_source", sa.String(40)), ("alerts", sa.String(120)), ("notes", sa.Text()))


def upgrade() -> None:
    for name, type_ in _TEXT:
        op.add_column('client', sa.Column(name, type_, nullable=False, server_default=''))
    op.add_column('client', sa.Column('time_zone', sa.String(64), nullable=True))
    op.add_column('client', sa.Column('emergency_phone_e164', sa.String(20), nullable=True))
    op.add_column('client', sa.Column('preferred_provider_id', sa.BigInteger(),
                                      sa.ForeignKey('staff_member.id', ondelete='SET NULL'), nullable=True))
    op.add_column('client', sa.Column('email_marketing_consent_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('client', sa.Column('sms_marketing_consent_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_client_preferred_provider_id', 'client', ['preferred_provider_id'],
                    postgresql_where=sa.text('preferred_provider_id is not null'))


def downgrade() -> None:
    op.drop_index('ix_client_preferred_provider_id', table_name='client')
    for name in ('sms_marketing_consent_at', 'email_marketing_consent_at', 'preferred_provider_id',
                 'emergency_phone_e164', 'time_zone'):
        op.drop_column('client', name)
    for name, _type in reversed(_TEXT):
        op.drop_column('client', name)
