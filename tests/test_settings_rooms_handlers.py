"""/settings Rooms and devices and Provider hours tabs through their Reflex event handlers:
only owner and manager load them, a message next to the bad interval or field with nothing
saved, then a save that takes."""

from __future__ import annotations

import pytest
from sqlmodel import select

from medspa.domain.identity.permissions import has_permission
from medspa.domain.practice.models import Resource, WorkingHours
from medspa.domain.practice.shifts import StaffTimeOff
from medspa.features.settings.hours import HoursState
from medspa.features.settings.hours_form import parse_time_off
from medspa.features.settings.rooms import RoomsState
from tests.test_handler_matrix import STAFF_ROLES, World, staff_state, world  # noqa: F401  (fixture)
from tests.test_handlers import app_settings, call, run  # noqa: F401  (fixture)


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_tabs_load_for_owner_and_manager_only(world: World, app_settings, role):  # noqa: F811
    rooms, hours = staff_state(RoomsState, world, role), staff_state(HoursState, world, role)
    run(call(RoomsState.load_rooms, rooms))
    run(call(HoursState.load_hours, hours))
    allowed = has_permission(role, "settings.write")
    assert rooms.rooms_ok is allowed and bool(rooms.rooms) is allowed
    assert hours.hours_ok is allowed and bool(hours.days) is allowed
    run(call(RoomsState.set_room_active, rooms, world.clinic.room_ids[0], False))  # refused unless allowed
    with world.clinic.session() as s:
        room = s.get(Resource, world.clinic.room_ids[0])
        assert room.active is (not allowed)
        room.active = True
        s.commit()


def test_an_overlapping_interval_gets_its_message_and_nothing_is_saved(world: World, app_settings):  # noqa: F811
    state = staff_state(HoursState, world, "manager")
    run(call(HoursState.load_hours, state))
    staff = int(state.staff_pick)
    run(call(HoursState.add_interval, state, 2))  # Wednesday: 09:00-17:00 then 17:00-?
    run(call(HoursState.set_interval, state, 2, 1, "start", "16:00"))
    run(call(HoursState.set_interval, state, 2, 1, "end", "19:00"))
    run(call(HoursState.save_hours, state))
    assert state.hours_errors == {"d2-1": "Overlaps 09:00–17:00"}
    with world.clinic.session() as s:
        assert len(s.exec(select(WorkingHours.id).where(WorkingHours.staff_id == staff,
                                                        WorkingHours.weekday == 2)).all()) == 1
    run(call(HoursState.set_interval, state, 2, 0, "end", "12:00"))  # a break 12:00-16:00
    run(call(HoursState.save_hours, state))
    assert state.hours_errors == {} and state.hours_message.startswith("Weekly hours saved")
    assert [[iv.start, iv.end] for iv in state.days[2].intervals] == [["09:00", "12:00"], ["16:00", "19:00"]]


def test_time_off_end_before_start_then_a_day_off(world: World, app_settings):  # noqa: F811
    state = staff_state(HoursState, world, "owner")
    run(call(HoursState.load_hours, state))
    for name, value in (("start_date", "2026-08-10"), ("start_time", "15:00"), ("end_time", "14:00")):
        run(call(HoursState.set_off_field, state, name, value))
    run(call(HoursState.add_off, state))
    assert state.off_errors == {"ends_at": "The end must be after the start"}
    run(call(HoursState.set_off_field, state, "end_time", ""))
    run(call(HoursState.add_off, state))
    assert state.off_errors == {} and state.off_message == "Time off added: Mon 10 Aug, from 15:00"
    assert [e.label for e in state.entries] == ["Mon 10 Aug, from 15:00"]
    with world.clinic.session() as s:
        assert len(s.exec(select(StaffTimeOff.id)).all()) == 1


def test_a_room_without_a_name_gets_a_message_then_is_added(world: World, app_settings):  # noqa: F811
    state = staff_state(RoomsState, world, "owner")
    run(call(RoomsState.load_rooms, state))
    run(call(RoomsState.new_room, state))
    run(call(RoomsState.set_room_field, state, "resource_type", "Laser"))
    run(call(RoomsState.set_room_field, state, "kind", "device"))
    run(call(RoomsState.save_room, state))
    assert state.room_errors == {"name": "Give it a name"} and state.room_form_open
    run(call(RoomsState.set_room_field, state, "name", "Clarity II"))
    run(call(RoomsState.save_room, state))
    assert not state.room_form_open and state.room_message == "Clarity II was added"
    row = next(r for r in state.rooms if r.name == "Clarity II")
    assert (row.kind, row.type_label) == ("device", "Laser")


def test_time_off_form_parsing():
    from zoneinfo import ZoneInfo
    tz = ZoneInfo("America/New_York")
    data, errors = parse_time_off({"kind": "off", "start_date": "2026-07-03", "end_date": "2026-07-04"}, 1, 2, tz)
    assert errors == {} and data.location_id is None
    assert (data.ends_at - data.starts_at).total_seconds() == 2 * 86400
    _none, errors = parse_time_off({"kind": "extra", "start_date": "2026-07-03", "start_time": "10:00"}, 1, 2, tz)
    assert errors == {"end_time": "An extra shift needs its start and end times"}
    _none, errors = parse_time_off({"kind": "off", "start_date": "03/07/2026"}, 1, 2, tz)
    assert errors == {"start_date": "Choose a date"}
