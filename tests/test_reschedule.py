"""Moving a visit (issue 15): the staff move re-checks hours, buffers, rooms and devices and
names the reason it refuses; the deposit moves with the visit; a changed service keeps the
deposit; the client's move follows the booking page's grid and the late-move rule (once free,
then a late cancellation that hands the manage link to the new visit); cancellations record who
and why; two moves racing for one time never both win."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.payments.models import Payment, Refund
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.actions.desk import do_cancel_visit
from medspa.domain.scheduling.actions.reschedule import do_edit_visit, do_move_visit, fetch_edit_options
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.detail import appointment_detail
from medspa.domain.scheduling.models import Appointment, AppointmentStatus, Occupancy, OccupancyStatus
from medspa.domain.scheduling.reschedule import MoveRefused, VisitChange, move_visit, reschedule_terms
from medspa.domain.scheduling.service import InvalidTransition, hold_slot
from tests.conftest import utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
NOW = utc(2026, 7, 1, 16)
CLOCK = FixedClock(NOW)
DAY = date(2026, 7, 15)  # a Wednesday; providers work 09:00-17:00
CARD = CardDetails("4242 4242 4242 4242", 12, 2030, "123")


def ny(day: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).astimezone(timezone.utc)


def _book(clinic, service: str, start: datetime, provider: int | None = None) -> int:
    with clinic.session() as s:
        appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services[service],
                         start_at=start, now=NOW, confirm=True, provider_id=provider)
        s.commit()
        return appt.id


def _paid(engine, clinic, start: datetime, email: str = "ana@example.com") -> Appointment:
    req = OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=start,
                        client=ClientInput("Ana", "Silva", email, "(212) 555-0147"), card=CARD)
    return book_online(engine, clinic.public, req, TestPaymentGateway(engine, CLOCK.now), CLOCK)


def _move(clinic, appt_id: int, start: datetime, **kw):
    return do_move_visit(clinic.staff_actor(), appt_id, start_at=start, clock=CLOCK, engine=clinic.engine, **kw)


def _live_rows(clinic, appt_id: int) -> list[tuple[int, datetime, datetime]]:
    with clinic.session() as s:
        return sorted((o.resource_id, o.during.lower, o.during.upper) for o in s.exec(
            select(Occupancy).where(Occupancy.appointment_id == appt_id,
                                    Occupancy.status == OccupancyStatus.BOOKED)))


def test_a_staff_move_takes_the_visit_and_its_occupancies_to_the_new_time(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt = _book(clinic, "facial", ny(DAY, 10))
    detail = _move(clinic, appt, ny(DAY, 13, 5))  # off the service grid: staff may use any 5-minute step
    assert detail.id == appt
    with clinic.session() as s:
        row = s.get(Appointment, appt)
        assert (row.start_at, row.end_at, row.rescheduled_at) == (ny(DAY, 13, 5), ny(DAY, 14, 5), NOW)
    # provider and room, each over the visit plus its 15 min clean-up
    assert _live_rows(clinic, appt) == sorted([(r, ny(DAY, 13, 5), ny(DAY, 14, 20)) for r in
                                              (_provider_resource(clinic, 0), clinic.room_ids[0])])
    event = _audit(clinic, "appointment.reschedule")[-1]
    assert event["from"]["start"] == ny(DAY, 10).isoformat() and event["to"]["start"] == ny(DAY, 13, 5).isoformat()


def _provider_resource(clinic, index: int) -> int:
    from medspa.domain.practice.models import Resource
    with clinic.session() as s:
        return s.exec(select(Resource.id).where(Resource.staff_id == clinic.provider_ids[index])).one()


def _audit(clinic, action: str) -> list[dict]:
    with clinic.session() as s:
        return [e.detail for e in s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


@pytest.mark.parametrize("target, reason", [
    (lambda: ny(DAY, 16, 45), "Outside Provider 1's hours"),          # 60 min + 15 clean-up past 17:00
    (lambda: ny(DAY, 8, 30), "Outside Provider 1's hours"),
    (lambda: ny(DAY, 14, 30), "Provider 1 is busy then"),             # overlaps the other visit's clean-up too
    (lambda: ny(DAY, 10, 7), "5-minute step"),
    (lambda: NOW - timedelta(hours=1), "already passed"),
])
def test_a_staff_move_onto_a_conflict_is_refused_with_the_reason_and_nothing_changes(engine, owner_engine, target,
                                                                                    reason):
    clinic = build_clinic(engine, owner_engine)
    appt = _book(clinic, "facial", ny(DAY, 10))
    _book(clinic, "botox", ny(DAY, 15))
    before = _live_rows(clinic, appt)
    with pytest.raises(MoveRefused) as refused:
        _move(clinic, appt, target())
    assert reason in refused.value.reason
    assert _live_rows(clinic, appt) == before
    with clinic.session() as s:
        assert s.get(Appointment, appt).start_at == ny(DAY, 10)


def test_a_move_needs_a_free_room_and_device_with_buffers(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, providers=2)
    mine = _book(clinic, "facial", ny(DAY, 9), provider=clinic.provider_ids[0])
    _book(clinic, "facial", ny(DAY, 13), provider=clinic.provider_ids[1])  # the only room, 13:00-14:15
    with pytest.raises(MoveRefused, match="No treatment_room room is free then"):
        _move(clinic, mine, ny(DAY, 11, 50))  # 11:50-13:05 (+15) overlaps the other's 13:00 start
    _move(clinic, mine, ny(DAY, 11, 45))  # 11:45-12:45 + 15 min clean-up ends exactly at 13:00
    laser = _book(clinic, "laser", ny(DAY, 9), provider=clinic.provider_ids[1])
    _book(clinic, "laser", ny(DAY, 15), provider=clinic.provider_ids[0])  # the only device
    with pytest.raises(MoveRefused, match="No laser_gentlemax device is free then"):
        _move(clinic, laser, ny(DAY, 15, 15))


def test_moving_to_another_provider_column_checks_that_provider(engine, owner_engine):
    weekly = {d: [(time(9), time(12))] for d in range(7)}
    clinic = build_clinic(engine, owner_engine, providers=2)
    with clinic.session() as s:  # the second provider works mornings only
        from medspa.domain.practice.service import set_working_hours
        set_working_hours(s, clinic.system, clinic.provider_ids[1], clinic.location_id, weekly)
        s.commit()
    appt = _book(clinic, "botox", ny(DAY, 14), provider=clinic.provider_ids[0])
    with pytest.raises(MoveRefused, match="Outside Provider 2's hours"):
        _move(clinic, appt, ny(DAY, 14), provider_id=clinic.provider_ids[1])
    detail = _move(clinic, appt, ny(DAY, 10), provider_id=clinic.provider_ids[1])
    assert detail.provider_name == "Provider 2"


def test_the_deposit_moves_with_the_visit_and_a_changed_service_keeps_it(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt = _paid(engine, clinic, ny(DAY, 10))
    _move(clinic, appt.id, ny(DAY, 11))
    change = VisitChange(start_at=ny(DAY, 12), service_id=clinic.services["facial"], notes="  Prefers the left room ")
    detail = do_edit_visit(clinic.staff_actor(), appt.id, change, clock=CLOCK, engine=engine)
    with clinic.session() as s:
        row = s.get(Appointment, appt.id)
        assert (row.service_id, row.price_cents, row.deposit_cents, row.notes) == (
            clinic.services["facial"], 20000, 5000, "Prefers the left room")
        payments = s.exec(select(Payment).where(Payment.appointment_id == appt.id)).all()
        assert [(p.status, p.amount_cents) for p in payments] == [("succeeded", 5000)]
        assert s.exec(select(Refund)).all() == []
    assert detail.service_name == "HydraFacial"


def test_the_client_hears_of_the_move_with_an_updated_invite(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt = _paid(engine, clinic, ny(DAY, 10))
    _move(clinic, appt.id, ny(DAY, 11))
    with clinic.session() as s:
        moved = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "move_notice",
                                                   OutboxMessage.channel == "email")).all()
        assert len(moved) == 1
        assert "moved to Wed, Jul 15, 2026, 11:00 AM EDT" in moved[0].body
        assert "it was Wed, Jul 15, 2026, 10:00 AM EDT" in moved[0].body
        from medspa.domain.messaging.attachments import attachments_of
        invite = attachments_of(s, moved[0].id)[0].content.decode()
        sequence = int(invite.split("SEQUENCE:")[1].split("\r\n")[0])
        assert sequence == s.get(Appointment, appt.id).ical_sequence >= 1  # above the confirmation's 0
        assert "DTSTART:20260715T150000Z" in invite


def test_a_status_that_cannot_move_and_roles_that_may_not(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt = _book(clinic, "botox", ny(DAY, 10))
    with pytest.raises(PermissionDenied):
        do_move_visit(Actor(org_id=clinic.org_id, role="lab", user_id=None), appt, start_at=ny(DAY, 11),
                      clock=CLOCK, engine=engine)
    do_cancel_visit(clinic.staff_actor(), appt, "illness", clock=CLOCK, engine=engine)
    with pytest.raises(InvalidTransition):
        _move(clinic, appt, ny(DAY, 11))
    with pytest.raises(ValidationFailed):
        _move(clinic, appt, datetime(2026, 7, 15, 11))  # naive


def test_two_moves_racing_for_one_time_never_both_win(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    a = _book(clinic, "botox", ny(DAY, 9))
    b = _book(clinic, "botox", ny(DAY, 10))
    barrier, results = threading.Barrier(2), {}

    def go(appt_id: int) -> None:
        barrier.wait()
        try:
            _move(clinic, appt_id, ny(DAY, 14))
            results[appt_id] = "moved"
        except MoveRefused as exc:
            results[appt_id] = exc.reason

    threads = [threading.Thread(target=go, args=(x,)) for x in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results.values()).count("moved") == 1
    with clinic.session() as s:
        starts = sorted(s.get(Appointment, x).start_at for x in (a, b))
    assert ny(DAY, 14) in starts and len(set(starts)) == 2


def test_the_edit_options_show_the_visit_as_it_is(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt = _book(clinic, "facial", ny(DAY, 10))
    options = fetch_edit_options(clinic.staff_actor(), appt, clock=CLOCK, engine=engine)
    assert (options.day, options.start_local, options.room_id) == (DAY, "10:00", clinic.room_ids[0])
    assert {r.name for r in options.rooms} == {"Room 1", "GentleMax"}
    assert {s.id for s in options.services} >= set(clinic.services.values())


# ----------------------------------------------------------------------------- the client's move


def _client_move(clinic, appt: Appointment, start: datetime, now: datetime, token: str | None = None):
    with clinic.session() as s:
        moved = move_visit(s, clinic.public, appt.id, VisitChange(start_at=start), now=now, online=True,
                           token=appt.booking_token if token is None else token)
        s.commit()
        return moved.appointment.id, moved.late, moved.counted_as_late_cancel, moved.refund_ids


def test_a_client_moves_with_the_manage_token_on_the_booking_grid(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt = _paid(engine, clinic, ny(DAY, 10))
    with pytest.raises(NotFound):  # the display code is no token
        _client_move(clinic, appt, ny(DAY, 11), NOW, token=appt.display_code)
    with pytest.raises(MoveRefused, match="not free any more"):  # off the 15-minute grid of the page
        _client_move(clinic, appt, ny(DAY, 11, 5), NOW)
    assert _client_move(clinic, appt, ny(DAY, 11), NOW) == (appt.id, False, False, ())
    assert _client_move(clinic, appt, ny(DAY, 11), NOW) == (appt.id, False, False, ())  # the same link again
    with clinic.session() as s:
        live = s.exec(select(Appointment).where(Appointment.status == AppointmentStatus.CONFIRMED)).all()
        assert [(a.id, a.start_at) for a in live] == [(appt.id, ny(DAY, 11))]


def test_a_late_move_is_free_once_then_counts_as_a_late_cancellation(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt = _paid(engine, clinic, ny(DAY, 10))
    late_now = ny(DAY, 10) - timedelta(hours=5)
    with clinic.session() as s:
        terms = reschedule_terms(s, s.get(Appointment, appt.id), late_now)
    assert (terms.late, terms.counts_as_late_cancel) == (True, False)
    assert "once without a fee" in terms.sentence
    assert _client_move(clinic, appt, ny(DAY, 15), late_now) == (appt.id, True, False, ())
    with clinic.session() as s:
        terms = reschedule_terms(s, s.get(Appointment, appt.id), late_now)
    assert terms.counts_as_late_cancel and "$50.00 deposit is kept" in terms.sentence
    new_id, late, counted, refunds = _client_move(clinic, appt, ny(DAY, 16), late_now)
    assert (late, counted, refunds) == (True, True, ())
    with clinic.session() as s:
        old, new = s.get(Appointment, appt.id), s.get(Appointment, new_id)
        assert (old.status, old.cancellation_late, old.cancellation_keeps_deposit, old.cancelled_by) == (
            "cancelled", True, True, "client")
        assert (new.status, new.start_at, new.deposit_cents, new.booking_token) == (
            "confirmed", ny(DAY, 16), 0, appt.booking_token)  # the manage link follows the live visit
        assert old.booking_token != appt.booking_token


def test_a_location_can_count_every_late_move_as_a_late_cancellation(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, late_keeps_deposit=False)
    with clinic.session() as s:
        s.execute(update(Location).values(late_reschedule_is_late_cancel=True))
        s.commit()
    appt = _paid(engine, clinic, ny(DAY, 10))
    late_now = ny(DAY, 10) - timedelta(hours=2)
    with clinic.session() as s:
        assert "your deposit is refunded" in reschedule_terms(s, s.get(Appointment, appt.id), late_now).sentence
    new_id, late, counted, refunds = _client_move(clinic, appt, ny(DAY, 15), late_now)
    assert (late, counted, len(refunds)) == (True, True, 1)  # the rule refunds late cancellations
    assert new_id != appt.id


def test_a_cancellation_records_who_and_why(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt = _book(clinic, "botox", ny(DAY, 10))
    other = _book(clinic, "botox", ny(DAY, 11))
    with pytest.raises(ValidationFailed) as missing:
        do_cancel_visit(clinic.staff_actor(), appt, "other", clock=CLOCK, engine=engine)
    assert "note" in missing.value.fields
    with pytest.raises(ValidationFailed) as unknown:
        do_cancel_visit(clinic.staff_actor(), appt, "bored", clock=CLOCK, engine=engine)
    assert "reason" in unknown.value.fields
    desk = Actor(org_id=clinic.org_id, role="front_desk", user_id=None, label="desk")
    do_cancel_visit(desk, appt, "other", note=" Flight delayed ", clock=CLOCK, engine=engine)
    do_cancel_visit(desk, other, "weather", clock=CLOCK, engine=engine)
    with clinic.session() as s:
        rows = [(a.cancellation_reason, a.cancellation_note, a.cancelled_by, a.cancelled_at)
                for a in (s.get(Appointment, appt), s.get(Appointment, other))]
    assert rows == [("other", "Flight delayed", "staff", NOW), ("weather", "", "staff", NOW)]
    assert _audit(clinic, "appointment.cancel")[0]["reason"] == "other"
    with clinic.session() as s:  # the calendar's panel says it
        assert appointment_detail(s, desk, appt, now=NOW).cancel_reason == "Other: Flight delayed (by the clinic)"
        assert appointment_detail(s, desk, other, now=NOW).cancel_reason == "Weather (by the clinic)"


def test_a_move_respects_setup_buffers_blocks_time_off_and_closures(engine, owner_engine):
    """ACCEPTANCE CF-2 (b) for a move: a 60-min service with a 15-min setup buffer cannot start at
    11:00 after a block ending at 11:00 (its setup would start at 10:45); 11:15 is fine. Time
    off and a closed day are refused with their reason."""
    from medspa.domain.catalog.service import add_service
    from medspa.domain.practice.hours import TimeOffInput
    from medspa.domain.practice.location_actions import do_add_closure
    from medspa.domain.practice.settings_actions import do_add_time_off
    from medspa.domain.scheduling.service import add_block

    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        peel = add_service(s, clinic.system, category="Peels", name="Peel", duration_minutes=60, price_cents=9000,
                           buffer_before_minutes=15, provider_ids=clinic.provider_ids)
        add_block(s, clinic.staff_actor(), staff_id=clinic.provider_ids[0], start_at=ny(DAY, 10), end_at=ny(DAY, 11),
                  note="Team meeting", now=NOW)
        s.commit()
        clinic.services["peel"] = peel.id
    appt = _book(clinic, "peel", ny(DAY, 14))
    with pytest.raises(MoveRefused, match="busy then"):
        _move(clinic, appt, ny(DAY, 11))
    _move(clinic, appt, ny(DAY, 11, 15))
    owner = clinic.staff_actor("owner")
    do_add_time_off(owner, TimeOffInput(clinic.provider_ids[0], "off", ny(DAY, 15), ny(DAY, 17), reason="Dentist"),
                    engine=engine)
    with pytest.raises(MoveRefused, match="Outside Provider 1's hours"):
        _move(clinic, appt, ny(DAY, 15, 30))
    do_add_closure(owner, clinic.location_id, DAY + timedelta(days=1), DAY + timedelta(days=1), "Holiday",
                   engine=engine)
    with pytest.raises(MoveRefused, match="Main is closed that day"):
        _move(clinic, appt, ny(DAY + timedelta(days=1), 12))
    with clinic.session() as s:
        assert s.get(Appointment, appt).start_at == ny(DAY, 11, 15)


def test_a_move_on_the_fall_back_day_keeps_the_instant_the_desk_chose(engine, owner_engine):
    """ACCEPTANCE TZ-1 for a move: on 2026-11-01 America/Chicago 01:30 happens twice; moving to
    the second one (CST, 07:30Z) lands there, not on the first (CDT, 06:30Z)."""
    clinic = build_clinic(engine, owner_engine, time_zone="America/Chicago",
                          weekly={d: [(time(0), time(6))] for d in range(7)})
    fall_back = date(2026, 11, 1)
    appt = _book(clinic, "botox", utc(2026, 11, 1, 10))  # 04:00 CST
    second = utc(2026, 11, 1, 7, 30)
    assert second.astimezone(ZoneInfo("America/Chicago")).strftime("%H:%M %Z") == "01:30 CST"
    _move(clinic, appt, second)
    with clinic.session() as s:
        assert s.get(Appointment, appt).start_at == second
    assert fall_back == second.astimezone(ZoneInfo("America/Chicago")).date()


def test_a_changed_room_replaces_the_old_one_everywhere(engine, owner_engine):
    """New-user trial: after Edit → another room, the panel said "Room 1, Room 2" and the rooms
    view drew the visit in both columns (the old rows were kept, released). A move keeps one
    row per resource, updated in place."""
    from medspa.domain.practice.service import add_resource
    from medspa.domain.scheduling.calendar import calendar_day

    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        room2 = add_resource(s, clinic.system, clinic.location_id, "room", "Room 2", "treatment_room").id
        s.commit()
    appt = _book(clinic, "facial", ny(DAY, 10))
    detail = do_edit_visit(clinic.staff_actor(), appt, VisitChange(start_at=ny(DAY, 10), room_id=room2), clock=CLOCK,
                           engine=engine)
    assert detail.resources == ["Room 2"]
    detail = _move(clinic, appt, ny(DAY, 13))  # and a later move keeps Room 2
    assert detail.resources == ["Room 2"]
    with clinic.session() as s:
        rows = s.exec(select(Occupancy).where(Occupancy.appointment_id == appt)).all()
        assert sorted((o.resource_id, o.status) for o in rows) == sorted(
            [(_provider_resource(clinic, 0), "booked"), (room2, "booked")])
        rooms_view = calendar_day(s, clinic.staff_actor(), location_id=clinic.location_id, day=DAY, view="rooms",
                                  now=NOW)
    assert [(b.column_id, b.appointment_id) for b in rooms_view.blocks if b.appointment_id == appt] == [(room2, appt)]
    # a service that needs no room gives the room back
    detail = do_edit_visit(clinic.staff_actor(), appt, VisitChange(start_at=ny(DAY, 13),
                                                                   service_id=clinic.services["botox"]),
                           clock=CLOCK, engine=engine)
    assert detail.resources == []
