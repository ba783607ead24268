"""Running a job worker, two ways (the same App and tasks):

- `medspa worker` (production, several processes at once): `run_worker(conninfo)` in the
  process's main loop; SIGINT/SIGTERM stop it after the jobs at hand (procrastinate's own
  signal handlers) and it unregisters itself.
- `medspa serve` (the embedded default): ONE InProcessWorker, a thread with its own event
  loop started by the serve PARENT process, never by the web workers; `stop()` cancels it
  (a graceful stop: the worker row is removed). IN_PROCESS_WORKER=false turns it off when
  production runs `medspa worker` instead.

Either way a starting worker schedules the recovery of the jobs a dead worker left running
(medspa.jobs.app, "Stalled jobs"): restarting a killed worker gets its job retried about
JOB_STALLED_AFTER_SECONDS later, with no wait for the 5-minute sweep.

The caller points this process's domain actions at the right database first
(medspa.ops.jobs.bind_worker_database); `conninfo` is the app role's URL.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from medspa.jobs.app import (
    WORKER_START_PRUNE_SECONDS,
    heartbeat_seconds,
    opened,
    schedule_recovery_at_start,
    stalled_after_seconds,
)

log = logging.getLogger(__name__)
POLL_SECONDS = 5.0  # fallback poll; LISTEN/NOTIFY wakes workers at once for new jobs


async def run_worker(conninfo: str, *, install_signal_handlers: bool = True, **options: Any) -> None:
    """Open the app on `conninfo` and work until stopped (signal or cancellation). `options`:
    procrastinate's worker options (name, queues, concurrency, fetch_job_polling_interval, ...).

    Heartbeats every third of JOB_STALLED_AFTER_SECONDS (at most 10 s); at start the worker
    schedules the recovery of the jobs its predecessors left when they died (medspa.jobs.app:
    stalled jobs), due JOB_STALLED_AFTER_SECONDS + 1 s later."""
    stalled_after = stalled_after_seconds()
    options.setdefault("fetch_job_polling_interval", POLL_SECONDS)
    options.setdefault("update_heartbeat_interval", heartbeat_seconds(stalled_after))
    options.setdefault("stalled_worker_timeout", WORKER_START_PRUNE_SECONDS)
    async with opened(conninfo) as app:
        from medspa.jobs.payments import defer_startup_reconciliation

        await schedule_recovery_at_start(options.get("name") or "worker")
        await defer_startup_reconciliation(app)  # payments a crash left open: settle them now
        await app.run_worker_async(install_signal_handlers=install_signal_handlers, **options)


class InProcessWorker:
    """One worker in a daemon thread of this process: start() returns once its loop runs;
    stop() cancels it gracefully and says whether the thread ended within `timeout`."""

    def __init__(self, conninfo: str, **options: Any) -> None:
        self.conninfo, self.options = conninfo, {"name": "in-process", **options}
        self.loop = asyncio.new_event_loop()
        self.task: asyncio.Task | None = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="procrastinate-worker", daemon=True)

    def start(self, timeout: float = 30) -> "InProcessWorker":
        """Start the worker's thread; returns once its loop runs. Raises RuntimeError after
        `timeout` seconds."""
        self.thread.start()
        if not self.ready.wait(timeout):
            raise RuntimeError("the in-process job worker did not start")
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            self.task = asyncio.current_task()
            self.ready.set()
            await run_worker(self.conninfo, install_signal_handlers=False, **self.options)

        try:
            self.loop.run_until_complete(main())
        except asyncio.CancelledError:
            pass
        except Exception:  # noqa: BLE001 - the web server goes on; the log says why jobs stopped
            log.exception("the in-process job worker stopped")
        finally:
            self.ready.set()
            self.loop.close()

    def stop(self, timeout: float = 30) -> bool:
        """Cancel the worker gracefully; True when its thread ended within `timeout` seconds."""
        if self.task is not None and not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(self.task.cancel)
            except RuntimeError:  # the loop closed in between
                pass
        self.thread.join(timeout)
        return not self.thread.is_alive()
