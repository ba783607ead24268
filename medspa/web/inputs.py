"""Turning what a browser sent into numbers: the one place for it.

Event handlers can be called with any JSON value. `str.isdigit()` alone is not a guard:
it accepts superscripts ("²") that `int()` refuses (a crash) and other scripts' digits
("４", "١٢") that `int()` quietly reads. Only ASCII digits pass here.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

MAX_ID = 2**62  # ids are bigint; anything larger is not ours


def ascii_int(value: Any, max_digits: int = 18) -> int | None:
    """int of a string of 1..max_digits ASCII digits (no sign, no spaces), else None."""
    if isinstance(value, str) and 0 < len(value) <= max_digits and value.isascii() and value.isdigit():
        return int(value)
    return None


def parse_id(value: Any) -> int | None:
    """A positive database id from an int or a string of ASCII digits, else None (bools,
    floats, zero, negatives, ids >= 2**62, anything else)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < MAX_ID else None
    number = ascii_int(value)
    return number if number is not None and 0 < number < MAX_ID else None


FIRST_YEAR, LAST_YEAR = 1900, 9000  # date filters outside these years are typing slips


def iso_day(value: Any) -> date | None:
    """A YYYY-MM-DD date between FIRST_YEAR and LAST_YEAR from a date input, else None."""
    try:
        day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None
    return day if day and FIRST_YEAR <= day.year <= LAST_YEAR else None


# NUL and the other C0 controls but tab, newline and return (PostgreSQL text refuses NUL),
# and lone surrogates (a JSON "\ud800" decodes to one; UTF-8 cannot encode it)
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(value: Any, limit: int = 120, *, strip: bool = True) -> str:
    """Typed text as the domain may store or search it: "" for a non-string; NUL, other control
    characters (but tab, newline, return) and lone surrogates removed; stripped (unless
    strip=False) and cut to `limit` characters. Every text a page takes from a browser goes
    through here (form_text does)."""
    if not isinstance(value, str):
        return ""
    value = _UNSAFE.sub("", value)
    return (value.strip() if strip else value)[:limit]


def form_text(form: Any, name: str, limit: int = 120, *, strip: bool = True) -> str:
    """The text field `name` of a submitted form (any JSON a browser sent), cleaned and cut to
    `limit` characters (clean_text); "" when the form is not a dict or the value not a string.
    strip=False keeps the spaces (passwords)."""
    value = form.get(name, "") if isinstance(form, dict) else ""
    return clean_text(value, limit, strip=strip)
