"""The cancellation rule of a location, in one place.

A cancellation is *late* when it comes less than the location's
`cancellation_window_hours` before the visit starts. A late cancellation keeps the paid
deposit when the location's `late_cancel_keeps_deposit` is on (the default); with it off the
deposit is refunded however late the client cancels (the cancellation still counts as late in
the reports). An early cancellation is always refunded. Cancelling
(scheduling.service.cancel_appointment), the calendar's detail panel, the client portal, the
booking page and the messages to clients all read it from here.
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


def cancellation_keeps_deposit(start_at: datetime, window_hours: int, late_keeps_deposit: bool,
                               at: datetime) -> bool:
    """True when cancelling at `at` keeps the paid deposit: the cancellation is late
    (is_late_cancellation) and the location keeps deposits of late cancellations
    (`late_keeps_deposit`, the location's late_cancel_keeps_deposit). Otherwise it is refunded."""
    return late_keeps_deposit and is_late_cancellation(start_at, window_hours, at)


def refund_rule_sentence(window_hours: int, late_keeps_deposit: bool = True) -> str:
    """The rule in one sentence for messages to clients and the booking page (it starts with
    "Cancellations": payments.disputes finds it in a sent confirmation by that word)."""
    if not late_keeps_deposit:
        return "Cancellations are refunded in full, however close to the visit."
    if window_hours == 0:
        return "Cancellations before the visit starts are refunded in full."
    return (f"Cancellations more than {window_hours} hours ahead are refunded in full. "
            "Later ones keep the deposit.")


def location_refund_rule(location) -> str:
    """refund_rule_sentence of a location (anything with cancellation_window_hours and
    late_cancel_keeps_deposit, e.g. practice.models.Location)."""
    return refund_rule_sentence(location.cancellation_window_hours, location.late_cancel_keeps_deposit)
