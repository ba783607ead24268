"""Open calendars follow a client's name and alerts (issue 14: alerts shown on the calendar
block). A change of first_name, last_name or alerts on `client` notifies calendar_changed
"<org>:0" (every location of the clinic) through migration 0027's medspa_notify_settings();
other client changes (a booking's new client, contact details) notify nothing.

Revision ID: 0036
Revises: 0035
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0036'
down_revision: Union[str, None] = '0035'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("""
        create trigger client_notify_calendar after update of first_name, last_name, alerts on client
          for each row
          when (old.first_name is distinct from new.first_name or old.last_name is distinct from new.last_name
                or old.alerts is distinct from new.alerts)
          execute function medspa_notify_settings()
    """)


def downgrade() -> None:
    op.execute("drop trigger if exists client_notify_calendar on client")
