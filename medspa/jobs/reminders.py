"""The reminder tick: every minute, the visit-timed messages due now in every clinic
(reminders, pre-visit instructions, post-treatment care, no-show follow-ups, review requests,
birthdays) are written to the outbox with their delivery jobs. One job per minute whatever
the number of workers (medspa.jobs.app: periodic tasks); the work is one domain action,
medspa.domain.messaging.reminder_actions.do_send_due_messages, run on the app clock (FROZEN_NOW
or real time) and idempotent (dedupe keys; concurrent runs skip a clinic another run holds).
Nothing is scheduled ahead, so a reschedule or a cancellation needs no job of its own.
"""

from __future__ import annotations

import asyncio
import logging

from procrastinate import JobContext

from medspa.domain.messaging.reminder_actions import do_send_due_messages
from medspa.jobs.app import TICK_RETRY, app

log = logging.getLogger(__name__)


@app.periodic(cron="* * * * *")
@app.task(name="send_due_reminders", queueing_lock="send_due_reminders", pass_context=True, retry=TICK_RETRY)
async def send_due_reminders(context: JobContext, timestamp: int) -> int:
    """Every minute: write the visit-timed messages due now in every clinic; returns how many."""
    result = await asyncio.to_thread(do_send_due_messages)
    if result.total:
        log.info("tick %s: %d visit messages written %s", timestamp, result.total, result.written)
    return result.total
