"""The booking page's steps in the browser's history (no Reflex state here, no domain calls).

Each step the visitor reaches gets its own URL, `/book/<clinic>?step=<step>&n=<entry>`, pushed
as a new history entry (so the browser's Back goes back exactly one step); `n` numbers the
entries this flow pushed, so the page's on_load (BookingState.load) tells Back (a lower n)
from Forward (a higher one) and from a reload or a reconnect (the same n):

- the same entry: the visitor keeps their place and their hold (on the first steps, with
  nothing chosen and nothing held, the clinic's menu is read again);
- Back: to the step named when it is before this one, else one step back; leaving the time
  behind gives the held slot back (details -> time keeps it); Back from the confirmation
  starts a new booking;
- Forward: to the step named when the choices made allow it (`reachable`), else the visitor
  stays and the URL is put right;
- a URL naming a later step in a fresh state (a link opened afresh) shows the first step.
"""

from __future__ import annotations

from medspa.features.booking.flow import NO_DEPOSIT
from medspa.web.inputs import ascii_int

STEPS = ("location", "service", "provider", "time", "details", "payment", "done")


def step_url(slug: str, step: str, n: int) -> str:
    """The URL of `step` as history entry `n` of the flow at clinic `slug`."""
    return f"/book/{slug}?step={step}&n={n}"


def reachable(flow_state, checkout, step: str) -> bool:
    """Whether the choices kept in `flow_state` (BookingState) and `checkout` (CheckoutState)
    allow showing `step`: a treatment for the provider step, a provider and a day strip for
    the time, a held slot for the details, valid details (and a deposit to pay or a card to save) for the
    payment, a confirmation for the last step."""
    s = flow_state
    if step == "location":
        return len(s.locations) > 1
    if step == "service":
        return bool(s.location.id)
    if step == "provider":
        return bool(s.service.id)
    if step == "time":
        return bool(s.service.id and s.provider_choice and s.strip.days)
    if step == "details":
        return bool(s._hold_id and s.slot.start)
    if step == "payment":
        return bool(s._hold_id and s.slot.start and checkout.email and not checkout.errors
                    and (s.service.deposit != NO_DEPOSIT or s.location.card_required))
    return step == "done" and bool(checkout.confirmation.reference)


def where(url) -> tuple[str, str, int]:
    """(clinic slug, step named, history entry n) of a booking page URL (reflex's router.url);
    "" / 0 for what it does not name."""
    parts = [p for p in url.path.split("/") if p]
    slug = parts[-1] if len(parts) >= 2 and parts[-2] == "book" else ""
    query = url.query_parameters
    step = query.get("step", "")
    return slug, step if step in STEPS else "", ascii_int(query.get("n", "")) or 0


def target_step(current: str, wanted: str, back: bool, can_show) -> str:
    """The step to show when the browser moves to the entry naming `wanted` from `current`:
    Back (back=True) goes to `wanted` when it is an earlier step that can_show(step) allows,
    else one step back (when that step can be shown); Forward goes to a later `wanted` when
    every step up to it can be shown, else stays."""
    i = STEPS.index(current)
    if back:
        if wanted and STEPS.index(wanted) < i and can_show(wanted):
            return wanted
        return STEPS[i - 1] if i > 0 and can_show(STEPS[i - 1]) else current
    if wanted and STEPS.index(wanted) > i and all(can_show(st) for st in STEPS[i + 1:STEPS.index(wanted) + 1]):
        return wanted
    return current
