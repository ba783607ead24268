"""The job queue (issue 10): procrastinate 3.10.0's tables, types and functions, owned by the
schema owner; the app role may use them, not change them.

The schema is a frozen copy of the package's `sql/schema.sql`
(`versions/sql/procrastinate-3.10.0-schema.sql`, byte for byte): reading the installed package
at migration time would make this revision mean something else after an upgrade of the
package. A later procrastinate version comes with its own revision running that version's
`sql/migrations/*.sql` deltas (`_01_pre_` before the deploy, `_50_post_` after).

Never `procrastinate schema --apply` / `apply_schema()`: they run as whatever role the app
connects as, and the app role owns nothing (tests/test_tenancy.py).

Privileges (the recipe of /work/shared/JOBS.md §2, verified there with exactly these): PUBLIC
loses EXECUTE on all 18 procrastinate functions and USAGE on the 3 types (PostgreSQL grants
both to PUBLIC by default); the app role gets what defer, the worker (fetch, finish, retry,
heartbeat, periodic defers), cancel, stalled-job recovery and the dead-letter read need.
The 7 trigger functions fire without EXECUTE. No tenant row-level security: the queue
tables have no org_id; a job about one clinic carries `org_id` in its args (medspa.jobs).

Revision ID: 0016
Revises: 0015
"""
from pathlib import Path
from typing import Sequence, Union

from alembic import op

revision: str = '0016'
down_revision: Union[str, None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SCHEMA_SQL = (Path(__file__).parent / "sql" / "procrastinate-3.10.0-schema.sql").read_text()

TABLES = ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs", "procrastinate_workers")
TYPES = ("procrastinate_job_to_defer_v1", "procrastinate_job_event_type", "procrastinate_job_status")
FUNCTIONS = (
    "procrastinate_defer_jobs_v1(procrastinate_job_to_defer_v1[])",
    "procrastinate_defer_periodic_job_v2(varchar, varchar, varchar, varchar, integer, varchar, bigint, jsonb)",
    "procrastinate_fetch_job_v2(varchar[], bigint)",
    "procrastinate_finish_job_v1(bigint, procrastinate_job_status, boolean)",
    "procrastinate_cancel_job_v1(bigint, boolean, boolean)",
    "procrastinate_retry_job_v1(bigint, timestamptz, integer, varchar, varchar)",
    "procrastinate_retry_job_v2(bigint, timestamptz, integer, varchar, varchar)",
    "procrastinate_register_worker_v1()",
    "procrastinate_unregister_worker_v1(bigint)",
    "procrastinate_update_heartbeat_v1(bigint)",
    "procrastinate_prune_stalled_workers_v1(double precision)",
)
TRIGGER_FUNCTIONS = (
    "procrastinate_notify_queue_job_inserted_v1()",
    "procrastinate_notify_queue_abort_job_v1()",
    "procrastinate_trigger_function_status_events_insert_v1()",
    "procrastinate_trigger_function_status_events_update_v1()",
    "procrastinate_trigger_function_scheduled_events_v1()",
    "procrastinate_trigger_abort_requested_events_procedure_v1()",
    "procrastinate_unlink_periodic_defers_v1()",
)


def upgrade() -> None:
    app_role = op.get_context().config.attributes.get("app_role", "medspa_app")
    # several statements and plpgsql bodies with `%`: the raw psycopg connection, no parameters,
    # inside alembic's transaction (a failed upgrade leaves nothing behind)
    op.get_bind().connection.driver_connection.execute(SCHEMA_SQL)
    everything = ", ".join(FUNCTIONS + TRIGGER_FUNCTIONS)
    op.execute(f"revoke all on function {everything} from public")
    op.execute(f"revoke all on type {', '.join(TYPES)} from public")
    role = f'"{app_role}"'
    op.execute(f"grant select, insert, update, delete on procrastinate_jobs, procrastinate_workers, "
               f"procrastinate_periodic_defers to {role}")
    # events are written by the triggers (as the app role); the FK cascade deletes run as the owner
    op.execute(f"grant select, insert on procrastinate_events to {role}")
    op.execute(f"grant usage on sequence procrastinate_jobs_id_seq, procrastinate_events_id_seq, "
               f"procrastinate_periodic_defers_id_seq to {role}")
    op.execute(f"grant usage on type {', '.join(TYPES)} to {role}")
    op.execute(f"grant execute on function {', '.join(FUNCTIONS)} to {role}")


def downgrade() -> None:
    names = ", ".join(f.split("(")[0] for f in FUNCTIONS + TRIGGER_FUNCTIONS)
    op.execute(f"drop table if exists {', '.join(TABLES)} cascade")
    op.execute(f"drop function if exists {names}")
    op.execute(f"drop type if exists {', '.join(TYPES)}")
