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
    """The quiet window [lo, hi) (UTC instants) that holds `instant` (which must be quiet)."""
    day: date = instant.astimezone(tz).date()
    if start < end:
        return wall_to_utc(day, start, tz), wall_to_utc(day, end, tz)
    local = instant.astimezone(tz).time().replace(tzinfo=None)
    if local >= start:  # the evening part: the window ends tomorrow morning
        return wall_to_utc(day, start, tz), wall_to_utc(day + timedelta(days=1), end, tz)
    return wall_to_utc(day - timedelta(days=1), start, tz), wall_to_utc(day, end, tz)


def next_allowed(instant: datetime, time_zone: str, start: time = DEFAULT_QUIET_START,
                 end: time = DEFAULT_QUIET_END) -> datetime:
    """`instant` when it is outside quiet hours, else the end of the quiet window that holds it
    (08:00 local the next morning for 23:30): for messages that may wait (campaigns,
    birthdays, follow-ups). Aware UTC in and out."""
    if not in_quiet_hours(instant, time_zone, start, end):
        return instant
    return _window_around(instant, ZoneInfo(time_zone), start, end)[1]


def last_allowed_before(instant: datetime, time_zone: str, start: time = DEFAULT_QUIET_START,
                        end: time = DEFAULT_QUIET_END) -> datetime:
    """`instant` when it is outside quiet hours, else one minute before the quiet window that
    holds it starts (20:59 local for a reminder due at 23:30): for messages that must come before
    something (a reminder before its visit). Aware UTC in and out."""
    if not in_quiet_hours(instant, time_zone, start, end):
        return instant
    return _window_around(instant, ZoneInfo(time_zone), start, end)[0] - timedelta(minutes=1)
