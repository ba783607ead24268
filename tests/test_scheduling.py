"""Availability and booking rules, including acceptance cases TZ-1, TZ-2, CF-2."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from medspa.domain.catalog.service import add_service
from medspa.domain.errors import ValidationFailed
from medspa.domain.scheduling.availability import find_slots
from medspa.domain.scheduling.service import (
    SlotTaken,
    add_block,
    cancel_appointment,
    change_status,
    confirm_hold,
    hold_slot,
    InvalidTransition,
)
from tests.conftest import utc
from tests.factories import build_clinic


def test_tz1_fall_back_day_offers_repeated_hour_twice(engine, owner_engine):
    # TZ-1: America/Chicago, 00:00-06:00 on 2026-11-01 (a Sunday), 60-min service on a 60-min grid
    clinic = build_clinic(engine, owner_engine, time_zone="America/Chicago",
                          weekly={6: [(time(0), time(6))]})
    with clinic.session() as s:
        svc = add_service(s, clinic.system, category="Consultations", name="Consult", duration_minutes=60,
                          price_cents=0, slot_grid_minutes=60, min_notice_minutes=0,
                          provider_ids=clinic.provider_ids)
        s.commit()
        slots = find_slots(s, clinic.public, location_id=clinic.location_id, service_id=svc.id,
                           start_date=date(2026, 11, 1), end_date=date(2026, 11, 1), now=utc(2026, 10, 1))
    starts = [sl.start for sl in slots]
    assert starts == [utc(2026, 11, 1, h) for h in range(5, 12)]
    assert len(set(starts)) == 7
    labels = [sl.start.astimezone(ZoneInfo("America/Chicago")) for sl in slots]
    assert [l.strftime("%H:%M%z") for l in labels].count("01:00-0500") == 1
    assert [l.strftime("%H:%M%z") for l in labels].count("01:00-0600") == 1


def test_tz2_spring_forward_gap_has_no_slots(engine, owner_engine):
    # TZ-2: America/New_York, 02:00-02:30 on 2026-03-08 does not exist
    clinic = build_clinic(engine, owner_engine, time_zone="America/New_York",
                          weekly={6: [(time(2), time(2, 30))]})
    with clinic.session() as s:
        svc = add_service(s, clinic.system, category="Consultations", name="Quick", duration_minutes=30,
                          price_cents=0, slot_grid_minutes=30, min_notice_minutes=0,
                          provider_ids=clinic.provider_ids)
        s.commit()
        slots = find_slots(s, clinic.public, location_id=clinic.location_id, service_id=svc.id,
                           start_date=date(2026, 3, 8), end_date=date(2026, 3, 8), now=utc(2026, 1, 1))
    assert slots == []


def _grid15_clinic(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, time_zone="America/New_York")
    with clinic.session() as s:
        s_svc = add_service(s, clinic.system, category="HydraFacial", name="S", duration_minutes=60,
                            buffer_after_minutes=15, price_cents=10000, slot_grid_minutes=15,
                            min_notice_minutes=0, provider_ids=clinic.provider_ids)
        t_svc = add_service(s, clinic.system, category="Microneedling", name="T", duration_minutes=60,
                            buffer_before_minutes=15, price_cents=10000, slot_grid_minutes=15,
                            min_notice_minutes=0, provider_ids=clinic.provider_ids)
        s.commit()
    return clinic, s_svc.id, t_svc.id


NY = ZoneInfo("America/New_York")


def ny(h: int, m: int = 0, day: date = date(2026, 7, 15)) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).astimezone(timezone.utc)


def _starts_between(slots, lo, hi):
    return [sl.start for sl in slots if lo <= sl.start <= hi]


def test_cf2a_cleanup_buffer_blocks_next_start(engine, owner_engine):
    clinic, s_id, _ = _grid15_clinic(engine, owner_engine)
    now = utc(2026, 7, 1)
    with clinic.session() as s:
        hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=s_id, start_at=ny(10),
                  now=now, confirm=True)
        s.commit()
        slots = find_slots(s, clinic.public, location_id=clinic.location_id, service_id=s_id,
                           start_date=date(2026, 7, 15), end_date=date(2026, 7, 15), now=now)
        after = _starts_between(slots, ny(10), ny(12))
        assert ny(11) not in after
        assert after[0] == ny(11, 15)
        with pytest.raises(SlotTaken) as taken:
            hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=s_id, start_at=ny(11), now=now)
        assert ny(11, 15) in [a.start for a in taken.value.alternatives]


def test_cf2b_setup_buffer_respects_blocked_time(engine, owner_engine):
    clinic, _, t_id = _grid15_clinic(engine, owner_engine)
    now = utc(2026, 7, 1)
    with clinic.session() as s:
        add_block(s, clinic.staff_actor(), staff_id=clinic.provider_ids[0], start_at=ny(10), end_at=ny(11),
                  note="team meeting", now=now)
        s.commit()
        slots = find_slots(s, clinic.public, location_id=clinic.location_id, service_id=t_id,
                           start_date=date(2026, 7, 15), end_date=date(2026, 7, 15), now=now)
        after = _starts_between(slots, ny(10), ny(12))
        assert ny(11) not in after and after[0] == ny(11, 15)
        with pytest.raises(SlotTaken):
            hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=t_id,
                      start_at=ny(11), now=now)


def test_minimum_notice_applies_online_not_to_staff(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    now = ny(9)  # botox needs 120 min notice online
    with clinic.session() as s:
        online = find_slots(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                            start_date=date(2026, 7, 15), end_date=date(2026, 7, 15), now=now)
        assert online[0].start == ny(11)
        staff = find_slots(s, clinic.staff_actor(), location_id=clinic.location_id,
                           service_id=clinic.services["botox"], start_date=date(2026, 7, 15),
                           end_date=date(2026, 7, 15), now=now, apply_notice=False)
        assert staff[0].start == ny(9)


def test_room_is_shared_between_providers(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, providers=2)
    now = utc(2026, 7, 1)
    facial = clinic.services["facial"]
    with clinic.session() as s:
        first = hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=facial, start_at=ny(10),
                          now=now, provider_id=clinic.provider_ids[0])
        s.commit()
        # the only treatment room is busy: the other provider cannot do a facial at 10:00 either
        slots = find_slots(s, clinic.public, location_id=clinic.location_id, service_id=facial,
                           start_date=date(2026, 7, 15), end_date=date(2026, 7, 15), now=now)
        assert all(not (ny(9) < sl.start < ny(11, 15)) for sl in slots)
        with pytest.raises(SlotTaken):
            hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=facial, start_at=ny(10),
                      now=now, provider_id=clinic.provider_ids[1])
        # botox needs no room: the second provider is free at 10:00
        other = hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                          start_at=ny(10), now=now, provider_id=clinic.provider_ids[1])
        assert other.provider_id == clinic.provider_ids[1] and first.status == "held"


def test_hold_expires_after_ten_minutes_and_slot_returns(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    now = utc(2026, 7, 1)
    botox = clinic.services["botox"]
    with clinic.session() as s:
        held = hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=botox, start_at=ny(10), now=now)
        s.commit()
        assert held.hold_expires_at == now + timedelta(minutes=10)
        with pytest.raises(SlotTaken):
            hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=botox, start_at=ny(10),
                      now=now + timedelta(minutes=9))
        s.rollback()
        later = now + timedelta(minutes=10, seconds=1)
        second = hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=botox, start_at=ny(10),
                           now=later)
        s.commit()
        s.refresh(held)
        assert held.status == "expired" and second.status == "held"


def test_confirm_then_check_in_and_status_rules(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    now = utc(2026, 7, 1)
    with clinic.session() as s:
        appt = hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=ny(10), now=now)
        confirm_hold(s, clinic.public, appt.id, now=now)
        s.commit()
        with pytest.raises(InvalidTransition):
            change_status(s, clinic.staff_actor(), appt.id, "check_in", now=now)  # two weeks early
        s.rollback()
        done = change_status(s, clinic.staff_actor(), appt.id, "check_in", now=ny(9, 55))
        assert done.status == "checked_in" and done.checked_in_at == ny(9, 55)
        with pytest.raises(InvalidTransition):
            cancel_appointment(s, clinic.staff_actor(), appt.id, now=ny(9, 56))


def test_naive_start_is_rejected(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s, pytest.raises(ValidationFailed):
        hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                  start_at=datetime(2026, 7, 15, 10), now=utc(2026, 7, 1))


def test_a_cancellation_is_late_strictly_inside_the_window():
    """The one rule (scheduling.policy.is_late_cancellation): less than `window_hours` before the
    start is late; exactly the window ahead, or more, is not."""
    from medspa.domain.scheduling.policy import cancellation_deadline, is_late_cancellation

    start = utc(2026, 7, 15, 14)
    assert cancellation_deadline(start, 24) == utc(2026, 7, 14, 14)
    assert not is_late_cancellation(start, 24, utc(2026, 7, 14, 13, 59))
    assert not is_late_cancellation(start, 24, utc(2026, 7, 14, 14))          # exactly 24 h ahead
    assert is_late_cancellation(start, 24, utc(2026, 7, 14, 14) + timedelta(microseconds=1))
    assert is_late_cancellation(start, 24, start)
    assert is_late_cancellation(start, 24, start + timedelta(hours=1))          # after the start too
    assert not is_late_cancellation(start, 0, start - timedelta(seconds=1))      # no window: never late before
    assert is_late_cancellation(start, 0, start + timedelta(seconds=1))
