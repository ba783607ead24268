"""A large synthetic clinic for performance work: `medspa seed --scale large` (issue 5, part 4).

"Lumière Group" (slug `large`): six locations in zones west and east of UTC (Los Angeles,
Denver, New York, London, Dubai, Sydney: northern, southern and no DST), twelve providers per
location (72) with weekly hours, one room per provider (plus the devices its services use),
the demo's service menu minus the services that need a shared device or room (a subset of
`medspa.demo.data.DEMO_SERVICES`), ~60,000 clients and ~3 years of history ending at an
injected `now` plus four weeks ahead: about 1,000,000 appointments with ~80% completed, ~8%
no-shows, ~11% cancellations (early and late by the location's window, with cancelled_at),
visits checked in at `now`, future confirmed ones, rebookings at checkout
(rebooked_from_id), the ledger as the app writes it (deposit_paid with its processing_fee,
deposit_refunded, deposit_forfeited; at checkout of each completed visit: sale,
deposit_applied and the balance payment's processing_fee), and occupancy rows for the
provider, the room and the device of every visit.

How it stays fast and correct:

* everything after the practice set-up is generated in PostgreSQL (INSERT ... SELECT over
  generate_series and temporary tables), in one tenant transaction of the app role
  (NOSUPERUSER NOBYPASSRLS: `app.org_id` is set, so row-level security checks every row),
  like `medspa.demo.seed` writes through `tenant_session`; only the organisation itself is
  created with the owner engine (the app role cannot add tenants). About 1-3 minutes for
  1,000,000 appointments on 2 cores.
* no two live occupancies of one resource can overlap, by construction: each provider works
  one fixed shift a day and owns its room and devices; the shift is cut into blocks by one
  of a few precomputed patterns (lengths 30-90 minutes), and a visit's occupancy
  [start - setup buffer, end + cleanup buffer) lies inside its block. A cancelled visit is an
  extra appointment in a block whose occupancies are 'released' (outside the constraint).
* deterministic for a given `now` and size: every random choice is
  `hashint8extended(key, stream)` of a block's key, not `random()`. Only booking tokens
  are random (gen_random_uuid: they must be unguessable); display codes are
  `medspa_display_code(id)` (migration 0021: distinct ids give distinct codes).

Visits are placed at local wall-clock times of each location and converted with
`(date + time) AT TIME ZONE zone` in SQL (DST-correct; shifts start at 09:00 or 10:00, far
from the 01:00-03:00 transitions).
"""

from __future__ import annotations

import math
import random
import time as _time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from sqlalchemy import create_engine, delete, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from medspa.domain.scheduling.policy import FEE_KINDS, fee_terms
from medspa.db import tenant_session
from medspa.demo import data as D
from medspa.domain.audit.service import record
from medspa.domain.catalog.service import add_service
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.models import UserAccount
from medspa.domain.practice.models import Organization, Resource
from medspa.domain.practice.service import add_location, add_resource, add_staff, create_organization, set_working_hours

UTC = timezone.utc
LARGE_SLUG = "large"
LARGE_NAME = "Lumière Group"
SEED = 20260501
FULL_APPOINTMENTS = 1_000_000

Progress = Callable[[str, float], None]


class LargeSeedError(RuntimeError):
    """The large clinic cannot be seeded (e.g. the slug is taken)."""


@dataclass(frozen=True)
class LargeLocation:
    key: str
    name: str
    time_zone: str
    cancellation_window_hours: int
    area_code: str


LOCATIONS = (
    LargeLocation("sm", "Lumière — Santa Monica", "America/Los_Angeles", 48, "310"),
    LargeLocation("den", "Lumière — Cherry Creek, Denver", "America/Denver", 24, "303"),
    LargeLocation("ny", "Lumière — SoHo, New York", "America/New_York", 24, "212"),
    LargeLocation("ldn", "Lumière — Mayfair, London", "Europe/London", 24, "207"),
    LargeLocation("dxb", "Lumière — Jumeirah, Dubai", "Asia/Dubai", 24, "415"),
    LargeLocation("syd", "Lumière — Double Bay, Sydney", "Australia/Sydney", 24, "612"),
)

# provider kinds per location (12), the room each owns and the devices it owns
KINDS_PER_LOCATION = ("md", "np", "np", "rn", "rn", "rn", "rn", "esth", "esth", "esth", "laser", "laser")
GROUP = {"md": "inj", "np": "inj", "rn": "inj", "esth": "esth", "laser": "laser"}
ROOM = {"inj": ("treatment_room", "Treatment Room"), "esth": ("facial_room", "Facial Room"),
        "laser": ("laser_suite", "Laser Suite")}
DEVICES = {"inj": (), "esth": (("hydrafacial", "HydraFacial Syndeo"),),
           "laser": (("laser_alexandrite", "GentleMax Pro"), ("ipl_bbl", "Sciton BBL HERO"))}
TITLES = {"md": "MD", "np": "NP, Nurse Practitioner", "rn": "RN, Nurse Injector",
          "esth": "Licensed Aesthetician", "laser": "Laser Technician"}
# services of the demo menu a provider can do alone with its own room and devices
MENU = ("botox20", "botox40", "dysport", "lipflip", "lipfill", "cheek", "tear", "jaw", "consult",
        "vi", "glyco", "jessner", "hf_sig", "hf_dlx", "hf_plat",
        "lhr_s", "lhr_m", "lhr_l", "bbl_face", "bbl_fn", "bbl_chest")
# block lengths (minutes) per group, with weights; every kind of the group has a service that fits each
BLOCKS = {"inj": {30: 2, 45: 6, 60: 2, 75: 1, 90: 0.3}, "esth": {45: 6, 60: 3, 75: 1},
          "laser": {30: 3, 45: 4, 60: 2, 75: 1}}
SHIFT_MINUTES = 660  # 11-hour shifts (09:00-20:00 or 10:00-21:00), 6 days a week
PATTERNS = 48

# shares (of blocks): booked, cancelled extra; of due visits: no-shows
PAST_FILL = (0.80, 0.92)  # three years ago -> yesterday (the group grows)
FUTURE_FILL = (0.85, 0.30)  # tomorrow -> last future day
CANCEL_SHARE = 0.11
LATE_SHARE = 0.3
NO_SHOW_SHARE = 0.09
REBOOK_SHARE = 0.45
TRAVEL_SHARE = 0.08  # visits at another location than the client's home
PRE_EXISTING = 0.35  # clients who were clients before the history starts


@dataclass(frozen=True)
class LargeSize:
    """How much to generate (derived from a target number of appointments by `size_for`)."""

    appointments: int
    providers_per_location: int
    history_days: int
    future_days: int
    clients: int


def size_for(appointments: int = FULL_APPOINTMENTS) -> LargeSize:
    """The size that yields about `appointments` appointments (within a few percent).

    Full size: 12 providers per location, ~3 years; small test sizes: 2 per location and as
    many days as needed (at least two weeks of history and a few days ahead)."""
    if appointments < 1000:
        raise ValueError("at least 1000 appointments")
    per_loc = 12 if appointments >= 200_000 else 2
    providers = per_loc * len(LOCATIONS)
    per_day = _mean_blocks() * (0.87 + CANCEL_SHARE)  # appointments per provider working day
    days = math.ceil(appointments / (per_day * providers * 6 / 7))
    future = min(28, max(3, days // 6))
    history = max(14, days - future)
    clients = max(60, round(appointments / 16.7))
    return LargeSize(appointments, per_loc, history, future, clients)


def _mean_blocks() -> float:
    pats = _patterns()
    by_group = {g: sum(len(p) for p in ps) / len(ps) for g, ps in pats.items()}
    kinds = KINDS_PER_LOCATION
    return sum(by_group[GROUP[k]] for k in kinds) / len(kinds)


def _patterns() -> dict[str, list[list[tuple[int, int]]]]:
    """Per group, PATTERNS ways to cut a shift into (offset, length) blocks (deterministic)."""
    rng = random.Random(SEED)
    out: dict[str, list[list[tuple[int, int]]]] = {}
    for grp, weights in BLOCKS.items():
        lengths, w = list(weights), list(weights.values())
        pats = []
        for _ in range(PATTERNS):
            blocks, t = [], 0
            lunch = rng.choice((180, 210, 240, 270))
            while True:
                if lunch and t >= lunch:
                    t += rng.choice((0, 15, 30))  # a short break, sometimes none
                    lunch = 0
                n = rng.choices(lengths, weights=w)[0]
                if t + n > SHIFT_MINUTES:
                    fits = [x for x in lengths if t + x <= SHIFT_MINUTES]
                    if not fits:
                        break
                    n = min(fits)
                blocks.append((t, n))
                t += n
            pats.append(blocks)
        out[grp] = pats
    return out


def _choices(services: dict[str, D.ServiceSpec]) -> list[tuple[str, str, int, int, str]]:
    """(group, kind, block length, bucket 0-99, service key): which service fills a block.

    A service fits a block when its setup + duration + cleanup is at most the block and more
    than the block minus 15 minutes; popular services (weight) get more buckets."""
    rows = []
    for kind, grp in GROUP.items():
        for length in BLOCKS[grp]:
            fits = [s for s in services.values() if kind in s.skills and s.room_type == ROOM[grp][0]
                    and (s.device_type is None or s.device_type in dict(DEVICES[grp]))
                    and length - 15 < s.before + s.duration + s.after <= length]
            if not fits:
                raise AssertionError(f"no service fits a {length}-minute block for {kind}")
            total = sum(s.weight for s in fits)
            acc, bucket = 0.0, 0
            for s in fits:
                acc += s.weight
                upto = round(100 * acc / total)
                for b in range(bucket, upto):
                    rows.append((grp, kind, length, b, s.key))
                bucket = upto
    return rows


def _ascii(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if c.isascii() and c.isalnum()).lower()


def _u(key: str, stream: int) -> str:
    """SQL: a uniform number in [0, 1) from the bigint `key` (deterministic, one per stream)."""
    return f"((hashint8extended(({key})::bigint, {SEED + stream}) & 2147483647)::float8 / 2147483648.0)"


def _resolve_now(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(UTC).replace(microsecond=0)


def large_exists(owner_engine: Engine, slug: str = LARGE_SLUG) -> bool:
    """True when a clinic with `slug` is in the database (owner engine: reads organisations)."""
    with Session(owner_engine) as s:
        return s.execute(select(Organization.id).where(Organization.slug == slug)).first() is not None


# =========================================================================================
# the entry point
# =========================================================================================


def seed_large(engine: Engine, owner_engine: Engine, *, now: datetime | None = None,
               appointments: int = FULL_APPOINTMENTS, slug: str = LARGE_SLUG, name: str = LARGE_NAME,
               progress: Progress | None = None) -> tuple[int, dict[str, int]]:
    """Create the large clinic; returns (organisation id, row counts by table).

    `now` (aware; default the real instant) ends the history; `appointments` is the target
    number of appointments (about 1,000,000 by default; tests pass a few thousand). Raises
    LargeSeedError when `slug` exists. Same `now` and size give the same rows (except the
    random booking tokens). Runs ANALYZE on the loaded tables at the end.
    """
    now = _resolve_now(now)
    size = size_for(appointments)
    say = progress or (lambda message, fraction: None)
    t0 = _time.perf_counter()
    if large_exists(owner_engine, slug):
        raise LargeSeedError(f"a clinic with slug {slug!r} already exists")
    with Session(owner_engine) as owner:
        org_id = int(create_organization(owner, slug, name, "USD", country="US").id)
        owner.commit()
    # a connection of its own: temp_buffers can only grow before the session's first temp table
    bulk = create_engine(engine.url, poolclass=NullPool)
    try:
        with tenant_session(org_id, bulk) as session:
            session.execute(text("set local temp_buffers = '1GB'"))
            session.execute(text("set local work_mem = '256MB'"))
            counts = _fill(session, org_id, slug, size, now, say)
            record(session, Actor.system(org_id, "large seed"), "demo.seed", "organization", org_id, at=now,
                   scale="large", seconds=round(_time.perf_counter() - t0, 1), **counts)
            say("committing", 0.97)
            session.commit()
    except BaseException:
        with Session(owner_engine) as owner:
            owner.execute(delete(Organization).where(Organization.id == org_id))
            owner.commit()
        raise
    finally:
        bulk.dispose()
    say("analyzing tables", 0.98)
    with owner_engine.connect() as conn:
        conn.execute(text("analyze client, appointment, occupancy, payment, refund, ledger_entry, service, "
                          "service_provider, staff_member, working_hours, resource, location"))
        conn.commit()
    say(f"clinic {slug} ready ({_time.perf_counter() - t0:.0f} s)", 1.0)
    return org_id, counts


# =========================================================================================
# practice set-up (domain services) and the generated history (SQL)
# =========================================================================================


def _fill(session: Session, org_id: int, slug: str, size: LargeSize, now: datetime,
          say: Progress) -> dict[str, int]:
    rng = random.Random(SEED)
    actor = Actor.system(org_id, "large seed")
    say("locations, staff, rooms and devices", 0.0)
    today = now.astimezone(ZoneInfo(LOCATIONS[0].time_zone)).date()
    first_day = today - timedelta(days=size.history_days)
    last_day = today + timedelta(days=size.future_days)

    owner = add_staff(session, actor, "Camille Laurent", "owner", title="Owner", color="#2f2a3a")
    manager = add_staff(session, actor, "Rachel Goldberg", "manager", title="Group Practice Manager")
    desk = add_staff(session, actor, "Tyler Nguyen", "front_desk", title="Front Desk Lead")
    hasher = PasswordHasher()
    desk_user = None
    for st, local, role in ((owner, "owner", "owner"), (manager, "manager", "manager"), (desk, "frontdesk", "front_desk")):
        acct = UserAccount(org_id=org_id, email=f"{local}@{slug}.clinic", role=role, staff_id=st.id,
                           password_hash=hasher.hash(f"large-{local}-2026"), display_name=st.display_name,
                           created_at=now - timedelta(days=size.history_days + 30))
        session.add(acct)
        session.flush()
        desk_user = acct.id if role == "front_desk" else desk_user

    services = {s.key: s for s in D.DEMO_SERVICES if s.key in MENU}
    provs: list[tuple] = []  # lg_prov rows
    kinds_by_staff: dict[int, str] = {}
    used_names: set[str] = set()
    for li, loc in enumerate(LOCATIONS):
        lrow = add_location(session, actor, loc.name, loc.time_zone, loc.cancellation_window_hours,
                            f"{loc.name.split('—')[-1].strip()}", f"+1{loc.area_code}5550100")
        assert not any(fee_terms(lrow, k).is_set for k in FEE_KINDS)  # the visits' booked fees below are 0
        kinds = KINDS_PER_LOCATION if size.providers_per_location == 12 else ("rn", "esth")
        for pi, kind in enumerate(kinds):
            while True:
                nm = f"{rng.choice(D.FIRST_NAMES_F)} {rng.choice(D.LAST_NAMES)}"
                if nm not in used_names:
                    used_names.add(nm)
                    break
            display = f"Dr. {nm}" if kind == "md" else nm
            st = add_staff(session, actor, display, "provider", title=TITLES[kind],
                           color=f"#{rng.randrange(0x404040, 0xc0c0c0):06x}")
            kinds_by_staff[st.id] = kind
            st.licence = D.KIND_LICENCE.get(kind, "")  # issue 18: who may treat and sign
            grp = GROUP[kind]
            start = time(9, 0) if pi % 2 == 0 else time(10, 0)
            end = time(start.hour + SHIFT_MINUTES // 60, SHIFT_MINUTES % 60)
            day_off = (pi + li) % 7
            set_working_hours(session, actor, st.id, lrow.id,
                              {wd: [(start, end)] for wd in range(7) if wd != day_off})
            rtype, rname = ROOM[grp]
            room = add_resource(session, actor, lrow.id, "room", f"{rname} {pi + 1}", rtype)
            devs = [add_resource(session, actor, lrow.id, "device", f"{dname} #{pi + 1}", dtype).id
                    for dtype, dname in DEVICES[grp]]
            provs.append((len(provs), st.id, lrow.id, li, loc.time_zone, loc.cancellation_window_hours, grp, kind,
                          start, day_off, room.id, devs[0] if devs else None, devs[1] if len(devs) > 1 else None))
    res_of = dict(session.execute(select(Resource.staff_id, Resource.id).where(Resource.kind == "provider")).all())

    say("service menu", 0.02)
    svc_rows = {}
    for key, s in services.items():
        svc = add_service(session, actor, category=s.category, name=s.name, description=s.description,
                          duration_minutes=s.duration, price_cents=s.price_cents, deposit_cents=s.deposit_cents,
                          currency="USD", buffer_before_minutes=s.before, buffer_after_minutes=s.after,
                          room_type=s.room_type, device_type=s.device_type, min_notice_minutes=s.min_notice_minutes,
                          provider_ids=sorted(sid for sid, k in kinds_by_staff.items() if k in s.skills))
        dev_slot = 0 if s.device_type is None else (1 if s.device_type in ("hydrafacial", "laser_alexandrite") else 2)
        svc_rows[key] = (svc.id, s.before, s.duration, s.after, s.price_cents, s.deposit_cents, dev_slot)
    session.flush()

    conn = session.connection()

    def run(sql: str, params: dict | None = None) -> int:
        return conn.execute(text(sql), params or {}).rowcount

    # --- small lookup tables -------------------------------------------------------------
    run("""create temp table lg_prov (prov_idx int, staff_id bigint, location_id bigint, loc_idx int, tz text,
             window_h int, grp text, kind text, shift_start time, day_off int, room_res bigint, dev1_res bigint,
             dev2_res bigint, provider_res bigint) on commit drop""")
    conn.execute(text("""insert into lg_prov values (:i, :sid, :lid, :li, :tz, :w, :g, :k, :st, :off, :room,
                         :d1, :d2, :pr)"""),
                 [dict(i=p[0], sid=p[1], lid=p[2], li=p[3], tz=p[4], w=p[5], g=p[6], k=p[7], st=p[8], off=p[9],
                       room=p[10], d1=p[11], d2=p[12], pr=res_of[p[1]]) for p in provs])
    run("create temp table lg_pattern (grp text, pat int, seq int, off_min int, len_min int) on commit drop")
    conn.execute(text("insert into lg_pattern values (:g, :p, :s, :o, :n)"),
                 [dict(g=g, p=pi, s=si, o=o, n=n) for g, pats in _patterns().items()
                  for pi, pat in enumerate(pats) for si, (o, n) in enumerate(pat)])
    run("""create temp table lg_choice (grp text, kind text, len_min int, bucket int, service_id bigint,
             before_min int, duration_min int, after_min int, price_cents int, deposit_cents int, dev_slot int)
           on commit drop""")
    conn.execute(text("insert into lg_choice values (:g, :k, :n, :b, :sid, :bef, :dur, :aft, :pr, :dep, :dev)"),
                 [dict(g=g, k=k, n=n, b=b, sid=svc_rows[key][0], bef=svc_rows[key][1], dur=svc_rows[key][2],
                       aft=svc_rows[key][3], pr=svc_rows[key][4], dep=svc_rows[key][5], dev=svc_rows[key][6])
                  for g, k, n, b, key in _choices(services)])

    # --- clients ---------------------------------------------------------------------------
    say(f"{size.clients:,} clients", 0.04)
    pool = size.clients // len(LOCATIONS)
    pre = int(pool * PRE_EXISTING)
    hist_start = datetime.combine(first_day, time(0), ZoneInfo(LOCATIONS[0].time_zone)).astimezone(UTC)
    p = {"org": org_id, "now": now, "hs": hist_start, "pool": pool, "pre": pre, "nloc": len(LOCATIONS),
         "today": today, "first_day": first_day, "last_day": last_day,
         "hist": max(size.history_days, 1), "fut": max(size.future_days, 1)}
    firsts = list(D.FIRST_NAMES_F) * 7 + list(D.FIRST_NAMES_M)  # mostly, not only, women
    run("""create temp table lg_client on commit drop as
           select k, nextval('client_id_seq') as id, k / cast(:pool as bigint) as home,
                  case when k % cast(:pool as bigint) < cast(:pre as bigint)
                       then :hs - make_interval(days => 45 + (hashint8extended(k, 7) & 1023)::int)
                       else :hs + (:now - :hs) * ((k % cast(:pool as bigint) - cast(:pre as bigint))::float8 / greatest(cast(:pool as bigint) - cast(:pre as bigint), 1))
                            - interval '45 days' end as created_at
           from generate_series(0, cast(:pool as bigint) * cast(:nloc as bigint) - 1) as k""", p)
    n_clients = run(f"""
        insert into client (id, org_id, first_name, last_name, date_of_birth, email, phone_e164,
                            email_marketing_consent, sms_marketing_consent, created_at)
        select c.id, :org, f.name, l.name,
               date '2005-01-01' - make_interval(years => floor({_u('c.k', 11)} * 50)::int,
                                                 days => floor({_u('c.k', 12)} * 364)::int),
               f.ascii || '.' || l.ascii || '.' || c.k || '@' || (case when c.k % 3 = 2 then 'example.org'
                                                                      else 'example.com' end),
               case when {_u('c.k', 13)} < 0.9
                    then '+1' || (cast(:areas as text[]))[c.home + 1] || '55501' || lpad((c.k % 100)::text, 2, '0') end,
               {_u('c.k', 14)} < 0.62, {_u('c.k', 15)} < 0.5, c.created_at
        from lg_client c
        cross join lateral (select (cast(:fn as text[]))[1 + ((hashint8extended(c.k, 16) & 1048575) % cast(:nfn as bigint))::int] as name,
                                   (cast(:fa as text[]))[1 + ((hashint8extended(c.k, 16) & 1048575) % cast(:nfn as bigint))::int] as ascii) f
        cross join lateral (select (cast(:ln as text[]))[1 + ((hashint8extended(c.k, 17) & 1048575) % cast(:nln as bigint))::int] as name,
                                   (cast(:la as text[]))[1 + ((hashint8extended(c.k, 17) & 1048575) % cast(:nln as bigint))::int] as ascii) l""",
                    {**p, "areas": [loc.area_code for loc in LOCATIONS], "fn": firsts, "fa": [_ascii(x) for x in firsts],
                     "nfn": len(firsts), "ln": list(D.LAST_NAMES), "la": [_ascii(x) for x in D.LAST_NAMES],
                     "nln": len(D.LAST_NAMES)})
    run("create index on lg_client (k)")

    # --- the blocks of every provider's working days ----------------------------------------
    say("schedule blocks", 0.08)
    run(f"""
        create temp table lg_block on commit drop as
        select p.*, d.day, ((p.prov_idx::bigint * 100000 + (d.day - :first_day)) * 64 + t.seq) as bid,
               ((d.day + p.shift_start + make_interval(mins => t.off_min)) at time zone p.tz) as block_start,
               t.len_min
        from lg_prov p
        cross join lateral (select g::date as day
                            from generate_series(cast(:first_day as timestamp), cast(:last_day as timestamp),
                                                 interval '1 day') as g) d
        join lg_pattern t on t.grp = p.grp
         and t.pat = (hashint8extended(p.prov_idx::bigint * 100000 + (d.day - :first_day), 1) & 1048575) % {PATTERNS}
        where extract(isodow from d.day) - 1 <> p.day_off
          and to_char(d.day, 'MM-DD') not in ('01-01', '12-25')""", p)

    # --- appointments: which blocks are booked or cancelled, by whom, what and when ---------
    say("appointments (planning)", 0.12)
    fill = (f"case when b.day < :today then {PAST_FILL[0]} + {PAST_FILL[1] - PAST_FILL[0]} * (b.day - :first_day)::float8 / cast(:hist as bigint)"
            f" else {FUTURE_FILL[0]} - {FUTURE_FILL[0] - FUTURE_FILL[1]} * (b.day - :today)::float8 / cast(:fut as bigint) end")
    run(f"""
        create temp table lg_a0 on commit drop as
        with v as (
            select b.*, v.variant, b.bid * 2 + v.variant as key
            from lg_block b cross join (values (0), (1)) as v(variant)
            where case when v.variant = 0 then {_u('b.bid * 2', 1)} < {fill}
                       else {_u('b.bid * 2 + 1', 1)} < {CANCEL_SHARE} end),
        s as (
            select v.*, c.service_id, c.before_min, c.duration_min, c.after_min, c.price_cents, c.deposit_cents,
                   c.dev_slot,
                   v.block_start + make_interval(mins => c.before_min) as start_at,
                   v.block_start + make_interval(mins => c.before_min + c.duration_min) as end_at
            from v join lg_choice c on c.grp = v.grp and c.kind = v.kind and c.len_min = v.len_min
             and c.bucket = floor({_u('v.key', 2)} * 100)::int),
        w as (
            select s.*,
                   (s.loc_idx + case when {_u('s.key', 3)} < {TRAVEL_SHARE}
                                     then 1 + floor({_u('s.key', 4)} * (cast(:nloc as bigint) - 1))::int else 0 end) % cast(:nloc as bigint) as pool_idx,
                   case when {_u('s.key', 6)} < 0.2 then 3 + 27 * {_u('s.key', 7)}
                        when {_u('s.key', 6)} < 0.75 then 36 + 300 * {_u('s.key', 7)}
                        else 336 + 600 * {_u('s.key', 7)} end as lead_hours
            from s),
        x as (
            select w.*,
                   w.pool_idx * cast(:pool as bigint) + least(cast(:pool as bigint) - 1, floor({_u('w.key', 5)} * greatest(1, cast(:pre as bigint) + (cast(:pool as bigint) - cast(:pre as bigint))
                       * least(1.0, greatest(0.0, extract(epoch from w.start_at - :hs)::float8
                                                  / extract(epoch from :now - :hs)::float8)))))::int as client_k,
                   least(w.start_at - make_interval(secs => w.lead_hours * 3600),
                         w.start_at - interval '30 minutes',
                         :now - make_interval(mins => 5 + floor(4000 * {_u('w.key', 8)})::int)) as created0
            from w)
        select x.*, lc.id as client_id,
               case when x.variant = 1 then 'cancelled'
                    when x.end_at <= :now then case when {_u('x.key', 9)} < {NO_SHOW_SHARE}
                                                    then 'no_show' else 'completed' end
                    when x.start_at <= :now then 'checked_in'
                    else 'confirmed' end as status,
               case when {_u('x.key', 10)} < 0.55 then 'online' else 'staff' end as source0
        from x join lg_client lc on lc.k = x.client_k""", p)

    say("appointments (ids, cancellations, rebookings)", 0.22)
    run(f"""
        create temp table lg_a1 on commit drop as
        select nextval('appointment_id_seq') as id, a.*,
               case when a.variant = 1 then
                 greatest(a.created0 + interval '1 minute',
                          least(:now - make_interval(mins => 1 + floor(600 * {_u('a.key', 16)})::int),
                                case when r.late_lo is not null
                                     then r.late_lo + greatest(interval '0', a.start_at - interval '1 hour' - r.late_lo)
                                                    * {_u('a.key', 12)}
                                     else q.e + (q.early_hi - q.e) * {_u('a.key', 12)} end))
               end as cancelled_at,
               case when a.status in ('completed', 'no_show', 'checked_in')
                    then greatest(a.created0, a.start_at - make_interval(mins => floor(16 * {_u('a.key', 13)})::int))
               end as checked_in0,
               case when a.status = 'completed'
                    then least(:now, a.end_at + make_interval(mins => floor(13 * {_u('a.key', 14)})::int))
               end as completed_at
        from lg_a0 a
        cross join lateral (select a.created0 + interval '20 minutes' as e,
                                   a.start_at - make_interval(hours => a.window_h) - interval '1 hour' as early_hi) as q
        cross join lateral (select case when {_u('a.key', 11)} < {LATE_SHARE} or q.early_hi <= q.e
                                        then greatest(q.e, a.start_at - make_interval(hours => a.window_h)
                                                           + interval '30 minutes') end as late_lo) as r""", p)
    run("""
        create temp table lg_appt on commit drop as
        with q as (
            select a.*,
                   lag(a.id) over w as prev_id, lag(a.status) over w as prev_status,
                   lag(a.completed_at) over w as prev_completed_at
            from lg_a1 a window w as (partition by a.client_id order by a.start_at, a.id))
        select q.*,
               (q.variant = 0 and q.prev_status = 'completed' and q.prev_completed_at <= q.start_at - interval '1 day'
                and q.start_at - q.prev_completed_at <= interval '150 days'
                and """ + _u("q.key", 15) + f""" < {REBOOK_SHARE}) as rebooked
        from q""")
    run("""
        alter table lg_appt add column created_at timestamptz, add column source text,
                            add column rebooked_from_id bigint, add column cancellation_late boolean,
                            add column checked_in_at timestamptz""")
    run("""
        update lg_appt set
          created_at = case when rebooked then prev_completed_at else created0 end,
          source = case when rebooked then 'staff' else source0 end,
          rebooked_from_id = case when rebooked then prev_id end,
          checked_in_at = case when rebooked then greatest(checked_in0, prev_completed_at) else checked_in0 end,
          cancellation_late = case when variant = 1 then start_at - cancelled_at < make_interval(hours => window_h) end""")

    say("appointments (writing)", 0.30)
    n_appts = run("""
        insert into appointment (id, org_id, display_code, booking_token, location_id, service_id, provider_id, client_id, start_at,
                                 end_at, status, hold_expires_at, price_cents, deposit_cents, currency, source, notes,
                                 rebooked_from_id, created_at, created_by_user_id, confirmed_at, checked_in_at,
                                 completed_at, cancelled_at, cancellation_late, booked_window_hours,
                                 booked_late_keeps_deposit, booked_late_cancel_fee_cents, booked_no_show_fee_cents)
        select a.id, :org, medspa_display_code(a.id),
               left(replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''), 40),
               a.location_id, a.service_id, a.staff_id, a.client_id, a.start_at, a.end_at, a.status, null,
               a.price_cents, a.deposit_cents, 'USD', a.source, '', a.rebooked_from_id, a.created_at,
               case when a.source = 'staff' then cast(:desk as bigint) end, a.created_at, a.checked_in_at,
               a.completed_at, a.cancelled_at, a.cancellation_late,
               -- the terms each visit is booked under (scheduling.policy.record_booked_rule): the
               -- location's rule; its fees are none when the demo seeds (checked above), so 0
               l.cancellation_window_hours, l.late_cancel_keeps_deposit, 0, 0
        from lg_appt a join location l on l.id = a.location_id order by a.start_at""", {**p, "desk": desk_user})

    say("calendar occupancy (provider, room, device)", 0.55)
    n_occ = run("""
        insert into occupancy (org_id, resource_id, appointment_id, during, status, kind, hold_expires_at, note)
        select :org, r.res, a.id,
               tstzrange(a.start_at - make_interval(mins => a.before_min),
                         a.end_at + make_interval(mins => a.after_min), '[)'),
               case when a.status = 'cancelled' then 'released' else 'booked' end, 'appointment', null, ''
        from lg_appt a
        cross join lateral (values (a.provider_res), (a.room_res),
                                   (case a.dev_slot when 1 then a.dev1_res when 2 then a.dev2_res end)) as r(res)
        where r.res is not null
        order by a.start_at""", p)

    say("deposits, refunds and the ledger", 0.80)
    run("""
        create temp table lg_pay on commit drop as
        select a.id as appt_id, a.client_id, a.deposit_cents, a.created_at, a.cancelled_at, a.status,
               a.cancellation_late, a.start_at, a.key, a.price_cents, a.completed_at,
               round(a.deposit_cents * 0.029)::int + 30 as fee, nextval('payment_id_seq') as pay_id,
               case when a.status = 'cancelled' and not a.cancellation_late then nextval('refund_id_seq') end as refund_id
        from lg_appt a where a.deposit_cents > 0""")
    run("""
        create temp table lg_bal on commit drop as
        select a.id as appt_id, a.client_id, a.key, a.completed_at, a.price_cents - a.deposit_cents as balance_cents,
               round((a.price_cents - a.deposit_cents) * 0.029)::int + 30 as fee, nextval('payment_id_seq') as pay_id
        from lg_appt a where a.status = 'completed' and a.price_cents > a.deposit_cents""")
    n_pay = run("""
        insert into payment (id, org_id, appointment_id, client_id, purpose, amount_cents, currency, status, gateway,
                             gateway_payment_id, idempotency_key, failure_message, card_last4, created_at, fee_cents)
        select pay_id, :org, appt_id, client_id, 'deposit', deposit_cents, 'USD',
               case when refund_id is null then 'succeeded' else 'refunded' end, 'test',
               'test_pi_' || left(md5(:org || '-' || appt_id), 24), 'deposit-' || appt_id || '-attempt-1', '',
               (cast(:last4 as text[]))[1 + (key % cast(:n4 as bigint))::int], created_at, fee
        from lg_pay
        union all
        select pay_id, :org, appt_id, client_id, 'balance', balance_cents, 'USD', 'succeeded', 'test',
               'test_pi_' || left(md5(:org || '-b-' || appt_id), 24), 'checkout-' || appt_id || '-attempt-1', '',
               (cast(:last4 as text[]))[1 + (key % cast(:n4 as bigint))::int], completed_at, fee
        from lg_bal""", {**p, "last4": list(D.TEST_CARD_LAST4), "n4": len(D.TEST_CARD_LAST4)})
    n_ref = run("""
        insert into refund (id, org_id, payment_id, amount_cents, currency, reason, gateway_refund_id, created_at)
        select refund_id, :org, pay_id, deposit_cents, 'USD', 'cancelled outside the policy window',
               'test_re_' || left(md5(:org || '-r-' || appt_id), 24), cancelled_at
        from lg_pay where refund_id is not null""", p)
    n_led = run("""
        insert into ledger_entry (org_id, client_id, appointment_id, payment_id, refund_id, entry_type, amount_cents,
                                  currency, created_at)
        select :org, client_id, appt_id, pay_id, null, 'deposit_paid', deposit_cents, 'USD', created_at from lg_pay
        union all
        select :org, client_id, appt_id, pay_id, refund_id, 'deposit_refunded', -deposit_cents, 'USD', cancelled_at
        from lg_pay where refund_id is not null
        union all
        select :org, client_id, appt_id, pay_id, null, 'deposit_forfeited', 0, 'USD',
               case when status = 'cancelled' then cancelled_at
                    else least(:now, start_at + interval '20 minutes') end
        from lg_pay where (status = 'cancelled' and cancellation_late) or status = 'no_show'
        union all
        select :org, client_id, appt_id, pay_id, null, 'processing_fee', -fee, 'USD', created_at from lg_pay
        union all  -- checkout of a completed visit: the sale, the deposit it absorbs, the balance's fee
        select :org, a.client_id, a.id, b.pay_id, null, 'sale', a.price_cents, 'USD', a.completed_at
        from lg_appt a left join lg_bal b on b.appt_id = a.id where a.status = 'completed' and a.price_cents > 0
        union all
        select :org, client_id, appt_id, pay_id, null, 'deposit_applied', -deposit_cents, 'USD', completed_at
        from lg_pay where status = 'completed'
        union all
        select :org, client_id, appt_id, pay_id, null, 'processing_fee', -fee, 'USD', completed_at from lg_bal""", p)
    session.flush()
    say("done writing", 0.95)
    return {"locations": len(LOCATIONS), "providers": len(provs), "clients": n_clients, "appointments": n_appts,
            "occupancies": n_occ, "payments": n_pay, "refunds": n_ref, "ledger_entries": n_led,
            "history_days": size.history_days, "future_days": size.future_days}
