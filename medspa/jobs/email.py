"""Email delivery: one job per outbox email, deferred by the domain in the transaction that
wrote the message (domain.messaging.delivery.add_messages, task name "deliver_email").

The task calls one action, domain.messaging.actions.do_deliver_message: a 5xx marks the
message failed (a hard bounce also marks the address) and the job succeeds (no retry); a 4xx
or a connection error raises, and the job retries with RETRY's back-off, the retry reusing
the stored Message-ID. Safe to run twice (the claim): a message is handed to the server by
one delivery at a time. On the job's last run an unexpected exception fails the message
(medspa.jobs.delivery.run_delivery).
"""

from __future__ import annotations

import logging

from procrastinate import JobContext

from medspa.domain.messaging.delivery import DELIVER_EMAIL_TASK, DELIVERY_QUEUE
from medspa.jobs.app import RETRY, app
from medspa.jobs.delivery import run_delivery

log = logging.getLogger(__name__)


@app.task(name=DELIVER_EMAIL_TASK, queue=DELIVERY_QUEUE, retry=RETRY, pass_context=True)
async def deliver_email(context: JobContext, message_id: int, org_id: int) -> str:
    """Send outbox email `message_id` of clinic `org_id`; returns sent / failed / skipped."""
    outcome = await run_delivery(context, message_id, org_id)
    log.info("outbox email %s of clinic %s: %s", message_id, org_id, outcome)
    return str(outcome)
