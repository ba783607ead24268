"""Owners' analytics: each figure defined once here (source: acceptance case RP-1, issue 5).

Every report takes (session, actor, *, start, end, location_id, now): `start` and `end` are
local dates, both inclusive; `location_id` None means every location of the clinic. It needs
`report.read` (owner and manager). Aggregation happens in PostgreSQL (GROUP BY); Python never
loops over all rows. Row-level security keeps each clinic to its own rows.

Days and months are cut at each location's local midnight: a visit belongs to the local date
`(appointment.start_at AT TIME ZONE location.time_zone)::date` of its location; a payment or
refund to the local date of its ledger entry's `created_at` at the visit's location.

Each report returns a small frozen dataclass with the figure, and a `*_rows` function returns
the rows behind it (appointment ids, client ids or ledger entry ids) so a dashboard can open
the figure to its list; the figure always equals the count (or sum) of those rows.

Definitions
- No-show rate = no-shows / visits that were due (completed + no-shows). Cancelled, held,
  expired, confirmed and checked-in visits are not counted.
- Cancellations = appointments with status cancelled whose visit falls in the range; late =
  those cancelled inside the location's cancellation window (appointment.cancellation_late,
  set at cancellation time from location.cancellation_window_hours).
- Utilization per provider: available minutes = the provider's working hours at the
  location(s) on each local day of the range (wall-clock hours converted through the zone, so
  a 23- or 25-hour day counts the real minutes; blocks/time off are not subtracted); booked
  minutes = service minutes (start_at..end_at, buffers excluded) of appointments confirmed,
  checked in, completed or no-show; attended minutes = those of completed appointments.
  Booked utilization = booked / available; attended utilization = attended / available.
- Utilization per room or device (resource kind room/device, at its resource.location_id):
  available minutes = the minutes its location is open on each local day of the range, where
  open = from the earliest start to the latest end of any staff member's working hours at
  that location that weekday (converted through the zone like the provider figure, so a DST
  day counts its real minutes; gaps between shifts are not subtracted); booked / attended
  minutes = the service minutes of the visits (same statuses as providers) that have an
  occupancy row (kind appointment, any occupancy status, counted once) on that resource. A
  visit using a provider and a room counts for each (RP-1). Inactive resources are listed only
  when they have booked minutes in the range. The booked / attended minutes are sums over
  resource_daily (per resource, local day, visit location and status: the distinct
  (resource, visit) pairs' count and service seconds, migration 0059, kept exact by triggers
  on occupancy and appointment), so a year of a clinic's rooms is ~40k rows read by the
  primary key instead of every visit joined to its occupancy rows.
- Rebooking rate = completed visits in the range after which the same client booked a later
  visit (any status but held/expired, starting after this visit, booked at or after this
  visit's start and within N days (default 90) of its end), / completed visits in the range.
  A visit booked before this one began (a series booked ahead) does not count: it says
  nothing about whether this visit brought the client back. "Before leaving" = the later visit
  has appointment.rebooked_from_id = this visit, or was created on the visit's local day at
  or after its start.
- New clients = clients whose first completed visit at the clinic (any location) falls in the
  range (and at the chosen location when one is given).
- Revenue (integer cents, from ledger_entry joined to its appointment): deposits = sum of
  deposit_paid entries; refunds = minus the sum of entries that return money (negative
  amounts: deposit_refunded, charge_voided); net = deposits - refunds. Today the system takes
  only deposits (no checkout/sales yet), so revenue = deposits kept; a deposit that becomes
  part of a sale must, once sales exist, be counted once (the sale nets its applied deposit).
  Entries without an appointment have no location and are not in these figures.

Where the figures are read (issue 20): no-shows, cancellations and the providers' booked and
attended minutes are sums over visit_daily (common._DAY_VISITS), and the rebooking figure
(default 90-day window) a count over visit_rebooking; both tables are kept exact by triggers
on appointment (migration 0054, whose docstring states what each row holds), so a year is a
few thousand rows, not every visit. Rooms' and devices' booked and attended minutes are sums
over resource_daily (migration 0059, triggers on occupancy and appointment). The drill-downs
(*_rows) list the visits from appointment (and occupancy), and rebooking with another window
computes the flags from appointment (_rebooking_sql): the same definitions, checked equal by
tests/test_visit_daily.py and tests/test_resource_daily.py (whose oracle is the join to
occupancy these figures ran before 0059).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlmodel import Session

from medspa.domain.identity.actor import Actor

from medspa.domain.analytics.common import (  # noqa: F401  (re-exported for callers)
    BOOKED_STATUSES, DUE_STATUSES, PERMISSION, _DAY_MINUTES, _DAY_VISITS, _LOCAL_DAY, _VISITS, _params, _ratio)
from medspa.domain.analytics.definitions import DEFINITIONS  # noqa: F401
from medspa.domain.analytics.revenue import (  # noqa: F401
    REVENUE_GROUPS, RevenueLine, revenue, revenue_rows)


REBOOKING_WINDOW_DAYS = 90  # "rebooked within N days" when the caller gives no N (module docstring)


@dataclass(frozen=True)
class NoShowRate:
    """No-shows and visits that were due (completed + no-shows) in the range; rate = no_shows / due."""

    no_shows: int
    due: int  # completed + no-shows

    @property
    def rate(self) -> float | None:
        return _ratio(self.no_shows, self.due)


def no_show_rate(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                 now: datetime) -> NoShowRate:
    """No-shows / (completed + no-shows) of visits on local days start..end (module docstring)."""
    actor.require(PERMISSION)
    row = session.execute(text(f"""   -- the visits' counts per local day (common._DAY_VISITS)
        SELECT coalesce(sum(d.visits) FILTER (WHERE d.status = 'no_show'), 0), coalesce(sum(d.visits), 0)
        {_DAY_VISITS} AND d.status IN ('completed', 'no_show')"""), _params(start, end, location_id)).one()
    return NoShowRate(no_shows=int(row[0]), due=int(row[1]))


def no_show_rows(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                 now: datetime, no_shows_only: bool = False) -> list[tuple[int, str]]:
    """(appointment id, status) of the visits that were due (or only the no-shows)."""
    actor.require(PERMISSION)
    statuses = "('no_show')" if no_shows_only else "('completed', 'no_show')"
    return [tuple(r) for r in session.execute(text(f"""
        SELECT a.id, a.status {_VISITS} AND a.status IN {statuses} ORDER BY a.start_at, a.id"""),
        _params(start, end, location_id)).all()]


@dataclass(frozen=True)
class Cancellations:
    """Cancelled visits in the range; late = inside the location's window, early = the rest."""

    count: int
    late: int

    @property
    def early(self) -> int:
        return self.count - self.late


def cancellations(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                  now: datetime) -> Cancellations:
    """Cancelled visits on local days start..end; late = inside the location's window."""
    actor.require(PERMISSION)
    row = session.execute(text(f"""   -- the visits' counts per local day (common._DAY_VISITS)
        SELECT coalesce(sum(d.visits), 0), coalesce(sum(d.late), 0) {_DAY_VISITS} AND d.status = 'cancelled'"""),
        _params(start, end, location_id)).one()
    return Cancellations(count=int(row[0]), late=int(row[1]))


def cancellation_rows(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                      now: datetime, late_only: bool = False) -> list[tuple[int, bool]]:
    """(appointment id, late) of the cancellations (or only the late ones)."""
    actor.require(PERMISSION)
    extra = " AND a.cancellation_late" if late_only else ""
    return [(r[0], bool(r[1])) for r in session.execute(text(f"""
        SELECT a.id, a.cancellation_late {_VISITS} AND a.status = 'cancelled'{extra} ORDER BY a.start_at, a.id"""),
        _params(start, end, location_id)).all()]


class _UtilizationRatios:
    """booked / attended utilization of a row with available, booked and attended minutes."""

    available_minutes: int
    booked_minutes: int
    attended_minutes: int

    @property
    def booked(self) -> float | None:
        return _ratio(self.booked_minutes, self.available_minutes)

    @property
    def attended(self) -> float | None:
        return _ratio(self.attended_minutes, self.available_minutes)


@dataclass(frozen=True)
class ProviderUtilization(_UtilizationRatios):
    """One provider's available, booked and attended minutes over the range (module docstring)."""

    provider_id: int
    available_minutes: int
    booked_minutes: int
    attended_minutes: int


def utilization(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                now: datetime) -> list[ProviderUtilization]:
    """Per provider: available, booked and attended minutes (module docstring), by provider id."""
    actor.require(PERMISSION)
    rows = session.execute(text(f"""
        WITH avail AS (
            SELECT w.staff_id, sum(EXTRACT(EPOCH FROM
                       ((d.day + w.end_time) AT TIME ZONE l.time_zone)
                     - ((d.day + w.start_time) AT TIME ZONE l.time_zone)) / 60)::bigint AS minutes
            FROM (SELECT CAST(g AS date) AS day   -- local calendar dates: date + time is wall-clock
                  FROM generate_series(CAST(:start AS timestamp), CAST(:end AS timestamp), interval '1 day') AS g) AS d
            JOIN working_hours w ON w.weekday = EXTRACT(ISODOW FROM d.day) - 1
            JOIN location l ON l.id = w.location_id
            WHERE (CAST(:loc AS bigint) IS NULL OR w.location_id = CAST(:loc AS bigint))
            GROUP BY w.staff_id),
        used AS (             -- the visits' seconds per local day and provider (common._DAY_VISITS)
            SELECT d.provider_id AS staff_id, {_DAY_MINUTES}::bigint AS booked,
                   coalesce(sum(d.seconds) FILTER (WHERE d.status = 'completed')::numeric / 60, 0)::bigint
                       AS attended
            {_DAY_VISITS} AND d.status IN ('confirmed', 'checked_in', 'completed', 'no_show')
            GROUP BY d.provider_id)
        SELECT coalesce(avail.staff_id, used.staff_id), coalesce(avail.minutes, 0),
               coalesce(used.booked, 0), coalesce(used.attended, 0)
        FROM avail FULL JOIN used ON used.staff_id = avail.staff_id
        ORDER BY 1"""), _params(start, end, location_id)).all()
    return [ProviderUtilization(*map(int, r)) for r in rows]


def utilization_rows(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                     now: datetime, provider_id: int, attended_only: bool = False) -> list[tuple[int, int]]:
    """(appointment id, minutes) behind a provider's booked (or attended) minutes."""
    actor.require(PERMISSION)
    statuses = "('completed')" if attended_only else "('confirmed', 'checked_in', 'completed', 'no_show')"
    return [(r[0], int(r[1])) for r in session.execute(text(f"""
        SELECT a.id, (EXTRACT(EPOCH FROM a.end_at - a.start_at) / 60)::bigint {_VISITS}
          AND a.provider_id = :provider AND a.status IN {statuses} ORDER BY a.start_at, a.id"""),
        _params(start, end, location_id, provider=provider_id)).all()]


RESOURCE_KINDS = ("room", "device")
_BOOKED_IN = "('confirmed', 'checked_in', 'completed', 'no_show')"
_MINUTES = "(EXTRACT(EPOCH FROM a.end_at - a.start_at) / 60)::bigint"


@dataclass(frozen=True)
class ResourceUtilization(_UtilizationRatios):
    """Minutes of one room or device over the range (module docstring, "Utilization per room").

    kind is "room" or "device"; the ratios are None when the location was never open.
    """

    resource_id: int
    name: str
    kind: str
    available_minutes: int
    booked_minutes: int
    attended_minutes: int
    location: str = ""  # the name of the resource's location (two rooms "Room 1" may be at two)


def resource_utilization(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                         now: datetime, kind: str) -> list[ResourceUtilization]:
    """Per room (kind "room") or device (kind "device") of the location(s): available, booked
    and attended minutes on local days start..end, ordered by name (module docstring).

    Raises ValueError for another kind or end < start; PermissionDenied without report.read.
    """
    actor.require(PERMISSION)
    if kind not in RESOURCE_KINDS:
        raise ValueError(f"kind must be one of {RESOURCE_KINDS}")
    rows = session.execute(text(f"""
        WITH open_days AS (   -- per location and local day: earliest start .. latest end of anyone's hours
            SELECT w.location_id, d.day, min(w.start_time) AS opens, max(w.end_time) AS closes
            FROM (SELECT CAST(g AS date) AS day
                  FROM generate_series(CAST(:start AS timestamp), CAST(:end AS timestamp), interval '1 day') AS g) AS d
            JOIN working_hours w ON w.weekday = EXTRACT(ISODOW FROM d.day) - 1
            WHERE (CAST(:loc AS bigint) IS NULL OR w.location_id = CAST(:loc AS bigint))
            GROUP BY w.location_id, d.day),
        avail AS (
            SELECT o.location_id, sum(EXTRACT(EPOCH FROM
                       ((o.day + o.closes) AT TIME ZONE l.time_zone)
                     - ((o.day + o.opens) AT TIME ZONE l.time_zone)) / 60)::bigint AS minutes
            FROM open_days o JOIN location l ON l.id = o.location_id
            GROUP BY o.location_id),
        used AS (     -- the (resource, visit) pairs' seconds per local day (resource_daily, migration 0059)
            SELECT d.resource_id, {_DAY_MINUTES}::bigint AS booked,
                   coalesce(sum(d.seconds) FILTER (WHERE d.status = 'completed')::numeric / 60, 0)::bigint
                       AS attended
            FROM resource_daily d
            WHERE d.resource_id = ANY (ARRAY(
                      SELECT r.id FROM resource r WHERE r.kind = :kind
                        AND (CAST(:loc AS bigint) IS NULL OR r.location_id = CAST(:loc AS bigint))))
              AND d.local_day BETWEEN :start AND :end
              AND (CAST(:loc AS bigint) IS NULL OR d.location_id = CAST(:loc AS bigint))
              AND d.status IN {_BOOKED_IN}
            GROUP BY d.resource_id)
        SELECT r.id, r.name, r.kind, coalesce(avail.minutes, 0), coalesce(used.booked, 0),
               coalesce(used.attended, 0), rl.name
        FROM resource r
        LEFT JOIN location rl ON rl.id = r.location_id
        LEFT JOIN avail ON avail.location_id = r.location_id
        LEFT JOIN used ON used.resource_id = r.id
        WHERE r.kind = :kind AND (CAST(:loc AS bigint) IS NULL OR r.location_id = CAST(:loc AS bigint))
          AND (r.active OR used.resource_id IS NOT NULL)
        ORDER BY r.name, r.id"""), _params(start, end, location_id, kind=kind)).all()
    return [ResourceUtilization(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5]), r[6] or "") for r in rows]


def resource_utilization_rows(session: Session, actor: Actor, *, start: date, end: date,
                              location_id: int | None, now: datetime, resource_id: int,
                              attended_only: bool = False) -> list[tuple[int, int]]:
    """(appointment id, service minutes) behind a room's or device's booked (or attended)
    minutes, ordered by start; the minutes sum to the figure of resource_utilization."""
    actor.require(PERMISSION)
    statuses = "('completed')" if attended_only else _BOOKED_IN
    return [(r[0], int(r[1])) for r in session.execute(text(f"""
        SELECT a.id, {_MINUTES} {_VISITS} AND a.status IN {statuses}
          AND EXISTS (SELECT 1 FROM occupancy o WHERE o.appointment_id = a.id AND o.resource_id = :resource
                        AND o.kind = 'appointment')
        ORDER BY a.start_at, a.id"""), _params(start, end, location_id, resource=resource_id)).all()]


@dataclass(frozen=True)
class Rebooking:
    """Completed visits, those rebooked within `within_days`, and those rebooked before leaving."""

    visits: int
    rebooked: int
    rebooked_before_leaving: int
    within_days: int

    @property
    def rate(self) -> float | None:
        return _ratio(self.rebooked, self.visits)

    @property
    def before_leaving_rate(self) -> float | None:
        return _ratio(self.rebooked_before_leaving, self.visits)


def _rebooking_sql(select: str, tail: str = "") -> str:
    """SELECT {select} over `flags` (id, day = local date, rebooked, before_leaving) of the
    completed visits in the range; trends.py groups the same rows by month.

    Set-based (issue 5: no probe per visit). The exact definition (module docstring) is, for a
    visit v and a booking b of the same client with b.status not held/expired:
      rebooked(v)       = some b <> v starting after v, created in [v.start, v.end + N days];
      before_leaving(v) = some b <> v starting after v with b.rebooked_from_id = v, or created
                          at or after v.start on v's local day (in v's zone).
    Every such b starts after v.start >= :lo, so the candidates are the bookings starting at or
    after :lo (`cand`, one index range scan). A "normal" booking was created before it starts
    (b.created_at < b.start_at, i.e. booked for the future): then created >= v.start already
    implies b starts after v and b <> v, so only its created_at matters and both flags follow
    from nb = the first created_at >= v.start among the client's normal bookings (a window
    minimum over the client's visits and bookings in time order, one sort): rebooked iff
    nb <= v.end + N days, same local day iff nb's local date is v's (local dates never go
    back). Bookings created at or after their own start (entered afterwards) are rare; they and
    rebooked_from_id are checked in two small joins (`late`: the literal predicates; `src`).
    """
    return f"""
        WITH v AS MATERIALIZED (
            SELECT a.id, a.client_id, a.start_at, a.end_at, l.time_zone, {_LOCAL_DAY} AS day {_VISITS}
              AND a.status = 'completed' AND a.client_id IS NOT NULL),
        cand AS MATERIALIZED (   -- every booking that can count for a visit in the range
            SELECT b.id, b.client_id, b.start_at, b.created_at, b.rebooked_from_id
            FROM appointment b
            WHERE b.start_at > :lo AND b.status NOT IN ('held', 'expired') AND b.client_id IS NOT NULL
              AND (CAST(:loc AS bigint) IS NULL OR b.client_id IN (SELECT client_id FROM v))),
        ev AS (                  -- visits at their start (k 0), normal bookings at their creation (k 1)
            SELECT v.client_id, v.start_at AS t, 0 AS k, v.id, v.end_at, v.time_zone, v.day,
                   NULL::timestamptz AS created FROM v
            UNION ALL
            SELECT c.client_id, c.created_at, 1, NULL, NULL, NULL, NULL, c.created_at FROM cand c
            WHERE c.created_at < c.start_at AND c.created_at >= :lo
              AND c.created_at <= (SELECT max(end_at) FROM v) + make_interval(days => :days + 2)),
        nx AS (                  -- newest first: the rows before a visit are the bookings created at or after it
            SELECT client_id, t AS start_at, k, id, end_at, time_zone, day,
                   min(created) OVER (PARTITION BY client_id ORDER BY t DESC, k DESC ROWS UNBOUNDED PRECEDING) AS nb
            FROM ev),
        late AS (                -- bookings created at or after their own start: the literal predicates
            SELECT v.id,
                   bool_or(b.created_at <= v.end_at + make_interval(days => :days)) AS rebooked,
                   bool_or((b.created_at AT TIME ZONE v.time_zone)::date
                           = (v.start_at AT TIME ZONE v.time_zone)::date) AS same_day
            FROM v JOIN cand b ON b.client_id = v.client_id
            WHERE b.created_at >= b.start_at AND b.id <> v.id AND b.start_at > v.start_at
              AND b.created_at >= v.start_at
            GROUP BY v.id),
        src AS (                 -- booked at a visit's checkout: per (visit, client) the latest start
            SELECT rebooked_from_id AS id, client_id, max(start_at) AS last_start FROM cand
            WHERE rebooked_from_id IS NOT NULL AND id <> rebooked_from_id
            GROUP BY 1, 2),
        flags AS (
            SELECT n.id, n.day,
                   coalesce(n.nb <= n.end_at + make_interval(days => :days), false)
                       OR coalesce(late.rebooked, false) AS rebooked,
                   coalesce((n.nb AT TIME ZONE n.time_zone)::date = n.day, false)
                       OR coalesce(late.same_day, false) OR coalesce(src.last_start > n.start_at, false)
                       AS before_leaving
            FROM nx n
            LEFT JOIN late ON late.id = n.id
            LEFT JOIN src ON src.id = n.id AND src.client_id = n.client_id
            WHERE n.k = 0)
        SELECT {select} FROM flags {tail}"""


# the flags of _rebooking_sql for the default window, kept per completed visit (with a client) by
# the database: visit_rebooking (migration 0054, exact by triggers on appointment; its module
# docstring gives the literal definition it evaluates). Read only for that window.
REBOOKING_ROLLUP_DAYS = 90


def _rebooking_flags_sql(select: str, within_days: int, tail: str = "") -> str:
    """SELECT {select} over `flags` (id, day, rebooked, before_leaving) of the completed visits
    in the range: from visit_rebooking for the window it keeps (REBOOKING_ROLLUP_DAYS), else
    computed from appointment (_rebooking_sql). Same rows and flags either way."""
    if within_days != REBOOKING_ROLLUP_DAYS:
        return _rebooking_sql(select, tail)
    return f"""
        WITH flags AS (
            SELECT r.appointment_id AS id, r.local_day AS day, r.rebooked, r.before_leaving
            FROM visit_rebooking r
            WHERE r.local_day BETWEEN :start AND :end
              AND (CAST(:loc AS bigint) IS NULL OR r.location_id = CAST(:loc AS bigint)))
        SELECT {select} FROM flags {tail}"""


def rebooking(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
              now: datetime, within_days: int = REBOOKING_WINDOW_DAYS) -> Rebooking:
    """Share of completed visits followed by a booking within `within_days` (module docstring)."""
    actor.require(PERMISSION)
    row = session.execute(text(_rebooking_flags_sql(
        "count(*), count(*) FILTER (WHERE rebooked OR before_leaving), count(*) FILTER (WHERE before_leaving)",
        within_days)),
        _params(start, end, location_id, days=within_days)).one()
    return Rebooking(visits=row[0], rebooked=row[1], rebooked_before_leaving=row[2], within_days=within_days)


def rebooking_rows(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                   now: datetime, within_days: int = REBOOKING_WINDOW_DAYS) -> list[tuple[int, bool, bool]]:
    """(completed visit id, rebooked, rebooked before leaving) for every visit counted."""
    actor.require(PERMISSION)
    return [(r[0], bool(r[1]), bool(r[2])) for r in session.execute(text(_rebooking_sql(
        "id, rebooked OR before_leaving, before_leaving", "ORDER BY id")),
        _params(start, end, location_id, days=within_days)).all()]


# each client's first completed visit is kept by the database in client_first_visit (migration
# 0012, exact by triggers on appointment); the coarse UTC window on first_start_at lets the
# (org_id, first_start_at) index serve the range, the local-date test follows it (common.py)
_FIRST_VISITS = """
    WITH firsts AS (
        SELECT f.client_id, f.first_appointment_id AS id, f.first_location_id AS location_id,
               (f.first_start_at AT TIME ZONE l.time_zone)::date AS day
        FROM client_first_visit f JOIN location l ON l.id = f.first_location_id
        WHERE f.first_start_at >= :lo AND f.first_start_at < :hi)
    SELECT {select} FROM firsts
    WHERE day BETWEEN :start AND :end
      AND (CAST(:loc AS bigint) IS NULL OR location_id = CAST(:loc AS bigint)) {tail}"""


@dataclass(frozen=True)
class NewClients:
    """Clients whose first completed visit falls in the range."""

    count: int


def new_clients(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                now: datetime) -> NewClients:
    """Clients whose first completed visit falls in the range (module docstring)."""
    actor.require(PERMISSION)
    n = session.execute(text(_FIRST_VISITS.format(select="count(*)", tail="")),
                        _params(start, end, location_id)).scalar_one()
    return NewClients(count=n)


def new_client_rows(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                    now: datetime) -> list[tuple[int, int]]:
    """(client id, first visit's appointment id) of the new clients."""
    actor.require(PERMISSION)
    return [tuple(r) for r in session.execute(text(_FIRST_VISITS.format(
        select="client_id, id", tail="ORDER BY client_id")), _params(start, end, location_id)).all()]
