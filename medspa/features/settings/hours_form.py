"""The Provider hours tab's forms as text: weekly intervals and time off, to and from the domain.

Pure functions (no Reflex). Times are "HH:MM" (what <input type="time"> sends), dates
"YYYY-MM-DD"; wall times are read in the chosen location's time zone. Field names match the
domain's ValidationFailed keys (interval_key "d2-0"; starts_at, ends_at, reason, ...).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from medspa.domain.practice.hours import WEEKDAYS, TimeOffInput, Weekly, interval_key
from medspa.domain.practice.shifts import EXTRA_SHIFT
from medspa.domain.timezones import local_midnight, wall_to_utc

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def parse_time(text: str) -> time | None:
    """"09:30" -> time(9, 30); anything else -> None."""
    text = (text or "").strip()
    if len(text) != 5 or text[2] != ":" or not (text[:2] + text[3:]).isdigit():
        return None
    h, m = int(text[:2]), int(text[3:])
    return time(h, m) if h < 24 and m < 60 else None


def parse_date(text: str) -> date | None:
    """"2026-07-15" -> date; anything else -> None."""
    try:
        return date.fromisoformat((text or "").strip()) if len((text or "").strip()) == 10 else None
    except ValueError:
        return None


def weekly_text(weekly: Weekly) -> list[list[list[str]]]:
    """Monday..Sunday, each a list of ["09:00", "12:00"] intervals."""
    return [[[f"{a:%H:%M}", f"{b:%H:%M}"] for a, b in weekly.get(d, [])] for d in range(7)]


def parse_weekly(days: list[list[list[str]]]) -> tuple[Weekly | None, dict[str, str]]:
    """(Weekly, {}) or (None, {interval_key: message}) for the text grid (the domain then checks
    order and overlaps)."""
    errors: dict[str, str] = {}
    weekly: Weekly = {}
    for d, spans in enumerate(days[:7]):
        for i, (start, end) in enumerate(spans):
            a, b = parse_time(start), parse_time(end)
            if a is None or b is None:
                errors[interval_key(d, i)] = "Enter both times, like 09:00"
            else:
                weekly.setdefault(d, []).append((a, b))
    return (None, errors) if errors else (weekly, {})


def parse_time_off(form: dict[str, str], staff_id: int, location_id: int, tz: ZoneInfo) -> tuple[TimeOffInput | None,
                                                                                                 dict[str, str]]:
    """The time-off form -> TimeOffInput. Time off: whole days unless times are given (an empty
    end time means to the end of the end day), at every location. Extra shift: a day with
    start and end times, at `location_id`."""
    errors: dict[str, str] = {}
    kind = form.get("kind", "off")
    start_day = parse_date(form.get("start_date", ""))
    end_day = parse_date(form.get("end_date", "")) or start_day
    start_t, end_t = form.get("start_time", "").strip(), form.get("end_time", "").strip()
    if start_day is None:
        errors["start_date"] = "Choose a date"
    if kind == EXTRA_SHIFT and not (start_t and end_t):
        errors["start_time" if not start_t else "end_time"] = "An extra shift needs its start and end times"
    a = parse_time(start_t) if start_t else time(0)
    b = parse_time(end_t) if end_t else None
    if a is None:
        errors["start_time"] = "Enter a time like 09:00"
    if end_t and b is None:
        errors["end_time"] = "Enter a time like 17:00"
    if errors:
        return None, errors
    if kind == EXTRA_SHIFT:
        end_day = start_day
    starts = wall_to_utc(start_day, a, tz)
    ends = wall_to_utc(end_day, b, tz, fold=1) if b is not None else local_midnight(end_day + timedelta(days=1), tz)
    return TimeOffInput(staff_id=staff_id, kind=kind, starts_at=starts, ends_at=ends,
                        location_id=location_id if kind == EXTRA_SHIFT else None,
                        reason=form.get("reason", "")[:400]), {}


def span_label(starts: datetime, ends: datetime, tz: ZoneInfo) -> str:
    """"Wed 15 Jul, all day", "Wed 15 Jul – Fri 17 Jul", "Wed 15 Jul, 14:00–15:30", "Wed 15 Jul,
    from 15:00" (to the end of the day) in `tz`."""
    lo, hi = starts.astimezone(tz), ends.astimezone(tz)
    midnight = time(0)
    if lo.time() == midnight and hi.time() == midnight:
        last = (hi - timedelta(days=1)).date()
        first = f"{WEEKDAYS[lo.weekday()]} {lo:%-d %b}"
        return f"{first}, all day" if last == lo.date() else f"{first} – {WEEKDAYS[last.weekday()]} {last:%-d %b}"
    if hi.time() == midnight and (hi - timedelta(days=1)).date() == lo.date():
        return f"{WEEKDAYS[lo.weekday()]} {lo:%-d %b}, from {lo:%H:%M}"
    if lo.date() == hi.date():
        return f"{WEEKDAYS[lo.weekday()]} {lo:%-d %b}, {lo:%H:%M}–{hi:%H:%M}"
    return f"{WEEKDAYS[lo.weekday()]} {lo:%-d %b} {lo:%H:%M} – {WEEKDAYS[hi.weekday()]} {hi:%-d %b} {hi:%H:%M}"
