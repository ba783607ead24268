"""SMS delivery: one job per outbox SMS, deferred by the domain in the transaction that wrote
the message (domain.messaging.delivery.add_messages, task name "deliver_sms"), only when
Twilio is set up (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN).

The task calls the one delivery action, domain.messaging.actions.do_deliver_message (the same
claim / send / record steps as email): a permanent refusal by Twilio (an invalid, non-mobile
or opted-out number, another 4xx) marks the message failed, the number undeliverable where
the refusal is about it, and writes the fallback email; the job succeeds (no retry). A 429,
a 5xx, a timeout or a connection error raises, and the job retries with RETRY's back-off.
Safe to run twice (the claim): a message is handed to Twilio by one delivery at a time. On
the job's last run an unexpected exception fails the message (medspa.jobs.delivery.run_delivery).
"""

from __future__ import annotations

import logging

from procrastinate import JobContext

from medspa.domain.messaging.delivery import DELIVER_SMS_TASK, DELIVERY_QUEUE
from medspa.jobs.app import RETRY, app
from medspa.jobs.delivery import run_delivery

log = logging.getLogger(__name__)


@app.task(name=DELIVER_SMS_TASK, queue=DELIVERY_QUEUE, retry=RETRY, pass_context=True)
async def deliver_sms(context: JobContext, message_id: int, org_id: int) -> str:
    """Send outbox SMS `message_id` of clinic `org_id`; returns sent / failed / skipped."""
    outcome = await run_delivery(context, message_id, org_id)
    log.info("outbox SMS %s of clinic %s: %s", message_id, org_id, outcome)
    return str(outcome)
