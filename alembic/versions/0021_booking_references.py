"""Booking references (issue 12, part 3): a short display code for people and a separate
unguessable token, on every appointment (medspa.domain.scheduling.references owns the format).

appointment:
- reference is renamed booking_token (varchar(64)); its global UNIQUE becomes
  uq_appointment_booking_token (org_id, booking_token), like every unique constraint here
  (distributable by org_id). Existing values are kept: links and API lookups already handed
  out keep working.
- display_code varchar(8) NOT NULL, uq_appointment_display_code (org_id, display_code).

medspa_display_code(bigint) (immutable SQL, executable by the app role): 8 Crockford base32
characters of a bijection of the number's low 40 bits (multiply by an odd constant, xor-shift,
multiply again, all mod 2^40), so distinct ids below 2^40 give distinct codes. The backfill
sets every existing row's display_code to medspa_display_code(id): unique without retries.
The owner's UPDATE runs with the table's FORCE row level security lifted (under FORCE an owner
with app.org_id unset sees no row; one UPDATE instead of one per clinic) and its user triggers
disabled (the calendar NOTIFY and the first-visit recompute have nothing to do for a new
column), both restored in the same transaction. The app sets random codes itself
(references.new_display_code); the bulk demo loader calls the function.

Revision ID: 0021
Revises: 0020
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: Union[str, None] = '0020'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

DISPLAY_CODE_FUNCTION = """
create or replace function medspa_display_code(n bigint) returns text
language sql immutable strict parallel safe as $$
  select string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + ((x >> (5 * (7 - i))) & 31)::int, 1), ''
                    order by i)
  from (select ((y # (y >> 20)) * 2654435) & 1099511627775 as x
        from (select ((n & 1099511627775) * 6364137) & 1099511627775 as y) as s1) as s2,
       generate_series(0, 7) as i
$$;
"""


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    op.execute(DISPLAY_CODE_FUNCTION)
    op.execute(f'grant execute on function medspa_display_code(bigint) to "{app_role}"')
    op.alter_column('appointment', 'reference', new_column_name='booking_token', type_=sa.String(length=64),
                    existing_nullable=False)
    op.drop_constraint('appointment_reference_key', 'appointment', type_='unique')
    op.create_unique_constraint('uq_appointment_booking_token', 'appointment', ['org_id', 'booking_token'])
    # under FORCE RLS the owner sees no row without app.org_id: lift it for this one UPDATE (docstring)
    op.add_column('appointment', sa.Column('display_code', sa.String(length=8), nullable=True))
    op.execute("alter table appointment no force row level security")
    op.execute("alter table appointment disable trigger user")  # no calendar notify / first-visit recompute
    op.execute("update appointment set display_code = medspa_display_code(id)")
    op.execute("alter table appointment enable trigger user")
    op.execute("alter table appointment force row level security")
    op.alter_column('appointment', 'display_code', nullable=False)
    op.create_unique_constraint('uq_appointment_display_code', 'appointment', ['org_id', 'display_code'])


def downgrade() -> None:
    op.drop_constraint('uq_appointment_display_code', 'appointment', type_='unique')
    op.drop_column('appointment', 'display_code')
    op.drop_constraint('uq_appointment_booking_token', 'appointment', type_='unique')
    op.alter_column('appointment', 'booking_token', new_column_name='reference', type_=sa.String(length=40),
                    existing_nullable=False)
    op.create_unique_constraint('appointment_reference_key', 'appointment', ['reference'])
    op.execute("drop function medspa_display_code(bigint)")
