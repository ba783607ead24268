"""Analytics definitions (medspa/domain/analytics/service.py) on a real PostgreSQL: RP-1,
local-midnight boundaries east and west of UTC, a DST change at midnight, drill-down rows that
tie out to each figure, report.read, and clinics kept apart."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from medspa.domain.analytics import service as an
from medspa.domain.catalog.service import add_service
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.payments.models import LedgerEntry
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import cancel_appointment, change_status, hold_slot
from tests.factories import build_clinic

DAY = date(2026, 7, 15)  # a Wednesday


def local(tz: str, day: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


def kw(start: date, end: date | None = None, location_id: int | None = None) -> dict:
    return {"start": start, "end": end or start, "location_id": location_id,
            "now": datetime(2027, 1, 1, tzinfo=timezone.utc)}


def _client(s, clinic, n: int = 0) -> int:
    c = find_or_create_client(s, clinic.system, ClientInput("Ana", f"Client{n}", f"ana{n}-{clinic.slug}@example.com",
                                                             f"+1212555{n:04d}"))
    s.flush()
    return c.id


def _insert(s, clinic, start_at: datetime, *, status: str = "completed", minutes: int = 30,
            client_id: int | None = None, created_at: datetime | None = None, rebooked_from_id: int | None = None,
            late: bool | None = None) -> Appointment:
    """A past appointment written directly (the services refuse past times)."""
    appt = Appointment(org_id=clinic.org_id, location_id=clinic.location_id,
                       service_id=clinic.services["botox"], provider_id=clinic.provider_ids[0],
                       client_id=client_id, start_at=start_at, end_at=start_at + timedelta(minutes=minutes),
                       status=status, price_cents=35000, created_at=created_at or start_at - timedelta(days=7),
                       rebooked_from_id=rebooked_from_id, cancellation_late=late)
    s.add(appt)
    s.flush()
    return appt


def test_rp1_what_the_metrics_mean(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, time_zone="America/New_York",
                          weekly={DAY.weekday(): [(time(9), time(17))]})  # 8 hours on DAY
    tz = clinic.time_zone
    owner = clinic.staff_actor("owner")
    desk = clinic.staff_actor("front_desk")
    booked_at = local(tz, DAY, 8) - timedelta(days=10)
    with clinic.session() as s:
        # each visit takes the provider and the clinic's one treatment room
        hour = add_service(s, clinic.system, category="Consultations", name="Consult 60", duration_minutes=60,
                           price_cents=10000, provider_ids=clinic.provider_ids, slot_grid_minutes=60,
                           room_type="treatment_room")
        s.flush()

        def book(h: int) -> int:
            return hold_slot(s, desk, location_id=clinic.location_id, service_id=hour.id, start_at=local(tz, DAY, h),
                             now=booked_at, confirm=True).id

        early, late = book(9), book(10)
        assert not cancel_appointment(s, desk, early, now=local(tz, DAY, 9) - timedelta(days=3)).late
        assert cancel_appointment(s, desk, late, now=local(tz, DAY, 10) - timedelta(hours=2)).late
        visits = [book(h) for h in range(9, 17)]  # 8 one-hour bookings fill the 8 hours
        after = local(tz, DAY, 18)
        for appt_id in visits[:6]:
            change_status(s, desk, appt_id, "complete", now=after)
        for appt_id in visits[6:]:
            change_status(s, desk, appt_id, "no_show", now=after)
        s.flush()

        ns = an.no_show_rate(s, owner, **kw(DAY))
        assert (ns.no_shows, ns.due, ns.rate) == (2, 8, 0.25)
        c = an.cancellations(s, owner, **kw(DAY))
        assert (c.count, c.late, c.early) == (2, 1, 1)
        [u] = an.utilization(s, owner, **kw(DAY))
        assert (u.provider_id, u.available_minutes, u.booked_minutes, u.attended_minutes) == (
            clinic.provider_ids[0], 480, 480, 360)
        assert (u.attended, u.booked) == (0.75, 1.0)
        # "a visit with provider and room counts for each": the room is open 9-17 (the provider's hours)
        [room] = an.resource_utilization(s, owner, **kw(DAY), kind="room")
        assert (room.resource_id, room.name, room.kind, room.available_minutes, room.booked_minutes,
                room.attended_minutes) == (clinic.room_ids[0], "Room 1", "room", 480, 480, 360)
        assert (room.attended, room.booked) == (0.75, 1.0)
        [device] = an.resource_utilization(s, owner, **kw(DAY), kind="device")  # not used by this service
        assert (device.resource_id, device.available_minutes, device.booked_minutes, device.booked) == (
            clinic.device_ids[0], 480, 0, 0.0)
        with pytest.raises(ValueError):
            an.resource_utilization(s, owner, **kw(DAY), kind="provider")

        # the rows behind each figure
        assert sorted(i for i, _ in an.no_show_rows(s, owner, **kw(DAY))) == sorted(visits)
        assert sorted(i for i, _ in an.no_show_rows(s, owner, **kw(DAY), no_shows_only=True)) == sorted(visits[6:])
        assert sorted(an.cancellation_rows(s, owner, **kw(DAY))) == sorted([(early, False), (late, True)])
        assert [i for i, _ in an.cancellation_rows(s, owner, **kw(DAY), late_only=True)] == [late]
        booked_rows = an.utilization_rows(s, owner, **kw(DAY), provider_id=u.provider_id)
        attended_rows = an.utilization_rows(s, owner, **kw(DAY), provider_id=u.provider_id, attended_only=True)
        assert sum(m for _, m in booked_rows) == u.booked_minutes and len(booked_rows) == 8
        assert sum(m for _, m in attended_rows) == u.attended_minutes
        assert sorted(i for i, _ in attended_rows) == sorted(visits[:6])
        room_booked = an.resource_utilization_rows(s, owner, **kw(DAY), resource_id=room.resource_id)
        room_attended = an.resource_utilization_rows(s, owner, **kw(DAY), resource_id=room.resource_id,
                                                     attended_only=True)
        assert room_booked == booked_rows and sum(m for _, m in room_booked) == room.booked_minutes
        assert room_attended == attended_rows and sum(m for _, m in room_attended) == room.attended_minutes
        assert an.resource_utilization_rows(s, owner, **kw(DAY), resource_id=device.resource_id) == []
        # other days and another location id see nothing
        assert an.no_show_rate(s, owner, **kw(DAY + timedelta(days=1))).due == 0
        assert an.no_show_rate(s, owner, **kw(DAY, location_id=clinic.location_id + 10_000)).rate is None
        s.rollback()


@pytest.mark.parametrize("tz", ["Asia/Tokyo", "America/Los_Angeles"])
def test_local_midnight_cuts_days_and_months_east_and_west(engine, owner_engine, tz):
    clinic = build_clinic(engine, owner_engine, time_zone=tz)
    owner = clinic.staff_actor("manager")
    apr1, mar31 = date(2026, 4, 1), date(2026, 3, 31)
    with clinic.session() as s:
        client = _client(s, clinic)
        just_after = _insert(s, clinic, local(tz, apr1, 0, 10), client_id=client)       # first minutes of April 1
        just_before = _insert(s, clinic, local(tz, mar31, 23, 30), status="no_show")     # last half hour of March 31
        for appt, amount in ((just_after, 5000), (just_before, 4000)):
            s.add(LedgerEntry(org_id=clinic.org_id, appointment_id=appt.id, entry_type="deposit_paid",
                              amount_cents=amount, created_at=appt.start_at + timedelta(minutes=1)))
        s.flush()
        # the UTC date of one of the two differs from its local date
        assert {just_after.start_at.astimezone(timezone.utc).date(),
                just_before.start_at.astimezone(timezone.utc).date()} != {apr1, mar31}

        assert [i for i, _ in an.no_show_rows(s, owner, **kw(apr1))] == [just_after.id]
        assert [i for i, _ in an.no_show_rows(s, owner, **kw(mar31))] == [just_before.id]
        assert an.no_show_rate(s, owner, **kw(apr1)).rate == 0.0
        assert an.no_show_rate(s, owner, **kw(mar31)).rate == 1.0
        assert an.new_clients(s, owner, **kw(apr1)).count == 1
        assert an.new_clients(s, owner, **kw(mar31)).count == 0
        by_month = an.revenue(s, owner, **kw(date(2026, 3, 1), date(2026, 4, 30)), by="month")
        assert [(r.key, r.deposits_cents) for r in by_month] == [("2026-03", 4000), ("2026-04", 5000)]
        assert [a for _, _, a in an.revenue_rows(s, owner, **kw(date(2026, 3, 1), date(2026, 4, 30)), by="month",
                                                  key="2026-04")] == [5000]
        s.rollback()


def test_dst_change_at_midnight_is_reported(engine, owner_engine):
    """America/Santiago: on 2026-09-06 the clocks jump from 00:00 to 01:00 (no local midnight);
    on 2026-04-05 they fall back at 00:00 to 23:00 of April 4 (a 25-hour April 4)."""
    tz = "America/Santiago"
    clinic = build_clinic(engine, owner_engine, time_zone=tz, weekly={d: [(time(0), time(8))] for d in range(7)})
    owner = clinic.staff_actor("owner")
    gap_day, back_day = date(2026, 9, 6), date(2026, 4, 4)
    with clinic.session() as s:
        a = _insert(s, clinic, local(tz, gap_day, 1, 0), minutes=60)
        b = _insert(s, clinic, local(tz, back_day, 23, 30), minutes=30, status="no_show")
        [u] = an.utilization(s, owner, **kw(gap_day))
        assert u.available_minutes == 7 * 60  # 00:00-08:00 wall clock lasts 7 hours that day
        assert (u.booked_minutes, u.attended_minutes) == (60, 60)
        [u3] = an.utilization(s, owner, **kw(gap_day - timedelta(days=1), gap_day + timedelta(days=1)))
        assert u3.available_minutes == 8 * 60 + 7 * 60 + 8 * 60
        assert [i for i, _ in an.no_show_rows(s, owner, **kw(gap_day))] == [a.id]
        assert [i for i, _ in an.no_show_rows(s, owner, **kw(back_day))] == [b.id]
        assert an.no_show_rate(s, owner, **kw(back_day, back_day + timedelta(days=1))).rate == 1.0
        [ub] = an.utilization(s, owner, **kw(back_day, back_day + timedelta(days=1)))
        assert ub.available_minutes == 16 * 60
        s.rollback()


def test_rebooking_new_clients_and_revenue_tie_out_to_their_rows(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, time_zone="America/New_York")
    tz = clinic.time_zone
    owner = clinic.staff_actor("owner")
    jun, jul = date(2026, 6, 10), date(2026, 7, 10)
    with clinic.session() as s:
        c1, c2, c3 = (_client(s, clinic, n) for n in range(3))
        old = _insert(s, clinic, local(tz, date(2026, 1, 5), 10), client_id=c3)  # c3 is not new in June
        v1 = _insert(s, clinic, local(tz, jun, 10), client_id=c1)
        # rebooked at the desk before leaving (rebooked_from_id)
        _insert(s, clinic, local(tz, jul, 10), client_id=c1, status="confirmed", rebooked_from_id=v1.id,
                created_at=v1.end_at + timedelta(minutes=5))
        v2 = _insert(s, clinic, local(tz, jun, 11), client_id=c2)
        # c2 books again 30 days later (within 90 days, not before leaving)
        _insert(s, clinic, local(tz, date(2026, 8, 20), 10), client_id=c2, status="confirmed",
                created_at=v2.end_at + timedelta(days=30))
        v3 = _insert(s, clinic, local(tz, jun, 12), client_id=c3)
        # c3's next booking came 120 days later: not rebooked within 90
        _insert(s, clinic, local(tz, date(2026, 11, 1), 10), client_id=c3, status="confirmed",
                created_at=v3.end_at + timedelta(days=120))
        for appt, kind, amount in ((v1, "deposit_paid", 5000), (v2, "deposit_paid", 4000),
                                   (v2, "deposit_refunded", -4000), (v3, "deposit_paid", 5000),
                                   (v3, "deposit_forfeited", 0), (old, "deposit_paid", 7000)):
            s.add(LedgerEntry(org_id=clinic.org_id, appointment_id=appt.id, client_id=appt.client_id,
                              entry_type=kind, amount_cents=amount, created_at=appt.start_at))
        s.flush()

        r = an.rebooking(s, owner, **kw(jun))
        assert (r.visits, r.rebooked, r.rebooked_before_leaving, r.rate) == (3, 2, 1, 2 / 3)
        rows = an.rebooking_rows(s, owner, **kw(jun))
        assert sorted(rows) == sorted([(v1.id, True, True), (v2.id, True, False), (v3.id, False, False)])
        assert sum(1 for _, reb, _ in rows if reb) == r.rebooked
        assert an.rebooking(s, owner, **kw(jun), within_days=180).rebooked == 3

        n = an.new_clients(s, owner, **kw(jun))
        assert n.count == 2 and sorted(an.new_client_rows(s, owner, **kw(jun))) == sorted([(c1, v1.id), (c2, v2.id)])

        for by in an.REVENUE_GROUPS:
            lines = an.revenue(s, owner, **kw(jun), by=by)
            assert sum(line.deposits_cents for line in lines) == 14000
            assert sum(line.refunds_cents for line in lines) == 4000
            assert sum(line.net_cents for line in lines) == 10000  # deposits kept
            for line in lines:
                behind = an.revenue_rows(s, owner, **kw(jun), by=by, key=line.key)
                assert sum(a for _, t, a in behind if t == "deposit_paid") == line.deposits_cents
                assert -sum(a for _, _, a in behind if a < 0) == line.refunds_cents
                assert sum(a for _, _, a in behind) == line.net_cents
        [cat] = an.revenue(s, owner, **kw(jun), by="category")
        assert cat.key == "Neuromodulators"
        s.rollback()


@pytest.mark.parametrize("role", ["front_desk", "provider", "lab", "client", "public"])
def test_report_read_is_for_owner_and_manager_only(clinic, role):
    from medspa.domain.identity.actor import Actor

    actor = Actor(org_id=clinic.org_id, role=role, client_id=1 if role == "client" else None)
    calls = [an.no_show_rate, an.no_show_rows, an.cancellations, an.cancellation_rows, an.utilization,
             an.rebooking, an.rebooking_rows, an.new_clients, an.new_client_rows, an.revenue, an.revenue_rows]
    with clinic.session() as s:
        for call in calls:
            with pytest.raises(PermissionDenied):
                call(s, actor, **kw(DAY))
        with pytest.raises(PermissionDenied):
            an.utilization_rows(s, actor, **kw(DAY), provider_id=clinic.provider_ids[0])
        with pytest.raises(PermissionDenied):
            an.resource_utilization(s, actor, **kw(DAY), kind="room")
        with pytest.raises(PermissionDenied):
            an.resource_utilization_rows(s, actor, **kw(DAY), resource_id=clinic.room_ids[0])


def test_another_clinics_rows_are_invisible(engine, owner_engine):
    mine = build_clinic(engine, owner_engine)
    theirs = build_clinic(engine, owner_engine)
    tz = theirs.time_zone
    with theirs.session() as s:
        appt = _insert(s, theirs, local(tz, DAY, 10), status="no_show")
        s.add(LedgerEntry(org_id=theirs.org_id, appointment_id=appt.id, entry_type="deposit_paid",
                          amount_cents=5000, created_at=appt.start_at))
        s.commit()
    owner = mine.staff_actor("owner")
    with mine.session() as s:
        assert an.no_show_rate(s, owner, **kw(DAY)).due == 0
        assert an.no_show_rows(s, owner, **kw(DAY)) == []
        assert an.no_show_rate(s, owner, **kw(DAY, location_id=theirs.location_id)).due == 0
        assert an.revenue(s, owner, **kw(DAY)) == []
        assert an.utilization_rows(s, owner, **kw(DAY), provider_id=theirs.provider_ids[0]) == []
        assert {u.provider_id for u in an.utilization(s, owner, **kw(DAY))} == set(mine.provider_ids)
    with theirs.session() as s:
        assert an.no_show_rate(s, theirs.staff_actor("owner"), **kw(DAY)).due == 1


def test_a_visit_booked_before_this_one_is_not_a_rebooking_after_it(engine, owner_engine):
    """A treatment series booked in advance: the next visit existed before this visit began,
    so this visit was not followed by a booking (the demo showed ~100% rebooking before the
    lower bound on created_at)."""
    clinic = build_clinic(engine, owner_engine, time_zone="America/New_York")
    tz = clinic.time_zone
    owner = clinic.staff_actor("owner")
    jun = date(2026, 6, 10)
    with clinic.session() as s:
        c1, c2 = _client(s, clinic, 0), _client(s, clinic, 1)
        v1 = _insert(s, clinic, local(tz, jun, 10), client_id=c1, created_at=local(tz, date(2026, 5, 1), 9))
        # c1's next session was booked with the first, weeks before v1 started
        _insert(s, clinic, local(tz, date(2026, 7, 8), 10), client_id=c1, status="confirmed",
                created_at=local(tz, date(2026, 5, 1), 9, 5))
        v2 = _insert(s, clinic, local(tz, jun, 11), client_id=c2)
        # c2 books at the front desk while checking in, minutes after the visit began
        _insert(s, clinic, local(tz, date(2026, 7, 9), 10), client_id=c2, status="confirmed",
                created_at=v2.start_at + timedelta(minutes=2))
        r = an.rebooking(s, owner, **kw(jun))
        assert (r.visits, r.rebooked, r.rebooked_before_leaving) == (2, 1, 1)
        assert sorted(an.rebooking_rows(s, owner, **kw(jun))) == sorted([(v1.id, False, False), (v2.id, True, True)])


def test_rebooking_edges_of_the_set_based_form(engine, owner_engine):
    """The set-based rebooking (one window over visits and bookings) must give the literal
    definition's answer on the edges: a booking created before this visit but starting after
    it; a booking created inside the window that starts before this visit (it belongs to an
    earlier visit); a visit entered afterwards (created after its own start); a checkout
    rebooking (rebooked_from_id) written before the visit began; the window's exact end; a
    booking created the same local evening (before leaving) vs just after local midnight."""
    clinic = build_clinic(engine, owner_engine, time_zone="America/New_York")
    tz = clinic.time_zone
    owner = clinic.staff_actor("owner")
    jun = date(2026, 6, 10)
    with clinic.session() as s:
        c = [_client(s, clinic, n) for n in range(7)]
        # c0: booked the day before v0 began, for after it: not a rebooking
        v0 = _insert(s, clinic, local(tz, jun, 10), client_id=c[0])
        _insert(s, clinic, local(tz, date(2026, 7, 1), 10), client_id=c[0], status="confirmed",
                created_at=v0.start_at - timedelta(days=1))
        # c1: created after v1 began (within 90 days) but for a time before v1: not after it
        v1 = _insert(s, clinic, local(tz, jun, 11), client_id=c[1])
        _insert(s, clinic, local(tz, date(2026, 6, 1), 10), client_id=c[1], status="completed",
                created_at=v1.start_at + timedelta(days=3))
        # c2: a later visit entered afterwards (created after its own start), 20 days on: rebooked
        v2 = _insert(s, clinic, local(tz, jun, 12), client_id=c[2])
        _insert(s, clinic, local(tz, date(2026, 6, 30), 10), client_id=c[2], status="completed",
                created_at=local(tz, date(2026, 6, 30), 11))
        # c3: rebooked_from_id written a day before v3 began: before leaving by the link
        v3 = _insert(s, clinic, local(tz, jun, 13), client_id=c[3])
        _insert(s, clinic, local(tz, date(2026, 8, 1), 10), client_id=c[3], status="confirmed",
                rebooked_from_id=v3.id, created_at=v3.start_at - timedelta(days=1))
        # c4: created exactly at v4's end + 90 days: rebooked (inclusive); a held one earlier does not count
        v4 = _insert(s, clinic, local(tz, jun, 14), client_id=c[4])
        _insert(s, clinic, local(tz, date(2026, 12, 1), 10), client_id=c[4], status="confirmed",
                created_at=v4.end_at + timedelta(days=90))
        _insert(s, clinic, local(tz, date(2026, 7, 1), 10), client_id=c[4], status="held",
                created_at=v4.end_at + timedelta(hours=1))
        # c5: booked at 23:59 local the same evening: before leaving; c6 at 00:01 the next day: not
        v5 = _insert(s, clinic, local(tz, jun, 15), client_id=c[5])
        _insert(s, clinic, local(tz, date(2026, 7, 2), 10), client_id=c[5], status="cancelled",
                created_at=local(tz, jun, 23, 59))
        v6 = _insert(s, clinic, local(tz, jun, 16), client_id=c[6])
        _insert(s, clinic, local(tz, date(2026, 7, 3), 10), client_id=c[6], status="confirmed",
                created_at=local(tz, jun + timedelta(days=1), 0, 1))
        rows = sorted(an.rebooking_rows(s, owner, **kw(jun)))
        assert rows == sorted([(v0.id, False, False), (v1.id, False, False), (v2.id, True, False),
                               (v3.id, True, True), (v4.id, True, False), (v5.id, True, True),
                               (v6.id, True, False)])
        r = an.rebooking(s, owner, **kw(jun))
        assert (r.visits, r.rebooked, r.rebooked_before_leaving) == (7, 5, 2)
        assert an.rebooking(s, owner, **kw(jun), within_days=89).rebooked == 4
        # c1's June 1 visit (created June 13, after it started) is rebooked by nothing later
        assert (an.rebooking(s, owner, **kw(date(2026, 6, 1), jun)).visits) == 8


def test_the_reports_session_has_report_memory_and_no_jit(engine):
    """tune_report_session: work_mem for a year's sorts and no JIT (its compile time exceeded a
    report's run on PostgreSQL 15), both for this transaction only."""
    from sqlalchemy import text as sql
    from sqlmodel import Session

    from medspa.domain.analytics.common import REPORT_WORK_MEM, tune_report_session

    with Session(engine) as s:
        before = s.execute(sql("SELECT current_setting('work_mem'), current_setting('jit')")).one()
        tune_report_session(s)
        assert tuple(s.execute(sql("SELECT current_setting('work_mem'), current_setting('jit')")).one()) \
            == (REPORT_WORK_MEM, "off")
        s.rollback()
        assert s.execute(sql("SELECT current_setting('work_mem'), current_setting('jit')")).one() == before
