"""Recurring series (issue 16, section 2): one booking that repeats by an RFC 5545 RRULE.

How a series is expanded (`expand`): the rule (python-dateutil's rrule, RFC 5545) runs on the
first visit's NAIVE local wall-clock start in the location's zone, and each occurrence is then
localised with zoneinfo. So a Tuesday 10:00 series stays Tuesday 10:00 across daylight-saving
changes in either hemisphere (America/New_York in March and November, Australia/Sydney in
October and April), and a 00:30 series stays at 00:30 on its own date. Where the rule is
silent the RFC decides:
- a wall time that does not exist that day (inside a spring-forward gap, e.g. 02:30 on the
  day New York goes from 02:00 to 03:00) is read with the offset before the gap (RFC 5545
  3.3.5), i.e. shifted forward by the gap (02:30 -> 03:30); the occurrence is flagged
  (`Occurrence.shifted`) and the preview says so;
- a wall time that occurs twice (fall-back) is the first of the two (RFC 5545 3.3.5);
- monthly by date on a day some months lack (the 29th-31st): those months are skipped
  (RFC 5545 3.3.10: invalid dates are ignored), so "monthly on the 31st, 6 visits" runs
  Jan 31, Mar 31, May 31, ... The preview lists the dates, and says so;
- "the second Tuesday" is BYDAY=TU;BYSETPOS=2, from the first visit's date (its weekday and
  which one of the month it is); a first visit on the fifth such weekday means "the last".
A series has a count or an end date (UNTIL, the end of that local day), at most
MAX_OCCURRENCES visits.

Booking (`plan_series`, then `book_series`): every occurrence is checked BEFORE anything is
saved, with the desk booking's own rules: free when the desk could book that start
(availability.find_slots for the provider that day, as hold_slot checks) and the client has no
other visit then; otherwise the reason from availability.fit_start (or the client's clash,
the past, the horizon) and the day's free starts as alternatives. The desk then books the
occurrences it keeps, each at its own or another start that same day, in ONE transaction:
each through service.hold_slot (the desk booking: confirmed, its audit row), so the exclusion
constraint decides a race; an occurrence lost meanwhile is reported (`SeriesBooked.lost`),
not a crash.

Changing a series (`cancel_in_series`, `move_in_series`): scope "one" (this visit), "following"
(this one and the later ones) or "all" (every visit still ahead). Only visits still ahead and
confirmed are touched (a checked-in, completed, cancelled visit or one in the past stays as
it is). Cancels go through desk.cancel_visit (reason and deposit settled per visit); moves
through reschedule.move_visit (each re-checked; any refusal refuses the whole change). A
change to the time of "following" splits the series: the old rule ends the day before (UNTIL)
and a new series (split_from_id) starts at the new time.

Deposit (`deposit_due_cents`): the service's deposit for the first visit of the series only,
unless the location's series_deposit_each_visit says each visit. Desk bookings do not charge
at booking (scheduling.desk): the figure is shown in the preview as what is due; each visit
is an ordinary appointment checked out on its own (payments.checkout).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil.rrule import MONTHLY, WEEKLY, rrule, rrulestr, weekday
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.catalog.service import get_service
from medspa.domain.clients.service import get_client
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import StaffMember
from medspa.domain.practice.service import get_location
from medspa.domain.scheduling.availability import NotFree, find_slots, fit_start
from medspa.domain.scheduling.desk import CancelResult, cancel_visit
from medspa.domain.scheduling.models import Appointment, AppointmentSeries, AppointmentStatus
from medspa.domain.scheduling.reschedule import MoveRefused, VisitChange, move_visit
from medspa.domain.scheduling.service import (STAFF_HORIZON_DAYS, SlotTaken, client_visit_spans, get_appointment,
                                              hold_slot)
from medspa.domain.timezones import format_clinic_clock

MAX_OCCURRENCES = 52
MAX_INTERVAL = 12
FREQUENCIES = ("weekly", "monthly_date", "monthly_weekday")
SCOPES = ("one", "following", "all")
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Recurrence:
    """How a series repeats, as the desk asks for it. freq: "weekly" (every `interval` weeks
    on the first visit's weekday), "monthly_date" (every `interval` months on its day of the
    month) or "monthly_weekday" (every `interval` months on, e.g., its second Tuesday).
    Exactly one of `count` (visits, 1..MAX_OCCURRENCES) or `until` (last local date, inclusive)."""

    freq: str
    interval: int = 1
    count: int | None = None
    until: date | None = None


@dataclass(frozen=True)
class Occurrence:
    """One date of a series. index: its number in the rule (0 = the first); wanted: the naive
    local wall-clock start the rule gives; start_at: the aware UTC instant; shifted: `wanted`
    does not exist that day (a spring-forward gap) and start_at is the wall time shifted
    forward by the gap (module docstring)."""

    index: int
    wanted: datetime
    start_at: datetime
    shifted: bool = False


def nth_of_month(day: date) -> int:
    """Which one of its weekday in the month `day` is: 1..4, or -1 for a fifth (the last)."""
    n = (day.day - 1) // 7 + 1
    return -1 if n == 5 else n


def describe(rec: Recurrence, first: date) -> str:
    """The recurrence in words, e.g. "Every 2 weeks on Tuesday, 6 visits" or "Monthly on the
    second Tuesday, until Jun 30, 2027"."""
    every = {"weekly": ("week", "weeks"), "monthly_date": ("month", "months"),
             "monthly_weekday": ("month", "months")}[rec.freq]
    head = (f"Every {rec.interval} {every[1]}" if rec.interval > 1
            else {"weekly": "Weekly", "monthly_date": "Monthly", "monthly_weekday": "Monthly"}[rec.freq])
    if rec.freq == "weekly":
        on = f"on {_DAYS[first.weekday()]}"
    elif rec.freq == "monthly_date":
        on = f"on day {first.day}"
    else:
        on = f"on the {_ORDINALS[nth_of_month(first)]} {_DAYS[first.weekday()]}"
    end = f"{rec.count} visits" if rec.count else f"until {rec.until:%b} {rec.until.day}, {rec.until.year}"
    return f"{head} {on}, {end}"


def rule_text(rec: Recurrence, first: date) -> str:
    """The RFC 5545 RRULE (without DTSTART) for `rec` from the first visit's local date, e.g.
    "FREQ=WEEKLY;INTERVAL=2;COUNT=6". Raises ValidationFailed (freq, interval, count, until)."""
    if rec.freq not in FREQUENCIES:
        raise ValidationFailed({"repeat": "Choose how the visit repeats"})
    if not isinstance(rec.interval, int) or not 1 <= rec.interval <= MAX_INTERVAL:
        raise ValidationFailed({"interval": f"Repeat every 1 to {MAX_INTERVAL}"})
    if (rec.count is None) == (rec.until is None):
        raise ValidationFailed({"count": "Give a number of visits or an end date"})
    if rec.count is not None and not 1 <= rec.count <= MAX_OCCURRENCES:
        raise ValidationFailed({"count": f"A series has 1 to {MAX_OCCURRENCES} visits"})
    if rec.until is not None and rec.until < first:
        raise ValidationFailed({"until": "The end date is before the first visit"})
    wd = weekday(first.weekday())
    if rec.freq == "weekly":
        rule = rrule(WEEKLY, interval=rec.interval, byweekday=wd)
    elif rec.freq == "monthly_date":
        rule = rrule(MONTHLY, interval=rec.interval, bymonthday=first.day)
    else:
        rule = rrule(MONTHLY, interval=rec.interval, byweekday=wd, bysetpos=nth_of_month(first))
    parts = [_rrule_line(rule)]
    parts.append(f"COUNT={rec.count}" if rec.count else f"UNTIL={rec.until:%Y%m%d}T235959")
    return ";".join(parts)


def _rrule_line(rule: rrule) -> str:
    """The RRULE value dateutil writes for `rule` (its DTSTART line dropped)."""
    line = str(rule).splitlines()[-1]
    return line.removeprefix("RRULE:")


def localise(wanted: datetime, tz: ZoneInfo) -> tuple[datetime, bool]:
    """(aware UTC instant, shifted) of the naive local wall time `wanted` in `tz` by RFC 5545
    3.3.5: an ambiguous time is the first of the two (fold=0); a time in a spring-forward gap
    is read with the offset before the gap, i.e. shifted forward by the gap (shifted=True)."""
    instant = wanted.replace(tzinfo=tz, fold=0).astimezone(UTC)
    return instant, instant.astimezone(tz).replace(tzinfo=None) != wanted


def expand(rrule_value: str, dtstart_local: datetime, time_zone: str, *,
           limit: int = MAX_OCCURRENCES + 1) -> list[Occurrence]:
    """The occurrences of RRULE `rrule_value` from the naive local `dtstart_local` in
    `time_zone` (at most `limit`), each localised (localise). The rule runs on wall-clock
    times, so every occurrence keeps the first one's local time whatever the offset."""
    tz = ZoneInfo(time_zone)
    rule = rrulestr(rrule_value, dtstart=dtstart_local.replace(tzinfo=None))
    out = []
    for i, wanted in enumerate(islice(rule, limit)):
        instant, shifted = localise(wanted, tz)
        out.append(Occurrence(i, wanted, instant, shifted))
    return out


def occurrences_of(rec: Recurrence, first_start: datetime, time_zone: str) -> tuple[str, datetime, list[Occurrence]]:
    """(RRULE, naive local DTSTART, occurrences) of a series whose first visit starts at
    `first_start` (aware). Raises ValidationFailed (the rule's fields; "until" when the end
    date gives more than MAX_OCCURRENCES visits)."""
    if first_start.tzinfo is None:
        raise ValidationFailed({"start": "Give the time with its UTC offset"})
    local = first_start.astimezone(ZoneInfo(time_zone)).replace(tzinfo=None, second=0, microsecond=0)
    text = rule_text(rec, local.date())
    found = expand(text, local, time_zone)
    if len(found) > MAX_OCCURRENCES:
        raise ValidationFailed({"until": f"That end date gives more than {MAX_OCCURRENCES} visits: choose an earlier "
                                         f"one or a number of visits"})
    return text, local, found


@dataclass(frozen=True)
class OccurrenceCheck:
    """One date of a planned series: `free` (the desk can book start_at) or `reason` why not
    (availability.fit_start's words, the client's other visit, the past); `alternatives`: the
    provider's free starts that local day (aware UTC, sorted); `note`: the gap shift when the
    wall time does not exist that day."""

    index: int
    start_at: datetime
    free: bool
    reason: str = ""
    alternatives: tuple[datetime, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class SeriesPlan:
    """A series checked before saving: its rule in words and as RRULE, the location's zone,
    every occurrence's check, and the deposit due per occurrence index (integer cents)."""

    rrule: str
    description: str
    time_zone: str
    checks: tuple[OccurrenceCheck, ...]
    deposits: tuple[int, ...]
    currency: str
    notes: tuple[str, ...] = ()


def deposit_due_cents(deposit_cents: int, each_visit: bool, position: int) -> int:
    """The deposit due for the visit at `position` (0 = the first booked) of a series: the
    service's deposit for the first visit only, or for each when the location's
    series_deposit_each_visit is on (integer cents)."""
    return deposit_cents if (each_visit or position == 0) else 0


def _check(session: Session, actor: Actor, *, location_id: int, service_id: int, provider_id: int,
           provider_name: str, client_id: int, occ: Occurrence, duration: timedelta, tz: ZoneInfo,
           now: datetime) -> OccurrenceCheck:
    day = occ.start_at.astimezone(tz).date()
    note = ""
    if occ.shifted:
        note = (f"{occ.wanted:%H:%M} does not exist that day (the clocks go forward): "
                f"{format_clinic_clock(occ.start_at, tz.key)}")
    if occ.start_at < now:
        return OccurrenceCheck(occ.index, occ.start_at, False, "This time has already passed", (), note)
    if occ.start_at > now + timedelta(days=STAFF_HORIZON_DAYS):
        return OccurrenceCheck(occ.index, occ.start_at, False, "Too far ahead to book", (), note)
    slots = find_slots(session, actor, location_id=location_id, service_id=service_id, start_date=day, end_date=day,
                       now=now, provider_id=provider_id, apply_notice=False)
    clashes = client_visit_spans(session, client_id, occ.start_at - timedelta(days=1), occ.start_at + timedelta(days=2))

    def client_free(start: datetime) -> bool:
        return not any(a < start + duration and b > start for a, b in clashes)

    starts = tuple(sorted({s.start for s in slots if client_free(s.start)}))
    if occ.start_at in starts:
        return OccurrenceCheck(occ.index, occ.start_at, True, "", tuple(s for s in starts if s != occ.start_at), note)
    if not client_free(occ.start_at):
        reason = "The client already has a visit then"
    else:
        try:
            fit_start(session, actor, location_id=location_id, service_id=service_id, provider_id=provider_id,
                      start_at=occ.start_at, now=now, provider_name=provider_name)
            reason = "Not a bookable start for this service"
        except NotFree as exc:
            reason = exc.reason
    return OccurrenceCheck(occ.index, occ.start_at, False, reason, starts, note)


def plan_series(session: Session, actor: Actor, *, location_id: int, service_id: int, provider_id: int,
                client_id: int, recurrence: Recurrence, first_start: datetime, now: datetime) -> SeriesPlan:
    """Check every occurrence of the series before anything is saved (module docstring).
    Raises ValidationFailed (rule fields; "provider" when none is given), NotFound (location,
    service, client, provider), PermissionDenied."""
    actor.require("appointment.book")
    if not provider_id:
        raise ValidationFailed({"provider": "Choose a provider for a series"})
    location = get_location(session, location_id)
    service = get_service(session, service_id)
    get_client(session, actor, client_id)
    provider = session.get(StaffMember, provider_id)
    if provider is None:
        raise NotFound("provider")
    text, local, found = occurrences_of(recurrence, first_start, location.time_zone)
    tz = ZoneInfo(location.time_zone)
    duration = timedelta(minutes=service.duration_minutes)
    checks = tuple(_check(session, actor, location_id=location_id, service_id=service_id, provider_id=provider_id,
                          provider_name=provider.display_name, client_id=client_id, occ=o, duration=duration,
                          tz=tz, now=now) for o in found)
    notes = []
    if recurrence.freq == "monthly_date" and local.day > 28:
        notes.append(f"Months without a day {local.day} are skipped.")
    each = location.series_deposit_each_visit
    deposits = tuple(deposit_due_cents(service.deposit_cents, each, i) for i in range(len(checks)))
    return SeriesPlan(text, describe(recurrence, local.date()), location.time_zone, checks, deposits,
                      service.currency, tuple(notes))


@dataclass(frozen=True)
class SeriesBooked:
    """A series saved: its id, the booked visits as (occurrence index, appointment id), and the
    occurrences that could not be booked as (index, reason): lost to another booking meanwhile
    (the exclusion constraint decided) or refused."""

    series_id: int
    booked: tuple[tuple[int, int], ...]
    lost: tuple[tuple[int, str], ...] = ()


def book_series(session: Session, actor: Actor, *, location_id: int, service_id: int, provider_id: int,
                client_id: int, recurrence: Recurrence, first_start: datetime, picks: dict[int, datetime],
                now: datetime) -> SeriesBooked:
    """Save the series and book the picked occurrences: `picks` maps an occurrence index to
    the start chosen for it (its own, or another start the same local day; an index left out
    is skipped). Each visit is a confirmed desk booking (service.hold_slot, its audit row) in
    its own savepoint; a lost race is reported in `lost`. Raises ValidationFailed (rule fields,
    "picks": nothing picked, an unknown occurrence, a start on another day; "series": none of
    the picks could be booked, nothing saved), NotFound, PermissionDenied. The caller commits."""
    actor.require("appointment.book")
    if not provider_id:
        raise ValidationFailed({"provider": "Choose a provider for a series"})
    location = get_location(session, location_id)
    get_client(session, actor, client_id)
    tz = ZoneInfo(location.time_zone)
    text, local, found = occurrences_of(recurrence, first_start, location.time_zone)
    by_index = {o.index: o for o in found}
    if not picks:
        raise ValidationFailed({"picks": "Pick at least one date to book"})
    for index, start in picks.items():
        occ = by_index.get(index)
        if occ is None or start.tzinfo is None:
            raise ValidationFailed({"picks": "That date is not part of this series"})
        if start.astimezone(tz).date() != occ.start_at.astimezone(tz).date():
            raise ValidationFailed({"picks": "Another time must be on the same day"})
    series = AppointmentSeries(org_id=actor.org_id, location_id=location_id, service_id=service_id,
                               provider_id=provider_id, client_id=client_id, rrule=text, dtstart_local=local,
                               time_zone=location.time_zone, deposit_each_visit=location.series_deposit_each_visit,
                               created_by_user_id=actor.user_id)
    session.add(series)
    session.flush()
    booked: list[tuple[int, int]] = []
    lost: list[tuple[int, str]] = []
    for index in sorted(picks):
        try:
            with session.begin_nested():
                appt = hold_slot(session, actor, location_id=location_id, service_id=service_id,
                                 start_at=picks[index], now=now, provider_id=provider_id, client_id=client_id,
                                 source="staff", confirm=True)
                appt.series_id, appt.series_index = series.id, index
                session.add(appt)
                session.flush()
        except SlotTaken:
            lost.append((index, "Taken meanwhile by another booking"))
            continue
        except ValidationFailed as exc:
            lost.append((index, next(iter(exc.fields.values()), "Cannot be booked")))
            continue
        booked.append((index, appt.id))
    if not booked:
        raise ValidationFailed({"series": "None of the chosen dates could be booked: check the dates again"})
    record(session, actor, "series.book", "appointment_series", series.id, client_id=client_id, at=now,
           rrule=text, dtstart=local.isoformat(), time_zone=location.time_zone,
           booked=[i for i, _ in booked], lost=[i for i, _ in lost])
    session.flush()
    return SeriesBooked(series.id, tuple(booked), tuple(lost))


# ---- changing a series ---------------------------------------------------------------------

def _family(session: Session, series_id: int) -> list[int]:
    """The series and those split from it (and from them), by id."""
    ids, frontier = [series_id], [series_id]
    while frontier:
        frontier = list(session.exec(select(AppointmentSeries.id).where(AppointmentSeries.split_from_id.in_(frontier))))
        ids += frontier
    return ids


def _targets(session: Session, appt: Appointment, scope: str, now: datetime) -> list[Appointment]:
    """The visits a change with `scope` touches from `appt`: only confirmed visits still ahead
    (this one for "one"; this one and the later ones of its series and the series split from
    it for "following"; every one of them still ahead for "all"), by start."""
    if scope not in SCOPES:
        raise ValidationFailed({"scope": "Choose this visit, this and following, or all"})
    if appt.series_id is None and scope != "one":
        raise ValidationFailed({"scope": "This visit is not part of a series"})
    if scope == "one":
        return [appt]
    stmt = select(Appointment).where(Appointment.series_id.in_(_family(session, appt.series_id)),
                                     Appointment.status == AppointmentStatus.CONFIRMED, Appointment.start_at > now)
    if scope == "following":
        stmt = stmt.where(Appointment.start_at >= appt.start_at)
    return list(session.exec(stmt.order_by(Appointment.start_at).with_for_update()))


@dataclass(frozen=True)
class SeriesCancelled:
    """A cancel in a series: each visit's CancelResult (deposit settled), by start."""

    results: tuple[CancelResult, ...]

    @property
    def refund_ids(self) -> tuple[int, ...]:
        """Every refund written pending, to send after the commit."""
        return tuple(r for res in self.results for r in res.refund_ids)


def end_before(session: Session, series: AppointmentSeries, day: date) -> None:
    """End the series' rule the day before local `day` (RFC 5545 UNTIL, COUNT dropped: the two
    exclude each other)."""
    rule = rrulestr(series.rrule, dtstart=series.dtstart_local)
    until = datetime.combine(day - timedelta(days=1), time(23, 59, 59))
    series.rrule = _rrule_line(rule.replace(count=None, until=until))
    session.add(series)


def cancel_in_series(session: Session, actor: Actor, appointment_id: int, scope: str, *, now: datetime,
                     reason: str = "client_request", note: str = "") -> SeriesCancelled:
    """Cancel this visit ("one"), this and the following ones ("following": the series' rule then
    ends the day before) or every visit still ahead ("all") with `reason` / `note`
    (desk.cancel_visit: each deposit settled by the policy, each client notice queued). Only
    confirmed visits ahead are touched; "one" on any visit behaves as the desk's cancel.
    Raises ValidationFailed (scope, reason, note; "scope" when no visit is left to cancel),
    InvalidTransition, NotFound, PermissionDenied. The caller commits, then sends refund_ids."""
    actor.require("appointment.cancel")
    appt = get_appointment(session, appointment_id, lock=True)
    targets = _targets(session, appt, scope, now)
    if not targets:
        raise ValidationFailed({"scope": "No visit of this series is left to cancel"})
    results = tuple(cancel_visit(session, actor, a.id, now=now, reason=reason, note=note) for a in targets)
    if scope == "following":
        end_before(session, session.get(AppointmentSeries, appt.series_id),
                   appt.start_at.astimezone(ZoneInfo(get_location(session, appt.location_id).time_zone)).date())
    if scope != "one":
        record(session, actor, "series.cancel", "appointment_series", appt.series_id, client_id=appt.client_id, at=now,
               scope=scope, appointment_ids=[a.id for a in targets], reason=reason)
    return SeriesCancelled(results)


@dataclass(frozen=True)
class SeriesMoved:
    """A move in a series: the visits moved (appointment ids, by start) and the series they
    belong to now (a new one when "following" split the series)."""

    appointment_ids: tuple[int, ...]
    series_id: int | None


def move_in_series(session: Session, actor: Actor, appointment_id: int, scope: str, *, wall: time,
                   provider_id: int | None = None, now: datetime) -> SeriesMoved:
    """Move this visit ("one"), this and the following ones ("following") or every visit still
    ahead ("all") to local wall-clock time `wall` on each one's own date (and to `provider_id`
    when given), each through reschedule.move_visit (the staff path: availability re-checked,
    the exclusion constraint settles races, the client's notice queued). "following" splits
    the series: the old rule ends the day before this visit (UNTIL) and a new series starts at
    this visit's date and the new time, with the remaining count or the same end date, and the
    moved visits join it. Any visit that does not fit refuses the whole change
    (MoveRefused: "Tue Mar 10: <reason>"; nothing changed). Raises MoveRefused, ValidationFailed
    (scope; none left to move), InvalidTransition, NotFound, PermissionDenied. The caller commits."""
    actor.require("appointment.reschedule")
    appt = get_appointment(session, appointment_id, lock=True)
    targets = _targets(session, appt, scope, now)
    if not targets:
        raise ValidationFailed({"scope": "No visit of this series is left to move"})
    tz = ZoneInfo(get_location(session, appt.location_id).time_zone)
    for visit in targets:
        day = visit.start_at.astimezone(tz).date()
        start, _ = localise(datetime.combine(day, wall), tz)
        try:
            with session.begin_nested():
                move_visit(session, actor, visit.id, VisitChange(start_at=start, provider_id=provider_id), now=now,
                           online=False)
        except MoveRefused as exc:
            raise MoveRefused(f"{day:%a %b} {day.day}: {exc.reason}", exc.alternatives) from exc
    series_id = appt.series_id
    if scope != "one":
        series_id = _resplit(session, actor, targets, wall, provider_id, tz, now)
    return SeriesMoved(tuple(v.id for v in targets), series_id)


def _resplit(session: Session, actor: Actor, moved: list[Appointment], wall: time, provider_id: int | None,
             tz: ZoneInfo, now: datetime) -> int:
    """After moving `moved` (by start) to `wall`: the series from the first of them on follows
    the new time. When that visit is its series' first occurrence the series row changes in
    place; else the old rule ends the day before and a new series (split_from_id) holds the
    moved visits, numbered from 0, with the remaining count or the same end date."""
    first = moved[0]
    old = session.get(AppointmentSeries, first.series_id)
    day = first.start_at.astimezone(tz).date()
    rule = rrulestr(old.rrule, dtstart=old.dtstart_local)
    start_local = datetime.combine(day, wall)
    if first.series_index == 0 and old.dtstart_local.date() == day:
        old.dtstart_local = start_local
        old.provider_id = provider_id or old.provider_id
        session.add(old)
        target = old
    else:
        count = _rule_part(old.rrule, "COUNT")
        remaining = None if count is None else max(1, int(count) - (first.series_index or 0))
        new_rule = rule.replace(dtstart=start_local, count=remaining) if remaining else rule.replace(dtstart=start_local)
        target = AppointmentSeries(org_id=old.org_id, location_id=old.location_id, service_id=old.service_id,
                                   provider_id=provider_id or old.provider_id, client_id=old.client_id,
                                   rrule=_rrule_line(new_rule), dtstart_local=start_local, time_zone=old.time_zone,
                                   deposit_each_visit=old.deposit_each_visit, split_from_id=old.id,
                                   created_by_user_id=actor.user_id)
        session.add(target)
        session.flush()
        end_before(session, old, day)
        base = first.series_index or 0
        for visit in moved:
            visit.series_id = target.id
            visit.series_index = max(0, (visit.series_index or 0) - base)
            session.add(visit)
    record(session, actor, "series.move", "appointment_series", target.id, client_id=first.client_id, at=now,
           wall=wall.isoformat(timespec="minutes"), appointment_ids=[v.id for v in moved],
           split_from=None if target is old else old.id)
    session.flush()
    return target.id


@dataclass(frozen=True)
class SeriesInfo:
    """A visit's place in its series for the calendar's panel: `label` e.g. "Visit 3 of 6 ·
    Weekly on Tuesday", how many of its visits are still ahead and confirmed (`ahead`, this one
    included when it is), and whether this visit can still be changed (`movable`)."""

    series_id: int
    label: str
    ahead: int
    movable: bool


def series_info(session: Session, appt: Appointment, now: datetime) -> SeriesInfo | None:
    """The visit's series in words (None when it is not part of one)."""
    if appt.series_id is None:
        return None
    root = session.get(AppointmentSeries, appt.series_id)
    while root.split_from_id is not None:  # the whole chain of splits, from its first series
        root = session.get(AppointmentSeries, root.split_from_id)
    family = _family(session, root.id)
    visits = list(session.exec(select(Appointment.id, Appointment.start_at, Appointment.status)
                               .where(Appointment.series_id.in_(family)).order_by(Appointment.start_at)))
    position = next((i for i, (vid, _, _) in enumerate(visits) if vid == appt.id), 0)
    ahead = sum(1 for _, start, status in visits if status == AppointmentStatus.CONFIRMED and start > now)
    series = session.get(AppointmentSeries, appt.series_id)
    text = _summary(series)
    return SeriesInfo(appt.series_id, f"Visit {position + 1} of {len(visits)} · {text}", ahead,
                      appt.status == AppointmentStatus.CONFIRMED and appt.start_at > now)


def _rule_part(rule: str, name: str) -> str | None:
    """The value of part `name` of an RRULE value ("COUNT" of "FREQ=WEEKLY;COUNT=6" is "6"), or None."""
    return next((p.split("=", 1)[1] for p in rule.split(";") if p.split("=", 1)[0] == name), None)


def _summary(series: AppointmentSeries) -> str:
    rule = series.rrule
    interval = int(_rule_part(rule, "INTERVAL") or 1)
    monthly = "FREQ=MONTHLY" in rule
    unit = "months" if monthly else "weeks"
    head = f"Every {interval} {unit}" if interval > 1 else ("Monthly" if monthly else "Weekly")
    return f"{head} at {series.dtstart_local:%H:%M}"


__all__ = ["FREQUENCIES", "MAX_OCCURRENCES", "SCOPES", "Occurrence", "OccurrenceCheck", "Recurrence", "SeriesBooked",
           "SeriesCancelled", "SeriesInfo", "SeriesMoved", "SeriesPlan", "book_series", "cancel_in_series",
           "deposit_due_cents", "describe", "end_before", "expand", "localise", "move_in_series",
           "occurrences_of", "plan_series", "rule_text", "series_info"]
