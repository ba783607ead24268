"""revenue_daily (migration 0015): the ledger summed per location, local day, service and entry
type, kept by statement-level triggers on ledger_entry. After every kind of change the table
equals a from-scratch GROUP BY over ledger_entry, and the revenue reports that read it equal
the raw computation over the ledger (the SQL revenue.py used before 0015, kept below)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlmodel import Session

from medspa.domain.analytics import revenue as rv
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.service import add_location
from tests.factories import build_clinic
from tests.test_analytics import _client
from tests.test_analytics_trends import _visit

NOW = datetime(2027, 6, 1, tzinfo=timezone.utc)

EXPECTED = """
    SELECT e.org_id, e.location_id, (e.created_at AT TIME ZONE l.time_zone)::date, e.service_id, e.entry_type,
           count(*)::int, sum(e.amount_cents)::bigint
    FROM ledger_entry e JOIN location l ON l.id = e.location_id
    WHERE e.location_id IS NOT NULL AND e.service_id IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"""
TABLE = """
    SELECT org_id, location_id, local_day, service_id, entry_type, lines, amount_cents
    FROM revenue_daily ORDER BY 1, 2, 3, 4, 5"""


def rows(s, sql: str, **params) -> list[tuple]:
    return [tuple(r) for r in s.execute(text(sql), params).all()]


def assert_exact(s) -> list[tuple]:
    expected = rows(s, EXPECTED)
    assert rows(s, TABLE) == expected
    return expected


# --- the raw computation (revenue.py before migration 0015) -------------------------------------
_RAW_MONTH = "to_char((e.created_at AT TIME ZONE l.time_zone), 'YYYY-MM')"
_RAW_GROUPS = {"month": _RAW_MONTH, "category": "s.category", "location": "e.location_id::text",
               "service": "e.service_id::text", "month_category": f"{_RAW_MONTH} || '|' || s.category",
               "provider": "((SELECT a.provider_id FROM appointment a WHERE a.id = e.appointment_id))::text"}
_RAW_LEDGER = """
    FROM ledger_entry e
    JOIN location l ON l.id = e.location_id JOIN service s ON s.id = e.service_id
    WHERE e.created_at >= :lo AND e.created_at < :hi
      AND (e.created_at AT TIME ZONE l.time_zone)::date BETWEEN :start AND :end
      AND (CAST(:loc AS bigint) IS NULL OR e.location_id = CAST(:loc AS bigint))
"""


def _raw_params(start: date, end: date, loc: int | None) -> dict:
    return {"start": start, "end": end, "loc": loc,
            "lo": datetime.combine(start - timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc),
            "hi": datetime.combine(end + timedelta(days=2), datetime.min.time(), tzinfo=timezone.utc)}


def raw_revenue(s, start, end, loc, by) -> list[rv.RevenueLine]:
    return [rv.RevenueLine(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in s.execute(text(
        f"SELECT {_RAW_GROUPS[by]} AS k, {rv._SUMS} {_RAW_LEDGER} GROUP BY k ORDER BY k"),
        _raw_params(start, end, loc)).all()]


def raw_ticket(s, start, end, loc) -> rv.TicketSummary:
    r = s.execute(text(f"""
        SELECT count(*) FILTER (WHERE e.entry_type = 'sale'),
               coalesce(sum(e.amount_cents) FILTER (WHERE e.entry_type = 'sale'), 0),
               coalesce(sum(e.amount_cents), 0),
               count(DISTINCT coalesce(e.client_id, (SELECT a.client_id FROM appointment a
                                                     WHERE a.id = e.appointment_id)))
        {_RAW_LEDGER}"""), _raw_params(start, end, loc)).one()
    return rv.TicketSummary(int(r[0]), int(r[1]), int(r[2]), int(r[3]))


def raw_top(s, start, end, loc) -> list[rv.ServiceSales]:
    return [rv.ServiceSales(int(r[0]), r[1], r[2], int(r[3]), int(r[4])) for r in s.execute(text(f"""
        SELECT s.id, s.name, s.category, count(*), sum(e.amount_cents) AS sales {_RAW_LEDGER}
          AND e.entry_type = 'sale'
        GROUP BY s.id, s.name, s.category ORDER BY sales DESC, s.name, s.id LIMIT 10"""),
        _raw_params(start, end, loc)).all()]


def assert_reports_match_raw(s, clinic, days: list[date], locations: list[int]) -> None:
    actor = Actor(org_id=clinic.org_id, role="owner", label="test owner")
    ranges = [(d, d) for d in days] + [(min(days) - timedelta(days=n), max(days) + timedelta(days=n))
                                     for n in (1, 2, 3, 40)]
    for start, end in ranges:
        for loc in [None, *locations]:
            args = {"start": start, "end": end, "location_id": loc, "now": NOW}
            for by in rv.REVENUE_GROUPS:
                assert rv.revenue(s, actor, **args, by=by) == raw_revenue(s, start, end, loc, by), (by, start, loc)
            assert rv.ticket_summary(s, actor, **args) == raw_ticket(s, start, end, loc)
            assert rv.top_services(s, actor, **args) == raw_top(s, start, end, loc)


# --- writing lines ----------------------------------------------------------------------------
def line(s, clinic, entry_type: str, cents: int, at: datetime, *, appointment_id: int | None,
         client_id: int | None = None) -> int:
    """One ledger line as the app role writes it (0014's trigger copies the visit's location/service)."""
    return s.execute(text("""
        INSERT INTO ledger_entry (org_id, client_id, appointment_id, entry_type, amount_cents, currency, created_at)
        VALUES (:o, :c, :a, :t, :m, 'USD', :at) RETURNING id"""),
        {"o": clinic.org_id, "c": client_id, "a": appointment_id, "t": entry_type, "m": cents, "at": at}).scalar()


def as_owner(owner_engine, org_id: int, *sql: str, **params) -> None:
    """Statements the app role may not run (updating / deleting ledger lines), in the clinic."""
    with Session(owner_engine) as s:
        s.execute(text("SELECT set_config('app.org_id', :o, true)"), {"o": str(org_id)})
        for q in sql:
            s.execute(text(q), params)
        s.commit()


def test_every_kind_of_change_keeps_the_table_exact(engine, owner_engine):
    # New York (west of UTC) and Tokyo (east of UTC): lines either side of each local midnight
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        tokyo = add_location(s, clinic.system, "Tokyo", "Asia/Tokyo").id
        c1, c2 = _client(s, clinic, 0), _client(s, clinic, 1)
        v_ny = _visit(s, clinic, datetime(2026, 3, 31, 14, tzinfo=timezone.utc), client_id=c1)
        v_tk = _visit(s, clinic, datetime(2026, 3, 31, 2, tzinfo=timezone.utc), client_id=c2, location_id=tokyo)
        v_nc = _visit(s, clinic, datetime(2026, 4, 2, 14, tzinfo=timezone.utc))  # a visit without a client
        s.commit()
    with clinic.session() as s:
        # New York midnight of Apr 1 (EDT) = 04:00Z; Tokyo midnight of Apr 1 = Mar 31 15:00Z
        ny_before, ny_after = datetime(2026, 4, 1, 3, 59, 59, tzinfo=timezone.utc), datetime(2026, 4, 1, 4, tzinfo=timezone.utc)
        tk_before, tk_after = datetime(2026, 3, 31, 14, 59, 59, tzinfo=timezone.utc), datetime(2026, 3, 31, 15, tzinfo=timezone.utc)
        # single inserts
        line(s, clinic, "deposit_paid", 5000, ny_before, appointment_id=v_ny.id, client_id=c1)
        assert assert_exact(s) == [(clinic.org_id, clinic.location_id, date(2026, 3, 31), clinic.services["botox"],
                                    "deposit_paid", 1, 5000)]
        line(s, clinic, "sale", 35000, ny_after, appointment_id=v_ny.id, client_id=c1)
        line(s, clinic, "deposit_applied", -5000, ny_after, appointment_id=v_ny.id, client_id=c1)
        line(s, clinic, "processing_fee", -175, ny_after, appointment_id=v_ny.id, client_id=c1)
        line(s, clinic, "deposit_paid", 5000, tk_before, appointment_id=v_tk.id, client_id=c2)
        line(s, clinic, "sale", 35000, tk_after, appointment_id=v_tk.id, client_id=c2)
        line(s, clinic, "sale", 35000, ny_after, appointment_id=v_nc.id)  # the client through its visit: none
        # a line without a visit is not in the table (nor in the reports)
        line(s, clinic, "deposit_paid", 900, ny_after, appointment_id=None, client_id=c1)
        table = assert_exact(s)
        days = {(r[1], r[2]) for r in table}
        assert (clinic.location_id, date(2026, 3, 31)) in days and (clinic.location_id, date(2026, 4, 1)) in days
        assert (tokyo, date(2026, 3, 31)) in days and (tokyo, date(2026, 4, 1)) in days
        # a refund, and a 0-cent line (counted, no money)
        line(s, clinic, "sale_refunded", -10000, ny_after + timedelta(days=1), appointment_id=v_ny.id, client_id=c1)
        line(s, clinic, "deposit_forfeited", 0, ny_after, appointment_id=v_ny.id, client_id=c1)
        assert_exact(s)
        # one bulk INSERT ... SELECT of 2,000 lines over both locations, spread over days and hours
        s.execute(text("""
            INSERT INTO ledger_entry (org_id, client_id, appointment_id, entry_type, amount_cents, currency, created_at)
            SELECT :o, CASE WHEN g % 5 = 0 THEN NULL ELSE :c END,
                   (ARRAY[:a1, :a2, :a3]::bigint[])[1 + g % 3],
                   (ARRAY['deposit_paid', 'sale_refunded', 'deposit_applied', 'processing_fee', 'charge_voided'])[1 + g % 5],
                   (g % 97) * 100 - 2000, 'USD', :t0 + make_interval(hours => g * 7 % 2000, mins => g % 60)
            FROM generate_series(1, 2000) AS g ORDER BY random()"""),
            {"o": clinic.org_id, "c": c1, "a1": v_ny.id, "a2": v_tk.id, "a3": v_nc.id,
             "t0": datetime(2026, 3, 20, tzinfo=timezone.utc)})
        assert_exact(s)
        assert_reports_match_raw(s, clinic, [date(2026, 3, 31), date(2026, 4, 1)], [clinic.location_id, tokyo])
        # an appointment moved to another location and another service: 0014's trigger updates
        # its lines, this table moves their sums (local days in the new zone)
        s.execute(text("UPDATE appointment SET location_id = :l WHERE id = :id"), {"l": tokyo, "id": v_ny.id})
        assert_exact(s)
        s.execute(text("UPDATE appointment SET service_id = :sv WHERE id = :id"),
                  {"sv": clinic.services["facial"], "id": v_tk.id})
        assert_exact(s)
        # updates that change nothing relevant leave the table alone
        s.execute(text("UPDATE appointment SET notes = 'x' WHERE org_id = :o"), {"o": clinic.org_id})
        assert_exact(s)
        assert_reports_match_raw(s, clinic, [date(2026, 3, 31), date(2026, 4, 1)], [clinic.location_id, tokyo])
        s.commit()
    # the owner's changes of lines (the app role may not update or delete ledger lines)
    as_owner(owner_engine, clinic.org_id,
             "UPDATE ledger_entry SET amount_cents = amount_cents + 1 WHERE id % 7 = 0",
             "UPDATE ledger_entry SET created_at = created_at + interval '11 hours' WHERE id % 5 = 0",
             "UPDATE ledger_entry SET client_id = NULL WHERE id % 3 = 0")
    with clinic.session() as s:
        assert_exact(s)
    # a line's visit removed (no longer in the table), a line given a visit
    as_owner(owner_engine, clinic.org_id, "UPDATE ledger_entry SET appointment_id = NULL WHERE id % 11 = 0",
             "UPDATE ledger_entry SET appointment_id = :a WHERE appointment_id IS NULL AND id % 2 = 0 "
             "AND entry_type <> 'sale'", a=v_nc.id)  # one sale per visit (v_nc has one): ids vary by run
    with clinic.session() as s:
        assert_exact(s)
    # deletes: some lines, then every line of one visit, then all (no empty rows stay)
    as_owner(owner_engine, clinic.org_id, "DELETE FROM ledger_entry WHERE id % 4 = 1")
    with clinic.session() as s:
        assert_exact(s)
        assert_reports_match_raw(s, clinic, [date(2026, 3, 31), date(2026, 4, 1)], [clinic.location_id, tokyo])
    as_owner(owner_engine, clinic.org_id, "DELETE FROM ledger_entry WHERE appointment_id = :a", a=v_tk.id)
    with clinic.session() as s:
        assert_exact(s)
        assert s.execute(text("SELECT count(*) FROM revenue_daily WHERE service_id = :sv"),
                         {"sv": clinic.services["facial"]}).scalar() == 0
    as_owner(owner_engine, clinic.org_id, "DELETE FROM ledger_entry")
    with clinic.session() as s:
        assert assert_exact(s) == []


def test_checkout_lines_and_two_clinics(engine, owner_engine):
    """Two clinics (west and east of UTC) each see and change only their own rows; the reports
    equal the raw computation in each."""
    a = build_clinic(engine, owner_engine, time_zone="America/Los_Angeles")
    b = build_clinic(engine, owner_engine, time_zone="Australia/Sydney")
    for clinic, hour in ((a, 7), (b, 13)):  # 07:00Z = midnight in Los Angeles (PDT), 13:00Z in Sydney (AEST)
        with clinic.session() as s:
            c = _client(s, clinic, 0)
            for k in range(6):
                at = datetime(2026, 6, 10 + k, hour, tzinfo=timezone.utc) - timedelta(seconds=k % 2)
                v = _visit(s, clinic, at, client_id=c)
                line(s, clinic, "deposit_paid", 5000, at - timedelta(days=3), appointment_id=v.id, client_id=c)
                line(s, clinic, "sale", 35000 + k, at, appointment_id=v.id, client_id=c)
                line(s, clinic, "deposit_applied", -5000, at, appointment_id=v.id, client_id=c)
            s.commit()
    for clinic in (a, b):
        with clinic.session() as s:
            table = assert_exact(s)
            assert {r[0] for r in table} == {clinic.org_id}
            assert_reports_match_raw(s, clinic, [date(2026, 6, 9), date(2026, 6, 10), date(2026, 6, 15)],
                                     [clinic.location_id])
    # without a clinic (app.org_id unset) nothing is visible: fails closed
    with Session(engine) as s:
        assert s.execute(text("SELECT count(*) FROM revenue_daily")).scalar() == 0


def test_the_app_role_only_reads_the_table(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        v = _visit(s, clinic, datetime(2026, 3, 2, 15, tzinfo=timezone.utc))
        line(s, clinic, "sale", 35000, v.start_at, appointment_id=v.id)
        s.commit()
    for sql in ("UPDATE revenue_daily SET lines = 5",
                "DELETE FROM revenue_daily",
                "INSERT INTO revenue_daily VALUES (1, 1, '2026-01-01', 1, 'sale', 1, 1)",
                "SELECT medspa_revenue_daily_backfill()"):
        with clinic.session() as s:
            with pytest.raises(ProgrammingError, match="permission denied"):
                s.execute(text(sql))
    with clinic.session() as s:
        assert len(assert_exact(s)) == 1


def test_backfill_rebuilds_a_clinic(engine, owner_engine):
    """medspa_revenue_daily_backfill (the migration's, per clinic with app.org_id set, as the
    owner) restores a clinic's rows, e.g. after a location's time zone was changed by hand (the
    app never changes one), and leaves other clinics alone."""
    clinic = build_clinic(engine, owner_engine)
    other = build_clinic(engine, owner_engine)
    for c in (clinic, other):
        with c.session() as s:
            for k in range(5):
                v = _visit(s, c, datetime(2026, 3, 2 + k, 3 + k, tzinfo=timezone.utc))
                line(s, c, "sale", 35000, v.start_at, appointment_id=v.id)
            s.commit()
    with other.session() as s:
        other_rows = assert_exact(s)
    # a zone changed behind the app's back: the table keeps the old local days until the backfill
    as_owner(owner_engine, clinic.org_id, "UPDATE location SET time_zone = 'Asia/Tokyo' WHERE id = :l",
             l=clinic.location_id)
    with clinic.session() as s:
        assert rows(s, TABLE) != rows(s, EXPECTED)
    as_owner(owner_engine, clinic.org_id, "SELECT medspa_revenue_daily_backfill()")
    with clinic.session() as s:
        assert_exact(s)
    with other.session() as s:
        assert rows(s, TABLE) == other_rows
    with Session(owner_engine) as s:
        with pytest.raises(Exception, match="app.org_id is not set"):
            s.execute(text("SELECT medspa_revenue_daily_backfill()"))
