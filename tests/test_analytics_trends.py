"""Monthly trends, busiest hours (medspa/domain/analytics/trends.py) and room/device
utilization (service.resource_utilization) on a real PostgreSQL: exact values on small
hand-made histories, each point equal to the daily figures over its part of the range, local
midnight east and west of UTC, a DST change at midnight, drill-down rows, report.read, and
clinics kept apart."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy.dialects.postgresql import Range

from medspa.domain.analytics import service as an
from medspa.domain.analytics import trends
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.practice.models import Resource
from medspa.domain.practice.service import add_location, set_working_hours
from medspa.domain.scheduling.models import Appointment, Occupancy
from tests.factories import build_clinic
from tests.test_analytics import _client, kw, local


def _visit(s, clinic, start_at: datetime, *, status: str = "completed", minutes: int = 30,
           client_id: int | None = None, created_at: datetime | None = None, rebooked_from_id: int | None = None,
           late: bool | None = None, location_id: int | None = None, resources: tuple[int, ...] = (),
           occupancy_status: str = "booked") -> Appointment:
    """A past appointment written directly (the services refuse past times), occupying `resources`."""
    appt = Appointment(org_id=clinic.org_id, location_id=location_id or clinic.location_id,
                       service_id=clinic.services["botox"],
                       provider_id=clinic.provider_ids[0], client_id=client_id, start_at=start_at,
                       end_at=start_at + timedelta(minutes=minutes), status=status, price_cents=35000,
                       created_at=created_at or start_at - timedelta(days=7), rebooked_from_id=rebooked_from_id,
                       cancellation_late=late)
    s.add(appt)
    s.flush()
    for rid in resources:
        s.add(Occupancy(org_id=clinic.org_id, resource_id=rid, appointment_id=appt.id, kind="appointment",
                        during=Range(appt.start_at, appt.end_at, bounds="[)"), status=occupancy_status))
    s.flush()
    return appt


def _assert_points_match_daily_figures(s, actor, points, location_id=None, within_days=90):
    """Every point equals the existing figures and drill-downs over (point.start, point.end)."""
    for p in points:
        args = {"start": p.start, "end": p.end, "location_id": location_id,
                "now": datetime(2027, 6, 1, tzinfo=timezone.utc)}
        ns = an.no_show_rate(s, actor, **args)
        c = an.cancellations(s, actor, **args)
        r = an.rebooking(s, actor, **args, within_days=within_days)
        assert (p.due, p.no_shows) == (ns.due, ns.no_shows)
        assert (p.cancellations, p.late_cancellations) == (c.count, c.late)
        assert (p.completed, p.rebooked, p.rebooked_before_leaving) == (r.visits, r.rebooked,
                                                                        r.rebooked_before_leaving)
        assert len(an.no_show_rows(s, actor, **args)) == p.due
        assert len(an.no_show_rows(s, actor, **args, no_shows_only=True)) == p.no_shows
        assert len(an.cancellation_rows(s, actor, **args)) == p.cancellations
        assert len(an.cancellation_rows(s, actor, **args, late_only=True)) == p.late_cancellations
        rows = an.rebooking_rows(s, actor, **args, within_days=within_days)
        assert (len(rows), sum(reb for _, reb, _ in rows), sum(bl for _, _, bl in rows)) == (
            p.completed, p.rebooked, p.rebooked_before_leaving)


# --- monthly trend ---------------------------------------------------------------------------

def test_monthly_trend_exact_values_and_each_point_is_the_daily_figures(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, time_zone="America/New_York")
    tz = clinic.time_zone
    owner = clinic.staff_actor("owner")
    with clinic.session() as s:
        c1, c2, c3 = (_client(s, clinic, n) for n in range(3))
        _visit(s, clinic, local(tz, date(2026, 2, 10), 10), client_id=c3)               # before the range
        feb = _visit(s, clinic, local(tz, date(2026, 2, 20), 10), client_id=c1)
        _visit(s, clinic, local(tz, date(2026, 2, 21), 10), client_id=c2, status="no_show")
        _visit(s, clinic, local(tz, date(2026, 2, 22), 10), status="cancelled", late=True)
        _visit(s, clinic, local(tz, date(2026, 2, 23), 10), status="cancelled", late=False)
        _visit(s, clinic, local(tz, date(2026, 2, 24), 10), status="held")               # never scheduled
        _visit(s, clinic, local(tz, date(2026, 2, 25), 10), status="expired")
        # March: no visits at all. April: c1 comes back (booked at the desk before leaving in February)
        _visit(s, clinic, local(tz, date(2026, 4, 5), 10), client_id=c1, status="confirmed",
               rebooked_from_id=feb.id, created_at=feb.end_at + timedelta(minutes=5))
        _visit(s, clinic, local(tz, date(2026, 4, 2), 10), client_id=c2)                 # not rebooked
        _visit(s, clinic, local(tz, date(2026, 4, 3), 10), client_id=c3, status="checked_in")
        _visit(s, clinic, local(tz, date(2026, 4, 11), 10), client_id=c3)                # after the range
        s.flush()

        points = trends.monthly_trend(s, owner, **kw(date(2026, 2, 15), date(2026, 4, 10)))
        got = [(p.month, p.start, p.end, p.due, p.no_shows, p.scheduled, p.cancellations, p.late_cancellations,
                p.completed, p.rebooked, p.rebooked_before_leaving) for p in points]
        assert got == [
            ("2026-02", date(2026, 2, 15), date(2026, 2, 28), 2, 1, 4, 2, 1, 1, 1, 1),
            ("2026-03", date(2026, 3, 1), date(2026, 3, 31), 0, 0, 0, 0, 0, 0, 0, 0),
            ("2026-04", date(2026, 4, 1), date(2026, 4, 10), 1, 0, 3, 0, 0, 1, 0, 0),
        ]
        feb_p, mar_p, apr_p = points
        assert (feb_p.no_show_rate, feb_p.cancellation_rate, feb_p.rebooking_rate, feb_p.before_leaving_rate) == (
            0.5, 0.5, 1.0, 1.0)
        assert (mar_p.no_show_rate, mar_p.cancellation_rate, mar_p.rebooking_rate, mar_p.before_leaving_rate) == (
            None, None, None, None)
        assert (apr_p.no_show_rate, apr_p.cancellation_rate, apr_p.rebooking_rate) == (0.0, 0.0, 0.0)
        _assert_points_match_daily_figures(s, owner, points)

        # the window of the rebooking rate, and a one-day range inside one month
        _visit(s, clinic, local(tz, date(2026, 9, 1), 10), client_id=c2, status="confirmed",
                          created_at=local(tz, date(2026, 4, 2), 10) + timedelta(days=100))
        s.flush()
        assert [p.rebooked for p in trends.monthly_trend(s, owner, **kw(date(2026, 4, 1), date(2026, 4, 10)))] == [0]
        long = trends.monthly_trend(s, owner, **kw(date(2026, 4, 1), date(2026, 4, 10)), within_days=120)
        assert [(p.month, p.completed, p.rebooked) for p in long] == [("2026-04", 1, 1)]
        _assert_points_match_daily_figures(s, owner, long, within_days=120)
        [one] = trends.monthly_trend(s, owner, **kw(date(2026, 2, 21)))
        assert (one.month, one.start, one.end, one.due, one.no_shows) == ("2026-02", date(2026, 2, 21),
                                                                         date(2026, 2, 21), 1, 1)
        with pytest.raises(ValueError):
            trends.monthly_trend(s, owner, **kw(date(2026, 4, 1), date(2026, 3, 1)))
        s.rollback()


def test_monthly_trend_and_busiest_hours_follow_the_location_filter(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, time_zone="America/New_York")
    owner = clinic.staff_actor("manager")
    day = date(2026, 7, 15)  # a Wednesday
    with clinic.session() as s:
        tokyo = add_location(s, clinic.system, "Ginza", "Asia/Tokyo")
        s.flush()
        ny = _visit(s, clinic, local("America/New_York", day, 9), status="no_show")
        tk = _visit(s, clinic, local("Asia/Tokyo", day, 9), location_id=tokyo.id)
        s.flush()
        [both] = trends.monthly_trend(s, owner, **kw(day))
        assert (both.due, both.no_shows) == (2, 1)
        [mine] = trends.monthly_trend(s, owner, **kw(day, location_id=tokyo.id))
        assert (mine.due, mine.no_shows, mine.completed) == (1, 0, 0)  # no client: not a rebooking visit
        _assert_points_match_daily_figures(s, owner, [mine], location_id=tokyo.id)
        # both start at 09:00 local on a Wednesday, in different zones
        assert trends.busiest_hours(s, owner, **kw(day)) == [trends.HourCell(2, 9, 2)]
        assert trends.busiest_hours_rows(s, owner, **kw(day), weekday=2, hour=9) == [tk.id, ny.id]  # by instant
        assert trends.busiest_hours(s, owner, **kw(day, location_id=tokyo.id)) == [trends.HourCell(2, 9, 1)]
        assert trends.busiest_hours_rows(s, owner, **kw(day, location_id=tokyo.id), weekday=2, hour=9) == [tk.id]
        s.rollback()


# --- busiest hours ---------------------------------------------------------------------------

def test_busiest_hours_exact_cells_and_rows(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, time_zone="America/New_York")
    tz = clinic.time_zone
    owner = clinic.staff_actor("owner")
    mon, wed = date(2026, 7, 13), date(2026, 7, 15)
    with clinic.session() as s:
        a = _visit(s, clinic, local(tz, mon, 10, 0), status="completed")
        b = _visit(s, clinic, local(tz, mon, 10, 45), status="no_show")
        c = _visit(s, clinic, local(tz, wed, 10, 30), status="confirmed")
        d = _visit(s, clinic, local(tz, wed, 14, 59), status="checked_in")
        e = _visit(s, clinic, local(tz, date(2026, 7, 22), 14, 0), status="completed")  # next Wednesday
        for status in ("cancelled", "held", "expired"):  # not booked visits
            _visit(s, clinic, local(tz, wed, 16), status=status)
        _visit(s, clinic, local(tz, date(2026, 7, 23), 14), status="completed")  # after the range
        s.flush()
        args = kw(mon, date(2026, 7, 22))
        cells = trends.busiest_hours(s, owner, **args)
        assert cells == [trends.HourCell(0, 10, 2), trends.HourCell(2, 10, 1), trends.HourCell(2, 14, 2)]
        assert trends.busiest_hours_rows(s, owner, **args, weekday=0, hour=10) == [a.id, b.id]
        assert trends.busiest_hours_rows(s, owner, **args, weekday=2, hour=10) == [c.id]
        assert trends.busiest_hours_rows(s, owner, **args, weekday=2, hour=14) == [d.id, e.id]
        assert trends.busiest_hours_rows(s, owner, **args, weekday=2, hour=16) == []
        for cell in cells:
            assert len(trends.busiest_hours_rows(s, owner, **args, weekday=cell.weekday, hour=cell.hour)) == cell.visits
        for bad in ({"weekday": 7, "hour": 0}, {"weekday": 0, "hour": 24}, {"weekday": -1, "hour": 3}):
            with pytest.raises(ValueError):
                trends.busiest_hours_rows(s, owner, **args, **bad)
        s.rollback()


# --- local midnight and DST ------------------------------------------------------------------

@pytest.mark.parametrize("tz", ["Asia/Tokyo", "America/Los_Angeles"])
def test_local_midnight_cuts_trend_months_and_busiest_hours(engine, owner_engine, tz):
    clinic = build_clinic(engine, owner_engine, time_zone=tz)
    owner = clinic.staff_actor("owner")
    apr1, mar31 = date(2026, 4, 1), date(2026, 3, 31)  # a Wednesday and a Tuesday
    with clinic.session() as s:
        client = _client(s, clinic)
        after = _visit(s, clinic, local(tz, apr1, 0, 10), client_id=client)        # first minutes of April 1
        before = _visit(s, clinic, local(tz, mar31, 23, 30), status="no_show")     # last half hour of March 31
        s.flush()
        # in UTC one of the two is on another day, hour (and weekday) than locally
        utc_after, utc_before = after.start_at.astimezone(timezone.utc), before.start_at.astimezone(timezone.utc)
        assert (utc_after.date(), utc_before.date()) != (apr1, mar31)

        points = trends.monthly_trend(s, owner, **kw(date(2026, 3, 1), date(2026, 4, 30)))
        assert [(p.month, p.due, p.no_shows, p.completed) for p in points] == [("2026-03", 1, 1, 0),
                                                                               ("2026-04", 1, 0, 1)]
        _assert_points_match_daily_figures(s, owner, points)
        cells = trends.busiest_hours(s, owner, **kw(date(2026, 3, 1), date(2026, 4, 30)))
        assert cells == [trends.HourCell(1, 23, 1), trends.HourCell(2, 0, 1)]
        assert trends.busiest_hours_rows(s, owner, **kw(date(2026, 3, 1), date(2026, 4, 30)), weekday=2,
                                         hour=0) == [after.id]
        # a range of April only sees the visit of April 1 00:10 local
        assert [p.due for p in trends.monthly_trend(s, owner, **kw(apr1, date(2026, 4, 30)))] == [1]
        assert trends.busiest_hours(s, owner, **kw(apr1, date(2026, 4, 30))) == [trends.HourCell(2, 0, 1)]
        s.rollback()


def test_dst_change_at_midnight_in_trend_hours_and_room_utilization(engine, owner_engine):
    """America/Santiago: on 2026-09-06 (a Sunday) clocks jump from 00:00 to 01:00, so the
    location's 00:00-08:00 opening lasts 7 hours; on 2026-04-04 (Saturday) 23:00-24:00 repeats."""
    tz = "America/Santiago"
    clinic = build_clinic(engine, owner_engine, time_zone=tz, weekly={d: [(time(0), time(8))] for d in range(7)})
    owner = clinic.staff_actor("owner")
    gap_day, back_day = date(2026, 9, 6), date(2026, 4, 4)
    room = clinic.room_ids[0]
    with clinic.session() as s:
        a = _visit(s, clinic, local(tz, gap_day, 1, 0), minutes=60, resources=(room,))
        b = _visit(s, clinic, local(tz, back_day, 23, 30), minutes=30, status="no_show")
        s.flush()
        [u] = an.resource_utilization(s, owner, **kw(gap_day), kind="room")
        assert (u.resource_id, u.available_minutes, u.booked_minutes, u.attended_minutes) == (room, 7 * 60, 60, 60)
        [u3] = an.resource_utilization(s, owner, **kw(gap_day - timedelta(days=1), gap_day + timedelta(days=1)),
                                       kind="room")
        assert u3.available_minutes == 8 * 60 + 7 * 60 + 8 * 60
        assert an.resource_utilization_rows(s, owner, **kw(gap_day), resource_id=room) == [(a.id, 60)]

        points = trends.monthly_trend(s, owner, **kw(date(2026, 4, 1), date(2026, 9, 30)))
        assert [p.month for p in points] == ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]
        assert [(p.due, p.no_shows) for p in points] == [(1, 1), (0, 0), (0, 0), (0, 0), (0, 0), (1, 0)]
        _assert_points_match_daily_figures(s, owner, points)
        cells = trends.busiest_hours(s, owner, **kw(date(2026, 4, 1), date(2026, 9, 30)))
        assert cells == [trends.HourCell(5, 23, 1), trends.HourCell(6, 1, 1)]
        assert trends.busiest_hours_rows(s, owner, **kw(back_day), weekday=5, hour=23) == [b.id]
        s.rollback()


# --- rooms and devices -----------------------------------------------------------------------

def test_room_and_device_utilization_exact_minutes_and_rows(engine, owner_engine):
    day = date(2026, 7, 15)  # a Wednesday
    clinic = build_clinic(engine, owner_engine, time_zone="America/New_York", providers=2,
                          weekly={day.weekday(): [(time(9), time(13))]})
    tz = clinic.time_zone
    owner = clinic.staff_actor("owner")
    room, device = clinic.room_ids[0], clinic.device_ids[0]
    with clinic.session() as s:
        # the second provider works 11-14 and 15-18: the location is open 09:00-18:00 (540 minutes)
        set_working_hours(s, clinic.system, clinic.provider_ids[1], clinic.location_id,
                          {day.weekday(): [(time(11), time(14)), (time(15), time(18))]})
        a = _visit(s, clinic, local(tz, day, 9), minutes=60, resources=(room, device))
        b = _visit(s, clinic, local(tz, day, 11), minutes=30, status="no_show", resources=(room,))
        # moved within the room: a released and a booked row of one visit count once
        c = _visit(s, clinic, local(tz, day, 12), minutes=45, status="confirmed", resources=(room,),
                   occupancy_status="released")
        s.add(Occupancy(org_id=clinic.org_id, resource_id=room, appointment_id=c.id, kind="appointment",
                        during=Range(c.start_at, c.end_at, bounds="[)"), status="booked"))
        _visit(s, clinic, local(tz, day, 14), minutes=60, status="cancelled", resources=(room,),
               occupancy_status="released")
        _visit(s, clinic, local(tz, day, 15), minutes=30)  # no room, no device
        d = _visit(s, clinic, local(tz, day, 16), minutes=20, resources=(device,))
        _visit(s, clinic, local(tz, day + timedelta(days=1), 10), minutes=60, resources=(room,))  # next day
        # an inactive room: listed only while it has visits
        spare = Resource(org_id=clinic.org_id, kind="room", name="A spare room", resource_type="treatment_room",
                         location_id=clinic.location_id, active=False)
        s.add(spare)
        s.flush()

        rooms = an.resource_utilization(s, owner, **kw(day), kind="room")
        assert [(r.resource_id, r.name, r.available_minutes, r.booked_minutes, r.attended_minutes) for r in rooms] == [
            (room, "Room 1", 540, 60 + 30 + 45, 60)]
        assert (rooms[0].booked, rooms[0].attended) == (135 / 540, 60 / 540)
        [dev] = an.resource_utilization(s, owner, **kw(day), kind="device")
        assert (dev.resource_id, dev.kind, dev.available_minutes, dev.booked_minutes, dev.attended_minutes) == (
            device, "device", 540, 80, 80)
        assert an.resource_utilization_rows(s, owner, **kw(day), resource_id=room) == [(a.id, 60), (b.id, 30),
                                                                                       (c.id, 45)]
        assert an.resource_utilization_rows(s, owner, **kw(day), resource_id=room, attended_only=True) == [(a.id, 60)]
        assert an.resource_utilization_rows(s, owner, **kw(day), resource_id=device) == [(a.id, 60), (d.id, 20)]
        for r in (*rooms, dev):
            assert sum(m for _, m in an.resource_utilization_rows(s, owner, **kw(day), resource_id=r.resource_id)) \
                == r.booked_minutes
            assert sum(m for _, m in an.resource_utilization_rows(s, owner, **kw(day), resource_id=r.resource_id,
                                                                  attended_only=True)) == r.attended_minutes

        _visit(s, clinic, local(tz, day, 17), minutes=30, resources=(spare.id,))
        s.flush()
        assert [(r.name, r.booked_minutes) for r in an.resource_utilization(s, owner, **kw(day), kind="room")] == [
            ("A spare room", 30), ("Room 1", 135)]
        # the location filter, and a location with no hours that day (available 0, ratio None)
        assert [r.resource_id for r in an.resource_utilization(
            s, owner, **kw(day, location_id=clinic.location_id + 10_000), kind="room")] == []
        [tue] = an.resource_utilization(s, owner, **kw(day - timedelta(days=1)), kind="device")
        assert (tue.available_minutes, tue.booked_minutes, tue.booked) == (0, 0, None)
        s.rollback()


# --- report.read and clinics kept apart ------------------------------------------------------

@pytest.mark.parametrize("role", ["front_desk", "provider"])
def test_trends_need_report_read(clinic, role):
    actor = clinic.staff_actor(role)
    with clinic.session() as s:
        for call, extra in ((trends.monthly_trend, {}), (trends.busiest_hours, {}),
                            (trends.busiest_hours_rows, {"weekday": 0, "hour": 9}),
                            (an.resource_utilization, {"kind": "device"}),
                            (an.resource_utilization_rows, {"resource_id": clinic.device_ids[0]})):
            with pytest.raises(PermissionDenied):
                call(s, actor, **kw(date(2026, 7, 15)), **extra)


def test_another_clinics_visits_are_not_in_trends_hours_or_rooms(engine, owner_engine):
    mine = build_clinic(engine, owner_engine)
    theirs = build_clinic(engine, owner_engine)
    day = date(2026, 7, 15)
    with theirs.session() as s:
        appt = _visit(s, theirs, local(theirs.time_zone, day, 10), status="no_show", resources=(theirs.room_ids[0],))
        s.commit()
    owner = mine.staff_actor("owner")
    with mine.session() as s:
        [p] = trends.monthly_trend(s, owner, **kw(day))
        assert (p.due, p.no_shows, p.scheduled) == (0, 0, 0)
        assert trends.busiest_hours(s, owner, **kw(day)) == []
        assert trends.busiest_hours_rows(s, owner, **kw(day), weekday=2, hour=10) == []
        assert [(r.resource_id, r.booked_minutes) for r in an.resource_utilization(s, owner, **kw(day), kind="room")] \
            == [(mine.room_ids[0], 0)]
        assert an.resource_utilization_rows(s, owner, **kw(day), resource_id=theirs.room_ids[0]) == []
    with theirs.session() as s:
        assert trends.busiest_hours_rows(s, theirs.staff_actor("owner"), **kw(day), weekday=2, hour=10) == [appt.id]


def test_room_rows_starting_before_the_range_count_for_its_first_visit(engine, owner_engine):
    """resource_utilization reads the range's occupancy rows by occupancy.starts_at (migration
    0013): a visit at 00:15 local on the range's first day whose room row starts with a
    90-minute setup buffer (the previous local day, and the previous UTC day in Sydney) still
    counts, once; a visit the day before the range does not."""
    day = date(2026, 7, 15)
    clinic = build_clinic(engine, owner_engine, time_zone="Australia/Sydney")
    tz = clinic.time_zone
    owner = clinic.staff_actor("owner")
    room = clinic.room_ids[0]
    with clinic.session() as s:
        first = _visit(s, clinic, local(tz, day, 0, 15), minutes=40)
        s.add(Occupancy(org_id=clinic.org_id, resource_id=room, appointment_id=first.id, kind="appointment",
                        during=Range(first.start_at - timedelta(minutes=90), first.end_at, bounds="[)"),
                        status="booked"))
        _visit(s, clinic, local(tz, day - timedelta(days=1), 21, 0), minutes=30, resources=(room,))
        [r] = an.resource_utilization(s, owner, **kw(day), kind="room")
        assert (r.resource_id, r.booked_minutes, r.attended_minutes) == (room, 40, 40)
        assert an.resource_utilization_rows(s, owner, **kw(day), resource_id=room) == [(first.id, 40)]
        [r] = an.resource_utilization(s, owner, **kw(day - timedelta(days=1), day), kind="room")
        assert r.booked_minutes == 70
