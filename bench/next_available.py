"""Next available day over 90 days on the demo clinic, as a ratio to reading that range's occupancy rows.

bound: one SELECT of the live occupancy rows of the same resources over the same 90-day window
(the data next_available_day must read anyway). ratio = next_available_day time / bound time.
Target (issue 15): ratio <= 3.

Two kinds of case:
- demo: every (location, online service) from BENCH_TODAY (the answer is usually in the first week);
- full: the worst case, nothing free for 90 days, so every day is scanned: inside a transaction
  that is rolled back, the service is made to need a room type only one new room has, and that
  room is blocked for the whole range (every start time is tried and refused).
"""

from __future__ import annotations

from datetime import timedelta

from _common import BENCH_NOW, BENCH_TODAY, best_of, bench_engines
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import Range

from medspa.db import tenant_session
from medspa.domain.catalog.models import Service
from medspa.domain.catalog.service import list_services
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.service import add_resource, list_locations
from medspa.domain.scheduling.availability import _context, next_available_day  # the same resource set
from medspa.domain.scheduling.models import Occupancy
from medspa.domain.timezones import local_midnight

DAYS = 90
BOUND = 3.0


def _measure(s, actor, loc_id: int, svc_id: int):
    start, end = BENCH_TODAY, BENCH_TODAY + timedelta(days=DAYS - 1)

    def run():
        return next_available_day(s, actor, location_id=loc_id, service_id=svc_id, from_day=start, until_day=end,
                                  now=BENCH_NOW)

    found = run()
    ctx = _context(s, loc_id, svc_id, None)
    ids = list(ctx.provider_resource.values()) + ctx.rooms + ctx.devices
    lo, hi = local_midnight(start, ctx.tz) - timedelta(days=1), local_midnight(end, ctx.tz) + timedelta(days=2)

    def bound():
        # exactly the rows the scan reads: live occupancies of the same resources and window
        s.execute(text("""
            select resource_id, during from occupancy
            where resource_id = any(:ids) and status in ('held','booked')
              and during && tstzrange(:lo, :hi)
        """), {"ids": ids, "lo": lo, "hi": hi}).all()

    t_run, t_bound = best_of(run), best_of(bound)
    rows = s.execute(text("select count(*) from occupancy where resource_id = any(:ids) and status in "
                          "('held','booked') and during && tstzrange(:lo, :hi)"),
                     {"ids": ids, "lo": lo, "hi": hi}).scalar()
    return found, t_run, t_bound, rows


def main() -> None:
    engine, _, org_id = bench_engines()
    actor = Actor.public(org_id)
    system = Actor.system(org_id, "bench")
    with tenant_session(org_id, engine) as s:
        locs = list_locations(s, actor)
        cases = [(loc.id, loc.name, svc.id, svc.name) for loc in locs
                 for svc in list_services(s, actor, loc.id, online_only=True)[:6]]
    print(f"next available bench: {len(cases)} (location, service) pairs, {DAYS} days from {BENCH_TODAY}")
    ratios: dict[str, list[float]] = {"demo": [], "full": []}
    for loc_id, loc_name, svc_id, name in cases:
        with tenant_session(org_id, engine) as s:
            found, t_run, t_bound, rows = _measure(s, actor, loc_id, svc_id)
        ratios["demo"].append(t_run / t_bound)
        print(f"  demo {name[:30]:30s} next={found.day}  rows={rows:5d}  scan={t_run * 1000:7.2f} ms  "
              f"read rows={t_bound * 1000:6.2f} ms  ratio={t_run / t_bound:5.2f}")
    for loc in locs:
        loc_id, (svc_id, name) = loc.id, next((c[2], c[3]) for c in cases if c[0] == loc.id)
        with tenant_session(org_id, engine) as s:  # never committed: rolled back when closed
            room = add_resource(s, system, loc_id, "room", "Bench: fully booked room", "bench_full")
            s.get(Service, svc_id).room_type = "bench_full"
            lo = local_midnight(BENCH_TODAY, _context(s, loc_id, svc_id, None).tz) - timedelta(days=2)
            s.add(Occupancy(org_id=org_id, resource_id=room.id, during=Range(lo, lo + timedelta(days=DAYS + 4),
                                                                               bounds="[)"),
                            status="booked", kind="block", note="bench"))
            s.flush()
            found, t_run, t_bound, rows = _measure(s, actor, loc_id, svc_id)
            s.rollback()
        assert found.day is None, found
        ratios["full"].append(t_run / t_bound)
        print(f"  full {name[:30]:30s} next={found.day}  rows={rows:5d}  scan={t_run * 1000:7.2f} ms  "
              f"read rows={t_bound * 1000:6.2f} ms  ratio={t_run / t_bound:5.2f}")
    for kind, values in ratios.items():
        values.sort()
        print(f"next_available/read ratio ({kind}): median {values[len(values) // 2]:.2f}, max {values[-1]:.2f} "
              f"(target <= {BOUND:.0f})")


if __name__ == "__main__":
    main()
