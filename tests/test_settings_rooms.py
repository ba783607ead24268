"""The Rooms and devices and Provider hours tabs of /settings (issue 13): validation, audit
with old and new values, availability that honours weekly hours with breaks, time off, extra
shifts and deactivated rooms at once, visits kept, and who may do it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.practice.settings_actions import (
    do_add_time_off, do_create_resource, do_remove_time_off, do_set_hours, do_set_resource_active,
    do_update_resource, fetch_hours_settings, fetch_room_settings)
from medspa.domain.practice.hours import TimeOffInput
from medspa.domain.practice.models import Resource, WorkingHours
from medspa.domain.practice.rooms import ResourceInput
from medspa.domain.scheduling.availability import find_slots
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.scheduling.service import SlotTaken, hold_slot
from tests.conftest import utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
NOW = utc(2026, 7, 1, 16)
CLOCK = FixedClock(NOW)
DAY = date(2026, 7, 15)  # a Wednesday (weekday 2)


def ny(day: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).astimezone(timezone.utc)


def _audit(clinic, action: str) -> list[dict]:
    with clinic.session() as s:
        return [e.detail for e in s.exec(select(AuditEvent).where(AuditEvent.action == action,
                                                                  AuditEvent.actor_role != "system")
                                         .order_by(AuditEvent.id))]


def _starts(clinic, service: str, day: date = DAY, provider_id: int | None = None) -> list[datetime]:
    with clinic.session() as s:
        return [sl.start for sl in find_slots(s, clinic.public, location_id=clinic.location_id,
                                              service_id=clinic.services[service], start_date=day, end_date=day,
                                              now=NOW, provider_id=provider_id)]


def _book(clinic, service: str, start: datetime) -> int:
    with clinic.session() as s:
        appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services[service],
                         start_at=start, now=NOW, confirm=True)
        s.commit()
        return appt.id


def _off(clinic, lo: datetime, hi: datetime, **kw) -> TimeOffInput:
    return TimeOffInput(**{"staff_id": clinic.provider_ids[0], "kind": "off", "starts_at": lo, "ends_at": hi,
                           "reason": "Dentist", **kw})


# rooms and devices ---------------------------------------------------------------------------

def test_add_a_room_normalises_its_type_and_audits_the_new_values(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    row = do_create_resource(clinic.staff_actor("owner"), ResourceInput("room", "  Room 2 ", "Treatment Room",
                                                                        clinic.location_id), engine=engine)
    assert (row.kind, row.name, row.resource_type, row.active) == ("room", "Room 2", "treatment_room", True)
    [event] = _audit(clinic, "resource.create")
    assert event["new"] == {"kind": "room", "name": "Room 2", "resource_type": "treatment_room",
                            "location_id": clinic.location_id}
    listed = fetch_room_settings(clinic.staff_actor("manager"), clock=CLOCK, engine=engine)
    assert [(r.name, r.kind) for r in listed.resources] == [("Room 1", "room"), ("Room 2", "room"),
                                                           ("GentleMax", "device")]


@pytest.mark.parametrize(("data", "field", "message"), [
    (("room", " ", "treatment_room"), "name", "Give it a name"),
    (("room", "room 1", "treatment_room"), "name", "This location already has a room or device with this name"),
    (("sauna", "Sauna", "sauna"), "kind", "Choose room or device"),
    (("room", "Room 9", ""), "resource_type", "Give it a type, e.g. treatment room or laser"),
    (("device", "Laser", "laser/2"), "resource_type", "Letters, digits and spaces, under 40 characters"),
    (("room", "R\x00", "x"), "name", "Remove the invisible control characters"),
])
def test_bad_room_input_names_the_field_and_writes_nothing(engine, owner_engine, data, field, message):
    clinic = build_clinic(engine, owner_engine)
    with pytest.raises(ValidationFailed) as err:
        do_create_resource(clinic.staff_actor("owner"), ResourceInput(*data, clinic.location_id), engine=engine)
    assert err.value.fields == {field: message}
    with clinic.session() as s:
        assert len(s.exec(select(Resource.id).where(Resource.kind != "provider")).all()) == 2
    assert _audit(clinic, "resource.create") == []


def test_edit_audits_old_and_new_values_of_changed_fields_only(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    owner, room = clinic.staff_actor("owner"), clinic.room_ids[0]
    do_update_resource(owner, room, ResourceInput("room", "Suite A", "treatment_room", clinic.location_id),
                       engine=engine)
    do_update_resource(owner, room, ResourceInput("room", "Suite A", "treatment_room", clinic.location_id),
                       engine=engine)  # no change: no row
    assert [e["changes"] for e in _audit(clinic, "resource.update")] == [{"name": ["Room 1", "Suite A"]}]


def test_deactivated_room_is_no_longer_offered_and_its_booked_visit_stays(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    owner, room = clinic.staff_actor("owner"), clinic.room_ids[0]
    visit = _book(clinic, "facial", ny(DAY, 10))
    assert _starts(clinic, "facial")
    row = do_set_resource_active(owner, room, False, clock=CLOCK, engine=engine)
    assert (row.active, row.booked_ahead) == (False, 1)  # the page says one booked visit keeps it
    assert _starts(clinic, "facial") == []
    with clinic.session() as s, pytest.raises(SlotTaken):
        hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["facial"],
                  start_at=ny(DAY, 14), now=NOW)
    with clinic.session() as s:
        assert s.get(Appointment, visit).status == AppointmentStatus.CONFIRMED
        assert s.get(Resource, room) is not None
    do_set_resource_active(owner, room, True, clock=CLOCK, engine=engine)
    assert ny(DAY, 14) in _starts(clinic, "facial")
    assert [e["changes"] for e in _audit(clinic, "resource.deactivate")] == [{"active": [True, False]}]
    assert [e["changes"] for e in _audit(clinic, "resource.reactivate")] == [{"active": [False, True]}]


def test_a_new_room_makes_a_service_bookable_at_once(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        s.get(Resource, clinic.room_ids[0]).active = False
        s.commit()
    assert _starts(clinic, "facial") == []
    do_create_resource(clinic.staff_actor("owner"), ResourceInput("room", "Room 2", "treatment room",
                                                                  clinic.location_id), engine=engine)
    assert _starts(clinic, "facial")[0] == ny(DAY, 9)


# weekly hours --------------------------------------------------------------------------------

def test_hours_with_a_break_offer_nothing_in_the_break_and_audit_old_and_new(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    staff = clinic.provider_ids[0]
    weekly = {d: [(time(9), time(17))] for d in range(7)}
    weekly[2] = [(time(13), time(18)), (time(9), time(12))]
    do_set_hours(clinic.staff_actor("manager"), staff, clinic.location_id, weekly, engine=engine)
    starts = _starts(clinic, "botox")
    assert ny(DAY, 11, 30) in starts and ny(DAY, 13) in starts and ny(DAY, 17, 30) in starts
    assert not any(ny(DAY, 12) <= s < ny(DAY, 13) for s in starts) and ny(DAY, 11, 45) not in starts
    [event] = _audit(clinic, "staff.hours.update")
    assert event["changes"] == {"Wed": [["09:00-17:00"], ["09:00-12:00", "13:00-18:00"]]}
    assert fetch_hours_settings(clinic.staff_actor("owner"), staff, clinic.location_id, clock=CLOCK,
                                engine=engine).weekly[2] == [(time(9), time(12)), (time(13), time(18))]


@pytest.mark.parametrize(("day_spans", "errors"), [
    ([(time(12), time(9))], {"d2-0": "The end must be after the start"}),
    ([(time(9), time(13)), (time(12), time(17))], {"d2-1": "Overlaps 09:00–13:00"}),
    ([(time(12), time(17)), (time(9), time(12, 30))], {"d2-1": "Overlaps 12:00–17:00"}),
])
def test_bad_hours_name_the_interval_and_change_nothing(engine, owner_engine, day_spans, errors):
    clinic = build_clinic(engine, owner_engine)
    with pytest.raises(ValidationFailed) as err:
        do_set_hours(clinic.staff_actor("owner"), clinic.provider_ids[0], clinic.location_id,
                     {1: [(time(8), time(9))], 2: day_spans}, engine=engine)
    assert err.value.fields == errors
    with clinic.session() as s:
        assert len(s.exec(select(WorkingHours.id)).all()) == 7  # the old week, untouched
    assert _audit(clinic, "staff.hours.update") == []


def test_a_day_without_hours_offers_nothing(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    weekly = {d: [(time(9), time(17))] for d in range(7) if d != 2}
    do_set_hours(clinic.staff_actor("owner"), clinic.provider_ids[0], clinic.location_id, weekly, engine=engine)
    assert _starts(clinic, "botox") == [] and _starts(clinic, "botox", DAY + timedelta(days=1))


# time off and extra shifts -------------------------------------------------------------------

def test_a_day_off_removes_only_that_provider_that_day_and_keeps_the_booked_visit(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, providers=2)
    first, second = clinic.provider_ids
    visit = _book(clinic, "botox", ny(DAY, 10))  # the first free provider: Provider 1
    row = do_add_time_off(clinic.staff_actor("owner"), _off(clinic, ny(DAY, 0), ny(DAY + timedelta(days=1), 0)),
                          engine=engine)
    assert row.visits_inside == 1  # the page warns: one visit to move
    assert _starts(clinic, "botox", provider_id=first) == []
    assert _starts(clinic, "botox", provider_id=second)[0] == ny(DAY, 9)
    assert _starts(clinic, "botox", DAY + timedelta(days=1), provider_id=first)
    with clinic.session() as s, pytest.raises(SlotTaken):
        hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                  start_at=ny(DAY, 15), now=NOW, provider_id=first)
    with clinic.session() as s:
        assert s.get(Appointment, visit).status == AppointmentStatus.CONFIRMED
    [event] = _audit(clinic, "staff.time_off.create")
    assert event["new"]["starts_at"] == ny(DAY, 0).isoformat() and event["new"]["reason"] == "Dentist"
    listed = fetch_hours_settings(clinic.staff_actor("owner"), first, clock=CLOCK, engine=engine).time_off
    assert [(r.id, r.visits_inside) for r in listed] == [(row.id, 1)]
    do_remove_time_off(clinic.staff_actor("owner"), row.id, engine=engine)
    assert _starts(clinic, "botox", provider_id=first)
    assert _audit(clinic, "staff.time_off.delete")[0]["old"]["reason"] == "Dentist"


def test_a_few_hours_off_cut_a_hole_in_the_day(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    do_add_time_off(clinic.staff_actor("owner"), _off(clinic, ny(DAY, 14), ny(DAY, 15, 30)), engine=engine)
    starts = _starts(clinic, "botox")
    assert ny(DAY, 13, 30) in starts and ny(DAY, 15, 30) in starts
    assert not any(ny(DAY, 13, 31) <= s < ny(DAY, 15, 30) for s in starts)


def test_an_extra_shift_opens_a_day_without_weekly_hours(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, weekly={d: [(time(9), time(17))] for d in range(5)})
    sunday = date(2026, 7, 19)
    assert _starts(clinic, "botox", sunday) == []
    row = do_add_time_off(clinic.staff_actor("owner"), _off(clinic, ny(sunday, 10), ny(sunday, 14), kind="extra",
                                                            location_id=clinic.location_id), engine=engine)
    starts = _starts(clinic, "botox", sunday)
    assert (starts[0], starts[-1]) == (ny(sunday, 10), ny(sunday, 13, 30))
    assert _audit(clinic, "staff.extra_shift.create")[0]["new"]["kind"] == "extra"
    with clinic.session() as s:
        appt = hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=ny(sunday, 11), now=NOW)
        assert appt.provider_id == clinic.provider_ids[0]
    assert row.visits_inside == 0


def test_an_extra_shift_for_a_provider_with_no_hours_at_the_location(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    do_set_hours(clinic.staff_actor("owner"), clinic.provider_ids[0], clinic.location_id, {}, engine=engine)
    assert _starts(clinic, "botox") == []
    do_add_time_off(clinic.staff_actor("owner"), _off(clinic, ny(DAY, 18), ny(DAY, 20), kind="extra",
                                                      location_id=clinic.location_id), engine=engine)
    assert _starts(clinic, "botox")[0] == ny(DAY, 18)


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"ends_at": ny(DAY, 9)}, "ends_at", "The end must be after the start"),
    ({"kind": "extra"}, "location_id", "Choose where the extra shift is"),
    ({"kind": "extra", "location_id": 10**12}, "location_id", "Choose a location"),
    ({"kind": "holiday"}, "kind", "Choose time off or an extra shift"),
    ({"reason": "x" * 201}, "reason", "Keep it under 200 characters"),
    ({"ends_at": ny(DAY, 10) + timedelta(days=400)}, "ends_at", "At most 366 days at a time"),
])
def test_bad_time_off_names_the_field_and_writes_nothing(engine, owner_engine, change, field, message):
    clinic = build_clinic(engine, owner_engine)
    with pytest.raises(ValidationFailed) as err:
        do_add_time_off(clinic.staff_actor("owner"), _off(clinic, ny(DAY, 10), ny(DAY, 12), **change), engine=engine)
    assert err.value.fields == {field: message}
    assert fetch_hours_settings(clinic.staff_actor("owner"), clock=CLOCK, engine=engine).time_off == []


def test_overlapping_extra_shifts_are_refused(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    owner = clinic.staff_actor("owner")
    do_add_time_off(owner, _off(clinic, ny(DAY, 18), ny(DAY, 20), kind="extra", location_id=clinic.location_id),
                    engine=engine)
    with pytest.raises(ValidationFailed) as err:
        do_add_time_off(owner, _off(clinic, ny(DAY, 19), ny(DAY, 21), kind="extra", location_id=clinic.location_id),
                        engine=engine)
    assert err.value.fields == {"starts_at": "Overlaps another extra shift of this provider"}


# who may, which clinic -----------------------------------------------------------------------

@pytest.mark.parametrize("role", ["provider", "front_desk", "lab", "client", "public"])
def test_only_owner_and_manager_edit_rooms_and_hours(engine, owner_engine, role):
    clinic = build_clinic(engine, owner_engine)
    actor = clinic.staff_actor(role)
    room_input = ResourceInput("room", "Room 2", "treatment_room", clinic.location_id)
    for call in (lambda: fetch_room_settings(actor, engine=engine),
                 lambda: do_create_resource(actor, room_input, engine=engine),
                 lambda: do_update_resource(actor, clinic.room_ids[0], room_input, engine=engine),
                 lambda: do_set_resource_active(actor, clinic.room_ids[0], False, engine=engine),
                 lambda: fetch_hours_settings(actor, engine=engine),
                 lambda: do_set_hours(actor, clinic.provider_ids[0], clinic.location_id, {}, engine=engine),
                 lambda: do_add_time_off(actor, _off(clinic, ny(DAY, 9), ny(DAY, 10)), engine=engine)):
        with pytest.raises(PermissionDenied):
            call()


def test_another_clinics_rooms_staff_and_time_off_are_not_found(engine, owner_engine):
    ours, theirs = build_clinic(engine, owner_engine), build_clinic(engine, owner_engine)
    owner = ours.staff_actor("owner")
    their_off = do_add_time_off(theirs.staff_actor("owner"), _off(theirs, ny(DAY, 9), ny(DAY, 10)), engine=engine)
    for call in (
            lambda: do_update_resource(owner, theirs.room_ids[0], ResourceInput("room", "X", "x", ours.location_id),
                                       engine=engine),
            lambda: do_set_resource_active(owner, theirs.room_ids[0], False, engine=engine),
            lambda: do_set_resource_active(owner, ours.provider_ids[0], False, engine=engine),  # not a room
            lambda: do_set_hours(owner, theirs.provider_ids[0], ours.location_id, {}, engine=engine),
            lambda: do_set_hours(owner, ours.provider_ids[0], theirs.location_id, {}, engine=engine),
            lambda: do_add_time_off(owner, _off(theirs, ny(DAY, 9), ny(DAY, 10)), engine=engine),
            lambda: do_remove_time_off(owner, their_off.id, engine=engine),
            lambda: fetch_hours_settings(owner, theirs.provider_ids[0], engine=engine)):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(ValidationFailed) as err:
        do_create_resource(owner, ResourceInput("room", "X", "x", theirs.location_id), engine=engine)
    assert err.value.fields == {"location_id": "Choose a location"}
