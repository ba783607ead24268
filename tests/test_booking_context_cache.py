"""A booking's set-up data kept per worker (availability.booking_context, issue 20): read once
while the calendar loop listens, dropped by a committed change of every table it reads (real
PostgreSQL LISTEN/NOTIFY through medspa.live's loop), never kept without a loop, never taken
from (or given to) a session that changed one of those tables itself; the booking invariants
(SlotTaken with alternatives, closures, audits) hold with a cached context."""

from __future__ import annotations

import asyncio
from datetime import time, timedelta

import pytest
from sqlalchemy import text

from medspa.domain.errors import NotFound
from medspa.domain.practice.service import add_location, set_working_hours
from medspa.domain.scheduling.availability import find_slots
from medspa.domain.scheduling.context import booking_context
from medspa.domain.scheduling.availability_cache import AVAILABILITY, AvailabilityCache
from medspa.domain.scheduling.service import SlotTaken, hold_slot
from tests.factories import build_clinic
from tests.test_availability_cache import DAY, NOW, _until, _with_listener, at


def _ctx(clinic, cache, service: str = "botox", now=NOW):
    with clinic.session() as s:
        return booking_context(s, clinic.org_id, clinic.location_id, clinic.services[service], now, cache=cache)


def _sql(clinic, statement: str, **params) -> None:
    with clinic.session() as s:
        s.execute(text(statement), params)
        s.commit()


def test_nothing_is_kept_without_a_listener(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    cache = AvailabilityCache()
    for _ in range(3):
        assert _ctx(clinic, cache).staff_ids == tuple(clinic.provider_ids)
    assert cache.hits == 0 and cache.misses == 0


def test_the_context_is_read_once_and_dropped_by_a_change_of_each_source(engine, owner_engine, db_urls):
    clinic = build_clinic(engine, owner_engine, providers=2)
    cache = AvailabilityCache()
    p0, p1 = clinic.provider_ids
    room = clinic.room_ids[0]

    async def fresh(predicate, service: str = "botox"):
        """Wait until the context (as the cache answers it) satisfies predicate."""
        await _until(lambda: predicate(_ctx(clinic, cache, service)))

    async def scenario():
        first = await asyncio.to_thread(_ctx, clinic, cache)
        hits = cache.hits
        again = await asyncio.to_thread(_ctx, clinic, cache)
        assert cache.hits == hits + 1 and again.staff_ids == first.staff_ids == (p0, p1)
        assert again.service is not first.service  # a detached copy, not another session's object
        # service
        _sql(clinic, "update service set duration_minutes = 45 where id = :i", i=clinic.services["botox"])
        await fresh(lambda c: c.service.duration_minutes == 45)
        # providers who perform it
        _sql(clinic, "delete from service_provider where staff_id = :p and service_id = :s", p=p1,
             s=clinic.services["botox"])
        await fresh(lambda c: c.staff_ids == (p0,))
        # staff member
        _sql(clinic, "update staff_member set is_bookable = false where id = :p", p=p0)
        await fresh(lambda c: c.staff_ids == ())
        _sql(clinic, "update staff_member set is_bookable = true where id = :p", p=p0)
        await fresh(lambda c: c.staff_ids == (p0,))
        # working hours
        with clinic.session() as s:
            set_working_hours(s, clinic.system, p0, clinic.location_id, {d: [(time(9), time(12))] for d in range(7)})
            s.commit()
        await fresh(lambda c: c.hours[p0][DAY.weekday()] == [(time(9), time(12))])
        # the provider's resource
        _sql(clinic, "update resource set active = false where staff_id = :p", p=p0)
        await fresh(lambda c: p0 not in c.provider_resource)
        # rooms (another service's context, kept as well)
        assert (await asyncio.to_thread(_ctx, clinic, cache, "facial")).rooms == [room]
        _sql(clinic, "update resource set active = false where id = :r", r=room)
        await fresh(lambda c: c.rooms == [], "facial")
        # opening hours
        _sql(clinic, "insert into location_hours (org_id, location_id, weekday, start_time, end_time) "
                     "values (:o, :l, 2, '10:00', '14:00')", o=clinic.org_id, l=clinic.location_id)
        await fresh(lambda c: c.opening == {2: [(time(10), time(14))]})
        # an extra shift makes a provider without weekly hours here one of the service's
        _sql(clinic, "delete from working_hours where staff_id = :p", p=p0)
        await fresh(lambda c: c.staff_ids == ())
        _sql(clinic, "insert into staff_time_off (org_id, staff_id, location_id, kind, starts_at, ends_at, reason, "
                     "created_at) values (:o, :p, :l, 'extra', :a, :b, '', now())", o=clinic.org_id, p=p0, l=clinic.location_id,
             a=at(9), b=at(12))
        await fresh(lambda c: c.staff_ids == (p0,))
        # the location itself
        _sql(clinic, "update location set time_zone = 'America/Chicago' where id = :l", l=clinic.location_id)
        await fresh(lambda c: c.tz.key == "America/Chicago")

    _with_listener(engine, db_urls, cache, scenario)


def test_a_session_that_changed_a_source_neither_uses_nor_fills_the_cache(engine, owner_engine, db_urls):
    clinic = build_clinic(engine, owner_engine)
    cache = AvailabilityCache()
    p0 = clinic.provider_ids[0]

    async def scenario():
        for _ in range(2):
            await asyncio.to_thread(_ctx, clinic, cache)
        assert cache.hits == 1

        def own_change():
            with clinic.session() as s:
                set_working_hours(s, clinic.system, p0, clinic.location_id, {d: [(time(9), time(10))] for d in range(7)})
                s.flush()
                mine = booking_context(s, clinic.org_id, clinic.location_id, clinic.services["botox"], NOW,
                                       cache=cache)
                s.rollback()  # never committed: nothing notifies
            return mine

        mine = await asyncio.to_thread(own_change)
        assert mine.hours[p0][DAY.weekday()] == [(time(9), time(10))]  # its own change, not the cached one
        assert (await asyncio.to_thread(_ctx, clinic, cache)).hours[p0][DAY.weekday()] == [(time(9), time(17))]

    _with_listener(engine, db_urls, cache, scenario)


@pytest.fixture
def worker_cache():
    """The process's cache (hold_slot's default), left as found."""
    yield AVAILABILITY
    AVAILABILITY.set_listening(False)


def test_bookings_with_a_cached_context_keep_every_invariant(engine, owner_engine, db_urls, worker_cache):
    clinic = build_clinic(engine, owner_engine)
    botox = clinic.services["botox"]

    def book(start, provider_id=None):
        with clinic.session() as s:
            appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=botox,
                             start_at=start, now=NOW, provider_id=provider_id, confirm=True)
            s.commit()
            return appt.id

    def audits() -> int:
        with clinic.session() as s:
            return s.execute(text("select count(*) from audit_event where action = 'appointment.confirm'")).scalar()

    async def scenario():
        await asyncio.to_thread(book, at(9))
        hits = worker_cache.hits
        await asyncio.to_thread(book, at(10))
        assert worker_cache.hits > hits  # the second booking used the kept context
        with pytest.raises(SlotTaken) as taken:
            await asyncio.to_thread(book, at(10))
        assert taken.value.alternatives and at(10) not in {sl.start for sl in taken.value.alternatives}
        with pytest.raises(NotFound):  # an unknown provider is still refused
            await asyncio.to_thread(book, at(11), -1)
        assert audits() == 2
        # a closure is read per request, never kept: it applies at once
        _sql(clinic, "insert into location_closure (org_id, location_id, start_date, end_date, reason, "
                     "created_at) values (:o, :l, :d, :d, 'Holiday', now())", o=clinic.org_id, l=clinic.location_id,
             d=DAY + timedelta(days=1))
        with pytest.raises(SlotTaken):
            await asyncio.to_thread(book, at(10, day=DAY + timedelta(days=1)))
        # new hours reach the booking path
        with clinic.session() as s:
            set_working_hours(s, clinic.system, clinic.provider_ids[0], clinic.location_id,
                              {d: [(time(9), time(12))] for d in range(7)})
            s.commit()

        def offered():
            with clinic.session() as s:
                return {sl.start for sl in find_slots(s, clinic.staff_actor(), location_id=clinic.location_id,
                                                      service_id=botox, start_date=DAY, end_date=DAY, now=NOW,
                                                      apply_notice=False)}

        await _until(lambda: at(16) not in offered())
        with pytest.raises(SlotTaken):
            await asyncio.to_thread(book, at(16))
        assert audits() == 2

    _with_listener(engine, db_urls, worker_cache, scenario)


def test_a_room_moved_to_another_location_leaves_the_old_one(engine, owner_engine, db_urls):
    """Migration 0057: an UPDATE that changes location_id notifies the old location too."""
    clinic = build_clinic(engine, owner_engine)
    cache = AvailabilityCache()
    with clinic.session() as s:
        other = add_location(s, clinic.system, "Annex", "America/New_York").id
        s.commit()

    async def scenario():
        for _ in range(2):
            assert (await asyncio.to_thread(_ctx, clinic, cache, "facial")).rooms == clinic.room_ids
        assert cache.hits == 1
        _sql(clinic, "update resource set location_id = :o where id = :r", o=other, r=clinic.room_ids[0])
        await _until(lambda: _ctx(clinic, cache, "facial").rooms == [])

    _with_listener(engine, db_urls, cache, scenario)
