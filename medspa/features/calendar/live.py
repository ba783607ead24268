"""Live calendars: one PostgreSQL listener per web worker pushes changes into open tabs.

The mechanism measured in SETUP-NOTES.md ("Live calendars across workers"):

1. Triggers on `appointment` and `occupancy` (migration 0001) run
   pg_notify('calendar_changed', '<org>:<location>') (location 0: a provider block, all
   locations of the clinic). PostgreSQL sends it only on commit and merges duplicates per
   transaction, so EVERY writer (a Reflex event, the JSON API, a job, a psql session) is
   covered without code of its own.
2. Each worker runs ONE `LiveCalendars` (a lifespan task) holding a psycopg AsyncConnection
   that LISTENs. A burst of notifications is merged; each affected clinic's registered tabs
   are read from `calendar_watch` (PostgreSQL, shared by all workers), the tabs connected to
   THIS worker are picked from Reflex's token manager, each distinct view (location, day or
   week, providers or rooms) is loaded once, and pushed with
   `app.modify_state(rx.BaseStateToken(ident=client_token, cls=CalendarState))` into that
   tab's private state. Tabs on other workers are those workers' business.
3. After every (re)connect of the LISTEN connection and every SAFETY_SECONDS, a full refresh
   pushes every local tab again (a missed notification costs at most that long) and prunes
   registrations of tabs that are no longer connected anywhere.

Relies on Reflex 0.10.1 internals to find this worker's tabs
(`app.event_namespace._token_manager`: `instance_id`, `token_to_socket`,
`is_token_connected`); Reflex is pinned and tests/browser/test_calendar.py covers it end
to end with two workers and Redis.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Protocol

import psycopg

from medspa.clock import Clock, app_clock
from medspa.features.calendar import data
from medspa.features.calendar.data import ViewKey, key_of

log = logging.getLogger("medspa.live")

CHANNEL = "calendar_changed"
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


Push = Callable[[int, str, ViewKey, Any], Awaitable[bool]]  # (org, token, key, loaded view) -> pushed?


@dataclass
class Stats:
    notifications: int = 0
    batches: int = 0
    pushes: int = 0
    full_refreshes: int = 0
    reconnects: int = 0
    pruned: int = 0
    last_error: str = ""
    history: list[float] = field(default_factory=list)  # seconds from batch start to last push


class LiveCalendars:
    """The per-worker listener. `run()` until cancelled."""

    def __init__(self, *, db_url: str, engine, tabs: Tabs, push: Push, clock: Callable[[], Clock] = app_clock,
                 safety_seconds: float = SAFETY_SECONDS):
        self.db_url = db_url
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
                    self.connected.set()
                    backoff = 0.25
                    await self.full_refresh()  # whatever changed while we were not listening
                    await self._listen(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect and refresh
                self.stats.last_error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("calendar listener: %s; reconnecting", self.stats.last_error)
            self.connected.clear()
            self.stats.reconnects += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _listen(self, conn: psycopg.AsyncConnection) -> None:
        while True:
            wait = max(0.05, self.safety_seconds - (time.monotonic() - self._last_full))
            pending: set[str] = set()
            async for note in conn.notifies(timeout=wait, stop_after=1):
                pending.add(note.payload)
            if pending:
                # merge the burst: whatever else is already there or arrives right now
                async for note in conn.notifies(timeout=MERGE_SECONDS):
                    pending.add(note.payload)
                self.stats.notifications += len(pending)
                await self.process(pending)
            if time.monotonic() - self._last_full >= self.safety_seconds:
                await conn.execute("select 1")  # a dead LISTEN connection shows up here
                await self.full_refresh()

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
        rows = await asyncio.to_thread(data.watches_of, self.engine, org_id, locations)
        local = [w for w in rows if self.tabs.is_local(w.client_token)]
        if tidy:
            await self._tidy(org_id, rows, local)
        if not local:
            return 0
        keys = {key_of(w).normal() for w in local}
        now = self.clock().now()
        loaded = await asyncio.to_thread(data.load_many, self.engine, org_id, keys, now)
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
        removed = await asyncio.to_thread(data.tidy_watches, self.engine, org_id, gone=gone,
                                          alive=sorted(local_tokens), instance_id=mine, now=now)
        self.stats.pruned += removed


# --------------------------------------------------------------------------- Reflex glue


class ReflexTabs:
    """This worker's connected tabs, from Reflex 0.10.1's token manager (internal API)."""

    def __init__(self, app):
        self.app = app

    @property
    def _manager(self):
        namespace = getattr(self.app, "event_namespace", None)
        return getattr(namespace, "_token_manager", None) if namespace is not None else None

    @property
    def instance_id(self) -> str:
        manager = self._manager
        return getattr(manager, "instance_id", "") if manager is not None else ""

    def is_local(self, client_token: str) -> bool:
        manager = self._manager
        if manager is None:
            return False
        record = manager.token_to_socket.get(client_token)
        return record is not None and record.instance_id == manager.instance_id

    def any_local(self) -> bool:
        manager = self._manager
        if manager is None:
            return False
        return any(r.instance_id == manager.instance_id for r in list(manager.token_to_socket.values()))

    async def is_connected(self, client_token: str) -> bool:
        manager = self._manager
        if manager is None:
            return False
        try:
            return bool(await manager.is_token_connected(client_token))
        except Exception:  # noqa: BLE001 - when unsure, keep the registration
            return True


class SessionCheck:
    """Is the tab's staff session still valid for this clinic? Cached briefly, never touched
    (a server push must not keep an idle session alive)."""

    TTL = 30.0

    def __init__(self, engine, clock: Callable[[], Clock] = app_clock):
        self.engine = engine
        self.clock = clock
        self._cache: dict[str, tuple[float, Any]] = {}

    async def actor(self, session_token: str, org_id: int):
        from medspa.domain.identity.service import actor_for_token

        if not session_token:
            return None
        digest = hashlib.sha256(session_token.encode()).hexdigest()
        hit = self._cache.get(digest)
        if hit is None or hit[0] < time.monotonic():
            actor = await asyncio.to_thread(actor_for_token, self.engine, session_token, now=self.clock().now(),
                                            touch=False)
            if len(self._cache) > 5000:
                self._cache.clear()
            hit = self._cache[digest] = (time.monotonic() + self.TTL, actor)
        actor = hit[1]
        return actor if actor is not None and actor.org_id == org_id else None


def reflex_push(app, engine) -> Push:
    """The push into one tab's private CalendarState (and its open detail panel)."""
    import reflex as rx

    from medspa.features.calendar.state import CalendarState, DetailState

    sessions = SessionCheck(engine)

    async def push(org_id: int, client_token: str, key: ViewKey, loaded) -> bool:
        async with app.modify_state(rx.BaseStateToken(ident=client_token, cls=CalendarState)) as root:
            cal = await root.get_state(CalendarState)
            if cal._view_key() != key:
                return False  # the tab moved on; its own load re-registered it
            actor = await sessions.actor(cal.session_token, org_id)
            if actor is None:
                cal._signed_out()
                return False
            changed = cal._apply_loaded(key, loaded)
            detail = await root.get_state(DetailState)
            if detail.panel_open and detail.detail.id in changed:
                await detail._reload(actor)
            return True

    return push


HUB: LiveCalendars | None = None


def note_org(org_id: int) -> None:
    """A tab of this clinic registered on this worker: include it in full refreshes."""
    if HUB is not None:
        HUB.known_orgs.add(org_id)


def instance_id() -> str:
    """This worker's Reflex instance id ("" before the listener started)."""
    return HUB.tabs.instance_id if HUB is not None else ""


async def calendar_listener(app) -> None:
    """Lifespan task (one per web worker): run the listener until the worker stops."""
    global HUB
    from medspa.db import get_engine, resolve_urls
    from medspa.settings import get_settings

    settings = get_settings()
    db_url, _ = await asyncio.to_thread(resolve_urls, settings)
    engine = get_engine(settings)
    HUB = LiveCalendars(db_url=db_url, engine=engine, tabs=ReflexTabs(app), push=reflex_push(app, engine))
    log.info("calendar listener starting (instance %s)", HUB.tabs.instance_id)
    await HUB.run()
