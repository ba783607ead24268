"""Abuse limits on the anonymous side (issue 12): how often one network (IP address) or one
email may book, ask for a portal code, ask for a password reset or try to sign in.

Counted with the `limits` library (moving windows, https://limits.readthedocs.io): in this
process's memory by default, in Redis when REDIS_URL is set, so several web workers share
the counts. Every rule is a setting (Settings.limit_*, in `limits` notation such as
"10/10 minutes"); tests set them low. A refused request raises RateLimited with the seconds
to wait; the API answers 429 with Retry-After, the pages show its message.

Redis unreachable (REDIS_URL set, server down or not answering within a second): the
windows are counted in this worker's memory meanwhile, logged as an error on each request,
instead of every booking and sign-in failing with a 500: the limits stay (per worker) and
the database's own guards (sign_in_guard, the hold caps) do not depend on Redis.

One network is one key (`network_key`): an IPv6 address counts as its /64, since a single
host is given a whole /64 and could otherwise take a fresh address for every request.

The windows run on the wall clock (the library's own), not the app's injected clock: they
bound request rates, which happen in real time.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from medspa.settings import get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")

_lock = threading.Lock()
_state: dict[str, tuple[Storage, MovingWindowRateLimiter]] = {}
# a dead Redis must not hang the request: the client gives up after this many seconds
_REDIS_TIMEOUTS = {"socket_connect_timeout": 1.0, "socket_timeout": 1.0}


def network_key(ip: str) -> str:
    """The key of `ip`'s network for per-network limits: an IPv4 address as it is (an
    IPv4-mapped IPv6 one unwrapped), an IPv6 address as its /64 ("2001:db8::/64"), anything
    else (empty, "testclient") unchanged."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class RateLimited(Exception):
    """Too many requests of one kind from one network or for one email. `message` is safe to
    show (it never tells whether an account exists); `retry_after`: whole seconds to wait."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = max(1, int(retry_after))


def _limiter(url: str | None = None) -> MovingWindowRateLimiter:
    """The process's limiter over `url`'s storage (default: the configured one, Redis when
    REDIS_URL is set)."""
    url = url or get_settings().redis_url or "memory://"
    with _lock:
        if url not in _state:
            options = _REDIS_TIMEOUTS if url.startswith(("redis://", "rediss://")) else {}
            storage = storage_from_string(url, wrap_exceptions=True, **options)
            _state[url] = (storage, MovingWindowRateLimiter(storage))
        return _state[url][1]


def _with_limiter(use: Callable[[MovingWindowRateLimiter], T]) -> T:
    """use(the configured limiter); when its storage fails (Redis down), use(this worker's
    memory limiter) instead and log the error."""
    limiter = _limiter()
    try:
        return use(limiter)
    except StorageError as exc:
        log.error("Redis unreachable for the abuse limits (%s): counting in this worker's memory meanwhile", exc)
        return use(_limiter("memory://"))


def wait_words(seconds: int) -> str:
    """'30 seconds', '1 minute', '12 minutes': how long to wait, rounded up."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _retry_after(limiter: MovingWindowRateLimiter, item: RateLimitItem, keys: tuple[str, ...]) -> int:
    reset_at = limiter.get_window_stats(item, *keys).reset_time
    return max(1, math.ceil(reset_at - time.time()))


def hit(rule: str, *keys: str, message: str) -> None:
    """Count one request under `rule` (limits notation, e.g. "10/10 minutes") for `keys`
    (e.g. "booking", org id, ip). Raises RateLimited(message + the wait) when the window is
    full; a refused request is not counted. An empty rule means no limit."""
    if not rule:
        return
    item = parse(rule)
    wait = _with_limiter(lambda limiter: 0 if limiter.hit(item, *keys) else _retry_after(limiter, item, keys))
    if wait:
        raise RateLimited(f"{message} Please try again in {wait_words(wait)}.", wait)


def refuse_if_full(rule: str, *keys: str, message: str) -> None:
    """Raise RateLimited when `rule`'s window for `keys` is full, without counting (for
    counters that only failures feed, see `count`)."""
    if not rule:
        return
    item = parse(rule)
    wait = _with_limiter(lambda limiter: 0 if limiter.test(item, *keys) else _retry_after(limiter, item, keys))
    if wait:
        raise RateLimited(f"{message} Please try again in {wait_words(wait)}.", wait)


def count(rule: str, *keys: str) -> None:
    """Count one event (e.g. a failed sign-in) under `rule` for `keys`, never refusing."""
    if rule:
        _with_limiter(lambda limiter: limiter.hit(parse(rule), *keys))


def reset_all() -> None:
    """Forget every count of the configured storage (tests, between cases); storages of
    earlier settings (a Redis server a test stopped) are dropped, not asked."""
    url = get_settings().redis_url or "memory://"
    with _lock:
        current = _state.get(url)
        _state.clear()
        if current is not None:
            _state[url] = current
            current[0].reset()
