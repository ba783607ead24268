"""The staff calendar's read model: one location's day (or week) as UI-sized rows.

Positions are minutes ELAPSED since the location's local midnight, so a spring-forward day
is 1380 minutes long and a fall-back day 1500: a 09:00 block sits exactly where 09:00 is
in real time, and the repeated 01:00-02:00 hour of a fall-back day gets its own space
(hour marks carry the zone abbreviation on such days, e.g. "1 AM EDT" and "1 AM EST").
Labels are clinic wall-clock time. Nothing here writes except the audit row for a read
made by a signed-in user (the caller commits).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from sqlalchemy.dialects.postgresql import Range
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.money import format_money
from medspa.domain.practice.models import Location, Resource, StaffMember, WorkingHours
from medspa.domain.practice.service import get_location
from medspa.domain.scheduling.models import Appointment, AppointmentStatus, Occupancy, OccupancyStatus
from medspa.domain.scheduling.policy import is_late_cancellation
from medspa.domain.timezones import format_clinic_clock, local_day_bounds, wall_to_utc, zone_abbreviation

VIEWS = ("providers", "rooms")
STATUS_LABELS = {
    AppointmentStatus.HELD: "Held",
    AppointmentStatus.CONFIRMED: "Confirmed",
    AppointmentStatus.CHECKED_IN: "Checked in",
    AppointmentStatus.COMPLETED: "Completed",
    AppointmentStatus.CANCELLED: "Cancelled",
    AppointmentStatus.NO_SHOW: "No-show",
    AppointmentStatus.EXPIRED: "Expired",
}
# the panel shows the paid deposit of a visit in these statuses (not of a cancelled or expired one)
DEPOSIT_SHOWN_STATUSES = (AppointmentStatus.CONFIRMED, AppointmentStatus.HELD, AppointmentStatus.CHECKED_IN,
                          AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)
# a Radix colour name per service category (the UI turns it into CSS variables)
CATEGORY_COLOURS = {
    "Neuromodulators": "violet",
    "Dermal fillers": "plum",
    "Laser hair removal": "orange",
    "IPL photofacial": "amber",
    "Microneedling": "crimson",
    "Chemical peels": "jade",
    "HydraFacial": "cyan",
    "Body contouring": "indigo",
    "Consultations": "blue",
}
_FALLBACK_COLOURS = ("teal", "iris", "grass", "brown", "sky", "pink")
DEFAULT_FIRST_HOUR, DEFAULT_LAST_HOUR = 8, 18


# resource types with a fixed label; other types are title-cased (see resource_type_label)
RESOURCE_TYPE_LABELS = {
    "ipl_bbl": "IPL / BBL",
    "treatment_room": "Treatment room",
}
RESOURCE_KIND_LABELS = {"room": "Room", "device": "Device"}
_ACRONYMS = frozenset({"ipl", "bbl", "rf", "led", "hifu", "co2"})


def resource_type_label(resource_type: str) -> str:
    """A human label of a resource type: ipl_bbl -> "IPL / BBL", laser_gentlemax -> "Laser",
    treatment_room -> "Treatment room", rf_microneedling -> "RF Microneedling"."""
    key = (resource_type or "").strip().lower()
    if not key:
        return ""
    if key in RESOURCE_TYPE_LABELS:
        return RESOURCE_TYPE_LABELS[key]
    if key == "laser" or key.startswith("laser_"):
        return "Laser"
    words = [w for w in key.replace("-", "_").split("_") if w]
    return " ".join(w.upper() if w in _ACRONYMS else w.capitalize() for w in words)


def resource_subtitle(kind: str, name: str, resource_type: str) -> str:
    """The column subtitle of a room or device: "Room · Treatment room", "Device · Laser"; just
    the kind when the type label would only repeat the name ("Facial Room" of type facial_room)."""
    kind_label = RESOURCE_KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())
    type_label = resource_type_label(resource_type)
    if type_label.lower() in ("", (name or "").strip().lower(), kind_label.lower()):
        return kind_label
    return f"{kind_label} · {type_label}"


def category_colour(category: str) -> str:
    """The palette colour of a service category (stable for unknown categories too)."""
    if category in CATEGORY_COLOURS:
        return CATEGORY_COLOURS[category]
    return _FALLBACK_COLOURS[sum(category.encode()) % len(_FALLBACK_COLOURS)]


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
    """An appointment (or a provider's blocked time) placed in one column.

    start_minute/end_minute: elapsed minutes since local midnight, clipped to the day.
    kind: "appointment" or "block" (time off; appointment_id None, block_id set).
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


@dataclass(frozen=True)
class WeekDay:
    day: date
    label: str
    short_label: str
    is_today: bool


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


@dataclass(frozen=True)
class AppointmentDetail:
    """The side panel of one appointment; contact fields are empty without client.contact.read."""

    id: int
    reference: str
    status: str
    status_label: str
    client_id: int | None
    client_name: str
    contact_visible: bool
    client_phone: str
    client_email: str
    service_name: str
    category: str
    colour: str
    duration_minutes: int
    provider_name: str
    resources: list[str]
    location_name: str
    time_zone: str
    date_label: str
    time_label: str
    source: str
    price: str
    deposit_paid: str
    deposit_paid_cents: int
    currency: str
    actions: list[str]
    cancel_late: bool
    cancel_policy: str
    cancellation_window_hours: int
    notes: str
    # checkout (payments/checkout.py), integer cents: checked_out = a sale line exists; the
    # figures are filled only for actors with payment.take and a checked-in/completed visit
    checked_out: bool = False
    sale_cents: int = 0
    applied_cents: int = 0
    balance_cents: int = 0
    paid_at_checkout_cents: int = 0


# --------------------------------------------------------------------------- helpers


def _minutes(instant: datetime, day_start: datetime) -> int:
    return int((instant - day_start).total_seconds() // 60)


def _clip(value: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, value))


def _client_name(client: Client | None) -> str:
    if client is None:
        return "Walk-in"
    return f"{client.first_name} {client.last_name}".strip()


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


def _label(instant: datetime, tz_name: str, dst_day: bool) -> str:
    text = format_clinic_clock(instant, tz_name)
    if dst_day:
        text = f"{text} {zone_abbreviation(instant, ZoneInfo(tz_name))}"
    return text


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
    for wh in session.exec(select(WorkingHours).where(WorkingHours.location_id == location_id,
                                                      WorkingHours.weekday.in_(sorted(weekdays)))):
        hours[wh.staff_id][wh.weekday].append((wh.start_time, wh.end_time))
    return hours


def _appointments(session: Session, location_id: int, lo: datetime, hi: datetime):
    """(Appointment, Service, Client|None) at the location overlapping [lo, hi), expired holds left out."""
    stmt = (
        select(Appointment, Service, Client)
        .join(Service, Service.id == Appointment.service_id)
        .join(Client, Client.id == Appointment.client_id, isouter=True)
        .where(Appointment.location_id == location_id, Appointment.start_at < hi, Appointment.end_at > lo,
               Appointment.status != AppointmentStatus.EXPIRED)
        .order_by(Appointment.start_at, Appointment.id)
    )
    return list(session.exec(stmt))


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

    Providers appear when they have working hours at the location that weekday or an
    appointment there that day. Raises PermissionDenied, NotFound, ValidationFailed.
    """
    actor.require("calendar.read")
    _check_view(view)
    location = get_location(session, location_id)
    tz = ZoneInfo(location.time_zone)
    day_start, day_end = local_day_bounds(day, tz)
    day_minutes = _minutes(day_end, day_start)
    dst_day = day_minutes != 24 * 60
    rows = _appointments(session, location_id, day_start, day_end)

    def block_for(appt: Appointment, service: Service, client: Client | None, column_id: int) -> CalendarBlock:
        return CalendarBlock(
            kind="appointment", column_id=column_id,
            start_minute=_clip(_minutes(appt.start_at, day_start), 0, day_minutes),
            end_minute=_clip(_minutes(appt.end_at, day_start), 0, day_minutes),
            start_label=_label(appt.start_at, location.time_zone, dst_day),
            end_label=_label(appt.end_at, location.time_zone, dst_day),
            status=appt.status, status_label=STATUS_LABELS.get(appt.status, appt.status),
            colour=category_colour(service.category), appointment_id=appt.id, client_name=_client_name(client),
            service_name=service.name, category=service.category, source=appt.source)

    blocks: list[CalendarBlock] = []
    if view == "providers":
        hours = _working_hours(session, location_id, {day.weekday()})
        staff_ids = {sid for sid, weekly in hours.items() if weekly.get(day.weekday())}
        staff_ids |= {appt.provider_id for appt, _, _ in rows}
        columns = _provider_columns(session, staff_ids, hours, day, tz, day_start, day_minutes)
        blocks = [block_for(appt, svc, client, appt.provider_id) for appt, svc, client in rows]
        blocks += _time_off(session, staff_ids, day_start, day_end, day_minutes, location.time_zone, dst_day)
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
    blocks.sort(key=lambda b: (b.column_id, b.start_minute, b.end_minute, b.appointment_id or 0))
    spans = [s for c in columns for s in c.work_spans] + [(b.start_minute, b.end_minute) for b in blocks
                                                          if b.status != AppointmentStatus.CANCELLED]
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
        blocks=blocks, now_minute=now_minute, is_today=now is not None and now.astimezone(tz).date() == day)


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


# --------------------------------------------------------------------------- week


def week_start(day: date) -> date:
    """The Monday of day's week."""
    return day - timedelta(days=day.weekday())


def calendar_week(session: Session, actor: Actor, *, location_id: int, day: date,
                  now: datetime | None = None) -> CalendarWeek:
    """The week (Monday to Sunday) containing `day`: providers x days with compact entries
    and per-cell counts of live appointments (cancelled ones are listed, not counted)."""
    actor.require("calendar.read")
    location = get_location(session, location_id)
    tz = ZoneInfo(location.time_zone)
    start = week_start(day)
    days = [start + timedelta(days=i) for i in range(7)]
    lo, _ = local_day_bounds(days[0], tz)
    _, hi = local_day_bounds(days[-1], tz)
    rows = _appointments(session, location_id, lo, hi)
    hours = _working_hours(session, location_id, set(range(7)))
    staff_ids = {sid for sid, weekly in hours.items() if any(weekly.values())} | {a.provider_id for a, _, _ in rows}
    columns = []
    if staff_ids:
        staff = session.exec(select(StaffMember).where(StaffMember.id.in_(sorted(staff_ids)))).all()
        columns = [CalendarColumn(m.id, "provider", m.display_name, m.title, m.color)
                   for m in sorted(staff, key=lambda m: (m.display_name.lower(), m.id))]
    today = now.astimezone(tz).date() if now is not None else None
    entries, counts = [], defaultdict(int)
    for appt, svc, client in rows:
        index = (appt.start_at.astimezone(tz).date() - start).days
        if not 0 <= index < 7:
            continue
        entries.append(WeekEntry(appt.id, appt.provider_id, index, format_clinic_clock(appt.start_at, location.time_zone),
                                 _client_name(client), svc.name, appt.status, category_colour(svc.category)))
        if appt.status != AppointmentStatus.CANCELLED:
            counts[(appt.provider_id, index)] += 1
    working = {(sid, i) for sid, weekly in hours.items() for i, d in enumerate(days) if weekly.get(d.weekday())}
    _audit_read(session, actor, "calendar.read_week", location_id, start, now, appointments=len(rows))
    end = days[-1]
    label = (f"{format_date(start, 'MMM d', locale='en_US')} – {format_date(end, 'MMM d, y', locale='en_US')}")
    return CalendarWeek(
        location_id=location.id, location_name=location.name, time_zone=location.time_zone,
        zone_label=zone_abbreviation(lo + timedelta(days=3), tz), start=start, label=label,
        days=[WeekDay(d, format_date(d, "EEE, MMM d", locale="en_US"), format_date(d, "EEE d", locale="en_US"),
                      d == today) for d in days],
        columns=columns, entries=entries, counts=dict(counts), working=working)


# --------------------------------------------------------------------------- detail


def _allowed_actions(actor: Actor, appt: Appointment, today: date, visit_day: date) -> list[str]:
    actions = []
    on_or_after = today >= visit_day
    if appt.status == AppointmentStatus.CONFIRMED and on_or_after and actor.can("appointment.check_in"):
        actions.append("check_in")
    if (appt.status in (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN) and on_or_after
            and actor.can("appointment.update_status")):
        actions.append("complete")
    if appt.status == AppointmentStatus.CONFIRMED and on_or_after and actor.can("appointment.update_status"):
        actions.append("no_show")
    if appt.status in (AppointmentStatus.CONFIRMED, AppointmentStatus.HELD) and actor.can("appointment.cancel"):
        actions.append("cancel")
    return actions


def _checkout_figures(session: Session, actor: Actor, appt: Appointment) -> dict:
    """checked_out and, for payment.take on a checked-in/completed visit, the checkout quote."""
    from medspa.domain.payments.checkout import CHECKOUT_STATUSES, checkout_quote, is_checked_out

    if appt.status not in CHECKOUT_STATUSES:
        return {}
    if not actor.can("payment.take"):
        return {"checked_out": is_checked_out(session, appt.id)}
    q = checkout_quote(session, actor, appt.id)
    return {"checked_out": q.checked_out, "sale_cents": q.price_cents, "applied_cents": q.applied_cents,
            "balance_cents": q.balance_cents, "paid_at_checkout_cents": q.paid_cents}


def appointment_detail(session: Session, actor: Actor, appointment_id: int, *, now: datetime) -> AppointmentDetail:
    """Everything the calendar's side panel shows, with the actions this actor may take now
    ("checkout" for a checked-in/completed visit not checked out yet, with payment.take).

    cancel_late / cancel_policy say whether cancelling now keeps or refunds the paid deposit
    (the location's cancellation window). Raises PermissionDenied, NotFound.
    """
    from medspa.domain.payments.service import succeeded_deposit  # payments depends on scheduling models

    actor.require("calendar.read")
    row = session.exec(
        select(Appointment, Service, Client, StaffMember, Location)
        .join(Service, Service.id == Appointment.service_id)
        .join(StaffMember, StaffMember.id == Appointment.provider_id)
        .join(Location, Location.id == Appointment.location_id)
        .join(Client, Client.id == Appointment.client_id, isouter=True)
        .where(Appointment.id == appointment_id)).first()
    if row is None:
        raise NotFound("appointment")
    appt, svc, client, provider, location = row
    tz = ZoneInfo(location.time_zone)
    resources = list(session.exec(
        select(Resource.name).join(Occupancy, Occupancy.resource_id == Resource.id)
        .where(Occupancy.appointment_id == appt.id, Resource.kind.in_(("room", "device")))
        .distinct().order_by(Resource.name)))
    payment = succeeded_deposit(session, appt.id) if appt.status in DEPOSIT_SHOWN_STATUSES else None
    paid = payment.amount_cents if payment is not None else 0
    late = is_late_cancellation(appt.start_at, location.cancellation_window_hours, now)
    window = location.cancellation_window_hours
    if paid == 0:
        policy = "No deposit was paid, so nothing is refunded or kept."
    elif late:
        policy = (f"Inside the {window}-hour window: the {format_money(paid, payment.currency)} deposit "
                  "will be kept.")
    else:
        policy = (f"More than {window} hours ahead: the {format_money(paid, payment.currency)} deposit "
                  "will be refunded.")
    contact = actor.can("client.contact.read") and client is not None
    local_start, local_end = appt.start_at.astimezone(tz), appt.end_at.astimezone(tz)
    checkout = _checkout_figures(session, actor, appt)
    actions = _allowed_actions(actor, appt, now.astimezone(tz).date(), local_start.date())
    if "sale_cents" in checkout and not checkout["checked_out"]:
        actions.append("checkout")
    record(session, actor, "appointment.read", "appointment", appt.id, client_id=appt.client_id, at=now)
    return AppointmentDetail(
        id=appt.id, reference=appt.reference, status=appt.status,
        status_label=STATUS_LABELS.get(appt.status, appt.status), client_id=appt.client_id,
        client_name=_client_name(client), contact_visible=contact,
        client_phone=_pretty_phone(client.phone_e164) if contact and client.phone_e164 else "",
        client_email=(client.email or "") if contact else "", service_name=svc.name, category=svc.category,
        colour=category_colour(svc.category), duration_minutes=svc.duration_minutes,
        provider_name=provider.display_name, resources=resources, location_name=location.name,
        time_zone=location.time_zone, date_label=format_date(local_start.date(), "EEEE, MMMM d, y", locale="en_US"),
        time_label=(f"{format_clinic_clock(appt.start_at, location.time_zone)} – "
                    f"{format_clinic_clock(appt.end_at, location.time_zone)} {zone_abbreviation(appt.end_at, tz)}"
                    f" ({location.time_zone})"),
        source=appt.source, price=format_money(appt.price_cents, appt.currency),
        deposit_paid=format_money(paid, appt.currency) if paid else "None", deposit_paid_cents=paid,
        currency=appt.currency, actions=actions, cancel_late=late, cancel_policy=policy,
        cancellation_window_hours=window, notes=appt.notes, **checkout)


def _pretty_phone(e164: str) -> str:
    """+12125550123 -> "+1 212-555-0123" (international format)."""
    import phonenumbers

    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None),
                                          phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


__all__ = ["calendar_day", "calendar_week", "appointment_detail", "CalendarDay", "CalendarWeek", "CalendarBlock",
           "CalendarColumn", "HourMark", "WeekDay", "WeekEntry", "AppointmentDetail", "category_colour", "week_start",
           "resource_type_label", "resource_subtitle",
           "STATUS_LABELS", "VIEWS"]
