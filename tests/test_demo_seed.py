"""The demo seed builds a believable, consistent clinic (and a second one, isolated).

Seeds once per module into a unique slug with a fixed clock; the future four weeks cross the
end of daylight saving time (1 Nov 2026 in the US), the history crosses both changes.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo
from uuid import uuid4

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from medspa.db import tenant_session
from sqlmodel import select
from medspa.demo import DemoSeedError, demo_credentials, seed_demo, seed_other
from medspa.domain.catalog.models import SERVICE_CATEGORIES

# the module's seeded clinic is built once per xdist worker that runs one of its tests: the
# group keeps them on one worker (make test runs --dist loadgroup), one ~90-150 s seed, not two
pytestmark = pytest.mark.xdist_group("demo_seed")

TODAY = date(2026, 10, 20)
NOW = datetime(2026, 10, 20, 18, 45, tzinfo=timezone.utc)  # 14:45 in New York, 11:45 in Santa Monica


@pytest.fixture(scope="module")
def demo(engine, owner_engine):
    slug = f"demo-{uuid4().hex[:8]}"
    steps: list[tuple[str, float]] = []
    org_id = seed_demo(engine, owner_engine, slug=slug, today=TODAY, now=NOW, with_other=False,
                       progress=lambda msg, frac: steps.append((msg, frac)))
    return {"org_id": org_id, "slug": slug, "steps": steps}


def q(engine, org_id: int, sql: str, **params):
    """Rows of `sql` run as the app role inside clinic `org_id` (row-level security on)."""
    with tenant_session(org_id, engine) as s:
        return s.execute(text(sql), params).all()


def one(engine, org_id: int, sql: str, **params):
    return q(engine, org_id, sql, **params)[0][0]


def test_seed_reports_progress(demo):
    # (how long it takes is no test's business on shared machines: `make run` prints it)
    fractions = [f for _, f in demo["steps"]]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(msg.startswith("clients") for msg, _ in demo["steps"])


def test_practice_shape(engine, demo):
    org = demo["org_id"]
    zones = q(engine, org, "select time_zone, cancellation_window_hours from location order by id")
    assert [z for z, _ in zones] == ["America/New_York", "America/Los_Angeles"]
    # its country is set (phones typed without +1 read as US; the Clinic tab saves without asking)
    assert one(engine, org, "select country from organization where id = :o", o=org) == "US"
    assert sorted(w for _, w in zones) == [24, 48]
    providers = one(engine, org, "select count(*) from staff_member where role = 'provider' and is_bookable")
    assert 10 <= providers <= 14
    roles = {r for (r,) in q(engine, org, "select distinct role from staff_member")}
    assert {"owner", "manager", "front_desk", "provider"} <= roles
    # somebody works at both locations (on different weekdays)
    assert one(engine, org, """select count(*) from (select staff_id from working_hours
               group by staff_id having count(distinct location_id) = 2) x""") >= 1
    assert one(engine, org, """select count(*) from (select staff_id, weekday from working_hours
               group by 1, 2 having count(distinct location_id) > 1) x""") == 0
    # every service's room and device type exists at some location
    missing = q(engine, org, """select s.name from service s where
        (s.room_type is not null and not exists (select 1 from resource r where r.resource_type = s.room_type))
        or (s.device_type is not null and not exists (select 1 from resource r where r.resource_type = s.device_type))""")
    assert missing == []


def test_service_menu(engine, demo):
    org = demo["org_id"]
    rows = q(engine, org, "select category, name, duration_minutes, price_cents, deposit_cents from service")
    assert len(rows) >= 20
    assert {r[0] for r in rows} == set(SERVICE_CATEGORIES)
    lip = next(r for r in rows if r[1] == "Lip filler — 1 syringe")
    assert lip[2:] == (60, 75000, 10000)
    consult = next(r for r in rows if r[1] == "Aesthetic consultation")
    assert consult[2:] == (30, 0, 0)
    assert all(0 <= r[4] <= r[3] for r in rows)
    # assignment by title: aestheticians do HydraFacials, never fillers
    assert one(engine, org, """select count(*) from service_provider sp join service s on s.id = sp.service_id
               join staff_member m on m.id = sp.staff_id
               where s.category = 'Dermal fillers' and m.title = 'Licensed Aesthetician'""") == 0
    assert one(engine, org, """select count(*) from service_provider sp join service s on s.id = sp.service_id
               join staff_member m on m.id = sp.staff_id
               where s.category = 'HydraFacial' and m.title = 'Licensed Aesthetician'""") > 0


def test_clients(engine, demo):
    org = demo["org_id"]
    n, bad_email, bad_phone, dup_email, dup_phone = q(engine, org, r"""
        select count(*),
               count(*) filter (where email !~ '^[a-z0-9.\-]+@example\.(com|org)$'),
               count(*) filter (where phone_e164 is not null and phone_e164 !~ '^\+1[2-9][0-9]{2}55501[0-9]{2}$'),
               count(email) - count(distinct email), count(phone_e164) - count(distinct phone_e164)
        from client""")[0]
    assert 3000 <= n <= 4500  # ~2,500 known at the start, ~1,200 first-timers during the year
    assert (bad_email, bad_phone, dup_email, dup_phone) == (0, 0, 0, 0)
    ages = q(engine, org, "select min(date_part('year', age(:d, date_of_birth))), "
                          "max(date_part('year', age(:d, date_of_birth))) from client", d=TODAY)[0]
    assert 18 <= ages[0] and ages[1] <= 80
    consent = one(engine, org, "select avg(email_marketing_consent::int) from client")
    assert 0.3 < consent < 0.9


def test_history_statuses(engine, demo):
    org = demo["org_id"]
    stats = dict(q(engine, org, "select status, count(*) from appointment where end_at <= :now group by 1", now=NOW))
    due = stats["completed"] + stats["no_show"]
    assert 0.05 <= stats["no_show"] / due <= 0.11
    past = sum(stats.values())
    assert 0.74 <= stats["completed"] / past <= 0.86
    assert set(stats) <= {"completed", "no_show", "cancelled"}
    # a year of history
    first = one(engine, org, "select min(start_at) from appointment")
    assert NOW - first > timedelta(days=350)
    # cancellations carry cancelled_at, and "late" follows the location's window
    wrong = one(engine, org, """select count(*) from appointment a join location l on l.id = a.location_id
        where a.status = 'cancelled' and (a.cancelled_at is null or a.cancelled_at < a.created_at
          or a.cancellation_late is distinct from
             (a.start_at - a.cancelled_at < make_interval(hours => l.cancellation_window_hours)))""")
    assert wrong == 0
    late = dict(q(engine, org, "select cancellation_late, count(*) from appointment where status = 'cancelled' group by 1"))
    assert late[True] > 0 and late[False] > 0
    # nothing is booked after it happened, nor after "now"
    assert one(engine, org, "select count(*) from appointment where created_at >= start_at or created_at > :now",
               now=NOW) == 0
    assert one(engine, org, """select count(*) from appointment a join client c on c.id = a.client_id
               where a.created_at < c.created_at""") == 0
    assert one(engine, org, """select count(*) from appointment where status = 'completed'
               and (completed_at is null or checked_in_at is null or completed_at > :now)""", now=NOW) == 0


def test_rebooking_and_neuromodulator_returns(engine, demo):
    org = demo["org_id"]
    rebooked, completed = q(engine, org, """select count(*) filter (where rebooked_from_id is not null),
        count(*) filter (where status = 'completed') from appointment""")[0]
    assert rebooked / completed > 0.2
    # booked at the checkout of the visit it came from, never before it
    assert one(engine, org, """select count(*) from appointment a join appointment p on p.id = a.rebooked_from_id
               where p.status <> 'completed' or a.created_at <> p.completed_at or a.start_at <= p.end_at
                  or a.client_id <> p.client_id""") == 0
    # neuromodulator regulars come back every 3-4 months
    returning, median_gap = q(engine, org, """
        with v as (select a.client_id, a.start_at - lag(a.start_at) over (partition by a.client_id order by a.start_at) gap
                   from appointment a join service s on s.id = a.service_id
                   where s.category = 'Neuromodulators' and a.status = 'completed')
        select count(distinct client_id) filter (where gap between interval '80 days' and interval '125 days'),
               percentile_cont(0.5) within group (order by extract(epoch from gap) / 86400)
        from v where gap is not null""")[0]
    assert returning >= 100
    assert 70 <= median_gap <= 125


def test_dashboard_figures_are_believable(engine, demo):
    """The owners' dashboard on the demo shows figures a real med spa of this size could have
    (measured with the analytics functions themselves): most first-timers do not come back
    within 90 days, not every visit is followed by a booking, a few thousand clients."""
    from medspa.domain.analytics import cohorts, service as an
    from medspa.domain.identity.actor import Actor

    org = demo["org_id"]
    owner = Actor(org_id=org, role="owner")
    last90 = {"start": TODAY - timedelta(days=89), "end": TODAY, "location_id": None, "now": NOW}
    with tenant_session(org, engine) as s:
        new = an.new_clients(s, owner, **last90).count
        assert 80 <= new / 3 <= 250  # new clients a month
        reb = an.rebooking(s, owner, **last90)
        assert 0.40 <= reb.rate <= 0.70
        assert 0.15 <= reb.before_leaving_rate <= 0.45
        assert 0.07 <= an.no_show_rate(s, owner, **last90).rate <= 0.10
        year = {**last90, "start": TODAY - timedelta(days=364)}
        assert 0.55 <= an.rebooking(s, owner, **year).rate <= 0.80
        # monthly cohorts; the months the history starts in are left out: the first holds the
        # imported last visits of clients known from before it, the next ones a calendar still
        # full of the regulars' plans
        rows = cohorts.retention(s, owner, start=date(2025, 10, 1), end=TODAY, location_id=None, now=NOW)
    steady = [c for c in rows if c.month >= "2026-02" and c.rate_90 is not None]
    assert len(steady) >= 4
    assert all(80 <= c.size <= 250 for c in steady)
    assert all(0.2 <= c.rate_90 <= 0.6 for c in steady)
    mean_90 = sum(c.returned_90 for c in steady) / sum(c.size for c in steady)
    assert 0.3 <= mean_90 <= 0.55
    assert all(c.rate_365 is None for c in rows)  # a year of history: no 365-day window is over
    with_180 = [c for c in steady if c.rate_180 is not None]
    assert with_180 and all(c.rate_180 >= c.rate_90 for c in with_180)


def test_the_demo_clinic_charts_its_visits_mostly_within_a_day(engine, demo):
    """The dashboard's Charting card on the demo (issue 18 user trial: it read 0% of 1,113)."""
    from medspa.domain.analytics.timeliness import chart_timeliness
    from medspa.domain.identity.actor import Actor

    org = demo["org_id"]
    with tenant_session(org, engine) as s:
        t = chart_timeliness(s, Actor(org_id=org, role="owner"), start=TODAY - timedelta(days=89), end=TODAY,
                             location_id=None, now=NOW)
    assert t.visits > 500
    assert 0.65 <= t.rate_24 <= 0.9 and t.rate_24 < t.rate_72 <= 0.97
    assert 0 < t.unsigned < t.visits * 0.1


def test_first_timers_are_clients_before_they_book(engine, demo):
    """Clients who joined during the history (first-timers of the fill pass among them) were
    written with the other clients, created at or before their first booking."""
    org = demo["org_id"]
    joined, early = q(engine, org, """select count(*), count(*) filter (where c.created_at > (
            select min(a.created_at) from appointment a where a.client_id = c.id))
        from client c where c.created_at > :since""", since=NOW - timedelta(days=365))[0]
    assert joined > 1000 and early == 0
    once = one(engine, org, """select avg((n = 1)::int) from (select c.id, count(a.id) filter
        (where a.status = 'completed') n from client c join appointment a on a.client_id = c.id
        where c.created_at > :since group by c.id) x where n > 0""", since=NOW - timedelta(days=365))
    assert 0.3 <= once <= 0.75  # many came once


def test_no_overlapping_live_occupancy(engine, demo):
    org = demo["org_id"]
    overlaps = one(engine, org, """select count(*) from (
        select lower(during) lo, lag(upper(during)) over (partition by resource_id order by lower(during)) prev_hi
        from occupancy where status in ('held', 'booked')) x where prev_hi > lo""")
    assert overlaps == 0
    # every live appointment holds its provider plus a room/device of each required type there,
    # all over [start - setup buffer, end + cleanup buffer)
    bad = one(engine, org, """
        with need as (
          select a.id, a.provider_id, a.location_id, s.room_type, s.device_type,
                 1 + (s.room_type is not null)::int + (s.device_type is not null)::int n,
                 tstzrange(a.start_at - make_interval(mins => s.buffer_before_minutes),
                           a.end_at + make_interval(mins => s.buffer_after_minutes), '[)') span
          from appointment a join service s on s.id = a.service_id
          where a.status not in ('cancelled', 'expired')),
        held as (
          select o.appointment_id id, count(*) n,
                 bool_and(o.during = need.span) same_span,
                 count(*) filter (where r.kind = 'provider' and r.staff_id = need.provider_id) provider,
                 count(*) filter (where r.kind <> 'provider' and r.location_id = need.location_id
                                  and r.resource_type in (coalesce(need.room_type, ''), coalesce(need.device_type, ''))) rooms
          from occupancy o join resource r on r.id = o.resource_id join need on need.id = o.appointment_id
          where o.status = 'booked' group by o.appointment_id)
        select count(*) from need left join held using (id)
        where held.id is null or held.n <> need.n or not held.same_span or held.provider <> 1
           or held.rooms <> need.n - 1""")
    assert bad == 0
    assert one(engine, org, """select count(*) from occupancy o join appointment a on a.id = o.appointment_id
               where (a.status in ('cancelled', 'expired')) <> (o.status = 'released')""") == 0


def test_appointments_inside_working_hours_local_time(engine, demo):
    org = demo["org_id"]
    outside = one(engine, org, """select count(*) from appointment a join location l on l.id = a.location_id
        join service s on s.id = a.service_id
        where a.status not in ('cancelled', 'expired') and not exists (
          select 1 from working_hours w where w.staff_id = a.provider_id and w.location_id = a.location_id
            and w.weekday = extract(isodow from a.start_at at time zone l.time_zone)::int - 1
            and ((a.start_at - make_interval(mins => s.buffer_before_minutes)) at time zone l.time_zone)::time >= w.start_time
            and ((a.end_at + make_interval(mins => s.buffer_after_minutes)) at time zone l.time_zone)::time <= w.end_time
            and (a.start_at at time zone l.time_zone)::date = (a.end_at at time zone l.time_zone)::date)""")
    assert outside == 0
    # DST: New York visits on both sides of 1 Nov 2026 start on the quarter hour, local time
    off_grid = one(engine, org, """select count(*) from appointment a join location l on l.id = a.location_id
        where extract(minute from a.start_at at time zone l.time_zone)::int % 15 <> 0""")
    assert off_grid == 0
    after_dst = one(engine, org, """select count(*) from appointment a join location l on l.id = a.location_id
        where l.time_zone = 'America/New_York' and a.start_at > '2026-11-02' and a.status = 'confirmed'""")
    assert after_dst > 0


def test_both_locations_see_clients_on_sundays(engine, demo):
    """A living demo every day of the week: `make run` on a Sunday opens a calendar with visits."""
    org = demo["org_id"]
    per_location = {
        tz: one(engine, org, f"""select count(*) from appointment a join location l on l.id = a.location_id
            where l.time_zone = '{tz}' and a.status not in ('cancelled', 'expired')
              and extract(isodow from a.start_at at time zone l.time_zone) = 7
              and (a.start_at at time zone l.time_zone)::date between '2026-10-04' and '2026-11-01'""")
        for tz in ("America/New_York", "America/Los_Angeles")}
    assert per_location["America/New_York"] >= 8 and per_location["America/Los_Angeles"] >= 8, per_location


def test_future_four_weeks_partly_booked(engine, demo):
    org = demo["org_id"]
    weeks = q(engine, org, """select ((a.start_at at time zone l.time_zone)::date - :d - 1) / 7 wk, count(*)
        from appointment a join location l on l.id = a.location_id
        where a.start_at >= :now and a.status = 'confirmed' group by 1 order by 1""", now=NOW, d=TODAY)
    weeks = [(w, n) for w, n in weeks if w >= 0]  # week -1 is the rest of today
    assert [w for w, _ in weeks] == [0, 1, 2, 3]
    assert all(n > 50 for _, n in weeks)
    # utilization: provider minutes booked / provider minutes worked over the next 28 days
    worked = one(engine, org, """select sum(extract(epoch from w.end_time - w.start_time) / 60)
        from generate_series(:d + 1, :d + 28, interval '1 day') d
        join working_hours w on w.weekday = extract(isodow from d)::int - 1""", d=TODAY)
    booked = one(engine, org, """select sum(extract(epoch from upper(o.during) - lower(o.during)) / 60)
        from occupancy o join resource r on r.id = o.resource_id and r.kind = 'provider'
        join appointment a on a.id = o.appointment_id join location l on l.id = a.location_id
        where o.status = 'booked' and (a.start_at at time zone l.time_zone)::date between :d + 1 and :d + 28""",
                 d=TODAY)
    assert 0.5 <= float(booked) / float(worked) <= 0.75
    # today: the morning is done, the afternoon is ahead
    today = dict(q(engine, org, """select a.status, count(*) from appointment a join location l on l.id = a.location_id
        where (a.start_at at time zone l.time_zone)::date = :d group by 1""", d=TODAY))
    assert today.get("completed", 0) > 0 and today.get("confirmed", 0) > 0
    assert one(engine, org, "select count(*) from appointment where status = 'checked_in' and not "
                            "(start_at - interval '15 minutes' <= :now and :now < end_at + interval '15 minutes')",
               now=NOW) == 0


def test_every_online_service_has_free_times_in_the_first_two_weeks(engine, demo):
    # issue 15: the booking page shows 14 days; no service at any location may show them all full
    from medspa.domain.catalog.service import list_services
    from medspa.domain.identity.actor import Actor
    from medspa.domain.practice.service import list_locations
    from medspa.domain.scheduling.availability import find_slots

    actor = Actor.public(demo["org_id"])
    empty, counted = [], 0
    with tenant_session(demo["org_id"], engine) as s:
        for loc in list_locations(s, actor):
            local_today = NOW.astimezone(ZoneInfo(loc.time_zone)).date()
            services = list_services(s, actor, loc.id, online_only=True)
            assert len(services) == 26
            for svc in services:
                slots = find_slots(s, actor, location_id=loc.id, service_id=svc.id, start_date=local_today,
                                   end_date=local_today + timedelta(days=13), now=NOW)
                days = {sl.start.astimezone(ZoneInfo(loc.time_zone)).date() for sl in slots}
                counted += 1
                if len(days) < 2:  # believable: more than one day to choose from
                    empty.append((loc.name, svc.name, len(days)))
    assert counted == 52 and empty == []


def test_deposits_refunds_and_ledger(engine, demo):
    org = demo["org_id"]
    missing = one(engine, org, """select count(*) from appointment a where a.deposit_cents > 0 and not exists
        (select 1 from payment p where p.appointment_id = a.id and p.purpose = 'deposit' and p.gateway = 'test'
         and p.amount_cents = a.deposit_cents and p.idempotency_key = 'deposit-' || a.id || '-attempt-1')""")
    assert missing == 0
    assert one(engine, org, "select count(*) from payment p join appointment a on a.id = p.appointment_id "
                            "where a.deposit_cents = 0 and p.purpose = 'deposit'") == 0
    # early cancellations are refunded in full, late ones keep the deposit
    wrong = one(engine, org, """select count(*) from appointment a where a.deposit_cents > 0 and
        (a.status = 'cancelled' and not a.cancellation_late) <>
        exists (select 1 from refund r join payment p on p.id = r.payment_id
                where p.appointment_id = a.id and r.amount_cents = a.deposit_cents)""")
    assert wrong == 0
    # what the clinic kept per visit, before processing fees: nothing (refunded), the price
    # (checked out: the deposit is inside the sale), else the deposit
    unbalanced = one(engine, org, """select count(*) from appointment a where
        (select coalesce(sum(amount_cents), 0) from ledger_entry e where e.appointment_id = a.id
           and e.entry_type <> 'processing_fee') <>
        case when a.status = 'completed' then a.price_cents
             when a.status = 'cancelled' and not a.cancellation_late then 0 else a.deposit_cents end""")
    assert unbalanced == 0
    # every succeeded card payment carries the test gateway's fee (2.9% + 30 cents) on the ledger
    wrong_fee = one(engine, org, """select count(*) from payment p where p.fee_cents <>
        round(p.amount_cents * 0.029) + 30 or -p.fee_cents <> (select coalesce(sum(amount_cents), 0)
        from ledger_entry e where e.payment_id = p.id and e.entry_type = 'processing_fee')""")
    assert wrong_fee == 0
    # every completed visit was checked out once: sale = price, its balance paid by card
    assert one(engine, org, """select count(*) from appointment a where a.status = 'completed' and
        (select count(*) from ledger_entry e where e.appointment_id = a.id and e.entry_type = 'sale') <> 1""") == 0
    assert one(engine, org, """select count(*) from appointment a where a.status = 'completed'
        and a.price_cents > a.deposit_cents and not exists (select 1 from payment p where p.appointment_id = a.id
        and p.purpose = 'balance' and p.status = 'succeeded' and p.amount_cents = a.price_cents - a.deposit_cents
        and p.idempotency_key = 'checkout-' || a.id || '-attempt-1')""") == 0
    assert one(engine, org, "select count(*) from ledger_entry where entry_type = 'sale' and amount_cents < 0") == 0  # free consultations sell at 0
    assert one(engine, org, "select count(*) from ledger_entry where entry_type = 'deposit_refunded' "
                            "and amount_cents >= 0") == 0


def test_staff_logins_verify_with_argon2(engine, demo):
    org, slug = demo["org_id"], demo["slug"]
    hasher = PasswordHasher()
    creds = demo_credentials(slug)
    assert [c[0] for c in creds] == [f"owner@{slug}.clinic", f"manager@{slug}.clinic",
                                     f"frontdesk@{slug}.clinic", f"nurse@{slug}.clinic", f"director@{slug}.clinic",
                                     f"lab@{slug}.clinic"]
    for email, password, role in creds:
        hashed, db_role, staff_role = q(engine, org, """select u.password_hash, u.role, m.role from user_account u
            left join staff_member m on m.id = u.staff_id where u.email = :e""", e=email)[0]
        assert hashed.startswith("$argon2id$")
        assert hasher.verify(hashed, password)
        assert db_role == role and staff_role == role
    assert ("owner@" + slug + ".clinic", "demo-owner-2026", "owner") in creds
    # the director's login is the clinic's medical director: the demo's co-sign can be tried (issue 18 trial)
    director = q(engine, org, "select u.staff_id, m.licence from user_account u join staff_member m on m.id = u.staff_id "
                              "where u.email = :e", e=f"director@{slug}.clinic")[0]
    assert director.licence == "MD"
    assert q(engine, org, "select medical_director_id from organization where id = :o", o=org)[0][0] == director.staff_id


def test_demo_slug_cannot_be_seeded_twice(engine, owner_engine, demo):
    with pytest.raises(DemoSeedError):
        seed_demo(engine, owner_engine, slug=demo["slug"], today=TODAY, now=NOW, with_other=False)


def test_other_clinic_is_small_and_isolated(engine, owner_engine, demo):
    slug = f"other-{uuid4().hex[:8]}"
    other = seed_other(engine, owner_engine, slug=slug, today=TODAY, now=NOW)
    assert other != demo["org_id"]
    assert q(engine, other, "select time_zone from location") == [("Europe/London",)]
    assert one(engine, other, "select count(*) from staff_member where role = 'provider'") == 2
    assert one(engine, other, "select count(*) from service") == 3
    assert one(engine, other, "select count(*) from client") == 20
    assert 3 <= one(engine, other, "select count(*) from appointment") <= 80
    assert one(engine, other, "select count(distinct currency) from appointment") == 1
    hashed = one(engine, other, "select password_hash from user_account where email = :e", e=f"owner@{slug}.clinic")
    assert PasswordHasher().verify(hashed, "other-owner-2026")
    # row-level security: each clinic sees only its own rows
    demo_clients = {r[0] for r in q(engine, demo["org_id"], "select id from client")}
    other_clients = {r[0] for r in q(engine, other, "select id from client")}
    assert demo_clients and other_clients and not (demo_clients & other_clients)
    assert one(engine, other, "select count(*) from appointment where org_id = :o", o=demo["org_id"]) == 0


def test_deterministic(engine, owner_engine, demo):
    slug = f"demo-{uuid4().hex[:8]}"
    again = seed_demo(engine, owner_engine, slug=slug, today=TODAY, now=NOW, with_other=False)
    fingerprint = """select (select count(*) from client), (select count(*) from appointment),
        (select count(*) from occupancy), (select sum(amount_cents) from ledger_entry),
        (select first_name || ' ' || last_name from client order by id limit 1),
        (select string_agg(status, ',' order by id) from (select id, status from appointment order by id limit 200) x)"""
    assert q(engine, again, fingerprint) == q(engine, demo["org_id"], fingerprint)


def test_demo_owner_manager_nurse_have_two_factor_and_demo_code_prints_it(demo, engine):
    """The seed pre-enrols TOTP for owner, manager and nurse (encrypted like the domain does);
    `medspa demo-code` computes the current code of the demo clinic's accounts only."""
    from medspa.domain.identity.actions import do_begin_login, do_complete_login
    from medspa.ops.demo_codes import current_demo_code
    from medspa.settings import get_settings

    slug, settings = demo["slug"], get_settings()
    rows = dict(q(engine, demo["org_id"], "select role, totp_confirmed_at is not null from user_account"))
    assert rows == {"owner": True, "manager": True, "provider": True, "front_desk": False, "lab": False}
    when = NOW + timedelta(minutes=5)
    code, left = current_demo_code(engine, f"owner@{slug}.clinic", now=when, settings=settings, slug=slug)
    assert re.fullmatch(r"\d{6}", code) and 0 < left <= 30
    started = do_begin_login(f"owner@{slug}.clinic", "demo-owner-2026", now=when, engine=engine)
    assert started.status == "totp_required"
    signed = do_complete_login(started.challenge, code, now=when, engine=engine)
    assert signed.actor.role == "owner"
    with pytest.raises(ValueError, match="no two-factor"):
        current_demo_code(engine, f"frontdesk@{slug}.clinic", now=when, settings=settings, slug=slug)
    # the clinic with slug "demo" is not this one: refused like any other clinic's account
    with pytest.raises(ValueError, match="not an account of the demo clinic"):
        current_demo_code(engine, f"owner@{slug}.clinic", now=when, settings=settings)
    with pytest.raises(ValueError, match="not an account of the demo clinic"):
        current_demo_code(engine, "nobody@example.com", now=when, settings=settings, slug=slug)


def test_demo_code_about_to_expire_is_the_next_one_and_signs_in(demo, engine):
    """`medspa demo-code` with under 5 s left prints the next step's code: sign-in takes it."""
    from medspa.domain.identity.two_factor import TOTP_STEP_SECONDS
    from medspa.domain.identity.actions import do_begin_login, do_complete_login
    from medspa.ops.demo_codes import MIN_SECONDS_LEFT, current_demo_code
    from medspa.settings import get_settings

    slug, settings = demo["slug"], get_settings()
    step_start = datetime.fromtimestamp(
        (int((NOW + timedelta(minutes=7)).timestamp()) // TOTP_STEP_SECONDS) * TOTP_STEP_SECONDS, timezone.utc)
    when = step_start + timedelta(seconds=TOTP_STEP_SECONDS - 2)  # 2 s left
    email = f"manager@{slug}.clinic"
    current, left = current_demo_code(engine, email, now=when, settings=settings, slug=slug)
    code, valid = current_demo_code(engine, email, now=when, settings=settings, slug=slug,
                                    min_left=MIN_SECONDS_LEFT)
    assert left == 2 and valid == 2 + TOTP_STEP_SECONDS and code != current
    password = {e: p for e, p, _ in demo_credentials(slug)}[email]
    started = do_begin_login(email, password, now=when, engine=engine)
    assert started.status == "totp_required"
    assert do_complete_login(started.challenge, code, now=when, engine=engine).actor.role == "manager"


def test_the_demo_clinic_keeps_the_money_invariant(engine, demo):
    """Issue 11: `medspa check` on the demo clinic finds nothing (payments/invariant.py)."""
    from medspa.clock import FixedClock
    from medspa.domain.payments.actions import fetch_money_violations

    (clinic,) = fetch_money_violations(clinic=demo["slug"], clock=FixedClock(NOW), engine=engine)
    assert clinic.violations == ()


def test_seeded_visits_are_found_by_token_and_by_display_code(engine, demo):
    """Issue 12: seeded references used to be rejected by the lookup; every seeded visit now has
    a display code and a token, and both find it."""
    from medspa.clock import FixedClock
    from medspa.domain.identity.actor import Actor
    from medspa.domain.scheduling.actions.calendar import find_visit_by_code
    from medspa.domain.scheduling.actions.online import fetch_booking

    org = demo["org_id"]
    bad = one(engine, org, r"select count(*) from appointment where display_code !~ '^[0-9A-HJKMNP-TV-Z]{8}$' "
                           "or length(booking_token) < 22")
    assert bad == 0
    rows = q(engine, org, "select id, display_code, booking_token from appointment "
                          "where status = 'confirmed' order by start_at limit 3")
    desk = Actor(org_id=org, role="front_desk", user_id=None, label="test desk")
    for appt_id, code, token in rows:
        assert fetch_booking(Actor.public(org), token, engine=engine).id == appt_id
        found = find_visit_by_code(desk, f"{code[:4]}-{code[4:]}".lower(), clock=FixedClock(NOW), engine=engine)
        assert found.detail.id == appt_id


def test_seeded_visits_record_the_terms_they_were_booked_under(engine, demo):
    """Trial of issue 16: seeded visits had no booked terms (NULL), so a fee the owner set later
    was charged on them. Each records its location's window and keep rule and no fee (none set
    when the demo seeds): a fee set later applies only to visits booked after it."""
    org = demo["org_id"]
    assert one(engine, org, """select count(*) from appointment a join location l on l.id = a.location_id
        where a.booked_window_hours is distinct from l.cancellation_window_hours
           or a.booked_late_keeps_deposit is distinct from l.late_cancel_keeps_deposit
           or a.booked_late_cancel_fee_cents is distinct from 0 or a.booked_no_show_fee_cents is distinct from 0""") == 0


def test_demo_has_tests_in_every_status_and_a_lab_login(engine, demo):
    """Issue 17: the lab worklist, the profile's results and the portal's Results tab show
    something on first run; the lab user exists and is in the printed credentials."""
    org = demo["org_id"]
    statuses = dict(q(engine, org, "select status, count(*) from lab_order group by status"))
    assert statuses == {"ordered": 2, "collected": 1, "resulted": 2, "reviewed": 1}
    flagged = one(engine, org, """select count(*) from lab_order, jsonb_array_elements(result_values) v
                                  where v->>'flag' <> ''""")
    assert flagged == 1  # the thyroid panel's TSH
    assert ("lab@" + demo["slug"] + ".clinic", "demo-lab-2026", "lab") in demo_credentials(demo["slug"])
    assert one(engine, org, "select count(*) from audit_event where action = 'order.review'") == 1
def test_demo_histories_flag_a_pregnant_and_an_isotretinoin_visit_soon(engine, demo):
    """Issue 17: `make run` shows contraindication flags on upcoming visits."""
    from medspa.domain.clinical.contraindications import visit_flags
    from medspa.domain.scheduling.models import Appointment

    org = demo["org_id"]
    assert one(engine, org, "select count(distinct client_id) from medical_history_version") >= 20
    assert one(engine, org, "select count(*) from service_contraindication") > 0
    with tenant_session(org, engine) as s:
        soon = s.exec(select(Appointment).where(Appointment.start_at >= NOW, Appointment.status == "confirmed")).all()
        codes = {f.code for flags in visit_flags(s, soon).values() for f in flags}
    assert {"pregnancy", "medication", "allergy"} <= codes


def test_product_catalog_lots_and_an_opened_vial(engine, demo):
    """Issue 18: the catalog, an expired lot, a low one and a Botox vial opened this morning."""
    org = demo["org_id"]
    assert one(engine, org, "select count(*) from product where active") == 6
    assert one(engine, org, "select count(*) from product_lot where expires_on < :d", d=TODAY) == 1
    assert one(engine, org, "select lot_number from product_lot l join product p on p.id = l.product_id "
                            "where p.name = 'Xeomin'") == "XM8821"  # 200 units, low mark 200: flagged low
    assert one(engine, org, "select count(*) from product_vial where beyond_use_at > :n and opened_at < :n",
               n=NOW) == 1


def test_demo_messages_templates_texts_and_a_sent_campaign(engine, demo):
    """Issue 19: per-service aftercare / pre-visit wording, a flagged text and a STOP from clients,
    and a campaign sent nine days ago whose results read like a real send."""
    org = demo["org_id"]
    assert one(engine, org, "select count(*) from message_template where kind = 'post_care'") >= 1
    assert one(engine, org, "select count(*) from message_template where kind = 'pre_visit'") >= 1
    assert one(engine, org, "select count(*) from inbound_message where flagged") == 1
    assert one(engine, org, "select count(*) from inbound_message where keyword = 'stop'") == 1
    assert one(engine, org, "select count(*) from contact_suppression where kind = 'opted_out'") == 1
    assert one(engine, org, "select status from campaign") == "sent"
    sent = one(engine, org, "select count(*) from outbox_message where campaign_id is not null "
                            "and status in ('sent', 'delivered')")
    assert sent >= 3, sent
    assert one(engine, org, "select count(*) from campaign_recipient where status = 'pending'") == 0
