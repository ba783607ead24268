"""Editing providers' hours from /settings: weekly hours per location, time off, extra shifts.

Services take a session and never commit (practice/settings_actions.py owns the transaction). Weekly
hours are wall-clock intervals per weekday (several a day: the gaps are breaks); time off and
extra shifts are dated spans (practice/shifts.py). Availability reads all three on every
query, so a change takes effect at once. Visits already booked inside new time off stay on
the calendar: the action counts them so the page can say how many to move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.changes import row_for_edit
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location, StaffMember, WorkingHours
from medspa.domain.practice.shifts import EXTRA_SHIFT, KINDS, TIME_OFF, StaffTimeOff
from medspa.domain.scheduling.models import Appointment, AppointmentStatus, visits_overlapping

PERMISSION = "settings.write"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_INTERVALS = 6  # per weekday
MAX_TIME_OFF_DAYS = 366
MAX_EXTRA_HOURS = 24
MAX_REASON = 200
LIVE = (AppointmentStatus.HELD, AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN)

Weekly = dict[int, list[tuple[time, time]]]  # weekday (0 = Monday) -> [(start, end)] wall times


def interval_key(weekday: int, index: int) -> str:
    """The field name of one interval of the weekly form: "d0-1" (Monday, second interval)."""
    return f"d{weekday}-{index}"


def validate_weekly(weekly: Weekly) -> Weekly:
    """Each day's intervals sorted, or ValidationFailed keyed by interval_key: an end after its
    start, no two intervals of a day overlapping, at most MAX_INTERVALS a day."""
    errors: dict[str, str] = {}
    clean: Weekly = {}
    for weekday, spans in weekly.items():
        if not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValidationFailed({"hours": "Weekdays are 0 (Monday) to 6 (Sunday)"})
        if len(spans) > MAX_INTERVALS:
            errors[interval_key(weekday, MAX_INTERVALS)] = f"At most {MAX_INTERVALS} intervals a day"
        for i, (start, end) in enumerate(spans):
            if end <= start:
                errors[interval_key(weekday, i)] = "The end must be after the start"
        ordered = sorted(range(len(spans)), key=lambda i: spans[i])
        for a, b in zip(ordered, ordered[1:]):
            if spans[b][0] < spans[a][1]:  # the later-typed one of two overlapping intervals gets the message
                other = min(a, b)
                errors.setdefault(interval_key(weekday, max(a, b)),
                                  f"Overlaps {spans[other][0]:%H:%M}–{spans[other][1]:%H:%M}")
        if spans:
            clean[weekday] = sorted(spans)
    if errors:
        raise ValidationFailed(errors)
    return clean


def bookable_staff(session: Session, staff_id: int) -> StaffMember:
    """An active bookable staff member of this clinic; raises NotFound."""
    staff = session.get(StaffMember, staff_id) if isinstance(staff_id, int) else None
    if staff is None or not staff.active or not staff.is_bookable:
        raise NotFound("staff")
    return staff


def location_of_clinic(session: Session, location_id: int) -> Location:
    """A location of this clinic; raises NotFound."""
    loc = session.get(Location, location_id) if isinstance(location_id, int) else None
    if loc is None:
        raise NotFound("location")
    return loc


def weekly_hours(session: Session, staff_id: int, location_id: int) -> Weekly:
    """The staff member's weekly hours at the location, each day's intervals sorted."""
    out: Weekly = {}
    for wh in session.exec(select(WorkingHours).where(WorkingHours.staff_id == staff_id,
                                                      WorkingHours.location_id == location_id)):
        out.setdefault(wh.weekday, []).append((wh.start_time, wh.end_time))
    return {d: sorted(v) for d, v in sorted(out.items())}


def _text(spans: list[tuple[time, time]]) -> list[str]:
    return [f"{a:%H:%M}-{b:%H:%M}" for a, b in spans]


def replace_weekly_hours(session: Session, actor: Actor, staff_id: int, location_id: int, weekly: Weekly) -> Weekly:
    """Replace the staff member's weekly hours at the location (all days at once); audited
    "staff.hours.update" with {weekday: [old, new]} ("09:00-12:00" texts) of the changed days
    (no row when nothing changed). Raises PermissionDenied, NotFound (staff, location),
    ValidationFailed (interval_key -> message; nothing is written)."""
    actor.require(PERMISSION)
    staff = bookable_staff(session, staff_id)
    location_of_clinic(session, location_id)
    clean = validate_weekly(weekly)
    before = weekly_hours(session, staff_id, location_id)
    changes = {WEEKDAYS[d]: [_text(before.get(d, [])), _text(clean.get(d, []))]
               for d in range(7) if before.get(d, []) != clean.get(d, [])}
    if not changes:
        return clean
    for row in session.exec(select(WorkingHours).where(WorkingHours.staff_id == staff_id,
                                                       WorkingHours.location_id == location_id)):
        session.delete(row)
    session.flush()
    session.add_all([WorkingHours(org_id=actor.org_id, staff_id=staff_id, location_id=location_id, weekday=d,
                                  start_time=a, end_time=b) for d, spans in clean.items() for a, b in spans])
    record(session, actor, "staff.hours.update", "staff_member", staff_id, name=staff.display_name,
           location_id=location_id, changes=changes)
    session.flush()
    return clean


@dataclass(frozen=True)
class TimeOffInput:
    """Time off (kind "off") or an extra shift ("extra") for one staff member over
    [starts_at, ends_at) (aware instants). location_id: None for time off everywhere; an
    extra shift needs one. reason: free text, at most MAX_REASON characters."""

    staff_id: int
    kind: str
    starts_at: datetime
    ends_at: datetime
    location_id: int | None = None
    reason: str = ""


def _validate_time_off(session: Session, data: TimeOffInput) -> TimeOffInput:
    errors: dict[str, str] = {}
    if data.kind not in KINDS:
        errors["kind"] = "Choose time off or an extra shift"
    if data.starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        errors["starts_at"] = "Give the time with its UTC offset"
    elif data.ends_at <= data.starts_at:
        errors["ends_at"] = "The end must be after the start"
    elif data.kind == TIME_OFF and data.ends_at - data.starts_at > timedelta(days=MAX_TIME_OFF_DAYS):
        errors["ends_at"] = f"At most {MAX_TIME_OFF_DAYS} days at a time"
    elif data.kind == EXTRA_SHIFT and data.ends_at - data.starts_at > timedelta(hours=MAX_EXTRA_HOURS):
        errors["ends_at"] = f"An extra shift lasts at most {MAX_EXTRA_HOURS} hours"
    reason = data.reason.strip()
    if "\x00" in reason:
        errors["reason"] = "Remove the invisible control characters"
    elif len(reason) > MAX_REASON:
        errors["reason"] = f"Keep it under {MAX_REASON} characters"
    if data.location_id is not None and (not isinstance(data.location_id, int)
                                         or session.get(Location, data.location_id) is None):
        errors["location_id"] = "Choose a location"
    elif data.location_id is None and data.kind == EXTRA_SHIFT:
        errors["location_id"] = "Choose where the extra shift is"
    if not errors and data.kind == EXTRA_SHIFT:
        clash = session.exec(select(StaffTimeOff.id).where(
            StaffTimeOff.staff_id == data.staff_id, StaffTimeOff.kind == EXTRA_SHIFT,
            StaffTimeOff.starts_at < data.ends_at, StaffTimeOff.ends_at > data.starts_at)).first()
        if clash is not None:
            errors["starts_at"] = "Overlaps another extra shift of this provider"
    if errors:
        raise ValidationFailed(errors)
    return TimeOffInput(data.staff_id, data.kind, data.starts_at, data.ends_at, data.location_id, reason)


def visits_inside(session: Session, row: StaffTimeOff) -> int:
    """How many live visits (held, confirmed, checked in) of the staff member overlap the
    time off (at its location, when it names one)."""
    stmt = select(func.count()).select_from(Appointment).where(
        Appointment.provider_id == row.staff_id, Appointment.status.in_(LIVE),
        visits_overlapping(row.starts_at, row.ends_at))
    if row.location_id is not None:
        stmt = stmt.where(Appointment.location_id == row.location_id)
    return session.exec(stmt).one()


def _facts(row: StaffTimeOff) -> dict:
    return {"kind": row.kind, "starts_at": row.starts_at.isoformat(), "ends_at": row.ends_at.isoformat(),
            "location_id": row.location_id, "reason": row.reason}


def add_time_off(session: Session, actor: Actor, data: TimeOffInput) -> StaffTimeOff:
    """Record time off or an extra shift; audited "staff.time_off.create" / "staff.extra_shift.create"
    with its values. Visits already booked inside stay (visits_inside counts them).
    Raises PermissionDenied, NotFound (staff), ValidationFailed."""
    actor.require(PERMISSION)
    staff = bookable_staff(session, data.staff_id)
    clean = _validate_time_off(session, data)
    row = StaffTimeOff(org_id=actor.org_id, staff_id=clean.staff_id, location_id=clean.location_id, kind=clean.kind,
                       starts_at=clean.starts_at, ends_at=clean.ends_at, reason=clean.reason)
    session.add(row)
    session.flush()
    verb = "time_off" if clean.kind == TIME_OFF else "extra_shift"
    record(session, actor, f"staff.{verb}.create", "staff_member", staff.id, name=staff.display_name,
           entry_id=row.id, new=_facts(row))
    return row


def remove_time_off(session: Session, actor: Actor, entry_id: int) -> StaffTimeOff:
    """Delete one time-off or extra-shift entry (it is an exception to the weekly hours, not
    history); audited "staff.time_off.delete" / "staff.extra_shift.delete" with the old values.
    Raises PermissionDenied, NotFound."""
    actor.require(PERMISSION)
    row = row_for_edit(session, StaffTimeOff, entry_id, "time off")
    verb = "time_off" if row.kind == TIME_OFF else "extra_shift"
    record(session, actor, f"staff.{verb}.delete", "staff_member", row.staff_id, entry_id=row.id, old=_facts(row))
    session.delete(row)
    session.flush()
    return row


def upcoming_time_off(session: Session, staff_id: int, now: datetime) -> list[StaffTimeOff]:
    """The staff member's time off and extra shifts that have not ended by `now`, by start."""
    return list(session.exec(select(StaffTimeOff).where(StaffTimeOff.staff_id == staff_id,
                                                        StaffTimeOff.ends_at > now)
                             .order_by(StaffTimeOff.starts_at, StaffTimeOff.id)))


def hours_staff(session: Session) -> list[StaffMember]:
    """Active bookable staff, by name (whose hours the tab edits)."""
    return list(session.exec(select(StaffMember).where(StaffMember.active, StaffMember.is_bookable)
                             .order_by(StaffMember.display_name, StaffMember.id)))
