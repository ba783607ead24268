"""One layout of a loaded calendar view for every tab that shows it (the live loop's pushes)."""

from __future__ import annotations

from collections import OrderedDict

from medspa.domain.scheduling.calendar import CalendarDay, CalendarWeek
from medspa.features.calendar.layout import DayView, WeekView, day_view, week_view

SHARED_LAYOUTS = 64  # distinct (loaded view, filter) pairs kept: a batch rarely has more
_shared: OrderedDict[tuple[int, bool], tuple[object, DayView | WeekView]] = OrderedDict()


def shared_view(loaded: CalendarDay | CalendarWeek, *, show_cancelled: bool) -> DayView | WeekView:
    """`day_view` or `week_view` of `loaded`, laid out once per loaded object and filter.

    The live loop loads each watched view once per batch and hands that same object to every
    tab watching it; laying it out per tab cost 50 identical layouts for 50 open calendars
    (bench/live_calendars.py). The result is shared between tabs and must not be changed in
    place (nothing does: a state only ever replaces its day_data / week_data). Keyed by the
    object's identity while the entry holds the object (an id is not reused meanwhile); the
    last SHARED_LAYOUTS entries are kept. Called from the event loop's thread only.
    """
    key = (id(loaded), bool(show_cancelled))
    hit = _shared.get(key)
    if hit is not None and hit[0] is loaded:
        _shared.move_to_end(key)
        return hit[1]
    view = (week_view(loaded, show_cancelled=show_cancelled) if isinstance(loaded, CalendarWeek)
            else day_view(loaded, show_cancelled=show_cancelled))
    _shared[key] = (loaded, view)
    while len(_shared) > SHARED_LAYOUTS:
        _shared.popitem(last=False)
    return view
