"""Profile single booking attempts (hold_slot, confirm=True, as booking_throughput.py calls it).

Prints, per outcome (booked, slot_taken), the SQL statements each attempt sends (counted with a
`before_cursor_execute` listener, the tenant set_config and savepoints included) and the top
functions of a cProfile run over the attempts. One thread, no contention: where an attempt
spends its own time. Cleans up what it booked (same clean-up as booking_throughput.py).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone

from _common import BENCH_NOW, bench_engines
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

    event.listen(engine, "before_cursor_execute", count)
    outcomes: dict[str, list[list[str]]] = {"booked": [], "slot_taken": []}
    profiles: dict[str, pstats.Stats] = {}

    def attempt(start: datetime) -> None:
        statements.clear()
        prof = cProfile.Profile()
        with tenant_session(org_id, engine) as s:
            prof.enable()
            try:
                hold_slot(s, desk, location_id=loc.id, service_id=svc.id, start_at=start, now=BENCH_NOW,
                          confirm=True)
                s.commit()
                outcome = "booked"
            except SlotTaken:
                s.rollback()
                outcome = "slot_taken"
            prof.disable()
        outcomes[outcome].append(list(statements))
        if outcome in profiles:
            profiles[outcome].add(prof)
        else:
            profiles[outcome] = pstats.Stats(prof)

    # every start as many times as it has providers + 1: all but the last book, the last is taken
    for start in starts:
        for _ in range(per_start[start] + 1):
            attempt(start)
    event.remove(engine, "before_cursor_execute", count)

    for outcome, runs in outcomes.items():
        if not runs:
            continue
        n = [len(r) for r in runs]
        print(f"\n== {outcome}: {len(runs)} attempts, SQL statements per attempt: "
              f"min {min(n)}, median {sorted(n)[len(n) // 2]}, max {max(n)}")
        kinds = Counter(st for r in runs for st in r)
        for st, c in kinds.most_common(20):
            print(f"  {c / len(runs):5.2f} x  {st}")
        stats = profiles[outcome]
        print(f"  time per attempt under cProfile: {stats.total_tt / len(runs) * 1000:.2f} ms (inflated)")
        for key in ("cumulative", "tottime"):
            buf = io.StringIO()
            stats.stream = buf
            stats.sort_stats(key).print_stats(top)
            print("\n".join(buf.getvalue().splitlines()[6:]))

    with tenant_session(org_id, engine) as s:  # leave the open day open for the next run
        window = {"lo": datetime.combine(day, datetime.min.time(), timezone.utc) - timedelta(days=1),
                  "hi": datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(days=2)}
        mine = ("select id from appointment where source = 'staff' and created_by_user_id is null "
                "and status = 'confirmed' and start_at >= :lo and start_at < :hi")
        s.execute(text(f"update occupancy set status = 'released' where appointment_id in ({mine})"), window)
        s.execute(text(f"update appointment set status = 'cancelled' where id in ({mine})"), window)
        s.commit()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 25)
