"""Waitlist offers: one job per freed time, deferred by the domain in the transaction that freed
it (domain.waitlist.trigger.time_freed: a cancellation, a move, a lapsed hold, new hours or an
extra shift), on the queue "waitlist" with a lock per location (two matchings of one location
never run at once).

The task calls one action, domain.waitlist.actions.do_offer_freed_time: the matching entries
are offered in the order they joined, by the location's mode, with their outbox messages.
Idempotent: a second run offers nothing twice (unique entry + start; a held time is no longer
free).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from medspa.domain.waitlist.actions import do_offer_freed_time
from medspa.domain.waitlist.trigger import OFFER_TASK, WAITLIST_QUEUE
from medspa.jobs.app import RETRY, app

log = logging.getLogger(__name__)


@app.task(name=OFFER_TASK, queue=WAITLIST_QUEUE, retry=RETRY)
async def offer_freed_time(org_id: int, location_id: int, lo: str, hi: str, provider_id: int | None = None) -> int:
    """Offer the time freed over [lo, hi) (ISO instants with offsets) at a location of clinic
    `org_id` (provider_id: whose time; None: anyone's); returns how many offers were made."""
    made = await asyncio.to_thread(do_offer_freed_time, org_id, location_id, datetime.fromisoformat(lo),
                                   datetime.fromisoformat(hi), provider_id)
    if made:
        log.info("clinic %s location %s: %d waitlist offers for %s..%s", org_id, location_id, len(made), lo, hi)
    return len(made)
