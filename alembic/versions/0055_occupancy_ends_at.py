"""occupancy.ends_at: the end of `during` as a plain column, indexed for busy-time lookups (issue 20).

Every availability read and booking attempt asks for the live occupancy of a few resources
overlapping a window (scheduling/availability.py load_busy). Under row-level security the
range operator `&&` (not LEAKPROOF) is never an index condition, so the exclusion
constraint's GiST index was scanned for the resources' WHOLE history (9,670 rows read, 0
kept, for a 3-day window of the demo clinic) and filtered row by row: the query grows with
the years a clinic has been open. As for starts_at (0013), a stored generated column
compares with the leakproof timestamptz operators:

- ends_at = upper(during), GENERATED ALWAYS ... STORED (rewrites the table once);
- ix_occupancy_live_ends (org_id, resource_id, ends_at) INCLUDE (starts_at), live rows only
  (status held/booked, like the exclusion constraint): `resource_id IN (...) AND ends_at > lo
  AND starts_at < hi` reads only what ends after the window starts.

Revision ID: 0055
Revises: 0053
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0055'
down_revision: Union[str, None] = '0053'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("alter table occupancy add column if not exists ends_at timestamptz "
               "generated always as (upper(during)) stored")
    op.execute("create index if not exists ix_occupancy_live_ends on occupancy (org_id, resource_id, ends_at) "
               "include (starts_at) where status in ('held', 'booked')")


def downgrade() -> None:
    op.execute("drop index if exists ix_occupancy_live_ends")
    op.execute("alter table occupancy drop column if exists ends_at")
