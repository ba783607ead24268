"""The staff calendar's read model: one location's day (or week) as UI-sized rows.

Positions are minutes ELAPSED since the location's local midnight, so a spring-forward day
is 1380 minutes long and a fall-back day 1500: a 09:00 block sits exactly where 09:00 is
in real time, and the repeated 01:00-02:00 hour of a fall-back day gets its own space
(hour marks carry the zone abbreviation on such days, e.g. "1 AM EDT" and "1 AM EST").
Labels are clinic wall-clock time. Nothing here writes except the audit row for a read
made by a signed-in user (the caller commits). The side panel of one appointment is in
detail.py, the names and colours in labels.py (both re-exported here).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.payments.cards import card_waiting_ids
from medspa.domain.practice.models import Resource, StaffMember, WorkingHours
from medspa.domain.practice.service import get_location, location_and_clinic_name, organization_name
from medspa.domain.scheduling.detail import AppointmentDetail, appointment_detail
from medspa.domain.clinical.paperwork import Paperwork, visit_paperwork
from medspa.domain.clinical.contraindications import calendar_flags
from medspa.domain.scheduling.calendar_marks import (
    CalendarBlock,
    CalendarColumn,
    _clip,
    _label,
    _minutes,
    _time_off,
    away_all_day,
    closure_label,
    closure_labels,
    exceptions,
    room_blocks,
    span_block,
    with_exceptions,
)
from medspa.domain.scheduling.labels import (
    STATUS_LABELS,
    WAITING_FOR_CARD,
    category_colour,
    client_name,
    resource_subtitle,
    resource_type_label,
    visit_who,
)
from medspa.domain.scheduling.models import Appointment, AppointmentStatus, Occupancy, visits_overlapping
from medspa.domain.timezones import format_clinic_clock, local_day_bounds, wall_to_utc, zone_abbreviation

VIEWS = ("providers", "rooms")
DEFAULT_FIRST_HOUR, DEFAULT_LAST_HOUR = 8, 18


@dataclass(frozen=True)
class HourMark:
    """An hour line: elapsed minute and its wall-clock label ("9 AM", "1 AM EST")."""

    minute: int
    label: str


@dataclass
class CalendarDay:
    """One location's day for one view ("providers" or "rooms")."""

    location_id: int
    location_name: str
    time_zone: str
    zone_label: str
    day: date
    day_label: str
    view: str
    day_minutes: int
    first_minute: int
    last_minute: int
    hours: list[HourMark]
    columns: list[CalendarColumn]
    blocks: list[CalendarBlock]
    now_minute: int | None = None
    is_today: bool = False
    clinic_name: str = ""  # the staff header's name: a live push carries a rename too
    closure: str = ""  # "Closed · Thanksgiving" when the location is closed that day, else ""
    notices: list[str] = field(default_factory=list)  # rooms/devices out of service (providers view)


@dataclass(frozen=True)
class WeekDay:
    """One local date of the week grid with its long and short labels and whether it is today."""

    day: date
    label: str
    short_label: str
    is_today: bool
    closure: str = ""  # "Closed · <reason>" when the location is closed that day


@dataclass(frozen=True)
class WeekEntry:
    """A compact appointment in the week grid (day_index 0 = Monday)."""

    appointment_id: int
    column_id: int
    day_index: int
    start_label: str
    client_name: str
    service_name: str
    status: str
    colour: str
    health_flag: str = ""  # its contraindication flags in the reader's words (as CalendarBlock)
    paperwork_due: str = ""  # what is still missing: "Forms 1/2 · Consents 0/1" ("" all in or none needed)


@dataclass
class CalendarWeek:
    """Seven days (Monday first) x the providers who work at the location that week."""

    location_id: int
    location_name: str
    time_zone: str
    zone_label: str
    start: date
    label: str
    days: list[WeekDay]
    columns: list[CalendarColumn]
    entries: list[WeekEntry]
    counts: dict[tuple[int, int], int] = field(default_factory=dict)
    working: set[tuple[int, int]] = field(default_factory=set)
    clinic_name: str = ""  # the staff header's name: a live push carries a rename too


# --------------------------------------------------------------------------- helpers


def _hour_marks(day_start: datetime, day_minutes: int, tz: ZoneInfo) -> list[HourMark]:
    dst_day = day_minutes != 24 * 60
    marks = []
    for minute in range(0, day_minutes, 60):
        instant = day_start + timedelta(minutes=minute)
        label = format_datetime(instant.astimezone(tz), "h a", tzinfo=tz, locale="en_US")
        if dst_day:
            label = f"{label} {zone_abbreviation(instant, tz)}"
        marks.append(HourMark(minute, label))
    return marks


def _visible_range(spans: list[tuple[int, int]], day_start: datetime, day: date, tz: ZoneInfo,
                   day_minutes: int) -> tuple[int, int]:
    """Whole hours covering every working span and block, at least 08:00-18:00 wall time."""
    lo = _minutes(wall_to_utc(day, time(DEFAULT_FIRST_HOUR), tz), day_start)
    hi = _minutes(wall_to_utc(day, time(DEFAULT_LAST_HOUR), tz), day_start)
    for start, end in spans:
        lo, hi = min(lo, start), max(hi, end)
    lo = _clip((lo // 60) * 60, 0, day_minutes)
    hi = _clip(-(-hi // 60) * 60, 0, day_minutes)
    return lo, max(hi, lo + 60)


def _check_view(view: str) -> None:
    if view not in VIEWS:
        raise ValidationFailed({"view": "Choose the providers or the rooms view"})


def _audit_read(session: Session, actor: Actor, what: str, location_id: int, day: date, now: datetime | None,
                **extra) -> None:
    if actor.user_id is not None:  # a person looked; the live pushes of an open view are not new reads
        record(session, actor, what, "location", location_id, at=now, day=day.isoformat(), **extra)


def _working_hours(session: Session, location_id: int, weekdays: set[int]) -> dict[int, dict[int, list]]:
    hours: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for staff_id, weekday, start, end in session.exec(  # columns, not entities: a week reads ~100 rows
            select(WorkingHours.staff_id, WorkingHours.weekday, WorkingHours.start_time, WorkingHours.end_time)
            .where(WorkingHours.location_id == location_id, WorkingHours.weekday.in_(sorted(weekdays)))):
        hours[staff_id][weekday].append((start, end))
    return hours


def _status_label(appt: Appointment, waiting: set[int]) -> str:
    """A block's status label: "Waiting for card" for a hold whose booking waits for its card on
    file (issue 16; `waiting`: payments.cards.card_waiting_ids), else STATUS_LABELS'."""
    return WAITING_FOR_CARD if appt.id in waiting else STATUS_LABELS.get(appt.status, appt.status)


def _appointments(session: Session, location_id: int, lo: datetime, hi: datetime):
    """(Appointment, Service, Client|None) at the location overlapping [lo, hi), expired holds left out."""
    stmt = (
        select(Appointment, Service, Client)
        .join(Service, Service.id == Appointment.service_id)
        .join(Client, Client.id == Appointment.client_id, isouter=True)
        .where(Appointment.location_id == location_id, visits_overlapping(lo, hi),
               Appointment.status != AppointmentStatus.EXPIRED)
        .order_by(Appointment.start_at, Appointment.id)
    )
    return list(session.exec(stmt))


class WeekRow(NamedTuple):
    """One visit of the week grid: only the columns an entry, its paperwork (visit_paperwork) and
    its flags (calendar_flags) read; first_name/last_name are its client's (client_name)."""

    id: int
    provider_id: int
    client_id: int | None
    service_id: int
    location_id: int
    start_at: datetime
    status: str
    source: str
    service_name: str
    category: str
    first_name: str | None
    last_name: str | None


def _week_rows(session: Session, location_id: int, lo: datetime, hi: datetime) -> list[WeekRow]:
    """The week grid's visits as _appointments selects them, as WeekRow tuples rather than
    whole Appointment, Service and Client entities (issue 20: ~1,000 visits a week, whose
    entities cost several times reading the rows)."""
    stmt = (
        select(Appointment.id, Appointment.provider_id, Appointment.client_id, Appointment.service_id,
               Appointment.location_id, Appointment.start_at, Appointment.status, Appointment.source,
               Service.name.label("service_name"), Service.category, Client.first_name, Client.last_name)
        .join(Service, Service.id == Appointment.service_id)
        .join(Client, Client.id == Appointment.client_id, isouter=True)
        .where(Appointment.location_id == location_id, visits_overlapping(lo, hi),
               Appointment.status != AppointmentStatus.EXPIRED)
        .order_by(Appointment.start_at, Appointment.id)
    )
    # Core rows (no ORM loading step: plain columns) read on the session's own connection
    return [WeekRow._make(row) for row in session.connection().execute(stmt).all()]  # fetchall: not row by row


def _provider_columns(session: Session, staff_ids: set[int], hours: dict, day: date, tz: ZoneInfo,
                      day_start: datetime, day_minutes: int) -> list[CalendarColumn]:
    if not staff_ids:
        return []
    staff = session.exec(select(StaffMember).where(StaffMember.id.in_(sorted(staff_ids)))).all()
    columns = []
    for member in sorted(staff, key=lambda m: (m.display_name.lower(), m.id)):
        spans, labels = [], []
        for wall_start, wall_end in sorted(hours.get(member.id, {}).get(day.weekday(), [])):
            lo = _clip(_minutes(wall_to_utc(day, wall_start, tz, fold=0), day_start), 0, day_minutes)
            hi = _clip(_minutes(wall_to_utc(day, wall_end, tz, fold=1), day_start), 0, day_minutes)
            if hi > lo:
                spans.append((lo, hi))
                labels.append(f"{format_clinic_clock(day_start + timedelta(minutes=lo), tz.key)}"
                              f" – {format_clinic_clock(day_start + timedelta(minutes=hi), tz.key)}")
        columns.append(CalendarColumn(member.id, "provider", member.display_name, member.title, member.color,
                                      tuple(spans), ", ".join(labels) or "Not scheduled"))
    return columns


# --------------------------------------------------------------------------- day


def calendar_day(session: Session, actor: Actor, *, location_id: int, day: date, view: str = "providers",
                 now: datetime | None = None) -> CalendarDay:
    """The day at a location: a column per provider working there that day (or per room and
    device), with appointments and provider blocks placed in local elapsed minutes.

    Providers appear when they have working hours at the location that weekday, an extra
    shift or an appointment there that day; their work_spans are what availability offers
    (weekly hours plus extra shifts, minus time off), their time off is a "time_off" block
    with its reason. Rooms and devices out of service are "maintenance" blocks in the rooms
    view and `notices` in the providers view; a closure of the location that day is
    `closure` ("Closed · <reason>"). Raises PermissionDenied, NotFound, ValidationFailed.
    """
    actor.require("calendar.read")
    _check_view(view)
    location = get_location(session, location_id)
    tz = ZoneInfo(location.time_zone)
    day_start, day_end = local_day_bounds(day, tz)
    day_minutes = _minutes(day_end, day_start)
    dst_day = day_minutes != 24 * 60
    rows = _appointments(session, location_id, day_start, day_end)
    see_alerts, waiting = actor.can("client.read"), card_waiting_ids(session, [a.id for a, _s, _c in rows])
    paperwork = visit_paperwork(session, [a for a, _s, _c in rows], now)  # status words, never answers
    flags = calendar_flags(session, actor, [a for a, _s, _c in rows], now, "calendar")  # issue 17

    def block_for(appt: Appointment, service: Service, client: Client | None, column_id: int) -> CalendarBlock:
        return CalendarBlock(
            kind="appointment", column_id=column_id,
            start_minute=_clip(_minutes(appt.start_at, day_start), 0, day_minutes),
            end_minute=_clip(_minutes(appt.end_at, day_start), 0, day_minutes),
            start_label=_label(appt.start_at, location.time_zone, dst_day),
            end_label=_label(appt.end_at, location.time_zone, dst_day),
            status=appt.status, status_label=_status_label(appt, waiting),
            colour=category_colour(service.category), appointment_id=appt.id,
            client_name=client_name(client) if appt.id in waiting else visit_who(appt.status, appt.source, client),
            service_name=service.name, category=service.category, source=appt.source,
            alerts=client.alerts if client is not None and see_alerts else "", health_flag=flags.get(appt.id, ""),
            forms_label=paperwork.get(appt.id, Paperwork()).forms,
            consents_label=paperwork.get(appt.id, Paperwork()).consents)

    blocks: list[CalendarBlock] = []
    notices: list[str] = []
    if view == "providers":
        columns, blocks, notices = _providers_part(session, location_id, day, tz, rows, block_for)
    else:
        resources = session.exec(select(Resource).where(Resource.location_id == location_id,
                                                        Resource.kind.in_(("room", "device")), Resource.active)
                                 .order_by(Resource.kind.desc(), Resource.name, Resource.id)).all()
        columns = [CalendarColumn(r.id, r.kind, r.name, resource_subtitle(r.kind, r.name, r.resource_type), "")
                   for r in resources]
        by_id = {appt.id: (appt, svc, client) for appt, svc, client in rows}
        if by_id and columns:
            occ = session.exec(select(Occupancy.appointment_id, Occupancy.resource_id).where(
                Occupancy.appointment_id.in_(sorted(by_id)), Occupancy.resource_id.in_([c.id for c in columns]),
                Occupancy.kind == "appointment")).all()
            seen: set[tuple[int, int]] = set()
            for appointment_id, resource_id in occ:
                if (appointment_id, resource_id) not in seen:  # released + rebooked rows of one visit
                    seen.add((appointment_id, resource_id))
                    blocks.append(block_for(*by_id[appointment_id], resource_id))
        blocks += [span_block("maintenance", r.id, o.id, o.during.lower, o.during.upper, o.note or "Out of service",
                               day_start, day_end, day_minutes, location.time_zone, dst_day)
                   for o, r in room_blocks(session, location_id, [c.id for c in columns], day_start, day_end)]
    blocks.sort(key=lambda b: (b.column_id, b.start_minute, b.end_minute, b.appointment_id or 0))
    # whole-day time off and maintenance do not stretch the grid to midnight
    spans = [s for c in columns for s in c.work_spans] + [(b.start_minute, b.end_minute) for b in blocks
                                                          if b.status != AppointmentStatus.CANCELLED
                                                          and b.kind in ("appointment", "block")]
    first, last = _visible_range(spans, day_start, day, tz, day_minutes)
    now_minute = None
    if now is not None and day_start <= now < day_end:
        now_minute = _minutes(now, day_start)
    _audit_read(session, actor, "calendar.read", location_id, day, now, view=view, appointments=len(rows))
    return CalendarDay(
        location_id=location.id, location_name=location.name, time_zone=location.time_zone,
        zone_label=zone_abbreviation(day_start + timedelta(hours=12), tz), day=day,
        day_label=format_date(day, "EEEE, MMMM d, y", locale="en_US"), view=view, day_minutes=day_minutes,
        first_minute=first, last_minute=last, hours=_hour_marks(day_start, day_minutes, tz), columns=columns,
        blocks=blocks, now_minute=now_minute, is_today=now is not None and now.astimezone(tz).date() == day,
        clinic_name=organization_name(session, actor.org_id), closure=closure_label(session, location_id, day),
        notices=notices)


def _providers_part(session: Session, location_id: int, day: date, tz: ZoneInfo, rows: list, block_for
                    ) -> tuple[list[CalendarColumn], list[CalendarBlock], list[str]]:
    """The providers view's columns (working spans with extra shifts, minus time off), visits,
    provider blocks and time off, and the notices of rooms and devices out of service."""
    day_start, day_end = local_day_bounds(day, tz)
    day_minutes = _minutes(day_end, day_start)
    dst_day = day_minutes != 24 * 60
    tz_name = tz.key
    hours = _working_hours(session, location_id, {day.weekday()})
    staff_ids = {sid for sid, weekly in hours.items() if weekly.get(day.weekday())}
    staff_ids |= {appt.provider_id for appt, _, _ in rows}
    away, extra = exceptions(session, location_id, day_start, day_end)
    staff_ids |= {sid for sid, spans in extra.items()
                  if any(lo.astimezone(tz).date() == day for _id, lo, _hi, _r in spans)}
    columns = _provider_columns(session, staff_ids, hours, day, tz, day_start, day_minutes)
    columns = [with_exceptions(c, away.get(c.id, []), extra.get(c.id, []), day_start, day_minutes)
               for c in columns]
    blocks = [block_for(appt, svc, client, appt.provider_id) for appt, svc, client in rows]
    blocks += _time_off(session, staff_ids, day_start, day_end, day_minutes, tz_name, dst_day)
    blocks += [span_block("time_off", sid, entry_id, lo, hi, reason or "Time off", day_start, day_end,
                           day_minutes, tz_name, dst_day)
               for sid, spans in away.items() if sid in staff_ids for entry_id, lo, hi, reason in spans]
    notices = [f"{r.name} out of service {_label(max(o.during.lower, day_start), tz_name, dst_day)}"
               f" – {_label(min(o.during.upper, day_end), tz_name, dst_day)} · {o.note}"
               for o, r in room_blocks(session, location_id, None, day_start, day_end)]
    return columns, blocks, notices


# --------------------------------------------------------------------------- week


def week_start(day: date) -> date:
    """The Monday of day's week."""
    return day - timedelta(days=day.weekday())


def calendar_week(session: Session, actor: Actor, *, location_id: int, day: date,
                  now: datetime | None = None) -> CalendarWeek:
    """The week (Monday to Sunday) containing `day`: providers x days with compact entries
    and per-cell counts of live appointments (cancelled ones are listed, not counted). A cell
    is working when the provider has weekly hours that weekday, the location is not closed
    (WeekDay.closure) and no time off covers the whole local day."""
    actor.require("calendar.read")
    location, clinic_name = location_and_clinic_name(session, location_id, actor.org_id)
    tz = ZoneInfo(location.time_zone)
    start = week_start(day)
    days = [start + timedelta(days=i) for i in range(7)]
    lo, _ = local_day_bounds(days[0], tz)
    _, hi = local_day_bounds(days[-1], tz)
    rows = _week_rows(session, location_id, lo, hi)
    hours = _working_hours(session, location_id, set(range(7)))
    staff_ids = {sid for sid, weekly in hours.items() if any(weekly.values())} | {a.provider_id for a in rows}
    columns = []
    if staff_ids:
        staff = session.exec(select(StaffMember.id, StaffMember.display_name, StaffMember.title, StaffMember.color)
                             .where(StaffMember.id.in_(sorted(staff_ids)))).all()
        columns = [CalendarColumn(m.id, "provider", m.display_name, m.title, m.color)
                   for m in sorted(staff, key=lambda m: (m.display_name.lower(), m.id))]
    today = now.astimezone(tz).date() if now is not None else None
    paperwork = visit_paperwork(session, rows, now)  # as the day's blocks
    flags = calendar_flags(session, actor, rows, now, "calendar")
    entries, counts = [], defaultdict(int)
    dues = {p: p.due for p in set(paperwork.values())}  # a few distinct (frozen) Paperwork for ~1,000 visits
    placed: dict[datetime, tuple[int, str]] = {}  # start -> (day index, clock label): 12 providers share slots
    for appt in rows:
        if appt.start_at not in placed:
            placed[appt.start_at] = ((appt.start_at.astimezone(tz).date() - start).days,
                                     format_clinic_clock(appt.start_at, location.time_zone))
        index, clock = placed[appt.start_at]
        if not 0 <= index < 7:
            continue
        client = appt if appt.client_id is not None else None  # the row carries first_name, last_name
        entries.append(WeekEntry(appt.id, appt.provider_id, index, clock,
                                 visit_who(appt.status, appt.source, client), appt.service_name, appt.status,
                                 category_colour(appt.category), flags.get(appt.id, ""),
                                 dues[paperwork[appt.id]] if appt.id in paperwork else ""))
        if appt.status != AppointmentStatus.CANCELLED:
            counts[(appt.provider_id, index)] += 1
    closed = closure_labels(session, location_id, days)
    away, _extra = exceptions(session, location_id, lo, hi)
    working = {(sid, i) for sid, weekly in hours.items() for i, d in enumerate(days)
               if weekly.get(d.weekday()) and not closed[d]
               and not (sid in away and away_all_day(away[sid], d, tz))}  # most have no time off that week
    _audit_read(session, actor, "calendar.read_week", location_id, start, now, appointments=len(rows))
    end = days[-1]
    label = (f"{format_date(start, 'MMM d', locale='en_US')} – {format_date(end, 'MMM d, y', locale='en_US')}")
    return CalendarWeek(
        location_id=location.id, location_name=location.name, time_zone=location.time_zone,
        zone_label=zone_abbreviation(lo + timedelta(days=3), tz), start=start, label=label,
        days=[WeekDay(d, format_date(d, "EEE, MMM d", locale="en_US"), format_date(d, "EEE d", locale="en_US"),
                      d == today, closed[d]) for d in days],
        columns=columns, entries=entries, counts=dict(counts), working=working, clinic_name=clinic_name)


# --------------------------------------------------------------------------- detail


__all__ = ["calendar_day", "calendar_week", "appointment_detail", "CalendarDay", "CalendarWeek", "CalendarBlock",
           "CalendarColumn", "HourMark", "WeekDay", "WeekEntry", "AppointmentDetail", "category_colour", "week_start",
           "resource_type_label", "resource_subtitle",
           "STATUS_LABELS", "VIEWS"]
