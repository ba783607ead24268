"""Quiet hours (messaging.quiet_hours) as properties over random instants, zones and windows,
around the nights the clocks change: next_allowed never goes back in time,
last_allowed_before never forward, and neither lands inside quiet hours. Lord Howe moves its
clocks by 30 minutes, London at 01:00 UTC, New York at 02:00 local. No database."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from medspa.domain.messaging.quiet_hours import in_quiet_hours, last_allowed_before, next_allowed

ZONES = ("America/New_York", "Europe/London", "Australia/Lord_Howe")
# the days the clocks move in those zones (either way), and ordinary days
DAYS = (date(2026, 3, 8), date(2026, 11, 1), date(2027, 3, 14), date(2027, 11, 7),  # New York
        date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31),  # London
        date(2026, 4, 5), date(2026, 10, 4), date(2027, 4, 4), date(2027, 10, 3),  # Lord Howe
        date(2026, 7, 15), date(2027, 1, 20))

minute_times = st.builds(time, st.integers(0, 23), st.sampled_from((0, 1, 10, 15, 20, 29, 30, 31, 45, 59)))


@st.composite
def instants(draw) -> datetime:
    """An aware UTC instant within two days of a clock change (to the second)."""
    day = draw(st.sampled_from(DAYS))
    base = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)
    return base + timedelta(seconds=draw(st.integers(-2 * 86400, 2 * 86400)))


@settings(max_examples=1500, deadline=None)
@given(instant=instants(), zone=st.sampled_from(ZONES), start=minute_times, end=minute_times)
@example(instant=datetime(2027, 11, 7, 6, 10, tzinfo=timezone.utc), zone="America/New_York", start=time(21),
         end=time(1, 30))  # the second 01:10 of the fall-back night, quiet until the second 01:30
@example(instant=datetime(2026, 10, 25, 1, 10, tzinfo=timezone.utc), zone="Europe/London", start=time(1, 20),
         end=time(1, 30))  # the second 01:10 (GMT): quiet again only from the second 01:20
@example(instant=datetime(2026, 10, 3, 15, 35, tzinfo=timezone.utc), zone="Australia/Lord_Howe", start=time(2, 20),
         end=time(2, 10))  # the 02:00 -> 02:30 jump swallows the allowed 02:10-02:20
def test_next_and_last_allowed_never_cross_the_instant_and_are_never_quiet(instant, zone, start, end):
    later = next_allowed(instant, zone, start, end)
    earlier = last_allowed_before(instant, zone, start, end)
    assert later >= instant
    assert earlier <= instant
    assert not in_quiet_hours(later, zone, start, end)
    assert not in_quiet_hours(earlier, zone, start, end)
    if not in_quiet_hours(instant, zone, start, end):
        assert later == earlier == instant
    else:  # the wait is at most a day and a bit (two windows when a gap swallows an allowed span)
        assert later - instant <= timedelta(hours=49) and instant - earlier <= timedelta(hours=49)
        assert later.tzinfo is not None and earlier.tzinfo is not None


def test_the_fall_back_night_ends_at_the_second_quiet_end_and_not_in_the_past():
    ny = ZoneInfo("America/New_York")
    second = datetime(2027, 11, 7, 1, 10, tzinfo=ny, fold=1)  # 01:10 EST, after 01:10 EDT
    assert next_allowed(second, "America/New_York", time(21), time(1, 30)) == \
        datetime(2027, 11, 7, 1, 30, tzinfo=ny, fold=1).astimezone(timezone.utc)  # 06:30 UTC
    first = datetime(2027, 11, 7, 1, 10, tzinfo=ny)  # 01:10 EDT: the first 01:30 is still ahead
    assert next_allowed(first, "America/New_York", time(21), time(1, 30)) == \
        datetime(2027, 11, 7, 5, 30, tzinfo=timezone.utc)


def test_a_spring_gap_that_swallows_the_allowed_span_waits_for_the_next_one():
    # Lord Howe jumps 02:00 -> 02:30 on 4 Oct 2026: quiet 02:20-02:10 leaves nothing allowed that night
    lh = ZoneInfo("Australia/Lord_Howe")
    night = datetime(2026, 10, 4, 1, 50, tzinfo=lh)
    assert in_quiet_hours(night, "Australia/Lord_Howe", time(2, 20), time(2, 10))
    assert next_allowed(night, "Australia/Lord_Howe", time(2, 20), time(2, 10)) == \
        datetime(2026, 10, 5, 2, 10, tzinfo=lh).astimezone(timezone.utc)
