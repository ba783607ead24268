"""Hold expiry: give lapsed holds back so calendars stop showing them.

Booking transactions already release lapsed holds on the resources they want (the exclusion
constraint cannot use now()); this periodic task tidies the rest every minute so a client who
walked away does not leave a "held" block on the staff calendar. One job per minute whatever
the number of workers (medspa.jobs.app: periodic tasks). The work is one domain action,
medspa.domain.scheduling.actions.online.do_expire_lapsed_holds (audit row per released hold),
run on the app clock (FROZEN_NOW or real time) and idempotent: a second run finds nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from procrastinate import JobContext

from medspa.clock import FixedClock
from medspa.domain.scheduling.actions.online import do_expire_lapsed_holds
from medspa.jobs.app import TICK_RETRY, app

log = logging.getLogger(__name__)


def release_lapsed_holds(engine, now: datetime) -> int:
    """Release holds whose hold_expires_at <= now (aware UTC) in every clinic, through the
    domain with an audit row each; returns how many. engine: None for the app-role engine."""
    return len(do_expire_lapsed_holds(clock=FixedClock(now), engine=engine))


@app.periodic(cron="* * * * *")
@app.task(name="expire_holds", queueing_lock="expire_holds", pass_context=True, retry=TICK_RETRY)
async def expire_holds(context: JobContext, timestamp: int) -> int:
    """Every minute: release the lapsed holds of every clinic; returns how many."""
    released = await asyncio.to_thread(do_expire_lapsed_holds)
    if released:
        log.info("tick %s: released %d lapsed holds", timestamp, len(released))
    return len(released)
