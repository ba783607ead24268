"""Profile single booking attempts (hold_slot, confirm=True, as booking_throughput.py calls it).

Not part of `make bench` (leading underscore): run it by hand when the booking path changes.
Prints, per outcome (booked, slot_taken), the SQL statements each attempt sends (counted with a
`before_cursor_execute` listener, the tenant set_config and savepoints included), the top
functions of a cProfile run over the attempts, then the same attempts again without the
profiler, each as a ratio to one raw occupancy insert transaction (BEGIN, set_config, INSERT,
COMMIT) timed in the same run, on one thread. Cleans up what it booked. Runs a calendar loop
(LISTEN) as a web worker does (set-up data kept: availability.booking_context); `--no-loop`:
without it. A numeric argument: how many profile rows to print.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from _common import BENCH_NOW, bench_engines, start_calendar_loop
from sqlalchemy import event, text

from medspa.db import tenant_session
from medspa.domain.catalog.service import list_services
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.service import list_locations
from medspa.domain.scheduling.availability import find_slots
from medspa.domain.scheduling.service import SlotTaken, hold_slot


def main(top: int = 25) -> None:
    engine, owner, org_id = bench_engines()
    desk = Actor(org_id=org_id, role="front_desk", label="bench")
    # as in a web worker: its calendar loop keeps the booking set-up data (availability.booking_context);
    # --no-loop: none, every attempt reads it (the CLI, jobs)
    looped = "--no-loop" not in sys.argv
    stop_loop = start_calendar_loop(engine) if looped else (lambda: None)
    print("calendar loop: " + ("listening (set-up data kept per worker)" if looped else "none (--no-loop)"))
    day = (BENCH_NOW + timedelta(days=41)).date()  # an open day, next to the throughput bench's
    with tenant_session(org_id, engine) as s:
        loc = list_locations(s, desk)[0]
        svc = next(x for x in list_services(s, desk, loc.id) if x.category == "Neuromodulators")
        slots = find_slots(s, desk, location_id=loc.id, service_id=svc.id, start_date=day, end_date=day,
                           now=BENCH_NOW, apply_notice=False)
    starts = sorted({sl.start for sl in slots})
    per_start = Counter(sl.start for sl in slots)
    print(f"{len(starts)} starts, {len(slots)} slots (providers per start: max {max(per_start.values())})")

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        statements.append(statement.split("\n")[0][:90])

    def attempt(start: datetime, prof: cProfile.Profile | None) -> tuple[str, float]:
        statements.clear()
        t0 = time.perf_counter()
        with tenant_session(org_id, engine) as s:
            if prof:
                prof.enable()
            try:
                hold_slot(s, desk, location_id=loc.id, service_id=svc.id, start_at=start, now=BENCH_NOW,
                          confirm=True)
                s.commit()
                outcome = "booked"
            except SlotTaken:
                s.rollback()
                outcome = "slot_taken"
            if prof:
                prof.disable()
        return outcome, time.perf_counter() - t0

    def walk(profile: bool) -> dict[str, list]:
        """Every start as many times as it has providers + 1: all but the last book, the last
        is taken; then the full day once more per start (taken, alternatives from 3 days around)."""
        runs: dict[str, list] = {"booked": [], "slot_taken": []}
        tries = [(st, per_start[st] + 1) for st in starts] + [(st, 1) for st in starts]
        for start, times in tries:
            for _ in range(times):
                prof = cProfile.Profile() if profile else None
                outcome, took = attempt(start, prof)
                runs[outcome].append((took, list(statements), prof))
        clean(day)
        return runs

    def clean(day) -> None:  # leave the open day open for the next run
        with tenant_session(org_id, engine) as s:
            window = {"lo": datetime.combine(day, datetime.min.time(), timezone.utc) - timedelta(days=1),
                      "hi": datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(days=2)}
            mine = ("select id from appointment where source = 'staff' and created_by_user_id is null "
                    "and status = 'confirmed' and start_at >= :lo and start_at < :hi")
            s.execute(text(f"update occupancy set status = 'released' where appointment_id in ({mine})"), window)
            s.execute(text(f"update appointment set status = 'cancelled' where id in ({mine})"), window)
            s.commit()

    event.listen(engine, "before_cursor_execute", count)
    profiled = walk(True)
    event.remove(engine, "before_cursor_execute", count)
    for outcome, runs in profiled.items():
        if not runs:
            continue
        n = [len(st) for _, st, _ in runs]
        print(f"\n== {outcome}: {len(runs)} attempts, SQL statements per attempt: "
              f"min {min(n)}, median {sorted(n)[len(n) // 2]}, max {max(n)}")
        kinds = Counter(st for _, r, _ in runs for st in r)
        for st, c in kinds.most_common(20):
            print(f"  {c / len(runs):5.2f} x  {st}")
        stats = pstats.Stats(runs[0][2])
        for _, _, prof in runs[1:]:
            stats.add(prof)
        for key in ("cumulative", "tottime"):
            buf = io.StringIO()
            stats.stream = buf
            stats.sort_stats(key).print_stats(top)
            print("\n".join(buf.getvalue().splitlines()[6:]))

    timed = walk(False)
    raw = raw_insert_seconds(engine, org_id, 60)
    print(f"\none thread, no profiler: raw occupancy insert transaction {raw * 1000:.2f} ms (median)")
    for outcome, runs in timed.items():
        if runs:
            med = statistics.median(t for t, _, _ in runs)
            print(f"  {outcome}: {len(runs)} attempts, median {med * 1000:.2f} ms = {raw / med:.2f} of a raw insert")
    stop_loop()


def raw_insert_seconds(engine, org_id: int, n: int) -> float:
    """Median seconds of one raw psycopg BEGIN/set_config/INSERT occupancy/COMMIT on a scratch
    resource (the bound of booking_throughput.py), on one thread; the scratch rows are removed."""
    import psycopg

    with tenant_session(org_id, engine) as s:
        rid = s.execute(text("insert into resource (org_id, kind, name, resource_type, active) values "
                             "(:o, 'room', 'bench scratch', 'bench', true) returning id"), {"o": org_id}).scalar()
        s.commit()
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    base = datetime(2031, 1, 1, tzinfo=timezone.utc)
    took = []
    with psycopg.connect(url) as conn:
        for i in range(n):
            lo = base + timedelta(minutes=i * 10)
            t0 = time.perf_counter()
            with conn.transaction():
                conn.execute("select set_config('app.org_id', %s, true)", (str(org_id),))
                conn.execute("insert into occupancy (org_id, resource_id, during, status, kind, note) "
                             "values (%s, %s, tstzrange(%s, %s), 'booked', 'block', '')",
                             (org_id, rid, lo, lo + timedelta(minutes=5)))
            took.append(time.perf_counter() - t0)
    with tenant_session(org_id, engine) as s:
        s.execute(text("delete from occupancy where resource_id = :r"), {"r": rid})
        s.execute(text("delete from resource where id = :r"), {"r": rid})
        s.commit()
    return statistics.median(took)


if __name__ == "__main__":
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    main(int(numbers[0]) if numbers else 25)
