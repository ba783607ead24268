"""Client search folds apostrophes; a visit keeps the cancellation rule it was booked under.

1. medspa_fold drops apostrophes (' and U+2019), as duplicates.fold_name does, so "obrien" (or
   "OBrien") finds O'Brien by name. The apostrophes are removed after unaccent, whose rules
   turn U+2019 into "'". Every clinic's client_search.search_name is refolded.
2. appointment.booked_window_hours and booked_late_keeps_deposit: the location's
   cancellation_window_hours and late_cancel_keeps_deposit when the visit was booked
   (scheduling.policy.cancel_rule decides a cancellation by the kinder of that rule and the
   location's current one). NULL: not recorded, the location's current rule. Existing visits
   take their location's current rule.

Backfills run per clinic (for_each_clinic: the owner sees a clinic's rows only with
app.org_id set under FORCE row level security).

Revision ID: 0033
Revises: 0032
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from medspa.tenancy import for_each_clinic

revision: str = '0033'
down_revision: Union[str, None] = '0032'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_REFOLD = """
    update client_search s set search_name = coalesce(medspa_fold(c.first_name || ' ' || c.last_name), '')
    from client c where c.id = s.client_id"""


def _fold(body: str) -> None:
    op.execute(f"""
        create or replace function medspa_fold(text) returns text
          language sql immutable strict parallel safe set search_path = public, pg_temp
          as $$ {body} $$;
    """)


def upgrade() -> None:
    _fold("select translate(lower(unaccent('unaccent'::regdictionary, $1)), '''' || chr(8217), '')")
    for_each_clinic(op, _REFOLD)
    op.add_column('appointment', sa.Column('booked_window_hours', sa.Integer(), nullable=True))
    op.add_column('appointment', sa.Column('booked_late_keeps_deposit', sa.Boolean(), nullable=True))
    for_each_clinic(op, """
        update appointment a set booked_window_hours = l.cancellation_window_hours,
                                 booked_late_keeps_deposit = l.late_cancel_keeps_deposit
        from location l where l.id = a.location_id""")


def downgrade() -> None:
    op.drop_column('appointment', 'booked_late_keeps_deposit')
    op.drop_column('appointment', 'booked_window_hours')
    _fold("select lower(unaccent('unaccent'::regdictionary, $1))")
    for_each_clinic(op, _REFOLD)
