"""Wall-clock <-> UTC conversions that survive daylight-saving changes.

A clinic's hours are wall times in its IANA zone. On a fall-back day a wall time can occur
twice; on a spring-forward day some wall times never occur (acceptance cases TZ-1, TZ-2).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_time, get_timezone_name

UTC = timezone.utc


def _exists(local: datetime) -> bool:
    roundtrip = local.astimezone(UTC).astimezone(local.tzinfo)
    return roundtrip.replace(tzinfo=None, fold=0) == local.replace(tzinfo=None, fold=0)


def wall_to_utc(day: date, wall: time, tz: ZoneInfo, *, fold: int = 0) -> datetime:
    """The UTC instant of wall time `wall` on `day` in `tz`.

    An ambiguous wall time (fall-back) takes `fold` (0 = first occurrence, 1 = second).
    A wall time inside a spring-forward gap does not exist; it maps to the instant the gap
    ends (the clock jumps there), so hours that lie wholly in a gap become empty.
    """
    local = datetime.combine(day, wall, tzinfo=tz).replace(fold=fold)
    if _exists(local):
        return local.astimezone(UTC)
    # inside a gap: the transition lies between the two readings; find it to the minute
    lo = local.replace(fold=1).astimezone(UTC)
    hi = local.replace(fold=0).astimezone(UTC)
    lo, hi = min(lo, hi), max(lo, hi)
    after = hi.astimezone(tz).utcoffset()
    while hi - lo > timedelta(minutes=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(second=0, microsecond=0)
        if mid <= lo:
            break
        if mid.astimezone(tz).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return hi


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which `day` starts in `tz` (DST-safe)."""
    return wall_to_utc(day, time(0, 0), tz)


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the local day as UTC instants (23, 24 or 25 hours long)."""
    return local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)


def zone_abbreviation(instant: datetime, tz: ZoneInfo) -> str:
    """"CEST", "EST", ... for an instant in tz (from the tz database)."""
    return instant.astimezone(tz).tzname() or tz.key


def format_clinic_time(instant: datetime, time_zone: str, locale: str = "en_US", *, with_date: bool = True) -> str:
    """An instant in clinic time with the zone named, e.g. "Wed, Jul 15, 2026, 10:00 AM CEST (Europe/Berlin)"."""
    tz = ZoneInfo(time_zone)
    local = instant.astimezone(tz)
    pattern = "EEE, MMM d, y, h:mm a" if with_date else "h:mm a"
    text = format_datetime(local, pattern, tzinfo=tz, locale=locale)
    return f"{text} {zone_abbreviation(instant, tz)} ({time_zone})"


def format_clinic_clock(instant: datetime, time_zone: str, locale: str = "en_US") -> str:
    """Only the wall-clock time, e.g. "10:00 AM". Remembered per local hour and minute (Babel's
    formatting is ~0.1 ms and a calendar grid labels every slot of every column; a week view's
    ~1,000 distinct instants fall on a few hundred wall times)."""
    local = instant.astimezone(ZoneInfo(time_zone))
    return _wall_clock(local.hour, local.minute, locale)


@lru_cache(maxsize=4096)
def _wall_clock(hour: int, minute: int, locale: str) -> str:
    return format_time(time(hour, minute), "h:mm a", locale=locale)


__all__ = ["wall_to_utc", "local_midnight", "local_day_bounds", "format_clinic_time", "format_clinic_clock",
           "zone_abbreviation", "get_timezone_name"]


def local_clock_text(instant: datetime, time_zone: str) -> tuple[date, str]:
    """An aware instant as the local day and 24-hour wall time ("14:05") at `time_zone`: what
    a date and a time input show."""
    local = instant.astimezone(ZoneInfo(time_zone))
    return local.date(), local.strftime("%H:%M")
