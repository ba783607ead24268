"""Calendar tabs: open a view (and register the tab for live pushes), forget a tab, the
detail panel, and the reads of the per-worker live loop (`medspa.live`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
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
from medspa.domain.scheduling.service import appointment_by_display_code
from medspa.domain.scheduling.watch import (
    Watch,
    forget_stale,
    forget_tokens,
    register_watch,
    touch_tokens,
    unregister_watch,
    watches,
)
from medspa.domain.work import atomic, now_of

VIEWS = ("providers", "rooms")
SPANS = ("day", "week")


@dataclass(frozen=True)
class ViewKey:
    """What a tab shows: location id, day (any day of the week for the week span), view
    ("providers" or "rooms"), span ("day" or "week")."""

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
        """The first and last day shown (the same day for the day span)."""
        if self.span == "week":
            monday = week_start(self.day)
            return monday, monday + timedelta(days=6)
        return self.day, self.day

    @property
    def watch_view(self) -> str:
        """The view as the watch registry stores it ("week", "providers" or "rooms")."""
        return "week" if self.span == "week" else self.view


def key_of(watch: Watch) -> ViewKey:
    """The view a registered tab watches."""
    if watch.view == "week":
        return ViewKey(watch.location_id, watch.day_from, "providers", "week")
    return ViewKey(watch.location_id, watch.day_from, watch.view if watch.view in VIEWS else "providers", "day")


@dataclass(frozen=True)
class LocationOption:
    """A location the tab can switch to (IANA `time_zone`)."""

    id: int
    name: str
    time_zone: str


@dataclass(frozen=True)
class Opened:
    """A tab's view after (re)loading: its locations, the chosen key, today there, the data."""

    locations: tuple[LocationOption, ...]
    key: ViewKey
    today: date
    data: CalendarDay | CalendarWeek


def choose_location(session, actor: Actor, location_id: int | None) -> tuple[tuple[LocationOption, ...],
                                                                            LocationOption]:
    """The clinic's locations and the one asked for: `location_id` when the clinic has it,
    else its first location (another clinic's id, None). Raises LookupError (no locations)."""
    locations = tuple(LocationOption(l.id, l.name, l.time_zone) for l in list_locations(session, actor))
    if not locations:
        raise LookupError("This clinic has no locations yet")
    return locations, next((l for l in locations if l.id == location_id), locations[0])


def _load(session, actor: Actor, key: ViewKey, now: datetime) -> CalendarDay | CalendarWeek:
    if key.span == "week":
        return calendar_week(session, actor, location_id=key.location_id, day=key.day, now=now)
    return calendar_day(session, actor, location_id=key.location_id, day=key.day, view=key.view, now=now)


def do_open_calendar(actor: Actor, *, location_id: int, day: date | None, view: str, span: str,
                     client_token: str, instance_id: str, clock: Clock | None = None,
                     engine: Engine | None = None) -> Opened:
    """Load what the tab asked for and register the tab for live pushes, in one transaction.

    An unknown location (or one of another clinic) falls back to the first one; no `day`
    means today at that location; an unknown view/span means providers/day. No
    `client_token`: nothing is registered. Raises LookupError (the clinic has no locations),
    PermissionDenied (no calendar.read), NotFound. The read's audit row commits with it.
    """
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        locations, chosen = choose_location(s, actor, location_id)
        today = now.astimezone(ZoneInfo(chosen.time_zone)).date()
        key = ViewKey(chosen.id, day or today, view if view in VIEWS else "providers",
                      span if span in SPANS else "day")
        data = _load(s, actor, key, now)
        if client_token:
            first, last = key.days
            register_watch(s, actor, client_token=client_token, instance_id=instance_id,
                           location_id=key.location_id, day_from=first, day_to=last, view=key.watch_view, now=now)
        return Opened(locations, key, today, data)


def do_forget_tab(actor: Actor, client_token: str, *, engine: Engine | None = None) -> None:
    """The tab signed out or left: no more live pushes to it (nothing to do without a token)."""
    if not client_token:
        return
    with atomic(actor.org_id, engine=engine) as work:
        unregister_watch(work.session, client_token)


def fetch_appointment_detail(actor: Actor, appointment_id: int, *, clock: Clock | None = None,
                             engine: Engine | None = None) -> AppointmentDetail:
    """What the calendar's side panel shows (the read is audited). Raises NotFound,
    PermissionDenied."""
    with atomic(actor.org_id, engine=engine) as work:
        return appointment_detail(work.session, actor, appointment_id, now=now_of(clock))


@dataclass(frozen=True)
class FoundVisit:
    """The desk's search hit: the visit's panel, and where the calendar shows it (location id,
    local day)."""

    detail: AppointmentDetail
    location_id: int
    day: date


def find_visit_by_code(actor: Actor, code: str, *, clock: Clock | None = None,
                       engine: Engine | None = None) -> FoundVisit:
    """The visit with this display code in the actor's clinic, as typed at the desk ("k7m2 q9xd",
    "K7M2-Q9XD"; scheduling.references.normalise_display_code), with its panel (the read is
    audited like opening it from the grid). Needs calendar.read. Raises NotFound (no such code in
    this clinic, or text that is no code), PermissionDenied."""
    with atomic(actor.org_id, engine=engine) as work:
        appt = appointment_by_display_code(work.session, actor, code)
        detail = appointment_detail(work.session, actor, appt.id, now=now_of(clock))
        tz = ZoneInfo(detail.time_zone)
        return FoundVisit(detail, appt.location_id, appt.start_at.astimezone(tz).date())


# --------------------------------------------------------------------------- the live loop's reads


def fetch_watches(org_id: int, location_ids: set[int], *, engine: Engine | None = None) -> list[Watch]:
    """The clinic's registered tabs for these locations (0 in the set: of all locations)."""
    with atomic(org_id, engine=engine) as work:
        if 0 in location_ids:
            return watches(work.session, 0)
        return [w for loc in sorted(location_ids) for w in watches(work.session, loc)]


def fetch_views(org_id: int, keys: set[ViewKey], now: datetime, *,
                engine: Engine | None = None) -> dict[ViewKey, CalendarDay | CalendarWeek]:
    """Each view once, read as the system (no audit row per push); a vanished location is
    skipped. `keys` should be normal (`ViewKey.normal()`)."""
    out: dict[ViewKey, CalendarDay | CalendarWeek] = {}
    actor = Actor.system(org_id, "live calendar")
    with atomic(org_id, engine=engine) as work:
        for key in keys:
            try:
                out[key] = _load(work.session, actor, key, now)
            except NotFound:
                continue
    return out


def do_tidy_watches(org_id: int, *, gone: list[str], alive: list[str], instance_id: str, now: datetime,
                    engine: Engine | None = None) -> int:
    """Forget the tabs that are gone (and any stale ones), mark this worker's live tabs seen;
    returns how many registrations were forgotten."""
    with atomic(org_id, engine=engine) as work:
        removed = forget_tokens(work.session, gone)
        touch_tokens(work.session, alive, instance_id, now)
        return removed + forget_stale(work.session, now)
