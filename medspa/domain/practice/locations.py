"""The Locations tab of /settings (settings.write): a location's details, its weekly opening
hours and its closures. Services take a session and never commit; each change writes its
audit row (old and new values) in the caller's transaction. Bad input raises
ValidationFailed with one message per field and writes nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from medspa.domain.audit.service import record
from medspa.domain.changes import apply_changes, row_for_edit
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.phones import normalize_phone
from medspa.domain.practice.models import Location
from medspa.domain.practice.opening_models import LocationClosure, LocationHours
from medspa.domain.practice.service import validate_time_zone
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.timezones import local_midnight

PERMISSION = "settings.write"
MAX_NAME, MAX_ADDRESS, MAX_REASON = 120, 300, 200
MAX_WINDOW_HOURS = 24 * 30
MAX_SPANS_PER_DAY = 4
MAX_CLOSURE_DAYS = 366
DEFAULT_PHONE_REGION = "US"  # numbers typed without a country code (no clinic country yet)
KEPT_STATUSES = (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN)  # visits a closure keeps

Weekly = dict[int, list[tuple[time, time]]]


@dataclass(frozen=True)
class LocationInput:
    """A location's details as the form sends them: text as typed (stripped here), the IANA
    time zone name, the phone as typed ("" for none; stored E.164), the cancellation
    window in whole hours before the start and whether a cancellation inside it keeps the
    deposit (False: refunded however late; scheduling.policy)."""

    name: str
    time_zone: str
    address: str = ""
    phone: str = ""
    cancellation_window_hours: int = 24
    late_cancel_keeps_deposit: bool = True
    late_reschedule_is_late_cancel: bool = False  # a client's move inside the window (scheduling.reschedule)
    # cards on file (issue 16): online booking saves the client's card before confirming
    card_required: bool = False
    # --- recurring series (issue 16): the deposit for each visit of a series, not only the first
    series_deposit_each_visit: bool = False


def _clean_text(errors: dict, key: str, value: str, limit: int, empty: str = "") -> str:
    if "\x00" in value:
        errors[key] = "Remove the invisible control characters"
    elif empty and not value.strip():
        errors[key] = empty
    elif len(value.strip()) > limit:
        errors[key] = f"Keep it under {limit} characters"
    return value.strip()


def validate_location(data: LocationInput) -> LocationInput:
    """`data` cleaned (stripped, phone in E.164) or ValidationFailed (field -> message)."""
    errors: dict[str, str] = {}
    name = _clean_text(errors, "name", data.name, MAX_NAME, "Give the location a name")
    address = _clean_text(errors, "address", data.address, MAX_ADDRESS)
    try:
        validate_time_zone(data.time_zone.strip())
    except ValidationFailed:
        errors["time_zone"] = "Choose a time zone from the list, e.g. America/New_York"
    phone = ""
    if data.phone.strip():
        try:
            phone = normalize_phone(data.phone.strip()[:40], DEFAULT_PHONE_REGION)
        except ValueError as exc:
            errors["phone"] = str(exc)
    if not 0 <= data.cancellation_window_hours <= MAX_WINDOW_HOURS:
        errors["cancellation_window_hours"] = f"Between 0 and {MAX_WINDOW_HOURS} hours"
    if not isinstance(data.late_cancel_keeps_deposit, bool):
        errors["late_cancel_keeps_deposit"] = "Choose whether a late cancellation keeps the deposit"
    if not isinstance(data.late_reschedule_is_late_cancel, bool):
        errors["late_reschedule_is_late_cancel"] = "Choose how a late reschedule counts"
    if not isinstance(data.card_required, bool):  # cards on file (issue 16)
        errors["card_required"] = "Choose whether booking online needs a card on file"
    # --- recurring series (issue 16)
    if not isinstance(data.series_deposit_each_visit, bool):
        errors["series_deposit_each_visit"] = "Choose which visits of a series take the deposit"
    # --- end recurring series
    if errors:
        raise ValidationFailed(errors)
    return dataclasses.replace(data, name=name, time_zone=data.time_zone.strip(), address=address, phone=phone)


_FIELDS = ("name", "time_zone", "address", "phone", "cancellation_window_hours", "late_cancel_keeps_deposit",
           "late_reschedule_is_late_cancel",
           "card_required",  # cards on file (issue 16)
           "series_deposit_each_visit",  # recurring series (issue 16)
           )


def create_location(session: Session, actor: Actor, data: LocationInput) -> Location:
    """Add a location (audited "location.create" with every value). Raises PermissionDenied,
    ValidationFailed."""
    actor.require(PERMISSION)
    clean = validate_location(data)
    loc = Location(org_id=actor.org_id, **{k: getattr(clean, k) for k in _FIELDS})
    session.add(loc)
    session.flush()
    record(session, actor, "location.create", "location", loc.id, new={k: getattr(clean, k) for k in _FIELDS})
    return loc


def location_for_edit(session: Session, location_id: int) -> Location:
    """The clinic's location, locked for the change; NotFound for any other id."""
    return row_for_edit(session, Location, location_id, "location")


def update_location(session: Session, actor: Actor, location_id: int, data: LocationInput) -> Location:
    """Change a location's details; audited "location.update" with {field: [old, new]} of the
    changed fields (no row when nothing changed). Raises PermissionDenied, NotFound, ValidationFailed."""
    actor.require(PERMISSION)
    loc = location_for_edit(session, location_id)
    clean = validate_location(data)
    changes = apply_changes(loc, clean, _FIELDS)
    if changes:
        record(session, actor, "location.update", "location", loc.id, name=loc.name, changes=changes)
    session.flush()
    return loc


def validate_hours(weekly: Weekly) -> Weekly:
    """weekday -> sorted spans, or ValidationFailed keyed "hours-<weekday>": each span must end
    after it starts, spans of a day must not overlap, at most MAX_SPANS_PER_DAY a day."""
    errors: dict[str, str] = {}
    clean: Weekly = {}
    for weekday, spans in weekly.items():
        key = f"hours-{weekday}"
        if not (isinstance(weekday, int) and 0 <= weekday <= 6):
            raise ValidationFailed({"hours": "A weekday is 0 (Monday) to 6 (Sunday)"})
        spans = sorted(spans)
        if len(spans) > MAX_SPANS_PER_DAY:
            errors[key] = f"At most {MAX_SPANS_PER_DAY} intervals a day"
        elif any(end <= start for start, end in spans):
            errors[key] = "Each interval must end after it starts"
        elif any(spans[i][1] > spans[i + 1][0] for i in range(len(spans) - 1)):
            errors[key] = "Intervals overlap: join them or fix the times"
        if spans:
            clean[weekday] = spans
    if errors:
        raise ValidationFailed(errors)
    return clean


def hours_of(session: Session, location_id: int) -> Weekly:
    """The location's opening hours: weekday -> sorted [(start, end)] (empty: none set)."""
    week: Weekly = {}
    for row in session.exec(select(LocationHours).where(LocationHours.location_id == location_id)):
        week.setdefault(row.weekday, []).append((row.start_time, row.end_time))
    return {d: sorted(s) for d, s in sorted(week.items())}


def _hours_json(week: Weekly) -> dict[str, list[list[str]]]:
    return {str(d): [[s.strftime("%H:%M"), e.strftime("%H:%M")] for s, e in spans] for d, spans in week.items()}


def set_location_hours(session: Session, actor: Actor, location_id: int, weekly: Weekly) -> Weekly:
    """Replace the opening hours (an empty `weekly`: none, open whenever providers work);
    audited "location.hours.set" with the old and new week. Raises PermissionDenied, NotFound,
    ValidationFailed."""
    actor.require(PERMISSION)
    loc = location_for_edit(session, location_id)
    clean = validate_hours(weekly)
    before = hours_of(session, loc.id)
    if before == clean:
        return clean
    for row in session.exec(select(LocationHours).where(LocationHours.location_id == loc.id)):
        session.delete(row)
    session.flush()
    for weekday, spans in clean.items():
        session.add_all(LocationHours(org_id=actor.org_id, location_id=loc.id, weekday=weekday, start_time=s,
                                      end_time=e) for s, e in spans)
    record(session, actor, "location.hours.set", "location", loc.id, name=loc.name,
           changes={"hours": [_hours_json(before), _hours_json(clean)]})
    session.flush()
    return clean


def save_location(session: Session, actor: Actor, location_id: int | None, data: LocationInput,
                  weekly: Weekly) -> Location:
    """Create (location_id None) or change a location with its opening hours in one go: both
    are validated before anything is written, so a bad interval leaves the details unsaved
    too. Raises PermissionDenied, NotFound, ValidationFailed (every bad field at once)."""
    actor.require(PERMISSION)
    errors: dict[str, str] = {}
    for check, arg in ((validate_location, data), (validate_hours, weekly)):
        try:
            check(arg)
        except ValidationFailed as exc:
            errors |= exc.fields
    if errors:
        raise ValidationFailed(errors)
    loc = (create_location(session, actor, data) if location_id is None
           else update_location(session, actor, location_id, data))
    set_location_hours(session, actor, loc.id, weekly)
    return loc


def visits_between(session: Session, location: Location, first: date, last: date) -> int:
    """How many confirmed or checked-in visits at `location` start on local dates first..last."""
    tz = ZoneInfo(location.time_zone)
    lo, hi = local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
    return session.exec(select(func.count()).select_from(Appointment).where(
        Appointment.location_id == location.id, Appointment.status.in_(KEPT_STATUSES),
        Appointment.start_at >= lo, Appointment.start_at < hi)).one()


def add_closure(session: Session, actor: Actor, location_id: int, start_date: date | None,
                end_date: date | None, reason: str) -> LocationClosure:
    """Close the location from start_date to end_date (None: that one day), both inclusive.
    Visits already booked then are kept (visits_between counts them for a warning). Audited
    "location.closure.add". Raises PermissionDenied, NotFound, ValidationFailed (start_date,
    end_date, reason)."""
    actor.require(PERMISSION)
    loc = location_for_edit(session, location_id)
    errors: dict[str, str] = {}
    reason = _clean_text(errors, "reason", reason, MAX_REASON, "Say why, e.g. Public holiday")
    if start_date is None:
        errors["start_date"] = "Choose the first closed day"
    end_date = end_date or start_date
    if start_date and end_date < start_date:
        errors["end_date"] = "The last day cannot be before the first"
    elif start_date and (end_date - start_date).days >= MAX_CLOSURE_DAYS:
        errors["end_date"] = f"At most {MAX_CLOSURE_DAYS} days at a time"
    if errors:
        raise ValidationFailed(errors)
    closure = LocationClosure(org_id=actor.org_id, location_id=loc.id, start_date=start_date, end_date=end_date,
                              reason=reason)
    session.add(closure)
    session.flush()
    record(session, actor, "location.closure.add", "location_closure", closure.id, location_id=loc.id,
           new={"start_date": start_date.isoformat(), "end_date": end_date.isoformat(), "reason": reason})
    return closure


def remove_closure(session: Session, actor: Actor, closure_id: int) -> LocationClosure:
    """Reopen: delete a closure (audited "location.closure.remove" with its old values).
    Raises PermissionDenied, NotFound."""
    actor.require(PERMISSION)
    closure = row_for_edit(session, LocationClosure, closure_id, "closure")
    record(session, actor, "location.closure.remove", "location_closure", closure.id,
           location_id=closure.location_id, old={"start_date": closure.start_date.isoformat(),
                                                 "end_date": closure.end_date.isoformat(), "reason": closure.reason})
    session.delete(closure)
    session.flush()
    return closure


def closures_of(session: Session, location_id: int, since: date) -> list[LocationClosure]:
    """The location's closures that end on or after `since`, soonest first."""
    return list(session.exec(select(LocationClosure).where(
        LocationClosure.location_id == location_id, LocationClosure.end_date >= since)
        .order_by(LocationClosure.start_date, LocationClosure.id)))


def all_locations(session: Session, actor: Actor) -> list[Location]:
    """The clinic's locations by name (settings.write)."""
    actor.require(PERMISSION)
    return list(session.exec(select(Location).order_by(Location.name, Location.id)))
