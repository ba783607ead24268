"""appointment: at most MAX_VISIT_LENGTH long, so a window's visits have a lower bound on start (issue 20).

The calendar reads the visits of a location that overlap a window: `start_at < hi AND
end_at > lo`. The index ix_appointment_day (org_id, location_id, start_at) bounds that read
only from above, so a week a year back read every earlier visit of the location (the large
clinic: 135-260 ms for ~900 rows; bench/week_view.py). With every visit at most 24 hours long
(services are capped at 12 hours: catalog.editing.MAX_DURATION; a visit is its service's
length), `start_at > lo - 24 hours` is implied, and the read is a range scan.

- appointment_at_most_a_day: check (end_at - start_at <= interval '24 hours'), added NOT VALID
  then validated (no long lock on a big table).

Revision ID: 0058
Revises: 0057
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0058'
down_revision: Union[str, None] = '0057'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("alter table appointment add constraint appointment_at_most_a_day "
               "check (end_at - start_at <= interval '24 hours') not valid")
    op.execute("alter table appointment validate constraint appointment_at_most_a_day")


def downgrade() -> None:
    op.execute("alter table appointment drop constraint if exists appointment_at_most_a_day")
