"""Bookable slots: working hours minus what the provider, room and device already hold.

A slot for service S starting at s occupies [s - S.buffer_before, s + S.duration +
S.buffer_after) on the provider and on one room / device of the types S needs. That whole
span must lie inside one of the provider's working-hour spans at the location, cut to the
location's opening hours when it has any (local wall times, DST-correct via
timezones.wall_to_utc), on a day the location is not closed (practice/opening.py) and overlap no live occupancy (booked, or held
and not yet expired at `now`). Start times sit on the service's slot grid, counted in local
wall minutes from midnight, then stepped in real elapsed minutes (so a fall-back day offers
the repeated hour twice and a spring-forward gap offers nothing, cases TZ-1 and TZ-2).
Online bookings also respect min_notice_minutes and max_advance_days (no start later than
now + that many days). next_available_day finds the first date with a free time up to the
service's max advance (else ONLINE_HORIZON_DAYS), reading the range's occupancy once; a busy
provider, room or device makes the scan skip to the end of what blocks it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (BigInteger, Date, DateTime, String, and_, bindparam, cast, exists, literal, literal_column,
                        null, or_, union_all)
from sqlalchemy.dialects.postgresql import Range
from sqlmodel import Session, select

from medspa.domain.catalog.models import Service
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.payments.models import CardSetup, CardSetupStatus, Payment, PaymentStatus
from medspa.domain.practice.opening import clip, closures_query, days_closed
from medspa.domain.practice.service import get_location
from medspa.domain.practice.shifts import Span, exceptions_query, merge_spans, split_exceptions, subtract_spans
from medspa.domain.scheduling.context import _Context, _context, _narrowed, booking_context  # noqa: F401 (fit.py)
from medspa.domain.scheduling.models import Occupancy, OccupancyStatus
from medspa.domain.timezones import local_midnight, wall_to_utc

MAX_RANGE_DAYS = 62
MAX_PAST_DAYS = 31  # staff may look back a month; online bookings never see the past anyway
MAX_AHEAD_DAYS = 730
ONLINE_HORIZON_DAYS = 365  # how far ahead clients may book online (staff: 2 years); scheduling.service reads it
NEXT_CHUNK_DAYS = 7  # next_available_day computes slots a week at a time


@dataclass(frozen=True)
class Slot:
    """A bookable start: start/end are UTC instants of the service time (buffers excluded)."""

    start: datetime
    end: datetime
    provider_id: int


class BusyIndex:
    """Sorted busy intervals per resource with O(log n) overlap checks."""

    def __init__(self, intervals: dict[int, list[tuple[datetime, datetime]]]):
        self._starts: dict[int, list[datetime]] = {}
        self._spans: dict[int, list[tuple[datetime, datetime]]] = {}
        for rid, spans in intervals.items():
            spans = sorted(spans)
            self._spans[rid] = spans
            self._starts[rid] = [lo for lo, _ in spans]

    def is_free(self, resource_id: int, lo: datetime, hi: datetime) -> bool:
        """True if nothing live on resource_id overlaps [lo, hi)."""
        return self.busy_until(resource_id, lo, hi) is None

    def busy_until(self, resource_id: int, lo: datetime, hi: datetime) -> datetime | None:
        """None when nothing live on resource_id overlaps [lo, hi); else the end of the
        overlapping interval that ends last (no span starting before it is free)."""
        spans = self._spans.get(resource_id)
        if not spans:
            return None
        i = bisect_left(self._starts[resource_id], hi)  # spans starting before hi
        # intervals are disjoint per resource (exclusion constraint), so only i-1 can overlap
        return None if i == 0 or spans[i - 1][1] <= lo else spans[i - 1][1]

    def pool_busy_until(self, resource_ids: list[int], lo: datetime, hi: datetime) -> datetime | None:
        """None when one of resource_ids is free over [lo, hi); else the earliest instant one
        of them can become free (the smallest busy_until)."""
        until = None
        for rid in resource_ids:
            end = self.busy_until(rid, lo, hi)
            if end is None:
                return None
            until = end if until is None else min(until, end)
        return until


def occupancy_span(service: Service, start_at: datetime) -> tuple[datetime, datetime]:
    """[start - setup buffer, start + duration + cleanup buffer) for a booking of `service`."""
    return (
        start_at - timedelta(minutes=service.buffer_before_minutes),
        start_at + timedelta(minutes=service.duration_minutes + service.buffer_after_minutes),
    )


def money_on_hold(appointment_id_column):
    """SQL condition: the appointment (`appointment_id_column`) has a deposit whose money is
    pending (the gateway may have charged it) or succeeded. A lapsed hold with money on it is
    never silently expired (by the booking transaction or the expiry job) and keeps blocking
    its slot: reconciliation confirms it or refunds it (payments/reconcile.py). A hold waiting
    for 3-D Secure is not covered: the client has until the hold lapses, and a success after
    that is refunded. A card setup still pending (card on file, issue 16: its outcome unknown
    after a crash) counts too, and one succeeded whose booking step has not run yet (reconcile_after
    set, payments.cards.awaits_booking_step): reconciliation confirms or releases."""
    return or_(exists().where(Payment.appointment_id == appointment_id_column,
                              Payment.status.in_((PaymentStatus.PENDING, PaymentStatus.SUCCEEDED))),
               exists().where(CardSetup.appointment_id == appointment_id_column, or_(
                   CardSetup.status == CardSetupStatus.PENDING,
                   and_(CardSetup.status == CardSetupStatus.SUCCEEDED, CardSetup.reconcile_after.is_not(None)))))


def has_money_on_hold(session: Session, appointment_id: int) -> bool:
    """Whether the appointment has a pending or succeeded deposit (money_on_hold)."""
    return bool(session.exec(select(money_on_hold(appointment_id))).one())


def card_declined(appointment_id_column):
    """SQL condition: the appointment's deposit was tried and declined (a declined or failed
    payment) and none is pending or succeeded: a hold kept for another card (booking.py), which
    lapses at its expiry like any hold without money on it. A card on file that could not be
    saved (a declined or failed card setup, none open) counts the same."""
    return and_(or_(exists().where(Payment.appointment_id == appointment_id_column,
                                   Payment.status.in_((PaymentStatus.DECLINED, PaymentStatus.FAILED))),
                    exists().where(CardSetup.appointment_id == appointment_id_column,
                                   CardSetup.status.in_((CardSetupStatus.DECLINED, CardSetupStatus.FAILED)))),
                ~money_on_hold(appointment_id_column),
                ~exists().where(CardSetup.appointment_id == appointment_id_column,
                                CardSetup.status == CardSetupStatus.REQUIRES_ACTION))


def last_deposit_declined(session: Session, appointment_id: int) -> bool:
    """Whether the appointment's card was declined with nothing pending or succeeded (card_declined)."""
    return bool(session.exec(select(card_declined(appointment_id))).one())


def live_occupancy_filter(now: datetime):
    """SQL condition for occupancies that block others at `now` (a lapsed hold with money on
    it still blocks: see money_on_hold)."""
    return or_(
        Occupancy.status == OccupancyStatus.BOOKED,
        and_(Occupancy.status == OccupancyStatus.HELD,
             or_(Occupancy.hold_expires_at.is_(None), Occupancy.hold_expires_at > now,
                 money_on_hold(Occupancy.appointment_id))),
    )


def _busy_statement():
    """The live occupancies of some resources overlapping a window, on bound parameters (built and
    compiled once: constructing it per request cost more than running it). The bounds as two
    timestamps (generated starts_at/ends_at, migrations 0013/0056): their leakproof comparisons
    let row-level security use ix_occupancy_live_ends (`&&` alone scans the history)."""
    lower, upper = (literal_column(f"occupancy.{c}", DateTime(timezone=True)) for c in ("starts_at", "ends_at"))
    lo, hi = bindparam("lo", type_=DateTime(timezone=True)), bindparam("hi", type_=DateTime(timezone=True))
    return select(Occupancy.resource_id, lower, upper).where(
        Occupancy.resource_id.in_(bindparam("resource_ids", expanding=True)),
        Occupancy.status.in_((OccupancyStatus.HELD, OccupancyStatus.BOOKED)),
        upper > lo, lower < hi, Occupancy.during.op("&&")(bindparam("during", type_=Occupancy.__table__.c.during.type)),
        live_occupancy_filter(bindparam("now", type_=DateTime(timezone=True))),
        or_(Occupancy.appointment_id.is_(None), Occupancy.appointment_id != bindparam("exclude")))


_BUSY = _busy_statement()


def load_busy(session: Session, resource_ids: list[int], lo: datetime, hi: datetime, now: datetime,
              exclude_appointment_id: int | None = None) -> BusyIndex:
    """Live occupancies of the resources that overlap [lo, hi), as a BusyIndex (but those of
    `exclude_appointment_id`, a visit being moved)."""
    if not resource_ids:
        return BusyIndex({})
    spans: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for rid, lower, upper in session.execute(_BUSY, {
            "resource_ids": resource_ids, "lo": lo, "hi": hi, "during": Range(lo, hi, bounds="[)"), "now": now,
            "exclude": exclude_appointment_id or 0}):  # ids start at 1: 0 excludes nothing
        spans[rid].append((lower, upper))
    return BusyIndex(spans)


def _first_grid_start(span_lo: datetime, earliest: datetime, grid: int, tz: ZoneInfo) -> datetime:
    """The first start >= earliest on the grid: aligned to local wall minutes at span_lo,
    then stepped in elapsed minutes."""
    local = span_lo.astimezone(tz)
    aligned = span_lo.replace(second=0, microsecond=0) + timedelta(minutes=(-(local.hour * 60 + local.minute)) % grid)
    if aligned < earliest:
        step = timedelta(minutes=grid)
        aligned += -(-(earliest - aligned) // step) * step
    return aligned


def _work_spans(ctx: _Context, staff_id: int, day: date) -> list[Span]:
    """The provider's UTC working spans starting on local `day`: the weekly hours (breaks
    between intervals) cut to the location's opening hours when it has some, plus extra
    shifts starting that day (an explicit shift is not cut), minus time off."""
    opening = None if ctx.opening is None else ctx.opening.get(day.weekday(), [])
    weekly = clip(ctx.hours.get(staff_id, {}).get(day.weekday(), []), opening)  # inside the opening hours
    spans = [(wall_to_utc(day, lo, ctx.tz, fold=0), wall_to_utc(day, hi, ctx.tz, fold=1)) for lo, hi in weekly]
    spans += [sp for sp in ctx.extra.get(staff_id, []) if sp[0].astimezone(ctx.tz).date() == day]
    return subtract_spans(merge_spans(spans), ctx.time_off.get(staff_id, []))


def _slots(ctx: _Context, busy: BusyIndex, start_date: date, end_date: date, earliest: datetime,
           first_day_only: bool = False) -> list[Slot]:
    """The free slots of local dates start_date..end_date (sorted); first_day_only: stop after
    the first date that has one. A start whose provider, room or device is busy skips, on the
    grid, to the first start that may be free again (the end of what blocks it)."""
    svc = ctx.service
    before = timedelta(minutes=svc.buffer_before_minutes)
    length = timedelta(minutes=svc.duration_minutes)
    after = timedelta(minutes=svc.buffer_after_minutes)
    grid = svc.slot_grid_minutes
    step = timedelta(minutes=grid)
    # a needed room/device type that the location lacks means nothing is bookable
    if (svc.room_type and not ctx.rooms) or (svc.device_type and not ctx.devices):
        return []
    out: list[Slot] = []
    day = start_date
    while day <= end_date:
        if day in ctx.closed:  # a closure: nothing that day (visits already booked stay)
            day += timedelta(days=1)
            continue
        for staff_id, resource_id in ctx.provider_resource.items():
            for span_lo, span_hi in _work_spans(ctx, staff_id, day):
                s = _first_grid_start(span_lo, max(span_lo + before, earliest), grid, ctx.tz)
                while s + length + after <= span_hi:
                    lo, hi = s - before, s + length + after
                    until = busy.busy_until(resource_id, lo, hi)
                    if until is None and ctx.rooms:
                        until = busy.pool_busy_until(ctx.rooms, lo, hi)
                    if until is None and ctx.devices:
                        until = busy.pool_busy_until(ctx.devices, lo, hi)
                    if until is None:
                        out.append(Slot(s, s + length, staff_id))
                        s += step
                    else:  # nothing starting before `until` (on the grid) can be free
                        s += step * max(1, -(-(until - lo) // step))
        day += timedelta(days=1)
        if first_day_only and out:
            break
    out.sort(key=lambda sl: (sl.start, sl.provider_id))
    return out


def _check_range(start_date: date, end_date: date, now: datetime, max_days: int) -> None:
    if end_date < start_date:
        raise ValidationFailed({"end_date": "End date must not be before the start date"})
    if (end_date - start_date).days >= max_days:
        raise ValidationFailed({"end_date": f"Ask for at most {max_days} days at a time"})
    today = now.date()
    if start_date < today - timedelta(days=MAX_PAST_DAYS) or end_date > today + timedelta(days=MAX_AHEAD_DAYS):
        raise ValidationFailed({"start_date": "Ask for dates within the next two years"})


def _prepared(session: Session, location_id: int, service_id: int, provider_id: int | None, start_date: date,
              end_date: date, now: datetime, exclude_appointment_id: int | None = None,
              ctx: _Context | None = None) -> tuple[_Context, BusyIndex]:
    """The context (`ctx` when the caller has it) and the live busy intervals for local dates
    start_date..end_date, each read ONCE for the whole range (closures, occupancies, time off
    and extra shifts)."""
    ctx = _narrowed(ctx, provider_id) if ctx is not None else _context(session, location_id, service_id, provider_id)
    window_lo = local_midnight(start_date, ctx.tz) - timedelta(days=1)
    window_hi = local_midnight(end_date + timedelta(days=1), ctx.tz) + timedelta(days=1)
    ctx.closed, ctx.time_off, ctx.extra = _day_exceptions(session, list(ctx.provider_resource), location_id,
                                                          start_date, end_date, window_lo, window_hi)
    ids = list(ctx.provider_resource.values()) + ctx.rooms + ctx.devices
    busy = load_busy(session, ids, window_lo, window_hi, now, exclude_appointment_id)
    return ctx, busy


_CLOSURE = "closure"  # the closure rows' kind in _DAY_EXCEPTIONS (staff exceptions: "off", "extra")


def _day_exceptions_statement():
    """practice.shifts.exceptions_query UNION ALL practice.opening.closures_query, on bound
    parameters: built (and compiled) once, not per request."""
    shifts = exceptions_query(bindparam("staff_ids", expanding=True), bindparam("shift_loc"), bindparam("lo"),
                              bindparam("hi")).subquery()
    closures = closures_query(bindparam("closure_loc"), bindparam("first"), bindparam("last")).subquery()
    stamp, day = DateTime(timezone=True), Date()
    return union_all(
        select(shifts.c.kind, shifts.c.staff_id, shifts.c.starts_at, shifts.c.ends_at, cast(null(), day),
               cast(null(), day)),
        select(literal(_CLOSURE, String), cast(null(), BigInteger), cast(null(), stamp), cast(null(), stamp),
               closures.c.start_date, closures.c.end_date))


_DAY_EXCEPTIONS = _day_exceptions_statement()


def _day_exceptions(session: Session, staff_ids: list[int], location_id: int, start_date: date, end_date: date,
                    lo: datetime, hi: datetime) -> tuple[set[date], dict[int, list[Span]], dict[int, list[Span]]]:
    """(closed local dates start_date..end_date: practice.opening.closed_days; time off and
    extra shifts overlapping [lo, hi): practice.shifts.exceptions_between) in ONE round trip."""
    rows = session.execute(_DAY_EXCEPTIONS, {
        "staff_ids": staff_ids or [-1], "shift_loc": location_id, "lo": lo, "hi": hi, "closure_loc": location_id,
        "first": start_date, "last": end_date}).all()
    closed = days_closed([(r[4], r[5]) for r in rows if r[0] == _CLOSURE], start_date, end_date)
    off, extra = split_exceptions([r[:4] for r in rows if r[0] != _CLOSURE])
    return closed, off, extra


def online_latest_start(service: Service, now: datetime) -> datetime:
    """The latest instant a client may book `service` online at `now`: now + the service's
    max_advance_days, or + ONLINE_HORIZON_DAYS when it has none (0/None)."""
    return now + timedelta(days=service.max_advance_days or ONLINE_HORIZON_DAYS)


def find_slots(session: Session, actor: Actor, *, location_id: int, service_id: int, start_date: date,
               end_date: date, now: datetime, provider_id: int | None = None,
               apply_notice: bool = True, exclude_appointment_id: int | None = None) -> list[Slot]:
    """Bookable slots from start_date to end_date (inclusive, local dates at the location).

    now: the current UTC instant (injected clock). apply_notice: enforce the service's
    minimum notice and maximum advance (online bookings); staff bookings pass False but
    never book the past.
    Raises NotFound (location, service, provider) and ValidationFailed (date range).
    """
    return day_plan(session, actor, location_id=location_id, service_id=service_id, start_date=start_date,
                    end_date=end_date, now=now, provider_id=provider_id, apply_notice=apply_notice,
                    exclude_appointment_id=exclude_appointment_id).slots


@dataclass
class DayPlan:
    """find_slots' answer with what it read: `ctx` (location, service, providers' resources,
    rooms, devices, hours) and `busy` (the live occupancies of those resources from the day
    before start_date to the day after end_date), for a caller that books from it
    (scheduling.service.hold_slot) without reading them again."""

    ctx: _Context
    busy: BusyIndex
    slots: list[Slot]


def _in_notice(ctx: _Context, slots: list[Slot], now: datetime, apply_notice: bool) -> list[Slot]:
    if apply_notice and ctx.service.max_advance_days:
        latest = now + timedelta(days=ctx.service.max_advance_days)
        return [sl for sl in slots if sl.start <= latest]
    return slots


def day_plan(session: Session, actor: Actor, *, location_id: int, service_id: int, start_date: date,
             end_date: date, now: datetime, provider_id: int | None = None, apply_notice: bool = True,
             exclude_appointment_id: int | None = None, ctx: _Context | None = None) -> DayPlan:
    """find_slots (same arguments, checks and errors), keeping the context and busy index it read.
    ctx: a context this session read before for the same location and service (narrowed here to
    provider_id); else booking_context's (kept per worker while the calendar loop listens)."""
    actor.require("availability.read")
    _check_range(start_date, end_date, now, MAX_RANGE_DAYS)
    ctx = ctx if ctx is not None else booking_context(session, actor.org_id, location_id, service_id, now)
    ctx, busy = _prepared(session, location_id, service_id, provider_id, start_date, end_date, now,
                          exclude_appointment_id, ctx=ctx)
    notice = timedelta(minutes=ctx.service.min_notice_minutes if apply_notice else 0)
    return DayPlan(ctx, busy, _in_notice(ctx, _slots(ctx, busy, start_date, end_date, now + notice), now,
                                         apply_notice))


@dataclass(frozen=True)
class NextAvailable:
    """Where a client can book next: `day` the first local date from the asked one with a
    free time (None: nothing free up to `last_day`); `last_day` the last local date the scan
    covered: the one asked for, cut to the service's online booking horizon."""

    day: date | None
    last_day: date


def online_last_day(service: Service, now: datetime, tz: ZoneInfo) -> date:
    """The last local date (in `tz`) with a start a client may book online (online_latest_start)."""
    return online_latest_start(service, now).astimezone(tz).date()


def next_available_day(session: Session, actor: Actor, *, location_id: int, service_id: int, from_day: date,
                       until_day: date | None = None, now: datetime, provider_id: int | None = None,
                       chunk_days: int = NEXT_CHUNK_DAYS) -> NextAvailable:
    """The first local date in from_day..until_day (inclusive, dates at the location) with a
    slot a client may book online (minimum notice and maximum advance applied, as find_slots
    with apply_notice). until_day None, or later than the service allows: up to its last
    bookable day (online_last_day). The range's occupancies, closures and staff exceptions are
    read ONCE; the days are then scanned `chunk_days` at a time with find_slots' own slot
    machinery, stopping at the first chunk with a free time.

    from_day before today (at the location) starts today. Raises NotFound (location,
    service, provider).
    """
    actor.require("availability.read")
    ctx = _narrowed(booking_context(session, actor.org_id, location_id, service_id, now), provider_id)
    latest = online_latest_start(ctx.service, now)
    last = online_last_day(ctx.service, now, ctx.tz)
    until_day = last if until_day is None else min(until_day, last)
    from_day = max(from_day, now.astimezone(ctx.tz).date())
    if until_day < from_day:
        return NextAvailable(None, until_day)
    _check_range(from_day, until_day, now, MAX_AHEAD_DAYS + 1)
    ctx, busy = _prepared(session, location_id, service_id, provider_id, from_day, until_day, now, ctx=ctx)
    earliest = now + timedelta(minutes=ctx.service.min_notice_minutes)
    lo = from_day
    while lo <= until_day:
        hi = min(until_day, lo + timedelta(days=max(chunk_days, 1) - 1))
        starts = [sl.start for sl in _slots(ctx, busy, lo, hi, earliest, first_day_only=True) if sl.start <= latest]
        if starts:
            return NextAvailable(min(starts).astimezone(ctx.tz).date(), until_day)
        lo = hi + timedelta(days=1)
    return NextAvailable(None, until_day)


def nearest_alternatives(session: Session, actor: Actor, *, location_id: int, service_id: int,
                         wanted: datetime, now: datetime, provider_id: int | None = None,
                         apply_notice: bool = True, count: int = 5,
                         day_slots: list[Slot] | None = None,
                         exclude_appointment_id: int | None = None, ctx: _Context | None = None) -> list[Slot]:
    """Up to `count` free slots closest in time to `wanted` (within 3 local days either side),
    one per start time. day_slots: the wanted day's slots if the caller already has them;
    exclude_appointment_id: a visit being moved (its own time counts as free); ctx: the context
    the caller read for the same location, service and provider (DayPlan.ctx), not read again."""
    tz = ctx.tz if ctx is not None else ZoneInfo(get_location(session, location_id).time_zone)
    day = wanted.astimezone(tz).date()
    by_start: dict[datetime, Slot] = {}
    for slot in day_slots or []:
        if slot.start != wanted:
            by_start.setdefault(slot.start, slot)
    # the same day first (cheap, and what a client wants); widen to 3 days either side if it is full
    for lo, hi in ((day, day), (day - timedelta(days=3), day + timedelta(days=3))):
        if len(by_start) >= count:
            break
        if day_slots is not None and lo == hi:
            continue  # the caller's day_slots are this day
        try:
            plan = day_plan(session, actor, location_id=location_id, service_id=service_id, start_date=lo,
                            end_date=hi, now=now, provider_id=provider_id, apply_notice=apply_notice,
                            exclude_appointment_id=exclude_appointment_id, ctx=ctx)
        except (NotFound, ValidationFailed):
            return []
        ctx = plan.ctx  # the context is read once for both passes
        for slot in plan.slots:
            if slot.start != wanted:
                by_start.setdefault(slot.start, slot)
    ranked = sorted(by_start.values(), key=lambda sl: (abs(sl.start - wanted), sl.start))
    return sorted(ranked[:count], key=lambda sl: sl.start)
