"""The large synthetic clinic (`medspa seed --scale large`), generated at a tiny size.

The generator runs in SQL in one tenant transaction; these tests check what it promises at
5,000 appointments: shares of statuses, a consistent clinic, no overlapping live occupancy,
visits inside working hours in each location's own time, isolation from other clinics and
the same rows for the same `now`. The history (38 days before 10 Nov 2026) crosses the start
of Sydney's daylight saving time (4 Oct), the end of London's (25 Oct) and of the US (1 Nov).
"""

from __future__ import annotations

from datetime import datetime, timezone
from uuid import uuid4

import pytest
from sqlalchemy import text

from medspa.db import tenant_session
from medspa.demo.large import LargeSeedError, seed_large, size_for
from tests.factories import build_clinic

NOW = datetime(2026, 11, 10, 17, 30, tzinfo=timezone.utc)
SIZE = 5000


@pytest.fixture(scope="module")
def large(engine, owner_engine):
    slug = f"large-{uuid4().hex[:8]}"
    steps: list[str] = []
    org_id, counts = seed_large(engine, owner_engine, now=NOW, appointments=SIZE, slug=slug,
                                progress=lambda msg, frac: steps.append(msg))
    return {"org_id": org_id, "slug": slug, "counts": counts, "steps": steps}


def q(engine, org_id: int, sql: str, **params):
    """Rows of `sql` as the app role inside clinic `org_id` (row-level security on)."""
    with tenant_session(org_id, engine) as s:
        return s.execute(text(sql), params).all()


def test_counts_and_status_shares(engine, large):
    org = large["org_id"]
    counts = large["counts"]
    assert 0.9 * SIZE <= counts["appointments"] <= 1.1 * SIZE
    assert counts["providers"] == 12 and counts["locations"] == 6
    assert counts["clients"] == size_for(SIZE).clients // 6 * 6
    by_status = dict(q(engine, org, "select status, count(*) from appointment group by status"))
    total = sum(by_status.values())
    assert total == counts["appointments"]
    assert set(by_status) <= {"completed", "no_show", "cancelled", "confirmed", "checked_in"}
    assert 0.08 <= by_status["cancelled"] / total <= 0.15
    due = by_status["completed"] + by_status["no_show"]
    assert 0.06 <= by_status["no_show"] / due <= 0.12
    assert by_status["confirmed"] > 0  # the days after `now` are partly booked
    # every past visit is settled; every future one is confirmed (or was cancelled)
    (unsettled,) = q(engine, org, """select count(*) from appointment
        where (end_at <= :now and status not in ('completed', 'no_show', 'cancelled'))
           or (start_at > :now and status not in ('confirmed', 'cancelled'))""", now=NOW)[0]
    assert unsettled == 0


def test_cancellations_early_and_late_by_the_window(engine, large):
    rows = q(engine, large["org_id"], """
        select a.cancellation_late, a.start_at - a.cancelled_at < make_interval(hours => l.cancellation_window_hours),
               a.cancelled_at > a.created_at and a.cancelled_at <= :now
        from appointment a join location l on l.id = a.location_id where a.status = 'cancelled'""", now=NOW)
    assert rows and all(late == inside and ordered for late, inside, ordered in rows)
    late = sum(1 for r in rows if r[0])
    assert 0.15 <= late / len(rows) <= 0.5
    (non_cancelled_flags,) = q(engine, large["org_id"], """select count(*) from appointment
        where status <> 'cancelled' and (cancelled_at is not null or cancellation_late is not null)""")[0]
    assert non_cancelled_flags == 0


def test_everything_belongs_to_the_clinic(engine, owner_engine, large):
    org = large["org_id"]
    with owner_engine.connect() as conn:  # the owner sees across clinics: check the foreign rows' org
        bad = conn.execute(text("""
            select count(*) from appointment a
            join location l on l.id = a.location_id join service s on s.id = a.service_id
            join staff_member p on p.id = a.provider_id join client c on c.id = a.client_id
            left join appointment r on r.id = a.rebooked_from_id
            where a.org_id = :org and (l.org_id <> :org or s.org_id <> :org or p.org_id <> :org
                  or c.org_id <> :org or r.org_id <> :org or p.role <> 'provider')"""), {"org": org}).scalar()
        sp = conn.execute(text("""select count(*) from appointment a left join service_provider sp
            on sp.service_id = a.service_id and sp.staff_id = a.provider_id
            where a.org_id = :org and sp.staff_id is null"""), {"org": org}).scalar()
        occ = conn.execute(text("""select count(*) from occupancy o join resource r on r.id = o.resource_id
            join appointment a on a.id = o.appointment_id
            where o.org_id = :org and (r.org_id <> :org or a.org_id <> :org
                  or (r.location_id is not null and r.location_id <> a.location_id))"""), {"org": org}).scalar()
    assert (bad, sp, occ) == (0, 0, 0)
    # a rebooked visit comes after the completed visit it was booked at, for the same client
    rebooks = q(engine, org, """select count(*), count(*) filter (where r.status = 'completed'
            and r.client_id = a.client_id and a.created_at = r.completed_at and a.start_at > r.end_at)
        from appointment a join appointment r on r.id = a.rebooked_from_id""")[0]
    assert rebooks[0] > 0 and rebooks[0] == rebooks[1]


def test_occupancy_provider_and_room_never_overlap(engine, large):
    org = large["org_id"]
    (overlaps,) = q(engine, org, """select count(*) from occupancy o1 join occupancy o2
        on o2.resource_id = o1.resource_id and o2.id > o1.id and o2.during && o1.during
        where o1.status in ('held', 'booked') and o2.status in ('held', 'booked')""")[0]
    assert overlaps == 0
    kinds = dict(q(engine, org, """select r.kind, count(*) from occupancy o join resource r on r.id = o.resource_id
        group by r.kind"""))
    (live, cancelled) = q(engine, org, """select count(*) filter (where status <> 'cancelled'),
        count(*) filter (where status = 'cancelled') from appointment""")[0]
    assert kinds["provider"] == live + cancelled and kinds["room"] == live + cancelled and kinds["device"] > 0
    mismatched = q(engine, org, """select count(*) from occupancy o join appointment a on a.id = o.appointment_id
        where (o.status = 'released') <> (a.status = 'cancelled')""")[0][0]
    assert mismatched == 0


def test_visits_sit_inside_working_hours_in_local_time(engine, large):
    org = large["org_id"]
    rows = q(engine, org, """
        select l.time_zone, count(*),
               count(*) filter (where w.id is not null),
               count(*) filter (where (a.start_at at time zone l.time_zone)::date
                                      = (a.end_at at time zone l.time_zone)::date)
        from appointment a join location l on l.id = a.location_id
        left join working_hours w on w.staff_id = a.provider_id and w.location_id = a.location_id
          and w.weekday = extract(isodow from (a.start_at at time zone l.time_zone)) - 1
          and w.start_time <= (a.start_at at time zone l.time_zone)::time
          and w.end_time >= (a.end_at at time zone l.time_zone)::time
        group by l.time_zone order by l.time_zone""")
    assert {r[0] for r in rows} == {"America/Los_Angeles", "America/Denver", "America/New_York", "Europe/London",
                                    "Asia/Dubai", "Australia/Sydney"}
    for tz, n, inside, same_day in rows:
        assert n > 0 and inside == n and same_day == n, tz
    # across the DST changes, shifts still start at 09:00 or 10:00 local (never shifted by an hour)
    starts = {r[0] for r in q(engine, org, """select distinct (o.during_lo at time zone l.time_zone)::time
        from (select lower(o.during) as during_lo, a.location_id from occupancy o
              join appointment a on a.id = o.appointment_id) o
        join location l on l.id = o.location_id
        where (o.during_lo at time zone l.time_zone)::time < time '10:01'""")}
    assert {"09:00:00", "10:00:00"} <= {s.isoformat() for s in starts}


def test_money_in_the_ledger(engine, large):
    org = large["org_id"]
    rows = dict(q(engine, org, "select entry_type, sum(amount_cents) from ledger_entry group by entry_type"))
    (deposits,) = q(engine, org, "select sum(deposit_cents) from appointment where deposit_cents > 0")[0]
    assert rows["deposit_paid"] == deposits
    (refundable,) = q(engine, org, """select sum(deposit_cents) from appointment
        where status = 'cancelled' and not cancellation_late""")[0]
    assert rows["deposit_refunded"] == -refundable < 0
    assert rows["deposit_forfeited"] == 0
    # checkout of every completed visit: the sale at its price, minus the deposit it absorbs
    (sales, applied, completed_deposits) = q(engine, org, """select
        (select sum(price_cents) from appointment where status = 'completed'),
        (select -sum(amount_cents) from ledger_entry where entry_type = 'deposit_applied'),
        (select sum(deposit_cents) from appointment where status = 'completed')""")[0]
    assert rows["sale"] == sales > 0 and applied == completed_deposits
    # one processing fee line per succeeded payment, equal to the payment's fee
    (fees, paid_fees, n_fee_lines, n_payments) = q(engine, org, """select
        (select -sum(amount_cents) from ledger_entry where entry_type = 'processing_fee'),
        (select sum(fee_cents) from payment),
        (select count(*) from ledger_entry where entry_type = 'processing_fee'), (select count(*) from payment)""")[0]
    assert fees == paid_fees > 0 and n_fee_lines == n_payments


def test_other_clinics_see_none_of_it(engine, owner_engine, large):
    other = build_clinic(engine, owner_engine)
    with tenant_session(other.org_id, engine) as s:
        seen = s.execute(text("""select (select count(*) from appointment), (select count(*) from client
            where email like '%.%.%@example.%'), (select count(*) from occupancy), (select count(*) from ledger_entry)"""
                              )).one()
    assert tuple(seen) == (0, 0, 0, 0)
    with tenant_session(large["org_id"], engine) as s:
        assert s.execute(text("select count(*) from location")).scalar() == 6


def test_same_now_same_clinic_and_a_second_run_refuses(engine, owner_engine, large):
    with pytest.raises(LargeSeedError):
        seed_large(engine, owner_engine, now=NOW, appointments=SIZE, slug=large["slug"])
    slug2 = f"large-{uuid4().hex[:8]}"
    org2, counts2 = seed_large(engine, owner_engine, now=NOW, appointments=SIZE, slug=slug2)
    assert counts2 == large["counts"]
    fingerprint = """select md5(string_agg(concat_ws('|', l.name, p.display_name, s.name, c.email, a.start_at,
        a.end_at, a.status, a.created_at, a.cancelled_at, a.rebooked_from_id is not null), ',' order by
        a.start_at, p.display_name, a.status))
        from appointment a join location l on l.id = a.location_id join staff_member p on p.id = a.provider_id
        join service s on s.id = a.service_id join client c on c.id = a.client_id"""
    assert q(engine, large["org_id"], fingerprint) == q(engine, org2, fingerprint)


def test_every_visit_has_a_display_code_and_a_token(engine, large):
    codes, distinct, tokens = q(engine, large["org_id"], r"""
        select count(*) filter (where display_code ~ '^[0-9A-HJKMNP-TV-Z]{8}$'), count(distinct display_code),
               count(*) filter (where booking_token ~ '^[0-9a-f]{40}$') from appointment""")[0]
    assert codes == distinct == tokens == large["counts"]["appointments"]
