"""The Locations tab's forms as text: to and from the domain's LocationRow / LocationInput.

Pure functions (no Reflex). The details form is a dict of strings named like LocationInput's
fields; opening hours are seven days of ("HH:MM", "HH:MM") pairs as <input type=time> gives
them; closure dates are "YYYY-MM-DD" as <input type=date> gives them.
"""

from __future__ import annotations

import dataclasses
from datetime import date, time
from functools import lru_cache
from zoneinfo import available_timezones

from medspa.domain.phones import display_phone
from medspa.domain.practice.location_actions import ClosureRow, LocationRow
from medspa.domain.practice.locations import LocationInput, Weekly

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DETAIL_FIELDS = ("name", "time_zone", "address", "phone", "cancellation_window_hours", "late_cancel_keeps_deposit",
                 "late_reschedule_is_late_cancel",
                 "card_required",  # cards on file (issue 16)
                 "series_deposit_each_visit",  # recurring series (issue 16)
                 )
KEEPS = {"true": True, "false": False}  # the form's yes/no selects (late_cancel_keeps_deposit, late_reschedule_is_late_cancel)
FIELD_LIMIT = 400


@dataclasses.dataclass
class SpanText:
    """One opening interval as typed: "09:00" to "17:00"."""

    start: str = ""
    end: str = ""


@dataclasses.dataclass
class DayForm:
    """A weekday's intervals in the hours editor (weekday 0 = Monday)."""

    weekday: int = 0
    label: str = ""
    spans: list[SpanText] = dataclasses.field(default_factory=list)


@lru_cache(maxsize=1)
def time_zones() -> list[str]:
    """Every IANA zone name the server knows, sorted (the searchable list)."""
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))


def blank_details(time_zone: str) -> dict[str, str]:
    """A new location's details: the clinic's usual zone, a 24-hour cancellation window whose
    late cancellations keep the deposit."""
    return {"name": "", "time_zone": time_zone, "address": "", "phone": "", "cancellation_window_hours": "24",
            "late_cancel_keeps_deposit": "true", "late_reschedule_is_late_cancel": "false",
            "card_required": "false", "series_deposit_each_visit": "false"}


def details_of(row: LocationRow) -> dict[str, str]:
    """The details form filled with a location's current values (phone shown international)."""
    return {"name": row.name, "time_zone": row.time_zone, "address": row.address,
            "phone": display_phone(row.phone) if row.phone else "",
            "cancellation_window_hours": str(row.cancellation_window_hours),
            "late_cancel_keeps_deposit": "true" if row.late_cancel_keeps_deposit else "false",
            "late_reschedule_is_late_cancel": "true" if row.late_reschedule_is_late_cancel else "false",
            "card_required": "true" if row.card_required else "false",
            "series_deposit_each_visit": "true" if row.series_deposit_each_visit else "false"}


def hours_form(hours: dict[int, list[tuple[time, time]]]) -> list[DayForm]:
    """Seven DayForms from weekday -> [(start, end)]."""
    return [DayForm(d, DAYS[d], [SpanText(s.strftime("%H:%M"), e.strftime("%H:%M")) for s, e in hours.get(d, [])])
            for d in range(7)]


def default_hours() -> list[DayForm]:
    """What a new location starts with: Monday to Friday 09:00-18:00, weekend closed."""
    return hours_form({d: [(time(9), time(18))] for d in range(5)})


def _clock(text: str) -> time | None:
    text = text.strip()
    if len(text) != 5 or text[2] != ":" or not (text[:2] + text[3:]).isdigit():
        return None
    hour, minute = int(text[:2]), int(text[3:])
    return time(hour, minute) if hour < 24 and minute < 60 else None


def parse_details(form: dict[str, str]) -> tuple[LocationInput | None, dict[str, str]]:
    """(LocationInput, {}) or (None, {field: message}); the domain checks the rest again."""
    window = form.get("cancellation_window_hours", "").strip()
    errors = {}
    if not window.isascii() or not window.isdigit() or len(window) > 5:
        errors["cancellation_window_hours"] = "Enter a whole number of hours" if window else "Required"
    keeps = KEEPS.get(form.get("late_cancel_keeps_deposit", "true"))
    if keeps is None:
        errors["late_cancel_keeps_deposit"] = "Choose keep or refund"
    counts = KEEPS.get(form.get("late_reschedule_is_late_cancel", "false"))
    if counts is None:
        errors["late_reschedule_is_late_cancel"] = "Choose how a late reschedule counts"
    card_required = KEEPS.get(form.get("card_required", "false"))  # cards on file (issue 16)
    if card_required is None:
        errors["card_required"] = "Choose whether booking online needs a card on file"
    # --- recurring series (issue 16)
    each_visit = KEEPS.get(form.get("series_deposit_each_visit", "false"))
    if each_visit is None:
        errors["series_deposit_each_visit"] = "Choose which visits of a series take the deposit"
    # --- end recurring series
    if errors:
        return None, errors
    return LocationInput(name=form.get("name", ""), time_zone=form.get("time_zone", ""),
                         address=form.get("address", ""), phone=form.get("phone", ""),
                         cancellation_window_hours=int(window), late_cancel_keeps_deposit=keeps,
                         late_reschedule_is_late_cancel=counts, card_required=card_required,
                         series_deposit_each_visit=each_visit), {}


def parse_hours(days: list[DayForm]) -> tuple[Weekly | None, dict[str, str]]:
    """(weekday -> [(start, end)], {}) or (None, {"hours-<weekday>": message})."""
    weekly: Weekly = {}
    errors: dict[str, str] = {}
    for day in days:
        spans = []
        for span in day.spans:
            start, end = _clock(span.start), _clock(span.end)
            if start is None or end is None:
                errors[f"hours-{day.weekday}"] = "Enter both times, like 09:00"
                break
            spans.append((start, end))
        if spans:
            weekly[day.weekday] = spans
    return (None, errors) if errors else (weekly, {})


def parse_date(text: str) -> date | None | str:
    """"2026-07-15" -> date; "" -> None; anything else -> "bad"."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text) if len(text) == 10 else "bad"
    except ValueError:
        return "bad"


def policy_line(row: LocationRow) -> str:
    """The location card's cancellation policy in a few words."""
    if not row.late_cancel_keeps_deposit:
        return "Deposit refunded on any cancellation"
    if not row.cancellation_window_hours:
        return "Cancel any time"
    return f"Free cancellation until {row.cancellation_window_hours} h before; later ones keep the deposit"


def hours_lines(row: LocationRow) -> list[str]:
    """"Mon  09:00–18:00" per weekday, or one line saying no hours are set."""
    hours = dict(row.hours)
    if not hours:
        return ["No opening hours set: open whenever providers work"]
    return [f"{DAYS[d][:3]}  " + (", ".join(f"{s:%H:%M}–{e:%H:%M}" for s, e in hours[d]) if d in hours else "Closed")
            for d in range(7)]


def closure_dates(c: ClosureRow) -> str:
    """"Wed, Jul 15, 2026" or "Wed, Jul 15 – Fri, Jul 17, 2026"."""
    if c.start_date == c.end_date:
        return f"{c.start_date:%a, %b} {c.start_date.day}, {c.start_date.year}"
    head = f"{c.start_date:%a, %b} {c.start_date.day}"
    if c.start_date.year != c.end_date.year:
        head += f", {c.start_date.year}"
    return f"{head} – {c.end_date:%a, %b} {c.end_date.day}, {c.end_date.year}"


def visits_warning(visits: int) -> str:
    """"" for none, else what the owner should do about the visits a closure keeps."""
    if not visits:
        return ""
    many = visits != 1
    return (f"{visits} booked visit{'s' if many else ''} on the closed {'days' if many else 'day'} "
            f"{'are' if many else 'is'} kept: move or cancel {'them' if many else 'it'} on the calendar")
