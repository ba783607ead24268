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

A job can run twice (a worker killed mid-job is retried by the stalled-job recovery): tasks
are idempotent.

Stalled jobs: a worker sends a heartbeat every third of JOB_STALLED_AFTER_SECONDS (default 30 s;
at most every 10 s); one silent for that long is gone (killed, machine lost), and the jobs it
left `doing` go back to the queue (attempts + 1). Two sweeps do it: the periodic one every 5
minutes, and the one each worker schedules when it starts, due JOB_STALLED_AFTER_SECONDS + 1 s
later (schedule_recovery_at_start): by then any worker that died before this one started has
been silent long enough, so a restarted worker recovers its predecessor's jobs within about
half a minute instead of up to 5 minutes. Sweeps may run at the same time (several workers
starting together): deleting a silent worker's row is the claim on its jobs
(procrastinate_prune_stalled_workers deletes each row once), so each job is retried by one
sweep only and never runs twice at once. Procrastinate's own prune at worker start is turned
off (run_worker) since it deletes the row without retrying the jobs.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import ConnectorException, UniqueViolation
from procrastinate.jobs import Job, Status

from medspa.domain.messaging.actions import DELIVERY_TASKS, WORKER_STOPPED, do_give_up_delivery
from medspa.settings import get_settings

log = logging.getLogger(__name__)

IMPORT_PATHS = ["medspa.jobs.holds", "medspa.jobs.email", "medspa.jobs.sms", "medspa.jobs.payments",
                "medspa.jobs.waitlist", "medspa.jobs.campaigns", "medspa.jobs.reminders"]
POOL_SIZE = {"min_size": 1, "max_size": 3}  # plus one LISTEN connection per worker
# total wait = wait + exponential_wait ** (attempts + 1) seconds, attempts = runs so far - 1
RETRY = RetryStrategy(max_attempts=5, wait=5, exponential_wait=4)
TICK_RETRY = RetryStrategy(max_attempts=2, wait=5, exponential_wait=2)
STALLED_MAX_ATTEMPTS = 5  # a job that took its worker down this often is failed, not retried
MAX_HEARTBEAT_SECONDS = 10.0
# procrastinate's prune of silent workers at worker start, which would orphan their jobs: a week
# (the sweeps prune them, and retry their jobs)
WORKER_START_PRUNE_SECONDS = 7 * 24 * 3600.0

# the connector is replaced by `opened(conninfo)`; this one only makes the module importable
app = App(connector=PsycopgConnector(), import_paths=IMPORT_PATHS)


def is_last_attempt(context: JobContext, strategy: RetryStrategy) -> bool:
    """True when the running job will not be retried if it fails now: procrastinate retries
    while job.attempts (runs before this one) < strategy.max_attempts."""
    job = context.job
    return job is not None and strategy.max_attempts is not None and job.attempts >= strategy.max_attempts


def stalled_after_seconds() -> float:
    """Seconds without a heartbeat after which a worker counts as gone (JOB_STALLED_AFTER_SECONDS)."""
    return get_settings().job_stalled_after_seconds


def heartbeat_seconds(stalled_after: float) -> float:
    """How often a worker sends its heartbeat for a stall window of `stalled_after` seconds:
    a third of it (a live worker never looks stalled), at most every 10 s."""
    return min(MAX_HEARTBEAT_SECONDS, stalled_after / 3)


@asynccontextmanager
async def opened(conninfo: str, **pool: int) -> AsyncIterator[App]:
    """The app open on `conninfo` (the app role's URL: the role owns nothing, migration 0016
    grants it the queue) for the block; one open app per process and event loop."""
    connector = PsycopgConnector(conninfo=conninfo, **{**POOL_SIZE, **pool})
    with app.replace_connector(connector):
        async with app.open_async():
            yield app


async def _give_up_delivery(job: Job) -> None:
    """A delivery job the sweep failed: fail its message too (domain action), in its clinic."""
    if job.task_name not in DELIVERY_TASKS:
        return
    message_id, org_id = job.task_kwargs.get("message_id"), job.task_kwargs.get("org_id")
    if not (isinstance(message_id, int) and isinstance(org_id, int)):
        return
    try:
        await asyncio.to_thread(do_give_up_delivery, message_id, org_id, cause=WORKER_STOPPED)
    except Exception:  # the sweep goes on; the owner still sees the job under "Failed jobs"
        log.exception("outbox message %s of clinic %s: could not be failed after its stalled job", message_id, org_id)


async def _abort_superseded(manager, job: Job, exc: UniqueViolation) -> None:
    """A stalled job that cannot go back to `todo` because a job with its queueing lock is
    queued already (the next tick of a periodic task, which does the same work): abort it, so
    it is not left `doing` for good and retried by every sweep."""
    try:
        await manager.finish_job(job, status=Status.ABORTED, delete_job=False)
        log.warning("stalled job %s (%s) aborted: a job with its queueing lock %r is queued (%s)",
                    job.id, job.task_name, job.queueing_lock, exc.constraint_name)
    except ConnectorException as gone:  # another sweep finished it first
        log.warning("stalled job %s (%s) left as it is: %s", job.id, job.task_name, gone.__cause__ or gone)


async def _retry_stalled(context: JobContext, *, orphans: bool) -> int:
    """Retry the jobs left `doing` by workers silent for JOB_STALLED_AFTER_SECONDS (attempts + 1),
    or fail those already retried STALLED_MAX_ATTEMPTS times (a delivery job's message fails with
    it: messaging.actions.do_give_up_delivery, "gave up after N tries: the worker stopped during
    delivery", so it can be resent). Only the jobs of the workers this
    sweep deleted (the claim, see the module), and with `orphans` also `doing` jobs whose worker
    row is gone already (a sweep that died halfway); never a job of the worker running this.
    Returns how many were retried."""
    manager = context.app.job_manager
    window = stalled_after_seconds()
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=window))
    claimed = set(await manager.prune_stalled_workers(window))
    running = getattr(context, "job", None)
    own_worker = running.worker_id if running is not None else None
    retried = 0
    for job in stalled:
        ours = job.worker_id in claimed or (orphans and job.worker_id is None)
        if not ours or (own_worker is not None and job.worker_id == own_worker):
            continue
        try:
            if job.attempts >= STALLED_MAX_ATTEMPTS:
                await manager.finish_job(job, status=Status.FAILED, delete_job=False)
                log.error("job %s (%s) stalled on its run %d (the %d runs before it failed or stalled): "
                          "given up, failed", job.id, job.task_name, job.attempts + 1, job.attempts)
                await _give_up_delivery(job)
            else:
                await manager.retry_job(job)
                log.warning("job %s (%s) stalled: retried", job.id, job.task_name)
                retried += 1
        except UniqueViolation as exc:  # its queueing lock's next job is already queued (a periodic tick)
            await _abort_superseded(manager, job, exc)
        except ConnectorException as exc:  # no longer `doing` (an orphan another sweep retried)
            log.warning("stalled job %s (%s) left as it is: %s", job.id, job.task_name, exc.__cause__ or exc)
    return retried


@app.periodic(cron="*/5 * * * *")
@app.task(name="retry_stalled_jobs", queueing_lock="retry_stalled_jobs", pass_context=True)
async def retry_stalled_jobs(context: JobContext, timestamp: int) -> int:
    """Every 5 minutes: jobs left `doing` by a worker that stopped sending heartbeats (killed,
    machine lost) go back to `todo` (attempts + 1); one that did so STALLED_MAX_ATTEMPTS times
    is failed. Returns how many were retried."""
    return await _retry_stalled(context, orphans=True)


@app.task(name="retry_stalled_jobs_after_start", pass_context=True)
async def retry_stalled_jobs_after_start(context: JobContext, worker: str) -> int:
    """The sweep of retry_stalled_jobs (without orphans), scheduled by worker `worker` (its
    name) when it started: see schedule_recovery_at_start. Returns how many were retried."""
    retried = await _retry_stalled(context, orphans=False)
    if retried:
        log.warning("sweep scheduled by the start of worker %s: %d stalled jobs retried", worker, retried)
    return retried


async def schedule_recovery_at_start(worker: str) -> int:
    """Schedule retry_stalled_jobs_after_start JOB_STALLED_AFTER_SECONDS + 1 s from now, on the
    open app: by then every worker that died before this call has been silent long enough to
    count as gone, and its jobs are retried. `worker`: this worker's name (logs). Called by
    medspa.jobs.worker.run_worker at every start; returns the job id."""
    deferrer = retry_stalled_jobs_after_start.configure(schedule_in={"seconds": stalled_after_seconds() + 1})
    return await deferrer.defer_async(worker=worker)
