"""What the staff calendar draws besides visits: a location's closure that day, providers'
time off and extra shifts, rooms and devices out of service (read side of calendar.py).

Positions are minutes elapsed since the location's local midnight, as in calendar.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.dialects.postgresql import Range
from sqlmodel import Session, select

from medspa.domain.practice.models import Resource
from medspa.domain.practice.opening_models import LocationClosure
from medspa.domain.practice.shifts import TIME_OFF, StaffTimeOff, merge_spans, subtract_spans
from medspa.domain.scheduling.models import Occupancy, OccupancyStatus
from medspa.domain.timezones import format_clinic_clock, local_day_bounds, zone_abbreviation


@dataclass(frozen=True)
class CalendarColumn:
    """A provider (id = staff id) or a room/device (id = resource id).

    work_spans: the provider's working hours that day as (start, end) elapsed minutes.
    """

    id: int
    kind: str
    name: str
    subtitle: str
    colour: str
    work_spans: tuple[tuple[int, int], ...] = ()
    hours_label: str = ""


@dataclass(frozen=True)
class CalendarBlock:
    """An appointment, or blocked time, placed in one column.

    start_minute/end_minute: elapsed minutes since local midnight, clipped to the day.
    kind: "appointment"; "block" (a provider's blocked time, block_id = occupancy id);
    "time_off" (a provider's time off, block_id = staff_time_off id, note = its label);
    "maintenance" (a room or device out of service, block_id = occupancy id, note = reason).
    alerts: the client's alerts line ("VIP · prefers afternoons"; "" none, or for roles
    without client.read).
    forms_label: the visit's intake form completion ("Forms 1/2", "Forms done"; "" none
    needed), status words every calendar role may see (clinical.forms.visit_forms);
    consents_label likewise for its consents ("Consents 0/1", "Consents signed":
    clinical/paperwork.py).
    health_flag: the visit's contraindication flags (clinical/contraindications.py): the
    detail ("Pregnant · Allergy: albumin") for history.read roles, "Health flag: a provider
    must review" for other staff, "" when nothing is flagged.
    """

    kind: str
    column_id: int
    start_minute: int
    end_minute: int
    start_label: str
    end_label: str
    status: str
    status_label: str
    colour: str
    appointment_id: int | None = None
    block_id: int | None = None
    client_name: str = ""
    service_name: str = ""
    category: str = ""
    note: str = ""
    source: str = ""
    alerts: str = ""
    forms_label: str = ""
    consents_label: str = ""
    health_flag: str = ""


def _minutes(instant: datetime, day_start: datetime) -> int:
    return int((instant - day_start).total_seconds() // 60)


def _clip(value: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, value))


def _label(instant: datetime, tz_name: str, dst_day: bool) -> str:
    text = format_clinic_clock(instant, tz_name)
    if dst_day:
        text = f"{text} {zone_abbreviation(instant, ZoneInfo(tz_name))}"
    return text


def closure_label(session: Session, location_id: int, day: date) -> str:
    """"Closed · <reason>" when a closure of the location covers the local `day`, else ""."""
    return closure_labels(session, location_id, [day])[day]


def closure_labels(session: Session, location_id: int, days: list[date]) -> dict[date, str]:
    """day -> closure_label of each of `days` (a week's in one query)."""
    if not days:
        return {}
    rows = session.exec(select(LocationClosure.start_date, LocationClosure.end_date, LocationClosure.reason).where(
        LocationClosure.location_id == location_id, LocationClosure.start_date <= max(days),
        LocationClosure.end_date >= min(days)).order_by(LocationClosure.start_date, LocationClosure.id)).all()
    out = {}
    for day in days:
        covering = [reason for first, last, reason in rows if first <= day <= last]
        reasons = [r for r in covering if r]
        out[day] = ("Closed · " + "; ".join(reasons) if reasons else "Closed") if covering else ""
    return out


_Entry = tuple[int, datetime, datetime, str]  # (staff_time_off id, start, end, reason)


def exceptions(session: Session, location_id: int, lo: datetime, hi: datetime
                ) -> tuple[dict[int, list[_Entry]], dict[int, list[_Entry]]]:
    """(time off, extra shifts at the location) per staff id overlapping [lo, hi); time off
    with no location counts at every location (as availability reads it: practice/shifts.py)."""
    away: dict[int, list[_Entry]] = defaultdict(list)
    extra: dict[int, list[_Entry]] = defaultdict(list)
    for row in session.exec(select(StaffTimeOff).where(
            StaffTimeOff.starts_at < hi, StaffTimeOff.ends_at > lo,
            (StaffTimeOff.location_id == location_id)
            | ((StaffTimeOff.kind == TIME_OFF) & StaffTimeOff.location_id.is_(None)))
            .order_by(StaffTimeOff.starts_at, StaffTimeOff.id)):
        (away if row.kind == TIME_OFF else extra)[row.staff_id].append(
            (row.id, row.starts_at, row.ends_at, row.reason))
    return away, extra


def away_all_day(entries: list[_Entry], day: date, tz: ZoneInfo) -> bool:
    """Whether the time off `entries` cover the whole local `day` (the week grid greys it)."""
    lo, hi = local_day_bounds(day, tz)
    return subtract_spans([(lo, hi)], [(a, b) for _id, a, b, _r in entries]) == []


def with_exceptions(col: CalendarColumn, away: list[_Entry], extra: list[_Entry], day_start: datetime,
                     day_minutes: int) -> CalendarColumn:
    """The column's working spans plus its extra shifts minus its time off (what availability
    offers), so the grid greys exactly the time nobody can book."""
    def minutes(entries: list[_Entry]) -> list[tuple[int, int]]:
        return [(_clip(_minutes(lo, day_start), 0, day_minutes), _clip(_minutes(hi, day_start), 0, day_minutes))
                for _id, lo, hi, _r in entries]
    if not away and not extra:
        return col
    spans = subtract_spans(merge_spans(list(col.work_spans) + [s for s in minutes(extra) if s[1] > s[0]]),
                           minutes(away))
    return replace(col, work_spans=tuple(spans))


def span_block(kind: str, column_id: int, block_id: int, lo: datetime, hi: datetime, note: str,
                day_start: datetime, day_end: datetime, day_minutes: int, tz_name: str, dst_day: bool) -> CalendarBlock:
    """A labelled grey span of the day grid ("time_off" or a room out of service) over [lo, hi)
    clipped to the day (aware instants; minutes from the local day's start)."""
    start, end = max(lo, day_start), min(hi, day_end)
    label = "Time off" if kind == "time_off" else "Out of service"
    whole = start == day_start and end == day_end
    return CalendarBlock(
        kind=kind, column_id=column_id, start_minute=_clip(_minutes(start, day_start), 0, day_minutes),
        end_minute=_clip(_minutes(end, day_start), 0, day_minutes),
        start_label="All day" if whole else _label(start, tz_name, dst_day),
        end_label="" if whole else _label(end, tz_name, dst_day), status=kind, status_label=label, colour="gray", block_id=block_id,
        note=note)


def room_blocks(session: Session, location_id: int, resource_ids: list[int] | None, lo: datetime,
                 hi: datetime) -> list[tuple[Occupancy, Resource]]:
    """Live maintenance blocks of the location's rooms and devices (of `resource_ids` when
    given) overlapping [lo, hi)."""
    stmt = (select(Occupancy, Resource).join(Resource, Resource.id == Occupancy.resource_id)
            .where(Resource.location_id == location_id, Resource.kind.in_(("room", "device")),
                   Occupancy.kind == "block", Occupancy.status == OccupancyStatus.BOOKED,
                   Occupancy.during.op("&&")(Range(lo, hi, bounds="[)")))
            .order_by(Occupancy.during, Occupancy.id))
    if resource_ids is not None:
        stmt = stmt.where(Resource.id.in_(resource_ids or [-1]))
    return list(session.exec(stmt))


def _time_off(session: Session, staff_ids: set[int], lo: datetime, hi: datetime, day_minutes: int, tz_name: str,
              dst_day: bool) -> list[CalendarBlock]:
    """Provider blocks (kind 'block', not released) overlapping [lo, hi) of these providers."""
    if not staff_ids:
        return []
    stmt = (select(Occupancy, Resource.staff_id).join(Resource, Resource.id == Occupancy.resource_id)
            .where(Resource.kind == "provider", Resource.staff_id.in_(sorted(staff_ids)), Occupancy.kind == "block",
                   Occupancy.status != OccupancyStatus.RELEASED, Occupancy.during.op("&&")(Range(lo, hi, bounds="[)"))))
    out = []
    for occ, staff_id in session.exec(stmt):
        start, end = max(occ.during.lower, lo), min(occ.during.upper, hi)
        out.append(CalendarBlock(
            kind="block", column_id=staff_id, start_minute=_clip(_minutes(start, lo), 0, day_minutes),
            end_minute=_clip(_minutes(end, lo), 0, day_minutes), start_label=_label(start, tz_name, dst_day),
            end_label=_label(end, tz_name, dst_day), status="blocked", status_label="Blocked", colour="gray",
            block_id=occ.id, note=occ.note or "Blocked"))
    return out
