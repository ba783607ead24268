"""Changing a recurring series (scheduling.series has the rules; issue 16, section 2).

Scope "one" (this visit), "following" (this one and the later ones) or "all" (every visit
still ahead). Only visits still ahead and confirmed are touched: a checked-in, completed,
cancelled or past visit stays as it is. Cancels go through desk.cancel_visit (reason, deposit
settled per visit, the client's notice); moves through reschedule.move_visit (each re-checked
on the staff path; any refusal refuses the whole change). "following" ends the old rule the
day before (RFC 5545 UNTIL; COUNT dropped, the two exclude each other); a move of "following"
also starts a new series (split_from_id) at the new time with the remaining count or the
same end date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.service import get_location
from medspa.domain.scheduling.desk import CancelResult, cancel_visit
from medspa.domain.scheduling.models import Appointment, AppointmentSeries, AppointmentStatus
from medspa.domain.scheduling.reschedule import MoveRefused, VisitChange, move_visit
from medspa.domain.scheduling.series import localise, rrule_line
from medspa.domain.scheduling.service import get_appointment, lock_client_bookings

SCOPES = ("one", "following", "all")

def series_chain(session: Session, series_id: int) -> list[int]:
    """The ids of the whole chain of splits `series_id` belongs to: its first series (followed
    up split_from_id) and every series split from it, and from those, first series first. A
    series never split is a chain of one. What "all" and "this and following" reach, and
    what a visit's "Visit n of m" counts (series_info)."""
    root = session.get(AppointmentSeries, series_id)
    while root.split_from_id is not None:
        root = session.get(AppointmentSeries, root.split_from_id)
    ids, frontier = [root.id], [root.id]
    while frontier:
        frontier = list(session.exec(select(AppointmentSeries.id).where(AppointmentSeries.split_from_id.in_(frontier))
                                     .order_by(AppointmentSeries.id)))
        ids += frontier
    return ids


def _targets(session: Session, appt: Appointment, scope: str, now: datetime) -> list[Appointment]:
    """The visits a change with `scope` touches from `appt`: only confirmed visits still ahead
    (this one for "one"; this one and the later ones of the whole chain of splits
    (series_chain) for "following"; every one of the chain still ahead for "all"), by start."""
    if scope not in SCOPES:
        raise ValidationFailed({"scope": "Choose this visit, this and following, or all"})
    if appt.series_id is None and scope != "one":
        raise ValidationFailed({"scope": "This visit is not part of a series"})
    if scope == "one":
        return [appt]
    stmt = select(Appointment).where(Appointment.series_id.in_(series_chain(session, appt.series_id)),
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
    series.rrule = rrule_line(rule.replace(count=None, until=until))
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
    lock_client_bookings(session, appointment_id=appointment_id)  # lock order: the client, then its visits
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
    """After moving `moved` (by start) to `wall` (and `provider_id` when given): every series of
    the chain they belong to follows the new time. The first moved visit's series: when that
    visit is its first occurrence the series row changes in place; else its rule ends the day
    before and a new series (split_from_id) holds its moved visits, numbered from 0, with the
    remaining count or the same end date. Each later series of the chain the move reached
    (split off earlier, so it starts after that visit) keeps its visits and numbering, and its
    start (dtstart_local) takes the new time on its own date. One "series.move" audit row per
    series changed. Returns the first visit's series now (the new one after a split)."""
    first = moved[0]
    old = session.get(AppointmentSeries, first.series_id)
    day = first.start_at.astimezone(tz).date()
    rule = rrulestr(old.rrule, dtstart=old.dtstart_local)
    start_local = datetime.combine(day, wall)
    own = [v for v in moved if v.series_id == old.id]
    later: dict[int, list[Appointment]] = {}
    for visit in moved:
        if visit.series_id != old.id:
            later.setdefault(visit.series_id, []).append(visit)
    if first.series_index == 0 and old.dtstart_local.date() == day:
        old.dtstart_local = start_local
        old.provider_id = provider_id or old.provider_id
        session.add(old)
        target = old
    else:
        count = _rule_part(old.rrule, "COUNT")
        remaining = None if count is None else max(1, int(count) - (first.series_index or 0))
        new_rule = rule.replace(dtstart=start_local, **({"count": remaining} if remaining else {}))
        target = AppointmentSeries(org_id=old.org_id, location_id=old.location_id, service_id=old.service_id,
                                   provider_id=provider_id or old.provider_id, client_id=old.client_id,
                                   rrule=rrule_line(new_rule), dtstart_local=start_local, time_zone=old.time_zone,
                                   deposit_each_visit=old.deposit_each_visit, split_from_id=old.id,
                                   created_by_user_id=actor.user_id)
        session.add(target)
        session.flush()
        end_before(session, old, day)
        base = first.series_index or 0
        for visit in own:
            visit.series_id = target.id
            visit.series_index = max(0, (visit.series_index or 0) - base)
            session.add(visit)
    record(session, actor, "series.move", "appointment_series", target.id, client_id=first.client_id, at=now,
           wall=wall.isoformat(timespec="minutes"), appointment_ids=[v.id for v in own],
           split_from=None if target is old else old.id)
    for series_id, its_visits in later.items():
        series = session.get(AppointmentSeries, series_id)
        series.dtstart_local = datetime.combine(series.dtstart_local.date(), wall)
        series.provider_id = provider_id or series.provider_id
        session.add(series)
        record(session, actor, "series.move", "appointment_series", series_id, client_id=first.client_id, at=now,
               wall=wall.isoformat(timespec="minutes"), appointment_ids=[v.id for v in its_visits], split_from=None)
    session.flush()
    return target.id


@dataclass(frozen=True)
class SeriesInfo:
    """A visit's place in its series for the calendar's panel: `label` e.g. "Visit 3 of 6 ·
    Weekly at 10:00 AM", how many of its visits are still ahead and confirmed (`ahead`, this one
    included when it is), and whether this visit can still be changed (`movable`)."""

    series_id: int
    label: str
    ahead: int
    movable: bool


def series_info(session: Session, appt: Appointment, now: datetime) -> SeriesInfo | None:
    """The visit's series in words (None when it is not part of one)."""
    if appt.series_id is None:
        return None
    visits = list(session.exec(select(Appointment.id, Appointment.start_at, Appointment.status)
                               .where(Appointment.series_id.in_(series_chain(session, appt.series_id)))
                               .order_by(Appointment.start_at)))
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
    clock = series.dtstart_local.strftime("%I:%M %p").lstrip("0")  # "10:00 AM", as the calendar writes times
    return f"{head} at {clock}"


__all__ = ["SCOPES", "SeriesCancelled", "SeriesInfo", "SeriesMoved", "cancel_in_series", "end_before",
           "move_in_series", "series_chain", "series_info"]
