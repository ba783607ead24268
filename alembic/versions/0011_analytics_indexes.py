"""analytics indexes: the dashboard's range scans on years of data (issue 5, part 4).

Measured on the large clinic (`medspa seed --scale large`, ~1M appointments; bench/dashboard.py):
the reports filter visits on a coarse UTC window of appointment.start_at (analytics/common.py
_VISITS) and ledger lines on ledger_entry.created_at (analytics/revenue.py _LEDGER). The
row-level-security policy adds `org_id = medspa_current_org()` to every scan, so org_id leads:

- ix_appointment_org_start (org_id, start_at): a range of all locations (one location uses
  0001's ix_appointment_day (org_id, location_id, start_at));
- ix_ledger_entry_org_created (org_id, created_at): revenue, ticket summary and top services.

Revision ID: 0011
Revises: 0010
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("create index if not exists ix_appointment_org_start on appointment (org_id, start_at)")
    op.execute("create index if not exists ix_ledger_entry_org_created on ledger_entry (org_id, created_at)")


def downgrade() -> None:
    op.execute("drop index if exists ix_ledger_entry_org_created")
    op.execute("drop index if exists ix_appointment_org_start")
