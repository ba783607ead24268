"""What the identity actions share: "now" from a clock or an instant, and keeping a refused
sign-in's record."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import Iterator

from medspa.clock import Clock
from medspa.domain.identity.lockout import LoginFailed
from medspa.domain.work import Work, now_of


def moment(now: datetime | None, clock: Clock | None) -> datetime:
    """`now` when given (an aware UTC instant), else `clock.now()` or the app clock."""
    return now if now is not None else now_of(clock)


@contextmanager
def kept_on_failure(work: Work) -> Iterator[None]:
    """A refused sign-in keeps what it recorded (failure count, lock, audit rows): commit
    before a LoginFailed leaves the unit of work (which would roll it back)."""
    try:
        yield
    except LoginFailed:
        work.commit()
        raise
