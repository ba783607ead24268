"""The book dialog's health check (issue 17): the contraindication flags of the picked client
and service, shown in the dialog (detail for provider/owner, "Health flag: a provider must
review" for the desk), and the reason field that booking a flagged visit needs.

The dialog's state (book_dialog.py) calls `refresh_flags` when the client or service changes
and books through clinical.history_actions.do_book_checked, which checks again on the server
in the booking's transaction: what is shown here is a courtesy, never the rule. The dialog's
Repeat part (series_dialog.py) shows the same callout with its own reason field and books
through scheduling.actions.series.do_book_series, checked the same way.
"""

from __future__ import annotations

import reflex as rx

from medspa.domain.clinical.health_record import REASON_MAX
from medspa.domain.clinical.history_actions import fetch_booking_check


class BookHealthState(rx.State):
    """The flags shown in the book dialog (words only; no public handlers)."""

    flags: list[str] = []


async def refresh_flags(dialog) -> None:
    """Fetch the flags of booking the dialog's client for its service on its day (the start
    picked, else the clicked minute); none while either is missing."""
    health = await dialog.get_state(BookHealthState)
    health.flags = []
    if not (dialog.client_id and dialog.service and dialog._day):
        return
    minute = int(dialog.minute) if dialog.minute else max(0, dialog._offer.wanted)
    done = await dialog._act(fetch_booking_check, client_id=dialog.client_id, service_id=int(dialog.service),
                             location_id=dialog._location_id, start_at=dialog._start(minute))
    if done.ok:
        health.flags = list(done.value.flags)


async def show_refusal(dialog, refused) -> None:
    """After the server refused a flagged booking without a reason (`refused`: HealthFlagged):
    its flags and the reason's field message. `dialog`: a state with `busy` and `errors`
    (the book dialog's, or its series part's)."""
    dialog.busy, dialog.errors = False, dict(refused.fields)
    health = await dialog.get_state(BookHealthState)
    health.flags = list(refused.flags)


def health_section(errors, *, reason=None, on_reason=None, prefix: str = "book", hint: str = "") -> rx.Component:
    """The red callout with the flags and the required reason; `errors`: the dialog's field
    errors (key "health_reason"). The book dialog's reason is a form field (name
    "health_reason", read on submit); the series part (series_dialog.py, whose Book button
    submits no form) passes its own `reason` value and `on_reason` handler, and `prefix`
    "series" for its element ids (the edit dialog: "edit", with its own `hint`)."""
    h = BookHealthState
    if on_reason is None:
        field = {"name": "health_reason"}
        hint = hint or "To book anyway, say why (kept with the visit):"
    else:
        field = {"value": reason, "on_change": on_reason.debounce(300), "on_blur": on_reason,
                 "name": f"{prefix}-health-reason"}  # named: Reflex 0.11 drops id-only form fields
        hint = hint or "To book the series anyway, say why (kept with each flagged visit):"
    return rx.cond(
        h.flags.length() > 0,
        rx.vstack(
            rx.hstack(rx.icon("triangle-alert", size=16, color=rx.color("red", 11)),
                      rx.text("Contraindication flagged", size="2", weight="bold", color=rx.color("red", 11)),
                      align="center", spacing="2"),
            rx.foreach(h.flags, lambda f: rx.text(f, size="2", class_name="book-health-flag")),
            rx.text(hint, size="1", color=rx.color("gray", 11)),
            rx.text_area(placeholder="e.g. Provider reviewed; client cleared by her physician",
                         id=f"{prefix}-health-reason", width="100%", rows="2", max_length=REASON_MAX, **field),
            rx.cond(errors.contains("health_reason"),
                    rx.text(errors["health_reason"], size="1", color=rx.color("red", 11),
                            custom_attrs={"data-error": "health_reason"})),
            spacing="1", width="100%", padding="10px", border_radius="8px", background=rx.color("red", 2),
            border=f"1px solid {rx.color('red', 6)}", id=f"{prefix}-health",
        ),
    )
