"""The body shared by the delivery tasks (medspa.jobs.email, medspa.jobs.sms): one call of the
delivery action, and on the job's last run an unexpected exception (a bug, the database lost
mid-run: not a provider's answer, which do_deliver_message handles) fails the message through
domain.messaging.actions.do_give_up_delivery before the job ends `failed`, so no message is
left `sending` or `queued` with no job behind it. The stalled-job sweep (medspa.jobs.app) does
the same for a delivery job whose worker died on its last run.
"""

from __future__ import annotations

import asyncio
import logging

from procrastinate import JobContext

from medspa.domain.messaging.actions import do_deliver_message, do_give_up_delivery
from medspa.jobs.app import RETRY, is_last_attempt

log = logging.getLogger(__name__)


async def run_delivery(context: JobContext, message_id: int, org_id: int) -> str:
    """Deliver outbox message `message_id` of clinic `org_id` once (do_deliver_message); returns
    sent / failed / skipped. Raises what the action raised (the job retries), after failing the
    message when this run is the job's last (see the module)."""
    job_id = context.job.id if context.job else None
    last = is_last_attempt(context, RETRY)
    try:
        outcome = await asyncio.to_thread(do_deliver_message, message_id, org_id, job_id=job_id, last_attempt=last)
    except Exception as exc:
        if last:
            cause = f"the delivery job failed ({type(exc).__name__})"
            try:
                await asyncio.to_thread(do_give_up_delivery, message_id, org_id, cause=cause)
            except Exception:  # the job fails anyway; the owner sees it under "Failed jobs"
                log.exception("outbox message %s of clinic %s: could not be failed after its job", message_id, org_id)
        raise
    return str(outcome)
