"""Why a provider has no free start for a service on a local day: the recurring series'
preview says it next to a busy date that has no other time to offer (scheduling.series._check),
so the desk is not left guessing why only "Skip this date" is offered.

The day's slot search (availability._prepared / _slots, the one search find_slots runs) is run
again counting only some resources as busy: the provider alone, then the provider and the
rooms. A start free for the provider alone but not with the rooms means the rooms are what
is taken; free with the rooms but not with the devices, the devices. The starts are kept only
where `usable` says so (the series: the client has no other visit then).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlmodel import Session

from medspa.domain.identity.actor import Actor
from medspa.domain.scheduling.availability import _prepared, _slots, load_busy
from medspa.domain.timezones import local_midnight


def no_time_reason(session: Session, actor: Actor, *, location_id: int, service_id: int, provider_id: int,
                   provider_name: str, day: date, now: datetime,
                   usable: Callable[[datetime], bool] = lambda _: True) -> str:
    """The words for a day with no free start for `service_id` by `provider_id` (`now`: aware
    UTC, no start before it): "no other free time that day with Aisha Okafor for the 45 min visit
    and 5 min setup and 10 min clean-up" (her gaps are shorter, the demo's case), "...: no room
    for this service is free when Aisha Okafor is", "...: all 2 hydrafacial devices are booked
    whenever Aisha Okafor is free"; "" when the day does have a usable free start.
    Raises NotFound (location, service, provider), PermissionDenied (availability.read)."""
    actor.require("availability.read")
    ctx, busy = _prepared(session, location_id, service_id, provider_id, day, day, now)
    svc = ctx.service
    lo = local_midnight(day, ctx.tz) - timedelta(days=1)
    hi = local_midnight(day + timedelta(days=1), ctx.tz) + timedelta(days=1)

    provider = list(ctx.provider_resource.values())

    def starts(index) -> list[datetime]:
        return [s.start for s in _slots(ctx, index, day, day, now) if usable(s.start)]

    if starts(busy):
        return ""
    if not starts(load_busy(session, provider, lo, hi, now)):
        before = f" and {svc.buffer_before_minutes} min setup" if svc.buffer_before_minutes else ""
        after = f" and {svc.buffer_after_minutes} min clean-up" if svc.buffer_after_minutes else ""
        return f"no other free time that day with {provider_name} for the {svc.duration_minutes} min visit{before}{after}"
    if ctx.rooms and not starts(load_busy(session, provider + ctx.rooms, lo, hi, now)):
        return f"no other free time that day: no room for this service is free when {provider_name} is"
    device = (svc.device_type or "").replace("_", " ")
    which = f"the {device} device is" if len(ctx.devices) == 1 else f"all {len(ctx.devices)} {device} devices are"
    return f"no other free time that day: {which} booked whenever {provider_name} is free"
