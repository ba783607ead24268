"""Booking throughput: 8 concurrent clients against one popular day, as a ratio to raw inserts.

bound: raw psycopg BEGIN/INSERT occupancy/COMMIT by 8 threads on the same server in this
run (no checks, no appointment). ratio = bookings per second / raw inserts per second.
Prints `overlaps: N` (live occupancies of one resource that overlap; must be 0).
Runs a calendar loop (LISTEN) as a web worker does, so set-up data is kept per worker
(availability.booking_context); `--no-loop`: without it, every attempt reads it.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import datetime, timedelta, timezone

from _common import BENCH_NOW, bench_engines, start_calendar_loop
from sqlalchemy import text

from medspa.db import tenant_session
from medspa.domain.catalog.service import list_services
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.service import list_locations
from medspa.domain.scheduling.availability import find_slots
from medspa.domain.scheduling.service import SlotTaken, hold_slot

THREADS = 8
GOAL = 0.25  # issue 20


def main() -> None:
    engine, owner, org_id = bench_engines()
    desk = Actor(org_id=org_id, role="front_desk", label="bench")
    # as in a web worker: its calendar loop keeps the booking set-up data (availability.booking_context);
    # --no-loop: none, every attempt reads it (the CLI, jobs)
    looped = "--no-loop" not in sys.argv
    stop_loop = start_calendar_loop(engine) if looped else (lambda: None)
    print("calendar loop: " + ("listening (set-up data kept per worker)" if looped else "none (--no-loop)"))
    day = (BENCH_NOW + timedelta(days=40)).date()  # beyond the seeded four weeks: an open day
    with tenant_session(org_id, engine) as s:
        loc = list_locations(s, desk)[0]
        svc = next(x for x in list_services(s, desk, loc.id) if x.category == "Neuromodulators")
        slots = find_slots(s, desk, location_id=loc.id, service_id=svc.id, start_date=day, end_date=day,
                           now=BENCH_NOW, apply_notice=False)
    starts = sorted({sl.start for sl in slots})
    # every thread walks the same list of starts: they contend for the same providers and times
    ok, taken = [0], [0]
    lock = threading.Lock()

    def client(n: int) -> None:
        for start in starts:
            with tenant_session(org_id, engine) as s:
                try:
                    hold_slot(s, desk, location_id=loc.id, service_id=svc.id, start_at=start, now=BENCH_NOW,
                              confirm=True)
                    s.commit()
                    with lock:
                        ok[0] += 1
                except SlotTaken:
                    s.rollback()
                    with lock:
                        taken[0] += 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    t_book = time.perf_counter() - t0
    attempts = ok[0] + taken[0]

    # bound: raw inserts of non-overlapping occupancies on a scratch resource, same threads
    with tenant_session(org_id, engine) as s:
        rid = s.execute(text("insert into resource (org_id, kind, name, resource_type, active) values "
                             "(:o, 'room', 'bench scratch', 'bench', true) returning id"), {"o": org_id}).scalar()
        s.commit()
    per_thread = max(1, attempts // THREADS)
    base = datetime(2030, 1, 1, tzinfo=timezone.utc)
    raw_conn_url = engine.url

    def raw(n: int) -> None:
        import psycopg

        url = raw_conn_url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url) as conn:
            for i in range(per_thread):
                lo = base + timedelta(minutes=(n * per_thread + i) * 10)
                with conn.transaction():
                    conn.execute("select set_config('app.org_id', %s, true)", (str(org_id),))
                    conn.execute("insert into occupancy (org_id, resource_id, during, status, kind, note) "
                                 "values (%s, %s, tstzrange(%s, %s), 'booked', 'block', '')",
                                 (org_id, rid, lo, lo + timedelta(minutes=5)))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=raw, args=(n,)) for n in range(THREADS)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    t_raw = time.perf_counter() - t0
    with tenant_session(org_id, engine) as s:
        overlaps = s.execute(text("""
            select count(*) from (
              select during, lag(upper(during)) over (partition by resource_id order by lower(during)) as prev_end
              from occupancy where status in ('held','booked')) t
            where prev_end > lower(during)""")).scalar()
        s.execute(text("delete from occupancy where resource_id = :r"), {"r": rid})
        s.execute(text("delete from resource where id = :r"), {"r": rid})
        # leave the open day open for the next run
        window = {"lo": datetime.combine(day, datetime.min.time(), timezone.utc) - timedelta(days=1),
                  "hi": datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(days=2)}
        mine = ("select id from appointment where source = 'staff' and created_by_user_id is null "
                "and status = 'confirmed' and start_at >= :lo and start_at < :hi")
        s.execute(text(f"update occupancy set status = 'released' where appointment_id in ({mine})"), window)
        s.execute(text(f"update appointment set status = 'cancelled' where id in ({mine})"), window)
        s.commit()
    book_rate = attempts / t_book
    raw_rate = per_thread * THREADS / t_raw
    print(f"booking throughput: {THREADS} threads, {attempts} attempts on one day "
          f"({ok[0]} booked, {taken[0]} slot_taken) in {t_book:.2f} s = {book_rate:.0f} attempts/s")
    print(f"raw occupancy inserts: {per_thread * THREADS} in {t_raw:.2f} s = {raw_rate:.0f}/s")
    print(f"booking/raw ratio: {book_rate / raw_rate:.2f} (goal >= {GOAL:g})")
    print(f"overlaps: {overlaps}")
    stop_loop()


if __name__ == "__main__":
    main()
