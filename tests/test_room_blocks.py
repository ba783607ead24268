"""Room and device maintenance blocks (issue 13) and the calendar's closures, time off and
blocks: a block refuses an overlapping visit and names it, availability stops offering the
blocked room or device, a booking racing a block cannot both win (the occupancy exclusion
constraint), every change is audited with its values, and the calendar day carries the
closure, the time off and the blocks with their labels."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.practice.hours import TimeOffInput
from medspa.domain.practice.location_actions import do_add_closure
from medspa.domain.practice.settings_actions import (
    do_add_room_block, do_add_time_off, do_remove_room_block, fetch_room_settings)
from medspa.domain.scheduling.availability import find_slots
from medspa.domain.scheduling.blocks import RoomBlockInput
from medspa.domain.scheduling.calendar import calendar_day
from medspa.domain.scheduling.models import Occupancy
from medspa.domain.scheduling.service import SlotTaken, hold_slot
from medspa.features.calendar.layout import day_view
from tests.conftest import utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
NOW = utc(2026, 7, 1, 16)
CLOCK = FixedClock(NOW)
DAY = date(2026, 7, 15)  # a Wednesday


def ny(day: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).astimezone(timezone.utc)


def _audit(clinic, action: str) -> list[dict]:
    with clinic.session() as s:
        return [e.detail for e in s.exec(select(AuditEvent).where(AuditEvent.action == action)
                                         .order_by(AuditEvent.id))]


def _starts(clinic, service: str, day: date = DAY) -> list[datetime]:
    with clinic.session() as s:
        return [sl.start for sl in find_slots(s, clinic.public, location_id=clinic.location_id,
                                              service_id=clinic.services[service], start_date=day, end_date=day,
                                              now=NOW)]


def _book(clinic, service: str, start: datetime) -> int:
    with clinic.session() as s:
        appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services[service],
                         start_at=start, now=NOW, confirm=True)
        s.commit()
        return appt.id


def _block(clinic, lo: datetime, hi: datetime, reason: str = "Laser service visit", resource_id: int | None = None,
           role: str = "manager"):
    data = RoomBlockInput(clinic.device_ids[0] if resource_id is None else resource_id, lo, hi, reason)
    return do_add_room_block(clinic.staff_actor(role), data, clock=CLOCK, engine=clinic.engine)


def test_a_block_takes_the_device_out_of_availability_and_lifting_it_brings_it_back(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    assert ny(DAY, 10) in _starts(clinic, "laser")
    row = _block(clinic, ny(DAY, 9), ny(DAY, 12), "  Laser service visit ")
    assert (row.resource_name, row.reason, row.starts_at, row.ends_at) == ("GentleMax", "Laser service visit",
                                                                          ny(DAY, 9), ny(DAY, 12))
    laser = _starts(clinic, "laser")
    assert laser and all(s >= ny(DAY, 12) for s in laser)  # nothing before noon: the only laser is out
    assert ny(DAY, 10) in _starts(clinic, "botox")  # the provider is free for what needs no laser
    with pytest.raises(SlotTaken):  # the desk cannot book into it either (the constraint decides)
        _book(clinic, "laser", ny(DAY, 10))
    listed = fetch_room_settings(clinic.staff_actor("owner"), clock=CLOCK, engine=engine).blocks
    assert [(b.id, b.resource_name) for b in listed] == [(row.id, "GentleMax")]

    do_remove_room_block(clinic.staff_actor("owner"), row.id, clock=CLOCK, engine=engine)
    assert ny(DAY, 10) in _starts(clinic, "laser")
    assert fetch_room_settings(clinic.staff_actor("owner"), clock=CLOCK, engine=engine).blocks == []
    [created] = _audit(clinic, "resource.block.create")
    assert created["new"] == {"resource_id": clinic.device_ids[0], "name": "GentleMax",
                              "starts_at": ny(DAY, 9).isoformat(), "ends_at": ny(DAY, 12).isoformat(),
                              "reason": "Laser service visit", "status": "booked"}
    [removed] = _audit(clinic, "resource.block.remove")
    assert removed["old"] == created["new"] and removed["new"] == {"status": "released"}
    assert removed["block_id"] == row.id


def test_a_block_over_a_booked_visit_is_refused_naming_it_and_nothing_is_written(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    _book(clinic, "laser", ny(DAY, 10, 30))
    with pytest.raises(ValidationFailed) as exc:
        _block(clinic, ny(DAY, 9), ny(DAY, 12))
    assert exc.value.fields == {"starts_at": "Move or cancel the visits booked in this time first: "
                                             "Walk-in · Laser underarms · Wed 15 Jul 10:30 AM"}
    with clinic.session() as s:
        assert s.exec(select(Occupancy).where(Occupancy.kind == "block")).all() == []
    assert _audit(clinic, "resource.block.create") == []
    # right after the visit is fine; a second block over the first is refused
    _block(clinic, ny(DAY, 11), ny(DAY, 12))
    with pytest.raises(ValidationFailed) as exc:
        _block(clinic, ny(DAY, 11, 30), ny(DAY, 13), "Filter change")
    assert exc.value.fields["starts_at"].startswith("This overlaps another block: another block "
                                                    "(Laser service visit) from Wed 15 Jul 11:00 AM")


@pytest.mark.parametrize(("lo", "hi", "reason", "field", "message"), [
    (ny(DAY, 12), ny(DAY, 9), "Service", "ends_at", "The end must be after the start"),
    (utc(2026, 6, 1, 14), utc(2026, 6, 1, 16), "Service", "ends_at", "This time is already over: choose a time ahead"),
    (ny(DAY, 9), ny(DAY, 12), "   ", "reason", "Say why, e.g. laser service visit"),
    (ny(DAY, 9), ny(DAY, 12), "x" * 201, "reason", "Keep it under 200 characters"),
    (ny(DAY, 9), ny(DAY, 9) + timedelta(days=400), "Refit", "ends_at", "At most 366 days at a time"),
])
def test_bad_block_input_gets_a_message_by_its_field(engine, owner_engine, lo, hi, reason, field, message):
    clinic = build_clinic(engine, owner_engine)
    with pytest.raises(ValidationFailed) as exc:
        _block(clinic, lo, hi, reason)
    assert exc.value.fields == {field: message}
    with clinic.session() as s:
        assert s.exec(select(Occupancy).where(Occupancy.kind == "block")).all() == []


def test_only_rooms_and_devices_of_this_clinic_and_only_managers(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    other = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        from medspa.domain.practice.models import Resource
        provider_res = s.exec(select(Resource.id).where(Resource.kind == "provider")).first()
    for bad in (other.device_ids[0], provider_res, 10**12, "1", -1, True):
        with pytest.raises(NotFound):
            _block(clinic, ny(DAY, 9), ny(DAY, 12), resource_id=bad)
    for role in ("front_desk", "provider", "lab"):
        with pytest.raises(PermissionDenied):
            _block(clinic, ny(DAY, 9), ny(DAY, 12), role=role)
    row = _block(clinic, ny(DAY, 9), ny(DAY, 12), role="owner")
    with pytest.raises(NotFound):  # another clinic cannot lift it
        do_remove_room_block(other.staff_actor("owner"), row.id, clock=CLOCK, engine=engine)
    do_remove_room_block(clinic.staff_actor("owner"), row.id, clock=CLOCK, engine=engine)
    with pytest.raises(NotFound):  # twice: it is gone
        do_remove_room_block(clinic.staff_actor("owner"), row.id, clock=CLOCK, engine=engine)


def test_a_block_that_began_earlier_today_starts_now(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    row = _block(clinic, NOW - timedelta(hours=2), NOW + timedelta(hours=3))
    assert (row.starts_at, row.ends_at) == (NOW, NOW + timedelta(hours=3))


def test_a_booking_racing_a_block_cannot_both_win(engine, owner_engine):
    for _round in range(8):
        clinic = build_clinic(engine, owner_engine)
        outcomes: list[str] = []
        barrier = threading.Barrier(2)

        def book() -> None:
            barrier.wait()
            with clinic.session() as s:
                try:
                    hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["laser"],
                              start_at=ny(DAY, 10), now=NOW)
                    s.commit()
                    outcomes.append("booked")
                except SlotTaken:
                    outcomes.append("taken")
                except Exception as exc:  # e.g. a deadlock: the test must say so, not hang or pass
                    outcomes.append(repr(exc))

        def block() -> None:
            barrier.wait()
            try:
                _block(clinic, ny(DAY, 9), ny(DAY, 12))
                outcomes.append("blocked")
            except ValidationFailed as exc:
                assert "Move or cancel the visits booked in this time first" in exc.fields["starts_at"]
                outcomes.append("refused")
            except Exception as exc:
                outcomes.append(repr(exc))

        threads = [threading.Thread(target=book), threading.Thread(target=block)]
        [t.start() for t in threads]
        [t.join(60) for t in threads]
        assert sorted(outcomes) in (["blocked", "taken"], ["booked", "refused"])
        with clinic.session() as s:
            live = s.exec(select(Occupancy).where(Occupancy.resource_id == clinic.device_ids[0],
                                                  Occupancy.status.in_(("held", "booked")))).all()
            assert len(live) == 1


def test_the_calendar_day_shows_closure_time_off_and_blocks_with_labels(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    owner = clinic.staff_actor("owner")
    _block(clinic, ny(DAY, 9), ny(DAY, 12), "Laser service visit")
    _block(clinic, ny(DAY, 14), ny(DAY, 15), "Deep clean", resource_id=clinic.room_ids[0])
    do_add_time_off(owner, TimeOffInput(clinic.provider_ids[0], "off", ny(DAY, 13), ny(DAY, 15), reason="Dentist"),
                    engine=engine)
    with clinic.session() as s:
        rooms = calendar_day(s, clinic.staff_actor(), location_id=clinic.location_id, day=DAY, view="rooms", now=NOW)
        people = calendar_day(s, clinic.staff_actor(), location_id=clinic.location_id, day=DAY, now=NOW)
    assert [(b.kind, b.column_id, b.start_minute, b.end_minute, b.start_label, b.end_label, b.note)
            for b in rooms.blocks] == [
        ("maintenance", clinic.room_ids[0], 840, 900, "2:00 PM", "3:00 PM", "Deep clean"),
        ("maintenance", clinic.device_ids[0], 540, 720, "9:00 AM", "12:00 PM", "Laser service visit"),
    ]
    assert rooms.closure == "" and rooms.notices == []
    [off] = [b for b in people.blocks if b.kind == "time_off"]
    assert (off.column_id, off.start_minute, off.end_minute, off.note, off.status_label) == (
        clinic.provider_ids[0], 780, 900, "Dentist", "Time off")
    # greyed like the hours outside the shift: availability does not offer it either
    [column] = people.columns
    assert column.work_spans == ((540, 780), (900, 1020))
    assert people.notices == ["GentleMax out of service 9:00 AM – 12:00 PM · Laser service visit",
                              "Room 1 out of service 2:00 PM – 3:00 PM · Deep clean"]
    assert (people.first_minute, people.last_minute) == (480, 1080)  # blocks do not stretch the grid

    do_add_closure(owner, clinic.location_id, DAY, DAY + timedelta(days=1), "Staff training", engine=engine)
    do_add_time_off(owner, TimeOffInput(clinic.provider_ids[0], "off", ny(DAY + timedelta(days=2), 0),
                                        ny(DAY + timedelta(days=3), 0), reason=""), engine=engine)
    with clinic.session() as s:
        closed = calendar_day(s, clinic.staff_actor(), location_id=clinic.location_id, day=DAY, now=NOW)
        away = calendar_day(s, clinic.staff_actor(), location_id=clinic.location_id, day=DAY + timedelta(days=2),
                            now=NOW)
    assert closed.closure == "Closed · Staff training"
    view = day_view(closed, show_cancelled=False)
    assert view.closure == "Closed · Staff training" and view.slots == []  # nothing offered on a closed day
    [whole] = [b for b in away.blocks if b.kind == "time_off"]
    assert (whole.start_label, whole.end_label, whole.note) == ("All day", "", "Time off")
    assert away.columns[0].work_spans == () and (away.first_minute, away.last_minute) == (480, 1080)
    [bv] = [b for b in day_view(away, show_cancelled=False).blocks if b.kind == "time_off"]
    assert (bv.time, bv.client, bv.pill) == ("All day", "Time off", "Time off")


def test_the_form_reads_local_times_and_puts_each_message_by_its_field():
    from medspa.features.settings.room_blocks import _on_form, parse_block

    form = {"resource_id": "7", "start_date": "2026-07-15", "start_time": "09:00", "end_date": "", "end_time": "12:30",
            "reason": "Laser service visit"}
    data, errors = parse_block(form, NY)
    assert errors == {} and (data.resource_id, data.starts_at, data.ends_at) == (7, ny(DAY, 9), ny(DAY, 12, 30))
    whole, _ = parse_block({**form, "start_time": "", "end_time": "", "end_date": "2026-07-16"}, NY)
    assert (whole.starts_at, whole.ends_at) == (ny(DAY, 0), ny(DAY + timedelta(days=2), 0))
    _, errors = parse_block({**form, "resource_id": "", "start_date": "", "start_time": "9am", "end_date": "x"}, None)
    assert errors == {"resource_id": "Choose a room or device", "start_date": "Choose a date",
                      "end_date": "Choose a date", "start_time": "Enter a time like 09:00"}
    for rid in ("²", "1²", "٣", "0", "-3", " 7", str(2**62), None, 7.0):  # parse_id: positive ASCII digits only
        _, errors = parse_block({**form, "resource_id": rid}, NY)
        assert errors == {"resource_id": "Choose a room or device"}, rid
    assert _on_form({"ends_at": "The end must be after the start", "reason": "Say why"}) == (
        {"end_time": "The end must be after the start", "reason": "Say why"}, "")
    assert _on_form({"starts_at": "Move or cancel the visits booked in this time first: X"}) == (
        {"start_date": "Overlaps booked time: see below"}, "Move or cancel the visits booked in this time first: X")


def test_a_room_block_notifies_the_calendars_of_its_location(engine, owner_engine, db_urls):
    import psycopg

    clinic = build_clinic(engine, owner_engine)
    with psycopg.connect(db_urls[0], autocommit=True) as listener:
        listener.execute("LISTEN calendar_changed")
        row = _block(clinic, ny(DAY, 9), ny(DAY, 12))
        do_remove_room_block(clinic.staff_actor("owner"), row.id, clock=CLOCK, engine=engine)
        got = [n.payload for n in listener.notifies(timeout=5, stop_after=2)]
    assert got == [f"{clinic.org_id}:{clinic.location_id}"] * 2  # open calendars redraw without a reload


def test_migration_0029_goes_down_and_up(db_urls, owner_engine):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from medspa import migrate
    from medspa.settings import PROJECT_ROOT

    def shape() -> list:
        with owner_engine.connect() as conn:
            return list(conn.execute(text(
                "select (select count(*) from pg_constraint where conname = 'occupancy_block_shape'),"
                " (select count(*) from pg_class where relname = 'ix_occupancy_blocks')")))

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["urls"] = db_urls
    assert shape() == [(1, 1)]
    command.downgrade(config, "0029-1")  # 0029 and whatever was chained after it
    try:
        assert shape() == [(0, 0)]
    finally:
        migrate.upgrade(*db_urls)
    assert shape() == [(1, 1)]


def test_the_week_greys_a_closed_day_and_a_whole_day_off(engine, owner_engine):
    from medspa.domain.scheduling.calendar import calendar_week

    clinic = build_clinic(engine, owner_engine, providers=2)
    owner = clinic.staff_actor("owner")
    do_add_closure(owner, clinic.location_id, DAY, DAY, "Holiday", engine=engine)  # Wednesday
    thu = DAY + timedelta(days=1)
    do_add_time_off(owner, TimeOffInput(clinic.provider_ids[1], "off", ny(thu, 0), ny(thu + timedelta(days=1), 0)),
                    engine=engine)
    do_add_time_off(owner, TimeOffInput(clinic.provider_ids[0], "off", ny(thu, 9), ny(thu, 10)), engine=engine)
    with clinic.session() as s:
        week = calendar_week(s, clinic.staff_actor(), location_id=clinic.location_id, day=DAY, now=NOW)
    assert [d.closure for d in week.days] == ["", "", "Closed · Holiday", "", "", "", ""]
    p1, p2 = clinic.provider_ids
    assert sorted(i for sid, i in week.working if sid == p1) == [0, 1, 3, 4, 5, 6]  # an hour off is still a working day
    assert sorted(i for sid, i in week.working if sid == p2) == [0, 1, 4, 5, 6]


def test_the_week_names_overlapping_closures_as_each_day_does(engine, owner_engine):
    """The week reads its closures in one query (issue 20) with the words of the day view: a
    closure begun before the week, two on one day (reasons joined in start order), none after."""
    from medspa.domain.scheduling.calendar import calendar_week

    clinic = build_clinic(engine, owner_engine, providers=1)
    owner = clinic.staff_actor("owner")
    monday = DAY - timedelta(days=2)
    do_add_closure(owner, clinic.location_id, monday - timedelta(days=3), monday + timedelta(days=1), "Renovation",
                   engine=engine)
    do_add_closure(owner, clinic.location_id, monday + timedelta(days=1), monday + timedelta(days=1), "Training",
                   engine=engine)
    do_add_closure(owner, clinic.location_id, monday + timedelta(days=6), monday + timedelta(days=9), "Holiday",
                   engine=engine)
    with clinic.session() as s:
        week = calendar_week(s, clinic.staff_actor(), location_id=clinic.location_id, day=DAY, now=NOW)
        days = [calendar_day(s, clinic.staff_actor(), location_id=clinic.location_id, day=d.day, now=NOW).closure
                for d in week.days]
    assert [d.closure for d in week.days] == days == [
        "Closed · Renovation", "Closed · Renovation; Training", "", "", "", "", "Closed · Holiday"]
