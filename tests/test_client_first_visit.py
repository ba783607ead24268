"""client_first_visit (migration 0012): each client's first and second completed visits, kept
by statement-level triggers on appointment. After every kind of change the table equals a
from-scratch computation over appointment; bulk statements, two clinics (row-level security),
the app role's read-only access and the migration's backfill."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlmodel import Session

from medspa.domain.practice.service import add_location
from tests.factories import build_clinic
from tests.test_analytics import _client
from tests.test_analytics_trends import _visit

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)

# first = earliest completed visit (start, then id); second = earliest completed visit starting
# strictly after the first's start (start, then id)
EXPECTED = """
    WITH f AS (
        SELECT DISTINCT ON (a.client_id) a.org_id, a.client_id, a.id, a.location_id, a.start_at
        FROM appointment a WHERE a.status = 'completed' AND a.client_id IS NOT NULL
        ORDER BY a.client_id, a.start_at, a.id)
    SELECT f.org_id, f.client_id, f.id, f.location_id, f.start_at, s.id, s.start_at
    FROM f LEFT JOIN LATERAL (
        SELECT b.id, b.start_at FROM appointment b
        WHERE b.client_id = f.client_id AND b.status = 'completed' AND b.start_at > f.start_at
        ORDER BY b.start_at, b.id LIMIT 1) s ON true
    ORDER BY f.client_id"""
TABLE = """
    SELECT org_id, client_id, first_appointment_id, first_location_id, first_start_at,
           second_appointment_id, second_start_at
    FROM client_first_visit ORDER BY client_id"""


def rows(s, sql: str) -> list[tuple]:
    return [tuple(r) for r in s.execute(text(sql)).all()]


def assert_exact(s) -> list[tuple]:
    expected = rows(s, EXPECTED)
    assert rows(s, TABLE) == expected
    return expected


def first_second(s, client_id: int) -> tuple:
    return tuple(s.execute(text("SELECT first_appointment_id, second_appointment_id FROM client_first_visit "
                                "WHERE client_id = :c"), {"c": client_id}).one())


def test_every_kind_of_change_keeps_the_table_exact(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        c1, c2, c3 = (_client(s, clinic, n) for n in range(3))
        # out of order: a later visit first, then earlier ones
        v_late = _visit(s, clinic, T0 + timedelta(days=30), client_id=c1)
        assert_exact(s)
        assert first_second(s, c1) == (v_late.id, None)
        v_mid = _visit(s, clinic, T0 + timedelta(days=10), client_id=c1)
        assert first_second(s, c1) == (v_mid.id, v_late.id)
        # a later-inserted earlier completed visit becomes the first
        v_early = _visit(s, clinic, T0, client_id=c1)
        assert first_second(s, c1) == (v_early.id, v_mid.id)
        # a visit at the same start is not a second visit (a return starts after the first)
        v_tie = _visit(s, clinic, T0, client_id=c1)
        assert first_second(s, c1) == (v_early.id, v_mid.id)
        # statuses other than completed, and visits without a client, do not count
        booked = _visit(s, clinic, T0 - timedelta(days=5), client_id=c2, status="confirmed")
        _visit(s, clinic, T0 - timedelta(days=6), client_id=c2, status="no_show")
        _visit(s, clinic, T0 - timedelta(days=7), status="completed")
        assert assert_exact(s) and s.execute(text("SELECT count(*) FROM client_first_visit "
                                                  "WHERE client_id = :c"), {"c": c2}).scalar() == 0
        # completing a confirmed visit
        s.execute(text("UPDATE appointment SET status = 'completed' WHERE id = :id"), {"id": booked.id})
        assert first_second(s, c2) == (booked.id, None)
        assert_exact(s)
        # a completed visit changed to another status: the next one moves up (the tie is first now)
        s.execute(text("UPDATE appointment SET status = 'no_show' WHERE id = :id"), {"id": v_early.id})
        assert first_second(s, c1) == (v_tie.id, v_mid.id)
        assert_exact(s)
        # a completed visit moved to another start
        s.execute(text("UPDATE appointment SET start_at = start_at + interval '60 days', "
                       "end_at = end_at + interval '60 days' WHERE id = :id"), {"id": v_tie.id})
        assert first_second(s, c1) == (v_mid.id, v_late.id)
        assert_exact(s)
        # updates that change nothing relevant leave the row alone
        s.execute(text("UPDATE appointment SET notes = 'x' WHERE org_id = :o"), {"o": clinic.org_id})
        assert_exact(s)
        # deleting the first visit (its occupancy-free row): the second moves up
        s.execute(text("DELETE FROM appointment WHERE id = :id"), {"id": v_mid.id})
        assert first_second(s, c1) == (v_late.id, v_tie.id)
        assert_exact(s)
        # a client_id change moves the visit from one client to another (c3 had none)
        s.execute(text("UPDATE appointment SET client_id = :c WHERE id = :id"), {"c": c3, "id": v_late.id})
        assert first_second(s, c1) == (v_tie.id, None)
        assert first_second(s, c3) == (v_late.id, None)
        assert_exact(s)
        # the last completed visit of a client goes: the client's row goes
        s.execute(text("UPDATE appointment SET status = 'cancelled' WHERE id = :id"), {"id": booked.id})
        assert_exact(s)
        assert s.execute(text("SELECT count(*) FROM client_first_visit WHERE client_id = :c"),
                         {"c": c2}).scalar() == 0
        # a location change of the first visit
        loc2 = add_location(s, clinic.system, "Second", clinic.time_zone).id
        s.execute(text("UPDATE appointment SET location_id = :l WHERE id = :id"), {"l": loc2, "id": v_late.id})
        assert_exact(s)
        s.commit()  # the deferred foreign keys to appointment hold at commit
    with clinic.session() as s:
        assert len(assert_exact(s)) == 2


def test_bulk_statements_and_many_clients(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        clients = [_client(s, clinic, n) for n in range(120)]  # more than the per-client lock limit
        template = _visit(s, clinic, T0 - timedelta(days=400), client_id=clients[0])
        # one INSERT ... SELECT of 3,000 visits: 25 per client, every status, shuffled order
        s.execute(text("""
            INSERT INTO appointment (org_id, display_code, booking_token, location_id, service_id, provider_id, client_id,
                                     start_at, end_at, status, price_cents, deposit_cents, currency, source,
                                     notes, created_at)
            SELECT t.org_id, medspa_display_code(t.id * 10000 + g), md5(random()::text || g), t.location_id, t.service_id, t.provider_id,
                   (CAST(:clients AS bigint[]))[1 + g % 120],
                   t.start_at + make_interval(days => (g * 37) % 300, hours => g % 3),
                   t.end_at + make_interval(days => (g * 37) % 300, hours => g % 3),
                   (ARRAY['completed','completed','no_show','cancelled','confirmed'])[1 + (g / 7) % 5],
                   0, 0, 'USD', 'staff', '', now()
            FROM appointment t, generate_series(1, 3000) AS g
            WHERE t.id = :tid ORDER BY random()"""), {"clients": clients, "tid": template.id})
        assert len(assert_exact(s)) == 120
        # one UPDATE of many rows: a third of the completed visits become no-shows
        s.execute(text("UPDATE appointment SET status = 'no_show' "
                       "WHERE org_id = :o AND status = 'completed' AND id % 3 = 0"), {"o": clinic.org_id})
        assert_exact(s)
        # one DELETE of many rows
        s.execute(text("DELETE FROM appointment WHERE org_id = :o AND id % 4 = 1"), {"o": clinic.org_id})
        assert_exact(s)
        s.commit()


def test_each_clinic_sees_and_changes_only_its_own_rows(engine, owner_engine):
    a = build_clinic(engine, owner_engine)
    b = build_clinic(engine, owner_engine, time_zone="Europe/London")
    with a.session() as s:
        ca = _client(s, a, 0)
        _visit(s, a, T0, client_id=ca)
        s.commit()
    with b.session() as s:
        cb = _client(s, b, 0)
        _visit(s, b, T0, client_id=cb)
        _visit(s, b, T0 + timedelta(days=3), client_id=cb)
        assert rows(s, "SELECT org_id, client_id FROM client_first_visit") == [(b.org_id, cb)]
        assert_exact(s)
        s.commit()
    with a.session() as s:
        assert rows(s, "SELECT org_id, client_id FROM client_first_visit") == [(a.org_id, ca)]
        assert_exact(s)
    # without a clinic (app.org_id unset) nothing is visible: fails closed
    with Session(engine) as s:
        assert s.execute(text("SELECT count(*) FROM client_first_visit")).scalar() == 0


def test_the_app_role_only_reads_the_table(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        c = _client(s, clinic, 0)
        v = _visit(s, clinic, T0, client_id=c)
        s.commit()
    for sql in ("UPDATE client_first_visit SET second_start_at = now()",
                "DELETE FROM client_first_visit",
                "SELECT medspa_client_first_visit_backfill()",
                "SELECT medspa_client_first_visit_refresh(ARRAY[1]::bigint[], ARRAY[1]::bigint[])"):
        with clinic.session() as s:
            with pytest.raises(ProgrammingError, match="permission denied"):
                s.execute(text(sql))
    with clinic.session() as s:
        assert first_second(s, c) == (v.id, None)


def test_backfill_rebuilds_a_clinic(engine, owner_engine):
    """The migration's backfill (medspa_client_first_visit_backfill, run per clinic with
    app.org_id set, as the owner under forced row-level security) restores removed rows,
    corrects wrong ones and leaves other clinics alone."""
    clinic = build_clinic(engine, owner_engine)
    other = build_clinic(engine, owner_engine)
    with other.session() as s:
        co = _client(s, other, 0)
        _visit(s, other, T0, client_id=co)
        s.commit()
    with clinic.session() as s:
        cs = [_client(s, clinic, n) for n in range(4)]
        for n, c in enumerate(cs):
            for k in range(n + 1):
                _visit(s, clinic, T0 + timedelta(days=7 * k, hours=n), client_id=c)
        s.commit()
        expected = assert_exact(s)
    with other.session() as s:
        other_rows = assert_exact(s)

    def as_owner(org_id: int, *sql: str) -> None:
        with Session(owner_engine) as s:
            s.execute(text("SELECT set_config('app.org_id', :o, true)"), {"o": str(org_id)})
            for q in sql:
                s.execute(text(q))
            s.commit()

    # break the clinic's rows behind the triggers' back (owner, triggers of appointment not involved)
    as_owner(clinic.org_id,
             f"DELETE FROM client_first_visit WHERE client_id IN ({cs[0]}, {cs[1]})",
             f"UPDATE client_first_visit SET second_start_at = NULL, second_appointment_id = NULL "
             f"WHERE client_id = {cs[3]}")
    with clinic.session() as s:
        assert rows(s, TABLE) != expected
    as_owner(clinic.org_id, "SELECT medspa_client_first_visit_backfill()")
    with clinic.session() as s:
        assert rows(s, TABLE) == expected
    with other.session() as s:
        assert rows(s, TABLE) == other_rows
    # a clinic must be set
    with Session(owner_engine) as s:
        with pytest.raises(Exception, match="app.org_id is not set"):
            s.execute(text("SELECT medspa_client_first_visit_backfill()"))
