"""Recurring series (issue 16, section 2): expansion across daylight-saving changes in both
hemispheres and just after midnight, monthly rules, count vs until, the conflict preview,
booking, cancel one / all future, edit this-and-following, deposit rule, checkout of one
occurrence. Real PostgreSQL (tests/conftest.py); the clock is injected."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.service import ClientInput, create_client
from medspa.domain.errors import ValidationFailed
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.checkout import checkout_visit
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.actions.desk import do_book_for_client, do_change_status
from medspa.domain.scheduling.actions.series import (do_book_series, do_cancel_in_series, do_move_in_series,
                                                     do_plan_series, fetch_series_info)
from medspa.domain.scheduling.models import Appointment, AppointmentSeries, AppointmentStatus
from medspa.domain.scheduling.reschedule import MoveRefused
from medspa.domain.scheduling.series import MAX_OCCURRENCES, Recurrence, expand, occurrences_of, rule_text
from tests.factories import build_clinic

NY = "America/New_York"
SYD = "Australia/Sydney"
ALL_DAY = {d: [(time(0), time(23, 30))] for d in range(7)}


def at(tz: str, *args: int) -> datetime:
    """A local wall time in `tz` as an aware datetime."""
    return datetime(*args, tzinfo=ZoneInfo(tz))


def new_client(clinic, first: str = "Mia") -> int:
    with clinic.session() as s:
        c = create_client(s, clinic.staff_actor(), ClientInput(first, "Reyes", f"{first.lower()}@example.com", ""))
        s.commit()
        return c.id


def book_all(clinic, client_id: int, rec: Recurrence, first: datetime, now: datetime, service: str = "botox"):
    """Plan and book every free occurrence at its own time; returns (plan, booked)."""
    clock = FixedClock(now)
    kw = dict(location_id=clinic.location_id, service_id=clinic.services[service],
              provider_id=clinic.provider_ids[0], client_id=client_id, recurrence=rec, first_start=first)
    plan = do_plan_series(clinic.staff_actor(), clock=clock, engine=clinic.engine, **kw)
    picks = {c.index: c.start_at for c in plan.checks if c.free}
    booked = do_book_series(clinic.staff_actor(), picks=picks, clock=clock, engine=clinic.engine, **kw)
    return plan, booked


def visits(clinic, series_ids) -> list[Appointment]:
    with clinic.session() as s:
        return list(s.exec(select(Appointment).where(Appointment.series_id.in_(series_ids))
                           .order_by(Appointment.start_at)))


# ---- expansion: wall-clock kept across daylight saving ------------------------------------

@pytest.mark.parametrize("tz, first, count, changes", [
    # New York: spring forward Mar 8 2026, fall back Nov 1 2026
    (NY, (2026, 2, 24, 10, 0), 37, ((2026, 3, 8), (2026, 11, 1))),
    # Sydney: daylight saving ends Apr 5 2026, starts Oct 4 2026
    (SYD, (2026, 3, 31, 10, 0), 28, ((2026, 4, 5), (2026, 10, 4))),
])
def test_weekly_series_keeps_its_wall_clock_across_both_changes(engine, owner_engine, tz, first, count, changes):
    clinic = build_clinic(engine, owner_engine, time_zone=tz)
    client = new_client(clinic)
    rec = Recurrence("weekly", 1, count=count)
    plan, booked = book_all(clinic, client, rec, at(tz, *first), now=at(tz, 2026, 2, 1, 8))
    assert all(c.free for c in plan.checks) and len(booked.booked) == count and booked.lost == ()
    rows = visits(clinic, [booked.series_id])
    locals_ = [r.start_at.astimezone(ZoneInfo(tz)) for r in rows]
    assert {(d.hour, d.minute, d.weekday()) for d in locals_} == {(10, 0, 1)}  # every one Tuesday 10:00
    assert [d.date() for d in locals_] == [date(*first[:3]) + timedelta(weeks=i) for i in range(count)]
    offsets = {d.utcoffset() for d in locals_}
    assert len(offsets) == 2  # the UTC instant moved with the offset, the wall clock did not
    first_after = [next(d for d in locals_ if d.date() > date(*c)) for c in changes]
    before = [next(d for d in reversed(locals_) if d.date() < date(*c)) for c in changes]
    assert all(a.utcoffset() != b.utcoffset() for a, b in zip(first_after, before))


@pytest.mark.parametrize("tz, first", [(NY, (2026, 3, 1, 0, 30)), (SYD, (2026, 3, 29, 0, 30)),
                                       (SYD, (2026, 9, 27, 0, 30)), (NY, (2026, 10, 25, 0, 30))])
def test_half_past_midnight_stays_on_its_own_date(engine, owner_engine, tz, first):
    """00:30 on the Sundays around each change (the change itself happens at 02:00/03:00 that
    night): the visit stays at 00:30 on its own Sunday, never slides to Saturday night."""
    clinic = build_clinic(engine, owner_engine, time_zone=tz, weekly=ALL_DAY)
    client = new_client(clinic)
    _, booked = book_all(clinic, client, Recurrence("weekly", 1, count=3), at(tz, *first),
                         now=at(tz, 2026, 2, 1, 8))
    rows = visits(clinic, [booked.series_id])
    locals_ = [r.start_at.astimezone(ZoneInfo(tz)) for r in rows]
    assert [(d.date(), d.hour, d.minute) for d in locals_] == [
        (date(*first[:3]) + timedelta(weeks=i), 0, 30) for i in range(3)]
    assert all(d.weekday() == 6 for d in locals_)


@pytest.mark.parametrize("tz, gap_day, utc_hour", [(NY, (2026, 3, 8), 7), (SYD, (2026, 10, 4), 16)])
def test_time_in_the_spring_forward_gap_is_shifted_by_the_gap_and_flagged(tz, gap_day, utc_hour):
    """02:30 does not exist on the spring-forward day: read with the offset before the gap
    (RFC 5545 3.3.5), i.e. 03:30 local, flagged; the weeks around it stay at 02:30."""
    start = datetime.combine(date(*gap_day) - timedelta(weeks=1), time(2, 30))
    occ = expand("FREQ=WEEKLY;COUNT=3", start, tz)
    assert [o.shifted for o in occ] == [False, True, False]
    gap = occ[1].start_at
    assert gap.astimezone(ZoneInfo(tz)).replace(tzinfo=None) == datetime.combine(date(*gap_day), time(3, 30))
    assert gap.hour == utc_hour  # NY: 02:30 EST = 07:30 UTC; Sydney: 02:30 AEST = 16:30 UTC the day before
    assert [o.start_at.astimezone(ZoneInfo(tz)).hour for o in (occ[0], occ[2])] == [2, 2]


def test_gap_is_named_in_the_preview(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, weekly=ALL_DAY)
    client = new_client(clinic)
    plan = do_plan_series(clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                          provider_id=clinic.provider_ids[0], client_id=client,
                          recurrence=Recurrence("weekly", 1, count=2), first_start=at(NY, 2026, 3, 1, 2, 30),
                          clock=FixedClock(at(NY, 2026, 2, 1, 8)), engine=clinic.engine)
    assert plan.checks[0].note == ""
    assert plan.checks[1].note == "02:30 does not exist that day (the clocks go forward): 3:30 AM"
    assert plan.checks[1].free


@settings(max_examples=200, deadline=None)
@given(zone=st.sampled_from([NY, SYD, "Europe/London", "America/Santiago", "Australia/Lord_Howe"]),
       first=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
       hour=st.integers(0, 23), minute=st.sampled_from([0, 15, 30, 45]),
       freq=st.sampled_from(["weekly", "monthly_date", "monthly_weekday"]), interval=st.integers(1, 4),
       count=st.integers(2, 20))
def test_every_occurrence_keeps_the_wall_clock_unless_it_does_not_exist(zone, first, hour, minute, freq, interval,
                                                                         count):
    """Property: each occurrence starts at the first one's local time on its own date, except a
    time that does not exist that day, which is flagged and shifted forward by less than a day;
    weekly dates keep the weekday and step by interval weeks."""
    start = datetime.combine(first, time(hour, minute), tzinfo=ZoneInfo(zone))
    _, _, occ = occurrences_of(Recurrence(freq, interval, count=count), start, zone)
    assert [o.index for o in occ] == list(range(len(occ))) and 1 <= len(occ) <= count
    for o in occ:
        local = o.start_at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        assert o.wanted.time() == time(hour, minute)
        if o.shifted:
            assert timedelta(0) < local - o.wanted <= timedelta(hours=1)
        else:
            assert local == o.wanted
    if freq == "weekly":
        assert [o.wanted.date() for o in occ] == [first + timedelta(weeks=interval * i) for i in range(count)]


# ---- monthly rules, count vs until ----------------------------------------------------------

def test_monthly_on_the_31st_skips_months_without_one():
    """Chosen: RFC 5545 (invalid dates are ignored), so 6 visits on the 31st span a year."""
    text, _, occ = occurrences_of(Recurrence("monthly_date", 1, count=6), at(NY, 2026, 1, 31, 10), NY)
    assert text == "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=6"
    assert [o.wanted.date() for o in occ] == [date(2026, 1, 31), date(2026, 3, 31), date(2026, 5, 31),
                                            date(2026, 7, 31), date(2026, 8, 31), date(2026, 10, 31)]


def test_monthly_on_the_second_tuesday_and_the_last():
    text, _, occ = occurrences_of(Recurrence("monthly_weekday", 1, count=4), at(NY, 2026, 3, 10, 15), NY)
    assert text == "FREQ=MONTHLY;BYSETPOS=2;BYDAY=TU;COUNT=4"
    assert [o.wanted for o in occ] == [datetime(2026, 3, 10, 15), datetime(2026, 4, 14, 15),
                                       datetime(2026, 5, 12, 15), datetime(2026, 6, 9, 15)]
    # Mar 31 2026 is the fifth Tuesday: "the last Tuesday" of each month
    _, _, last = occurrences_of(Recurrence("monthly_weekday", 1, count=3), at(NY, 2026, 3, 31, 15), NY)
    assert [o.wanted.date() for o in last] == [date(2026, 3, 31), date(2026, 4, 28), date(2026, 5, 26)]


def test_count_and_until_and_their_limits():
    _, _, by_count = occurrences_of(Recurrence("weekly", 2, count=4), at(NY, 2026, 3, 3, 9), NY)
    _, _, by_until = occurrences_of(Recurrence("weekly", 2, until=date(2026, 4, 14)), at(NY, 2026, 3, 3, 9), NY)
    assert [o.wanted.date() for o in by_count] == [date(2026, 3, 3), date(2026, 3, 17), date(2026, 3, 31),
                                                 date(2026, 4, 14)]
    assert [o.wanted for o in by_until] == [o.wanted for o in by_count]  # UNTIL is inclusive of its day
    assert rule_text(Recurrence("weekly", 2, until=date(2026, 4, 14)), date(2026, 3, 3)) == \
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20260414T235959"
    with pytest.raises(ValidationFailed) as exc:
        occurrences_of(Recurrence("weekly", 1, count=MAX_OCCURRENCES + 1), at(NY, 2026, 3, 3, 9), NY)
    assert exc.value.fields == {"count": "A series has 2 to 52 visits"}
    with pytest.raises(ValidationFailed) as exc:
        occurrences_of(Recurrence("weekly", 1, until=date(2027, 6, 1)), at(NY, 2026, 3, 3, 9), NY)
    assert "more than 52 visits" in exc.value.fields["until"]
    with pytest.raises(ValidationFailed) as exc:
        occurrences_of(Recurrence("weekly", 1, count=3, until=date(2026, 6, 1)), at(NY, 2026, 3, 3, 9), NY)
    assert "count" in exc.value.fields
    with pytest.raises(ValidationFailed):
        occurrences_of(Recurrence("weekly", 0, count=3), at(NY, 2026, 3, 3, 9), NY)


# ---- conflicts before saving, booking, races -------------------------------------------------

def test_conflicts_are_listed_before_saving_then_free_ones_booked_and_another_time_picked(clinic):
    client, other = new_client(clinic), new_client(clinic, "Noa")
    now = at(NY, 2026, 3, 1, 8)
    clock = FixedClock(now)
    # the provider is busy on the second Tuesday at 10:00; the client has a visit on the third
    do_book_for_client(clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                       provider_id=clinic.provider_ids[0], start_at=at(NY, 2026, 3, 10, 10), client_id=other,
                       new_client=None, clock=clock, engine=clinic.engine)
    do_book_for_client(clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["laser"],
                       provider_id=None, start_at=at(NY, 2026, 3, 17, 10), client_id=client, new_client=None,
                       clock=clock, engine=clinic.engine)
    kw = dict(location_id=clinic.location_id, service_id=clinic.services["botox"], provider_id=clinic.provider_ids[0],
              client_id=client, recurrence=Recurrence("weekly", 1, count=4), first_start=at(NY, 2026, 3, 3, 10))
    plan = do_plan_series(clinic.staff_actor(), clock=clock, engine=clinic.engine, **kw)
    assert [(c.free, c.reason) for c in plan.checks] == [
        (True, ""), (False, "Provider 1 is busy then (another visit or time blocked)"),
        (False, "The client already has a visit then"), (True, "")]
    assert plan.deposits == (5000, 0, 0, 0)  # first visit only (the location's default)
    assert at(NY, 2026, 3, 10, 11) in plan.checks[1].alternatives
    with clinic.session() as s:
        assert s.exec(select(AppointmentSeries)).all() == []  # the preview saved nothing
    picks = {0: plan.checks[0].start_at, 1: at(NY, 2026, 3, 10, 11), 3: plan.checks[3].start_at}  # 2 skipped
    booked = do_book_series(clinic.staff_actor(), picks=picks, clock=clock, engine=clinic.engine, **kw)
    assert [i for i, _ in booked.booked] == [0, 1, 3] and booked.lost == ()
    rows = visits(clinic, [booked.series_id])
    assert [(r.series_index, r.start_at.astimezone(ZoneInfo(NY)).strftime("%m-%d %H:%M"), r.status) for r in rows] == [
        (0, "03-03 10:00", "confirmed"), (1, "03-10 11:00", "confirmed"), (3, "03-24 10:00", "confirmed")]
    with clinic.session() as s:
        series = s.get(AppointmentSeries, booked.series_id)
        assert (series.rrule, series.dtstart_local, series.time_zone) == (
            "FREQ=WEEKLY;BYDAY=TU;COUNT=4", datetime(2026, 3, 3, 10), NY)
        audit = s.exec(select(AuditEvent).where(AuditEvent.action == "series.book")).one()
        assert (audit.detail["booked"], audit.detail["lost"]) == ([0, 1, 3], [])
        assert len(s.exec(select(AuditEvent).where(AuditEvent.action == "appointment.confirm",
                                                   AuditEvent.object_id.in_([str(r.id) for r in rows]))).all()) == 3
        sent = s.exec(select(OutboxMessage).where(OutboxMessage.client_id == client).order_by(OutboxMessage.id)).all()
        assert [m.kind for m in sent] == ["booking_confirmation", "series_confirmation"]  # the laser visit; ONE for 3
        mail = sent[1]
        assert (mail.kind, mail.channel) == ("series_confirmation", "email")
        assert mail.subject == "Confirmed: Botox, 3 visits from Tue, Mar 3, 2026, 10:00 AM EST (America/New_York)"
        assert "confirmed: 3 visits (Weekly on Tuesday):\n- Tue, Mar 3, 2026, 10:00 AM EST (America/New_York) · ref" in mail.body
        assert "- Tue, Mar 10, 2026, 11:00 AM EDT (America/New_York) · ref" in mail.body
        assert "Deposit due: $50.00" in mail.body and mail.body.count("\n- ") == 3


def test_an_occurrence_lost_to_another_booking_is_reported_not_a_crash(clinic):
    client, other = new_client(clinic), new_client(clinic, "Noa")
    clock = FixedClock(at(NY, 2026, 3, 1, 8))
    kw = dict(location_id=clinic.location_id, service_id=clinic.services["botox"], provider_id=clinic.provider_ids[0],
              client_id=client, recurrence=Recurrence("weekly", 1, count=3), first_start=at(NY, 2026, 3, 3, 10))
    plan = do_plan_series(clinic.staff_actor(), clock=clock, engine=clinic.engine, **kw)
    assert all(c.free for c in plan.checks)
    # another desk books the second date between the preview and the save
    do_book_for_client(clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                       provider_id=clinic.provider_ids[0], start_at=plan.checks[1].start_at, client_id=other,
                       new_client=None, clock=clock, engine=clinic.engine)
    booked = do_book_series(clinic.staff_actor(), picks={c.index: c.start_at for c in plan.checks}, clock=clock,
                            engine=clinic.engine, **kw)
    assert [i for i, _ in booked.booked] == [0, 2]
    assert booked.lost == ((1, "Taken meanwhile by another booking"),)
    # nothing at all bookable: nothing saved
    with pytest.raises(ValidationFailed) as exc:
        do_book_series(clinic.staff_actor(), picks={1: plan.checks[1].start_at}, clock=clock, engine=clinic.engine,
                       **kw)
    assert "series" in exc.value.fields
    with clinic.session() as s:
        assert len(s.exec(select(AppointmentSeries)).all()) == 1
    with pytest.raises(ValidationFailed) as exc:  # another time must be the same day
        do_book_series(clinic.staff_actor(), picks={2: at(NY, 2026, 3, 18, 10)}, clock=clock, engine=clinic.engine,
                       **kw)
    assert exc.value.fields == {"picks": "Another time must be on the same day"}


def test_deposit_for_each_visit_when_the_location_says_so(clinic):
    with clinic.session() as s:
        loc = s.get(Location, clinic.location_id)
        loc.series_deposit_each_visit = True
        s.add(loc)
        s.commit()
    plan = do_plan_series(clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                          provider_id=clinic.provider_ids[0], client_id=new_client(clinic),
                          recurrence=Recurrence("weekly", 1, count=3), first_start=at(NY, 2026, 3, 3, 10),
                          clock=FixedClock(at(NY, 2026, 3, 1, 8)), engine=clinic.engine)
    assert plan.deposits == (5000, 5000, 5000)


# ---- changing a series ---------------------------------------------------------------------

def _series(clinic, count: int = 5, now=None):
    client = new_client(clinic)
    _, booked = book_all(clinic, client, Recurrence("weekly", 1, count=count), at(NY, 2026, 3, 3, 10),
                         now=now or at(NY, 2026, 3, 1, 8))
    return booked, [a for _, a in booked.booked]


def test_cancel_one_occurrence(clinic):
    booked, ids = _series(clinic)
    clock = FixedClock(at(NY, 2026, 3, 1, 9))
    done = do_cancel_in_series(clinic.staff_actor(), ids[2], "one", "illness", clock=clock, engine=clinic.engine)
    assert done.cancelled == 1
    rows = visits(clinic, [booked.series_id])
    assert [r.status for r in rows] == ["confirmed", "confirmed", "cancelled", "confirmed", "confirmed"]
    assert rows[2].cancellation_reason == "illness"
    info = fetch_series_info(clinic.staff_actor(), ids[3], clock=clock, engine=clinic.engine)
    assert (info.label, info.ahead, info.movable) == ("Visit 4 of 5 · Weekly at 10:00 AM", 4, True)


def test_cancel_all_future_leaves_past_and_checked_in_visits(clinic):
    booked, ids = _series(clinic)
    # two weeks later: the first visit is done, the second is checked in today
    clock = FixedClock(at(NY, 2026, 3, 10, 9, 50))
    do_change_status(clinic.staff_actor(), ids[0], "check_in", clock=FixedClock(at(NY, 2026, 3, 3, 9, 55)),
                     engine=clinic.engine)
    do_change_status(clinic.staff_actor(), ids[1], "check_in", clock=clock, engine=clinic.engine)
    done = do_cancel_in_series(clinic.staff_actor(), ids[1], "all", "clinic", clock=clock, engine=clinic.engine)
    assert done.cancelled == 3
    rows = visits(clinic, [booked.series_id])
    assert [r.status for r in rows] == ["checked_in", "checked_in", "cancelled", "cancelled", "cancelled"]
    with pytest.raises(ValidationFailed) as exc:
        do_cancel_in_series(clinic.staff_actor(), ids[1], "all", "clinic", clock=clock, engine=clinic.engine)
    assert exc.value.fields == {"scope": "No visit of this series is left to cancel"}


def test_cancel_this_and_following_ends_the_rule(clinic):
    booked, ids = _series(clinic)
    clock = FixedClock(at(NY, 2026, 3, 1, 9))
    done = do_cancel_in_series(clinic.staff_actor(), ids[3], "following", "client_request", clock=clock,
                               engine=clinic.engine)
    assert done.cancelled == 2
    assert [r.status for r in visits(clinic, [booked.series_id])] == ["confirmed"] * 3 + ["cancelled"] * 2
    with clinic.session() as s:
        assert s.get(AppointmentSeries, booked.series_id).rrule == "FREQ=WEEKLY;UNTIL=20260323T235959;BYDAY=TU"


def test_edit_this_and_following_splits_the_series(clinic):
    booked, ids = _series(clinic, count=6)
    clock = FixedClock(at(NY, 2026, 3, 1, 9))
    moved = do_move_in_series(clinic.staff_actor(), ids[2], "following", wall=time(14, 30), clock=clock,
                              engine=clinic.engine)
    assert moved.appointment_ids == tuple(ids[2:]) and moved.series_id != booked.series_id
    rows = visits(clinic, [booked.series_id, moved.series_id])
    assert [(r.series_id == moved.series_id, r.series_index,
             r.start_at.astimezone(ZoneInfo(NY)).strftime("%m-%d %H:%M")) for r in rows] == [
        (False, 0, "03-03 10:00"), (False, 1, "03-10 10:00"), (True, 0, "03-17 14:30"), (True, 1, "03-24 14:30"),
        (True, 2, "03-31 14:30"), (True, 3, "04-07 14:30")]  # Mar 8 spring-forward in between: wall clock kept
    with clinic.session() as s:
        old, new = s.get(AppointmentSeries, booked.series_id), s.get(AppointmentSeries, moved.series_id)
        assert old.rrule == "FREQ=WEEKLY;UNTIL=20260316T235959;BYDAY=TU"
        assert (new.rrule, new.dtstart_local, new.split_from_id) == (
            "FREQ=WEEKLY;COUNT=4;BYDAY=TU", datetime(2026, 3, 17, 14, 30), old.id)
    assert [o.wanted for o in expand(new.rrule, new.dtstart_local, NY)] == [
        datetime(2026, 3, 17, 14, 30) + timedelta(weeks=i) for i in range(4)]
    info = fetch_series_info(clinic.staff_actor(), ids[3], clock=clock, engine=clinic.engine)
    assert info.label == "Visit 4 of 6 · Weekly at 2:30 PM"


def test_cancel_all_from_a_visit_of_the_split_part_cancels_every_visit_ahead(clinic):
    """Breaker defect 6: after "this and following" moved from visit 3 (a split series), "all"
    from visit 5 cancels every visit of the whole chain still ahead, visits 1-2 included."""
    booked, ids = _series(clinic, count=6)
    clock = FixedClock(at(NY, 2026, 3, 1, 9))
    do_move_in_series(clinic.staff_actor(), ids[2], "following", wall=time(14, 30), clock=clock, engine=clinic.engine)
    info = fetch_series_info(clinic.staff_actor(), ids[4], clock=clock, engine=clinic.engine)
    assert (info.label, info.ahead) == ("Visit 5 of 6 · Weekly at 2:30 PM", 6)
    done = do_cancel_in_series(clinic.staff_actor(), ids[4], "all", "client_request", clock=clock,
                               engine=clinic.engine)
    assert done.cancelled == 6
    with clinic.session() as s:
        assert [s.get(Appointment, i).status for i in ids] == ["cancelled"] * 6


def test_following_from_the_first_part_reaches_the_split_part(clinic):
    """"this and following" from visit 2 after a split at visit 3 cancels visits 2-6 (both parts)."""
    booked, ids = _series(clinic, count=6)
    clock = FixedClock(at(NY, 2026, 3, 1, 9))
    do_move_in_series(clinic.staff_actor(), ids[2], "following", wall=time(14, 30), clock=clock, engine=clinic.engine)
    done = do_cancel_in_series(clinic.staff_actor(), ids[1], "following", "client_request", clock=clock,
                               engine=clinic.engine)
    assert done.cancelled == 5
    with clinic.session() as s:
        assert [s.get(Appointment, i).status for i in ids] == ["confirmed"] + ["cancelled"] * 5


def _rules(clinic, ids) -> list[tuple[str, datetime, int | None]]:
    """(rrule, dtstart_local, series_index) of each visit's series, in the order of `ids`."""
    with clinic.session() as s:
        out = []
        for i in ids:
            a = s.get(Appointment, i)
            series = s.get(AppointmentSeries, a.series_id)
            out.append((series.rrule, series.dtstart_local, a.series_index))
        return out


def test_move_all_from_the_first_part_keeps_each_series_rule_right(clinic):
    """Breaker defect 10: "all" from visit 1 after a split at visit 3 moves every visit to 11:00
    and each series of the chain (the split one too) now says 11:00."""
    booked, ids = _series(clinic, count=6)
    clock = FixedClock(at(NY, 2026, 3, 1, 9))
    split = do_move_in_series(clinic.staff_actor(), ids[2], "following", wall=time(14, 30), clock=clock,
                              engine=clinic.engine)
    do_move_in_series(clinic.staff_actor(), ids[0], "all", wall=time(11, 0), clock=clock, engine=clinic.engine)
    rows = visits(clinic, [booked.series_id, split.series_id])
    assert [r.start_at.astimezone(ZoneInfo(NY)).strftime("%H:%M") for r in rows] == ["11:00"] * 6
    assert [fetch_series_info(clinic.staff_actor(), i, clock=clock, engine=clinic.engine).label for i in ids] == [
        f"Visit {n} of 6 · Weekly at 11:00 AM" for n in range(1, 7)]
    assert _rules(clinic, ids) == [("FREQ=WEEKLY;UNTIL=20260316T235959;BYDAY=TU", datetime(2026, 3, 3, 11), 0),
                                   ("FREQ=WEEKLY;UNTIL=20260316T235959;BYDAY=TU", datetime(2026, 3, 3, 11), 1)] + [
        ("FREQ=WEEKLY;COUNT=4;BYDAY=TU", datetime(2026, 3, 17, 11), n) for n in range(4)]
    for series_id in (booked.series_id, split.series_id):  # each rule gives its own visits' times
        with clinic.session() as s:
            series = s.get(AppointmentSeries, series_id)
        assert [o.start_at for o in expand(series.rrule, series.dtstart_local, NY)] == [
            r.start_at for r in rows if r.series_id == series_id]


def test_move_following_from_the_first_part_splits_it_and_moves_the_split_part(clinic):
    """"this and following" from visit 2 after a split at visit 3: visit 2 starts a new series
    (split from the first), the split part keeps its visits and numbering at the new time."""
    booked, ids = _series(clinic, count=6)
    clock = FixedClock(at(NY, 2026, 3, 1, 9))
    split = do_move_in_series(clinic.staff_actor(), ids[2], "following", wall=time(14, 30), clock=clock,
                              engine=clinic.engine)
    moved = do_move_in_series(clinic.staff_actor(), ids[1], "following", wall=time(12, 0), clock=clock,
                              engine=clinic.engine)
    assert moved.appointment_ids == tuple(ids[1:]) and moved.series_id not in (booked.series_id, split.series_id)
    rows = visits(clinic, [booked.series_id, split.series_id, moved.series_id])
    assert [(r.series_id, r.series_index, r.start_at.astimezone(ZoneInfo(NY)).strftime("%m-%d %H:%M"))
            for r in rows] == [
        (booked.series_id, 0, "03-03 10:00"), (moved.series_id, 0, "03-10 12:00"),
        (split.series_id, 0, "03-17 12:00"), (split.series_id, 1, "03-24 12:00"),
        (split.series_id, 2, "03-31 12:00"), (split.series_id, 3, "04-07 12:00")]
    assert [fetch_series_info(clinic.staff_actor(), i, clock=clock, engine=clinic.engine).label for i in ids] == [
        "Visit 1 of 6 · Weekly at 10:00 AM"] + [f"Visit {n} of 6 · Weekly at 12:00 PM" for n in range(2, 7)]
    for series_id in (booked.series_id, split.series_id, moved.series_id):
        with clinic.session() as s:
            series = s.get(AppointmentSeries, series_id)
        assert [o.start_at for o in expand(series.rrule, series.dtstart_local, NY)] == [
            r.start_at for r in rows if r.series_id == series_id]


def test_edit_all_refuses_as_a_whole_when_one_date_does_not_fit(clinic):
    booked, ids = _series(clinic, count=3)
    clock = FixedClock(at(NY, 2026, 3, 1, 9))
    other = new_client(clinic, "Noa")
    do_book_for_client(clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                       provider_id=clinic.provider_ids[0], start_at=at(NY, 2026, 3, 17, 15), client_id=other,
                       new_client=None, clock=clock, engine=clinic.engine)
    with pytest.raises(MoveRefused) as exc:
        do_move_in_series(clinic.staff_actor(), ids[0], "all", wall=time(15), clock=clock, engine=clinic.engine)
    assert exc.value.reason.startswith("Tue Mar 17: ")
    assert [r.start_at.astimezone(ZoneInfo(NY)).hour for r in visits(clinic, [booked.series_id])] == [10, 10, 10]
    moved = do_move_in_series(clinic.staff_actor(), ids[0], "all", wall=time(16), clock=clock, engine=clinic.engine)
    assert moved.series_id == booked.series_id  # from the first occurrence: the series changes in place
    with clinic.session() as s:
        assert s.get(AppointmentSeries, booked.series_id).dtstart_local == datetime(2026, 3, 3, 16)


def test_each_occurrence_checks_out_on_its_own(clinic):
    _, ids = _series(clinic, count=2)
    day = at(NY, 2026, 3, 3, 10, 40)
    do_change_status(clinic.staff_actor(), ids[0], "check_in", clock=FixedClock(at(NY, 2026, 3, 3, 9, 55)),
                     engine=clinic.engine)
    out = checkout_visit(clinic.engine, clinic.staff_actor(), ids[0], gateway=TestPaymentGateway(clinic.engine,
                                                                                                    lambda: day),
                         now=day, card=CardDetails("4242 4242 4242 4242", 12, 2030, "123"))
    assert (out.status, out.balance_cents) == ("succeeded", 35000)
    with clinic.session() as s:
        assert [s.get(Appointment, i).status for i in ids] == [AppointmentStatus.COMPLETED, AppointmentStatus.CONFIRMED]


def test_the_series_deposit_setting_saves_from_the_locations_form(clinic):
    from medspa.domain.practice.location_actions import do_update_location, fetch_locations
    from medspa.features.settings.location_text import details_of, parse_details

    owner = clinic.staff_actor("owner")
    [row] = fetch_locations(owner, now=at(NY, 2026, 3, 1, 8), engine=clinic.engine)
    form = details_of(row)
    assert form["series_deposit_each_visit"] == "false"
    data, errors = parse_details({**form, "series_deposit_each_visit": "true"})
    assert errors == {}
    do_update_location(owner, clinic.location_id, data, engine=clinic.engine)
    with clinic.session() as s:
        assert s.get(Location, clinic.location_id).series_deposit_each_visit is True
    assert parse_details({**form, "series_deposit_each_visit": "maybe"}) == (
        None, {"series_deposit_each_visit": "Choose which visits of a series take the deposit"})


def test_the_edit_dialog_moves_all_visits_still_ahead(clinic):
    from medspa.domain.scheduling.actions.series import do_move_series

    booked, ids = _series(clinic, count=3)
    clock = FixedClock(at(NY, 2026, 3, 1, 9))
    detail = do_move_series(clinic.staff_actor(), ids[1], "all", wall=time(11, 15), clock=clock, engine=clinic.engine)
    assert detail.series_label == "Visit 2 of 3 · Weekly at 11:15 AM"
    assert [r.start_at.astimezone(ZoneInfo(NY)).strftime("%H:%M") for r in visits(clinic, [booked.series_id])] == [
        "11:15"] * 3
    with pytest.raises(ValidationFailed):
        do_move_series(clinic.staff_actor(), ids[1], "all", wall=None, clock=clock, engine=clinic.engine)


@pytest.mark.parametrize("same_client", [False, True])
def test_two_desks_booking_overlapping_series_at_once(engine, owner_engine, same_client):
    """Breaker finding 5 (breaker_series.py): two desks book an overlapping weekly series at
    once. For one client on two providers, both passed the double-booking check at every date;
    now the check runs under the client's lock: one series is booked, the other refused."""
    import threading
    from collections import Counter

    clinic = build_clinic(engine, owner_engine, providers=2)
    a = new_client(clinic, "Ana")
    b = a if same_client else new_client(clinic, "Bob")
    first = at(NY, 2026, 3, 3, 10)
    rec = Recurrence("weekly", 1, count=8)
    now = at(NY, 2026, 3, 1, 8)
    plans = []
    for client, prov in ((a, 0), (b, 0 if not same_client else 1)):
        kw = dict(location_id=clinic.location_id, service_id=clinic.services["botox"],
                  provider_id=clinic.provider_ids[prov], client_id=client, recurrence=rec, first_start=first)
        plan = do_plan_series(clinic.staff_actor(), clock=FixedClock(now), engine=clinic.engine, **kw)
        plans.append((kw, {c.index: c.start_at for c in plan.checks if c.free}))
    barrier = threading.Barrier(2)
    out, errors = [], []

    def go(kw, picks):
        barrier.wait()
        try:
            out.append(do_book_series(clinic.staff_actor(), picks=picks, clock=FixedClock(now), engine=clinic.engine,
                                      **kw))
        except ValidationFailed as exc:
            out.append(exc.fields)
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    ts = [threading.Thread(target=go, args=p) for p in plans]
    [t.start() for t in ts]
    [t.join(60) for t in ts]
    assert errors == []
    with clinic.session() as s:
        rows = s.exec(select(Appointment).where(Appointment.status == "confirmed")).all()
        series = s.exec(select(AppointmentSeries)).all()
    per_client_time = Counter((r.client_id, r.start_at) for r in rows)
    assert max(per_client_time.values()) == 1, sorted((str(k[1]), v) for k, v in per_client_time.items() if v > 1)
    assert len(rows) == 8, [(r.client_id, r.provider_id, r.start_at) for r in rows]
    assert all(any(r.series_id == o.id for r in rows) for o in series)  # no series row without visits
    if same_client:
        assert {"series": "None of the chosen dates could be booked: check the dates again"} in out
