"""Hold expiry: give lapsed holds back so calendars stop showing them.

Booking transactions already release lapsed holds on the resources they want (the exclusion
constraint cannot use now()); this job tidies the rest every minute so a client who walked
away does not leave a "held" block on the staff calendar. The work is one domain action,
medspa.domain.scheduling.actions.online.do_expire_lapsed_holds (audit row per released hold).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from medspa.clock import FixedClock
from medspa.domain.scheduling.actions.online import do_expire_lapsed_holds

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 60


def release_lapsed_holds(engine, now: datetime) -> int:
    """Release holds whose hold_expires_at <= now (aware UTC) in every clinic, through the
    domain with an audit row each; returns how many. engine: None for the app-role engine."""
    return len(do_expire_lapsed_holds(clock=FixedClock(now), engine=engine))


async def hold_expiry_loop() -> None:
    """Lifespan task: expire lapsed holds every INTERVAL_SECONDS in this worker."""
    while True:
        try:
            await asyncio.to_thread(do_expire_lapsed_holds)
        except Exception:  # noqa: BLE001 - a failed sweep is retried next minute
            log.exception("hold expiry sweep failed")
        await asyncio.sleep(INTERVAL_SECONDS)
