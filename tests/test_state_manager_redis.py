"""Reflex's state in Redis survives a restart of redis-server (medspa/state_manager.py,
reflex-dev/reflex#3505): real redis-server processes on a free port (never the machine's own
6379), restarted without persistence, as a cache is run; two state managers stand for two web
workers. Generous timeouts, no timing assertions: a lost lock handover would wait for the
lock's expiration, set here far beyond the timeouts.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
import time

import pytest
import redis as redis_sync
from redis.asyncio import Redis
from redis.exceptions import RedisError
from reflex.istate.manager import StateManager
from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.redis import StateManagerRedis
from reflex.istate.manager.token import BaseStateToken
from reflex_base.utils.exceptions import LockExpiredError

from medspa.features.calendar.state import CalendarState
from medspa.state_manager import ResilientStateManagerRedis, StateCopies, resilient
from tests.redis_support import RedisServer

TIMEOUT = 60  # s: a handover that went unheard would wait LOCK_EXPIRATION
LOCK_EXPIRATION = 600_000  # ms


@pytest.fixture
def server(tmp_path):
    srv = RedisServer(tmp_path)
    srv.start()
    yield srv
    srv.stop()


def worker(url: str) -> StateManager:
    """One web worker's state manager, as the app makes it (Reflex's client settings)."""
    reflex_own = StateManagerRedis(redis=Redis.from_url(url, retry_on_error=[RedisError]),
                                   lock_expiration=LOCK_EXPIRATION, lock_warning_threshold=1000)
    return resilient(reflex_own)


TAB = BaseStateToken(ident="tab-1", cls=CalendarState)


async def set_day(manager: StateManager, day: str, hold: float = 0.0) -> None:
    """An event of the tab: show `day` (holding the tab's lock `hold` seconds)."""
    async with manager.modify_state(TAB) as root:
        (await root.get_state(CalendarState)).day = day
        await asyncio.sleep(hold)


async def shown_day(manager: StateManager) -> str:
    async with manager.modify_state(TAB) as root:
        return (await root.get_state(CalendarState)).day


def run(coro):
    """Run `coro` to the end (bounded by TIMEOUT) on a loop of its own, in a thread of its own:
    an earlier test in this worker may have left an event loop running in the main thread
    (Playwright's sync API does), where asyncio.run() refuses to start (seen in CI)."""
    async def bounded():
        async with asyncio.timeout(TIMEOUT):
            return await coro
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, bounded()).result()


def test_the_app_uses_the_resilient_manager_only_instead_of_reflex_redis_one(server):
    manager = worker(server.url)
    assert type(manager) is ResilientStateManagerRedis
    assert manager.lock_expiration == LOCK_EXPIRATION
    assert manager.redis.get_retry()._retries > 3
    memory = StateManagerMemory()
    assert resilient(memory) is memory


def test_a_tab_keeps_its_state_when_redis_restarts_empty(server):
    async def scenario():
        a, b = worker(server.url), worker(server.url)
        await set_day(a, "2026-07-03")
        server.restart()  # no persistence: every state is gone from Redis
        assert await shown_day(a) == "2026-07-03"  # worker A still had the tab's state
        await set_day(a, "2026-07-04")  # the next click moves on from it
        assert await shown_day(b) == "2026-07-04"  # and it is back in Redis for the other worker
        await asyncio.gather(a.close(), b.close())

    run(scenario())


def test_workers_hand_a_tab_lock_over_after_redis_restarts(server):
    async def scenario():
        a, b = worker(server.url), worker(server.url)
        await asyncio.gather(set_day(a, "2026-07-01", hold=0.3), set_day(b, "2026-07-02"))  # listeners up
        server.restart()  # the keyspace notifications the handover relies on are off again
        await shown_day(a)  # the first event after the restart reconnects
        notify = redis_sync.Redis(port=server.port)
        deadline = time.monotonic() + TIMEOUT
        while not notify.config_get("notify-keyspace-events")["notify-keyspace-events"]:
            assert time.monotonic() < deadline, "keyspace notifications were not turned on again"
            await asyncio.sleep(0.05)
        # B waits for A's lock; A's release must reach B (else B waits LOCK_EXPIRATION, past TIMEOUT)
        await asyncio.gather(set_day(a, "2026-07-05", hold=0.5), set_day(b, "2026-07-06"))
        assert await shown_day(a) in ("2026-07-05", "2026-07-06")
        await asyncio.gather(a.close(), b.close())

    run(scenario())


def test_an_event_during_the_restart_waits_for_redis(server):
    async def scenario():
        a = worker(server.url)
        await set_day(a, "2026-07-03")
        server.stop()
        click = asyncio.create_task(set_day(a, "2026-07-04"))
        await asyncio.sleep(8)  # Redis away for 8 s: the click's calls keep retrying (14 s at least)
        server.start()
        await click
        assert await shown_day(a) == "2026-07-04"
        await a.close()

    run(scenario())


def test_an_event_running_while_redis_restarts_keeps_its_changes(server):
    async def scenario():
        a, b = worker(server.url), worker(server.url)
        await set_day(a, "2026-07-03")
        async with a.modify_state(TAB) as root:  # the event holds the tab's lock...
            (await root.get_state(CalendarState)).day = "2026-07-04"
            await asyncio.to_thread(server.restart)  # ...while Redis restarts: the lock is gone
        assert await shown_day(b) == "2026-07-04"
        await asyncio.gather(a.close(), b.close())

    run(scenario())


def test_a_save_does_not_take_a_lock_another_event_holds(server):
    async def scenario():
        a = worker(server.url)
        with pytest.raises(LockExpiredError):
            async with a.modify_state(TAB) as root:
                (await root.get_state(CalendarState)).day = "2026-07-04"
                await a.redis.set(a._lock_key(TAB), b"another-event")  # as if it expired and was taken
        assert await a.redis.get(a._lock_key(TAB)) == b"another-event"
        await a.redis.delete(a._lock_key(TAB))
        assert await shown_day(a) == ""
        await a.close()

    run(scenario())


def test_copies_keep_within_their_budget_and_expire():
    copies = StateCopies(ttl=3600, budget=10)
    copies.put("a", b"12345")
    copies.put("b", b"12345")
    copies.put("a", b"123")  # rewritten: now the most recent
    copies.put("c", b"1234")
    assert (copies.get("a"), copies.get("b"), copies.get("c"), copies.size) == (b"123", None, b"1234", 7)
    expired = StateCopies(ttl=-1)
    expired.put("a", b"1")
    assert (expired.get("a"), expired.size) == (None, 0)
