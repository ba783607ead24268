"""The per-worker listener of live calendars: LISTEN, merge, load each view once, push.

The mechanism measured in SETUP-NOTES.md ("Live calendars across workers"):

1. Triggers on `appointment` and `occupancy` (migration 0001) run
   pg_notify('calendar_changed', '<org>:<location>') (location 0: a provider block, all
   locations of the clinic). PostgreSQL sends it only on commit and merges duplicates per
   transaction, so EVERY writer (a Reflex event, the JSON API, a job, a psql session) is
   covered without code of its own.
2. Each worker runs ONE `LiveCalendars` (started by `medspa.live.lifespan`) holding a
   psycopg AsyncConnection that LISTENs. A burst of notifications is merged; each affected
   clinic's registered tabs are read from `calendar_watch` (PostgreSQL, shared by all
   workers) through the scheduling actions, the tabs connected to THIS worker are picked
   (`Tabs`), each distinct view (location, day or week, providers or rooms) is loaded once,
   and handed to `push` (the subscribers: the calendar feature puts it into that tab's
   private state). Tabs on other workers are those workers' business.
3. After every (re)connect of the LISTEN connection and every SAFETY_SECONDS, a full refresh
   pushes every local tab again (a missed notification costs at most that long) and prunes
   registrations of tabs that are no longer connected anywhere.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Protocol

import psycopg

from medspa.clock import Clock, app_clock
from medspa.domain.scheduling.actions import calendar as reads
from medspa.domain.scheduling.actions.calendar import ViewKey, key_of
from medspa.domain.scheduling.availability_cache import AVAILABILITY, AvailabilityCache

log = logging.getLogger("medspa.live")

CHANNEL = "calendar_changed"
SETTINGS_CHANNEL = "settings_changed"  # settings triggers only (migration 0057): drops cached set-up data
SAFETY_SECONDS = 45.0
MERGE_SECONDS = 0.015
PRUNE_GRACE_SECONDS = 120.0
MAX_PARALLEL_PUSHES = 16
APPLICATION_NAME = "medspa-calendar-listener"


def _libpq_url(url: str) -> str:
    """psycopg takes libpq URLs: drop SQLAlchemy's driver suffix if present."""
    for prefix in ("postgresql+psycopg://", "postgres+psycopg://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    return url


class Tabs(Protocol):
    """Which client tokens are connected (Reflex's token manager, or a fake in tests)."""

    @property
    def instance_id(self) -> str: ...

    def is_local(self, client_token: str) -> bool: ...

    def any_local(self) -> bool: ...

    async def is_connected(self, client_token: str) -> bool: ...


class NoTabs:
    """Tabs of a process that serves no calendar page (an API-only server, a bench, a test):
    its loop only keeps the availability cache (scheduling.availability_cache)."""

    def __init__(self, instance_id: str = "no-tabs"):
        self.instance_id = instance_id

    def is_local(self, client_token: str) -> bool:
        return False

    def any_local(self) -> bool:
        return False

    async def is_connected(self, client_token: str) -> bool:
        return False


Push = Callable[[int, str, ViewKey, Any], Awaitable[bool]]  # (org, token, key, loaded view) -> pushed?


@dataclass
class Stats:
    """Counters of one worker's listener, the last error, and recent batch times in seconds."""

    notifications: int = 0
    batches: int = 0
    pushes: int = 0
    full_refreshes: int = 0
    reconnects: int = 0
    pruned: int = 0
    last_error: str = ""
    history: list[float] = field(default_factory=list)  # seconds from batch start to last push


def invalidate_availability(cache: AvailabilityCache, payload: str) -> None:
    """Drop the cached availability a notification '<org>:<location>' touches
    (scheduling.availability_cache), at once: before the burst is merged and pushed."""
    org, _, loc = payload.partition(":")
    if org.isdigit() and loc.isdigit():
        cache.invalidate(int(org), int(loc))
    else:  # a payload we cannot read: drop everything
        cache.set_listening(cache.listening)


def invalidate_settings(cache: AvailabilityCache, payload: str) -> None:
    """Drop the cached set-up data (availability.booking_context) a `settings_changed`
    notification '<org>:<location>' touches. Its calendar_changed twin does the rest."""
    org, _, loc = payload.partition(":")
    if org.isdigit() and loc.isdigit():
        cache.invalidate(int(org), int(loc), settings=True)
    else:
        cache.set_listening(cache.listening)


class LiveCalendars:
    """The per-worker listener. `run()` until cancelled."""

    def __init__(self, *, db_url: str, engine, tabs: Tabs, push: Push, clock: Callable[[], Clock] = app_clock,
                 safety_seconds: float = SAFETY_SECONDS, availability: AvailabilityCache = AVAILABILITY):
        self.db_url = db_url
        self.availability = availability  # this worker's availability cache, kept by the notifications
        self.engine = engine
        self.tabs = tabs
        self.push = push
        self.clock = clock
        self.safety_seconds = safety_seconds
        self.known_orgs: set[int] = set()
        self.connected = asyncio.Event()
        self.stats = Stats()
        self._last_full = 0.0

    # ---- the loop

    async def run(self) -> None:
        backoff = 0.25
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                        _libpq_url(self.db_url), autocommit=True, application_name=APPLICATION_NAME) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    await conn.execute(f"LISTEN {SETTINGS_CHANNEL}")
                    self.availability.set_listening(True)  # from here on every change reaches the cache
                    self.connected.set()
                    backoff = 0.25
                    await self.full_refresh()  # whatever changed while we were not listening
                    await self._listen(conn)
            except asyncio.CancelledError:
                self.availability.set_listening(False)
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect and refresh
                self.stats.last_error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("calendar listener: %s; reconnecting", self.stats.last_error)
            self.availability.set_listening(False)  # notifications may be missed until we listen again
            self.connected.clear()
            self.stats.reconnects += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _listen(self, conn: psycopg.AsyncConnection) -> None:
        while True:
            wait = max(0.05, self.safety_seconds - (time.monotonic() - self._last_full))
            pending: set[str] = set()
            async for note in conn.notifies(timeout=wait, stop_after=1):
                self._note(note, pending)
            if pending:
                # merge the burst: whatever else is already there or arrives right now
                async for note in conn.notifies(timeout=MERGE_SECONDS):
                    self._note(note, pending)
                self.stats.notifications += len(pending)
                await self.process(pending)
            if time.monotonic() - self._last_full >= self.safety_seconds:
                await conn.execute("select 1")  # a dead LISTEN connection shows up here
                await self.full_refresh()

    def _note(self, note, pending: set[str]) -> None:  # noqa: ANN001 - a psycopg Notify
        """Drop what a notification touches from the cache, at once; calendar ones join `pending`."""
        if note.channel == SETTINGS_CHANNEL:
            invalidate_settings(self.availability, note.payload)
        else:
            pending.add(note.payload)
            invalidate_availability(self.availability, note.payload)

    # ---- work

    async def process(self, payloads: set[str]) -> None:
        """Handle merged notifications "<org>:<location>"."""
        by_org: dict[int, set[int]] = defaultdict(set)
        for payload in payloads:
            org, _, loc = payload.partition(":")
            if org.isdigit() and loc.isdigit():
                by_org[int(org)].add(int(loc))
        if not by_org or not self.tabs.any_local():
            return
        self.stats.batches += 1
        for org_id, locations in by_org.items():
            await self.refresh_org(org_id, locations)

    async def full_refresh(self) -> None:
        """Push every local tab of every clinic this worker has seen, and prune the registry."""
        self._last_full = time.monotonic()
        self.stats.full_refreshes += 1
        for org_id in sorted(self.known_orgs):
            try:
                await self.refresh_org(org_id, {0}, tidy=True)
            except Exception as exc:  # noqa: BLE001 - one clinic must not stop the others
                log.warning("calendar refresh of clinic %s failed: %s", org_id, exc)

    async def refresh_org(self, org_id: int, locations: set[int], *, tidy: bool = False) -> int:
        """Load each watched view of these locations once and push it to this worker's tabs."""
        t0 = time.monotonic()
        self.known_orgs.add(org_id)
        rows = await asyncio.to_thread(reads.fetch_watches, org_id, locations, engine=self.engine)
        local = [w for w in rows if self.tabs.is_local(w.client_token)]
        if tidy:
            await self._tidy(org_id, rows, local)
        if not local:
            return 0
        keys = {key_of(w).normal() for w in local}
        now = self.clock().now()
        loaded = await asyncio.to_thread(reads.fetch_views, org_id, keys, now, engine=self.engine)
        gate = asyncio.Semaphore(MAX_PARALLEL_PUSHES)

        async def one(token: str, key: ViewKey) -> bool:
            async with gate:
                try:
                    return await self.push(org_id, token, key, loaded[key])
                except Exception as exc:  # noqa: BLE001 - a broken tab must not stop the rest
                    log.warning("calendar push to a tab failed: %s", exc)
                    return False

        jobs = [one(w.client_token, key_of(w).normal()) for w in local if key_of(w).normal() in loaded]
        done = sum(await asyncio.gather(*jobs))
        self.stats.pushes += done
        self.stats.history = (self.stats.history + [time.monotonic() - t0])[-200:]
        return done

    async def _tidy(self, org_id: int, rows, local) -> None:
        mine = self.tabs.instance_id
        local_tokens = {w.client_token for w in local}
        now = self.clock().now()
        gone = []
        for w in rows:
            if w.client_token in local_tokens:
                continue
            recent = (now - w.updated_at).total_seconds() < PRUNE_GRACE_SECONDS
            if w.instance_id != mine and recent:
                continue  # another worker's fresh tab: its own worker decides
            if not await self.tabs.is_connected(w.client_token):
                gone.append(w.client_token)
        removed = await asyncio.to_thread(reads.do_tidy_watches, org_id, gone=gone, alive=sorted(local_tokens),
                                          instance_id=mine, now=now, engine=self.engine)
        self.stats.pruned += removed
