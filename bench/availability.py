"""Availability for 14 days on the demo clinic, as a ratio to reading the same occupancy rows.

bound: one SELECT of the live occupancy rows of the same resources over the same window
(the data availability must read anyway). ratio = find_slots time / bound time.
"""

from __future__ import annotations

from datetime import timedelta

from _common import BENCH_NOW, BENCH_TODAY, best_of, bench_engines
from sqlalchemy import text

from medspa.db import tenant_session
from medspa.domain.catalog.service import list_services
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.service import list_locations
from medspa.domain.scheduling.availability import _context, find_slots  # the same resource set
from medspa.domain.timezones import local_midnight


def main() -> None:
    engine, _, org_id = bench_engines()
    actor = Actor.public(org_id)
    start, end = BENCH_TODAY, BENCH_TODAY + timedelta(days=13)
    with tenant_session(org_id, engine) as s:
        locs = list_locations(s, actor)
        cases = [(loc.id, svc.id, svc.name) for loc in locs
                 for svc in list_services(s, actor, loc.id, online_only=True)[:6]]
    print(f"availability bench: {len(cases)} (location, service) pairs x 14 days")
    ratios = []
    for loc_id, svc_id, name in cases:
        with tenant_session(org_id, engine) as s:
            slots = find_slots(s, actor, location_id=loc_id, service_id=svc_id, start_date=start, end_date=end,
                               now=BENCH_NOW)

            def run():
                find_slots(s, actor, location_id=loc_id, service_id=svc_id, start_date=start, end_date=end,
                           now=BENCH_NOW)

            ctx = _context(s, loc_id, svc_id, None)
            ids = list(ctx.provider_resource.values()) + ctx.rooms + ctx.devices
            lo, hi = local_midnight(start, ctx.tz) - timedelta(days=1), local_midnight(end, ctx.tz) + timedelta(days=2)

            def bound():
                # exactly the rows availability reads: live occupancies of the same resources and window
                s.execute(text("""
                    select resource_id, during from occupancy
                    where resource_id = any(:ids) and status in ('held','booked')
                      and during && tstzrange(:lo, :hi)
                """), {"ids": ids, "lo": lo, "hi": hi}).all()

            t_run, t_bound = best_of(run), best_of(bound)
        ratios.append(t_run / t_bound)
        print(f"  {name[:34]:34s} slots={len(slots):5d}  find_slots={t_run * 1000:7.1f} ms  "
              f"read rows={t_bound * 1000:6.1f} ms  ratio={t_run / t_bound:5.1f}")
    ratios.sort()
    print(f"availability/read ratio: median {ratios[len(ratios) // 2]:.1f}, max {ratios[-1]:.1f}")


if __name__ == "__main__":
    main()
