"""resource_daily (migration 0059): each resource's (visit) pairs per local day, location and
status, kept by statement-level triggers on occupancy and appointment. For any sequence of
writes (book with any resources, duplicate and released + rebooked rows, move across days,
locations and DST changes, change status or length, swap a row's resource, hand a row to
another visit, turn it into a block, drop rows, delete visits, bulk statements, rollbacks) in
two clinics, the table equals a from-scratch GROUP BY over appointment and occupancy, and
room and device utilization equal the query they ran before 0059 (kept below as the oracle).
Also: the booking path's own writes, concurrent writers of one key and of one visit lose no
update, statements over many visits, the app role only reads the table, the backfill
rebuilds a clinic, and the migration goes down and up."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.range import Range
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, ProgrammingError
from sqlmodel import Session

from medspa.domain.analytics import service as an
from medspa.domain.analytics.common import _VISITS, _params
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.service import add_location, add_resource
from medspa.domain.scheduling.models import Occupancy
from tests.factories import build_clinic
from tests.test_analytics_trends import _visit
from tests.test_visit_daily import as_owner, rows

NOW = datetime(2027, 6, 1, tzinfo=timezone.utc)
BOOKED_IN = "('confirmed', 'checked_in', 'completed', 'no_show')"

# the definition (migration 0059's docstring), from scratch
EXPECTED = f"""
    SELECT a.org_id, p.resource_id, (a.start_at AT TIME ZONE l.time_zone)::date, a.location_id, a.status,
           count(*)::int, sum(EXTRACT(EPOCH FROM a.end_at - a.start_at))::bigint
    FROM appointment a JOIN location l ON l.id = a.location_id
    JOIN (SELECT DISTINCT appointment_id, resource_id FROM occupancy WHERE kind = 'appointment') p
      ON p.appointment_id = a.id
    WHERE a.status IN {BOOKED_IN}
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"""
TABLE = """
    SELECT org_id, resource_id, local_day, location_id, status, visits, seconds
    FROM resource_daily ORDER BY 1, 2, 3, 4, 5"""


def assert_exact(s) -> list[tuple]:
    expected = rows(s, EXPECTED)
    assert rows(s, TABLE) == expected
    return expected


# --- the oracle: resource_utilization's booked / attended minutes before migration 0059 ---------
_OCCUPANCY_LEAD = ("greatest(interval '7 days', "
                   "(SELECT coalesce(max(s.buffer_before_minutes), 0) FROM service s) * interval '1 minute')")
OLD_USED = f"""
    WITH visits AS MATERIALIZED (
        SELECT a.id, a.status, (EXTRACT(EPOCH FROM a.end_at - a.start_at) / 60)::bigint AS minutes
        {_VISITS} AND a.status IN {BOOKED_IN}),
    pairs AS (    -- one row per (visit, resource): released + rebooked rows of a visit count once
        SELECT DISTINCT o.resource_id, v.id, v.status, v.minutes
        FROM visits v JOIN occupancy o ON o.appointment_id = v.id AND o.kind = 'appointment'
        WHERE o.starts_at >= CAST(:lo AS timestamptz) - ({_OCCUPANCY_LEAD})
          AND o.starts_at < CAST(:hi AS timestamptz) + interval '1 day'
          AND o.resource_id = ANY (ARRAY(
              SELECT r.id FROM resource r WHERE r.kind = :kind
                AND (CAST(:loc AS bigint) IS NULL OR r.location_id = CAST(:loc AS bigint)))))
    SELECT resource_id, sum(minutes)::bigint AS booked,
           coalesce(sum(minutes) FILTER (WHERE status = 'completed'), 0)::bigint AS attended
    FROM pairs GROUP BY resource_id"""


def old_figures(s, start: date, end: date, loc: int | None, kind: str) -> dict[int, tuple[int, int]]:
    return {r[0]: (int(r[1]), int(r[2])) for r in s.execute(text(OLD_USED), _params(start, end, loc, kind=kind))}


def report_figures(s, actor, start: date, end: date, loc: int | None, kind: str) -> dict[int, tuple[int, int]]:
    return {u.resource_id: (u.booked_minutes, u.attended_minutes)
            for u in an.resource_utilization(s, actor, start=start, end=end, location_id=loc, now=NOW, kind=kind)
            if u.booked_minutes or u.attended_minutes}


def assert_reports_match_old(s, org_id: int, ranges: list[tuple[date, date]], locations: list[int]) -> None:
    actor = Actor(org_id=org_id, role="owner", label="test owner")
    for start, end in ranges:
        for loc in [None, *locations]:
            for kind in an.RESOURCE_KINDS:
                assert report_figures(s, actor, start, end, loc, kind) == old_figures(s, start, end, loc, kind), \
                    (start, end, loc, kind)


# --- the property: any sequence of writes -------------------------------------------------------
# Around the spring DST changes of 2026 (New York Mar 8, London Mar 29, Sydney's autumn Apr 5), as
# tests/test_visit_daily.py; 15-minute steps put visits either side of each local midnight.
BASE = datetime(2026, 3, 6, tzinfo=timezone.utc)
SPAN_HOURS = 24 * 32
WHEN = st.integers(0, SPAN_HOURS * 4 - 1).map(lambda q: BASE + timedelta(minutes=15 * q))
RES = st.integers(0, 5)  # an index into the clinic's resources (_setup)
VISIT = st.integers(0, 30)  # an index into the clinic's visits
# the first of each choice is what hypothesis tries first and shrinks to: a counted status, a
# released row (the exclusion constraint refuses overlapping live rows of one resource)
STATUSES = ["completed", "confirmed", "checked_in", "no_show", "held", "expired", "cancelled"]
BOOK = st.tuples(st.just("book"), WHEN, st.integers(0, 2), st.sampled_from(STATUSES[:5]),
                 st.sampled_from([15, 30, 60, 90]), st.lists(RES, min_size=1, max_size=4),
                 st.sampled_from(["released", "booked", "held"]), st.sampled_from([0, 90]))
OPS = st.lists(st.one_of(
    BOOK, BOOK, BOOK,  # a third of the writes book: the other writes need visits with rows
    st.tuples(st.just("move"), VISIT, WHEN, st.integers(0, 2)),
    st.tuples(st.just("status"), VISIT, st.sampled_from(STATUSES)),
    st.tuples(st.just("length"), VISIT, st.sampled_from([15, 45, 120])),
    st.tuples(st.just("swap_resource"), VISIT, RES),
    st.tuples(st.just("release_rebook"), VISIT, RES),
    st.tuples(st.just("hand_over"), VISIT, VISIT),
    st.tuples(st.just("to_block"), VISIT),
    st.tuples(st.just("drop_row"), VISIT),
    st.tuples(st.just("delete"), VISIT),
    st.tuples(st.just("bulk"), st.integers(0, 5)),
    st.tuples(st.just("rollback"), WHEN, RES),
), min_size=8, max_size=24)


def _setup(engine, owner_engine, zone: str, second_zone: str, third_zone: str):
    """A clinic with three locations in three zones and six resources: the main location's room
    and device, the provider's own resource, a room at the second location, a device at the
    third and a second room at the main one."""
    clinic = build_clinic(engine, owner_engine, time_zone=zone)
    with clinic.session() as s:
        locs = [clinic.location_id, add_location(s, clinic.system, "Second", second_zone).id,
                add_location(s, clinic.system, "Third", third_zone).id]
        provider_res = s.execute(text("SELECT id FROM resource WHERE kind = 'provider' AND staff_id = :p"),
                                 {"p": clinic.provider_ids[0]}).scalar_one()
        res = [clinic.room_ids[0], clinic.device_ids[0], provider_res,
               add_resource(s, clinic.system, locs[1], "room", "Room 2", "treatment_room").id,
               add_resource(s, clinic.system, locs[2], "device", "Laser 3", "laser_gentlemax").id,
               add_resource(s, clinic.system, locs[0], "room", "Room 1b", "treatment_room").id]
        s.commit()
    return clinic, locs, res


def _occupy(s, clinic, appt_id: int, resource_id: int, lo: datetime, hi: datetime, status: str = "booked") -> None:
    s.add(Occupancy(org_id=clinic.org_id, resource_id=resource_id, appointment_id=appt_id, kind="appointment",
                    during=Range(lo, hi, bounds="[)"), status=status))


def _first_row(s, appt_id: int) -> int | None:
    return s.execute(text("SELECT min(id) FROM occupancy WHERE appointment_id = :i"), {"i": appt_id}).scalar()


def _apply(clinic, owner_engine, locs: list[int], res: list[int], op: tuple, ids: list[int]) -> None:
    """One write (a transaction) of the property; refused by the exclusion constraint (a live
    row overlapping another on one resource): rolled back, as a booking that lost its race."""
    kind = op[0]
    target = ids[op[1] % len(ids)] if ids and kind not in ("book", "bulk", "rollback") else None
    if kind not in ("book", "bulk", "rollback") and target is None:
        return
    if kind == "delete":
        as_owner(owner_engine, clinic.org_id, "DELETE FROM occupancy WHERE appointment_id = :i",
                 "DELETE FROM appointment WHERE id = :i", i=target)
        ids.remove(target)
        return
    if kind == "drop_row":
        as_owner(owner_engine, clinic.org_id,
                 "DELETE FROM occupancy WHERE id = (SELECT min(id) FROM occupancy WHERE appointment_id = :i)",
                 i=target)
        return
    with clinic.session() as s:
        try:
            new_id = _write(s, clinic, locs, res, op, ids, target)
            s.commit()
        except IntegrityError:
            s.rollback()
            return
    if new_id is not None:
        ids.append(new_id)


def _write(s, clinic, locs: list[int], res: list[int], op: tuple, ids: list[int], target: int | None) -> int | None:
    kind = op[0]
    if kind == "book":  # the visit, then its rows in one INSERT (as hold_slot)
        _, at, loc, status, minutes, resources, occ_status, setup = op
        appt = _visit(s, clinic, at, status=status, minutes=minutes, location_id=locs[loc])
        for r in resources:  # the same resource twice: two rows, one pair
            _occupy(s, clinic, appt.id, res[r], at - timedelta(minutes=setup), appt.end_at, occ_status)
        s.flush()
        return appt.id
    if kind == "move":  # to another day / location, its length kept; then its rows (reschedule)
        old_start = s.execute(text("SELECT start_at FROM appointment WHERE id = :i"), {"i": target}).scalar()
        s.execute(text("""UPDATE appointment SET location_id = :l, end_at = :at + (end_at - start_at),
                          start_at = :at WHERE id = :i"""), {"l": locs[op[3]], "at": op[2], "i": target})
        s.execute(text("""UPDATE occupancy SET during = tstzrange(lower(during) + :d, upper(during) + :d, '[)')
                          WHERE appointment_id = :i"""), {"d": op[2] - old_start, "i": target})
    elif kind == "status":
        s.execute(text("UPDATE appointment SET status = :st WHERE id = :i"), {"st": op[2], "i": target})
    elif kind == "length":
        s.execute(text("UPDATE appointment SET end_at = start_at + make_interval(mins => :m) WHERE id = :i"),
                  {"m": op[2], "i": target})
    elif kind == "swap_resource":  # reschedule's in-place update of a row's resource
        s.execute(text("UPDATE occupancy SET resource_id = :r WHERE id = :o"),
                  {"r": res[op[2]], "o": _first_row(s, target)})
    elif kind == "release_rebook":  # the visit's rows released, one booked again (maybe elsewhere)
        s.execute(text("UPDATE occupancy SET status = 'released' WHERE appointment_id = :i"), {"i": target})
        lo, hi = s.execute(text("SELECT start_at, end_at FROM appointment WHERE id = :i"), {"i": target}).one()
        _occupy(s, clinic, target, res[op[2]], lo, hi)
        s.flush()
    elif kind == "hand_over":  # a row given to another visit, with that visit's span
        s.execute(text("""UPDATE occupancy SET appointment_id = a.id, during = tstzrange(a.start_at, a.end_at, '[)')
                          FROM appointment a WHERE a.id = :to AND occupancy.id = :o"""),
                  {"to": ids[op[2] % len(ids)], "o": _first_row(s, target)})
    elif kind == "to_block":  # a row turned into a block of its resource
        s.execute(text("UPDATE occupancy SET kind = 'block', appointment_id = NULL, status = 'released' "
                       "WHERE id = :o"), {"o": _first_row(s, target)})
    elif kind == "bulk":  # one statement over many rows and keys
        sql = [["UPDATE appointment SET start_at = start_at + interval '1 day', end_at = end_at + interval '1 day'",
                "UPDATE occupancy SET during = tstzrange(lower(during) + interval '1 day', "
                "upper(during) + interval '1 day', '[)') WHERE kind = 'appointment'"],
               ["UPDATE appointment SET status = 'completed' WHERE status IN ('confirmed', 'checked_in')"],
               ["UPDATE occupancy SET status = 'released' WHERE status = 'booked'"],  # no pair changes
               ["UPDATE appointment SET location_id = CASE WHEN id % 2 = 0 THEN :l0 ELSE :l1 END"],
               ["UPDATE occupancy SET resource_id = CASE resource_id WHEN :r0 THEN :r1 WHEN :r1 THEN :r0 "
                "ELSE resource_id END"],
               ["UPDATE appointment SET notes = 'touched'"]][op[1]]  # changes nothing counted
        for q in sql:
            s.execute(text(q), {"l0": locs[0], "l1": locs[2], "r0": res[0], "r1": res[3]})
    elif kind == "rollback":  # a booking that never commits leaves no trace
        appt = _visit(s, clinic, op[1], status="confirmed", location_id=locs[1])
        _occupy(s, clinic, appt.id, res[op[2]], appt.start_at, appt.end_at, "released")
        s.flush()
        s.rollback()
    return None


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_any_sequence_of_writes_keeps_the_table_and_the_figures_exact(engine, owner_engine, ops):
    a, a_locs, a_res = _setup(engine, owner_engine, "America/New_York", "Europe/London", "Australia/Sydney")
    b, b_locs, b_res = _setup(engine, owner_engine, "Australia/Sydney", "Asia/Tokyo", "America/Los_Angeles")
    a_ids: list[int] = []
    b_ids: list[int] = []
    for i, op in enumerate(ops):  # the two clinics write alternately, the second every other op
        _apply(a, owner_engine, a_locs, a_res, op, a_ids)
        if i % 2 == 0:
            _apply(b, owner_engine, b_locs, b_res, op, b_ids)
    days = [date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 29), date(2026, 4, 5)]
    ranges = [(d, d) for d in days] + [(date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 3, 5), date(2026, 4, 10)),
                                       (date(2026, 2, 20), date(2026, 4, 30))]
    for clinic, locs in ((a, a_locs), (b, b_locs)):
        with clinic.session() as s:
            table = assert_exact(s)
            assert {r[0] for r in table} <= {clinic.org_id}  # row-level security: only its own rows
            assert_reports_match_old(s, clinic.org_id, ranges, locs)


def test_hand_made_history_across_local_midnight_and_dst(engine, owner_engine):
    """Known values: New York's spring-forward day and Tokyo east of UTC; released + rebooked
    rows of a visit count once; a hold, a cancellation and a block count nothing."""
    clinic = build_clinic(engine, owner_engine)  # America/New_York
    room, device = clinic.room_ids[0], clinic.device_ids[0]
    with clinic.session() as s:
        tokyo = add_location(s, clinic.system, "Tokyo", "Asia/Tokyo").id
        # 05:00Z Mar 8 = 00:00 EST Mar 8: a room row released, the room booked again, the device
        v1 = _visit(s, clinic, datetime(2026, 3, 8, 5, 0, tzinfo=timezone.utc), minutes=45,
                    resources=(room,), occupancy_status="released")
        _occupy(s, clinic, v1.id, room, v1.start_at - timedelta(minutes=15), v1.end_at)
        _occupy(s, clinic, v1.id, device, v1.start_at, v1.end_at)
        s.flush()
        # 04:59Z Mar 8 = 23:59 EST Mar 7
        _visit(s, clinic, datetime(2026, 3, 8, 4, 59, tzinfo=timezone.utc), status="no_show", resources=(room,),
               occupancy_status="released")
        _visit(s, clinic, datetime(2026, 3, 8, 12, tzinfo=timezone.utc), status="held", resources=(room,),
               occupancy_status="held")
        _visit(s, clinic, datetime(2026, 3, 8, 13, tzinfo=timezone.utc), status="cancelled", resources=(room,),
               occupancy_status="released")
        s.add(Occupancy(org_id=clinic.org_id, resource_id=room, kind="block", status="booked",
                        during=Range(datetime(2026, 3, 8, 14, tzinfo=timezone.utc),
                                     datetime(2026, 3, 8, 16, tzinfo=timezone.utc), bounds="[)")))
        # Tokyo: 15:00Z Mar 7 = 00:00 JST Mar 8, in Main's room
        _visit(s, clinic, datetime(2026, 3, 7, 15, 0, tzinfo=timezone.utc), status="confirmed", location_id=tokyo,
               resources=(room,), occupancy_status="released")
        s.commit()
    main = clinic.location_id
    with clinic.session() as s:
        assert [r[1:] for r in assert_exact(s)] == [
            (room, date(2026, 3, 7), main, "no_show", 1, 1800),
            (room, date(2026, 3, 8), main, "completed", 1, 2700),
            (room, date(2026, 3, 8), tokyo, "confirmed", 1, 1800),
            (device, date(2026, 3, 8), main, "completed", 1, 2700)]
        owner = clinic.staff_actor("owner")

        def figures(start: date, end: date, loc: int | None, kind: str = "room") -> list[tuple]:
            return [(u.resource_id, u.booked_minutes, u.attended_minutes) for u in an.resource_utilization(
                s, owner, start=start, end=end, location_id=loc, now=NOW, kind=kind)]

        day = date(2026, 3, 8)
        assert figures(day, day, None) == [(room, 75, 45)]  # the room is at Main, one visit at Tokyo
        assert figures(day, day, main) == [(room, 45, 45)]
        assert figures(day, day, tokyo) == []  # no room at Tokyo
        assert figures(day - timedelta(days=1), day, None) == [(room, 105, 45)]
        assert figures(day, day, None, "device") == [(device, 45, 45)]
        assert_reports_match_old(s, clinic.org_id, [(day, day), (day - timedelta(days=1), day)], [main, tokyo])


def test_the_booking_paths_keep_the_table_exact(engine, owner_engine):
    """hold_slot (held, then confirm_hold; or confirmed at once), check in, complete, move to
    another day and room, cancel, a hold given back: the table follows every step."""
    from medspa.domain.scheduling.reschedule import VisitChange, move_visit
    from medspa.domain.scheduling.service import (
        cancel_appointment, change_status, confirm_hold, hold_slot, release_hold)

    clinic = build_clinic(engine, owner_engine)  # New York, 09:00-17:00 every day
    desk = clinic.staff_actor("front_desk")
    owner = clinic.staff_actor("owner")
    tz = clinic.time_zone
    day = date(2026, 9, 15)

    def at(hour: int, d: date = day) -> datetime:
        from zoneinfo import ZoneInfo
        return datetime(d.year, d.month, d.day, hour, tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)

    now = at(8)
    with clinic.session() as s:
        provider_res = s.execute(text("SELECT id FROM resource WHERE kind = 'provider'")).scalar_one()

    def table() -> list[tuple]:
        with clinic.session() as s:
            return [r[1:] for r in assert_exact(s)]

    with clinic.session() as s:
        facial = hold_slot(s, desk, location_id=clinic.location_id, service_id=clinic.services["facial"],
                           start_at=at(10), now=now)
        s.commit()
    assert table() == []  # a hold is no visit
    with clinic.session() as s:
        confirm_hold(s, desk, facial.id, now=now)
        s.commit()
    room = clinic.room_ids[0]
    assert table() == sorted([(room, day, clinic.location_id, "confirmed", 1, 3600),
                              (provider_res, day, clinic.location_id, "confirmed", 1, 3600)])
    with clinic.session() as s:
        laser = hold_slot(s, desk, location_id=clinic.location_id, service_id=clinic.services["laser"],
                          start_at=at(12), now=now, confirm=True)
        s.commit()
    with clinic.session() as s:
        change_status(s, owner, facial.id, "check_in", now=at(10))
        s.commit()
    with clinic.session() as s:
        change_status(s, owner, facial.id, "complete", now=at(11))
        s.commit()
    with clinic.session() as s:  # the laser visit to the next day
        move_visit(s, owner, laser.id, VisitChange(start_at=at(13, day + timedelta(days=1))), now=now, online=False)
        s.commit()
    got = table()
    device = clinic.device_ids[0]
    assert (device, day + timedelta(days=1), clinic.location_id, "confirmed", 1, 1800) in got
    assert (room, day, clinic.location_id, "completed", 1, 3600) in got
    assert not [r for r in got if r[0] == device and r[1] == day]
    with clinic.session() as s:
        cancel_appointment(s, owner, laser.id, now=now)
        s.commit()
    assert not [r for r in table() if r[0] == device]
    with clinic.session() as s:
        again = hold_slot(s, desk, location_id=clinic.location_id, service_id=clinic.services["facial"],
                          start_at=at(14), now=now)
        s.commit()
    with clinic.session() as s:
        release_hold(s, desk, again.id, now=now)
        s.commit()
    assert table() == sorted([(room, day, clinic.location_id, "completed", 1, 3600),
                              (provider_res, day, clinic.location_id, "completed", 1, 3600)])
    with clinic.session() as s:
        assert_reports_match_old(s, clinic.org_id, [(day, day), (day, day + timedelta(days=1))], [clinic.location_id])
        [r] = [u for u in an.resource_utilization(s, owner, start=day, end=day, location_id=None, now=NOW,
                                                  kind="room") if u.resource_id == room]
        assert (r.booked_minutes, r.attended_minutes) == (60, 60)


def test_concurrent_writers_of_one_key_lose_no_update(engine, owner_engine):
    """Threads booking visits of the same room, day and status at once (and moving some from
    confirmed to completed): every += lands (the upsert serializes on the row)."""
    clinic = build_clinic(engine, owner_engine)
    room = clinic.room_ids[0]
    at = datetime(2026, 5, 4, 14, tzinfo=timezone.utc)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(12):
                with clinic.session() as s:
                    v = _visit(s, clinic, at + timedelta(minutes=i), status="confirmed" if i % 3 == 0 else "completed",
                               resources=(room,), occupancy_status="released")
                    s.commit()
                if i % 3 == 0:
                    with clinic.session() as s:
                        s.execute(text("UPDATE appointment SET status = 'completed' WHERE id = :i"), {"i": v.id})
                        s.commit()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with clinic.session() as s:
        assert [r[1:] for r in assert_exact(s)] == [(room, date(2026, 5, 4), clinic.location_id, "completed", 48,
                                                     48 * 1800)]


def test_concurrent_writers_of_one_visit_lose_no_update(engine, owner_engine):
    """A visit's status changes while other transactions add its first and second room rows
    and drop its device row: each trigger waits for the visit's lock and then reads the
    other's committed rows, so the pair lands at the visit's final key, once. Each writer
    holds its transaction open a moment after its statement, so the others run into it."""
    clinic = build_clinic(engine, owner_engine)
    room, device = clinic.room_ids[0], clinic.device_ids[0]
    errors: list[BaseException] = []
    for k in range(6):
        with clinic.session() as s:
            v = _visit(s, clinic, datetime(2026, 5, 5, 14, tzinfo=timezone.utc) + timedelta(hours=k),
                       status="confirmed", resources=(device,), occupancy_status="released")
            s.commit()
        barrier = threading.Barrier(4)

        def status(v=v, k=k) -> None:
            barrier.wait(timeout=30)
            time.sleep(0.02 * (k % 3))  # vary who goes first
            with clinic.session() as s:
                s.execute(text("UPDATE appointment SET status = :st WHERE id = :i"),
                          {"st": "completed" if k % 2 else "no_show", "i": v.id})
                time.sleep(0.15)
                s.commit()

        def add_room(delay: float, v=v) -> None:
            barrier.wait(timeout=30)
            time.sleep(delay)
            with clinic.session() as s:
                _occupy(s, clinic, v.id, room, v.start_at, v.end_at, "released")
                s.flush()
                time.sleep(0.15)
                s.commit()

        def drop_device(v=v) -> None:
            barrier.wait(timeout=30)
            time.sleep(0.01 * k)
            with Session(owner_engine) as s:
                s.execute(text("SELECT set_config('app.org_id', :o, true)"), {"o": str(clinic.org_id)})
                s.execute(text("DELETE FROM occupancy WHERE appointment_id = :i AND resource_id = :r"),
                          {"i": v.id, "r": device})
                time.sleep(0.15)
                s.commit()

        def run(fn, *args) -> None:
            try:
                fn(*args)
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=run, args=(status,)), threading.Thread(target=run, args=(add_room, 0.0)),
                   threading.Thread(target=run, args=(add_room, 0.03 * (k % 2))),
                   threading.Thread(target=run, args=(drop_device,))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    with clinic.session() as s:
        table = assert_exact(s)
    assert [(r[1], r[4], r[5]) for r in table] == [(room, "completed", 3), (room, "no_show", 3)]


def test_statements_over_many_visits(engine, owner_engine):
    """Statements over more than 64 visits (the clinic's lock, exclusive): one INSERT of 100
    visits' rows, a status change of all, a swap of two rooms, a move of every visit, deletes."""
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        room2 = add_resource(s, clinic.system, clinic.location_id, "room", "Room 2", "treatment_room").id
        s.commit()
    room, device = clinic.room_ids[0], clinic.device_ids[0]
    p = {"o": clinic.org_id, "l": clinic.location_id, "s": clinic.services["facial"], "pr": clinic.provider_ids[0],
         "r": room, "r2": room2, "d": device}
    with clinic.session() as s:
        s.execute(text("""
            INSERT INTO appointment (org_id, display_code, booking_token, location_id, service_id, provider_id,
                                     start_at, end_at, status, price_cents, deposit_cents, currency, source, notes,
                                     created_at)
            SELECT :o, 'BULK' || g, 'bulk-token-' || :o || '-' || g, :l, :s, :pr,
                   timestamptz '2026-03-01 12:00Z' + g * interval '7 hours',
                   timestamptz '2026-03-01 12:00Z' + g * interval '7 hours' + (15 * (1 + g % 4)) * interval '1 minute',
                   CASE WHEN g % 5 = 0 THEN 'held' ELSE 'confirmed' END, 0, 0, 'USD', 'staff', '',
                   timestamptz '2026-02-01 00:00Z'
            FROM generate_series(1, 100) AS g"""), p)
        s.execute(text("""
            INSERT INTO occupancy (org_id, resource_id, appointment_id, during, status, kind, note)
            SELECT :o, r.res, a.id, tstzrange(a.start_at, a.end_at, '[)'), 'released', 'appointment', ''
            FROM appointment a CROSS JOIN LATERAL (VALUES (:r), (:r), (CASE WHEN a.id % 2 = 0 THEN :d END)) AS r(res)
            WHERE a.display_code LIKE 'BULK%' AND r.res IS NOT NULL"""), p)
        s.commit()
    steps = [
        ["UPDATE appointment SET status = 'completed' WHERE status = 'confirmed' AND id % 3 <> 0"],
        ["UPDATE occupancy SET resource_id = CASE WHEN resource_id = :r THEN :r2 ELSE :r END "
         "WHERE resource_id IN (:r, :r2) AND appointment_id % 4 = 0"],
        ["UPDATE appointment SET start_at = start_at + interval '5 hours', end_at = end_at + interval '5 hours'"],
        ["UPDATE occupancy SET status = 'booked' WHERE resource_id = :d"],  # no pair changes
    ]
    for sql in steps:
        with clinic.session() as s:
            for q in sql:
                s.execute(text(q), p)
            s.commit()
        with clinic.session() as s:
            assert_exact(s)
    as_owner(owner_engine, clinic.org_id,
             "DELETE FROM occupancy WHERE appointment_id IN (SELECT id FROM appointment WHERE id % 2 = 1)",
             "DELETE FROM appointment WHERE id % 2 = 1 AND display_code LIKE 'BULK%'")
    with clinic.session() as s:
        table = assert_exact(s)
        assert sum(r[5] for r in table if r[1] == device) == 40  # the even visits not held
        assert_reports_match_old(s, clinic.org_id, [(date(2026, 3, 1), date(2026, 3, 31))], [clinic.location_id])


def test_the_app_role_only_reads_the_table(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    other = build_clinic(engine, owner_engine)
    for c in (clinic, other):
        with c.session() as s:
            _visit(s, c, datetime(2026, 3, 2, 15, tzinfo=timezone.utc), resources=(c.room_ids[0],))
            s.commit()
    for sql in ("UPDATE resource_daily SET visits = 5",
                "DELETE FROM resource_daily",
                "INSERT INTO resource_daily VALUES (1, 1, '2026-01-01', 1, 'completed', 1, 60)",
                "SELECT medspa_resource_daily_backfill()"):
        with clinic.session() as s:
            with pytest.raises(ProgrammingError, match="permission denied"):
                s.execute(text(sql))
    with clinic.session() as s:
        assert [r[1] for r in assert_exact(s)] == [clinic.room_ids[0]]  # only its own clinic's row
    with Session(engine) as s:  # without a clinic (app.org_id unset) nothing is visible
        assert s.execute(text("SELECT count(*) FROM resource_daily")).scalar() == 0


def test_backfill_rebuilds_a_clinic(engine, owner_engine):
    """medspa_resource_daily_backfill (the migration's, per clinic, as the owner) restores a
    clinic's rows after a zone changed by hand, and leaves other clinics alone."""
    clinic = build_clinic(engine, owner_engine)
    other = build_clinic(engine, owner_engine)
    for c in (clinic, other):
        with c.session() as s:
            for k in range(5):
                _visit(s, c, datetime(2026, 3, 2 + k, 3 + k, tzinfo=timezone.utc),
                       resources=(c.room_ids[0], c.device_ids[0]))
            s.commit()
    with other.session() as s:
        other_rows = assert_exact(s)
    as_owner(owner_engine, clinic.org_id, "UPDATE location SET time_zone = 'Asia/Tokyo' WHERE id = :l",
             l=clinic.location_id)
    with clinic.session() as s:
        assert rows(s, TABLE) != rows(s, EXPECTED)
    as_owner(owner_engine, clinic.org_id, "SELECT medspa_resource_daily_backfill()")
    with clinic.session() as s:
        assert len(assert_exact(s)) == 10
    with other.session() as s:
        assert rows(s, TABLE) == other_rows


def test_migration_0059_goes_down_and_up(db_urls, engine, owner_engine):
    """Down: the table and every trigger and function gone; writes while down are counted by
    the backfill of the way up."""
    from alembic import command
    from alembic.config import Config

    from medspa import migrate
    from medspa.settings import PROJECT_ROOT

    def shape() -> tuple:
        with owner_engine.connect() as conn:
            return tuple(conn.execute(text(
                "select (select count(*) from pg_class where relname = 'resource_daily'),"
                " (select count(*) from pg_trigger where tgname like '%resource_daily%'),"
                " (select count(*) from pg_proc where proname like 'medspa_resource_daily%')")).one())

    clinic = build_clinic(engine, owner_engine)
    assert shape() == (1, 4, 3)
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["urls"] = db_urls
    command.downgrade(config, "0058")
    try:
        assert shape() == (0, 0, 0)
        with clinic.session() as s:
            _visit(s, clinic, datetime(2026, 3, 2, 15, tzinfo=timezone.utc),
                   resources=(clinic.room_ids[0], clinic.device_ids[0]))
            s.commit()
    finally:
        migrate.upgrade(*db_urls)
    assert shape() == (1, 4, 3)
    with clinic.session() as s:
        assert len(assert_exact(s)) == 2


def _migration_0059():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "alembic" / "versions" / "0059_resource_daily.py"
    spec = importlib.util.spec_from_file_location("migration_0059", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _scans(plan: dict):
    """Every node of an EXPLAIN (FORMAT JSON) plan tree, with its children's conditions."""
    yield plan
    for child in plan.get("Plans", []):
        yield from _scans(child)


def test_the_trigger_deltas_are_linear_in_the_statement_whatever_the_estimates(engine, owner_engine):
    """Regression (CI on PostgreSQL 15): the trigger's plan, kept by PL/pgSQL from a first small
    statement (a transition table estimated at 25 rows, a new clinic's appointments at 1),
    scanned the clinic's appointments outside and regrouped the statement's rows for each of
    them: the demo seed's 5,000-visit batches ran for minutes. The deltas now run with nested
    loops and sequential scans off: every table is read once, by index, and hash-joined."""
    m = _migration_0059()
    with owner_engine.connect() as conn:
        functions = {r[0]: (r[1], r[2]) for r in conn.execute(text(
            "SELECT proname, proconfig, prosrc FROM pg_proc WHERE proname LIKE 'medspa_resource_daily_%_sync'"))}
    assert set(functions) == {"medspa_resource_daily_occupancy_sync", "medspa_resource_daily_appointment_sync"}
    for config, source in functions.values():
        assert "enable_seqscan=off" in config
        assert source.count("set_config('enable_nestloop', 'off', true)") >= 1
        assert source.count("set_config('enable_nestloop', 'off', true)") == source.count(
            "set_config('enable_nestloop', nestloop, true)")  # restored after each upsert
    clinic, _locs, _res = _setup(engine, owner_engine, "America/New_York", "Europe/London", "Asia/Tokyo")
    deltas = [m._OCC_DELTA.format(pairs=pairs) for pairs in (m._OCC_NEW, m._OCC_OLD, m._OCC_UPDATE)]
    deltas.append(m._APPT_DELTA)
    for delta in deltas:
        with clinic.session() as s:
            # the transition tables' stand-ins: no statistics, as a trigger's tuplestores have none
            s.execute(text("CREATE TEMP TABLE new_rows (LIKE appointment) ON COMMIT DROP"
                           if delta == m._APPT_DELTA else "CREATE TEMP TABLE new_rows (LIKE occupancy) ON COMMIT DROP"))
            s.execute(text("CREATE TEMP TABLE old_rows (LIKE new_rows) ON COMMIT DROP"))
            s.execute(text("SET LOCAL enable_seqscan = off"))  # as the trigger functions run the delta
            s.execute(text("SET LOCAL enable_nestloop = off"))
            sql = delta.replace("any (ids)", "any (ARRAY[1, 2, 3]::bigint[])")
            plan = s.execute(text("EXPLAIN (FORMAT JSON) " + sql)).scalar()[0]["Plan"]
            nodes = list(_scans(plan))
            assert {n.get("Relation Name") for n in nodes} >= {"occupancy"}
            assert not [n["Node Type"] for n in nodes if n["Node Type"] == "Nested Loop"]
            for node in nodes:
                if node.get("Relation Name") in ("appointment", "occupancy"):
                    assert node["Node Type"] != "Seq Scan", node
            s.rollback()
