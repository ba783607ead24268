"""The cancellation rule of a location, in one place.

A cancellation is *late* when it comes less than the location's
`cancellation_window_hours` before the visit starts. A late cancellation keeps the paid
deposit when the location's `late_cancel_keeps_deposit` is on (the default); with it off the
deposit is refunded however late the client cancels (the cancellation still counts as late in
the reports). An early cancellation is always refunded. Cancelling
(scheduling.service.cancel_appointment), the calendar's detail panel, the client portal, the
booking page and the messages to clients all read it from here.

A visit keeps the rule it was booked under: the appointment records the location's window
and keep/refund when it is made (appointment.booked_window_hours, booked_late_keeps_deposit,
migration 0033), and a cancellation is decided by the kinder of that rule and the location's
current one (cancel_rule: the shorter window; the deposit kept only when both rules keep it),
so a later change of the settings never takes from a client what the confirmation promised.
A visit the client moved inside the window (its one free late move, scheduling.reschedule)
stays late to cancel wherever it moved (is_late_to_cancel).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from medspa.domain.errors import ValidationFailed

# why a visit was cancelled (appointment.cancellation_reason; migration 0037 checks the codes)
CANCEL_REASONS: tuple[tuple[str, str], ...] = (
    ("client_request", "Client request"), ("illness", "Illness"), ("clinic", "Clinic"), ("weather", "Weather"),
    ("other", "Other"))
CANCEL_REASON_LABELS = dict(CANCEL_REASONS)
CANCEL_NOTE_MAX = 500


def clean_cancel_reason(reason: object, note: object) -> tuple[str, str]:
    """(reason code, note) of a cancellation as a person gave them: `reason` one of
    CANCEL_REASONS' codes, `note` free text (trimmed, at most CANCEL_NOTE_MAX characters), required
    for "other". Raises ValidationFailed({"reason": ...} or {"note": ...})."""
    if not isinstance(reason, str) or reason not in CANCEL_REASON_LABELS:
        raise ValidationFailed({"reason": "Choose why the visit is cancelled"})
    text = note.strip() if isinstance(note, str) else ""
    if "\x00" in text:
        raise ValidationFailed({"note": "The note contains a character that cannot be stored"})
    if len(text) > CANCEL_NOTE_MAX:
        raise ValidationFailed({"note": f"Keep the note under {CANCEL_NOTE_MAX} characters"})
    if reason == "other" and not text:
        raise ValidationFailed({"note": "Say why the visit is cancelled"})
    return reason, text


def cancel_reason_text(reason: str | None, note: str = "") -> str:
    """A stored reason in words: "Illness", "Other: flight delayed", "Weather: snow" ("" when none)."""
    if not reason:
        return ""
    label = CANCEL_REASON_LABELS.get(reason, reason)
    return f"{label}: {note}" if note else label


def cancellation_deadline(start_at: datetime, window_hours: int) -> datetime:
    """The last instant a cancellation is still free: `window_hours` before `start_at`
    (aware datetimes; the result has `start_at`'s zone)."""
    return start_at - timedelta(hours=window_hours)


def is_late_cancellation(start_at: datetime, window_hours: int, at: datetime) -> bool:
    """True when cancelling at `at` is late: strictly less than `window_hours` hours before
    `start_at` (exactly the window ahead is still free; at or after the start is late).
    `start_at` and `at` are aware datetimes; `window_hours` >= 0."""
    return at > cancellation_deadline(start_at, window_hours)


def is_late_to_cancel(appointment, window_hours: int, at: datetime) -> bool:
    """Whether cancelling `appointment` (anything with start_at and late_reschedules) at `at`
    is late: inside the window (is_late_cancellation), or the client already moved it once
    inside the window (late_reschedules > 0: the free late move does not turn a late
    cancellation into an early one by moving the visit far ahead first)."""
    return bool(appointment.late_reschedules) or is_late_cancellation(appointment.start_at, window_hours, at)


def cancellation_keeps_deposit(start_at: datetime, window_hours: int, late_keeps_deposit: bool,
                               at: datetime) -> bool:
    """True when cancelling at `at` keeps the paid deposit: the cancellation is late
    (is_late_cancellation) and the location keeps deposits of late cancellations
    (`late_keeps_deposit`, the location's late_cancel_keeps_deposit). Otherwise it is refunded."""
    return late_keeps_deposit and is_late_cancellation(start_at, window_hours, at)


def cancel_rule(appointment, location) -> tuple[int, bool]:
    """(window_hours, late_keeps_deposit) that decide cancelling `appointment` (anything with
    booked_window_hours and booked_late_keeps_deposit, None: not recorded) at `location`
    (cancellation_window_hours, late_cancel_keeps_deposit): the kinder of the rule it was booked
    under and the location's current one, i.e. the shorter window, and keep only when both keep."""
    window, keeps = location.cancellation_window_hours, location.late_cancel_keeps_deposit
    booked_window = appointment.booked_window_hours
    booked_keeps = appointment.booked_late_keeps_deposit
    if booked_window is not None:
        window = min(window, booked_window)
    if booked_keeps is not None:
        keeps = keeps and booked_keeps
    return window, keeps


def record_booked_rule(appointment, location) -> None:
    """Write the location's current rule on a new `appointment` (booked_window_hours,
    booked_late_keeps_deposit): the rule its confirmation states and its cancellation keeps."""
    appointment.booked_window_hours = location.cancellation_window_hours
    appointment.booked_late_keeps_deposit = location.late_cancel_keeps_deposit


NOTHING_PAID_RULE = "Nothing was paid in advance, so cancelling costs nothing."


def booked_refund_rule(appointment, location) -> str:
    """refund_rule_sentence of the rule that decides cancelling `appointment` (cancel_rule):
    what its confirmation and reminders tell the client. A visit booked without a deposit
    (appointment.deposit_cents 0: a free consultation, a desk booking) gets NOTHING_PAID_RULE,
    not a sentence about keeping a deposit it never had."""
    if not getattr(appointment, "deposit_cents", 0):
        return NOTHING_PAID_RULE
    return refund_rule_sentence(*cancel_rule(appointment, location))


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
