"""The daily lists of /today (scheduling.daylist and its actions) on real PostgreSQL: the
provider's own day in order with its alerts (client alerts, new client, unpaid balance),
the desk's arrivals in buckets with minutes from the injected clock (also across a
daylight-saving change), check-in moving a visit to "waiting", who may read which list."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.domain.identity.service import create_user
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.scheduling.actions.daylist import fetch_arrivals, fetch_my_day
from medspa.domain.scheduling.actions.desk import do_change_status, do_checkout_visit
from medspa.domain.scheduling.daylist import arrivals, day_lists, my_day
from medspa.domain.practice.service import add_staff
from medspa.domain.scheduling.service import cancel_appointment, change_status, hold_slot
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
DAY = date(2026, 7, 15)
CARD = CardDetails("4242 4242 4242 4242", 12, 2030, "123")


def at(h: int, m: int = 0, day: date = DAY, fold: int = 0) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).replace(fold=fold).astimezone(timezone.utc)


def client(clinic, first: str, last: str, alerts: str = "") -> int:
    with clinic.session() as s:
        email = f"{first}.{last}-{clinic.slug}@example.com"
        c = find_or_create_client(s, clinic.system, ClientInput(first, last, email, "+12125550180"))
        c.alerts = alerts
        s.add(c)
        s.commit()
        return c.id


def visit(clinic, client_id: int, start: datetime, provider: int = 0, *, status: str = "confirmed",
          checked_in_at: datetime | None = None) -> int:
    """A desk visit (no deposit) moved to `status` through the real steps."""
    with clinic.session() as s:
        appt = hold_slot(s, clinic.system, location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=start, now=at(8, day=date(2026, 7, 1)), provider_id=clinic.provider_ids[provider],
                         client_id=client_id, confirm=True, source="staff")
        if status in ("checked_in", "completed"):
            change_status(s, clinic.system, appt.id, "check_in", now=checked_in_at or start)
        if status == "completed":
            change_status(s, clinic.system, appt.id, "complete", now=start)
        if status == "no_show":
            change_status(s, clinic.system, appt.id, "no_show", now=start)
        if status == "cancelled":
            cancel_appointment(s, clinic.system, appt.id, now=at(8, day=date(2026, 7, 1)))
        s.commit()
        return appt.id


def provider_actor(clinic, provider: int = 0, role: str = "provider") -> Actor:
    with clinic.session() as s:
        user = create_user(s, clinic.system, email=f"{role}{provider}-{clinic.slug}@example.com",
                           password="a long enough passphrase", role=role, staff_id=clinic.provider_ids[provider])
        s.commit()
        return Actor(org_id=clinic.org_id, role=role, user_id=user.id, staff_id=clinic.provider_ids[provider],
                     label=f"Provider {provider + 1}")


def test_my_day_is_the_providers_own_visits_in_order_with_alerts(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, providers=2)
    ada = client(clinic, "Ada", "Returning")
    bea = client(clinic, "Bea", "Owing")
    cleo = client(clinic, "Cleo", "New", alerts="VIP · prefers the left side")
    dan = client(clinic, "Dan", "Other")
    # history: Ada was seen and paid; Bea was seen (completed) but never checked out
    earlier = visit(clinic, ada, at(9, day=date(2026, 7, 8)), status="checked_in")
    do_checkout_visit(clinic.staff_actor(), earlier, CARD, clock=FixedClock(at(10, day=date(2026, 7, 8))),
                      engine=engine, gateway=TestPaymentGateway(engine, lambda: at(10, day=date(2026, 7, 8))))
    visit(clinic, bea, at(9, day=date(2026, 7, 9)), status="completed")
    # today, booked out of order; another provider's visit, a cancelled one and tomorrow's are not listed
    c11 = visit(clinic, cleo, at(11))
    a9 = visit(clinic, ada, at(9), status="completed")
    b10 = visit(clinic, bea, at(10))
    visit(clinic, dan, at(9, 30), provider=1)
    visit(clinic, dan, at(12), status="cancelled")
    visit(clinic, dan, at(9, day=date(2026, 7, 16)))

    actor = provider_actor(clinic)
    day = fetch_my_day(actor, clock=FixedClock(at(10, 5)), engine=engine)
    assert day.bookable and day.provider_name == "Provider 1" and day.day_label == "Wednesday, July 15"
    visits = [r.visit for r in day.visits]
    assert [(v.appointment_id, v.start_label, v.client_name, v.service_name, v.status) for v in visits] == [
        (a9, "9:00 AM", "Ada Returning", "Botox", "completed"),
        (b10, "10:00 AM", "Bea Owing", "Botox", "confirmed"),
        (c11, "11:00 AM", "Cleo New", "Botox", "confirmed")]
    assert day.remaining == 2
    alerts = {r.visit.client_name: [(a.kind, a.text) for a in r.visit.alerts] for r in day.visits}
    assert alerts == {"Ada Returning": [],
                      "Bea Owing": [("balance", "Unpaid balance $350.00")],
                      "Cleo New": [("client", "VIP · prefers the left side"), ("new_client", "New client")]}
    assert day.visits[0].visit.client_id == ada
    assert [(r.bucket, r.timing, r.can_check_in) for r in day.visits] == [
        ("done", "", False), ("late", "5 min late", False), ("expected", "in 55 min", False)]
    with clinic.session() as s:  # the read is audited with the clients shown
        row = s.exec(select(AuditEvent).where(AuditEvent.action == "daylist.my_day")).one()
        assert row.object_id == str(clinic.provider_ids[0]) and row.detail["client_ids"] == sorted([ada, bea, cleo])


def test_a_first_visit_stays_new_on_its_day_and_today_is_not_owed(engine, owner_engine):
    """Today's own visit, completed and not checked out yet, is neither a balance nor an old visit."""
    clinic = build_clinic(engine, owner_engine)
    eve = client(clinic, "Eve", "First")
    visit(clinic, eve, at(9), status="completed")
    with clinic.session() as s:
        day = my_day(s, Actor(clinic.org_id, "provider", staff_id=clinic.provider_ids[0]), now=at(15))
    assert [(a.kind, a.text) for a in day.visits[0].visit.alerts] == [("new_client", "New client")]


def test_an_account_without_a_staff_record_has_an_empty_day(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    visit(clinic, client(clinic, "Fay", "Seen"), at(9))
    with clinic.session() as s:
        day = my_day(s, Actor(clinic.org_id, "owner", label="Owner"), now=at(8))
    assert (day.bookable, day.visits, day.provider_name) == (False, (), "Owner")


def test_arrivals_buckets_and_minutes_from_the_clock(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, providers=2)
    names = {n: client(clinic, n, "Guest") for n in ("Late", "Waiting", "Done", "Noshow", "Soon", "Later")}
    done = visit(clinic, names["Done"], at(9), status="completed")
    late = visit(clinic, names["Late"], at(10))
    noshow = visit(clinic, names["Noshow"], at(9), provider=1, status="no_show")
    waiting = visit(clinic, names["Waiting"], at(9, 30), provider=1, status="checked_in", checked_in_at=at(10, 3))
    soon = visit(clinic, names["Soon"], at(11), provider=1)
    later = visit(clinic, names["Later"], at(13, 30))
    visit(clinic, client(clinic, "Gone", "Guest"), at(12), status="cancelled")

    desk = clinic.staff_actor()
    opened = fetch_arrivals(desk, clinic.location_id, clock=FixedClock(at(10, 12)), engine=engine)
    got = opened.arrivals
    assert [(r.visit.appointment_id, r.bucket, r.timing, r.can_check_in) for r in got.rows] == [
        (late, "late", "12 min late", True),
        (waiting, "waiting", "waiting 9 min", False),
        (soon, "expected", "in 48 min", True),
        (later, "expected", "in 3 h 18 min", True),
        (done, "done", "", False),
        (noshow, "no_show", "", False)]
    assert got.counts == {"late": 1, "waiting": 1, "expected": 2, "done": 1, "no_show": 1}
    assert got.now_label == "10:12 AM EDT" and got.day_label == "Wednesday, July 15"
    assert [l.name for l in opened.locations] == ["Main"]
    assert got.rows[1].visit.checked_in_label == "10:03 AM"

    # one click at the desk: the late visit is checked in and waits from then
    do_change_status(desk, late, "check_in", clock=FixedClock(at(10, 13)), engine=engine)
    again = fetch_arrivals(desk, None, clock=FixedClock(at(10, 20)), engine=engine).arrivals
    assert [(r.visit.appointment_id, r.bucket, r.timing) for r in again.rows[:2]] == [
        (waiting, "waiting", "waiting 17 min"), (late, "waiting", "waiting 7 min")]
    assert again.counts["late"] == 0


def test_arrivals_across_a_daylight_saving_change(engine, owner_engine):
    """Fall back (Nov 1, 2026, New York): 1:00-2:00 happens twice. Minutes are real time."""
    sunday = date(2026, 11, 1)
    clinic = build_clinic(engine, owner_engine, weekly={d: [(time(0), time(23))] for d in range(7)})
    guest = client(clinic, "Dana", "Night")
    appt = visit(clinic, guest, at(1, 0, sunday, fold=0), status="checked_in", checked_in_at=at(1, 50, sunday, fold=0))
    other = visit(clinic, client(clinic, "Eli", "Night"), at(1, 30, sunday, fold=1))
    with clinic.session() as s:
        got = arrivals(s, clinic.staff_actor(), location_id=clinic.location_id, now=at(1, 5, sunday, fold=1))
    rows = {r.visit.appointment_id: r for r in got.rows}
    # checked in at 1:50 EDT, now 1:05 EST: 15 real minutes (the wall clock says -45)
    assert rows[appt].timing == "waiting 15 min"
    assert rows[appt].visit.start_label == "1:00 AM EDT" and rows[appt].visit.checked_in_label == "1:50 AM EDT"
    assert (rows[other].bucket, rows[other].timing, rows[other].visit.start_label) == ("expected", "in 25 min",
                                                                                        "1:30 AM EST")
    assert got.now_label == "1:05 AM EST"
    with clinic.session() as s:
        later = arrivals(s, clinic.staff_actor(), location_id=clinic.location_id, now=at(2, 0, sunday))
    assert {r.visit.appointment_id: r.timing for r in later.rows}[other] == "30 min late"


def test_who_may_read_the_lists(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, providers=2)
    other = build_clinic(engine, owner_engine)
    visit(clinic, client(clinic, "Hal", "Guest"), at(9), provider=1)
    lab = Actor(clinic.org_id, "lab", staff_id=clinic.provider_ids[1])
    with pytest.raises(PermissionDenied):
        fetch_my_day(lab, clock=FixedClock(at(8)), engine=engine)
    with pytest.raises(PermissionDenied):
        fetch_arrivals(lab, clinic.location_id, clock=FixedClock(at(8)), engine=engine)
    # a provider's list is their own: provider 1 does not see provider 2's visit
    mine = fetch_my_day(Actor(clinic.org_id, "provider", staff_id=clinic.provider_ids[0]), clock=FixedClock(at(8)),
                        engine=engine)
    assert mine.visits == ()
    theirs = fetch_my_day(Actor(clinic.org_id, "owner", staff_id=clinic.provider_ids[1]), clock=FixedClock(at(8)),
                          engine=engine)
    assert [r.visit.client_name for r in theirs.visits] == ["Hal Guest"]
    with clinic.session() as s, pytest.raises(NotFound):
        arrivals(s, clinic.staff_actor(), location_id=other.location_id, now=at(8))
    # another clinic's location id falls back to this clinic's own first location
    got = fetch_arrivals(clinic.staff_actor(), other.location_id, clock=FixedClock(at(8)), engine=engine)
    assert got.arrivals.location_id == clinic.location_id and len(got.arrivals.rows) == 1


def test_which_lists_each_account_gets(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        office = add_staff(s, clinic.system, "Olive Owner", "owner", bookable=False)
        treats = clinic.provider_ids[0]

        def lists(role: str, staff_id: int | None = None):
            return day_lists(s, Actor(clinic.org_id, role, staff_id=staff_id))

        assert lists("provider", treats) == ("my_day",)
        assert lists("provider") == ("my_day",)  # says it has no staff record, rather than "not found"
        assert lists("owner", treats) == ("my_day", "arrivals")
        assert lists("owner", office.id) == ("arrivals",)  # an owner who does not treat
        assert lists("owner") == ("arrivals",)
        assert lists("manager") == lists("front_desk") == ("arrivals",)
        assert lists("lab", treats) == lists("client") == lists("public") == ()
        day = my_day(s, Actor(clinic.org_id, "owner", staff_id=office.id, label="Olive"), now=at(9))
        assert (day.bookable, day.visits) == (False, ())
