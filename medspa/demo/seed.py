"""Fill the database with a living demo clinic (and a small second clinic for isolation tests).

`seed_demo` builds "Lumière Aesthetics": two locations on two coasts, twelve providers with
realistic weekly hours, rooms and devices, a 26-item service menu, ~2,500 clients known at the
start plus ~1,200 first-timers during the year (~3,700 in all) and a year of history
(completed visits, no-shows, early and late cancellations, neuromodulator clients who come
back every 3-4 months and often rebook at checkout, laser and microneedling series,
deposits, refunds, checkouts of the completed visits with processing fees) plus the next
four weeks partly booked.

How the schedule is built (all in memory, then written with bulk inserts):

* every resource (provider, room, device) has one 5-minute cell grid per local day; an
  appointment reserves [start - setup buffer, end + cleanup buffer) on its provider and on one
  free room/device of each type its service needs, so live occupancies can never overlap
  (the database's exclusion constraint would reject them anyway);
* appointments are placed only inside the provider's working hours at that location, in the
  location's wall-clock time, converted to UTC with zoneinfo (DST-correct);
* clients follow treatment plans (see `data.DEMO_PROGRAMS`), processed in date order; a
  "fill" pass then adds one-off visits until each provider-day reaches a target utilization
  (growing over the past year; for the coming four weeks high near today, lower further out).
  A share of those visits (Scale.walk_in_share) brings a first-timer, who becomes a client
  when booking; about half never come back, some now and then, some become regulars. The
  other one-off visits go to known clients by activity; some are booked at the checkout of
  the client's last visit (rebooked_from), some within three weeks after it, the rest closer
  to the visit. Figures this gives on the owners' dashboard (now 2026-07-01): ~150 new
  clients a month, 90-day retention of monthly cohorts ~35-45% (the first two or three
  months of the window are inflated: clients from before the window have their first visit
  of the seeded history then), rebooking ~50-70%, no-shows ~8.5% of due visits;
* statuses follow from the injected `now`: past visits are completed (~80%), no-shows (~8.5%
  of due visits) or cancelled (with cancelled_at, late or not by the location's window);
  visits in progress are checked in; future ones confirmed.

Deterministic: one `random.Random` with a fixed seed drives everything, so the same `today`,
`now` and `scale` give the same clinic. Only booking references (display codes,
distinct within the fresh clinic, and tokens) and gateway ids come from `secrets` (tokens
must be unguessable).

Audit: the seeded history is not an audit trail of real actions, so no per-row audit events
are written for it; the set-up services write their usual rows and one "demo.seed" event
records the run.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
import secrets
import time as _time
import unicodedata
from dataclasses import dataclass, field
from types import SimpleNamespace
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

import pyotp
from argon2 import PasswordHasher
from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import TSTZRANGE, Range
from sqlalchemy.engine import Engine
from sqlmodel import Session

from medspa.db import tenant_session
from medspa.settings import Settings
from medspa.demo import data as D
from medspa.demo.charts import seed_charts
from medspa.demo.forms import seed_forms
from medspa.demo.consents import seed_consents
from medspa.demo.orders import seed_orders
from medspa.demo.products import seed_products
from medspa.demo.messages import seed_messages
from medspa.domain.audit.service import record
from medspa.domain.catalog.service import add_service
from medspa.demo.health import seed_health
from medspa.domain.clients.models import Client
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.two_factor import REQUIRED_2FA_ROLES
from medspa.domain.identity.models import UserAccount
from medspa.domain.identity.secretbox import seal
from medspa.domain.payments.gateway import card_fee_cents
from medspa.domain.payments.models import LedgerEntry, Payment, Refund
from medspa.domain.practice.models import Location, Organization, Resource
from medspa.domain.practice.service import (
    add_location,
    add_resource,
    add_staff,
    create_organization,
    set_working_hours,
)
from medspa.domain.scheduling.models import Appointment, Occupancy
from medspa.domain.scheduling.policy import record_booked_rule
from medspa.domain.scheduling.references import new_booking_token, new_display_code

UTC = timezone.utc
SEED = 20260415
CELL = 5  # minutes per grid cell
GRID = 15  # appointment start times on the quarter hour
KEEP_FREE_DAYS = (1, 4, 8)  # days after today from which each online service keeps a free time
CELLS_PER_DAY = 24 * 60 // CELL
BATCH = 5000
# one-off visits of known clients (fill): share booked at the checkout of their last visit, and
# share booked within three weeks after it; the rest are booked 3 hours to 40 days ahead (_lead)
REBOOK_AT_CHECKOUT = 0.40
REBOOK_SOON = 0.15
WALK_IN_MIX = (0.45, 0.4)
PROGRAM_LAPSE = 0.35  # a plan's next visit not booked at checkout comes 1-4 months late  # first-timers who never come back, who come now and then (rest: regulars)

Progress = Callable[[str, float], None]


class DemoSeedError(RuntimeError):
    """The demo cannot be seeded (e.g. the slug is taken)."""


@dataclass(frozen=True)
class Scale:
    """How much history: clients, days back, days ahead and the utilization targets."""

    clients: int
    history_days: int
    future_days: int = 28
    new_client_share: float = 0.4  # clients who first came during the history window
    walk_in_share: float = 0.2  # one-off visits (fill) by a first-timer, who becomes a client then
    plan_share: float = 1.0  # scales data.Program.share (every client has at least one plan)
    past_util: tuple[float, float] = (0.40, 0.62)  # a year ago -> last week
    future_util: tuple[float, float] = (0.80, 0.42)  # tomorrow -> four weeks out


SCALES = {
    "small": Scale(clients=150, history_days=90),
    "demo": Scale(clients=2500, history_days=365, new_client_share=0.2, walk_in_share=0.15, plan_share=0.5),
    "large": Scale(clients=2000, history_days=730),
}

OTHER_SCALE = Scale(clients=20, history_days=14, future_days=7, new_client_share=0.0, walk_in_share=0.0,
                    past_util=(0.05, 0.08), future_util=(0.12, 0.06))


def demo_credentials(slug: str = "demo", prefix: str = "demo") -> list[tuple[str, str, str]]:
    """(email, password, role) of the demo staff logins, for the console and the README."""
    users = D.DEMO_USERS if prefix == "demo" else D.OTHER_USERS
    return [(f"{u.email_local}@{slug}.clinic", f"{prefix}-{u.password_role}-2026", u.role) for u in users]


# =========================================================================================
# public entry points
# =========================================================================================


def seed_demo(engine: Engine, owner_engine: Engine, *, slug: str = "demo", name: str = "Lumière Aesthetics",
              today: date | None = None, now: datetime | None = None,
              progress: Progress | None = None, scale: str = "demo", with_other: bool = True,
              settings: Settings | None = None) -> int:
    """Create the demo clinic (and, unless with_other=False, the small clinic `other`).

    Returns the demo organisation's id. Raises DemoSeedError if `slug` already exists.
    `today`/`now` default to the real date and instant; pass both for a stable result.
    The demo's owner, manager and nurse have two-factor sign-in set up already (a random
    TOTP secret each, encrypted with `settings`' key like the domain does): `medspa
    demo-code EMAIL` prints their current code.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}")
    today, now = _resolve_clock(today, now, D.DEMO_LOCATIONS[0].time_zone)
    report = _Reporter(progress, 0.0, 0.93 if with_other else 1.0)
    spec = _ClinicSpec(D.DEMO_LOCATIONS, D.DEMO_STAFF, D.DEMO_USERS, D.DEMO_RESOURCES, D.DEMO_SERVICES,
                       D.DEMO_PROGRAMS, "demo", "USD", _us_holidays, SCALES[scale], totp_settings=settings,
                       pre_enrol_totp=True)
    org_id = _seed_clinic(engine, owner_engine, spec, slug, name, today, now, report)
    seed_consents(engine, org_id, now, settings)  # issue 17: signed consents on some past visits
    if with_other:
        if _org_exists(owner_engine, "other"):
            report.done("other clinic already present")
        else:
            seed_other(engine, owner_engine, today=today, now=now,
                       progress=_Reporter(progress, 0.93, 1.0).callback())
    if progress:
        progress("demo ready", 1.0)
    return org_id


def seed_other(engine: Engine, owner_engine: Engine, *, slug: str = "other", name: str = "Marylebone Skin Studio",
               today: date | None = None, now: datetime | None = None,
               progress: Progress | None = None) -> int:
    """A second, small clinic (London, GBP): 2 providers, 3 services, 20 clients, a few visits."""
    today, now = _resolve_clock(today, now, D.OTHER_LOCATIONS[0].time_zone)
    spec = _ClinicSpec(D.OTHER_LOCATIONS, D.OTHER_STAFF, D.OTHER_USERS, D.OTHER_RESOURCES, D.OTHER_SERVICES,
                       (), "other", "GBP", _uk_holidays, OTHER_SCALE, seed=SEED + 1)
    return _seed_clinic(engine, owner_engine, spec, slug, name, today, now, _Reporter(progress, 0.0, 1.0))


# =========================================================================================
# plumbing
# =========================================================================================


@dataclass(frozen=True)
class _ClinicSpec:
    locations: tuple[D.LocationSpec, ...]
    staff: tuple[D.StaffSpec, ...]
    users: tuple[D.UserSpec, ...]
    resources: tuple[D.ResourceSpec, ...]
    services: tuple[D.ServiceSpec, ...]
    programs: tuple[D.Program, ...]
    password_prefix: str
    currency: str
    holidays: Callable[[date], bool]
    scale: Scale
    seed: int = SEED
    pre_enrol_totp: bool = False  # owner, manager and providers get a TOTP secret (demo only)
    totp_settings: Settings | None = None  # whose SECRET_KEY/VAR_DIR encrypts it


class _Reporter:
    """Maps stage fractions onto [lo, hi] of the caller's progress bar."""

    def __init__(self, callback: Progress | None, lo: float, hi: float):
        self._cb, self._lo, self._hi = callback, lo, hi

    def __call__(self, message: str, fraction: float) -> None:
        if self._cb:
            self._cb(message, round(self._lo + (self._hi - self._lo) * min(max(fraction, 0.0), 1.0), 4))

    def done(self, message: str) -> None:
        self(message, 1.0)

    def callback(self) -> Progress | None:
        return self if self._cb else None


def _resolve_clock(today: date | None, now: datetime | None, tz: str) -> tuple[date, datetime]:
    if now is None:
        now = (datetime.combine(today, time(12, 0), ZoneInfo(tz)) if today else datetime.now(UTC))
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    if today is None:
        today = now.astimezone(ZoneInfo(tz)).date()
    return today, now


def _org_exists(owner_engine: Engine, slug: str) -> bool:
    with Session(owner_engine) as s:
        return s.execute(select(Organization.id).where(Organization.slug == slug)).first() is not None


def _us_holidays(day: date) -> bool:
    """Closed: New Year's Day, Independence Day, Thanksgiving, Christmas."""
    if (day.month, day.day) in ((1, 1), (7, 4), (12, 25)):
        return True
    return day.month == 11 and day.weekday() == 3 and 22 <= day.day <= 28


def _uk_holidays(day: date) -> bool:
    return (day.month, day.day) in ((1, 1), (12, 25), (12, 26))


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _ascii(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if c.isascii() and c.isalnum()).lower()


# =========================================================================================
# in-memory model of the schedule
# =========================================================================================


@dataclass
class _Client:
    idx: int
    home: str
    created_at: datetime
    tod: str  # preferred time of day: morning, midday, evening or ""
    prefs: dict[str, int] = field(default_factory=dict)  # program key -> preferred staff id
    activity: float = 1.0  # how often this client drops in for one-off visits
    busy: dict[date, list[tuple[datetime, datetime]]] = field(default_factory=dict)  # live visits
    visits: list["_Appt"] = field(default_factory=list)
    by_category: dict[str, list[datetime]] = field(default_factory=dict)  # live visit starts
    row: dict = field(default_factory=dict)
    id: int = 0


@dataclass
class _Appt:
    client: _Client
    svc: D.ServiceSpec
    staff_id: int
    loc: str
    day: date
    start_min: int
    start_at: datetime
    end_at: datetime
    resources: list[int]
    created_at: datetime = None  # type: ignore[assignment]
    status: str = "confirmed"
    source: str = "online"
    rebooked_from: "_Appt | None" = None
    checked_in_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    late: bool | None = None
    id: int = 0
    planned: bool = False  # part of a treatment plan (else a one-off visit)
    has_rebooking: bool = False  # the next visit was booked at this one's checkout

    @property
    def live(self) -> bool:
        return self.status not in ("cancelled", "expired")


class _Schedule:
    """Per-resource, per-day 5-minute grids and the placement rules."""

    def __init__(self, rng: random.Random, spec: _ClinicSpec, staff_ids: dict[str, int],
                 provider_res: dict[int, int], room_ids: dict[tuple[str, str], list[int]],
                 now: datetime, holidays: Callable[[date], bool]):
        self.rng = rng
        self.now = now
        self.holidays = holidays
        self.tz = {loc.key: ZoneInfo(loc.time_zone) for loc in spec.locations}
        self.window = {loc.key: timedelta(hours=loc.cancellation_window_hours) for loc in spec.locations}
        self.provider_res = provider_res
        self.rooms = room_ids
        self.grids: dict[tuple[int, date], bytearray] = {}
        self.kept: dict[tuple[int, date], int] = {}  # (provider resource, day) -> cells kept free
        # (staff id, weekday) -> (location key, start minute, end minute)
        self.shifts: dict[tuple[int, int], tuple[str, int, int]] = {}
        self.kind: dict[int, str] = {}
        for st in spec.staff:
            if st.role != "provider":
                continue
            sid = staff_ids[st.name]
            self.kind[sid] = st.kind
            for wd, (loc, a, b) in st.hours.items():
                self.shifts[(sid, wd)] = (loc, _minutes(a), _minutes(b))
        self.services = {s.key: s for s in spec.services}
        # service key -> staff ids qualified (by title) whose location has the rooms/devices
        self.qualified: dict[str, list[int]] = {}
        for svc in spec.services:
            self.qualified[svc.key] = sorted(sid for sid, k in self.kind.items() if k in svc.skills)
        self.works_at: dict[str, set[int]] = {}
        for (sid, _wd), (loc, _a, _b) in self.shifts.items():
            self.works_at.setdefault(loc, set()).add(sid)

    # -- grids ---------------------------------------------------------------------------
    def grid(self, res_id: int, day: date) -> bytearray:
        g = self.grids.get((res_id, day))
        if g is None:
            g = self.grids[(res_id, day)] = bytearray(CELLS_PER_DAY)
        return g

    def hosts(self, loc: str, svc: D.ServiceSpec) -> bool:
        return all(self.rooms.get((loc, t)) for t in (svc.room_type, svc.device_type) if t)

    def _free_rooms(self, loc: str, svc: D.ServiceSpec, day: date, a: int, b: int) -> list[int] | None:
        chosen: list[int] = []
        for rtype in (svc.room_type, svc.device_type):
            if not rtype:
                continue
            options = self.rooms.get((loc, rtype), [])
            n = len(options)
            off = self.rng.randrange(n) if n > 1 else 0
            for i in range(n):
                rid = options[(off + i) % n]
                if 1 not in self.grid(rid, day)[a:b]:
                    chosen.append(rid)
                    break
            else:
                return None
        return chosen

    def _candidates(self, lo: int, hi: int, tod: str) -> list[int]:
        starts = list(range(lo, hi + 1, GRID))
        self.rng.shuffle(starts)
        if tod:
            band = {"morning": (0, 12 * 60), "midday": (11 * 60, 15 * 60), "evening": (16 * 60, 24 * 60)}[tod]
            starts.sort(key=lambda s: not (band[0] <= s < band[1]))
        return starts

    def find(self, svc: D.ServiceSpec, loc: str, day: date, staff: Iterable[int], tod: str = "",
             earliest: datetime | None = None, tries: int = 40) -> tuple[int, int, list[int]] | None:
        """First (staff id, start minute, room/device ids) that fits on `day`, or None."""
        if self.holidays(day):
            return None
        wd = day.weekday()
        for sid in staff:
            shift = self.shifts.get((sid, wd))
            if shift is None or shift[0] != loc:
                continue
            _, h0, h1 = shift
            lo = -(-(h0 + svc.before) // GRID) * GRID
            hi = h1 - svc.duration - svc.after
            if hi < lo:
                continue
            pgrid = self.grid(self.provider_res[sid], day)
            for s in self._candidates(lo, hi, tod)[:tries]:
                a, b = (s - svc.before) // CELL, (s + svc.duration + svc.after) // CELL
                if 1 in pgrid[a:b]:
                    continue
                if earliest is not None and self.instant(loc, day, s) <= earliest:
                    continue
                rooms = self._free_rooms(loc, svc, day, a, b)
                if rooms is not None:
                    return sid, s, rooms
        return None

    def instant(self, loc: str, day: date, minute: int) -> datetime:
        """Wall-clock minute of `day` at `loc` -> aware UTC instant (zoneinfo, DST-correct)."""
        local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=self.tz[loc])
        return local.astimezone(UTC)

    def make(self, client: _Client, svc: D.ServiceSpec, loc: str, day: date,
             found: tuple[int, int, list[int]]) -> _Appt:
        sid, s, rooms = found
        start = self.instant(loc, day, s)
        return _Appt(client, svc, sid, loc, day, s, start, start + timedelta(minutes=svc.duration),
                     [self.provider_res[sid], *rooms])

    def reserve(self, ap: _Appt) -> None:
        a = (ap.start_min - ap.svc.before) // CELL
        b = (ap.start_min + ap.svc.duration + ap.svc.after) // CELL
        fill = b"\x01" * (b - a)
        for rid in ap.resources:
            self.grid(rid, ap.day)[a:b] = fill

    def keep(self, ap: _Appt) -> None:
        """Reserve `ap`'s cells as a kept free time (never written): nothing else takes them,
        and they do not count as the provider's utilization."""
        self.reserve(ap)
        key = (ap.resources[0], ap.day)
        cells = (ap.start_min + ap.svc.duration + ap.svc.after) // CELL - (ap.start_min - ap.svc.before) // CELL
        self.kept[key] = self.kept.get(key, 0) + cells

    def utilization(self, sid: int, day: date) -> float:
        shift = self.shifts.get((sid, day.weekday()))
        if not shift:
            return 1.0
        a, b = shift[1] // CELL, shift[2] // CELL
        g = self.grids.get((self.provider_res[sid], day))
        if g is None:
            return 0.0
        kept = self.kept.get((self.provider_res[sid], day), 0)
        return (g.count(1, a, b) - kept) / max(b - a - kept, 1)

    # -- outcome of a booking, from the injected clock -------------------------------------
    def settle(self, ap: _Appt) -> None:
        """Decide status and timestamps from `now`; reserve the grid if the visit stays live."""
        rng, now = self.rng, self.now
        start, end = ap.start_at, ap.end_at
        window = self.window[ap.loc]
        if start >= now:
            if ap.created_at < now - timedelta(hours=2) and rng.random() < 0.04:
                ap.status = "cancelled"
                ap.cancelled_at = _between(rng, ap.created_at + timedelta(minutes=30), now)
            elif now >= start - timedelta(minutes=10):
                ap.status, ap.checked_in_at = "checked_in", max(ap.created_at, start - timedelta(minutes=10))
            else:
                ap.status = "confirmed"
        else:
            r = rng.random()
            if r < 0.12 and ap.created_at < start - timedelta(hours=2):
                ap.status = "cancelled"
                earliest = ap.created_at + timedelta(minutes=20)
                if rng.random() < 0.3 or earliest >= start - window:
                    ap.cancelled_at = _between(rng, max(earliest, start - window + timedelta(minutes=30)),
                                               start - timedelta(hours=1))
                else:
                    ap.cancelled_at = _between(rng, earliest, start - window - timedelta(hours=1))
            elif r < 0.12 + 0.075:
                # a no-show is marked 20 minutes in (or when the slot is over); not before
                ap.status = "no_show" if now >= min(start + timedelta(minutes=20), end) else "confirmed"
            else:
                ap.checked_in_at = max(ap.created_at, start - timedelta(minutes=rng.randint(0, 15)))
                if end <= now:
                    ap.status = "completed"
                    ap.completed_at = min(now, end + timedelta(minutes=rng.randint(0, 12)))
                else:
                    ap.status = "checked_in"
        if ap.status == "cancelled":
            ap.cancelled_at = max(ap.cancelled_at, ap.created_at + timedelta(minutes=1))
            ap.late = (start - ap.cancelled_at) < window
        else:
            self.reserve(ap)


def _client_free(client: _Client, ap: _Appt) -> bool:
    return all(ap.end_at <= s or e <= ap.start_at for s, e in client.busy.get(ap.day, ()))


def _client_spaced(client: _Client, ap: _Appt) -> bool:
    gap = timedelta(days=D.CATEGORY_SPACING_DAYS.get(ap.svc.category, 0))
    return all(abs(ap.start_at - s) >= gap for s in client.by_category.get(ap.svc.category, ()))


def _client_book(client: _Client, ap: _Appt) -> None:
    client.visits.append(ap)
    if ap.live:
        client.busy.setdefault(ap.day, []).append((ap.start_at, ap.end_at))
        client.by_category.setdefault(ap.svc.category, []).append(ap.start_at)
    if ap.rebooked_from is not None:
        ap.rebooked_from.has_rebooking = True


def _rebook_source(client: _Client, start: datetime) -> _Appt | None:
    """The client's latest completed visit 3-150 days before `start` not yet rebooked from."""
    best = None
    for v in client.visits:
        if (v.status == "completed" and not v.has_rebooking and v.completed_at is not None
                and timedelta(days=3) <= start - v.completed_at <= timedelta(days=150)
                and (best is None or v.completed_at > best.completed_at)):
            best = v
    return best


def _between(rng: random.Random, a: datetime, b: datetime) -> datetime:
    if b <= a:
        return a
    return a + timedelta(seconds=rng.randint(0, int((b - a).total_seconds())))


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


# =========================================================================================
# the generator: clients, plans, one-off visits
# =========================================================================================


class _Generator:
    def __init__(self, spec: _ClinicSpec, sched: _Schedule, today: date, now: datetime, rng: random.Random):
        self.spec, self.sched, self.today, self.now, self.rng = spec, sched, today, now, rng
        sc = spec.scale
        self.first_day = today - timedelta(days=sc.history_days)
        self.last_day = today + timedelta(days=sc.future_days)
        self.window_start = sched.instant(spec.locations[0].key, self.first_day, 0)
        self.appts: list[_Appt] = []
        self.clients: list[_Client] = []
        self.staff_names: dict[int, str] = {}
        self.emails: set[str] = set()
        self.phones = {loc.key: self._phone_pool(loc) for loc in spec.locations}

    # -- clients ---------------------------------------------------------------------------
    def make_clients(self) -> None:
        """The clinic's clients at the start: regulars from before the window and some who
        first came during it (more of them recently). `fill` adds the first-timers."""
        rng, sc, spec = self.rng, self.spec.scale, self.spec
        locs = [loc.key for loc in spec.locations]
        loc_weights = [0.6, 0.4][: len(locs)] if len(locs) > 1 else [1.0]
        span = (self.now - self.window_start).total_seconds()
        for _ in range(sc.clients):
            home = rng.choices(locs, weights=loc_weights)[0]
            if rng.random() < sc.new_client_share:
                # joined during the window, a few more of them recently (the clinic grows)
                created = self.window_start + timedelta(seconds=span * rng.random() ** 0.8)
            else:
                created = self.window_start - timedelta(days=rng.uniform(20, 1100), minutes=rng.randint(0, 600))
            self.new_client(home, created, min(4.0, rng.lognormvariate(0.0, 0.5)))

    def new_client(self, home: str, created: datetime, activity: float) -> _Client:
        """One client with a realistic name, unique e-mail and (mostly) a phone near `home`."""
        rng = self.rng
        male = rng.random() < 0.13
        first = rng.choice(D.FIRST_NAMES_M if male else D.FIRST_NAMES_F)
        last = rng.choice(D.LAST_NAMES)
        if rng.random() < 0.05:
            last = f"{last}-{rng.choice(D.LAST_NAMES)}"
        age = int(rng.triangular(21, 72, 38))
        dob = self.today - timedelta(days=age * 365 + rng.randint(0, 364))
        email = self._email(first, last, dob, self.emails, rng.choice(("example.com", "example.com", "example.org")))
        pool = self.phones[home]
        phone = pool.pop() if pool and rng.random() > 0.03 else None
        email_ok = rng.random() < 0.62
        client = _Client(len(self.clients), home, created, rng.choice(("morning", "midday", "evening", "", "")),
                         activity=activity)
        client.row = {
            "first_name": first, "last_name": last, "date_of_birth": dob, "email": email,
            "phone_e164": phone, "email_marketing_consent": email_ok,
            "sms_marketing_consent": phone is not None and rng.random() < (0.7 if email_ok else 0.25),
            "created_at": created,
        }
        self.clients.append(client)
        return client

    def _phone_pool(self, loc: D.LocationSpec) -> list[str]:
        if loc.country_prefix == "+44":
            pool = [f"+44{code}{n:03d}" for code in loc.area_codes for n in range(101, 1000)]
        else:
            pool = [f"+1{code}55501{n:02d}" for code in loc.area_codes for n in range(1, 100)]
        self.rng.shuffle(pool)
        return pool

    @staticmethod
    def _email(first: str, last: str, dob: date, taken: set[str], domain: str) -> str:
        f, l = _ascii(first), _ascii(last)
        for local in (f"{f}.{l}", f"{f[0]}{l}", f"{f}{l}{dob.year % 100:02d}", f"{f}.{l}{dob.day}"):
            if f"{local}@{domain}" not in taken:
                break
        else:
            n = 2
            while f"{f}.{l}{n}@{domain}" in taken:
                n += 1
            local = f"{f}.{l}{n}"
        email = f"{local}@{domain}"
        taken.add(email)
        return email

    # -- treatment plans -------------------------------------------------------------------
    def run_programs(self, report: _Reporter) -> None:
        spec, rng, sched = self.spec, self.rng, self.sched
        if not spec.programs:
            return
        heap: list = []
        seq = 0
        consult = sched.services.get("consult")
        for c in self.clients:
            plans = [p for p in spec.programs if rng.random() < p.share * spec.scale.plan_share]
            if not plans:
                plans = [rng.choice(spec.programs)]
            new = c.created_at >= self.window_start
            for n, p in enumerate(plans):
                first_svc = sched.services[max(p.services, key=p.services.get)]
                options = [sid for sid in sched.qualified[first_svc.key] if sid in sched.works_at.get(c.home, ())]
                if options:
                    c.prefs[p.key] = rng.choice(options)
                if new:
                    offset = rng.randint(1, 14) if n == 0 else rng.randint(20, 100)
                    desired = c.created_at.date() + timedelta(days=offset)
                    step = 0
                else:
                    desired = self.first_day + timedelta(days=rng.randint(0, p.interval_days[1]))
                    step = rng.randint(0, p.series - 1) if p.series else 1
                svc_key = _weighted(rng, p.services)
                if new and p.needs_consult and consult is not None and n == 0:
                    # a first consultation, then the treatment
                    heapq.heappush(heap, (desired, seq, c, p, -1, "consult", None, False))
                else:
                    heapq.heappush(heap, (desired, seq, c, p, step, svc_key, None, False))
                seq += 1
        span = (self.last_day - self.first_day).days or 1
        done = 0
        while heap:
            desired, _, c, p, step, svc_key, prev, rebooked = heapq.heappop(heap)
            done += 1
            if done % 1000 == 0:
                share = min(1.0, max(0.0, (desired - self.first_day).days / span))
                report(f"planning visits {int(100 * share)}%", share)
            if desired > self.last_day:
                continue
            ap = self._place_program_visit(c, p, svc_key, desired, prev, rebooked)
            if ap is None:
                continue
            nxt = self._next_visit(c, p, step, ap)
            if nxt is not None:
                heapq.heappush(heap, (nxt[0], seq, c, p, nxt[1], nxt[2], ap, nxt[3]))
                seq += 1

    def _place_program_visit(self, c: _Client, p: D.Program, svc_key: str, desired: date,
                             prev: _Appt | None, rebooked: bool) -> _Appt | None:
        sched, rng = self.sched, self.rng
        svc = sched.services[svc_key]
        loc = c.home if rng.random() < 0.95 or len(self.spec.locations) == 1 else \
            rng.choice([l.key for l in self.spec.locations if l.key != c.home])
        if not sched.hosts(loc, svc):
            return None
        qualified = [sid for sid in sched.qualified[svc.key] if sid in sched.works_at.get(loc, ())]
        if not qualified:
            return None
        pref = c.prefs.get(p.key)
        if rebooked and prev is not None:
            earliest = prev.completed_at or prev.end_at
        elif prev is not None:
            earliest = (prev.cancelled_at or prev.end_at) + timedelta(hours=2)
        else:
            earliest = c.created_at + timedelta(hours=2)
        others = [sid for sid in qualified if sid != pref]
        rng.shuffle(others)
        mine = [pref] if pref in qualified else []
        offsets = (0, 1, -1, 2, -2, 3, 4, -3, 5, 6, 7, 8, 9, 10)
        for staff in (mine, others):  # the client's own provider first, anyone qualified next
            if not staff:
                continue
            for off in offsets:
                day = desired + timedelta(days=off)
                if day < self.first_day or day > self.last_day or day < earliest.date():
                    continue
                found = sched.find(svc, loc, day, staff, c.tod, earliest=earliest, tries=24)
                if found is None:
                    continue
                ap = sched.make(c, svc, loc, day, found)
                if not _client_free(c, ap):
                    continue
                ap.planned = True
                if rebooked and prev is not None and prev.status == "completed":
                    ap.created_at, ap.rebooked_from, ap.source = prev.completed_at, prev, "staff"
                else:
                    lead = _lead(rng)
                    ap.created_at = max(ap.start_at - lead, earliest - timedelta(hours=1), c.created_at)
                    ap.source = "online" if rng.random() < 0.55 else "staff"
                if ap.created_at >= ap.start_at - timedelta(minutes=30):
                    ap.created_at = ap.start_at - timedelta(minutes=30)
                if ap.created_at > self.now or ap.created_at < c.created_at:
                    return None  # not booked yet (or impossible): the plan stops here
                sched.settle(ap)
                _client_book(c, ap)
                self.appts.append(ap)
                return ap
        return None

    def _next_visit(self, c: _Client, p: D.Program, step: int, ap: _Appt
                    ) -> tuple[date, int, str, bool] | None:
        """(desired day, step, service key, booked at checkout) of the plan's next visit."""
        rng = self.rng
        if ap.status == "cancelled":
            if rng.random() < 0.75:
                return ap.day + timedelta(days=rng.randint(3, 14)), step, ap.svc.key, False
            return None
        if ap.status == "no_show":
            if rng.random() < 0.6:
                return ap.day + timedelta(days=rng.randint(7, 21)), step, ap.svc.key, False
            return None
        if step == -1:  # the consultation came first; now the treatment
            if rng.random() < 0.8:
                return (ap.day + timedelta(days=rng.randint(5, 21)), 0, _weighted(rng, p.services),
                        ap.status == "completed" and rng.random() < 0.6)
            return None
        if rng.random() > p.continue_p:
            return None
        step += 1
        interval = p.interval_days
        if p.series and step >= p.series:
            if not p.maintenance_days:
                return None
            interval = p.maintenance_days
        svc_key = ap.svc.key if rng.random() < 0.88 else _weighted(rng, p.services)
        rebook = ap.status == "completed" and rng.random() < p.rebook_p
        days = rng.randint(*interval)
        if not rebook and rng.random() < PROGRAM_LAPSE:
            days += rng.randint(30, 120)  # life gets in the way: back, but later than planned
        return ap.day + timedelta(days=days), step, svc_key, rebook

    # -- the last visit of clients known before the seeded year -------------------------------
    def prior_visits(self) -> None:
        """One completed visit, up to 90 days before the window, for every client who joined
        before it (their last visit before the seeded year), placed like any visit (provider
        hours, rooms, buffers, no overlap). Without it, every long-standing client's first
        visit in the seeded year made them look "new" (first completed visit) and swelled the
        first cohorts of the retention chart and the new-client counts. Its own random
        stream, so the seeded year is unchanged."""
        rng, sched = random.Random(SEED + 7), self.sched
        for c in self.clients:
            if c.created_at >= self.window_start:
                continue
            # the last visit before the seeded year: within its last three months (regulars come
            # every few months), so the cohorts of those months look like the established clients
            # they are (a visit placed further back had no return for months: 0% at 90 days)
            earliest = max(c.created_at.date() + timedelta(days=1), self.first_day - timedelta(days=90))
            span = (self.first_day - earliest).days
            svcs = [s for s in sched.services.values() if sched.hosts(c.home, s)
                    and any(sid in sched.works_at.get(c.home, ()) for sid in sched.qualified[s.key])]
            if span < 1 or not svcs:
                continue
            svc = rng.choices(svcs, weights=[s.weight for s in svcs])[0]
            staff = sorted(sid for sid in sched.qualified[svc.key] if sid in sched.works_at.get(c.home, ()))
            for _ in range(6):
                day = earliest + timedelta(days=rng.randrange(span))
                if self.spec.holidays(day):
                    continue
                found = sched.find(svc, c.home, day, staff, c.tod, tries=12)
                if found is None:
                    continue
                ap = sched.make(c, svc, c.home, day, found)
                ap.status, ap.source = "completed", "online" if rng.random() < 0.55 else "staff"
                ap.created_at = max(c.created_at, ap.start_at - timedelta(days=rng.randint(1, 30)))
                ap.checked_in_at = ap.start_at - timedelta(minutes=rng.randint(0, 15))
                ap.completed_at = ap.end_at + timedelta(minutes=rng.randint(0, 12))
                sched.reserve(ap)
                self.appts.append(ap)
                break

    # -- free times kept in the coming two weeks ---------------------------------------------
    def keep_free(self) -> None:
        """Reserve, before the coming weeks are filled, a few windows per service and location
        that no demo visit may take: every online service stays bookable within the booking
        page's first 14 days (on KEEP_FREE_DAYS days or the next days it is performed there),
        whatever the fill's utilization. The windows are only marked in the in-memory grids
        (nothing is written), on the quarter-hour grid find_slots offers."""
        sched = self.sched
        earliest = self.now + timedelta(days=1)  # clear of any minimum notice
        for loc in self.spec.locations:
            staff = sorted(sched.works_at.get(loc.key, set()))
            for svc in self.spec.services:
                if not sched.hosts(loc.key, svc):
                    continue
                qualified = [sid for sid in staff if sid in sched.qualified[svc.key]]
                day = self.today + timedelta(days=KEEP_FREE_DAYS[0])
                for target in KEEP_FREE_DAYS:
                    day = max(day, self.today + timedelta(days=target))
                    while day < self.today + timedelta(days=14):
                        found = sched.find(svc, loc.key, day, qualified, earliest=earliest)
                        day += timedelta(days=1)
                        if found is not None:
                            sched.keep(sched.make(None, svc, loc.key, day - timedelta(days=1), found))
                            break

    # -- one-off visits up to the day's target utilization -----------------------------------
    def fill(self, report: _Reporter) -> None:
        sched, rng, sc = self.sched, self.rng, self.spec.scale
        # clients by joining time, with cumulative activity weights (regulars come more often)
        every = sorted(self.clients, key=lambda c: c.created_at)
        pools: dict[str | None, _Pool] = {None: _Pool(every)}
        for loc in {c.home for c in every}:
            pools[loc] = _Pool([c for c in every if c.home == loc])
        menu: dict[tuple[int, str], tuple[list[D.ServiceSpec], list[float]]] = {}
        for (sid, _wd), (loc, _a, _b) in sched.shifts.items():
            if (sid, loc) not in menu:
                svcs = [s for s in sched.services.values()
                        if sid in sched.qualified[s.key] and sched.hosts(loc, s)]
                menu[(sid, loc)] = (svcs, [s.weight for s in svcs])
        days = (self.last_day - self.first_day).days + 1
        for n in range(days):
            day = self.first_day + timedelta(days=n)
            if n % 30 == 0:
                report(f"filling the calendar {100 * n // days}%", n / days)
            if self.spec.holidays(day):
                continue
            for sid in sorted(sched.kind):
                shift = sched.shifts.get((sid, day.weekday()))
                if shift is None:
                    continue
                loc = shift[0]
                svcs, weights = menu[(sid, loc)]
                if not svcs:
                    continue
                target = self._target(day)
                failures = 0
                while failures < 5 and sched.utilization(sid, day) < target:
                    svc = rng.choices(svcs, weights=weights)[0]
                    found = sched.find(svc, loc, day, (sid,), "", tries=12)
                    if found is None:
                        failures += 1
                        continue
                    ap = sched.make(None, svc, loc, day, found)  # type: ignore[arg-type]
                    lead = _lead(rng)
                    created = ap.start_at - lead
                    if created > self.now:
                        created = self.now - timedelta(minutes=rng.randint(5, 3 * 24 * 60))
                    if created >= ap.start_at - timedelta(minutes=30):
                        created = ap.start_at - timedelta(minutes=30)
                    client = None
                    if rng.random() < sc.walk_in_share:
                        # a first-timer (marketing, a friend's tip, a walk-in): a new client, joined
                        # when booking; most come once or twice, some become regulars
                        client = self.new_client(loc, created - timedelta(minutes=rng.randint(0, 20)),
                                                 _walk_in_activity(rng))
                        pools.setdefault(loc, _Pool([])).add(client)
                        pools[None].add(client)
                    else:
                        for _ in range(8):
                            pool = pools[loc] if rng.random() < 0.92 else pools[None]
                            cand = pool.pick(rng, created) or pools[None].pick(rng, created)
                            if cand is not None and _client_free(cand, ap) and _client_spaced(cand, ap):
                                client = cand
                                break
                    if client is None:
                        failures += 1
                        continue
                    ap.client = client
                    ap.created_at, ap.source = created, "online" if rng.random() < 0.55 else "staff"
                    prev = _rebook_source(client, ap.start_at)
                    r = rng.random()
                    if prev is not None and r < REBOOK_AT_CHECKOUT:
                        # booked at the checkout of an earlier visit ("before leaving")
                        ap.created_at, ap.rebooked_from, ap.source = prev.completed_at, prev, "staff"
                    elif prev is not None and r < REBOOK_AT_CHECKOUT + REBOOK_SOON:
                        # booked within a few weeks after it (a reminder, a follow-up call)
                        soon = prev.completed_at + timedelta(minutes=rng.randint(120, 21 * 24 * 60))
                        if soon <= min(self.now, ap.start_at - timedelta(minutes=30)):
                            ap.created_at = soon
                    sched.settle(ap)
                    _client_book(client, ap)
                    self.appts.append(ap)

    def _target(self, day: date) -> float:
        sc, rng = self.spec.scale, self.rng
        k = (day - self.today).days
        if k < 0:
            age = -k / max(sc.history_days, 1)
            base = sc.past_util[1] - (sc.past_util[1] - sc.past_util[0]) * age
        else:
            base = sc.future_util[0] - (sc.future_util[0] - sc.future_util[1]) * k / max(sc.future_days, 1)
        base += {0: -0.06, 4: 0.04, 5: 0.10}.get(day.weekday(), 0.0)
        if day.month == 12 and day.day < 24:
            base += 0.05  # holiday-party season
        elif day.month == 8 and day.day > 10:
            base -= 0.05  # late-summer lull
        return min(0.95, max(0.05, base + rng.uniform(-0.06, 0.06)))


class _Pool:
    """Clients sorted by joining time; pick one who had joined by an instant, by activity."""

    def __init__(self, clients: list[_Client]):
        self.clients = clients
        self.joined = [c.created_at for c in clients]
        self.cum = list(itertools.accumulate(c.activity for c in clients))

    def add(self, client: _Client) -> None:
        """Insert a client who joined during the fill, keeping the joining order (and the weights)."""
        k = bisect.bisect_right(self.joined, client.created_at)
        self.joined.insert(k, client.created_at)
        self.clients.insert(k, client)
        base = self.cum[k - 1] if k else 0.0
        self.cum[k:] = itertools.accumulate((c.activity for c in self.clients[k:]), initial=base)
        del self.cum[k]  # accumulate's initial value is the prefix, not an element

    def pick(self, rng: random.Random, by: datetime) -> _Client | None:
        k = bisect.bisect_right(self.joined, by)
        if not k:
            return None
        return self.clients[min(k - 1, bisect.bisect_right(self.cum, rng.uniform(0, self.cum[k - 1])))]


def _walk_in_activity(rng: random.Random) -> float:
    """How often a first-timer comes back for one-off visits (regulars from make_clients: ~1):
    about half never do, a third now and then, the rest become regulars."""
    r = rng.random()
    if r < WALK_IN_MIX[0]:
        return 0.01
    if r < WALK_IN_MIX[0] + WALK_IN_MIX[1]:
        return rng.uniform(0.1, 0.5)
    return rng.uniform(0.7, 1.6)


def _lead(rng: random.Random) -> timedelta:
    """How long before the visit a booking was made."""
    r = rng.random()
    if r < 0.2:
        return timedelta(hours=rng.uniform(3, 30))
    if r < 0.75:
        return timedelta(days=rng.uniform(1.5, 14))
    return timedelta(days=rng.uniform(14, 40))


# =========================================================================================
# writing it down
# =========================================================================================


def _seed_clinic(engine: Engine, owner_engine: Engine, spec: _ClinicSpec, slug: str, name: str,
                 today: date, now: datetime, report: _Reporter) -> int:
    t0 = _time.perf_counter()
    if _org_exists(owner_engine, slug):
        raise DemoSeedError(f"a clinic with slug {slug!r} already exists")
    report(f"creating clinic {slug}", 0.0)
    with Session(owner_engine) as owner:
        country = "GB" if spec.locations[0].country_prefix == "+44" else "US"  # the region of its phones
        org = create_organization(owner, slug, name, spec.currency, listed=True, country=country)  # listed: home page
        owner.commit()
        org_id = int(org.id)
    try:
        with tenant_session(org_id, engine) as session:
            counts = _fill_clinic(session, org_id, spec, slug, today, now, report)
            record(session, Actor.system(org_id, "demo seed"), "demo.seed", "organization", org_id, at=now,
                   today=today.isoformat(), seconds=round(_time.perf_counter() - t0, 2), **counts)
            session.commit()
    except BaseException:
        # nothing tenant-side was committed: remove the empty organisation again
        with Session(owner_engine) as owner:
            owner.execute(delete(Organization).where(Organization.id == org_id))
            owner.commit()
        raise
    # fresh statistics, so the first dashboards after seeding get sane query plans (the
    # row-level-security predicate hides org_id from the planner; without stats it guesses 1 row)
    report("analyzing tables", 0.995)
    with owner_engine.connect() as conn:
        conn.execute(text("analyze " + ", ".join(_ANALYZE_TABLES)))
        conn.commit()
    report(f"clinic {slug} ready", 1.0)
    return org_id


_ANALYZE_TABLES = ("client", "appointment", "occupancy", "payment", "refund", "ledger_entry", "service",
                   "service_provider", "staff_member", "working_hours", "resource", "location")


def _fill_clinic(session: Session, org_id: int, spec: _ClinicSpec, slug: str, today: date,
                 now: datetime, report: _Reporter) -> dict[str, int]:
    rng = random.Random(spec.seed)
    actor = Actor.system(org_id, "demo seed")
    cur = spec.currency

    # --- practice: locations, staff, hours, rooms, devices -----------------------------------
    report("locations and staff", 0.01)
    loc_ids: dict[str, int] = {}
    for loc in spec.locations:
        loc_ids[loc.key] = add_location(session, actor, loc.name, loc.time_zone, loc.cancellation_window_hours,
                                        loc.address, loc.phone).id
    staff_ids: dict[str, int] = {}
    for st in spec.staff:
        added = add_staff(session, actor, st.name, st.role, title=st.title, color=st.color)
        added.licence = D.KIND_LICENCE.get(st.kind, "")  # issue 18: who may treat and sign
        staff_ids[st.name] = added.id
        if st.kind == "md":  # the demo's medical director co-signs the nurses' injectable charts (/reviews)
            session.get(Organization, actor.org_id).medical_director_id = added.id
        per_loc: dict[str, dict[int, list[tuple[time, time]]]] = {}
        for wd, (loc, a, b) in st.hours.items():
            per_loc.setdefault(loc, {})[wd] = [(time.fromisoformat(a), time.fromisoformat(b))]
        for loc, weekly in per_loc.items():
            set_working_hours(session, actor, staff_ids[st.name], loc_ids[loc], weekly)
    room_ids: dict[tuple[str, str], list[int]] = {}
    for r in spec.resources:
        res = add_resource(session, actor, loc_ids[r.location], r.kind, r.name, r.resource_type)
        room_ids.setdefault((r.location, r.resource_type), []).append(res.id)
    provider_res = {
        sid: rid for sid, rid in session.execute(
            select(Resource.staff_id, Resource.id).where(Resource.kind == "provider"))
    }

    # --- service menu --------------------------------------------------------------------
    report("service menu", 0.03)
    kinds = {staff_ids[st.name]: st.kind for st in spec.staff if st.role == "provider"}
    svc_ids: dict[str, int] = {}
    for s in spec.services:
        svc_ids[s.key] = add_service(
            session, actor, category=s.category, name=s.name, description=s.description,
            duration_minutes=s.duration, price_cents=s.price_cents, deposit_cents=s.deposit_cents, currency=cur,
            buffer_before_minutes=s.before, buffer_after_minutes=s.after, room_type=s.room_type,
            device_type=s.device_type, min_notice_minutes=s.min_notice_minutes,
            provider_ids=sorted(sid for sid, k in kinds.items() if k in s.skills)).id

    # --- staff logins (argon2id) ---------------------------------------------------------
    report("staff logins", 0.05)
    hasher = PasswordHasher()
    user_ids: dict[str, int] = {}
    for u in spec.users:
        acct = UserAccount(org_id=org_id, email=f"{u.email_local}@{slug}.clinic",
                           password_hash=hasher.hash(f"{spec.password_prefix}-{u.password_role}-2026"),
                           role=u.role, staff_id=staff_ids[u.staff_name], display_name=u.staff_name,
                           created_at=now - timedelta(days=spec.scale.history_days + 30))
        if spec.pre_enrol_totp and u.role in REQUIRED_2FA_ROLES:
            # like accounts.confirm_totp_enrolment: a random base32 secret, encrypted at rest
            acct.totp_secret_enc = seal(pyotp.random_base32(), spec.totp_settings)
            acct.totp_confirmed_at = now - timedelta(days=30)
        session.add(acct)
        session.flush()
        user_ids[u.role] = int(acct.id)
    desk_user = user_ids.get("front_desk") or user_ids.get("owner")

    # --- clients and the schedule (in memory) ----------------------------------------------
    sched = _Schedule(rng, spec, staff_ids, provider_res, room_ids, now, spec.holidays)
    gen = _Generator(spec, sched, today, now, rng)
    report("clients", 0.08)
    gen.make_clients()
    gen.keep_free()  # before anything books the coming weeks
    gen.run_programs(_Reporter(report, 0.10, 0.30))
    gen.fill(_Reporter(report, 0.30, 0.45))
    gen.prior_visits()

    # --- ids, in booking order --------------------------------------------------------------
    clients = gen.clients
    for c, cid in zip(clients, _allocate_ids(session, "client", len(clients))):
        c.id = cid
    appts = sorted(gen.appts, key=lambda a: (a.created_at, a.start_at, a.start_min, a.staff_id))
    for ap, aid in zip(appts, _allocate_ids(session, "appointment", len(appts))):
        ap.id = aid

    client_rows = [{"id": c.id, "org_id": org_id, **c.row} for c in clients]
    _bulk(session, Client, client_rows, report, "clients", 0.45, 0.50)

    appt_rows, occ_rows = [], []
    codes = _display_codes(len(appts))
    locations = {key: session.get(Location, lid) for key, lid in loc_ids.items()}
    for ap in appts:
        booked = SimpleNamespace(price_cents=ap.svc.price_cents)  # the terms it is booked under, as every
        record_booked_rule(booked, locations[ap.loc])  # booking path records them (scheduling.policy)
        appt_rows.append({
            **vars(booked),
            "id": ap.id, "org_id": org_id, "display_code": codes.pop(), "booking_token": new_booking_token(),
            "location_id": loc_ids[ap.loc], "service_id": svc_ids[ap.svc.key], "provider_id": ap.staff_id,
            "client_id": ap.client.id, "start_at": ap.start_at, "end_at": ap.end_at, "status": ap.status,
            "hold_expires_at": None, "price_cents": ap.svc.price_cents, "deposit_cents": ap.svc.deposit_cents,
            "currency": cur, "source": ap.source, "notes": "",
            "rebooked_from_id": ap.rebooked_from.id if ap.rebooked_from else None,
            "created_at": ap.created_at,
            "created_by_user_id": desk_user if ap.source == "staff" else None,
            "confirmed_at": ap.created_at, "checked_in_at": ap.checked_in_at, "completed_at": ap.completed_at,
            "cancelled_at": ap.cancelled_at, "cancellation_late": ap.late,
        })
        during = Range(ap.start_at - timedelta(minutes=ap.svc.before),
                       ap.end_at + timedelta(minutes=ap.svc.after), bounds="[)")
        occ_status = "booked" if ap.live else "released"
        for rid in ap.resources:
            occ_rows.append({"org_id": org_id, "resource_id": rid, "appointment_id": ap.id, "during": during,
                             "status": occ_status, "kind": "appointment", "hold_expires_at": None, "note": ""})
    _bulk(session, Appointment, appt_rows, report, "appointments", 0.50, 0.68)
    _bulk(session, Occupancy, occ_rows, report, "calendar occupancy", 0.68, 0.86)

    # --- deposits, refunds, checkouts and the client ledger -----------------------------------
    # deposits at booking carry the test gateway's processing fee (2.9% + 30 c, card_fee_cents);
    # every completed visit was checked out at its completion (payments/checkout.py)
    paid = [ap for ap in appts if ap.svc.deposit_cents > 0]
    pay_ids = _allocate_ids(session, "payment", len(paid))
    refunded = [ap for ap in paid if ap.status == "cancelled" and not ap.late]
    refund_ids = dict(zip((ap.id for ap in refunded), _allocate_ids(session, "refund", len(refunded))))
    pay_rows, refund_rows, ledger_rows = [], [], []

    def ledger(ap: _Appt, kind: str, amount: int, at: datetime, pay: int | None, ref: int | None) -> None:
        ledger_rows.append({"org_id": org_id, "client_id": ap.client.id, "appointment_id": ap.id,
                            "payment_id": pay, "refund_id": ref, "entry_type": kind, "amount_cents": amount,
                            "currency": cur, "created_at": at})

    for ap, pid in zip(paid, pay_ids):
        dep = ap.svc.deposit_cents
        refund_id = refund_ids.get(ap.id)
        pay_rows.append({
            "id": pid, "org_id": org_id, "appointment_id": ap.id, "client_id": ap.client.id,
            "purpose": "deposit", "amount_cents": dep, "currency": cur,
            "status": "refunded" if refund_id else "succeeded", "gateway": "test",
            "gateway_payment_id": f"test_pi_{secrets.token_hex(12)}",
            "idempotency_key": f"deposit-{ap.id}-attempt-1", "failure_message": "",
            "card_last4": rng.choice(D.TEST_CARD_LAST4), "fee_cents": card_fee_cents(dep),
            "created_at": ap.created_at,
        })
        ledger(ap, "deposit_paid", dep, ap.created_at, pid, None)
        if refund_id:
            refund_rows.append({"id": refund_id, "org_id": org_id, "payment_id": pid, "amount_cents": dep,
                                "currency": cur, "reason": "cancelled outside the policy window",
                                "gateway_refund_id": f"test_re_{secrets.token_hex(12)}",
                                "created_at": ap.cancelled_at})
            ledger(ap, "deposit_refunded", -dep, ap.cancelled_at, pid, refund_id)
        elif ap.status == "cancelled":
            ledger(ap, "deposit_forfeited", 0, ap.cancelled_at, pid, None)
        elif ap.status == "no_show":
            ledger(ap, "deposit_forfeited", 0, min(now, ap.start_at + timedelta(minutes=20)), pid, None)
    _bulk(session, Payment, pay_rows, report, "deposits", 0.86, 0.91)
    _bulk(session, Refund, refund_rows, report, "refunds", 0.91, 0.93)
    _bulk(session, LedgerEntry, ledger_rows, report, "ledger", 0.93, 0.96)
    _seed_checkouts(session, org_id)
    seed_forms(session, org_id, now)  # issue 17: some of today's and tomorrow's visits have their forms done
    if "provider" in user_ids and "lab" in user_ids:  # a few tests in every status (issue 17)
        seed_orders(session, org_id, now, Actor(org_id, "provider", user_ids["provider"], label=_user_name(spec, "provider")),
                    Actor(org_id, "lab", user_ids["lab"], label=_user_name(spec, "lab")))
    seed_health(session, now)  # medical histories, so contraindication flags show (issue 17)
    if "provider" in user_ids and "owner" in user_ids:  # a product catalog with lots and an opened vial (issue 18)
        seed_products(session, now, Actor(org_id, "owner", user_ids["owner"], label=_user_name(spec, "owner")),
                      Actor(org_id, "provider", user_ids["provider"], label=_user_name(spec, "provider")))
    seed_charts(session, org_id, now)  # signed chart notes, so the dashboard's Charting card has figures (issue 18)
    if "owner" in user_ids:  # templates, texts from clients and a sent campaign (issue 19)
        seed_messages(session, org_id, now, Actor(org_id, "owner", user_ids["owner"], label=_user_name(spec, "owner")))
    report("checkouts and processing fees", 0.99)
    session.flush()
    return {"clients": len(clients), "appointments": len(appts), "occupancies": len(occ_rows),
            "payments": len(pay_rows), "refunds": len(refund_rows)}


def _user_name(spec: _ClinicSpec, role: str) -> str:
    return next(u.staff_name for u in spec.users if u.role == role)


def _seed_checkouts(session: Session, org_id: int) -> None:
    """Checkouts of the clinic's completed visits and every processing fee, generated in
    PostgreSQL (INSERT ... SELECT: no rows travel from Python; deterministic but for the fake
    gateway ids). Like payments/checkout.py at the visit's completion: a balance payment
    (price - deposit, key checkout-<id>-attempt-1) when the deposit does not cover the price,
    ledger lines sale (+price) and deposit_applied (-deposit); then a processing_fee line
    (-fee) for every payment with a fee. Fees: the test gateway's 2.9% + 30 cents, rounded
    half up (PostgreSQL's round(numeric) rounds halves away from zero: the same for cents > 0),
    as medspa.domain.payments.gateway.card_fee_cents."""
    p = {"org": org_id, "last4": list(D.TEST_CARD_LAST4), "n4": len(D.TEST_CARD_LAST4)}
    # the fresh rows have no statistics yet (ANALYZE runs after the commit): without this the
    # planner guesses one row and nests loops over every clinic's payments
    session.execute(text("set local enable_nestloop = off"))
    session.execute(text("""
        insert into payment (org_id, appointment_id, client_id, purpose, amount_cents, currency, status, gateway,
                             gateway_payment_id, idempotency_key, failure_message, card_last4, fee_cents, created_at)
        select a.org_id, a.id, a.client_id, 'balance', a.price_cents - a.deposit_cents, a.currency, 'succeeded',
               'test', 'test_pi_' || substr(md5(a.booking_token), 1, 24), 'checkout-' || a.id || '-attempt-1', '',
               (cast(:last4 as text[]))[1 + a.id % :n4], round((a.price_cents - a.deposit_cents) * 0.029) + 30,
               coalesce(a.completed_at, a.end_at)
        from appointment a
        where a.org_id = :org and a.status = 'completed' and a.price_cents > a.deposit_cents
        order by a.id"""), p)
    session.execute(text("""
        insert into ledger_entry (org_id, client_id, appointment_id, payment_id, entry_type, amount_cents, currency,
                                  created_at)
        select org_id, client_id, appointment_id, payment_id, entry_type, amount_cents, currency, created_at
        from (
            select a.org_id, a.client_id, a.id as appointment_id, b.id as payment_id, 'sale' as entry_type,
                   a.price_cents as amount_cents, a.currency, coalesce(a.completed_at, a.end_at) as created_at, 1 as k
            from appointment a
            left join payment b on b.appointment_id = a.id and b.purpose = 'balance'
            where a.org_id = :org and a.status = 'completed'
            union all
            select a.org_id, a.client_id, a.id, d.id, 'deposit_applied', -least(a.deposit_cents, a.price_cents),
                   a.currency, coalesce(a.completed_at, a.end_at), 2
            from appointment a join payment d on d.appointment_id = a.id and d.purpose = 'deposit'
            where a.org_id = :org and a.status = 'completed' and a.deposit_cents > 0
            union all
            select p.org_id, p.client_id, p.appointment_id, p.id, 'processing_fee', -p.fee_cents, p.currency,
                   p.created_at, 3
            from payment p where p.org_id = :org and p.fee_cents > 0
        ) lines
        order by created_at, appointment_id, k"""), p)
    session.execute(text("set local enable_nestloop = on"))


def _display_codes(n: int) -> list[str]:
    """n distinct random display codes (the clinic is new: none of them is taken yet)."""
    codes: set[str] = set()
    while len(codes) < n:
        codes.add(new_display_code())
    return list(codes)


def _allocate_ids(session: Session, table: str, n: int) -> list[int]:
    """n fresh ids from the table's sequence (so rows can reference each other before insert)."""
    if n <= 0:
        return []
    rows = session.execute(
        text("select nextval(pg_get_serial_sequence(:t, 'id')) from generate_series(1, :n)"),
        {"t": table, "n": n},
    ).scalars().all()
    return sorted(int(r) for r in rows)


def _bulk(session: Session, model, rows: list[dict], report: _Reporter, label: str, lo: float, hi: float) -> None:
    """Insert rows fast: one INSERT ... SELECT FROM unnest(column arrays) per batch.

    (COPY FROM is refused on tables with row-level security; row-by-row executemany is
    several times slower.) Ranges travel as text and are cast to their range type.
    """
    total = len(rows)
    if not total:
        report(f"{label} 100%", hi)
        return
    table = model.__table__
    cols = [c for c in table.columns if c.name in rows[0]]
    casts = [c.type.compile(dialect=session.get_bind().dialect) for c in cols]
    ranges = [isinstance(c.type, TSTZRANGE) for c in cols]
    sql = (f"insert into {table.name} ({', '.join(c.name for c in cols)}) select * from unnest("
           + ", ".join(f"%s::{cast}[]" for cast in casts) + ")")
    conn = session.connection()
    for i in range(0, total, BATCH):
        chunk = rows[i:i + BATCH]
        arrays = []
        for col, is_range in zip(cols, ranges):
            values = [r[col.name] for r in chunk]
            if is_range:
                values = [f"[{v.lower.isoformat()},{v.upper.isoformat()})" for v in values]
            arrays.append(values)
        conn.exec_driver_sql(sql, tuple(arrays))
        done = min(i + BATCH, total)
        report(f"{label} {100 * done // total}%", lo + (hi - lo) * done / total)
