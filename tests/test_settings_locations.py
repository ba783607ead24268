"""The Locations tab of /settings (issue 13): validation, opening hours and closures in
availability and in hold_slot, visits on a newly closed day kept and counted, audit rows with
old and new values, who may do it, another clinic's location not found."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from medspa.domain.audit.models import AuditEvent
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.practice.location_actions import (
    do_add_closure, do_create_location, do_remove_closure, do_save_location, do_set_location_hours, do_update_location,
    fetch_locations)
from medspa.domain.practice.locations import LocationInput
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.availability import find_slots
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import SlotTaken, hold_slot
from tests.conftest import utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
NOW = utc(2026, 7, 1, 16)  # 12:00 in New York
DAY = date(2026, 7, 15)  # a Wednesday (weekday 2)


def ny(day: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).astimezone(timezone.utc)


def _starts(clinic, *, day: date = DAY, online: bool = True, service: str = "botox") -> list[datetime]:
    with clinic.session() as s:
        actor = clinic.public if online else clinic.staff_actor()
        return [sl.start for sl in find_slots(s, actor, location_id=clinic.location_id,
                                              service_id=clinic.services[service], start_date=day, end_date=day,
                                              now=NOW, apply_notice=online)]


def _audit(clinic, action: str) -> list[dict]:
    with clinic.session() as s:
        return [e.detail for e in s.exec(select(AuditEvent).where(AuditEvent.action == action,
                                                                  AuditEvent.actor_role != "system")
                                         .order_by(AuditEvent.id))]


def _hold(clinic, start: datetime, *, online: bool = True, confirm: bool = False):
    with clinic.session() as s:
        actor = clinic.public if online else clinic.staff_actor()
        appt = hold_slot(s, actor, location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=start, now=NOW, confirm=confirm, online=online)
        s.commit()
        return appt.id


def test_create_normalises_and_audits_every_value(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    owner = clinic.staff_actor("owner")
    row = do_create_location(owner, LocationInput("  Uptown  ", "Europe/Berlin", "Hauptstr. 1", "(212) 555-0123", 48),
                             engine=engine)
    assert (row.name, row.time_zone, row.phone, row.cancellation_window_hours) == (
        "Uptown", "Europe/Berlin", "+12125550123", 48)
    assert (row.hours, row.closures) == ((), ())
    [created] = _audit(clinic, "location.create")
    assert created["new"] == {"name": "Uptown", "time_zone": "Europe/Berlin", "address": "Hauptstr. 1",
                              "phone": "+12125550123", "cancellation_window_hours": 48,
                              "late_cancel_keeps_deposit": True, "late_reschedule_is_late_cancel": False,
                              "card_required": False, "series_deposit_each_visit": False}


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"name": " "}, "name", "Give the location a name"),
    ({"time_zone": "Mars/Olympus"}, "time_zone", "Choose a time zone from the list, e.g. America/New_York"),
    ({"phone": "12"}, "phone", "This phone number is not valid"),
    ({"phone": "call us"}, "phone", "Enter a phone number like (212) 555-0123 or +44 20 7946 0958"),
    ({"cancellation_window_hours": -1}, "cancellation_window_hours", "Between 0 and 720 hours"),
    ({"address": "x" * 301}, "address", "Keep it under 300 characters"),
])
def test_bad_details_name_the_field_and_change_nothing(engine, owner_engine, change, field, message):
    clinic = build_clinic(engine, owner_engine)
    owner = clinic.staff_actor("owner")
    data = LocationInput(**{**dict(name="Main", time_zone="America/New_York", address="1 Main St",
                                   phone="+1 212 555 0100", cancellation_window_hours=24), **change})
    with pytest.raises(ValidationFailed) as exc:
        do_update_location(owner, clinic.location_id, data, engine=engine)
    assert exc.value.fields == {field: message}
    with clinic.session() as s:
        loc = s.get(Location, clinic.location_id)
        assert (loc.address, loc.phone) == ("", "")
    assert _audit(clinic, "location.update") == []


def test_edit_audits_old_and_new_of_changed_fields_only(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    manager = clinic.staff_actor("manager")
    row = do_update_location(manager, clinic.location_id, LocationInput("Main", "America/Chicago", "",
                                                                        "", 12), engine=engine)
    assert (row.time_zone, row.cancellation_window_hours) == ("America/Chicago", 12)
    [update] = _audit(clinic, "location.update")
    assert update["changes"] == {"time_zone": ["America/New_York", "America/Chicago"],
                                 "cancellation_window_hours": [24, 12]}


def test_the_late_reschedule_rule_is_a_location_setting_from_the_form(engine, owner_engine):
    from medspa.features.settings.location_text import details_of, parse_details

    clinic = build_clinic(engine, owner_engine)
    owner = clinic.staff_actor("owner")
    form = {"name": "Main", "time_zone": "America/New_York", "address": "", "phone": "",
            "cancellation_window_hours": "24", "late_cancel_keeps_deposit": "true",
            "late_reschedule_is_late_cancel": "true"}
    data, errors = parse_details(form)
    assert errors == {} and data.late_reschedule_is_late_cancel is True
    row = do_update_location(owner, clinic.location_id, data, engine=engine)
    assert row.late_reschedule_is_late_cancel is True
    assert details_of(row)["late_reschedule_is_late_cancel"] == "true"
    [update] = _audit(clinic, "location.update")
    assert update["changes"] == {"late_reschedule_is_late_cancel": [False, True]}
    assert parse_details({**form, "late_reschedule_is_late_cancel": "maybe"})[1] == {
        "late_reschedule_is_late_cancel": "Choose how a late reschedule counts"}


@pytest.mark.parametrize(("weekly", "key", "message"), [
    ({2: [(time(12), time(10))]}, "hours-2", "Each interval must end after it starts"),
    ({4: [(time(9), time(13)), (time(12), time(17))]}, "hours-4", "Intervals overlap: join them or fix the times"),
    ({0: [(time(h), time(h, 30)) for h in range(8, 13)]}, "hours-0", "At most 4 intervals a day"),
])
def test_bad_hours_are_refused_and_nothing_is_half_saved(engine, owner_engine, weekly, key, message):
    clinic = build_clinic(engine, owner_engine)
    owner = clinic.staff_actor("owner")
    with pytest.raises(ValidationFailed) as exc:
        do_set_location_hours(owner, clinic.location_id, {1: [(time(9), time(17))], **weekly}, engine=engine)
    assert exc.value.fields == {key: message}
    assert fetch_locations(owner, now=NOW, engine=engine)[0].hours == ()
    assert len(_starts(clinic)) == 31  # starts 09:00-16:30 every 15 minutes: the provider's hours only


def test_opening_hours_cut_online_and_desk_slots_and_holds(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)  # the provider works 09:00-17:00 every day
    owner = clinic.staff_actor("owner")
    # Wednesday: 10:00-12:00 and 13:00-15:00 (a lunch break); Thursday not listed: closed
    row = do_set_location_hours(owner, clinic.location_id, {2: [(time(13), time(15)), (time(10), time(12))],
                                                           0: [(time(8), time(18))]}, engine=engine)
    assert row.hours == ((0, ((time(8), time(18)),)), (2, ((time(10), time(12)), (time(13), time(15)))))
    online = _starts(clinic)
    assert online[0] == ny(DAY, 10) and online[-1] == ny(DAY, 14, 30)
    assert ny(DAY, 12) not in online and ny(DAY, 11, 30) in online and ny(DAY, 13) in online
    assert len(online) == 14
    assert _starts(clinic, online=False) == online  # the desk too
    assert _starts(clinic, day=DAY + timedelta(days=1)) == []  # Thursday: no hours, closed
    monday = _starts(clinic, day=date(2026, 7, 13))  # open 08-18 but the provider works 09-17
    assert monday[0] == ny(date(2026, 7, 13), 9) and monday[-1] == ny(date(2026, 7, 13), 16, 30)
    for start, online_ in ((ny(DAY, 9), True), (ny(DAY, 12), False)):
        with pytest.raises(SlotTaken):
            _hold(clinic, start, online=online_)
    assert _hold(clinic, ny(DAY, 10)) > 0
    [audit] = _audit(clinic, "location.hours.set")
    assert audit["changes"]["hours"] == [{}, {"0": [["08:00", "18:00"]],
                                              "2": [["10:00", "12:00"], ["13:00", "15:00"]]}]
    # clearing the hours brings back the providers' hours only
    do_set_location_hours(owner, clinic.location_id, {}, engine=engine)
    assert len(_starts(clinic, day=DAY + timedelta(days=1))) == 31


def test_a_closure_removes_its_days_and_keeps_booked_visits(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    owner = clinic.staff_actor("owner")
    kept = _hold(clinic, ny(DAY, 11), online=False, confirm=True)
    closure = do_add_closure(owner, clinic.location_id, DAY, DAY + timedelta(days=1), "  Staff training ",
                             engine=engine)
    assert (closure.start_date, closure.end_date, closure.reason, closure.visits) == (
        DAY, DAY + timedelta(days=1), "Staff training", 1)
    assert _starts(clinic) == [] and _starts(clinic, online=False) == []
    assert _starts(clinic, day=DAY + timedelta(days=1)) == []
    assert len(_starts(clinic, day=DAY + timedelta(days=2))) == 31
    for online in (True, False):
        with pytest.raises(SlotTaken):
            _hold(clinic, ny(DAY, 14), online=online)
    with clinic.session() as s:
        assert s.get(Appointment, kept).status == "confirmed"
    [listed] = fetch_locations(owner, now=NOW, engine=engine)[0].closures
    assert listed.visits == 1 and listed.reason == "Staff training"
    [added] = _audit(clinic, "location.closure.add")
    assert added["new"] == {"start_date": "2026-07-15", "end_date": "2026-07-16", "reason": "Staff training"}
    do_remove_closure(owner, closure.id, engine=engine)
    assert len(_starts(clinic)) == 28  # open again; 10:45, 11:00, 11:15 clash with the kept visit
    [removed] = _audit(clinic, "location.closure.remove")
    assert removed["old"]["reason"] == "Staff training"
    # a one-day closure: end date omitted
    one = do_add_closure(owner, clinic.location_id, DAY + timedelta(days=3), None, "Holiday", engine=engine)
    assert one.end_date == one.start_date == DAY + timedelta(days=3)


@pytest.mark.parametrize(("start", "end", "reason", "errors"), [
    (DAY, DAY - timedelta(days=1), "Holiday", {"end_date": "The last day cannot be before the first"}),
    (None, None, "Holiday", {"start_date": "Choose the first closed day"}),
    (DAY, None, "  ", {"reason": "Say why, e.g. Public holiday"}),
    (DAY, DAY + timedelta(days=400), "Renovation", {"end_date": "At most 366 days at a time"}),
])
def test_bad_closures_are_refused(engine, owner_engine, start, end, reason, errors):
    clinic = build_clinic(engine, owner_engine)
    owner = clinic.staff_actor("owner")
    with pytest.raises(ValidationFailed) as exc:
        do_add_closure(owner, clinic.location_id, start, end, reason, engine=engine)
    assert exc.value.fields == errors
    assert fetch_locations(owner, now=NOW, engine=engine)[0].closures == ()
    assert len(_starts(clinic)) == 31


@pytest.mark.parametrize("role", ["provider", "front_desk", "lab"])
def test_only_owner_and_manager_change_locations(engine, owner_engine, role):
    clinic = build_clinic(engine, owner_engine)
    actor = clinic.staff_actor(role)
    with pytest.raises(PermissionDenied):
        fetch_locations(actor, now=NOW, engine=engine)
    with pytest.raises(PermissionDenied):
        do_add_closure(actor, clinic.location_id, DAY, None, "Holiday", engine=engine)
    with pytest.raises(PermissionDenied):
        do_set_location_hours(actor, clinic.location_id, {}, engine=engine)
    assert len(_starts(clinic)) == 31


def test_another_clinics_location_is_not_found(engine, owner_engine):
    mine, theirs = build_clinic(engine, owner_engine), build_clinic(engine, owner_engine)
    owner = mine.staff_actor("owner")
    with pytest.raises(NotFound):
        do_update_location(owner, theirs.location_id, LocationInput("Taken", "America/New_York"), engine=engine)
    with pytest.raises(NotFound):
        do_add_closure(owner, theirs.location_id, DAY, None, "Holiday", engine=engine)
    with pytest.raises(NotFound):
        do_set_location_hours(owner, theirs.location_id, {}, engine=engine)
    closure = do_add_closure(theirs.staff_actor("owner"), theirs.location_id, DAY, None, "Holiday", engine=engine)
    with pytest.raises(NotFound):
        do_remove_closure(owner, closure.id, engine=engine)
    assert [r.id for r in fetch_locations(owner, now=NOW, engine=engine)] == [mine.location_id]
    assert _starts(theirs) == []


def test_saving_details_with_bad_hours_saves_neither(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    owner = clinic.staff_actor("owner")
    with pytest.raises(ValidationFailed) as exc:
        do_save_location(owner, clinic.location_id, LocationInput("Renamed", "Nowhere/Zone"),
                         {3: [(time(17), time(9))]}, engine=engine)
    assert set(exc.value.fields) == {"time_zone", "hours-3"}
    with pytest.raises(ValidationFailed):
        do_save_location(owner, clinic.location_id, LocationInput("Renamed", "America/New_York"),
                         {3: [(time(17), time(9))]}, engine=engine)
    [row] = fetch_locations(owner, now=NOW, engine=engine)
    assert (row.name, row.hours) == ("Main", ())
    new = do_save_location(owner, None, LocationInput("Uptown", "America/Chicago"),
                           {0: [(time(9), time(17))]}, engine=engine)
    assert (new.name, new.hours) == ("Uptown", ((0, ((time(9), time(17)),)),))
