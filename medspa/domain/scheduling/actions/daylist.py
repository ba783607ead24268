"""The daily lists of /today: a provider's "my day" and the desk's arrivals at a location.
One transaction each, the read audited in it (scheduling.daylist writes the row). The desk's
check-in from the arrivals list is `actions.desk.do_change_status`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.identity.actor import Actor
from medspa.domain.scheduling.actions.calendar import LocationOption, choose_location
from medspa.domain.scheduling.daylist import Arrivals, MyDay, arrivals, day_lists, my_day
from medspa.domain.work import atomic, now_of


@dataclass(frozen=True)
class ArrivalsOpened:
    """The arrivals list with the locations the picker offers (`arrivals.location_id` is the
    one shown)."""

    locations: tuple[LocationOption, ...]
    arrivals: Arrivals


def fetch_day_lists(actor: Actor, *, engine: Engine | None = None) -> tuple[str, ...]:
    """Which lists /today offers the signed-in staff member ("my_day", "arrivals"; empty: none,
    the page says "not found"). Not audited: no client data."""
    with atomic(actor.org_id, engine=engine) as work:
        return day_lists(work.session, actor)


def fetch_my_day(actor: Actor, *, clock: Clock | None = None, engine: Engine | None = None) -> MyDay:
    """The signed-in provider's own visits today with their alerts (scheduling.daylist.my_day;
    audited). Raises PermissionDenied (calendar.read and client.read)."""
    with atomic(actor.org_id, engine=engine) as work:
        return my_day(work.session, actor, now=now_of(clock))


def fetch_arrivals(actor: Actor, location_id: int | None, *, clock: Clock | None = None,
                   engine: Engine | None = None) -> ArrivalsOpened:
    """Today's arrivals at `location_id` (None, or a location the clinic does not have: its
    first location by name) and the clinic's locations (scheduling.daylist.arrivals; audited).
    Raises LookupError (the clinic has no locations), PermissionDenied (calendar.read and
    client.read)."""
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        locations, chosen = choose_location(s, actor, location_id)
        return ArrivalsOpened(locations, arrivals(s, actor, location_id=chosen.id, now=now_of(clock)))
