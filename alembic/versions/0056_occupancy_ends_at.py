"""occupancy.ends_at: the end of `during` as a plain column, indexed for availability (issue 20).

Availability reads the live occupancies of a few resources that overlap a window
(availability.load_busy). Under row-level security PostgreSQL only uses LEAKPROOF quals as
index conditions, and the range operator `&&` is not leakproof (migration 0013), so that read
scanned every live row the resources ever had (12k rows for one week on the demo clinic: 20+
ms a request, most of the availability route's database time). With `ends_at` (like
`starts_at`, 0013: a stored generated column, no writer change) the read adds
`ends_at > lo AND starts_at < hi`, both leakproof timestamptz comparisons, and the index
below turns it into a range scan of the resources' rows ending after the window starts:

- ends_at = upper(during), GENERATED ALWAYS ... STORED (rewrites the table once);
- ix_occupancy_live_ends (org_id, resource_id, ends_at) INCLUDE (starts_at), partial on the
  live statuses (held, booked) like the exclusion constraint.

Revision ID: 0056
Revises: 0054
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0056'
down_revision: Union[str, None] = '0054'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("alter table occupancy add column if not exists ends_at timestamptz "
               "generated always as (upper(during)) stored")
    op.execute("create index if not exists ix_occupancy_live_ends on occupancy (org_id, resource_id, ends_at) "
               "include (starts_at) where status in ('held', 'booked')")
    # statistics for the new column now: without them the planner prices `ends_at > lo` at a
    # default selectivity and may settle on a generic plan that scans the resources' history
    op.execute("analyze occupancy")


def downgrade() -> None:
    op.execute("drop index if exists ix_occupancy_live_ends")
    op.execute("alter table occupancy drop column if exists ends_at")
