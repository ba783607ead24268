"""occupancy.starts_at: the start of `during` as a plain column, indexed for the dashboard (issue 5).

Rooms' and devices' utilization (analytics/service.py resource_utilization) joins the visits
of a range to their occupancy rows. Probing ix_occupancy_appointment_id once per visit costs
~10x a sequential scan of appointment for a year of the large clinic (bench/dashboard.py);
a hash join needs the range's occupancy rows without reading the whole table. An expression
index on lower(during) cannot serve it: row-level security evaluates the tenant policy before
any qual with a function that is not LEAKPROOF (range lower() is not), so such a qual is
never an index condition. A stored generated column needs no writer change and compares with
the (leakproof) timestamptz operators:

- starts_at = lower(during), GENERATED ALWAYS ... STORED (rewrites the table once);
- ix_occupancy_org_starts (org_id, starts_at) INCLUDE (appointment_id, resource_id, kind):
  an index-only range scan for the report.

Revision ID: 0013
Revises: 0012
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0013'
down_revision: Union[str, None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("alter table occupancy add column if not exists starts_at timestamptz "
               "generated always as (lower(during)) stored")
    op.execute("create index if not exists ix_occupancy_org_starts on occupancy (org_id, starts_at) "
               "include (appointment_id, resource_id, kind)")


def downgrade() -> None:
    op.execute("drop index if exists ix_occupancy_org_starts")
    op.execute("alter table occupancy drop column if exists starts_at")
