"""The calendar feature's calls into the domain, each in its own transaction.

Plain blocking functions: the Reflex states and the live listener run them in a worker
thread (`asyncio.to_thread`) so the event loop that serves every tab never waits on the
database. No SQL here; each function opens a tenant session, calls the domain services and
commits (reads commit too: the audit rows of a read are written in that transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.db import tenant_session
from medspa.domain.clients.service import ClientInput, search_clients
from medspa.domain.identity.actor import Actor
from medspa.domain.payments.checkout import Checkout, checkout_visit
from medspa.domain.payments.gateway import CardDetails
from medspa.domain.practice.service import list_locations
from medspa.domain.scheduling.calendar import (
    AppointmentDetail,
    CalendarDay,
    CalendarWeek,
    appointment_detail,
    calendar_day,
    calendar_week,
    week_start,
)
from medspa.domain.scheduling.desk import CancelResult, book_for_client, cancel_visit
from medspa.domain.scheduling.service import change_status
from medspa.domain.scheduling.watch import (
    Watch,
    forget_stale,
    forget_tokens,
    register_watch,
    touch_tokens,
    unregister_watch,
    watches,
)
from medspa.settings import get_settings

VIEWS = ("providers", "rooms")
SPANS = ("day", "week")


@dataclass(frozen=True)
class ViewKey:
    """What a tab shows: location, day (any day of the week for the week span), view, span."""

    location_id: int
    day: date
    view: str = "providers"
    span: str = "day"

    def normal(self) -> "ViewKey":
        """Week keys compare by their Monday (and the view does not matter for the week)."""
        if self.span == "week":
            return ViewKey(self.location_id, week_start(self.day), "providers", "week")
        return self

    @property
    def days(self) -> tuple[date, date]:
        if self.span == "week":
            monday = week_start(self.day)
            return monday, monday + timedelta(days=6)
        return self.day, self.day

    @property
    def watch_view(self) -> str:
        return "week" if self.span == "week" else self.view


def key_of(watch: Watch) -> ViewKey:
    """The view a registered tab watches."""
    if watch.view == "week":
        return ViewKey(watch.location_id, watch.day_from, "providers", "week")
    return ViewKey(watch.location_id, watch.day_from, watch.view if watch.view in VIEWS else "providers", "day")


@dataclass(frozen=True)
class LocationOption:
    id: int
    name: str
    time_zone: str


@dataclass
class Opened:
    """A tab's view after (re)loading: its locations, the chosen one, today there, the data."""

    locations: list[LocationOption]
    key: ViewKey
    today: date
    data: CalendarDay | CalendarWeek


def _load(session, actor: Actor, key: ViewKey, now: datetime) -> CalendarDay | CalendarWeek:
    if key.span == "week":
        return calendar_week(session, actor, location_id=key.location_id, day=key.day, now=now)
    return calendar_day(session, actor, location_id=key.location_id, day=key.day, view=key.view, now=now)


def open_view(engine: Engine, actor: Actor, *, location_id: int, day: date | None, view: str, span: str,
              client_token: str, instance_id: str, now: datetime) -> Opened:
    """Load what the tab asked for (unknown location -> the first one; no day -> today there)
    and register the tab for live pushes, in one transaction."""
    with tenant_session(actor.org_id, engine) as s:
        locations = [LocationOption(l.id, l.name, l.time_zone) for l in list_locations(s, actor)]
        if not locations:
            raise LookupError("This clinic has no locations yet")
        chosen = next((l for l in locations if l.id == location_id), locations[0])
        today = now.astimezone(ZoneInfo(chosen.time_zone)).date()
        key = ViewKey(chosen.id, day or today, view if view in VIEWS else "providers",
                      span if span in SPANS else "day")
        data = _load(s, actor, key, now)
        if client_token:
            first, last = key.days
            register_watch(s, actor, client_token=client_token, instance_id=instance_id,
                           location_id=key.location_id, day_from=first, day_to=last, view=key.watch_view, now=now)
        s.commit()
        return Opened(locations, key, today, data)


def forget_tab(engine: Engine, org_id: int, client_token: str) -> None:
    """The tab signed out: no more pushes to it."""
    if not client_token:
        return
    with tenant_session(org_id, engine) as s:
        unregister_watch(s, client_token)
        s.commit()


# --------------------------------------------------------------------------- live listener


def watches_of(engine: Engine, org_id: int, location_ids: set[int]) -> list[Watch]:
    """The clinic's registered tabs for these locations (0 in the set: all locations)."""
    with tenant_session(org_id, engine) as s:
        if 0 in location_ids:
            return watches(s, 0)
        return [w for loc in sorted(location_ids) for w in watches(s, loc)]


def load_many(engine: Engine, org_id: int, keys: set[ViewKey], now: datetime) -> dict[ViewKey, object]:
    """Each view once, read as the system (no audit row per push); a vanished location is skipped."""
    from medspa.domain.errors import NotFound

    out: dict[ViewKey, object] = {}
    actor = Actor.system(org_id, "live calendar")
    with tenant_session(org_id, engine) as s:
        for key in keys:
            try:
                out[key] = _load(s, actor, key, now)
            except NotFound:
                continue
        s.commit()
    return out


def tidy_watches(engine: Engine, org_id: int, *, gone: list[str], alive: list[str], instance_id: str,
                 now: datetime) -> int:
    """Forget tabs that are gone, mark this worker's live tabs seen; returns rows forgotten."""
    with tenant_session(org_id, engine) as s:
        removed = forget_tokens(s, gone)
        touch_tokens(s, alive, instance_id, now)
        removed += forget_stale(s, now)
        s.commit()
    return removed


# --------------------------------------------------------------------------- detail and actions


def detail(engine: Engine, actor: Actor, appointment_id: int, now: datetime) -> AppointmentDetail:
    with tenant_session(actor.org_id, engine) as s:
        d = appointment_detail(s, actor, appointment_id, now=now)
        s.commit()
        return d


def step(engine: Engine, actor: Actor, appointment_id: int, action: str, now: datetime) -> AppointmentDetail:
    """check_in, complete or no_show, then the refreshed detail."""
    with tenant_session(actor.org_id, engine) as s:
        change_status(s, actor, appointment_id, action, now=now)
        s.commit()
        d = appointment_detail(s, actor, appointment_id, now=now)
        s.commit()
        return d


def gateway(engine: Engine, clock: Clock):
    """The payment gateway of this deployment (Stripe with a key, else offline test payments)."""
    try:
        from medspa.domain.payments.factory import gateway_for
    except ImportError:  # pragma: no cover - the factory ships with the payments feature
        from medspa.domain.payments.gateway import TestPaymentGateway

        return TestPaymentGateway(engine, clock.now)
    return gateway_for(get_settings(), engine, clock)


def cancel(engine: Engine, actor: Actor, appointment_id: int, clock: Clock,
           reason: str = "") -> tuple[CancelResult, AppointmentDetail]:
    now = clock.now()
    with tenant_session(actor.org_id, engine) as s:
        result = cancel_visit(s, actor, appointment_id, gateway=gateway(engine, clock), now=now, reason=reason)
        s.commit()
        d = appointment_detail(s, actor, appointment_id, now=now)
        s.commit()
        return result, d


def checkout(engine: Engine, actor: Actor, appointment_id: int, clock: Clock,
             card: CardDetails | None) -> tuple[Checkout, AppointmentDetail]:
    """Check the visit out (payments/checkout.py) and commit, a declined attempt included (its
    Payment row moves the next attempt to a new idempotency key); then the refreshed detail.
    Raises ValidationFailed (card fields, already checked out, wrong status), NotFound,
    PermissionDenied, GatewayUnavailable; nothing is committed then."""
    now = clock.now()
    with tenant_session(actor.org_id, engine) as s:
        result = checkout_visit(s, actor, appointment_id, gateway=gateway(engine, clock), now=now, card=card)
        s.commit()
        d = appointment_detail(s, actor, appointment_id, now=now)
        s.commit()
        return result, d


# --------------------------------------------------------------------------- booking dialog


@dataclass(frozen=True)
class ClientHit:
    id: int
    name: str
    hint: str


@dataclass(frozen=True)
class ServiceOption:
    id: int
    label: str
    duration_minutes: int


@dataclass(frozen=True)
class ProviderOption:
    id: int
    name: str


def clients_matching(engine: Engine, actor: Actor, query: str) -> list[ClientHit]:
    with tenant_session(actor.org_id, engine) as s:
        rows = search_clients(s, actor, query, limit=8)
        contact = actor.can("client.contact.read")
        hits = [ClientHit(c.id, f"{c.first_name} {c.last_name}",
                          (c.email or c.phone_e164 or "") if contact else "") for c in rows]
        s.commit()
        return hits


def booking_options(engine: Engine, actor: Actor, location_id: int) -> tuple[list[ServiceOption], list[ProviderOption]]:
    """Every active service someone performs at the location (staff see all, not only online
    ones) and the bookable providers working there."""
    from medspa.domain.money import format_money
    from medspa.domain.scheduling.desk import desk_options

    with tenant_session(actor.org_id, engine) as s:
        rows, staff = desk_options(s, actor, location_id)
        services = [ServiceOption(v.id, f"{v.name} · {v.duration_minutes} min · {format_money(v.price_cents, v.currency)}",
                                  v.duration_minutes) for v in rows]
        providers = [ProviderOption(p.id, p.display_name) for p in staff]
        return services, providers


def book(engine: Engine, actor: Actor, *, location_id: int, service_id: int, provider_id: int | None,
         start_at: datetime, client_id: int | None, new_client: ClientInput | None, now: datetime) -> int:
    """A confirmed desk booking; returns the appointment id."""
    with tenant_session(actor.org_id, engine) as s:
        appt = book_for_client(s, actor, location_id=location_id, service_id=service_id, start_at=start_at, now=now,
                               provider_id=provider_id, client_id=client_id, new_client=new_client)
        s.commit()
        return appt.id
