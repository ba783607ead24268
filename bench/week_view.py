"""The staff calendar's week view of a location with 12 providers, as a ratio to reading the rows it shows.

Data: the large synthetic clinic of bench/dashboard.py (`medspa_large` under var/bench,
seeded once: 6 locations x 12 providers, ~3 years of history and 4 weeks ahead).

For each location: the median time of `calendar_week` (domain/scheduling/calendar.py: the
week's appointments with their service and client, working hours, staff, flags, paperwork,
closures, time off; as the app role inside the clinic: row-level security on), alone and
with the page's layout (features/calendar/layout.week_view), / the median time of one
SELECT of the same rows it shows (`appointment` joined to `service` and `client`, the
location's Monday-to-Sunday local week, with the calendar's own WHERE: visits overlapping the
week, expired holds left out, start_at bounded from below by the longest visit, 24 hours:
migration 0058), measured in the same run. Goal (issue 20): <= 2x.
Weeks: the current one (BENCH_NOW) and one a year back (history: every visit completed).

    python bench/week_view.py
"""

from __future__ import annotations

import statistics
from datetime import timedelta
from zoneinfo import ZoneInfo

from _common import BENCH_NOW, best_of
from dashboard import large_engines
from sqlalchemy import text

from medspa.db import tenant_session
from medspa.domain.identity.actor import Actor
from medspa.domain.scheduling.calendar import calendar_week, week_start
from medspa.domain.timezones import local_day_bounds
from medspa.features.calendar.layout import week_view

GOAL = 2.0
ROWS = text("""
    select a.*, s.*, c.* from appointment a
    join service s on s.id = a.service_id
    left join client c on c.id = a.client_id
    where a.location_id = :loc and a.start_at < :hi and a.start_at > :lo - interval '24 hours'
      and a.end_at > :lo and a.status <> 'expired'""")


def main() -> None:
    engine, _owner, org_id = large_engines()
    actor = Actor(org_id=org_id, role="front_desk", user_id=None, staff_id=None, label="bench front desk")
    with tenant_session(org_id, engine) as s:
        locations = s.execute(text("select id, name, time_zone from location order by id")).all()
        providers = dict(s.execute(text(
            "select location_id, count(distinct staff_id) from working_hours group by location_id")).all())
    print("week view (calendar_week) of a location / one SELECT of the rows it shows "
          f"(appointment + service + client of the local week), goal <= {GOAL}x")
    ratios = []
    for loc in locations:
        tz = ZoneInfo(loc.time_zone)
        today = BENCH_NOW.astimezone(tz).date()
        for label, day in (("this week", today), ("a year back", today - timedelta(days=364))):
            start = week_start(day)
            lo, _ = local_day_bounds(start, tz)
            _, hi = local_day_bounds(start + timedelta(days=6), tz)
            with tenant_session(org_id, engine) as s:
                rows = s.execute(ROWS, {"loc": loc.id, "lo": lo, "hi": hi}).all()
                bound = best_of(lambda: s.execute(ROWS, {"loc": loc.id, "lo": lo, "hi": hi}).all())

                def week():
                    return calendar_week(s, actor, location_id=loc.id, day=day, now=BENCH_NOW)

                query = best_of(week)
                laid = best_of(lambda: week_view(week(), show_cancelled=False))
                s.rollback()
            ratios.append(query / bound)
            print(f"  {loc.name[:18]:18s} {providers.get(loc.id, 0):2d} providers, {label:11s} {len(rows):4d} visits: "
                  f"query {query / bound:4.1f}x, with layout {laid / bound:4.1f}x "
                  f"({query * 1000:.0f} ms; bound {bound * 1000:.1f} ms)")
    print(f"median {statistics.median(ratios):.1f}x, max {max(ratios):.1f}x (query)")


if __name__ == "__main__":
    main()
