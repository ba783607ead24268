"""Abuse limits on the anonymous side (issue 12): how often one network (IP address) or one
email may book, ask for a portal code, ask for a password reset or try to sign in.

Counted with the `limits` library (moving windows, https://limits.readthedocs.io): in this
process's memory by default, in Redis when REDIS_URL is set, so several web workers share
the counts. Every rule is a setting (Settings.limit_*, in `limits` notation such as
"10/10 minutes"); tests set them low. A refused request raises RateLimited with the seconds
to wait; the API answers 429 with Retry-After, the pages show its message.

The windows run on the wall clock (the library's own), not the app's injected clock: they
bound request rates, which happen in real time. When the Redis of the counts cannot be reached
the limits let requests through (logged): an outage must not stop bookings or sign-ins, and
the hold cap and the sign-in lock, kept in PostgreSQL, still apply.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from medspa.settings import get_settings

log = logging.getLogger(__name__)
_lock = threading.Lock()
_state: dict[str, tuple[Storage, MovingWindowRateLimiter]] = {}


class RateLimited(Exception):
    """Too many requests of one kind from one network or for one email. `message` is safe to
    show (it never tells whether an account exists); `retry_after`: whole seconds to wait."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = max(1, int(retry_after))


def _limiter() -> MovingWindowRateLimiter:
    """The process's limiter over the configured storage (Redis when REDIS_URL is set)."""
    url = get_settings().redis_url or "memory://"
    with _lock:
        if url not in _state:
            storage = storage_from_string(url, wrap_exceptions=True)
            _state[url] = (storage, MovingWindowRateLimiter(storage))
        return _state[url][1]


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
    item, limiter = parse(rule), _limiter()
    try:
        allowed = limiter.hit(item, *keys)
        wait = 0 if allowed else _retry_after(limiter, item, keys)
    except StorageError as exc:  # Redis down: let it through (module docstring)
        log.warning("rate limit %s not counted, storage unreachable: %s", keys[:1], exc)
        return
    if not allowed:
        raise RateLimited(f"{message} Please try again in {wait_words(wait)}.", wait)


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
