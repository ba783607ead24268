"""Whether a start fits off the slot grid (a staff move): the provider's hours that day, the
location open, and the provider, a room and a device of the service's types free, with the
reason in words when it does not (availability.py computes the grid's slots from the same
context and busy index).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from medspa.domain.identity.actor import Actor
from medspa.domain.practice.opening import closed_days
from medspa.domain.practice.shifts import exceptions_between
from medspa.domain.scheduling.availability import _context, _work_spans, load_busy, occupancy_span
from medspa.domain.timezones import local_midnight


class NotFree(Exception):
    """A start that does not fit (fit.fit_start); `reason` says why in words a desk
    reads, e.g. "Ana Lee does not work then" or "No laser room is free then"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Fit:
    """Where a start fits: the provider's resource and the chosen room and device (None when
    the service needs none), and the occupancy span [lo, hi) with the buffers (UTC)."""

    provider_resource_id: int
    room_id: int | None
    device_id: int | None
    lo: datetime
    hi: datetime

    @property
    def resource_ids(self) -> list[int]:
        """Every resource the visit occupies."""
        return [r for r in (self.provider_resource_id, self.room_id, self.device_id) if r is not None]


def fit_start(session: Session, actor: Actor, *, location_id: int, service_id: int, provider_id: int,
              start_at: datetime, now: datetime, exclude_appointment_id: int | None = None,
              room_id: int | None = None, prefer_room_id: int | None = None,
              prefer_device_id: int | None = None, provider_name: str = "The provider") -> Fit:
    """Check that `service` by `provider_id` can start at `start_at` (aware UTC) at the location,
    off the slot grid (a staff move): the whole span with buffers inside the provider's working
    hours that day (opening hours, time off and extra shifts as find_slots reads them), the
    location open, and the provider, a room and a device of the service's types free
    (`exclude_appointment_id`: the visit being moved does not block itself). `room_id` asks for
    that room; otherwise `prefer_room_id` / `prefer_device_id` (the visit's current ones) are
    kept when free; `provider_name` names the provider in the reasons. Raises NotFree (reason
    in words), NotFound (service, location, provider)."""
    actor.require("availability.read")
    ctx = _context(session, location_id, service_id, None)
    if provider_id not in ctx.provider_resource:
        raise NotFree("This provider does not perform this service here")
    svc = ctx.service
    lo, hi = occupancy_span(svc, start_at)
    day = start_at.astimezone(ctx.tz).date()
    if closed_days(session, location_id, day, day):
        raise NotFree(f"{ctx.location.name} is closed that day")
    window_lo, window_hi = local_midnight(day, ctx.tz) - timedelta(days=1), local_midnight(day, ctx.tz) + timedelta(days=2)
    ctx.time_off, ctx.extra = exceptions_between(session, [provider_id], location_id, window_lo, window_hi)
    spans = _work_spans(ctx, provider_id, day) + _work_spans(ctx, provider_id, day - timedelta(days=1))
    if not any(s_lo <= lo and hi <= s_hi for s_lo, s_hi in spans):
        before = f" and {svc.buffer_before_minutes} min setup" if svc.buffer_before_minutes else ""
        after = f" and {svc.buffer_after_minutes} min clean-up" if svc.buffer_after_minutes else ""
        raise NotFree(f"Outside {provider_name}'s hours (the {svc.duration_minutes} min visit{before}{after} "
                      "must fit inside a shift)")
    rooms = ctx.rooms
    if svc.room_type and not rooms:
        raise NotFree(f"This location has no {svc.room_type} room")
    if svc.device_type and not ctx.devices:
        raise NotFree(f"This location has no {svc.device_type} device")
    if room_id is not None:
        if room_id not in rooms:
            raise NotFree("That room cannot host this service")
        rooms = [room_id]
    provider_res = ctx.provider_resource[provider_id]
    busy = load_busy(session, [provider_res] + ctx.rooms + ctx.devices, lo, hi, now, exclude_appointment_id)
    if not busy.is_free(provider_res, lo, hi):
        raise NotFree(f"{provider_name} is busy then (another visit or time blocked)")

    def pick(pool: list[int], prefer: int | None) -> int | None:
        if not pool:
            return None
        ordered = ([prefer] if prefer in pool else []) + [r for r in pool if r != prefer]
        return next((r for r in ordered if busy.is_free(r, lo, hi)), -1)

    room = pick(rooms, prefer_room_id)
    if room == -1:
        raise NotFree("That room is taken then" if room_id is not None else f"No {svc.room_type} room is free then")
    device = pick(ctx.devices, prefer_device_id)
    if device == -1:
        raise NotFree(f"No {svc.device_type} device is free then")
    return Fit(provider_res, room, device, lo, hi)
