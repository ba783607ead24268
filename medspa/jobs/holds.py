"""Hold expiry: give lapsed holds back so calendars stop showing them.

Booking transactions already release lapsed holds on the resources they want (the exclusion
constraint cannot use now()); this job tidies the rest every minute so a client who walked
away does not leave a "held" block on the staff calendar.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from medspa.db import tenant_session
from medspa.domain.practice.models import Organization
from medspa.domain.scheduling.models import Appointment, Occupancy

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 60


def release_lapsed_holds(engine: Engine, now: datetime) -> int:
    """Mark holds whose hold_expires_at <= now as released/expired in every clinic; returns the count."""
    with tenant_session(None, engine) as s:
        org_ids = list(s.execute(select(Organization.id)).scalars())
    total = 0
    for org_id in org_ids:
        with tenant_session(org_id, engine) as s:
            lapsed = list(s.execute(select(Appointment.id).where(
                Appointment.status == "held", Appointment.hold_expires_at <= now)).scalars())
            if lapsed:
                s.execute(update(Occupancy).where(Occupancy.appointment_id.in_(lapsed), Occupancy.status == "held")
                          .values(status="released"))
                s.execute(update(Appointment).where(Appointment.id.in_(lapsed)).values(status="expired"))
                s.commit()
                total += len(lapsed)
    return total


async def hold_expiry_loop() -> None:
    """Lifespan task: run release_lapsed_holds every INTERVAL_SECONDS in this worker."""
    from medspa.clock import app_clock
    from medspa.db import get_engine

    while True:
        try:
            await asyncio.to_thread(release_lapsed_holds, get_engine(), app_clock().now())
        except Exception:  # noqa: BLE001 - a failed sweep is retried next minute
            log.exception("hold expiry sweep failed")
        await asyncio.sleep(INTERVAL_SECONDS)
