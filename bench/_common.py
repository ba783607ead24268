"""Shared set-up for the benches: an embedded PostgreSQL under var/bench with the demo clinic.

Benches print ratios against a bound measured in the same run, never bare wall-clock
claims: these machines are shared and noisy.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from medspa.db import to_sqlalchemy_url  # noqa: E402
from medspa.settings import PROJECT_ROOT, Settings  # noqa: E402

BENCH_TODAY = date(2026, 7, 1)
BENCH_NOW = datetime(2026, 7, 1, 16, 0, tzinfo=timezone.utc)


def bench_engines(database: str = "medspa_bench"):
    """(app_engine, owner_engine, org_id of the demo clinic): seeded once, reused by later runs.

    Uses DATABASE_URL/DATABASE_OWNER_URL when set, else the embedded server in var/bench.
    """
    settings = Settings()
    if settings.database_url:
        app_url, owner_url = settings.database_url, settings.database_owner_url or settings.database_url
    else:
        from medspa.embedded_db import ensure_embedded

        app_url, owner_url = ensure_embedded(PROJECT_ROOT / "var" / "bench", database)
    from medspa import migrate

    migrate.upgrade(app_url, owner_url)
    engine = create_engine(to_sqlalchemy_url(app_url), pool_size=12, max_overflow=4)
    owner = create_engine(to_sqlalchemy_url(owner_url))
    with owner.connect() as conn:
        org_id = conn.execute(text("select id from organization where slug = 'demo'")).scalar()
    if org_id is None:
        from medspa.demo.seed import seed_demo

        t0 = time.perf_counter()
        org_id = seed_demo(engine, owner, today=BENCH_TODAY, now=BENCH_NOW, with_other=False)
        print(f"seeded demo clinic in {time.perf_counter() - t0:.1f} s")
        with owner.connect() as conn:  # planner statistics for the freshly loaded tables
            conn.execute(text("analyze"))
            conn.commit()
    return engine, owner, org_id


def best_of(fn, repeat: int = 7) -> float:
    """Median seconds of `repeat` calls (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def start_calendar_loop(engine):
    """Start a LiveCalendars loop (as each web worker runs one) in a thread of its own, feeding
    this process's availability cache (scheduling.availability_cache: computed availability and
    booking set-up data are kept only while it listens). Waits until it listens; returns stop()."""
    import asyncio
    import threading

    from medspa.domain.scheduling.availability_cache import AVAILABILITY
    from medspa.live import LiveCalendars, NoTabs

    async def noop(*_):
        return False

    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    hub = LiveCalendars(db_url=url, engine=engine, tabs=NoTabs("bench"), push=noop, availability=AVAILABILITY)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict = {}

    async def run():
        box["task"] = asyncio.create_task(hub.run())
        await hub.connected.wait()
        ready.set()
        try:
            await box["task"]
        except asyncio.CancelledError:
            pass

    thread = threading.Thread(target=lambda: loop.run_until_complete(run()), daemon=True)
    thread.start()
    if not ready.wait(15):
        raise RuntimeError("the calendar loop did not connect")

    def stop() -> None:
        loop.call_soon_threadsafe(box["task"].cancel)
        thread.join(5)

    return stop
