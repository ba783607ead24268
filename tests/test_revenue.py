"""Revenue reports (medspa/domain/analytics/revenue.py) with checkout: a deposit that became
part of a sale is counted once; rows tie out to every figure; local-midnight month cuts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.analytics import revenue as rv
from medspa.domain.analytics import service as an
from medspa.domain.catalog.service import add_service
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.domain.payments.checkout import checkout_visit
from medspa.domain.payments.models import LedgerEntry, Payment
from medspa.domain.payments.service import issue_refund
from medspa.domain.scheduling.models import Appointment
from tests.factories import build_clinic
from tests.test_checkout import GOOD, book, checked_in, gateway

NY = ZoneInfo("America/New_York")
JUNE, JULY = (date(2026, 6, 1), date(2026, 6, 30)), (date(2026, 7, 1), date(2026, 7, 31))


def ny(day: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).astimezone(timezone.utc)


def kw(start: date, end: date, location_id: int | None = None) -> dict:
    return {"start": start, "end": end, "location_id": location_id, "now": datetime(2027, 1, 1, tzinfo=timezone.utc)}


def net(s, actor, start: date, end: date) -> int:
    return sum(line.net_cents for line in rv.revenue(s, actor, **kw(start, end), by="month"))


def _peel_clinic(engine, owner_engine):
    """A clinic with a $300 service and a $50 deposit."""
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        svc = add_service(s, clinic.system, category="Chemical peels", name="Peel", duration_minutes=45,
                          price_cents=30000, deposit_cents=5000, provider_ids=clinic.provider_ids)
        s.commit()
    clinic.services["peel"] = svc.id
    return clinic


def test_a_deposit_that_became_a_sale_is_not_counted_twice(engine, owner_engine):
    clinic = _peel_clinic(engine, owner_engine)
    owner = clinic.staff_actor("owner")
    visit = ny(date(2026, 7, 2), 10)
    appt_id = checked_in(clinic, "peel", visit, booked_at=ny(date(2026, 6, 20), 15))  # $50 deposit in June
    out = checkout_visit(clinic.engine, clinic.staff_actor(), appt_id,
                         gateway=gateway(clinic, visit + timedelta(minutes=50)),
                         now=visit + timedelta(minutes=50), card=GOOD)  # $300 visit in July
    with clinic.session() as s:
        assert (out.balance_cents, out.fee_cents) == (25000, 725 + 30)
        deposit_fee, balance_fee = 145 + 30, 725 + 30
        assert net(s, owner, *JUNE) == 5000 - deposit_fee
        assert net(s, owner, *JULY) == 30000 - 5000 - balance_fee
        assert net(s, owner, JUNE[0], JULY[1]) == 30000 - deposit_fee - balance_fee
        [june] = rv.revenue(s, owner, **kw(*JUNE))
        [july] = rv.revenue(s, owner, **kw(*JULY))
        assert (june.key, june.deposits_cents, june.sales_cents, june.applied_cents, june.refunds_cents,
                june.fees_cents) == ("2026-06", 5000, 0, 0, 0, deposit_fee)
        assert (july.key, july.deposits_cents, july.sales_cents, july.applied_cents, july.refunds_cents,
                july.fees_cents) == ("2026-07", 0, 30000, 5000, 0, balance_fee)
        both = rv.revenue(s, owner, **kw(JUNE[0], JULY[1]), by="category")
        assert [(b.key, b.net_cents) for b in both] == [("Chemical peels", 30000 - deposit_fee - balance_fee)]
        stacked = rv.revenue(s, owner, **kw(JUNE[0], JULY[1]), by="month_category")
        assert [(b.key, b.net_cents) for b in stacked] == [("2026-06|Chemical peels", 5000 - deposit_fee),
                                                           ("2026-07|Chemical peels", 25000 - balance_fee)]
        # the service re-exports the same functions
        assert an.revenue is rv.revenue and an.revenue_rows is rv.revenue_rows

        # a refund after checkout: $100 of the balance goes back, the fees stay with the gateway
        issue_refund(s, clinic.staff_actor("manager"), out.payment_id, gateway(clinic, ny(date(2026, 7, 9), 12)),
                     now=ny(date(2026, 7, 9), 12), reason="goodwill", amount_cents=10000)
        s.commit()
        [july] = rv.revenue(s, owner, **kw(*JULY))
        assert (july.refunds_cents, july.net_cents) == (10000, 25000 - balance_fee - 10000)
        assert net(s, owner, JUNE[0], JULY[1]) == 30000 - deposit_fee - balance_fee - 10000


def test_rows_sum_to_each_line_for_every_grouping(engine, owner_engine):
    clinic = _peel_clinic(engine, owner_engine)
    owner = clinic.staff_actor("manager")
    a1 = checked_in(clinic, "peel", ny(date(2026, 7, 2), 10), n=1, booked_at=ny(date(2026, 6, 20), 15))
    a2 = checked_in(clinic, "laser", ny(date(2026, 7, 3), 11), n=2, booked_at=ny(date(2026, 6, 21), 15))
    a3 = checked_in(clinic, "botox", ny(date(2026, 7, 3), 14), n=3, booked_at=ny(date(2026, 6, 22), 15))
    cancelled = book(clinic, "botox", ny(date(2026, 7, 20), 10), 4, ny(date(2026, 6, 23), 15))
    for appt_id, day in ((a1, date(2026, 7, 2)), (a2, date(2026, 7, 3)), (a3, date(2026, 7, 3))):
        checkout_visit(clinic.engine, clinic.staff_actor(), appt_id, gateway=gateway(clinic, ny(day, 16)),
                       now=ny(day, 16), card=GOOD)
    with clinic.session() as s:
        s.commit()
    from medspa.domain.scheduling.actions.desk import do_cancel_visit

    do_cancel_visit(clinic.staff_actor(), cancelled, clock=FixedClock(ny(date(2026, 7, 1), 9)), engine=clinic.engine,
                    gateway=gateway(clinic, ny(date(2026, 7, 1), 9)))  # outside the window: the deposit is refunded
    with clinic.session() as s:
        everything = rv.revenue_rows(s, owner, **kw(JUNE[0], JULY[1]))
        assert sum(a for _, _, a in everything) == net(s, owner, JUNE[0], JULY[1])
        for by in rv.REVENUE_GROUPS:
            groups = rv.revenue(s, owner, **kw(JUNE[0], JULY[1]), by=by)
            assert sum(g.net_cents for g in groups) == sum(a for _, _, a in everything), by
            assert sum(len(rv.revenue_rows(s, owner, **kw(JUNE[0], JULY[1]), by=by, key=g.key)) for g in groups) \
                == len(everything)
            for g in groups:
                behind = rv.revenue_rows(s, owner, **kw(JUNE[0], JULY[1]), by=by, key=g.key)
                assert sum(a for _, _, a in behind) == g.net_cents, (by, g.key)
                assert sum(a for _, t, a in behind if t == "sale") == g.sales_cents
                assert -sum(a for _, t, a in behind if t == "processing_fee") == g.fees_cents
                assert min(g.deposits_cents, g.sales_cents, g.applied_cents, g.refunds_cents, g.fees_cents) >= 0
        by_service = {g.key: g for g in rv.revenue(s, owner, **kw(JUNE[0], JULY[1]), by="service")}
        assert by_service[str(clinic.services["laser"])].sales_cents == 15000
        assert by_service[str(clinic.services["botox"])].refunds_cents == 5000
        # in: 3 deposits + 3 sales; out: 2 deposits applied, 1 refunded, fees of 3 deposits and 3 balances
        fees = 3 * (145 + 30) + (725 + 30) + (435 + 30) + (870 + 30)
        assert net(s, owner, JUNE[0], JULY[1]) == 30000 + 15000 + 35000 - fees


@pytest.mark.parametrize("tz", ["Asia/Tokyo", "America/Los_Angeles"])
def test_month_is_cut_at_local_midnight_east_and_west(engine, owner_engine, tz):
    clinic = build_clinic(engine, owner_engine, time_zone=tz)
    owner = clinic.staff_actor("owner")
    zone = ZoneInfo(tz)
    after = datetime.combine(date(2026, 8, 1), time(0, 5), tzinfo=zone).astimezone(timezone.utc)
    before = datetime.combine(date(2026, 7, 31), time(23, 55), tzinfo=zone).astimezone(timezone.utc)
    with clinic.session() as s:
        appt = Appointment(org_id=clinic.org_id, location_id=clinic.location_id,
                           service_id=clinic.services["botox"], provider_id=clinic.provider_ids[0],
                           start_at=before - timedelta(hours=2), end_at=before - timedelta(hours=1, minutes=30),
                           status="completed", price_cents=35000, created_at=before - timedelta(days=9))
        s.add(appt)
        s.flush()
        for kind, amount, at in (("sale", 35000, after), ("deposit_applied", -5000, after),
                                 ("deposit_paid", 5000, before)):
            s.add(LedgerEntry(org_id=clinic.org_id, appointment_id=appt.id, entry_type=kind, amount_cents=amount,
                              created_at=at))
        s.flush()
        assert {after.date(), before.date()} != {date(2026, 8, 1), date(2026, 7, 31)}  # UTC dates differ
        lines = rv.revenue(s, owner, **kw(date(2026, 7, 1), date(2026, 8, 31)))
        assert [(x.key, x.deposits_cents, x.sales_cents, x.applied_cents) for x in lines] == [
            ("2026-07", 5000, 0, 0), ("2026-08", 0, 35000, 5000)]
        assert [t for _, t, _ in rv.revenue_rows(s, owner, **kw(date(2026, 8, 1), date(2026, 8, 1)))] == [
            "sale", "deposit_applied"]
        assert [t for _, t, _ in rv.revenue_rows(s, owner, **kw(date(2026, 7, 31), date(2026, 7, 31)))] == [
            "deposit_paid"]
        assert rv.ticket_summary(s, owner, **kw(date(2026, 7, 31), date(2026, 7, 31))).checkouts == 0
        assert rv.ticket_summary(s, owner, **kw(date(2026, 8, 1), date(2026, 8, 1))).checkouts == 1
        s.rollback()


def test_ticket_summary_and_top_services(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    owner = clinic.staff_actor("owner")
    day = date(2026, 7, 15)
    botox = checked_in(clinic, "botox", ny(day, 10), n=1, booked_at=ny(date(2026, 7, 1), 12))
    laser = checked_in(clinic, "laser", ny(day, 11), n=2, booked_at=ny(date(2026, 7, 1), 12))
    facial = checked_in(clinic, "facial", ny(day, 13), n=3, booked_at=ny(date(2026, 7, 1), 12))
    book(clinic, "botox", ny(date(2026, 7, 20), 10), 1, ny(date(2026, 7, 2), 12))  # client 1 again, not yet seen
    for appt_id in (botox, laser, facial):
        checkout_visit(clinic.engine, clinic.staff_actor(), appt_id, gateway=gateway(clinic, ny(day, 16)),
                       now=ny(day, 16), card=GOOD)
    with clinic.session() as s:
        t = rv.ticket_summary(s, owner, **kw(*JULY))
        # botox (deposit + balance), laser, facial ($40 deposit + $160 balance), the second botox deposit
        fees = (175 + 900) + 465 + (116 + 30 + 464 + 30) + 175
        assert (t.checkouts, t.sales_cents, t.clients) == (3, 35000 + 15000 + 20000, 3)
        assert t.net_cents == 70000 + 5000 - fees  # the second booking's deposit is not applied yet
        assert t.average_ticket_cents == 23333  # 70000 / 3 = 23333.33
        assert t.revenue_per_client_cents == round((75000 - fees) / 3)
        assert t.net_cents == sum(a for _, _, a in rv.revenue_rows(s, owner, **kw(*JULY)))
        top = rv.top_services(s, owner, **kw(*JULY))
        assert [(x.name, x.category, x.checkouts, x.sales_cents) for x in top] == [
            ("Botox", "Neuromodulators", 1, 35000), ("HydraFacial", "HydraFacial", 1, 20000),
            ("Laser underarms", "Laser hair removal", 1, 15000)]
        assert rv.top_services(s, owner, **kw(*JULY), limit=1)[0].service_id == clinic.services["botox"]
        for x in top:
            rows = rv.top_service_rows(s, owner, **kw(*JULY), service_id=x.service_id)
            assert [t for _, t, _ in rows] == ["sale"] and sum(a for _, _, a in rows) == x.sales_cents
        empty = rv.ticket_summary(s, owner, **kw(*JUNE))
        assert (empty.checkouts, empty.average_ticket_cents, empty.revenue_per_client_cents) == (0, None, None)
        assert rv.top_services(s, owner, **kw(*JUNE)) == []
        # location filter: another location id sees nothing
        assert rv.ticket_summary(s, owner, **kw(*JULY, location_id=clinic.location_id + 10_000)).checkouts == 0
        assert len(s.exec(select(Payment).where(Payment.purpose == "balance")).all()) == 3


@pytest.mark.parametrize("role", ["front_desk", "provider", "lab", "client", "public"])
def test_revenue_reports_need_report_read(clinic, role):
    actor = Actor(org_id=clinic.org_id, role=role, client_id=1 if role == "client" else None)
    with clinic.session() as s:
        for call in (rv.revenue, rv.revenue_rows, rv.ticket_summary, rv.top_services):
            with pytest.raises(PermissionDenied):
                call(s, actor, **kw(*JULY))
        with pytest.raises(PermissionDenied):
            rv.top_service_rows(s, actor, **kw(*JULY), service_id=1)


def test_ledger_lines_carry_their_visits_location_and_service(engine, owner_engine):
    """Migration 0014: a ledger line gets its visit's location and service on insert (the
    revenue reports no longer join appointment), follows the visit when its service changes,
    and a line without a visit has neither (and is in no report)."""
    from sqlalchemy import text as sql

    from tests.test_analytics import _client, _insert, kw, local

    clinic = build_clinic(engine, owner_engine, time_zone="America/New_York")
    tz = clinic.time_zone
    owner = clinic.staff_actor("owner")
    day = date(2026, 6, 10)
    with clinic.session() as s:
        c = _client(s, clinic)
        v = _insert(s, clinic, local(tz, day, 10), client_id=c)
        s.add(LedgerEntry(org_id=clinic.org_id, appointment_id=v.id, client_id=None, entry_type="sale",
                          amount_cents=30000, created_at=v.end_at))
        s.add(LedgerEntry(org_id=clinic.org_id, appointment_id=None, client_id=c, entry_type="deposit_paid",
                          amount_cents=999, created_at=v.end_at))
        s.flush()
        rows = s.execute(sql("select appointment_id, location_id, service_id from ledger_entry order by id")).all()
        assert [tuple(r) for r in rows] == [(v.id, clinic.location_id, clinic.services["botox"]), (None, None, None)]
        [t] = [rv.ticket_summary(s, owner, **kw(day))]
        assert (t.checkouts, t.sales_cents, t.net_cents, t.clients) == (1, 30000, 30000, 1)  # client via the visit
        [line] = rv.revenue(s, owner, **kw(day), by="service")
        assert (line.key, line.sales_cents) == (str(clinic.services["botox"]), 30000)
        [line] = rv.revenue(s, owner, **kw(day), by="provider")
        assert line.key == str(clinic.provider_ids[0])
        other = next(sid for name, sid in clinic.services.items() if sid != clinic.services["botox"])
        s.execute(sql("update appointment set service_id = :s where id = :i"), {"s": other, "i": v.id})
        [line] = rv.revenue(s, owner, **kw(day), by="service")
        assert (line.key, line.sales_cents) == (str(other), 30000)
        assert [x.service_id for x in rv.top_services(s, owner, **kw(day))] == [other]
        assert rv.top_service_rows(s, owner, **kw(day), service_id=other)[0][2] == 30000
        assert rv.revenue(s, owner, **kw(day, day, clinic.location_id + 1000)) == []
