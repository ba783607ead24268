"""visit_daily (migration 0054): appointments counted per location, local day, provider and
status, kept by statement-level triggers on appointment. For any sequence of writes (book,
reschedule across days, locations and DST changes, cancel early/late, no-show, check in,
check out, provider change, holds that expire, deletes, bulk updates) in two clinics, the
table equals a from-scratch GROUP BY over appointment, and the figures that read it
(no_show_rate, cancellations, utilization's minutes, monthly_trend's counts) equal the raw
computation over appointment (the SQL they used before 0054, kept below). Also: concurrent
writers of one key lose no update, the app role only reads the table, the backfill rebuilds a
clinic."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlmodel import Session

from medspa.domain.analytics import service as an
from medspa.domain.analytics import trends
from medspa.domain.analytics.common import _VISITS, _params
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.service import add_location
from tests.factories import build_clinic
from tests.test_analytics import _client
from tests.test_analytics_trends import _visit

NOW = datetime(2027, 6, 1, tzinfo=timezone.utc)
COUNTED = ("confirmed", "checked_in", "completed", "no_show", "cancelled")

EXPECTED = """
    SELECT a.org_id, a.location_id, (a.start_at AT TIME ZONE l.time_zone)::date, a.provider_id, a.status,
           count(*)::int, (count(*) FILTER (WHERE a.cancellation_late))::int,
           sum(EXTRACT(EPOCH FROM a.end_at - a.start_at))::bigint
    FROM appointment a JOIN location l ON l.id = a.location_id
    WHERE a.status IN ('confirmed', 'checked_in', 'completed', 'no_show', 'cancelled')
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"""
TABLE = """
    SELECT org_id, location_id, local_day, provider_id, status, visits, late, seconds
    FROM visit_daily ORDER BY 1, 2, 3, 4, 5"""


def rows(s, sql: str, **params) -> list[tuple]:
    return [tuple(r) for r in s.execute(text(sql), params).all()]


def assert_exact(s) -> list[tuple]:
    expected = rows(s, EXPECTED)
    assert rows(s, TABLE) == expected
    return expected


# --- the raw computation over appointment (the reports before migration 0054) -----------------
def raw_figures(s, start: date, end: date, loc: int | None) -> dict:
    p = _params(start, end, loc)
    ns = s.execute(text(f"""SELECT count(*) FILTER (WHERE a.status = 'no_show'), count(*) {_VISITS}
                            AND a.status IN ('completed', 'no_show')"""), p).one()
    c = s.execute(text(f"""SELECT count(*), count(*) FILTER (WHERE a.cancellation_late) {_VISITS}
                           AND a.status = 'cancelled'"""), p).one()
    used = {r[0]: (int(r[1]), int(r[2])) for r in s.execute(text(f"""
        SELECT a.provider_id, sum(EXTRACT(EPOCH FROM a.end_at - a.start_at) / 60)::bigint,
               coalesce(sum(EXTRACT(EPOCH FROM a.end_at - a.start_at) / 60)
                        FILTER (WHERE a.status = 'completed'), 0)::bigint
        {_VISITS} AND a.status IN ('confirmed', 'checked_in', 'completed', 'no_show')
        GROUP BY a.provider_id"""), p).all()}
    months = {r[0]: tuple(int(x) for x in r[1:]) for r in s.execute(text(f"""
        SELECT to_char((a.start_at AT TIME ZONE l.time_zone)::date, 'YYYY-MM'),
               count(*) FILTER (WHERE a.status IN ('completed', 'no_show')),
               count(*) FILTER (WHERE a.status = 'no_show'), count(*),
               count(*) FILTER (WHERE a.status = 'cancelled'),
               count(*) FILTER (WHERE a.status = 'cancelled' AND a.cancellation_late)
        {_VISITS} AND a.status IN {COUNTED} GROUP BY 1"""), p).all()}
    # rebooking: the set-based SQL over appointment (service._rebooking_sql, as before 0054)
    reb = s.execute(text(an._rebooking_sql(
        "count(*), count(*) FILTER (WHERE rebooked OR before_leaving), count(*) FILTER (WHERE before_leaving)")),
        _params(start, end, loc, days=90)).one()
    reb_months = {r[0]: tuple(int(x) for x in r[1:]) for r in s.execute(text(an._rebooking_sql(
        "to_char(day, 'YYYY-MM'), count(*), count(*) FILTER (WHERE rebooked OR before_leaving), "
        "count(*) FILTER (WHERE before_leaving)", "GROUP BY 1")), _params(start, end, loc, days=90)).all()}
    return {"no_show": (ns[0], ns[1]), "cancellations": (c[0], c[1]), "used": used, "months": months,
            "rebooking": tuple(reb), "rebooking_months": reb_months}


def report_figures(s, actor, start: date, end: date, loc: int | None) -> dict:
    kw = {"start": start, "end": end, "location_id": loc, "now": NOW}
    ns, c = an.no_show_rate(s, actor, **kw), an.cancellations(s, actor, **kw)
    used = {u.provider_id: (u.booked_minutes, u.attended_minutes) for u in an.utilization(s, actor, **kw)
            if u.booked_minutes or u.attended_minutes}
    points = trends.monthly_trend(s, actor, **kw)
    months = {p.month: (p.due, p.no_shows, p.scheduled, p.cancellations, p.late_cancellations)
              for p in points if p.scheduled}
    r = an.rebooking(s, actor, **kw)
    return {"no_show": (ns.no_shows, ns.due), "cancellations": (c.count, c.late), "used": used, "months": months,
            "rebooking": (r.visits, r.rebooked, r.rebooked_before_leaving),
            "rebooking_months": {p.month: (p.completed, p.rebooked, p.rebooked_before_leaving)
                                 for p in points if p.completed}}


REBOOKING_TABLE = """
    SELECT r.appointment_id, r.rebooked OR r.before_leaving, r.before_leaving, r.location_id, r.local_day
    FROM visit_rebooking r ORDER BY 1"""
REBOOKING_VISITS = """
    SELECT a.id, a.location_id, (a.start_at AT TIME ZONE l.time_zone)::date
    FROM appointment a JOIN location l ON l.id = a.location_id
    WHERE a.status = 'completed' AND a.client_id IS NOT NULL ORDER BY 1"""


def assert_rebooking_exact(s, org_id: int) -> None:
    """visit_rebooking holds every completed visit with a client, with the flags rebooking_rows
    computes from appointment (the drill-down's raw SQL)."""
    actor = Actor(org_id=org_id, role="owner", label="test owner")
    table = rows(s, REBOOKING_TABLE)
    assert [(r[0], r[3], r[4]) for r in table] == rows(s, REBOOKING_VISITS)
    raw = an.rebooking_rows(s, actor, start=date(2025, 1, 1), end=date(2027, 12, 31), location_id=None, now=NOW)
    assert [r[:3] for r in table] == raw


def assert_reports_match_raw(s, org_id: int, ranges: list[tuple[date, date]], locations: list[int]) -> None:
    actor = Actor(org_id=org_id, role="owner", label="test owner")
    for start, end in ranges:
        for loc in [None, *locations]:
            assert report_figures(s, actor, start, end, loc) == raw_figures(s, start, end, loc), (start, end, loc)


def as_owner(owner_engine, org_id: int, *sql: str, **params) -> None:
    """Statements the app role may not run (deleting appointments), in the clinic."""
    with Session(owner_engine) as s:
        s.execute(text("SELECT set_config('app.org_id', :o, true)"), {"o": str(org_id)})
        for q in sql:
            s.execute(text(q), params)
        s.commit()


# --- the property: any sequence of writes -------------------------------------------------------
# Around the spring DST changes of 2026: New York (UTC-5 -> -4 on Mar 8) and London (UTC+0 -> +1 on
# Mar 29), Sydney's autumn change (UTC+11 -> +10 on Apr 5); hours chosen so visits fall either side
# of each location's local midnight.
BASE = datetime(2026, 3, 6, tzinfo=timezone.utc)
SPAN_HOURS = 24 * 32
WHEN = st.integers(0, SPAN_HOURS * 4 - 1).map(lambda q: BASE + timedelta(minutes=15 * q))
OPS = st.lists(st.one_of(
    st.tuples(st.just("book"), WHEN, st.integers(0, 2), st.integers(0, 1),
              st.sampled_from(["held", "confirmed", "completed"]), st.sampled_from([15, 30, 60, 90]),
              st.integers(0, 2), st.integers(-30, 24 * 100)),
    st.tuples(st.just("client"), st.integers(0, 30), st.integers(0, 2)),
    st.tuples(st.just("rebooked_from"), st.integers(0, 30), st.integers(0, 30)),
    st.tuples(st.just("reschedule"), st.integers(0, 30), WHEN, st.integers(0, 2)),
    st.tuples(st.just("status"), st.integers(0, 30),
              st.sampled_from(["confirmed", "checked_in", "completed", "no_show", "expired"])),
    st.tuples(st.just("cancel"), st.integers(0, 30), st.booleans()),
    st.tuples(st.just("provider"), st.integers(0, 30), st.integers(0, 1)),
    st.tuples(st.just("length"), st.integers(0, 30), st.sampled_from([15, 45, 120])),
    st.tuples(st.just("delete"), st.integers(0, 30)),
    st.tuples(st.just("bulk"), st.integers(0, 3)),
    st.tuples(st.just("rollback"), WHEN),
), min_size=1, max_size=14)


def _setup(engine, owner_engine, zone: str, second_zone: str, third_zone: str):
    clinic = build_clinic(engine, owner_engine, time_zone=zone, providers=2)
    with clinic.session() as s:
        locs = [clinic.location_id, add_location(s, clinic.system, "Second", second_zone).id,
                add_location(s, clinic.system, "Third", third_zone).id]
        clients = [None, _client(s, clinic, 0), _client(s, clinic, 1)]
        s.commit()
    return clinic, locs, clients


def _apply(clinic, owner_engine, locs: list[int], clients: list, op: tuple, ids: list[int]) -> None:
    kind = op[0]
    target = ids[op[1] % len(ids)] if ids and kind not in ("book", "bulk", "rollback") else None
    if kind not in ("book", "bulk", "rollback") and target is None:
        return
    if kind == "delete":
        as_owner(owner_engine, clinic.org_id, "DELETE FROM occupancy WHERE appointment_id = :i",
                 "DELETE FROM appointment WHERE id = :i", i=target)
        ids.remove(target)
        return
    with clinic.session() as s:
        if kind == "book":
            _, at, loc, prov, status, minutes, client, created_hours_before = op
            appt = _visit(s, clinic, at, status=status, minutes=minutes, location_id=locs[loc],
                          client_id=clients[client], created_at=at - timedelta(hours=created_hours_before))
            if prov:
                s.execute(text("UPDATE appointment SET provider_id = :p WHERE id = :i"),
                          {"p": clinic.provider_ids[1], "i": appt.id})
            ids.append(appt.id)
        elif kind == "reschedule":  # moved to another day / location, its length kept
            s.execute(text("""UPDATE appointment SET location_id = :l, end_at = :at + (end_at - start_at),
                              start_at = :at WHERE id = :i"""), {"l": locs[op[3]], "at": op[2], "i": target})
        elif kind == "status":
            s.execute(text("UPDATE appointment SET status = :st WHERE id = :i"), {"st": op[2], "i": target})
        elif kind == "cancel":
            s.execute(text("UPDATE appointment SET status = 'cancelled', cancellation_late = :late WHERE id = :i"),
                      {"late": op[2], "i": target})
        elif kind == "provider":
            s.execute(text("UPDATE appointment SET provider_id = :p WHERE id = :i"),
                      {"p": clinic.provider_ids[op[2]], "i": target})
        elif kind == "client":
            s.execute(text("UPDATE appointment SET client_id = :c WHERE id = :i"),
                      {"c": clients[op[2]], "i": target})
        elif kind == "rebooked_from":  # booked at another visit's checkout (or unset when the same)
            source = ids[op[2] % len(ids)]
            s.execute(text("UPDATE appointment SET rebooked_from_id = :f WHERE id = :i"),
                      {"f": None if source == target else source, "i": target})
        elif kind == "length":
            s.execute(text("UPDATE appointment SET end_at = start_at + make_interval(mins => :m) WHERE id = :i"),
                      {"m": op[2], "i": target})
        elif kind == "bulk":  # one statement over many rows and keys
            sql = ["UPDATE appointment SET start_at = start_at + interval '1 day', end_at = end_at + interval '1 day'",
                   "UPDATE appointment SET status = 'completed' WHERE status IN ('confirmed', 'checked_in')",
                   "UPDATE appointment SET notes = 'touched'",  # changes nothing counted
                   "UPDATE appointment SET location_id = CASE WHEN id % 2 = 0 THEN :l0 ELSE :l1 END"][op[1]]
            s.execute(text(sql), {"l0": locs[0], "l1": locs[2]})
        elif kind == "rollback":  # a booking that never commits leaves no trace
            _visit(s, clinic, op[1], status="confirmed", location_id=locs[1])
            s.rollback()
            return
        s.commit()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_any_sequence_of_writes_keeps_the_table_and_the_figures_exact(engine, owner_engine, ops):
    a, a_locs, a_clients = _setup(engine, owner_engine, "America/New_York", "Europe/London", "Australia/Sydney")
    b, b_locs, b_clients = _setup(engine, owner_engine, "Australia/Sydney", "Asia/Tokyo", "America/Los_Angeles")
    a_ids: list[int] = []
    b_ids: list[int] = []
    for i, op in enumerate(ops):  # the two clinics write alternately, the second every other op
        _apply(a, owner_engine, a_locs, a_clients, op, a_ids)
        if i % 2 == 0:
            _apply(b, owner_engine, b_locs, b_clients, op, b_ids)
    days = [date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 29), date(2026, 4, 5)]
    ranges = [(d, d) for d in days] + [(date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 3, 5), date(2026, 4, 10)),
                                       (date(2026, 2, 20), date(2026, 4, 30))]
    for clinic, locs in ((a, a_locs), (b, b_locs)):
        with clinic.session() as s:
            table = assert_exact(s)
            assert {r[0] for r in table} <= {clinic.org_id}  # row-level security: only its own rows
            assert_rebooking_exact(s, clinic.org_id)
            assert_reports_match_raw(s, clinic.org_id, ranges, locs)


def test_hand_made_history_across_local_midnight_and_dst(engine, owner_engine):
    """Known values: New York's spring-forward day (a 23-hour day) and Tokyo east of UTC."""
    clinic = build_clinic(engine, owner_engine)  # America/New_York
    with clinic.session() as s:
        tokyo = add_location(s, clinic.system, "Tokyo", "Asia/Tokyo").id
        # 04:59Z Mar 8 = 23:59 EST Mar 7; 05:00Z = 00:00 EST Mar 8; Tokyo: 15:00Z Mar 7 = 00:00 JST Mar 8
        _visit(s, clinic, datetime(2026, 3, 8, 4, 59, tzinfo=timezone.utc), status="no_show")
        _visit(s, clinic, datetime(2026, 3, 8, 5, 0, tzinfo=timezone.utc), minutes=45)
        _visit(s, clinic, datetime(2026, 3, 8, 7, 30, tzinfo=timezone.utc), status="cancelled", late=True)
        _visit(s, clinic, datetime(2026, 3, 7, 14, 59, tzinfo=timezone.utc), location_id=tokyo)
        _visit(s, clinic, datetime(2026, 3, 7, 15, 0, tzinfo=timezone.utc), location_id=tokyo, status="confirmed")
        _visit(s, clinic, datetime(2026, 3, 8, 12, tzinfo=timezone.utc), status="held")  # not counted
        s.commit()
    p = clinic.provider_ids[0]
    with clinic.session() as s:
        assert [r[1:] for r in assert_exact(s)] == [
            (clinic.location_id, date(2026, 3, 7), p, "no_show", 1, 0, 1800),
            (clinic.location_id, date(2026, 3, 8), p, "cancelled", 1, 1, 1800),
            (clinic.location_id, date(2026, 3, 8), p, "completed", 1, 0, 2700),
            (tokyo, date(2026, 3, 7), p, "completed", 1, 0, 1800),
            (tokyo, date(2026, 3, 8), p, "confirmed", 1, 0, 1800)]
        actor = Actor(org_id=clinic.org_id, role="owner", label="test owner")
        kw = {"start": date(2026, 3, 8), "end": date(2026, 3, 8), "location_id": None, "now": NOW}
        assert an.no_show_rate(s, actor, **kw) == an.NoShowRate(no_shows=0, due=1)
        assert an.cancellations(s, actor, **kw) == an.Cancellations(count=1, late=1)
        assert [(u.booked_minutes, u.attended_minutes) for u in an.utilization(s, actor, **kw)] == [(75, 45)]
        assert_reports_match_raw(s, clinic.org_id, [(date(2026, 3, 7), date(2026, 3, 8))], [clinic.location_id, tokyo])


def test_concurrent_writers_of_one_key_lose_no_update(engine, owner_engine):
    """Threads booking and cancelling visits of the same location, day and provider at once:
    every += lands (the upsert serializes on the row)."""
    clinic = build_clinic(engine, owner_engine)
    at = datetime(2026, 5, 4, 14, tzinfo=timezone.utc)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(15):
                with clinic.session() as s:
                    v = _visit(s, clinic, at + timedelta(minutes=i), status="completed" if k % 2 else "confirmed")
                    if i % 3 == 0:
                        s.execute(text("UPDATE appointment SET status = 'cancelled', cancellation_late = true "
                                       "WHERE id = :i"), {"i": v.id})
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
        table = assert_exact(s)
        assert sum(r[5] for r in table) == 60 and sum(r[6] for r in table) == 20


def test_the_app_role_only_reads_the_table(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        _visit(s, clinic, datetime(2026, 3, 2, 15, tzinfo=timezone.utc))
        s.commit()
    for sql in ("UPDATE visit_daily SET visits = 5",
                "DELETE FROM visit_daily",
                "INSERT INTO visit_daily VALUES (1, 1, '2026-01-01', 1, 'completed', 1, 0, 60)",
                "SELECT medspa_visit_daily_backfill()"):
        with clinic.session() as s:
            with pytest.raises(ProgrammingError, match="permission denied"):
                s.execute(text(sql))
    with clinic.session() as s:
        assert len(assert_exact(s)) == 1
    with Session(engine) as s:  # without a clinic (app.org_id unset) nothing is visible
        assert s.execute(text("SELECT count(*) FROM visit_daily")).scalar() == 0


def test_backfill_rebuilds_a_clinic(engine, owner_engine):
    """medspa_visit_daily_backfill (the migration's, per clinic, as the owner) restores a
    clinic's rows after a zone changed by hand, and leaves other clinics alone."""
    clinic = build_clinic(engine, owner_engine)
    other = build_clinic(engine, owner_engine)
    for c in (clinic, other):
        with c.session() as s:
            for k in range(5):
                _visit(s, c, datetime(2026, 3, 2 + k, 3 + k, tzinfo=timezone.utc))
            s.commit()
    with other.session() as s:
        other_rows = assert_exact(s)
    as_owner(owner_engine, clinic.org_id, "UPDATE location SET time_zone = 'Asia/Tokyo' WHERE id = :l",
             l=clinic.location_id)
    with clinic.session() as s:
        assert rows(s, TABLE) != rows(s, EXPECTED)
    as_owner(owner_engine, clinic.org_id, "SELECT medspa_visit_daily_backfill()")
    with clinic.session() as s:
        assert_exact(s)
    with other.session() as s:
        assert rows(s, TABLE) == other_rows


def test_rebooking_flags_follow_later_bookings_of_the_client(engine, owner_engine):
    """Known flags: a booking made at the visit (same local day), one within 90 days, none; a
    later booking expired (a cancelled one still counts), moved to another client, or deleted
    changes the earlier visit."""
    clinic = build_clinic(engine, owner_engine)  # America/New_York
    at = datetime(2026, 4, 6, 15, tzinfo=timezone.utc)  # 11:00 EDT
    with clinic.session() as s:
        c1, c2 = _client(s, clinic, 0), _client(s, clinic, 1)
        v1 = _visit(s, clinic, at, client_id=c1)
        v2 = _visit(s, clinic, at, client_id=c2)
        s.commit()
    actor = Actor(org_id=clinic.org_id, role="owner", label="test owner")
    kw = {"start": date(2026, 4, 6), "end": date(2026, 4, 6), "location_id": None, "now": NOW}

    def figure() -> tuple[int, int, int]:
        with clinic.session() as s:
            assert_rebooking_exact(s, clinic.org_id)
            r = an.rebooking(s, actor, **kw)
            return r.visits, r.rebooked, r.rebooked_before_leaving

    assert figure() == (2, 0, 0)
    with clinic.session() as s:  # c1 books at the desk at 11:40 local for May: before leaving
        b1 = _visit(s, clinic, at + timedelta(days=30), client_id=c1, status="confirmed",
                    created_at=at + timedelta(minutes=40))
        s.commit()
    assert figure() == (2, 1, 1)
    with clinic.session() as s:  # c2 books from home 20 days later: rebooked, not before leaving
        b2 = _visit(s, clinic, at + timedelta(days=60), client_id=c2, status="confirmed",
                    created_at=at + timedelta(days=20))
        s.commit()
    assert figure() == (2, 2, 1)
    with clinic.session() as s:
        s.execute(text("UPDATE appointment SET status = 'cancelled' WHERE id = :i"), {"i": b1.id})
        s.commit()
    assert figure() == (2, 2, 1)  # a booking later cancelled was still made
    with clinic.session() as s:
        s.execute(text("UPDATE appointment SET status = 'expired' WHERE id = :i"), {"i": b1.id})
        s.execute(text("UPDATE appointment SET client_id = :c WHERE id = :i"), {"c": c1, "i": b2.id})
        s.commit()
    assert figure() == (2, 1, 0)  # v1 rebooked through b2 (created 20 days after), v2 not
    as_owner(owner_engine, clinic.org_id, "DELETE FROM appointment WHERE id = :i", i=b2.id)
    assert figure() == (2, 0, 0)
    with clinic.session() as s:  # v2 no longer completed: out of the denominator
        s.execute(text("UPDATE appointment SET status = 'no_show' WHERE id = :i"), {"i": v2.id})
        s.commit()
    assert figure() == (1, 0, 0)
    assert v1.id
