"""The dashboard's data layer (medspa/features/dashboard/data.py) and the drill-down rows
(medspa/domain/analytics/details.py) on a real PostgreSQL: previous-period changes on a small
hand-made history, rows with date/client/service, one audit row per drill or export, every
drill's total equal to its tile, CSV content."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from medspa.domain.analytics import details as dt
from medspa.domain.analytics import service as an
from medspa.domain.clients.models import Client
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.payments.models import LedgerEntry
from medspa.domain.scheduling.models import Appointment
from medspa.features.dashboard import data
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 7, 1, 16, 0, tzinfo=timezone.utc)
JUNE = {"start": date(2026, 6, 1), "end": date(2026, 6, 30), "location_id": None, "now": NOW}


def ny(month: int, day: int, hour: int) -> datetime:
    return datetime.combine(date(2026, month, day), time(hour), tzinfo=NY).astimezone(timezone.utc)


@pytest.fixture
def history(engine, owner_engine):
    """May (the previous 30 days of June) and June, at one New York location.

    May 2-31: 3 completed (clients 0, 1, 1), no no-show, 1 cancellation; $50 deposit.
    June: 4 completed (clients 0, 1, 2, 0), 1 no-show, 2 cancellations (1 late);
    deposits $50 x 3, one refunded; two checkouts at $350 with their $50 deposits applied:
    net 150 - 50 + 700 - 100 = $700, of 3 clients."""
    clinic = build_clinic(engine, owner_engine, time_zone="America/New_York")
    with clinic.session() as s:
        clients = []
        for n, (first, last) in enumerate((("Ana", "Alves"), ("Ben", "Brook"), ("=Cleo", "Cruz"))):
            c = Client(org_id=clinic.org_id, first_name=first, last_name=last, email=f"c{n}-{clinic.slug}@example.com")
            s.add(c)
            s.flush()
            clients.append(c.id)

        def visit(month, day, hour, status, client, late=None):
            start = ny(month, day, hour)
            a = Appointment(org_id=clinic.org_id, location_id=clinic.location_id,
                            service_id=clinic.services["botox"], provider_id=clinic.provider_ids[0],
                            client_id=clients[client], start_at=start, end_at=start + timedelta(minutes=30),
                            status=status, price_cents=35000, created_at=start - timedelta(days=7),
                            cancellation_late=late)
            s.add(a)
            s.flush()
            return a

        may = [visit(5, 4, 10, "completed", 0), visit(5, 6, 10, "completed", 1), visit(5, 8, 10, "completed", 1)]
        visit(5, 9, 11, "cancelled", 0, late=False)
        june = [visit(6, 10, 10, "completed", 0), visit(6, 11, 10, "completed", 1),
                visit(6, 12, 10, "completed", 2), visit(6, 20, 10, "completed", 0)]
        no_show = visit(6, 15, 11, "no_show", 1)
        visit(6, 16, 11, "cancelled", 2, late=True)
        visit(6, 17, 11, "cancelled", 0, late=False)
        ledger = [(may[0], "deposit_paid", 5000), (june[0], "deposit_paid", 5000), (june[1], "deposit_paid", 5000),
                  (june[2], "deposit_paid", 5000), (june[2], "deposit_refunded", -5000),
                  (june[0], "sale", 35000), (june[0], "deposit_applied", -5000),
                  (june[1], "sale", 35000), (june[1], "deposit_applied", -5000)]
        for appt, kind, amount in ledger:
            s.add(LedgerEntry(org_id=clinic.org_id, appointment_id=appt.id, client_id=appt.client_id,
                              entry_type=kind, amount_cents=amount, created_at=appt.start_at))
        s.commit()
    return clinic, clients, june, no_show


def _audits(clinic, action: str) -> list[dict]:
    with clinic.session() as s:
        return [dict(r._mapping) for r in s.execute(text(
            "SELECT object_id, detail, occurred_at FROM audit_event WHERE action = :a ORDER BY id"), {"a": action})]


def test_change_text_and_tone():
    assert data.change("rate", 0.086, 0.074, higher_is_better=False, days=30) == (
        "▲ 1.2 pts vs previous 30 days (7.4%)", "bad")
    assert data.change("rate", 0.5, 0.25, higher_is_better=True, days=7) == (
        "▲ 25.0 pts vs previous 7 days (25.0%)", "good")
    assert data.change("count", 3, 4, higher_is_better=True, days=1) == ("▼ 25.0% vs previous 1 day (4)", "bad")
    assert data.change("money", 15000, 10000, higher_is_better=True, days=30) == (
        "▲ 50.0% vs previous 30 days ($100.00)", "good")
    assert data.change("count", 0, 0, higher_is_better=True, days=30) == ("= same as previous 30 days", "neutral")
    assert data.change("count", 2, 0, higher_is_better=False, days=30) == ("▲ new vs previous 30 days (0)", "bad")
    assert data.change("rate", 0.2, None, higher_is_better=False, days=30)[1] == "neutral"
    assert data.change("rate", 0.2, 0.2, higher_is_better=False, days=30) == (
        "= same as previous 30 days (20.0%)", "neutral")
    assert data.previous_range(date(2026, 6, 1), date(2026, 6, 30)) == (date(2026, 5, 2), date(2026, 5, 31))
    assert data.previous_range(date(2026, 3, 1), date(2026, 3, 1)) == (date(2026, 2, 28), date(2026, 2, 28))


def test_summary_tiles_against_the_previous_period(history, engine):
    clinic, *_ = history
    owner = clinic.staff_actor("owner")
    result = data.summary(owner, **JUNE, engine=engine)
    assert result.previous == (date(2026, 5, 2), date(2026, 5, 31))
    tiles = {t.key: t for t in result.tiles}
    assert [t.key for t in result.tiles] == list(data.TILE_KEYS)
    assert (tiles["no_show"].value, tiles["no_show"].detail) == ("20.0%", "1 no-shows of 5 due")
    assert (tiles["no_show"].change, tiles["no_show"].tone) == ("▲ 20.0 pts vs previous 30 days (0.0%)", "bad")
    assert (tiles["cancellations"].value, tiles["cancellations"].detail) == ("2", "1 late · 1 early")
    assert (tiles["cancellations"].change, tiles["cancellations"].tone) == (
        "▲ 100.0% vs previous 30 days (1)", "bad")
    # May: 2 new clients (Ana, Ben); June: Cleo
    assert (tiles["new_clients"].value, tiles["new_clients"].change, tiles["new_clients"].tone) == (
        "1", "▼ 50.0% vs previous 30 days (2)", "bad")
    assert (tiles["net_revenue"].value, tiles["net_revenue"].change, tiles["net_revenue"].tone) == (
        "$700.00", "▲ 1300.0% vs previous 30 days ($50.00)", "good")
    assert tiles["net_revenue"].detail == "$700.00 sales · $150.00 deposits · -$150.00 applied, refunds, fees"
    assert (tiles["average_ticket"].value, tiles["average_ticket"].change, tiles["average_ticket"].tone) == (
        "$350.00", "nothing to compare vs previous 30 days", "neutral")
    assert tiles["average_ticket"].detail == "$700.00 sales over 2 checkouts"
    assert (tiles["revenue_per_client"].value, tiles["revenue_per_client"].change) == (
        "$233.33", "▲ 366.7% vs previous 30 days ($50.00)")
    # 5 x 30 booked minutes of 30 days x 8 h; May: 90 of 30 x 480
    assert tiles["booked_util"].detail == "150 of 14,400 min"
    assert (tiles["booked_util"].value, tiles["booked_util"].change) == (
        "1.0%", "▲ 0.4 pts vs previous 30 days (0.6%)")
    # a later booking counts (even one later cancelled or missed) only if made after the visit began:
    # Ana's June 17 visit was booked on June 10 at 11:00, during her 10:00 visit; Ben's and Cleo's
    # next visits were booked before their June visits, and Ana's June 20 visit has none after it
    assert tiles["rebooking"].value == "25.0%"
    for t in result.tiles:
        assert t.definition and t.group in ("visits", "clients", "money")
    assert result.utilization == [{"id": str(clinic.provider_ids[0]), "name": "Provider 1", "booked": 1.0,
                                   "attended": 0.8}]
    assert result.categories == ["Neuromodulators", "", "", "", "", "", ""]
    assert [(r["month"], r["c0"]) for r in result.revenue][-3:] == [("2026-04", 0.0), ("2026-05", 50.0),
                                                                     ("2026-06", 700.0)]
    assert result.category_totals == [{"category": "Neuromodulators", "net": "$750.00"}]
    assert result.top_services == [{"id": str(clinic.services["botox"]), "name": "Botox",
                                    "category": "Neuromodulators", "checkouts": "2", "sales": "$700.00"}]


def test_every_tile_drill_adds_up_to_the_tile_and_is_audited_once(history, engine):
    clinic, clients, june, no_show = history
    owner = clinic.staff_actor("owner")
    tiles = {t.key: t for t in data.summary(owner, **JUNE, engine=engine).tiles}
    expected_rows = {"no_show": 5, "cancellations": 2, "booked_util": 5, "attended_util": 4, "rebooking": 4,
                     "new_clients": 1, "net_revenue": 8, "average_ticket": 2, "revenue_per_client": 8}
    for key in data.TILE_KEYS:
        before = len(_audits(clinic, "report.drill"))
        d = data.drill(owner, key, **JUNE, engine=engine)
        assert len(d.lines) == len(d.rows) == expected_rows[key], key
        assert tiles[key].value in d.summary, (key, tiles[key].value, d.summary)
        audits = _audits(clinic, "report.drill")
        assert len(audits) == before + 1
        assert audits[-1]["object_id"] == key and audits[-1]["detail"]["rows"] == expected_rows[key]
        assert audits[-1]["occurred_at"] == NOW
    d = data.drill(owner, "no_show", **JUNE, engine=engine)
    assert d.summary == "5 visits due, 1 no-shows = 20.0%"
    row = next(line for line in d.lines if line.what == "no show")
    assert row == data.DrillLine("2026-06-15 11:00", "Ben Brook", "Botox", "Provider 1", "Main", "no show", "")
    assert data.drill(owner, "net_revenue", **JUNE, engine=engine).summary == "8 ledger lines, net $700.00"
    assert data.drill(owner, "average_ticket", **JUNE, engine=engine).summary == (
        "2 checkouts, sales $700.00 = $350.00 average ticket")
    assert data.drill(owner, "revenue_per_client", **JUNE, engine=engine).summary == (
        "8 ledger lines of 3 clients, net $700.00 = $233.33 per client")
    cat = data.drill(owner, "revenue_category", "Neuromodulators", **JUNE, engine=engine)
    assert cat.summary == "9 ledger lines, net $750.00" and len(cat.rows) == 9
    top = data.drill(owner, "top_service", str(clinic.services["botox"]), **JUNE, engine=engine)
    assert top.summary == "2 checkouts, sales $700.00"
    assert [(line.client, line.what, line.value) for line in top.lines] == [
        ("Ana Alves", "sale", "$350.00"), ("Ben Brook", "sale", "$350.00")]
    assert sum(int(line.value.strip("min ")) for line in data.drill(owner, "booked_util", **JUNE, engine=engine).lines) == 150
    util = data.drill(owner, "provider_util", str(clinic.provider_ids[0]), **JUNE, engine=engine)
    assert util.summary == "5 visits, 150 booked minutes of 14,400 available = 1.0%"
    assert _audits(clinic, "report.drill")[-1]["object_id"] == f"provider_util:{clinic.provider_ids[0]}"
    assert sorted(_audits(clinic, "report.drill")[-1]["detail"]["client_ids"]) == sorted(clients)
    with pytest.raises(data.UnknownFigure):
        data.drill(owner, "provider_util", "not-a-number", **JUNE, engine=engine)
    with pytest.raises(data.UnknownFigure):
        data.drill(owner, "nope", **JUNE, engine=engine)


def test_details_rows_in_order_with_local_time_and_permission(history, engine):
    clinic, clients, june, no_show = history
    owner = clinic.staff_actor("manager")
    with clinic.session() as s:
        rows = dt.appointment_details(s, owner, [no_show.id, june[0].id, 999_999_999], figure="x", now=NOW)
        assert [(r.id, r.local_time, r.client, r.service, r.category, r.provider, r.location, r.status, r.minutes)
                for r in rows] == [
            (no_show.id, "2026-06-15 11:00", "Ben Brook", "Botox", "Neuromodulators", "Provider 1", "Main", "no_show", 30),
            (june[0].id, "2026-06-10 10:00", "Ana Alves", "Botox", "Neuromodulators", "Provider 1", "Main",
             "completed", 30)]
        ids = [i for i, _, _ in an.revenue_rows(s, owner, **JUNE)]
        lines = dt.ledger_details(s, owner, ids, figure="net_revenue", now=NOW, export=True)
        assert sum(r.amount_cents for r in lines) == 70000
        assert [(r.status, r.amount_cents, r.client) for r in lines][3] == ("deposit_refunded", -5000, "=Cleo Cruz")
        s.commit()
    assert _audits(clinic, "report.export")[-1]["detail"]["rows"] == 8
    with clinic.session() as s, pytest.raises(PermissionDenied):
        dt.appointment_details(s, clinic.staff_actor("front_desk"), [no_show.id], figure="x", now=NOW)


def test_csv_exports(history, engine):
    clinic, clients, june, no_show = history
    owner = clinic.staff_actor("owner")
    body, n = data.drill_csv(owner, "cancellations", **JUNE, engine=engine)
    assert n == 2
    assert body.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert rows[0] == data.DRILL_HEADER
    assert [r[:9] for r in rows[1:]] == [
        ["2026-06-16 11:00", "'=Cleo Cruz", "Botox", "Neuromodulators", "Provider 1", "Main", "cancelled",
         "cancelled", "late"],
        ["2026-06-17 11:00", "Ana Alves", "Botox", "Neuromodulators", "Provider 1", "Main", "cancelled",
         "cancelled", "early"]]
    audit = _audits(clinic, "report.export")[-1]
    assert audit["object_id"] == "cancellations" and audit["detail"]["rows"] == 2
    assert audit["detail"]["start"] == "2026-06-01"

    money_rows = list(csv.reader(io.StringIO(data.drill_csv(owner, "net_revenue", **JUNE, engine=engine)[0], newline="")))
    amounts = [r[data.DRILL_HEADER.index("amount")] for r in money_rows[1:]]
    assert amounts == ["50.00", "50.00", "50.00", "-50.00", "350.00", "-50.00", "350.00", "-50.00"]

    tiles = list(csv.reader(io.StringIO(data.report_csv(owner, "tiles", **JUNE, engine=engine), newline="")))
    assert tiles[0] == ["figure", "value", "change", "detail", "definition"]
    assert tiles[1][:3] == ["No-show rate", "20.0%", "▲ 20.0 pts vs previous 30 days (0.0%)"]
    revenue = list(csv.reader(io.StringIO(data.report_csv(owner, "revenue", **JUNE, engine=engine), newline="")))
    assert revenue == [["month", "category", "deposits", "sales", "deposits_applied", "refunds", "fees", "net"],
                       ["2026-05", "Neuromodulators", "50.00", "0.00", "0.00", "0.00", "0.00", "50.00"],
                       ["2026-06", "Neuromodulators", "150.00", "700.00", "100.00", "50.00", "0.00", "700.00"]]
    tops = list(csv.reader(io.StringIO(data.report_csv(owner, "top_services", **JUNE, engine=engine), newline="")))
    assert tops == [["service", "category", "checkouts", "sales"], ["Botox", "Neuromodulators", "2", "700.00"]]
    with pytest.raises(ValueError):
        data.report_csv(owner, "nope", **JUNE, engine=engine)
    with pytest.raises(PermissionDenied):
        data.drill(clinic.staff_actor("provider"), "no_show", **JUNE, engine=engine)


def test_chart_cells_open_to_rows_that_add_up(history, engine):
    clinic, clients, june, no_show = history
    owner = clinic.staff_actor("owner")
    result = data.summary(owner, **JUNE, engine=engine)
    assert result.trend_window == (date(2025, 7, 1), date(2026, 6, 30))
    by_month = {p["month"]: p for p in result.trend}
    assert len(by_month) == 12
    assert by_month["2026-06"]["no_show"] == 20.0 and by_month["2026-06"]["no_show_text"] == "20.0% (1 of 5)"
    assert by_month["2026-05"]["cancel_text"] == "25.0% (1 of 4, 0 late)"
    assert by_month["2026-04"]["no_show"] is None  # nothing due: a gap in the line, not 0
    june_no_show = data.drill(owner, "month_no_show", "2026-06", **JUNE, engine=engine)
    assert june_no_show.summary == "5 visits due, 1 no-shows = 20.0%" and len(june_no_show.rows) == 5
    may_cancel = data.drill(owner, "month_cancellations", "2026-05", **JUNE, engine=engine)
    assert (may_cancel.title, may_cancel.summary) == ("Cancellations, May 2026", "1 cancellations, 0 late")
    assert data.drill(owner, "month_rebooking", "2026-05", **JUNE, engine=engine).summary.startswith("3 completed visits")
    with pytest.raises(data.UnknownFigure):
        data.drill(owner, "month_no_show", "2019-01", **JUNE, engine=engine)

    # busiest hours: Wednesday 10:00 (June 10) and 11:00 Monday (June 15) ...
    live = [c for c in result.hours if c.key == "hour"]
    assert sum(int(c.text) for c in live) == 5  # 4 completed + 1 no-show; cancellations are not booked
    assert result.hours_columns == len(range(9, 18)) + 1 and result.hours[1].text == "9a"
    for c in live:
        assert len(data.drill(owner, "hour", c.arg, **JUNE, engine=engine).rows) == int(c.text), c.arg
    with pytest.raises(data.UnknownFigure):
        data.drill(owner, "hour", "9-25", **JUNE, engine=engine)

    # cohorts: May (Ana, Ben: both back in June / May 8) and June (Cleo); on July 1 every window is open
    cells = [(c.text, c.key) for c in result.retention]
    assert cells[:5] == [("Cohort", ""), ("Clients", ""), ("90 days", ""), ("180 days", ""), ("365 days", "")]
    assert cells[5:] == [("2026-06", ""), ("1", ""), ("", ""), ("", ""), ("", ""),
                         ("2026-05", ""), ("2", ""), ("", ""), ("", ""), ("", "")]
    later = {**JUNE, "now": datetime(2026, 10, 1, 16, tzinfo=timezone.utc)}
    may = [c for c in data.summary(owner, **later, engine=engine).retention if c.arg == "2026-05:90"]
    assert [(c.text, c.title) for c in may] == [("100.0%", "2026-05: 2 of 2 came back within 90 days")]
    d = data.drill(owner, "retention", "2026-05:90", **later, engine=engine)
    assert d.summary == "2 clients, 2 came back within 90 days = 100.0%"
    assert sorted(line.client for line in d.lines) == ["Ana Alves", "Ben Brook"]
    assert list(csv.reader(io.StringIO(data.report_csv(owner, "retention", **JUNE, engine=engine), newline="")))[1] == [
        "2026-05", "2", "", "", "", "", "", ""]


def test_money_is_shown_in_the_clinics_currency(history, engine, owner_engine):
    """A London clinic (GBP) saw every amount with a dollar sign: the dashboard formatted
    money on its own instead of through domain.money.format_money with the clinic's currency."""
    clinic, *_ = history
    with owner_engine.begin() as conn:
        conn.execute(text("update organization set currency = 'GBP' where id = :o"), {"o": clinic.org_id})
    owner = clinic.staff_actor("owner")
    tiles = {t.key: t for t in data.summary(owner, **JUNE, engine=engine).tiles}
    assert tiles["net_revenue"].value == "£700.00"
    assert tiles["average_ticket"].detail == "£700.00 sales over 2 checkouts"
    assert "$" not in "".join(t.value + t.detail + t.change for t in tiles.values())
    drill = data.drill(owner, "net_revenue", **JUNE, engine=engine)
    assert drill.summary.endswith("net £700.00")
    assert data.money(-150) == "-$1.50"  # outside a clinic's report: dollars, the default


def test_a_change_against_too_small_a_base_says_new_not_a_huge_percent():
    """Mend (issue "One way in"): a previous period with (almost) no data showed "▲ 33133%".
    A base below $50 (MIN_MONEY_BASE_CENTS) or a count of 0 gives "new" for a rise, a bare
    arrow for a fall, and both periods empty no arrow at all."""
    assert data.change("money", 49700, 150, higher_is_better=True, days=30) == (
        "▲ new vs previous 30 days ($1.50)", "good")
    assert data.change("money", 49700, -150, higher_is_better=True, days=30) == (
        "▲ new vs previous 30 days (-$1.50)", "good")
    assert data.change("money", 100, 3000, higher_is_better=True, days=30) == (
        "▼ vs previous 30 days ($30.00)", "bad")
    assert data.change("money", 0, 0, higher_is_better=True, days=30) == ("= same as previous 30 days", "neutral")
    assert data.change("money", 15000, 5000, higher_is_better=True, days=7) == (
        "▲ 200.0% vs previous 7 days ($50.00)", "good")  # $50 is base enough
    assert data.change("count", 0, 0, higher_is_better=False, days=30)[0].startswith("=")
    assert "%" not in data.change("count", 7, 0, higher_is_better=True, days=30)[0]


def test_rooms_of_two_locations_with_one_name_say_their_location(history, engine):
    """Mend (issue "One way in"): two rooms "Room 1" at two locations were listed twice with
    no location. Over all locations each says where it is; at one location the name suffices."""
    from medspa.domain.identity.actor import Actor
    from medspa.domain.practice.service import add_location, add_resource, add_staff, set_working_hours

    clinic, *_ = history
    setup = Actor.system(clinic.org_id, "test setup")
    with clinic.session() as s:
        downtown = add_location(s, setup, "Downtown", "America/New_York")
        nurse = add_staff(s, setup, "Provider 2", "provider", title="RN")
        set_working_hours(s, setup, nurse.id, downtown.id, {d: [(time(9), time(17))] for d in range(7)})
        add_resource(s, setup, downtown.id, "room", "Room 1", "treatment_room")
        s.commit()
    owner = clinic.staff_actor("owner")
    rooms = [r["name"] for r in data.summary(owner, **JUNE, engine=engine).resources if r["kind"] == "room"]
    assert sorted(rooms) == ["Room 1 · Downtown", "Room 1 · Main"]
    report = list(csv.reader(io.StringIO(data.report_csv(owner, "resources", **JUNE, engine=engine), newline="")))
    assert sorted(r[1] for r in report[1:] if r[0] == "room") == ["Room 1 · Downtown", "Room 1 · Main"]
    main_only = {**JUNE, "location_id": clinic.location_id}
    assert [r["name"] for r in data.summary(owner, **main_only, engine=engine).resources
            if r["kind"] == "room"] == ["Room 1"]
