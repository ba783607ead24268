"""When a time frees, the waitlist hears of it through the queue: `time_freed` defers one
`offer_freed_time` job on the session's own connection, in the transaction that freed the
time (JOBS.md §4), so the job exists exactly when the cancellation (move, new hours, lapsed
hold) commits and the freeing action never waits for the matching. The job (medspa.jobs.
waitlist) calls waitlist.actions.do_offer_freed_time after the commit.

Nothing is deferred when no open entry at the location could want that span (the common case
costs one indexed query). The jobs run on a queue of their own (WAITLIST_QUEUE) and carry a
lock per location, so two matchings of one location never run at once (the offers' unique key
and the advisory lock in waitlist.offers guard the rest).

This module imports only scheduling's models (scheduling.service calls it: no cycle).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from procrastinate import manager, tasks
from procrastinate.sync_psycopg_connector import SyncPsycopgConnector
from sqlalchemy import exists, update
from sqlmodel import Session, select

from medspa.domain.practice.models import Location
from medspa.domain.scheduling.models import Appointment
from medspa.domain.waitlist.models import (OPEN_ENTRY_STATUSES, EntryStatus, OfferStatus, WaitlistEntry,
                                           WaitlistOffer)

OFFER_TASK = "offer_freed_time"
WAITLIST_QUEUE = "waitlist"
RESCAN_DAYS = 62  # new hours: the span looked at from now (availability's MAX_RANGE_DAYS)
# only ever used with connection=: never opened, so it works in a web worker and in a job alike
_JOBS = manager.JobManager(SyncPsycopgConnector())


def _local_days(location: Location, lo: datetime, hi: datetime) -> tuple[date, date]:
    tz = ZoneInfo(location.time_zone)
    return lo.astimezone(tz).date(), (hi - timedelta(microseconds=1)).astimezone(tz).date()


def anyone_waiting(session: Session, location: Location, lo: datetime, hi: datetime) -> bool:
    """Whether an open entry (waiting or offered) at `location` covers a local date of [lo, hi)."""
    first, last = _local_days(location, lo, hi)
    return bool(session.exec(select(exists().where(
        WaitlistEntry.location_id == location.id, WaitlistEntry.status.in_(OPEN_ENTRY_STATUSES),
        WaitlistEntry.first_day <= last, WaitlistEntry.last_day >= first))).one())


def time_freed(session: Session, *, location_id: int, lo: datetime, hi: datetime,
               provider_id: int | None = None) -> int | None:
    """Defer the matching of the time freed over [lo, hi) (aware instants) at `location_id`
    (provider_id: whose time it is; None: anyone's, e.g. new opening hours) in the session's
    transaction. Returns the job id, None when nobody at the location waits for those dates."""
    location = session.get(Location, location_id)
    if location is None or hi <= lo or not anyone_waiting(session, location, lo, hi):
        return None
    raw = session.connection().connection.driver_connection
    deferrer = tasks.configure_task(name=OFFER_TASK, job_manager=_JOBS, connection=raw, queue=WAITLIST_QUEUE,
                                    lock=f"waitlist-{location.org_id}-{location_id}")
    return deferrer.defer(org_id=location.org_id, location_id=location_id, lo=lo.isoformat(), hi=hi.isoformat(),
                          provider_id=provider_id)


def hours_changed(session: Session, *, location_id: int, now: datetime, provider_id: int | None = None) -> int | None:
    """New opening or working hours at `location_id` (provider_id: one provider's): the next
    RESCAN_DAYS days may hold new free times; see time_freed."""
    return time_freed(session, location_id=location_id, lo=now, hi=now + timedelta(days=RESCAN_DAYS),
                      provider_id=provider_id)


def visit_freed(session: Session, appt: Appointment) -> int | None:
    """A visit or hold gave its time back (cancelled, hold lapsed or left; call it after its
    occupancies are released, in that transaction): an open offer holding it lapses,
    its entry waits again (unless another of its offers is open), and the time is matched
    again (the next entry in line is offered it: it was never offered to them)."""
    offers = list(session.exec(select(WaitlistOffer).where(WaitlistOffer.hold_appointment_id == appt.id,
                                                           WaitlistOffer.status == OfferStatus.OPEN)))
    for offer in offers:
        offer.status = OfferStatus.LAPSED
        session.add(offer)
        session.flush()
        still_open = session.exec(select(exists().where(WaitlistOffer.entry_id == offer.entry_id,
                                                        WaitlistOffer.status == OfferStatus.OPEN))).one()
        if not still_open:
            session.execute(update(WaitlistEntry).where(WaitlistEntry.id == offer.entry_id,
                                                        WaitlistEntry.status == EntryStatus.OFFERED)
                            .values(status=EntryStatus.WAITING))
    return time_freed(session, location_id=appt.location_id, lo=appt.start_at, hi=appt.end_at,
                      provider_id=appt.provider_id)
