"""Injectable clock: services ask it for "now" so tests can fix the time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone


class Clock:
    """Source of the current instant (timezone-aware UTC)."""

    def now(self) -> datetime:
        """The current instant as an aware UTC datetime."""
        return datetime.now(timezone.utc)


@dataclass
class FixedClock(Clock):
    """A clock that stays at `instant` until moved with `advance` (tests, seeding)."""

    instant: datetime

    def __post_init__(self) -> None:
        if self.instant.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.instant = self.instant.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self.instant

    def advance(self, **kwargs: float) -> None:
        """Move forward by timedelta(**kwargs), e.g. advance(minutes=11)."""
        self.instant = self.instant + timedelta(**kwargs)


SYSTEM_CLOCK = Clock()


def app_clock() -> Clock:
    """The clock of the running app: FROZEN_NOW when set (browser tests), else the system clock."""
    from medspa.settings import get_settings

    frozen = get_settings().frozen_now
    if not frozen:
        return SYSTEM_CLOCK
    return FixedClock(datetime.fromisoformat(frozen))
