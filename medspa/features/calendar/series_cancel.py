"""The calendar panel's cancel of several visits of a recurring series ("this and following",
"all still ahead"): one action (scheduling.actions.series.do_cancel_in_series), run for the
panel's DetailState (state.py) so that state stays small."""

from __future__ import annotations

from medspa.domain.errors import ValidationFailed
from medspa.domain.money import format_money
from medspa.domain.scheduling.actions.calendar import fetch_appointment_detail
from medspa.domain.scheduling.actions.series import do_cancel_in_series
from medspa.domain.scheduling.series_changes import SCOPES
from medspa.domain.scheduling.service import InvalidTransition
from medspa.features.calendar.layout import detail_view

NOT_ALLOWED = "Not allowed."


async def call_cancel(state, action, *args, **kwargs):
    """Run a cancel `action` for the panel's state (the desk's one visit or a series' several):
    its Done, or None when it refused (the reason or note message by its picker, any other on
    the panel; busy cleared)."""
    try:
        return await state._act(action, *args, denied=NOT_ALLOWED, **kwargs)
    except InvalidTransition as exc:
        state.busy, state.error = False, str(exc)
    except ValidationFailed as exc:
        state.busy, state.cancel_errors = False, {k: v for k, v in exc.fields.items() if k in ("reason", "note")}
        state.error = "" if state.cancel_errors else "; ".join(exc.fields.values())
    return None


async def cancel_series(state, scope: str, reason: str, note: str):
    """Cancel the shown visit and the series' others by `scope` ("following" | "all"); yields
    the state's updates like an event handler. A bad scope, reason or note gets a message by
    its picker and nothing changes."""
    if scope not in SCOPES:
        state.cancel_errors = {"scope": "Choose which visits to cancel"}
        return
    state.busy, state.cancel_errors = True, {}
    yield
    done = await call_cancel(state, do_cancel_in_series, state.detail.id, scope, reason, note=note)
    if done is None:
        return
    if not done.ok:
        state.busy, state.error = False, done.error
        yield done.redirect
        return
    result = done.value
    fresh = await state._act(fetch_appointment_detail, state.detail.id)
    if fresh.ok:
        state.detail = detail_view(fresh.value)
    state.busy = False
    notice = f"Cancelled {result.cancelled} visit{'s' if result.cancelled != 1 else ''}"
    back = result.refunded_cents + result.pending_refund_cents
    if back:
        notice += f" · {format_money(back, result.currency)} of deposits refunded"
    if result.kept_cents:
        notice += f" · {format_money(result.kept_cents, result.currency)} of deposits kept"
    await state._after(done.actor, notice)
