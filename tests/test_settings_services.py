"""The Services tab of /settings (issue 13): validation, audit with old and new values, prices
frozen on booked visits, archive instead of delete, changes that take effect in availability
at once, the maximum advance, and who may do it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from medspa.domain.audit.models import AuditEvent
from medspa.domain.catalog.actions import (
    do_create_service, do_set_service_active, do_update_service, fetch_service_settings)
from medspa.domain.catalog.editing import ServiceInput
from medspa.domain.catalog.models import Service, ServiceProvider
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.scheduling.availability import find_slots
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import hold_slot
from tests.conftest import utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
NOW = utc(2026, 7, 1, 16)  # 12:00 in New York
DAY = date(2026, 7, 15)


def ny(day: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).astimezone(timezone.utc)


def _input(clinic, **kw) -> ServiceInput:
    base = dict(category="Consultations", name="Skin consult", duration_minutes=45, price_cents=12500,
                deposit_cents=2500, description="A first look", buffer_before_minutes=5, buffer_after_minutes=10,
                room_type="treatment_room", provider_ids=tuple(clinic.provider_ids), min_notice_minutes=60,
                slot_grid_minutes=15)
    return ServiceInput(**{**base, **kw})


def _audit(clinic, action: str) -> list[dict]:
    with clinic.session() as s:
        # the clinic's own set-up (build_clinic) acts as the system
        return [e.detail for e in s.exec(select(AuditEvent).where(AuditEvent.action == action,
                                                                  AuditEvent.actor_role != "system")
                                         .order_by(AuditEvent.id))]


def _starts(clinic, service_id: int, *, day: date = DAY, now: datetime = NOW, online: bool = True) -> list[datetime]:
    with clinic.session() as s:
        actor = clinic.public if online else clinic.staff_actor()
        return [sl.start for sl in find_slots(s, actor, location_id=clinic.location_id, service_id=service_id,
                                              start_date=day, end_date=day, now=now, apply_notice=online)]


def test_create_stores_every_field_in_cents_and_audits_the_new_values(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, providers=2)
    owner = clinic.staff_actor("owner")
    row = do_create_service(owner, _input(clinic, name="  Skin consult  ", max_advance_days=60), engine=engine)
    assert (row.name, row.price_cents, row.deposit_cents, row.currency) == ("Skin consult", 12500, 2500, "USD")
    assert (row.duration_minutes, row.buffer_before_minutes, row.buffer_after_minutes) == (45, 5, 10)
    assert (row.room_type, row.device_type, row.max_advance_days) == ("treatment_room", None, 60)
    assert row.provider_ids == tuple(sorted(clinic.provider_ids))
    [created] = _audit(clinic, "service.create")
    assert created["new"]["price_cents"] == 12500 and created["new"]["deposit_cents"] == 2500
    assert created["new"]["provider_ids"] == sorted(clinic.provider_ids)


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"deposit_cents": 12501}, "deposit_cents", "Deposit cannot be more than the price"),
    ({"name": "  "}, "name", "Give the service a name"),
    ({"duration_minutes": 0}, "duration_minutes", "Between 1 and 720 minutes"),
    ({"buffer_after_minutes": -5}, "buffer_after_minutes", "Between 0 and 240 minutes"),
    ({"price_cents": -1}, "price_cents", "Price must be zero or more, at most 100,000"),
    ({"slot_grid_minutes": 7}, "slot_grid_minutes", "Choose one of 5, 10, 15, 20, 30, 60 minutes"),
    ({"room_type": "sauna"}, "room_type", "No active room has this type: add the room first"),
    ({"device_type": "laser_gentlemax "}, "device_type", None),  # stripped: an existing type
    ({"provider_ids": (10**12,)}, "provider_ids", "Choose providers from the list"),
    ({"max_advance_days": 0}, "max_advance_days", "Between 1 and 730 days, or empty for no limit"),
    ({"description": "x\x00"}, "description", "Remove the invisible control characters"),
])
def test_bad_input_names_the_field_and_writes_nothing(engine, owner_engine, change, field, message):
    clinic = build_clinic(engine, owner_engine)
    owner = clinic.staff_actor("owner")
    with clinic.session() as s:
        before = len(s.exec(select(Service.id)).all()), len(s.exec(select(ServiceProvider.staff_id)).all())
    if message is None:
        assert do_create_service(owner, _input(clinic, **change), engine=engine).device_type == "laser_gentlemax"
        return
    with pytest.raises(ValidationFailed) as err:
        do_create_service(owner, _input(clinic, **change), engine=engine)
    assert err.value.fields == {field: message}
    with clinic.session() as s:
        after = len(s.exec(select(Service.id)).all()), len(s.exec(select(ServiceProvider.staff_id)).all())
    assert after == before and _audit(clinic, "service.create") == []


def test_a_failed_edit_changes_nothing(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, providers=2)
    owner, botox = clinic.staff_actor("manager"), clinic.services["botox"]
    with pytest.raises(ValidationFailed):
        do_update_service(owner, botox, _input(clinic, name="Botox 2", provider_ids=(clinic.provider_ids[0],),
                                               deposit_cents=99_999), engine=engine)
    with clinic.session() as s:
        svc = s.get(Service, botox)
        assert (svc.name, svc.price_cents, svc.deposit_cents) == ("Botox", 35000, 5000)
        assert sorted(s.exec(select(ServiceProvider.staff_id).where(ServiceProvider.service_id == botox))) \
            == sorted(clinic.provider_ids)
    assert _audit(clinic, "service.update") == []


def test_edit_audits_old_and_new_values_of_changed_fields_only(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, providers=2)
    owner, botox = clinic.staff_actor("owner"), clinic.services["botox"]
    current = fetch_service_settings(owner, engine=engine).services
    row = next(r for r in current if r.id == botox)
    data = ServiceInput(category=row.category, name=row.name, duration_minutes=row.duration_minutes,
                        price_cents=40000, deposit_cents=row.deposit_cents, provider_ids=(clinic.provider_ids[1],),
                        min_notice_minutes=row.min_notice_minutes, slot_grid_minutes=row.slot_grid_minutes,
                        online_bookable=False)
    updated = do_update_service(owner, botox, data, engine=engine)
    assert (updated.price_cents, updated.online_bookable, updated.provider_ids) == (40000, False,
                                                                                    (clinic.provider_ids[1],))
    [event] = _audit(clinic, "service.update")
    assert event["changes"] == {"price_cents": [35000, 40000], "online_bookable": [True, False],
                                "provider_ids": [sorted(clinic.provider_ids), [clinic.provider_ids[1]]]}
    do_update_service(owner, botox, data, engine=engine)  # the same values again: no audit row
    assert len(_audit(clinic, "service.update")) == 1


def test_a_booked_visit_keeps_the_price_it_was_booked_at(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    botox = clinic.services["botox"]
    with clinic.session() as s:
        appt = hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=botox,
                         start_at=ny(DAY, 10), now=NOW, client_id=None)
        s.commit()
        appt_id = appt.id
    do_update_service(clinic.staff_actor("owner"), botox,
                      _input(clinic, category="Neuromodulators", name="Botox", duration_minutes=30, price_cents=50000,
                             deposit_cents=10000, room_type=None), engine=engine)
    with clinic.session() as s:
        visit = s.get(Appointment, appt_id)
        assert (visit.price_cents, visit.deposit_cents) == (35000, 5000)
        assert s.get(Service, botox).price_cents == 50000


def test_longer_duration_takes_effect_in_availability_at_once(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    botox = clinic.services["botox"]
    before = _starts(clinic, botox)
    assert before[-1] == ny(DAY, 16, 30)  # 30 minutes before 17:00
    do_update_service(clinic.staff_actor("owner"), botox,
                      _input(clinic, category="Neuromodulators", name="Botox", duration_minutes=90, price_cents=35000,
                             deposit_cents=5000, room_type=None, buffer_before_minutes=0, buffer_after_minutes=0),
                      engine=engine)
    after = _starts(clinic, botox)
    assert after[0] == ny(DAY, 9) and after[-1] == ny(DAY, 15, 30)


def test_archive_hides_the_service_from_booking_and_restore_brings_it_back(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    owner, laser = clinic.staff_actor("owner"), clinic.services["laser"]
    assert _starts(clinic, laser)
    archived = do_set_service_active(owner, laser, False, engine=engine)
    assert archived.active is False
    with pytest.raises(NotFound):
        _starts(clinic, laser)
    listed = fetch_service_settings(owner, engine=engine).services
    assert laser not in [r.id for r in listed]
    assert laser in [r.id for r in fetch_service_settings(owner, include_archived=True, engine=engine).services]
    with clinic.session() as s:
        assert s.get(Service, laser) is not None  # never deleted
    do_set_service_active(owner, laser, True, engine=engine)
    assert _starts(clinic, laser)
    assert [e["changes"] for e in _audit(clinic, "service.archive")] == [{"active": [True, False]}]
    assert [e["changes"] for e in _audit(clinic, "service.restore")] == [{"active": [False, True]}]


def test_max_advance_limits_online_slots_and_bookings_but_not_the_desk(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    botox = clinic.services["botox"]
    do_update_service(clinic.staff_actor("owner"), botox,
                      _input(clinic, category="Neuromodulators", name="Botox", duration_minutes=30, price_cents=35000,
                             deposit_cents=5000, room_type=None, max_advance_days=10), engine=engine)
    assert _starts(clinic, botox, day=date(2026, 7, 10))  # 9 days ahead
    assert _starts(clinic, botox, day=DAY) == []  # 14 days ahead
    assert _starts(clinic, botox, day=DAY, online=False)  # staff at the desk are not limited
    with clinic.session() as s, pytest.raises(ValidationFailed) as err:
        hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=botox, start_at=ny(DAY, 10),
                  now=NOW, client_id=None)
    assert err.value.fields == {"start": "This service can be booked at most 10 days ahead"}


@pytest.mark.parametrize("role", ["provider", "front_desk", "lab", "client", "public"])
def test_only_owner_and_manager_edit_the_menu(engine, owner_engine, role):
    clinic = build_clinic(engine, owner_engine)
    actor = clinic.staff_actor(role)
    for call in (lambda: fetch_service_settings(actor, engine=engine),
                 lambda: do_create_service(actor, _input(clinic), engine=engine),
                 lambda: do_update_service(actor, clinic.services["botox"], _input(clinic), engine=engine),
                 lambda: do_set_service_active(actor, clinic.services["botox"], False, engine=engine)):
        with pytest.raises(PermissionDenied):
            call()


def test_another_clinics_service_is_not_found(engine, owner_engine):
    ours, theirs = build_clinic(engine, owner_engine), build_clinic(engine, owner_engine)
    owner = ours.staff_actor("owner")
    with pytest.raises(NotFound):
        do_update_service(owner, theirs.services["botox"], _input(ours), engine=engine)
    with pytest.raises(NotFound):
        do_set_service_active(owner, theirs.services["botox"], False, engine=engine)


def test_options_offer_the_clinics_room_and_device_types_and_providers(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, providers=2)
    options = fetch_service_settings(clinic.staff_actor("manager"), engine=engine).options
    assert (options.currency, options.room_types, options.device_types) == ("USD", ["treatment_room"],
                                                                            ["laser_gentlemax"])
    assert [name for _, name in options.providers] == ["Provider 1", "Provider 2"]


def test_an_edit_keeps_a_type_whose_room_was_since_removed(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    facial = clinic.services["facial"]
    with clinic.session() as s:
        from medspa.domain.practice.models import Resource
        s.get(Resource, clinic.room_ids[0]).active = False
        s.commit()
    data = _input(clinic, category="HydraFacial", name="HydraFacial", price_cents=21000, deposit_cents=4000)
    assert do_update_service(clinic.staff_actor("owner"), facial, data, engine=engine).room_type == "treatment_room"
    with pytest.raises(ValidationFailed):
        do_create_service(clinic.staff_actor("owner"), replace(data, name="New facial"), engine=engine)
