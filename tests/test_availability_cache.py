"""The web worker's availability cache (scheduling/availability_cache.py, issue 20): kept by the
calendar notifications (real PostgreSQL LISTEN/NOTIFY through medspa.live's loop), injected
clocks, never an offered time that a committed booking, block or setting took."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from medspa.clock import FixedClock
from medspa.domain.practice.service import set_working_hours
from medspa.domain.scheduling.actions.online import fetch_clinic_availability
from medspa.domain.scheduling.availability_cache import AvailabilityCache
from medspa.domain.scheduling.blocks import RoomBlockInput, add_room_block
from medspa.domain.scheduling.desk import cancel_visit
from medspa.domain.scheduling.service import hold_slot
from tests.conftest import run_in_fresh_loop, utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
DAY = date(2026, 7, 15)  # a Wednesday
NOW = utc(2026, 7, 1, 12)


def at(h: int, m: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).astimezone(timezone.utc)


def _starts(clinic, cache, service: str = "botox", now: datetime = NOW, day: date = DAY) -> set[datetime]:
    found = fetch_clinic_availability(clinic.slug, clinic.location_id, clinic.services[service], day, day,
                                      clock=FixedClock(now), engine=clinic.engine, cache=cache)
    return {sl.start for sl in found.slots}


async def _until(predicate, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(predicate):
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def _with_listener(engine, db_urls, cache, scenario):
    """Run `scenario()` (async) while a LiveCalendars loop LISTENs and keeps `cache`."""
    from medspa.live import LiveCalendars, NoTabs

    async def noop(*_):
        return False

    hub = LiveCalendars(db_url=db_urls[0], engine=engine, tabs=NoTabs("worker-a"), push=noop,
                        clock=lambda: FixedClock(NOW), safety_seconds=3600, availability=cache)

    async def run():
        task = asyncio.create_task(hub.run())
        try:
            await asyncio.wait_for(hub.connected.wait(), 10)
            return await scenario()
        finally:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    return run_in_fresh_loop(run())


def test_nothing_is_cached_without_a_listener(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    cache = AvailabilityCache()
    for _ in range(3):
        assert at(10) in _starts(clinic, cache)
    assert cache.hits == 0 and cache.org_of(engine, clinic.slug) is None


def test_cache_answers_then_a_booking_and_a_cancellation_reach_it(engine, owner_engine, db_urls):
    clinic = build_clinic(engine, owner_engine)
    cache = AvailabilityCache()

    async def scenario():
        first = await asyncio.to_thread(_starts, clinic, cache)  # resolves the slug
        await asyncio.to_thread(_starts, clinic, cache)  # computed and kept
        hits = cache.hits
        assert await asyncio.to_thread(_starts, clinic, cache) == first and cache.hits == hits + 1
        assert at(10) in first
        with clinic.session() as s:  # a booking committed by anyone: the notification drops the entry
            appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id,
                             service_id=clinic.services["botox"], start_at=at(10), now=NOW, source="staff",
                             confirm=True)
            s.commit()
        await _until(lambda: at(10) not in _starts(clinic, cache))
        assert at(10) not in await asyncio.to_thread(_starts, clinic, cache)  # and stays out
        with clinic.session() as s:
            cancel_visit(s, clinic.staff_actor(), appt.id, now=NOW)
            s.commit()
        await _until(lambda: at(10) in _starts(clinic, cache))
        return first

    _with_listener(engine, db_urls, cache, scenario)


def test_a_room_block_and_new_hours_reach_the_cache(engine, owner_engine, db_urls):
    clinic = build_clinic(engine, owner_engine)
    cache = AvailabilityCache()

    async def scenario():
        for _ in range(3):
            facial = await asyncio.to_thread(_starts, clinic, cache, "facial")
        assert at(11) in facial and cache.hits >= 1
        with clinic.session() as s:  # the only treatment room blocked 10:30-13:00
            add_room_block(s, clinic.staff_actor("owner"), RoomBlockInput(clinic.room_ids[0], at(10, 30), at(13),
                                                                          "Maintenance"), now=NOW)
            s.commit()
        await _until(lambda: at(11) not in _starts(clinic, cache, "facial"))
        for _ in range(2):
            botox = await asyncio.to_thread(_starts, clinic, cache)
        assert at(16) in botox
        with clinic.session() as s:  # shorter hours: a setting, notified like a booking
            set_working_hours(s, clinic.system, clinic.provider_ids[0], clinic.location_id,
                              {d: [(time(9), time(12))] for d in range(7)})
            s.commit()
        await _until(lambda: at(16) not in _starts(clinic, cache))

    _with_listener(engine, db_urls, cache, scenario)


def test_a_cached_answer_applies_the_notice_of_the_later_now(engine, owner_engine, db_urls):
    clinic = build_clinic(engine, owner_engine)  # botox: 120 min minimum notice
    cache = AvailabilityCache()
    today = NOW.astimezone(NY).date()
    later = NOW + timedelta(seconds=45)  # within max_age, and past the 10:00 start's notice

    async def scenario():
        for _ in range(3):
            first = await asyncio.to_thread(_starts, clinic, cache, "botox", NOW, today)
        assert at(10, day=today) in first  # 08:00 now + 120 min notice
        hits = cache.hits
        cached = await asyncio.to_thread(_starts, clinic, cache, "botox", later, today)
        assert cache.hits == hits + 1
        # the same as computing afresh at `later`, never a start inside its notice
        assert cached == _starts(clinic, AvailabilityCache(), "botox", later, today)
        assert cached and min(cached) >= later + timedelta(minutes=120) and at(10, day=today) not in cached
        # an earlier now (an injected clock going back) or one past max_age is computed again
        await asyncio.to_thread(_starts, clinic, cache, "botox", NOW - timedelta(minutes=1), today)
        await asyncio.to_thread(_starts, clinic, cache, "botox", NOW + cache.max_age + timedelta(seconds=1), today)
        assert cache.hits == hits + 1

    _with_listener(engine, db_urls, cache, scenario)


def test_a_notification_during_the_computation_keeps_it_out():
    cache = AvailabilityCache()
    cache.set_listening(True)
    token = cache.begin(1, 7)
    cache.invalidate(1, 7)  # a booking committed while the slots were being computed
    cache.put("k", 1, 7, token, NOW, "stale")
    assert cache.get("k", 1, 7, NOW) is None
    token = cache.begin(1, 7)
    cache.put("k", 1, 7, token, NOW, "fresh")
    assert cache.get("k", 1, 7, NOW) == "fresh"
    cache.invalidate(1, 8)  # another location: kept
    assert cache.get("k", 1, 7, NOW) == "fresh"
    cache.invalidate(1, 0)  # the whole clinic (e.g. a provider's block): dropped
    assert cache.get("k", 1, 7, NOW) is None
    token = cache.begin(1, 7)
    cache.put("k", 1, 7, token, NOW, "again")
    cache.set_listening(False)  # the LISTEN connection dropped: nothing is served or kept
    assert cache.get("k", 1, 7, NOW) is None and cache.begin(1, 7) is None
    cache.set_listening(True)
    assert cache.get("k", 1, 7, NOW) is None


def test_the_api_encodes_a_cached_tuple_once_and_the_same_document_as_the_model():
    import json

    from medspa.api.v1 import AvailabilityOut, availability_json
    from medspa.domain.scheduling.availability import Slot

    slots = (Slot(at(10), at(10, 30), 3), Slot(at(10, 15), at(10, 45), 4))
    body = availability_json(7, "America/New_York", slots)
    assert availability_json(7, "America/New_York", slots) is body  # the memo
    again = availability_json(7, "America/New_York", tuple(list(slots)))  # an equal tuple: encoded again
    assert again == body and again is not body
    doc = json.loads(body)
    assert AvailabilityOut.model_validate(doc).model_dump() == doc
    assert doc["slots"][0] == {"start": "2026-07-15T10:00:00-04:00", "end": "2026-07-15T10:30:00-04:00",
                               "provider_id": 3}
    assert availability_json(8, "America/New_York", slots) != body  # the location is part of the key
