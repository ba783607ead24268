"""The procrastinate App: one per process, opened on the app role's URL by whoever runs a
worker (medspa.jobs.worker), never at import time.

Tasks: `@app.task(...)` in a module listed in IMPORT_PATHS (the worker imports them).
Periodic tasks: `@app.periodic(cron=...)` over `@app.task(queueing_lock=..., pass_context=True)`
taking `timestamp: int`: every worker runs the deferrer and the unique key of
procrastinate_periodic_defers (task, periodic id, tick) lets exactly one job per tick in, so
several workers never run one tick twice; the queueing lock keeps ticks from piling up while
no worker runs. A starting worker also defers the latest tick it missed (up to 10 minutes).

Retries: RETRY for one-off work (back-off 9 s, 21 s, 69 s, 4.4 min, 17 min: six runs in about
23 minutes, then the job is `failed`, the dead letter owners see through
domain.queue.actions.fetch_failed_jobs). Periodic tasks use TICK_RETRY (7 s, then 9 s: inside
their minute, since a waiting retry holds the queueing lock and would hold back the next
ticks); a tick that still fails is a dead letter too and the next tick starts afresh.

A job can run twice (a worker killed mid-job is retried by retry_stalled_jobs): tasks are
idempotent.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from procrastinate.jobs import Status

log = logging.getLogger(__name__)

IMPORT_PATHS = ["medspa.jobs.holds", "medspa.jobs.email", "medspa.jobs.sms"]
POOL_SIZE = {"min_size": 1, "max_size": 3}  # plus one LISTEN connection per worker
# total wait = wait + exponential_wait ** (attempts + 1) seconds, attempts = runs so far - 1
RETRY = RetryStrategy(max_attempts=5, wait=5, exponential_wait=4)
TICK_RETRY = RetryStrategy(max_attempts=2, wait=5, exponential_wait=2)
STALLED_AFTER_SECONDS = 30  # no heartbeat (every 10 s) for this long: the worker is gone
STALLED_MAX_ATTEMPTS = 5  # a job that took its worker down this often is failed, not retried

# the connector is replaced by `opened(conninfo)`; this one only makes the module importable
app = App(connector=PsycopgConnector(), import_paths=IMPORT_PATHS)


@asynccontextmanager
async def opened(conninfo: str, **pool: int) -> AsyncIterator[App]:
    """The app open on `conninfo` (the app role's URL: the role owns nothing, migration 0016
    grants it the queue) for the block; one open app per process and event loop."""
    connector = PsycopgConnector(conninfo=conninfo, **{**POOL_SIZE, **pool})
    with app.replace_connector(connector):
        async with app.open_async():
            yield app


@app.periodic(cron="*/5 * * * *")
@app.task(name="retry_stalled_jobs", queueing_lock="retry_stalled_jobs", pass_context=True)
async def retry_stalled_jobs(context: JobContext, timestamp: int) -> int:
    """Jobs left `doing` by a worker that stopped sending heartbeats (killed, machine lost)
    go back to `todo` (attempts + 1); one that did so STALLED_MAX_ATTEMPTS times is failed.
    Returns how many were retried."""
    manager = context.app.job_manager
    retried = 0
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS):
        if job.attempts >= STALLED_MAX_ATTEMPTS:
            log.error("job %s (%s) stalled %s times: failed", job.id, job.task_name, job.attempts)
            await manager.finish_job(job, status=Status.FAILED, delete_job=False)
        else:
            log.warning("job %s (%s) stalled: retried", job.id, job.task_name)
            await manager.retry_job(job)
            retried += 1
    return retried
