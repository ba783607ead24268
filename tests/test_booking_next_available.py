"""A booking page that never dead-ends (issue 15, part 2): the first day with a free time,
found across daylight-saving changes and within the service's maximum advance."""

from __future__ import annotations

from datetime import date, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from medspa.clock import FixedClock
from medspa.domain.catalog.models import Service
from medspa.domain.errors import NotFound
from medspa.domain.scheduling.actions.online import fetch_next_available
from medspa.domain.scheduling.availability import find_slots, next_available_day, online_last_day
from medspa.domain.scheduling.service import ONLINE_HORIZON_DAYS, hold_slot
from tests.conftest import utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
SUNDAY = 6


def _max_advance(clinic, service: str, days: int | None) -> None:
    with clinic.session() as s:
        s.get(Service, clinic.services[service]).max_advance_days = days
        s.commit()


def _next(clinic, from_day: date, now, service: str = "botox", until_day: date | None = None, provider_id=None):
    with clinic.session() as s:
        return next_available_day(s, clinic.public, location_id=clinic.location_id,
                                  service_id=clinic.services[service], from_day=from_day, until_day=until_day,
                                  now=now, provider_id=provider_id)


def test_next_available_crosses_the_fall_back_change(engine, owner_engine):
    # the provider works Sundays 01:00-03:00 only; 1 Nov 2026 repeats 01:00-02:00 in New York
    clinic = build_clinic(engine, owner_engine, weekly={SUNDAY: [(time(1), time(3))]})
    now = utc(2026, 10, 26, 14)  # Monday 10:00 EDT; the Sunday before is gone
    found = _next(clinic, date(2026, 10, 26), now)
    assert found.day == date(2026, 11, 1)
    with clinic.session() as s:
        slots = find_slots(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                           start_date=found.day, end_date=found.day, now=now)
    # 01:00 EDT is 05:00 UTC; the wall hours end at the second 03:00 (EST) = 08:00 UTC: 3 real hours
    assert slots[0].start == utc(2026, 11, 1, 5) and slots[-1].start == utc(2026, 11, 1, 7, 30)
    # the days before the change, busy: the next one is the Sunday after, in EST
    with clinic.session() as s:
        for start in (utc(2026, 11, 1, 5) + timedelta(minutes=30 * i) for i in range(6)):
            hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                      start_at=start, now=now, hold_minutes=24 * 60)
        s.commit()
    assert _next(clinic, date(2026, 10, 26), now).day == date(2026, 11, 8)


def test_next_available_skips_a_spring_forward_gap(engine, owner_engine):
    # Sundays 02:00-03:00 only: on 14 Mar 2027 that hour does not exist in New York
    clinic = build_clinic(engine, owner_engine, weekly={SUNDAY: [(time(2), time(3))]})
    now = utc(2027, 3, 8, 15)
    assert _next(clinic, date(2027, 3, 8), now).day == date(2027, 3, 21)
    with clinic.session() as s:
        slots = find_slots(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                           start_date=date(2027, 3, 21), end_date=date(2027, 3, 21), now=now)
    assert slots[0].start == utc(2027, 3, 21, 6)  # 02:00 EDT


def test_nothing_free_within_the_max_advance(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, weekly={SUNDAY: [(time(9), time(17))]})
    now = utc(2026, 10, 26, 14)  # Monday; the next Sunday is 6 days ahead
    _max_advance(clinic, "botox", 5)
    found = _next(clinic, date(2026, 10, 26), now)
    assert found.day is None
    assert found.last_day == date(2026, 10, 31)  # now + 5 days, the clinic's date
    # asking beyond the max advance changes nothing: the scan stops at the service's last day
    assert _next(clinic, date(2026, 10, 26), now, until_day=date(2027, 1, 1)).last_day == date(2026, 10, 31)
    # a start beyond the horizon is not offered even when the day itself is in range
    _max_advance(clinic, "botox", 6)  # latest start: Sunday 10:00 EDT (14:00 UTC)
    assert _next(clinic, date(2026, 10, 26), now).day == date(2026, 11, 1)
    with clinic.session() as s:
        slots = find_slots(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                           start_date=date(2026, 11, 1), end_date=date(2026, 11, 1), now=now)
    assert [sl.start for sl in slots] == [utc(2026, 11, 1, 14)]  # 09:00 EST; 09:30 is past the max advance


def test_without_max_advance_the_online_horizon_bounds_the_scan(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    now = utc(2026, 7, 1, 16)
    _max_advance(clinic, "botox", None)
    with clinic.session() as s:
        service = s.get(Service, clinic.services["botox"])
        assert online_last_day(service, now, NY) == date(2026, 7, 1) + timedelta(days=ONLINE_HORIZON_DAYS)
    found = _next(clinic, date(2026, 7, 1), now)
    assert found.day == date(2026, 7, 1)  # 12:00 EDT now, 2 h notice: 14:00-17:00 still free today
    assert found.last_day == date(2026, 7, 1) + timedelta(days=ONLINE_HORIZON_DAYS)
    # a from_day in the past starts today; until_day earlier than from_day finds nothing
    assert _next(clinic, date(2026, 6, 1), now).day == date(2026, 7, 1)
    assert _next(clinic, date(2026, 7, 10), now, until_day=date(2026, 7, 5)).day is None


def test_a_full_range_finds_nothing_and_a_busy_week_is_skipped(engine, owner_engine):
    # one provider, Mondays 09:00-10:00: hold both 30-minute times of the next two Mondays
    clinic = build_clinic(engine, owner_engine, weekly={0: [(time(9), time(10))]})
    now = utc(2026, 10, 1, 12)
    with clinic.session() as s:
        for day in (5, 12):
            for minute in (0, 30):
                hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                          start_at=utc(2026, 10, day, 13, minute), now=now, hold_minutes=60 * 24 * 30)
        s.commit()
    assert _next(clinic, date(2026, 10, 1), now).day == date(2026, 10, 19)
    assert _next(clinic, date(2026, 10, 1), now, until_day=date(2026, 10, 18)).day is None
    # a provider who does not perform it: NotFound, like find_slots
    with pytest.raises(NotFound):
        _next(clinic, date(2026, 10, 1), now, provider_id=-5)


def test_the_action_reads_with_the_clock(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, weekly={SUNDAY: [(time(9), time(17))]})
    clock = FixedClock(utc(2026, 10, 26, 14))
    found = fetch_next_available(clinic.public, clinic.location_id, clinic.services["botox"], date(2026, 10, 26),
                                 clock=clock, engine=engine)
    assert found.day == date(2026, 11, 1)
    # a provider chosen: the same answer for them
    found = fetch_next_available(clinic.public, clinic.location_id, clinic.services["facial"], date(2026, 11, 2),
                                 clinic.provider_ids[0], clock=clock, engine=engine)
    assert found.day == date(2026, 11, 8)


def test_skipping_past_what_blocks_finds_the_same_slots_as_trying_every_start():
    """_slots jumps over a busy provider/room/device; it must offer exactly the starts that
    trying every grid start offers (random busy intervals, rooms and devices as pools)."""
    import random
    from datetime import datetime
    from types import SimpleNamespace

    from medspa.domain.scheduling.availability import BusyIndex, Slot, _Context, _slots

    rng = random.Random(15)
    tz, offered = NY, 0
    for _ in range(40):
        svc = SimpleNamespace(buffer_before_minutes=rng.choice((0, 5, 10)), duration_minutes=rng.choice((15, 30, 60)),
                              buffer_after_minutes=rng.choice((0, 10, 15)), slot_grid_minutes=rng.choice((15, 30)),
                              room_type="room", device_type=rng.choice((None, "dev")))
        providers = {1: 101, 2: 102}
        rooms, devices = [201, 202], ([301] if svc.device_type else [])
        hours = {sid: {wd: [(time(9), time(17))] for wd in range(7)} for sid in providers}
        ctx = _Context(SimpleNamespace(), svc, tz, providers, rooms, devices, hours, None, set())
        day0 = datetime(2026, 11, 1, 13, tzinfo=timezone.utc)  # a fall-back day and the two after it
        spans: dict[int, list] = {}
        for rid in [*providers.values(), *rooms, *devices]:
            t, out = day0 - timedelta(hours=6), []
            while t < day0 + timedelta(days=3):
                t += timedelta(minutes=rng.choice((5, 30, 60, 120, 240)))
                end = t + timedelta(minutes=rng.choice((10, 30, 45)))
                out.append((t, end))
                t = end
            spans[rid] = out
        busy = BusyIndex(spans)
        earliest = day0 - timedelta(hours=12)
        fast = _slots(ctx, busy, date(2026, 11, 1), date(2026, 11, 3), earliest)

        def free(rid, lo, hi):
            return all(e <= lo or s >= hi for s, e in spans[rid])

        naive = []
        step = timedelta(minutes=svc.slot_grid_minutes)
        before, length = timedelta(minutes=svc.buffer_before_minutes), timedelta(minutes=svc.duration_minutes)
        after = timedelta(minutes=svc.buffer_after_minutes)
        from medspa.domain.scheduling.availability import _first_grid_start, _work_spans

        for d in (date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)):
            for sid, rid in providers.items():
                for lo_span, hi_span in _work_spans(ctx, sid, d):
                    s = _first_grid_start(lo_span, max(lo_span + before, earliest), svc.slot_grid_minutes, tz)
                    while s + length + after <= hi_span:
                        lo, hi = s - before, s + length + after
                        if (free(rid, lo, hi) and any(free(r, lo, hi) for r in rooms)
                                and (not devices or any(free(x, lo, hi) for x in devices))):
                            naive.append(Slot(s, s + length, sid))
                        s += step
        naive.sort(key=lambda sl: (sl.start, sl.provider_id))
        assert fast == naive
        offered += len(naive)
    assert offered > 200  # the cases are not all full
