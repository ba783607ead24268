"""Campaign sending: every minute, start the clinics' due scheduled campaigns and write the
outbox messages of recipients whose time has come (quiet hours in their own zone).

One job per minute whatever the number of workers (medspa.jobs.app: periodic tasks); the
work is one domain action, medspa.domain.messaging.campaign_actions.do_campaign_tick, which is
idempotent and safe to run twice at once (row locks, unique recipients, dedupe keys).
"""

from __future__ import annotations

import asyncio
import logging

from procrastinate import JobContext

from medspa.domain.messaging.campaign_actions import do_campaign_tick
from medspa.jobs.app import TICK_RETRY, app

log = logging.getLogger(__name__)


@app.periodic(cron="* * * * *")
@app.task(name="campaign_tick", queueing_lock="campaign_tick", pass_context=True, retry=TICK_RETRY)
async def campaign_tick(context: JobContext, timestamp: int) -> int:
    """Every minute: the campaigns' step in every clinic; returns how many messages it queued."""
    result = await asyncio.to_thread(do_campaign_tick)
    if result.started or result.queued or result.finished:
        log.info("tick %s: campaigns started %d, messages queued %d, finished %d", timestamp,
                 result.started, result.queued, result.finished)
    return result.queued
