"""Payment reconciliation: every minute, and once when a worker starts, settle every payment
whose fate is open (a booking that crashed or timed out around the gateway call, a 3-D Secure
whose webhook never came, a refund the gateway refused), so a charge never outlives its booking.

One domain action, medspa.domain.payments.actions.do_reconcile_payments: each payment is
claimed FOR UPDATE SKIP LOCKED in its own transaction, so two workers (or this tick and the
start-up run) never settle the same payment, and a second run finds nothing to do. Periodic
like hold expiry (medspa.jobs.app: one job per tick, TICK_RETRY); the start-up run is the same
task deferred by run_worker with the same queueing lock (a tick already queued is enough).
"""

from __future__ import annotations

import asyncio
import logging
import time

from procrastinate import App, JobContext
from procrastinate.exceptions import AlreadyEnqueued

from medspa.domain.payments.actions import do_reconcile_payments
from medspa.jobs.app import TICK_RETRY, app

log = logging.getLogger(__name__)
RECONCILE_TASK = "reconcile_payments"


@app.periodic(cron="* * * * *")
@app.task(name=RECONCILE_TASK, queueing_lock=RECONCILE_TASK, pass_context=True, retry=TICK_RETRY)
async def reconcile_payments(context: JobContext, timestamp: int) -> int:
    """Every minute (timestamp: the tick, epoch seconds): settle the open payments due in
    every clinic; returns how many were handled."""
    handled = await asyncio.to_thread(do_reconcile_payments)
    if handled:
        log.info("tick %s: reconciled %d payments: %s", timestamp, len(handled),
                 ", ".join(f"{r.payment_id}={r.outcome}" for r in handled))
    return len(handled)


async def defer_startup_reconciliation(opened_app: App) -> bool:
    """Queue one reconcile_payments run now (a worker is starting: payments left open by a
    crash are settled without waiting for the next tick). False when one is already queued."""
    try:
        await opened_app.configure_task(RECONCILE_TASK, queueing_lock=RECONCILE_TASK).defer_async(
            timestamp=int(time.time()))
    except AlreadyEnqueued:
        return False
    return True
