"""The owners' dashboard on years of data: each analytics query as a ratio to one sequential scan.

Data: the large synthetic clinic (`medspa seed --scale large`: ~1,000,000 appointments over
~3 years, 6 locations), seeded once into its own database `medspa_large` of the embedded
server in var/bench (or DATABASE_URL's server) and VACUUMed (ANALYZE); later runs reuse it.

bound: one sequential scan of the appointment table, `SELECT count(*), sum(price_cents) FROM
appointment` with index scans disabled (the plan is checked to be a Seq Scan), as the app role
inside the clinic (row-level security on), median of 7. Every figure is the median time of a
dashboard query / the bound, measured in the same run. Goal (issue 20): <= 2x for every query
of a 30-day or 365-day range, for all locations and for one location, and <= 3x for the
dashboard's load (features/dashboard/data.py `summary`, over analytics.actions.fetch_dashboard: the default
last-30-days view, which also runs the previous period, the 12-month trends and the 24-month
cohorts). Each query runs in its own transaction tuned like the dashboard's
(analytics.common.tune_report_session: work_mem, no JIT).
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from _common import BENCH_NOW, PROJECT_ROOT
from sqlalchemy import create_engine, text

from medspa.db import tenant_session, to_sqlalchemy_url
from medspa.domain.analytics.common import tune_report_session
from medspa.domain.identity.actor import Actor
from medspa.settings import Settings

GOAL = 2.0
LOAD_GOAL = 3.0  # issue 20: tiles + charts, two steps of many queries
DATABASE = "medspa_large"


def large_engines():
    """(app_engine, owner_engine, org_id) of the large clinic, seeding it on the first run."""
    settings = Settings()
    if settings.database_url:
        app_url, owner_url = settings.database_url, settings.database_owner_url or settings.database_url
    else:
        from medspa.embedded_db import ensure_embedded

        app_url, owner_url = ensure_embedded(PROJECT_ROOT / "var" / "bench", DATABASE)
    from medspa import migrate

    migrate.upgrade(app_url, owner_url)
    engine = create_engine(to_sqlalchemy_url(app_url), pool_size=4)
    owner = create_engine(to_sqlalchemy_url(owner_url))
    from medspa.demo.large import LARGE_SLUG, seed_large

    with owner.connect() as conn:
        org_id = conn.execute(text("select id from organization where slug = :s"), {"s": LARGE_SLUG}).scalar()
    if org_id is None:
        t0 = time.perf_counter()
        org_id, counts = seed_large(engine, owner, now=BENCH_NOW,
                                    progress=lambda msg, frac: print(f"  [{frac * 100:3.0f}%] {msg}", flush=True))
        print(f"seeded the large clinic in {time.perf_counter() - t0:.0f} s: "
              + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        # planner statistics, visibility map and GIN pending lists of every freshly loaded table:
        # after ANALYZE alone the name searches read every client instead of the trigram indexes
        with owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("vacuum (analyze)"))
    return engine, owner, org_id


def median_time(fn, repeat: int = 5) -> float:
    """Median seconds of `repeat` calls after one warm-up (3 calls when one takes over 2 s)."""
    t0 = time.perf_counter()
    fn()
    if time.perf_counter() - t0 > 2.0:
        repeat = 3
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _queries():
    """(label, module, function name, extra kwargs) of every dashboard query present in this checkout."""
    from medspa.domain.analytics import service

    mods = {"service": service}
    for name in ("revenue", "trends", "cohorts"):
        try:
            mods[name] = __import__(f"medspa.domain.analytics.{name}", fromlist=[name])
        except ImportError:
            pass
    wanted = [
        ("no_show_rate", "service", "no_show_rate", {}),
        ("cancellations", "service", "cancellations", {}),
        ("utilization", "service", "utilization", {}),
        ("resource_util(room)", "service", "resource_utilization", {"kind": "room"}),
        ("resource_util(device)", "service", "resource_utilization", {"kind": "device"}),
        ("rebooking", "service", "rebooking", {}),
        ("new_clients", "service", "new_clients", {}),
        ("revenue(month)", "revenue", "revenue", {"by": "month"}),
        ("revenue(month_category)", "revenue", "revenue", {"by": "month_category"}),
        ("ticket_summary", "revenue", "ticket_summary", {}),
        ("top_services", "revenue", "top_services", {}),
        ("monthly_trend", "trends", "monthly_trend", {}),
        ("busiest_hours", "trends", "busiest_hours", {}),
        ("retention", "cohorts", "retention", {}),
    ]
    out = []
    for label, mod, fn, extra in wanted:
        f = getattr(mods.get(mod), fn, None)
        if f is None:
            print(f"  (skipped {mod}.{fn}: not in this checkout)")
            continue
        if fn == "revenue" and extra.get("by") not in getattr(mods[mod], "REVENUE_GROUPS", {}):
            continue
        out.append((label, f, extra))
    return out


def main() -> None:
    """Print every query's time / the bound, then the dashboard load (module docstring)."""
    engine, _, org_id = large_engines()
    actor = Actor(org_id=org_id, role="owner", label="bench owner")
    with tenant_session(org_id, engine) as s:
        n_appts = s.execute(text("select count(*) from appointment")).scalar()
        loc_id, tz = s.execute(text("select id, time_zone from location order by id limit 1")).one()
        loc_name = s.execute(text("select name from location where id = :i"), {"i": loc_id}).scalar()
    today = BENCH_NOW.astimezone(ZoneInfo(tz)).date()

    def bound() -> None:
        with tenant_session(org_id, engine) as s:
            s.execute(text("set local enable_indexscan = off"))
            s.execute(text("set local enable_bitmapscan = off"))
            s.execute(text("set local enable_indexonlyscan = off"))
            s.execute(text("select count(*), sum(price_cents) from appointment")).one()

    with tenant_session(org_id, engine) as s:
        for opt in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
            s.execute(text(f"set local {opt} = off"))
        plan = "\n".join(r[0] for r in s.execute(text("explain select count(*), sum(price_cents) from appointment")))
    if "Seq Scan on appointment" not in plan:
        sys.exit(f"the bound is not a sequential scan:\n{plan}")
    t_bound = median_time(bound, repeat=7)
    print(f"dashboard bench: large clinic, {n_appts:,} appointments; now {BENCH_NOW:%Y-%m-%d %H:%M}Z, "
          f"local today {today} ({tz})")
    print(f"bound: one sequential scan of appointment = {t_bound * 1000:.1f} ms (median of 7)")
    print(f"goal <= {GOAL:g}x; '!!' marks a figure above it\n")

    ranges = [("30 days", today - timedelta(days=29), today), ("365 days", today - timedelta(days=364), today)]
    locs = [("all", None), (loc_name.split("—")[-1].strip(), loc_id)]
    print(f"{'query':26s} {'range':9s} {'location':14s} {'ms':>9s} {'ratio':>7s}")
    above: list[str] = []
    for label, fn, extra in _queries():
        for rname, start, end in ranges:
            for lname, lid in locs:
                def run(fn=fn, start=start, end=end, lid=lid, extra=extra) -> None:
                    with tenant_session(org_id, engine) as s:
                        tune_report_session(s)  # as the dashboard's action (analytics/actions.py)
                        fn(s, actor, start=start, end=end, location_id=lid, now=BENCH_NOW, **extra)

                t = median_time(run)
                ratio = t / t_bound
                mark = "  !!" if ratio > GOAL else ""
                if mark:
                    above.append(f"{label} {rname} {lname}")
                print(f"{label:26s} {rname:9s} {lname:14s} {t * 1000:9.1f} {ratio:7.2f}{mark}", flush=True)

    from medspa.features.dashboard.data import summary

    start = today - timedelta(days=29)

    def load() -> None:
        summary(actor, start=start, end=today, location_id=None, now=BENCH_NOW, engine=engine)

    t_load = median_time(load, repeat=3)
    ratio = t_load / t_bound
    print(f"\ndashboard load (summary, last 30 days, all locations): {t_load * 1000:.0f} ms = {ratio:.2f}x the bound"
          + f" (goal <= {LOAD_GOAL:g}x)" + ("  !!" if ratio > LOAD_GOAL else ""))
    # the page loads in two steps (features/dashboard/state.py _run): the tiles (with the previous
    # period) and the range's charts first, then the 12-month trends/revenue and 24-month cohorts
    for part, kw in (("first step: tiles and the range's charts", {"history": False}),
                     ("second step: 12/24-month charts", {"head": False})):
        t_part = median_time(lambda kw=kw: summary(actor, start=start, end=today, location_id=None,
                                                   now=BENCH_NOW, engine=engine, **kw), repeat=3)
        print(f"  {part}: {t_part * 1000:.0f} ms = {t_part / t_bound:.2f}x the bound")
    print(f"queries above {GOAL:g}x: {len(above)}" + (": " + "; ".join(above) if above else ""))


if __name__ == "__main__":
    main()
