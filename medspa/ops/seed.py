"""The demo clinic (slug `demo`) and the large synthetic clinic (`medspa seed --scale large`)."""

from __future__ import annotations

import re
import time

from medspa.ops.database import Database, Say, count_organizations
from medspa.settings import Settings

DEMO_SLUG = "demo"
DEMO_LOGINS = (
    ("owner", "owner@demo.clinic", "demo-owner-2026"),
    ("front desk", "frontdesk@demo.clinic", "demo-desk-2026"),
    ("nurse injector", "nurse@demo.clinic", "demo-nurse-2026"),
)


class Progress:
    """Prints seed progress callbacks `(label, fraction)`, one line per new label."""

    def __init__(self, say: Say) -> None:
        self.say = say
        self.last = ""

    def __call__(self, label: object = "", fraction: object = None, *args: object, **kwargs: object) -> None:
        text = re.sub(r"\s*\d+%$", "", str(label))  # "appointments 47%" -> one line per stage
        if text == self.last:
            return
        self.last = text
        pct = f"[{float(fraction) * 100:3.0f}%] " if isinstance(fraction, (int, float)) else ""
        self.say(f"  {pct}{text}")


def demo_logins() -> list[tuple[str, str, str]]:
    """(role, email, password) of the demo staff, from the seed module when it is there."""
    try:
        from medspa.demo.seed import demo_credentials
    except ImportError:
        return list(DEMO_LOGINS)
    return [(role, email, password) for email, password, role in demo_credentials()]


def demo_present(settings: Settings, db: Database) -> bool:
    """True when the demo clinic (DEMO_SLUG) is in the database `db`."""
    return count_organizations(settings, db, DEMO_SLUG) > 0


def seed_demo_if_empty(settings: Settings, db: Database, say: Say) -> bool:
    """What `serve` does: load the demo clinic into an empty database; True when the demo
    clinic is there afterwards."""
    if count_organizations(settings, db) == 0:
        return run_seed(settings, db, say)
    return demo_present(settings, db)


def run_seed(settings: Settings, db: Database, say: Say) -> bool:
    """Call medspa.demo.seed.seed_demo if that module exists; False when it is missing."""
    try:
        from medspa.demo.seed import seed_demo
    except ModuleNotFoundError as exc:
        if exc.name in ("medspa.demo", "medspa.demo.seed"):
            say("Demo data: medspa.demo.seed is not available yet; skipping the demo clinic.")
            return False
        raise
    from medspa.db import get_engine, get_owner_engine

    url_settings = db.settings(settings)
    engine, owner_engine = get_engine(url_settings), get_owner_engine(url_settings)
    say("Loading the demo clinic (first run only) ...")
    t0 = time.monotonic()
    try:
        seed_demo(engine, owner_engine, progress=Progress(say), settings=settings)
    finally:
        engine.dispose()
        owner_engine.dispose()
    say(f"Demo clinic loaded ({time.monotonic() - t0:.1f} s)")
    return True


def seed_large(settings: Settings, db: Database, say: Say) -> None:
    """`medspa seed --scale large`: the large clinic at the app clock's now, with progress and row counts."""
    from medspa.clock import app_clock
    from medspa.db import get_engine, get_owner_engine
    from medspa.demo.large import LARGE_SLUG, seed_large as load_large

    if count_organizations(settings, db, LARGE_SLUG):
        say(f"The large clinic ('{LARGE_SLUG}') is already there; nothing to do.")
        return
    url_settings = db.settings(settings)
    engine, owner_engine = get_engine(url_settings), get_owner_engine(url_settings)
    say("Loading the large clinic (about 1,000,000 appointments; a few minutes) ...")
    t0 = time.monotonic()

    def progress(label: str, fraction: float) -> None:
        say(f"  [{fraction * 100:3.0f}%] {time.monotonic() - t0:6.1f} s  {label}")

    try:
        _, counts = load_large(engine, owner_engine, now=app_clock().now(), progress=progress)
    finally:
        engine.dispose()
        owner_engine.dispose()
    say(f"Large clinic loaded in {time.monotonic() - t0:.0f} s:")
    for table, n in counts.items():
        say(f"  {table:<15} {n:>10,}")
    say(f"Logins: owner@{LARGE_SLUG}.clinic / large-owner-2026, manager@{LARGE_SLUG}.clinic / large-manager-2026 "
        "(two-factor is set up at the first sign-in)")
