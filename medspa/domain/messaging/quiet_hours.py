"""Quiet hours: the local wall-clock window in which no client message is sent (the clinic's
organization.quiet_start / quiet_end, default 21:00-08:00), read in the client's time zone
(clients.details.client_time_zone: their own, else their usual location's).

A window whose start is after its end spans midnight (21:00-08:00); start == end means none.
Wall-clock arithmetic is done on local dates and turned into instants with
timezones.wall_to_utc, so a window keeps its local hours across a daylight-saving change (the
night the clocks move is 10 or 12 hours long, not 11). No database here.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from medspa.domain.timezones import wall_to_utc

DEFAULT_QUIET_START = time(21, 0)
DEFAULT_QUIET_END = time(8, 0)


def _aware(instant: datetime) -> None:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: instants are aware UTC")


def in_quiet_hours(instant: datetime, time_zone: str, start: time = DEFAULT_QUIET_START,
                   end: time = DEFAULT_QUIET_END) -> bool:
    """Whether aware `instant` falls in the quiet window [start, end) of local wall-clock time in
    `time_zone` (an IANA name). Raises ValueError for a naive instant, ZoneInfoNotFoundError for
    an unknown zone."""
    _aware(instant)
    if start == end:
        return False
    local = instant.astimezone(ZoneInfo(time_zone)).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _window_around(instant: datetime, tz: ZoneInfo, start: time, end: time) -> tuple[datetime, datetime]:
    """The quiet window [lo, hi) (UTC instants) that holds `instant` (which must be quiet).

    An ambiguous start (the fall-back night's repeated hour) is its first occurrence, an
    ambiguous end the first occurrence after `instant`: at the second 01:10 of a night whose
    quiet hours end at 01:30, they end at the second 01:30, not 40 minutes in the past."""
    day: date = instant.astimezone(tz).date()
    if start < end:
        start_day = end_day = day
    elif instant.astimezone(tz).time().replace(tzinfo=None) >= start:  # the evening part: ends tomorrow
        start_day, end_day = day, day + timedelta(days=1)
    else:
        start_day, end_day = day - timedelta(days=1), day
    hi = wall_to_utc(end_day, end, tz)
    if hi <= instant:
        hi = wall_to_utc(end_day, end, tz, fold=1)
    return wall_to_utc(start_day, start, tz), hi


# a spring-forward gap can swallow a whole allowed span (quiet 02:20-02:10 loses 02:10-02:20):
# the result is then quiet again and the search goes on to the next window (two at most)
_WINDOWS = 3


def next_allowed(instant: datetime, time_zone: str, start: time = DEFAULT_QUIET_START,
                 end: time = DEFAULT_QUIET_END) -> datetime:
    """`instant` when it is outside quiet hours, else the end of the quiet window that holds it
    (08:00 local the next morning for 23:30): for messages that may wait (campaigns,
    birthdays, follow-ups). Never before `instant` (the fall-back night included). Aware UTC
    in and out."""
    tz = ZoneInfo(time_zone)
    result = instant
    for _ in range(_WINDOWS):
        if not in_quiet_hours(result, time_zone, start, end):
            return result
        result = _window_around(result, tz, start, end)[1]
    return result


def last_allowed_before(instant: datetime, time_zone: str, start: time = DEFAULT_QUIET_START,
                        end: time = DEFAULT_QUIET_END) -> datetime:
    """`instant` when it is outside quiet hours, else one minute before the quiet window that
    holds it starts (20:59 local for a reminder due at 23:30): for messages that must come before
    something (a reminder before its visit). Never after `instant`. Aware UTC in and out."""
    tz = ZoneInfo(time_zone)
    result = instant
    for _ in range(_WINDOWS):
        if not in_quiet_hours(result, time_zone, start, end):
            return result
        result = _window_around(result, tz, start, end)[0] - timedelta(minutes=1)
    return result
