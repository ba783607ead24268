"""The cancellation rule of a location, in one place.

A cancellation is *late* when it comes less than the location's
`cancellation_window_hours` before the visit starts: the paid deposit is then kept;
otherwise it is refunded. Cancelling (scheduling.service.cancel_appointment), the calendar's
detail panel, the client portal and the booking confirmation all read it from here.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def cancellation_deadline(start_at: datetime, window_hours: int) -> datetime:
    """The last instant a cancellation is still free: `window_hours` before `start_at`
    (aware datetimes; the result has `start_at`'s zone)."""
    return start_at - timedelta(hours=window_hours)


def is_late_cancellation(start_at: datetime, window_hours: int, at: datetime) -> bool:
    """True when cancelling at `at` is late: strictly less than `window_hours` hours before
    `start_at` (exactly the window ahead is still free; at or after the start is late).
    `start_at` and `at` are aware datetimes; `window_hours` >= 0."""
    return at > cancellation_deadline(start_at, window_hours)


def refund_rule_sentence(window_hours: int) -> str:
    """The rule in one sentence for messages to clients."""
    return f"Cancellations more than {window_hours} hours ahead are refunded in full."
