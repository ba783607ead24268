"""Reflex's Redis state manager, made to survive a Redis restart (several web workers).

Reflex 0.10.1's `StateManagerRedis` does not recover from a lost Redis (reflex-dev/reflex#3505,
open). What a restart of redis-server (without persistence, as a cache is usually run) does to
it, reproduced in tests/test_state_manager_redis.py:

1. Every tab's state is gone. Reflex then treats the next event of an open page as a brand-new
   session: it sends the page a blank state, queues the page's on_load, and runs the event
   *first*, against the blank state. On the calendar, "next day" on a blank state does nothing
   (it does not know the day shown) while the page still says "Live": the click is silently
   lost, then on_load jumps the page to another day.
2. The lock handover between workers goes quiet. Reflex turns on keyspace notifications
   (`CONFIG SET notify-keyspace-events`) once per process; a restarted server has forgotten
   them, so a worker waiting for a tab's lock never hears it released and sits out the whole
   lock expiration (10 s) for every contended event.
3. The lock-release listener gives up for good after 5 connection errors in a minute, and
   every Redis call gives up after 3 retries (0 to 14 s): a click during a longer restart fails.
4. An event running while Redis restarts finds its lock gone when it saves: LockExpiredError,
   and its changes are lost.

`ResilientStateManagerRedis` works around all four, without copying Reflex's code:

1. each worker keeps a copy of the state it last wrote for each tab (bounded memory; a tab's
   websocket, its events and its live pushes stay on one worker); when Redis answers "no such
   state" for a key this worker has a copy of, the copy is used and written back;
2. the notifications are turned on again every time the listener (re)subscribes (redis-py
   re-subscribes by itself after reconnecting), and every waiting worker re-checks its lock;
3. the listener keeps retrying, and Redis calls retry connection errors for 14 to 27 s;
4. a save whose lock vanished (nobody else holds it) takes the lock again and saves.

`resilient(manager)` makes it from Reflex's own when Reflex chose Redis (REDIS_URL set); the
app (`MedspaApp._setup_state` in medspa/medspa.py) swaps it in.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import OrderedDict
from contextvars import ContextVar
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import EqualJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from reflex.istate.manager import StateManager
from reflex.istate.manager.redis import StateManagerRedis, enable_keyspace_notifications
from reflex.utils.tasks import ensure_task
from reflex_base.utils.exceptions import LockExpiredError

logger = logging.getLogger(__name__)

COPY_BUDGET_BYTES = 64 * 2**20  # per worker: the tabs' last written states, least recently written dropped first
RETRY_ATTEMPTS = 16  # 0.1 s doubling to 2 s between tries (half of it jitter): 14-27 s before a call gives up


def patient_retry() -> Retry:
    """The retry policy of the state manager's Redis calls: connection errors and timeouts are
    retried with jittered exponential backoff (0.1 s up to 2 s) for 14 to 27 s in all (Reflex's
    own: 3 tries within 0 to 14 s)."""
    return Retry(EqualJitterBackoff(base=0.1, cap=2.0), RETRY_ATTEMPTS,
                 supported_errors=(RedisConnectionError, RedisTimeoutError, OSError))


class StateCopies:
    """This worker's copy of the serialized states it wrote last, by Redis key.

    Args:
        ttl: seconds a copy lives after its write (Reflex's token expiration, as in Redis).
        budget: bytes kept at most; the least recently written copies go first.
    """

    def __init__(self, ttl: int, budget: int = COPY_BUDGET_BYTES):
        self.ttl, self.budget, self.size = ttl, budget, 0
        self._copies: OrderedDict[str, tuple[bytes, float]] = OrderedDict()

    def put(self, key: str, data: bytes) -> None:
        """Keep `data` as the latest state written under `key`."""
        self.drop(key)
        self._copies[key] = (data, time.monotonic() + self.ttl)
        self.size += len(data)
        while self.size > self.budget and self._copies:
            _, (old, _) = self._copies.popitem(last=False)
            self.size -= len(old)

    def drop(self, key: str) -> None:
        """Forget the copy under `key` (if any)."""
        if (old := self._copies.pop(key, None)) is not None:
            self.size -= len(old[0])

    def get(self, key: str) -> bytes | None:
        """The copy under `key`, None when there is none or it expired."""
        if (entry := self._copies.get(key)) is None:
            return None
        if entry[1] < time.monotonic():
            self.drop(key)
            return None
        return entry[0]


class RestoringRedis(Redis):
    """The state manager's Redis client: a state key Redis no longer has (restarted without
    persistence, or flushed) is answered from this worker's copy and written back (SET NX)."""

    copies: StateCopies | None = None

    async def mget(self, keys: Any, *args: Any) -> Any:
        """MGET, with missing values filled from `copies` (only for a list of keys)."""
        values = await super().mget(keys, *args)
        if self.copies is None or args or not isinstance(keys, list):
            return values
        restored = []
        for i, (key, value) in enumerate(zip(keys, values)):
            if value is None and (copy := self.copies.get(key)) is not None:
                values[i] = copy
                restored.append((key, copy))
        if restored:
            pipeline = self.pipeline(transaction=False)
            for key, data in restored:
                pipeline.set(key, data, ex=self.copies.ttl, nx=True)
            await pipeline.execute()
            logger.warning("Redis had lost %d state(s) of a tab (restarted?): restored this worker's copy",
                           len(restored))
        return values


# the states one set_state call is writing (set by set_state, filled by _collect_state_writes)
_PENDING_WRITES: ContextVar[list[tuple[str, bytes]] | None] = ContextVar("medspa_pending_state_writes",
                                                                        default=None)


@dataclasses.dataclass
class ResilientStateManagerRedis(StateManagerRedis):
    """`StateManagerRedis` that recovers from a Redis restart (see the module docstring)."""

    copies: StateCopies | None = None
    _config_refused: bool = dataclasses.field(default=False, init=False)

    def _collect_state_writes(self, token: Any, base_state: Any) -> list[tuple[str, bytes]]:
        """Reflex's serialization of the touched states, noted for this worker's copy (kept
        once `set_state` has written them)."""
        writes = super()._collect_state_writes(token, base_state)
        if (pending := _PENDING_WRITES.get()) is not None:
            pending.extend(writes)
        return writes

    async def set_state(self, token: Any, state: Any, *, lock_id: bytes | None = None, **context: Any) -> None:
        """Reflex's set_state; when the tab's lock is gone from Redis (a restart during the
        event) and nobody else took it, takes it again and writes (Reflex raises
        LockExpiredError and the event's changes are lost). A lock held by another event
        still raises LockExpiredError."""
        pending: list[tuple[str, bytes]] = []
        noted = _PENDING_WRITES.set(pending)
        try:
            try:
                await super().set_state(token, state, lock_id=lock_id, **context)
            except LockExpiredError:
                lock_key = self._lock_key(self._coerce_token(token))
                if lock_id is None or not await self.redis.set(lock_key, lock_id, px=self.lock_expiration, nx=True):
                    raise
                logger.warning("A tab's lock vanished from Redis during an event (restarted?): taken again")
                pending.clear()
                await super().set_state(token, state, lock_id=lock_id, **context)
        finally:
            _PENDING_WRITES.reset(noted)
        if self.copies is not None:  # written: these are now the tab's latest states
            for key, data in pending:
                self.copies.put(key, data)

    async def get_state(self, token: Any, top_level: bool = True, for_state_instance: Any = None) -> Any:
        """Reflex's get_state; first makes sure the lock-release listener runs in this worker (it
        is the one that turns keyspace notifications back on after a restart)."""
        self._ensure_lock_task()
        return await super().get_state(token, top_level=top_level, for_state_instance=for_state_instance)

    async def _enable_keyspace_notifications(self) -> None:
        """CONFIG SET notify-keyspace-events, every time (Reflex does it once per process). A
        server that refuses CONFIG SET (some managed ones) is logged once: set the events on the
        server then; without them a worker waiting for a tab's lock polls every lock expiration."""
        try:
            await enable_keyspace_notifications(self.redis, self._redis_notify_keyspace_events)
        except ResponseError as exc:
            if not self._config_refused:
                self._config_refused = True
                logger.warning("Redis refused CONFIG SET notify-keyspace-events %s (%s): set it on the server",
                               self._redis_notify_keyspace_events, exc)
        self._redis_notify_keyspace_events_enabled = True

    def _ensure_lock_task(self) -> None:
        """Keep the listener running however long Redis is away (Reflex stops after 5 errors)."""
        ensure_task(owner=self, task_attribute="_lock_task", coro_function=self._subscribe_lock_updates,
                    suppress_exceptions=[Exception], exception_delay=1.0, exception_limit=1_000_000)

    async def _subscribe_lock_updates(self) -> None:
        """Reflex's listener of lock releases and lock contention, which also reacts to each
        (re)subscription: redis-py re-subscribes after reconnecting, and a restarted server has
        forgotten the notifications, so turn them on again and let every waiter re-check its
        lock (a release may have gone unheard meanwhile)."""
        await self._enable_keyspace_notifications()
        redis_db = self.redis.get_connection_kwargs().get("db", 0)
        handlers = {
            f"__keyspace@{redis_db}__:*_lock": self._handle_lock_release,
            f"__keyspace@{redis_db}__:*_lock_waiters": self._handle_lock_contention,
        }
        async with self.redis.pubsub() as pubsub:
            await pubsub.psubscribe(**handlers)
            try:
                async for message in pubsub.listen():
                    if message["type"] == "psubscribe":
                        await self._enable_keyspace_notifications()
                        self._lock_updates_subscribed.set()
                        for lock_key in list(self._lock_waiters):
                            self._notify_next_waiter(lock_key)
            finally:
                self._lock_updates_subscribed.clear()


def resilient(manager: StateManager) -> StateManager:
    """The manager to use instead of `manager`: a `ResilientStateManagerRedis` on the same Redis
    connection pool and settings when `manager` is Reflex's Redis one; otherwise `manager`."""
    if type(manager) is not StateManagerRedis:
        return manager
    if manager._lock_task is not None:  # started only when created inside an event loop
        manager._lock_task.cancel()
    client = RestoringRedis(connection_pool=manager.redis.connection_pool)
    client.set_retry(patient_retry())
    client.copies = StateCopies(ttl=manager.token_expiration)
    return ResilientStateManagerRedis(
        redis=client, copies=client.copies, token_expiration=manager.token_expiration,
        lock_expiration=manager.lock_expiration, lock_warning_threshold=manager.lock_warning_threshold,
        oplock_hold_time_ms=manager.oplock_hold_time_ms)
