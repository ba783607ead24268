"""Email delivery: one job per outbox email, deferred by the domain in the transaction that
wrote the message (domain.messaging.delivery.add_messages, task name "deliver_email").

The task calls one action, domain.messaging.actions.do_deliver_message: a 5xx marks the
message failed (a hard bounce also marks the address) and the job succeeds (no retry); a 4xx
or a connection error raises, and the job retries with RETRY's back-off, the retry reusing
the stored Message-ID. Safe to run twice (the claim): a message is handed to the server by
one delivery at a time.
"""

from __future__ import annotations

import asyncio
import logging

from procrastinate import JobContext

from medspa.domain.messaging.actions import do_deliver_message
from medspa.domain.messaging.delivery import DELIVER_EMAIL_TASK, DELIVERY_QUEUE
from medspa.jobs.app import RETRY, app, is_last_attempt

log = logging.getLogger(__name__)


@app.task(name=DELIVER_EMAIL_TASK, queue=DELIVERY_QUEUE, retry=RETRY, pass_context=True)
async def deliver_email(context: JobContext, message_id: int, org_id: int) -> str:
    """Send outbox email `message_id` of clinic `org_id`; returns sent / failed / skipped."""
    job_id = context.job.id if context.job else None
    outcome = await asyncio.to_thread(do_deliver_message, message_id, org_id, job_id=job_id,
                                      last_attempt=is_last_attempt(context, RETRY))
    log.info("outbox email %s of clinic %s: %s", message_id, org_id, outcome)
    return str(outcome)
