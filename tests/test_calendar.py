"""The staff calendar's read model, desk actions and the watch registry, on real PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from medspa.clock import FixedClock
from tests.conftest import run_in_fresh_loop
from medspa.domain.audit.models import AuditEvent
from medspa.domain.catalog.service import add_service
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.payments.models import LedgerEntry, Payment
from medspa.domain.practice.service import add_staff, set_working_hours
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.calendar import (
    appointment_detail,
    calendar_day,
    calendar_week,
    resource_subtitle,
    resource_type_label,
)
from medspa.domain.scheduling.actions.desk import do_cancel_visit
from medspa.domain.scheduling.desk import book_for_client, cancel_visit
from medspa.domain.scheduling.models import Appointment, Occupancy
from medspa.domain.scheduling.service import (
    InvalidTransition,
    SlotTaken,
    add_block,
    cancel_appointment,
    change_status,
    hold_slot,
)
from medspa.domain.scheduling.watch import (
    count_watches,
    forget_stale,
    forget_tokens,
    register_watch,
    unregister_watch,
    watches,
)
from tests.conftest import utc
from tests.factories import build_clinic, new_org

NY = ZoneInfo("America/New_York")
DAY = date(2026, 7, 15)  # a Wednesday
NOW = utc(2026, 7, 1, 12)
CARD = CardDetails("4242 4242 4242 4242", 12, 2030, "123")


def at(h: int, m: int = 0, day: date = DAY, zone: ZoneInfo = NY, fold: int = 0) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=zone).replace(fold=fold).astimezone(timezone.utc)


def client(s, clinic, first: str, last: str, email: str | None = None, phone: str = "") -> int:
    data = ClientInput(first, last, email or f"{first.lower()}@example.com", phone)
    c = find_or_create_client(s, clinic.system, data, require_contact=False)
    return c.id


def staff_book(s, clinic, start: datetime, service: str = "botox", provider: int | None = None,
               client_id: int | None = None):
    return hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services[service],
                     start_at=start, now=NOW, provider_id=provider, client_id=client_id, source="staff",
                     confirm=True)


@pytest.fixture
def two_providers(engine, owner_engine):
    """Provider 1 works 09-17 daily; Provider 2 only on Wednesdays 12-18; a Thursday-only provider."""
    clinic = build_clinic(engine, owner_engine, providers=2)
    with clinic.session() as s:
        set_working_hours(s, clinic.system, clinic.provider_ids[1], clinic.location_id, {2: [(time(12), time(18))]})
        thursday = add_staff(s, clinic.system, "Zoe Thursday", "provider", title="NP", color="#2a9d8f")
        set_working_hours(s, clinic.system, thursday.id, clinic.location_id, {3: [(time(10), time(14))]})
        s.commit()
    return clinic


def test_day_view_columns_blocks_labels_and_colours(two_providers):
    clinic = two_providers
    p1, p2 = clinic.provider_ids
    with clinic.session() as s:
        mia = client(s, clinic, "Mia", "Wong")
        leo = client(s, clinic, "Leo", "Park")
        a1 = staff_book(s, clinic, at(10), provider=p1, client_id=mia)
        a2 = staff_book(s, clinic, at(13, 30), service="facial", provider=p2, client_id=leo)
        a3 = staff_book(s, clinic, at(11), provider=p1, client_id=leo)
        change_status(s, clinic.staff_actor(), a1.id, "check_in", now=at(9, 55))
        cancel_appointment(s, clinic.staff_actor(), a3.id, now=NOW)
        add_block(s, clinic.staff_actor(), staff_id=p1, start_at=at(12), end_at=at(13), note="Lunch", now=NOW)
        s.commit()
        cal = calendar_day(s, clinic.staff_actor(), location_id=clinic.location_id, day=DAY, now=at(10, 20))

    assert (cal.time_zone, cal.zone_label, cal.day_label, cal.day_minutes) == (
        "America/New_York", "EDT", "Wednesday, July 15, 2026", 1440)
    # Wednesday: both providers; the Thursday-only provider is not a column
    assert [(c.id, c.name, c.work_spans, c.hours_label) for c in cal.columns] == [
        (p1, "Provider 1", ((540, 1020),), "9:00 AM – 5:00 PM"),
        (p2, "Provider 2", ((720, 1080),), "12:00 PM – 6:00 PM"),
    ]
    rows = [(b.kind, b.column_id, b.start_minute, b.end_minute, b.start_label, b.end_label, b.client_name,
             b.service_name, b.status, b.status_label, b.colour) for b in cal.blocks]
    assert rows == [
        ("appointment", p1, 600, 630, "10:00 AM", "10:30 AM", "Mia Wong", "Botox", "checked_in", "Checked in", "violet"),
        ("appointment", p1, 660, 690, "11:00 AM", "11:30 AM", "Leo Park", "Botox", "cancelled", "Cancelled", "violet"),
        ("block", p1, 720, 780, "12:00 PM", "1:00 PM", "", "", "blocked", "Blocked", "gray"),
        ("appointment", p2, 810, 870, "1:30 PM", "2:30 PM", "Leo Park", "HydraFacial", "confirmed", "Confirmed", "cyan"),
    ]
    assert [b.appointment_id for b in cal.blocks if b.kind == "appointment"] == [a1.id, a3.id, a2.id]
    assert cal.blocks[2].note == "Lunch"
    # 08:00-18:00 at least; the whole working day is visible
    assert (cal.first_minute, cal.last_minute) == (480, 1080)
    assert cal.hours[9].label == "9 AM" and cal.hours[13].label == "1 PM" and len(cal.hours) == 24
    assert (cal.now_minute, cal.is_today) == (620, True)


def test_a_loaded_view_is_laid_out_once_for_every_tab_and_filter(two_providers):
    """The live loop hands one loaded view to every tab watching it: shared_view lays it out
    once per (object, filter), the same rows day_view / week_view give."""
    from medspa.features.calendar.layout import day_view, week_view
    from medspa.features.calendar.shared_layout import shared_view

    clinic = two_providers
    with clinic.session() as s:
        mia = client(s, clinic, "Mia", "Wong")
        gone = staff_book(s, clinic, at(10), provider=clinic.provider_ids[0], client_id=mia)
        cancel_appointment(s, clinic.staff_actor(), gone.id, now=NOW)
        s.commit()
        day = calendar_day(s, clinic.staff_actor(), location_id=clinic.location_id, day=DAY, now=at(8))
        again = calendar_day(s, clinic.staff_actor(), location_id=clinic.location_id, day=DAY, now=at(8))
        week = calendar_week(s, clinic.staff_actor(), location_id=clinic.location_id, day=DAY, now=at(8))
    first = shared_view(day, show_cancelled=False)
    assert first == day_view(day, show_cancelled=False) and first.blocks == []
    assert shared_view(day, show_cancelled=False) is first  # the second tab: no second layout
    with_cancelled = shared_view(day, show_cancelled=True)
    assert with_cancelled == day_view(day, show_cancelled=True) and len(with_cancelled.blocks) == 1
    fresh = shared_view(again, show_cancelled=False)  # a later load: laid out anew
    assert fresh is not first and fresh == first
    assert shared_view(week, show_cancelled=True) == week_view(week, show_cancelled=True)


def test_day_view_of_another_day_and_empty_day(two_providers):
    clinic = two_providers
    with clinic.session() as s:
        thu = calendar_day(s, clinic.staff_actor(), location_id=clinic.location_id, day=DAY + timedelta(days=1),
                           now=at(10))
    assert [c.name for c in thu.columns] == ["Provider 1", "Zoe Thursday"]
    assert thu.blocks == [] and thu.now_minute is None and not thu.is_today
    assert thu.columns[1].subtitle == "NP" and thu.columns[1].colour == "#2a9d8f"


@pytest.mark.parametrize(("resource_type", "label"), [
    ("ipl_bbl", "IPL / BBL"),
    ("laser_gentlemax", "Laser"),
    ("laser_co2", "Laser"),
    ("treatment_room", "Treatment room"),
    ("facial_room", "Facial Room"),
    ("coolsculpting", "Coolsculpting"),
    ("rf_microneedling", "RF Microneedling"),
    ("ipl", "IPL"),
    ("body_contouring_bbl", "Body Contouring BBL"),
    ("", ""),
])
def test_resource_type_label(resource_type, label):
    assert resource_type_label(resource_type) == label


def test_settings_name_types_specifically_with_acronyms():
    """A new user found "Ipl bbl" in the settings and "IPL" on the calendar."""
    from medspa.domain.scheduling.labels import resource_type_name

    assert [resource_type_name(t) for t in ("ipl_bbl", "laser_alexandrite", "treatment_room", "co2_laser", "")] == [
        "IPL BBL", "Laser alexandrite", "Treatment room", "CO2 laser", ""]


def test_resource_subtitle_names_the_kind_and_never_repeats_the_name():
    assert resource_subtitle("room", "Treatment Room 1", "treatment_room") == "Room · Treatment room"
    assert resource_subtitle("room", "Facial Room", "facial_room") == "Room"  # not "Facial Room / Facial room"
    assert resource_subtitle("device", "BBL Hero", "ipl_bbl") == "Device · IPL / BBL"  # not "Ipl bbl"
    assert resource_subtitle("device", "CoolSculpting Elite", "coolsculpting") == "Device · Coolsculpting"
    assert resource_subtitle("room", "Room 2", "room") == "Room"
    assert resource_subtitle("device", "Morpheus8", "") == "Device"


def test_rooms_view_places_visits_on_rooms_and_devices(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        ana = client(s, clinic, "Ana", "Silva")
        facial = staff_book(s, clinic, at(9), service="facial", client_id=ana)
        laser = staff_book(s, clinic, at(11), service="laser", client_id=ana)
        staff_book(s, clinic, at(14), service="botox", client_id=ana)  # needs no room: not in rooms view
        cancel_appointment(s, clinic.staff_actor(), laser.id, now=NOW)
        s.commit()
        cal = calendar_day(s, clinic.staff_actor(), location_id=clinic.location_id, day=DAY, view="rooms")
    assert [(c.id, c.kind, c.name, c.subtitle) for c in cal.columns] == [
        (clinic.room_ids[0], "room", "Room 1", "Room · Treatment room"),
        (clinic.device_ids[0], "device", "GentleMax", "Device · Laser"),
    ]
    assert [(b.column_id, b.appointment_id, b.start_label, b.status) for b in cal.blocks] == [
        (clinic.room_ids[0], facial.id, "9:00 AM", "confirmed"),
        (clinic.device_ids[0], laser.id, "11:00 AM", "cancelled"),
    ]
    with pytest.raises(ValidationFailed):
        calendar_day(s, clinic.staff_actor(), location_id=clinic.location_id, day=DAY, view="chairs")


def test_spring_forward_day_has_23_hours(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, weekly={6: [(time(0), time(6))]})
    sunday = date(2026, 3, 8)
    with clinic.session() as s:
        consult = add_service(s, clinic.system, category="Consultations", name="Consult", duration_minutes=30,
                              price_cents=0, min_notice_minutes=0, provider_ids=clinic.provider_ids)
        s.commit()
        appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=consult.id,
                         start_at=at(3, 0, sunday), now=utc(2026, 3, 1), confirm=True)
        s.commit()
        cal = calendar_day(s, clinic.staff_actor(), location_id=clinic.location_id, day=sunday)
    assert cal.day_minutes == 23 * 60
    assert [h.label for h in cal.hours[:4]] == ["12 AM EST", "1 AM EST", "3 AM EDT", "4 AM EDT"]
    # 03:00 EDT is two real hours after midnight EST
    (block,) = cal.blocks
    assert (block.appointment_id, block.start_minute, block.end_minute, block.start_label) == (
        appt.id, 120, 150, "3:00 AM EDT")
    # working 00:00-06:00 wall time is 5 real hours
    assert cal.columns[0].work_spans == ((0, 300),)


def test_fall_back_day_has_25_hours_and_both_one_thirties(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, weekly={6: [(time(0), time(6))]})
    sunday = date(2026, 11, 1)
    with clinic.session() as s:
        consult = add_service(s, clinic.system, category="Consultations", name="Consult", duration_minutes=30,
                              price_cents=0, min_notice_minutes=0, provider_ids=clinic.provider_ids)
        s.commit()
        first = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=consult.id,
                          start_at=at(1, 30, sunday, fold=0), now=utc(2026, 10, 1), confirm=True)
        second = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=consult.id,
                           start_at=at(1, 30, sunday, fold=1), now=utc(2026, 10, 1), confirm=True)
        s.commit()
        cal = calendar_day(s, clinic.staff_actor(), location_id=clinic.location_id, day=sunday)
        week = calendar_week(s, clinic.staff_actor(), location_id=clinic.location_id, day=sunday)
    assert cal.day_minutes == 25 * 60 and len(cal.hours) == 25
    assert [h.label for h in cal.hours[:4]] == ["12 AM EDT", "1 AM EDT", "1 AM EST", "2 AM EST"]
    assert [(b.appointment_id, b.start_minute, b.start_label) for b in cal.blocks] == [
        (first.id, 90, "1:30 AM EDT"), (second.id, 150, "1:30 AM EST")]
    assert cal.columns[0].work_spans == ((0, 420),)  # 00:00 EDT .. 06:00 EST is 7 real hours
    # the week view (Mon Oct 26 .. Sun Nov 1) puts both on Sunday
    assert [(e.day_index, e.start_label) for e in week.entries] == [(6, "1:30 AM"), (6, "1:30 AM")]


def test_week_view_counts_and_entries(two_providers):
    clinic = two_providers
    p1, p2 = clinic.provider_ids
    with clinic.session() as s:
        mia = client(s, clinic, "Mia", "Wong")
        staff_book(s, clinic, at(10), provider=p1, client_id=mia)
        staff_book(s, clinic, at(10, day=DAY + timedelta(days=2)), provider=p1, client_id=mia)
        gone = staff_book(s, clinic, at(15), provider=p2, client_id=mia)
        cancel_appointment(s, clinic.staff_actor(), gone.id, now=NOW)
        s.commit()
        week = calendar_week(s, clinic.staff_actor(), location_id=clinic.location_id, day=DAY, now=at(8))
    assert week.start == date(2026, 7, 13) and week.label == "Jul 13 – Jul 19, 2026"
    assert [d.short_label for d in week.days] == ["Mon 13", "Tue 14", "Wed 15", "Thu 16", "Fri 17", "Sat 18", "Sun 19"]
    assert [d.is_today for d in week.days] == [False, False, True, False, False, False, False]
    assert [c.name for c in week.columns] == ["Provider 1", "Provider 2", "Zoe Thursday"]
    assert sorted((e.column_id, e.day_index, e.start_label, e.client_name, e.status) for e in week.entries) == sorted([
        (p1, 2, "10:00 AM", "Mia Wong", "confirmed"), (p1, 4, "10:00 AM", "Mia Wong", "confirmed"),
        (p2, 2, "3:00 PM", "Mia Wong", "cancelled")])
    assert week.counts == {(p1, 2): 1, (p1, 4): 1}
    assert (p2, 2) in week.working and (p2, 3) not in week.working and (p1, 6) in week.working


def test_week_entries_say_what_the_days_blocks_say(two_providers):
    """A week chip names the visit, its service, colour, status and start as the day's block
    does (issue 20 reads the week as plain columns, the day as whole entities): a named client,
    a walk-in, another service, a cancelled visit."""
    clinic = two_providers
    p1, p2 = clinic.provider_ids
    with clinic.session() as s:
        mia = client(s, clinic, "Mia", "Wong")
        staff_book(s, clinic, at(10, 15), provider=p1, client_id=mia)
        staff_book(s, clinic, at(12, 30), provider=p2)  # a walk-in
        gone = staff_book(s, clinic, at(14), service="facial", provider=p2, client_id=mia)
        cancel_appointment(s, clinic.staff_actor(), gone.id, now=NOW)
        s.commit()
        week = calendar_week(s, clinic.staff_actor(), location_id=clinic.location_id, day=DAY, now=at(8))
        day = calendar_day(s, clinic.staff_actor(), location_id=clinic.location_id, day=DAY, now=at(8))
    blocks = {b.appointment_id: b for b in day.blocks if b.kind == "appointment"}
    assert len(week.entries) == len(blocks) == 3
    for e in week.entries:
        b = blocks[e.appointment_id]
        assert (e.column_id, e.day_index, e.start_label, e.client_name, e.service_name, e.status, e.colour,
                e.health_flag) == (b.column_id, 2, b.start_label, b.client_name, b.service_name, b.status, b.colour,
                                   b.health_flag)
    assert sorted((e.start_label, e.client_name) for e in week.entries) == [
        ("10:15 AM", "Mia Wong"), ("12:30 PM", "Walk-in"), ("2:00 PM", "Mia Wong")]


def test_clinic_clock_labels_are_babels_wall_time_through_dst_changes():
    """format_clinic_clock remembers labels per local wall time (issue 20): the same words as
    Babel's "h:mm a" of the instant in the zone, across both 2026 changes in New York and London."""
    from babel.dates import format_datetime

    from medspa.domain.timezones import format_clinic_clock

    for zone, day in (("America/New_York", date(2026, 3, 8)), ("America/New_York", date(2026, 11, 1)),
                      ("Europe/London", date(2026, 3, 29)), ("Europe/London", date(2026, 10, 25))):
        tz = ZoneInfo(zone)
        start = datetime.combine(day, time(0), tzinfo=timezone.utc) - timedelta(hours=12)
        for step in range(0, 48 * 60, 25):
            instant = start + timedelta(minutes=step)
            for locale in ("en_US", "en_GB", "fr_FR"):
                assert format_clinic_clock(instant, zone, locale) == format_datetime(
                    instant.astimezone(tz), "h:mm a", tzinfo=tz, locale=locale)


def test_calendar_needs_calendar_read_and_stays_in_its_clinic(engine, owner_engine, two_providers):
    clinic = two_providers
    other = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        with pytest.raises(PermissionDenied):
            calendar_day(s, clinic.public, location_id=clinic.location_id, day=DAY)
        with pytest.raises(PermissionDenied):
            calendar_week(s, Actor(org_id=clinic.org_id, role="client"), location_id=clinic.location_id, day=DAY)
        # another clinic's location id looks missing (row-level security)
        with pytest.raises(NotFound):
            calendar_day(s, clinic.staff_actor(), location_id=other.location_id, day=DAY)
        with pytest.raises(PermissionDenied):  # the lab reads its worklist, not the day (user trial, issue 17)
            calendar_day(s, Actor(org_id=clinic.org_id, role="lab"), location_id=clinic.location_id, day=DAY)


def test_calendar_read_by_a_user_is_audited(two_providers):
    from medspa.domain.identity.service import create_user

    clinic = two_providers
    with clinic.session() as s:
        user = create_user(s, clinic.system, email=f"desk-{clinic.slug}@example.com", password="x" * 12,
                           role="front_desk")
        s.commit()
        desk = Actor(org_id=clinic.org_id, role="front_desk", user_id=user.id, label="desk")
        calendar_day(s, desk, location_id=clinic.location_id, day=DAY, view="rooms", now=NOW)
        calendar_day(s, clinic.system, location_id=clinic.location_id, day=DAY, now=NOW)  # live push: no row
        s.commit()
        rows = s.exec(select(AuditEvent).where(AuditEvent.action == "calendar.read")).all()
    assert [(r.actor_user_id, r.object_id, r.detail["day"], r.detail["view"]) for r in rows] == [
        (user.id, str(clinic.location_id), "2026-07-15", "rooms")]


def _paid_booking(engine, clinic, start: datetime, clock: FixedClock) -> Appointment:
    req = OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=start,
                        client=ClientInput("Ana", "Silva", "ana@example.com", "(212) 555-0147"), card=CARD)
    return book_online(engine, clinic.public, req, TestPaymentGateway(engine, clock.now), clock)


def test_detail_shows_contact_only_with_permission_and_the_actions(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(NOW)
    appt = _paid_booking(engine, clinic, at(10), clock)
    with clinic.session() as s:
        desk = appointment_detail(s, clinic.staff_actor(), appt.id, now=NOW)
        with pytest.raises(PermissionDenied):  # no calendar.read for the lab
            appointment_detail(s, Actor(org_id=clinic.org_id, role="lab"), appt.id, now=NOW)
        on_the_day = appointment_detail(s, clinic.staff_actor(), appt.id, now=at(9))
        s.commit()
    assert (desk.client_name, desk.client_phone, desk.client_email, desk.contact_visible) == (
        "Ana Silva", "+1 212-555-0147", "ana@example.com", True)
    assert (desk.service_name, desk.provider_name, desk.status_label, desk.price, desk.deposit_paid) == (
        "Botox", "Provider 1", "Confirmed", "$350.00", "$50.00")
    assert desk.time_label == "10:00 AM – 10:30 AM EDT (America/New_York)"
    assert desk.date_label == "Wednesday, July 15, 2026"
    # two weeks ahead: cancel (with a refund) and move; on the day: check in, complete, no-show, cancel (kept)
    assert desk.actions == ["cancel", "move"] and not desk.cancel_late
    assert desk.cancel_policy == "More than 24 hours ahead: the $50.00 deposit will be refunded."
    assert on_the_day.actions == ["check_in", "complete", "no_show", "cancel", "move"] and on_the_day.cancel_late
    assert on_the_day.cancel_policy == "Inside the 24-hour window: the $50.00 deposit will be kept."


def test_detail_lists_room_and_is_missing_for_other_clinics(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    other = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        appt = staff_book(s, clinic, at(9), service="facial", client_id=client(s, clinic, "Ivy", "Chen"))
        s.commit()
        d = appointment_detail(s, clinic.staff_actor(), appt.id, now=NOW)
        assert d.resources == ["Room 1"] and d.deposit_paid == "None"
        assert d.cancel_policy == "No deposit was paid, so nothing is refunded or kept."
        s.commit()
    with other.session() as s:
        with pytest.raises(NotFound):
            appointment_detail(s, other.staff_actor(), appt.id, now=NOW)


def test_book_for_client_existing_and_new(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        mia = client(s, clinic, "Mia", "Wong")
        a = book_for_client(s, clinic.staff_actor(), location_id=clinic.location_id,
                            service_id=clinic.services["botox"], start_at=at(10), now=NOW, client_id=mia)
        b = book_for_client(s, clinic.staff_actor(), location_id=clinic.location_id,
                            service_id=clinic.services["botox"], start_at=at(11), now=NOW,
                            new_client=ClientInput("Noor", "Haddad", "", "(646) 555-0100"))
        s.commit()
        assert (a.status, a.source, a.deposit_cents, a.client_id) == ("confirmed", "staff", 0, mia)
        assert b.status == "confirmed" and b.client_id != mia
        occ = s.exec(select(Occupancy.status).where(Occupancy.appointment_id == b.id)).all()
        assert occ == ["booked"]
        msgs = s.exec(select(OutboxMessage.channel).where(OutboxMessage.appointment_id == b.id)).all()
        assert msgs == ["sms"]  # the new client gave only a phone
        with pytest.raises(SlotTaken):  # another client wants Mia's 10:00
            book_for_client(s, clinic.staff_actor(), location_id=clinic.location_id,
                            service_id=clinic.services["botox"], start_at=at(10), now=NOW, client_id=b.client_id)
        with pytest.raises(ValidationFailed):  # Mia herself twice at once
            book_for_client(s, clinic.staff_actor(), location_id=clinic.location_id,
                            service_id=clinic.services["botox"], start_at=at(10), now=NOW, client_id=mia)
        with pytest.raises(ValidationFailed) as err:
            book_for_client(s, clinic.staff_actor(), location_id=clinic.location_id,
                            service_id=clinic.services["botox"], start_at=at(12), now=NOW,
                            new_client=ClientInput("", "Haddad"))
        assert err.value.fields == {"first_name": "Enter a first name"}
        with pytest.raises(ValidationFailed):
            book_for_client(s, clinic.staff_actor(), location_id=clinic.location_id,
                            service_id=clinic.services["botox"], start_at=at(12), now=NOW)
        with pytest.raises(PermissionDenied):
            book_for_client(s, Actor(org_id=clinic.org_id, role="lab"), location_id=clinic.location_id,
                            service_id=clinic.services["botox"], start_at=at(12), now=NOW, client_id=mia)


def test_cancel_visit_refunds_outside_and_keeps_inside_the_window(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(NOW)
    early = _paid_booking(engine, clinic, at(10), clock)
    late = _paid_booking(engine, clinic, at(11), clock)
    gateway = TestPaymentGateway(engine, clock.now)
    r1 = do_cancel_visit(clinic.staff_actor(), early.id, clock=clock, engine=engine, gateway=gateway).result
    r2 = do_cancel_visit(clinic.staff_actor(), late.id, clock=FixedClock(at(9)), engine=engine,
                         gateway=gateway).result
    with clinic.session() as s:
        assert (r1.late, r1.refunded_cents, r1.pending_refund_cents, r1.kept_cents) == (False, 5000, 0, 0)
        assert (r2.late, r2.refunded_cents, r2.kept_cents) == (True, 0, 5000)
        assert s.exec(select(Payment.status).where(Payment.appointment_id == early.id)).one() == "refunded"
        kinds = s.exec(select(LedgerEntry.entry_type).where(LedgerEntry.appointment_id == late.id)
                       .order_by(LedgerEntry.id)).all()
        assert kinds == ["deposit_paid", "processing_fee", "deposit_forfeited"]
        with pytest.raises(InvalidTransition):
            cancel_visit(s, clinic.staff_actor(), early.id, now=NOW)


def test_the_panel_of_a_cancelled_visit_shows_the_deposit_it_kept(engine, owner_engine):
    """Found in a new-user pass: after a late desk cancellation the panel said "Deposit paid
    None" above "$50.00 deposit kept". A kept deposit is still paid; a refunded one is not."""
    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(NOW)
    early, late = _paid_booking(engine, clinic, at(10), clock), _paid_booking(engine, clinic, at(11), clock)
    gateway = TestPaymentGateway(engine, clock.now)
    do_cancel_visit(clinic.staff_actor(), early.id, clock=clock, engine=engine, gateway=gateway)
    do_cancel_visit(clinic.staff_actor(), late.id, clock=FixedClock(at(9)), engine=engine, gateway=gateway)
    with clinic.session() as s:
        kept = appointment_detail(s, clinic.staff_actor(), late.id, now=at(9))
        refunded = appointment_detail(s, clinic.staff_actor(), early.id, now=at(9))
    assert (kept.status, kept.deposit_paid, kept.deposit_paid_cents) == ("cancelled", "$50.00", 5000)
    assert (refunded.deposit_paid, refunded.deposit_paid_cents) == ("$50.00 refunded", 0)  # not "None"
    assert "cancel" not in kept.actions


@pytest.mark.parametrize("offset, late", [(timedelta(0), False), (timedelta(microseconds=1), True)])
def test_panel_portal_and_cancel_agree_at_the_window_boundary(engine, owner_engine, offset, late):
    """Exactly the window ahead is not late; a moment later it is: the calendar panel, the
    portal's preview and the cancellation itself read the same rule."""
    from medspa.domain.portal import service as portal

    clinic = build_clinic(engine, owner_engine)  # window 24 h
    clock = FixedClock(NOW)
    appt = _paid_booking(engine, clinic, at(10), clock)
    moment = at(10) - timedelta(hours=24) + offset
    with clinic.session() as s:
        panel = appointment_detail(s, clinic.staff_actor(), appt.id, now=moment)
        preview = portal.cancel_preview(s, Actor.client(clinic.org_id, appt.client_id), appt.id, now=moment)
        result = cancel_visit(s, clinic.staff_actor(), appt.id, now=moment)
        s.commit()
        stored = s.get(Appointment, appt.id).cancellation_late
    assert (panel.cancel_late, preview.late, result.late, stored) == (late, late, late, late)
    assert (result.kept_cents, result.pending_refund_cents) == ((5000, 0) if late else (0, 5000))


def test_watch_registry_upserts_isolates_and_prunes(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    other = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        register_watch(s, clinic.staff_actor(), client_token="tab-1", instance_id="w1",
                       location_id=clinic.location_id, day_from=DAY, day_to=DAY, view="providers", now=NOW)
        register_watch(s, clinic.staff_actor(), client_token="tab-2", instance_id="w2",
                       location_id=clinic.location_id, day_from=DAY, day_to=DAY, view="rooms", now=NOW)
        # the same tab moves to the week view: one row, updated
        register_watch(s, clinic.staff_actor(), client_token="tab-1", instance_id="w2",
                       location_id=clinic.location_id, day_from=date(2026, 7, 13), day_to=date(2026, 7, 19),
                       view="providers", now=NOW + timedelta(minutes=1))
        s.commit()
        rows = sorted(watches(s, clinic.location_id), key=lambda w: w.client_token)
        assert [(w.client_token, w.instance_id, w.day_from, w.day_to, w.view) for w in rows] == [
            ("tab-1", "w2", date(2026, 7, 13), date(2026, 7, 19), "providers"),
            ("tab-2", "w2", DAY, DAY, "rooms")]
        assert len(watches(s, 0)) == 2 and watches(s, clinic.location_id + 999) == []
        with pytest.raises(PermissionDenied):
            register_watch(s, clinic.public, client_token="tab-3", instance_id="w1",
                           location_id=clinic.location_id, day_from=DAY, day_to=DAY, view="providers", now=NOW)
    with other.session() as s:
        assert count_watches(s) == 0 and watches(s, 0) == []  # row-level security
        assert forget_tokens(s, ["tab-1"]) == 0
        s.commit()
    with clinic.session() as s:
        assert forget_tokens(s, ["tab-1"]) == 1
        unregister_watch(s, "tab-2")
        register_watch(s, clinic.staff_actor(), client_token="tab-4", instance_id="w1",
                       location_id=clinic.location_id, day_from=DAY, day_to=DAY, view="providers", now=NOW)
        s.commit()
        assert forget_stale(s, NOW + timedelta(hours=1)) == 0
        assert forget_stale(s, NOW + timedelta(hours=14)) == 1
        s.commit()
        assert count_watches(s) == 0


def test_commits_notify_calendar_changed_with_clinic_and_location(engine, owner_engine, db_urls):
    clinic = build_clinic(engine, owner_engine)
    with psycopg.connect(db_urls[0], autocommit=True) as listener:
        listener.execute("LISTEN calendar_changed")
        with clinic.session() as s:
            appt = staff_book(s, clinic, at(10), client_id=client(s, clinic, "Mia", "Wong"))
            s.commit()
            add_block(s, clinic.staff_actor(), staff_id=clinic.provider_ids[0], start_at=at(12), end_at=at(13),
                      now=NOW)
            s.commit()
        got = [n.payload for n in listener.notifies(timeout=5, stop_after=2)]
    # one merged notification per transaction and payload
    assert got == [f"{clinic.org_id}:{clinic.location_id}", f"{clinic.org_id}:0"]
    assert appt.id


# --------------------------------------------------------------------------- the live listener (no browser)


class FakeTabs:
    """Stands in for Reflex's token manager: which tokens are connected, and where."""

    instance_id = "worker-a"

    def __init__(self, local: set[str], elsewhere: set[str] = frozenset()):
        self.local, self.elsewhere = set(local), set(elsewhere)

    def is_local(self, token: str) -> bool:
        return token in self.local

    def any_local(self) -> bool:
        return bool(self.local)

    async def is_connected(self, token: str) -> bool:
        return token in self.local or token in self.elsewhere


def _watch(clinic, token: str, instance: str = "worker-a", day: date = DAY, view: str = "providers",
           now: datetime = NOW) -> None:
    with clinic.session() as s:
        register_watch(s, clinic.staff_actor(), client_token=token, instance_id=instance,
                       location_id=clinic.location_id, day_from=day, day_to=day, view=view, now=now)
        s.commit()


def _live(engine, db_urls, tabs, pushes, clock=None):
    from medspa.live import LiveCalendars

    async def push(org_id, token, key, loaded):
        pushes.append((org_id, token, key, loaded))
        return True

    return LiveCalendars(db_url=db_urls[0], engine=engine, tabs=tabs, push=push,
                         clock=lambda: clock or FixedClock(NOW), safety_seconds=3600)


async def _until(predicate, timeout: float = 10.0) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def test_listener_pushes_a_committed_booking_to_local_tabs_only(engine, owner_engine, db_urls):
    import asyncio

    from medspa.domain.scheduling.actions.calendar import ViewKey

    clinic = build_clinic(engine, owner_engine)
    _watch(clinic, "tab-here")
    _watch(clinic, "tab-there", instance="worker-b")
    _watch(clinic, "tab-rooms", view="rooms")
    pushes: list = []
    hub = _live(engine, db_urls, FakeTabs({"tab-here", "tab-rooms"}, {"tab-there"}), pushes)

    async def scenario():
        task = asyncio.create_task(hub.run())
        await asyncio.wait_for(hub.connected.wait(), 10)
        with clinic.session() as s:  # a write from "outside": the domain services, no Reflex
            appt = staff_book(s, clinic, at(10), client_id=client(s, clinic, "Mia", "Wong"))
            s.commit()
        await _until(lambda: len(pushes) >= 2)
        task.cancel()
        return appt

    appt = run_in_fresh_loop(scenario())
    got = {token: (org, key, loaded) for org, token, key, loaded in pushes}
    assert set(got) == {"tab-here", "tab-rooms"}  # never a tab of another worker
    org, key, day = got["tab-here"]
    assert org == clinic.org_id and key == ViewKey(clinic.location_id, DAY, "providers", "day")
    assert [(b.appointment_id, b.client_name, b.status) for b in day.blocks] == [(appt.id, "Mia Wong", "confirmed")]
    assert got["tab-rooms"][1].view == "rooms" and got["tab-rooms"][2].blocks == []  # botox needs no room


def test_listener_loads_each_view_once_per_burst(engine, owner_engine, db_urls, monkeypatch):
    import asyncio

    from medspa.domain.scheduling.actions import calendar as reads

    clinic = build_clinic(engine, owner_engine)
    for n in range(4):
        _watch(clinic, f"tab-{n}")
    _watch(clinic, "tab-week", view="week", day=date(2026, 7, 13))
    loads: list[set] = []
    real = reads.fetch_views
    monkeypatch.setattr(reads, "fetch_views",
                        lambda org, keys, now, engine: loads.append(set(keys)) or real(org, keys, now, engine=engine))
    pushes: list = []
    hub = _live(engine, db_urls, FakeTabs({f"tab-{n}" for n in range(4)} | {"tab-week"}), pushes)
    payloads = {f"{clinic.org_id}:{clinic.location_id}", f"{clinic.org_id}:0", "junk", "1:x"}
    run_in_fresh_loop(hub.process(payloads))
    assert len(loads) == 1 and len(loads[0]) == 2  # the day once, the week once, for five tabs
    assert sorted(token for _, token, _, _ in pushes) == ["tab-0", "tab-1", "tab-2", "tab-3", "tab-week"]


def test_listener_reconnects_and_refreshes_and_prunes(engine, owner_engine, db_urls):
    import asyncio

    from medspa.live import APPLICATION_NAME

    clinic = build_clinic(engine, owner_engine)
    _watch(clinic, "tab-here")
    _watch(clinic, "tab-gone")                                   # this worker's, disconnected
    _watch(clinic, "tab-other-fresh", instance="worker-b")       # another worker's, just registered
    _watch(clinic, "tab-other-dead", instance="worker-z", now=NOW - timedelta(minutes=10))
    pushes: list = []
    tabs = FakeTabs({"tab-here"}, {"tab-other-fresh"})
    hub = _live(engine, db_urls, tabs, pushes)
    hub.known_orgs.add(clinic.org_id)

    async def scenario():
        task = asyncio.create_task(hub.run())
        await asyncio.wait_for(hub.connected.wait(), 10)
        await _until(lambda: hub.stats.full_refreshes >= 1 and len(pushes) >= 1)
        # kill the LISTEN connection, then write at once: the row must still arrive
        import psycopg as pg

        with pg.connect(db_urls[0], autocommit=True) as admin:  # same role may end its own backend
            killed = admin.execute("select pg_terminate_backend(pid) from pg_stat_activity "
                                   "where application_name = %s and datname = current_database()",
                                   (APPLICATION_NAME,)).fetchall()
        assert killed == [(True,)]
        with clinic.session() as s:
            appt = staff_book(s, clinic, at(11), client_id=client(s, clinic, "Leo", "Park"))
            s.commit()
        await _until(lambda: any(b.appointment_id == appt.id for *_, loaded in pushes for b in loaded.blocks))
        task.cancel()
        return appt

    run_in_fresh_loop(scenario())
    assert hub.stats.reconnects >= 1 and hub.stats.full_refreshes >= 2
    assert {token for _, token, _, _ in pushes} == {"tab-here"}
    with clinic.session() as s:
        left = sorted(w.client_token for w in watches(s, 0))
    assert left == ["tab-here", "tab-other-fresh"]  # the gone and the dead ones were pruned


def test_organization_name_is_the_clinic_of_the_staff_header(engine, owner_engine):
    from medspa.domain.identity.actions import fetch_clinic_header
    from medspa.domain.identity.actor import Actor

    org_id, _ = new_org(owner_engine, name="Lumière Aesthetics")
    other_id, _ = new_org(owner_engine, name="Another Clinic")
    assert fetch_clinic_header(Actor.system(org_id), engine=engine).name == "Lumière Aesthetics"
    assert fetch_clinic_header(Actor.system(other_id), engine=engine).name == "Another Clinic"


def test_the_live_loop_never_imports_the_pages_or_the_routes():
    """medspa.live sits below the entry points: the calendar feature subscribes to it, never
    the other way round (the old features.calendar live <-> state cycle is gone)."""
    import ast
    from pathlib import Path

    import medspa.live

    imported = set()
    for path in Path(medspa.live.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
    assert not {m for m in imported if m.split(".")[:2] in (["medspa", "features"], ["medspa", "api"])}
    assert "reflex" not in {m.split(".")[0] for m in imported}


def test_live_subscribers_each_get_every_push_and_can_leave(monkeypatch):
    """medspa.live.subscribe: every subscriber sees each push; the push counts when one took it."""
    import medspa.live as live

    monkeypatch.setattr(live, "_SUBSCRIBERS", [])  # not the app's own (the calendar's) subscriber

    seen: list[tuple[str, str]] = []

    async def takes(org_id, token, key, loaded):
        seen.append(("takes", token))
        return True

    async def declines(org_id, token, key, loaded):
        seen.append(("declines", token))
        return False

    leave_a, leave_b = live.subscribe(takes), live.subscribe(declines)
    live.subscribe(takes)  # twice: still once
    try:
        assert run_in_fresh_loop(live._push_to_subscribers(1, "tab", None, None)) is True
        assert seen == [("takes", "tab"), ("declines", "tab")]
        leave_a()
        assert run_in_fresh_loop(live._push_to_subscribers(1, "tab2", None, None)) is False
    finally:
        leave_a()
        leave_b()


def test_settings_changes_notify_open_calendars(engine, owner_engine, db_urls):
    """Issue 13: hours, services, rooms, staff and locations reach open calendars live like
    appointments do: a working-hours change refreshes its location, a service or a staff member
    every location of the clinic (payload '<org>:0'), a location itself."""
    from medspa.domain.catalog.models import Service
    from medspa.domain.practice.models import Location, StaffMember, WorkingHours

    clinic = build_clinic(engine, owner_engine)
    with psycopg.connect(db_urls[0], autocommit=True) as listener:
        listener.execute("LISTEN calendar_changed")
        with clinic.session() as s:
            hours = s.exec(select(WorkingHours).where(WorkingHours.staff_id == clinic.provider_ids[0])).first()
            hours.end_time = hours.end_time.replace(hour=16)
            s.add(hours)
            s.commit()
            service = s.get(Service, clinic.services["botox"])
            service.duration_minutes = 45
            s.add(service)
            s.commit()
            s.add(StaffMember(org_id=clinic.org_id, display_name="New Provider", title="RN"))
            s.commit()
            location = s.get(Location, clinic.location_id)
            location.phone = "+12125550100"
            s.add(location)
            s.commit()
        got = [n.payload for n in listener.notifies(timeout=5, stop_after=4)]
    org, loc = clinic.org_id, clinic.location_id
    assert got == [f"{org}:{loc}", f"{org}:0", f"{org}:0", f"{org}:{loc}"]


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(st.tuples(st.sampled_from([1, 2, 3, 99]), st.integers(0, 6),
                                st.sampled_from(["confirmed", "cancelled", "completed", "held"])), max_size=40),
       show_cancelled=st.booleans())
def test_week_view_puts_each_entry_in_its_cell_in_order(cells, show_cancelled):
    """week_view groups the entries in one pass (issue 20): each cell's chips are the entries
    of its (provider, day) in the week's order, cancelled ones only when shown, and entries
    of a provider without a column nowhere."""
    from medspa.domain.scheduling.calendar import CalendarColumn, CalendarWeek, WeekDay, WeekEntry
    from medspa.features.calendar.layout import week_view

    start = date(2026, 7, 13)
    days = [WeekDay(start + timedelta(days=i), f"day {i}", f"d{i}", i == 2) for i in range(7)]
    columns = [CalendarColumn(c, "provider", f"P{c}", "RN", "#123456") for c in (2, 1, 3)]
    entries = [WeekEntry(n, col, i, "9:00 AM", f"client {n}", "Botox", status, "teal")
               for n, (col, i, status) in enumerate(cells, start=1)]
    week = CalendarWeek(1, "Main", "America/New_York", "EDT", start, "label", days, columns, entries)
    view = week_view(week, show_cancelled=show_cancelled)
    assert [r.column.id for r in view.rows] == [2, 1, 3]
    for row in view.rows:
        for i, cell in enumerate(row.cells):
            assert [c.appointment_id for c in cell.chips] == [
                e.appointment_id for e in entries if e.column_id == row.column.id and e.day_index == i
                and (show_cancelled or e.status != "cancelled")]
            assert all(c.home == f"w{row.column.id}_{days[i].day.isoformat()}" for c in cell.chips)
