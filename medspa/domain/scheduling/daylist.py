"""The daily lists of /today (issue 15, section 3): a provider's "my day" and the front desk's
arrivals at one location. Reads only, plus the audit row of the read (the caller commits).

"Today" is the clinic's local day of each visit's location (location.time_zone): a visit
belongs to today when its start falls on the same local date as `now` there. Times shown are
that location's wall clock ("9:30 AM"); minutes late or waiting are real elapsed minutes
between aware UTC instants, so they stay right across a daylight-saving change.

Alerts (`VisitAlert`) of a visit, in this order:
- "client": the client's own alerts line as stored on the record (clients.models.Client.alerts,
  migration 0034, the line the calendar shows), for roles with client.read;
- "new_client": no completed visit before this one (the database keeps each client's first
  completed visit in client_first_visit, migration 0012, the same fact the reports count);
- "balance": visits checked in or completed on earlier days but never checked out
  (payments.owed.unpaid_balances), for roles with payment.take.
- "allergy" / "contraindication" (tone "red", first): the clinical record's flags of the visit
  (clinical/contraindications.py visit_flags): in detail for history.read roles (each detail
  shown audited "history.flags.read"), one generic "contraindication" line for other staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import and_, exists, or_, text
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.clinical.paperwork import Paperwork, visit_paperwork
from medspa.domain.clinical.contraindications import audit_flag_reads, flag_words, visit_flags
from medspa.domain.clients.models import Client
from medspa.domain.identity.actor import Actor
from medspa.domain.money import format_money
from medspa.domain.practice.models import Location, Resource, StaffMember
from medspa.domain.practice.service import get_location
from medspa.domain.payments.cards import OPEN as OPEN_SETUPS, card_waiting_ids, visit_card
from medspa.domain.payments.models import CardSetup
from medspa.domain.scheduling.labels import STATUS_LABELS, WAITING_FOR_CARD, client_name
from medspa.domain.scheduling.models import Appointment, AppointmentStatus, Occupancy
from medspa.domain.timezones import format_clinic_clock, local_day_bounds, zone_abbreviation

ALERT_KINDS = ("allergy", "contraindication", "client", "new_client", "balance", "card")
"""Every kind of visit alert, most serious first. "allergy" and "contraindication" come from
the clinical record (clinical/contraindications.py): an allergy to what the service uses, and
every other contraindication it matches; the detail only for history.read roles, others read
"Health flag: a provider must review" (once)."""

SHOWN = (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED,
         AppointmentStatus.NO_SHOW)
"""The statuses a day list shows: holds (a client still paying online), cancelled and expired
visits are not expected at the desk, except a hold whose booking waits for its card on file
(issue 16), shown "Waiting for card"."""

MY_DAY, ARRIVALS = "my_day", "arrivals"
ARRIVALS_ROLES = frozenset({"front_desk", "owner", "manager"})
"""Who gets the arrivals list: the desk and the people running the clinic (providers get their
own day; they are not the desk)."""

BUCKETS = ("late", "waiting", "expected", "done", "no_show")
BUCKET_LABELS = {"late": "Late", "waiting": "Checked in", "expected": "Expected", "done": "Completed",
                 "no_show": "No-show"}


@dataclass(frozen=True)
class VisitAlert:
    """One alert of a visit: kind (one of ALERT_KINDS), text in words ("New client",
    "Unpaid balance $150.00", "VIP · prefers afternoons") and tone (a Radix colour name:
    "red" clinical, "amber" the client's alerts and money, "blue" a new client)."""

    kind: str
    text: str
    tone: str


@dataclass(frozen=True)
class DayVisit:
    """One visit of a day list. Times are the location's wall clock ("9:30 AM"; with the zone
    abbreviation on a daylight-saving change day: "9:30 AM EDT"); rooms: the rooms and
    devices it occupies ("Room 1, GentleMax"; "" none); status the appointment's status value;
    checked_in_label "9:41 AM" ("" before check-in)."""

    appointment_id: int
    start_at: datetime
    start_label: str
    end_label: str
    client_id: int | None
    client_name: str
    service_name: str
    provider_name: str
    location_name: str
    rooms: str
    status: str
    status_label: str
    checked_in_label: str
    alerts: tuple[VisitAlert, ...]
    checked_in_at: datetime | None = None
    forms_label: str = ""  # intake form completion: "Forms 1/2", "Forms done" ("" none needed)
    consents_label: str = ""  # "Consents 0/1", "Consents signed" ("" none required): clinical/paperwork.py


@dataclass(frozen=True)
class MyDay:
    """A provider's visits today in start order (the actor's own staff record; `bookable`
    False when the signed-in account has no staff record to list, then `visits` is empty),
    each with its arrivals bucket and timing ("12 min late", "waiting 9 min": the provider
    sees who is waiting for them); no check-in is offered here (the desk's list does)."""

    provider_name: str
    bookable: bool
    day_label: str
    visits: tuple["ArrivalRow", ...]
    remaining: int  # visits still to come (confirmed or checked in)


@dataclass(frozen=True)
class ArrivalRow:
    """A visit on the arrivals list: its bucket (one of BUCKETS), what the desk reads about
    time ("12 min late", "waiting 9 min", "in 25 min", "due now", "" for done/no-show), the
    minutes behind that text (late or waiting; 0 otherwise) and whether a check-in is offered
    now (a confirmed visit, and the actor may check in)."""

    visit: DayVisit
    bucket: str
    timing: str
    minutes: int
    can_check_in: bool


@dataclass(frozen=True)
class Arrivals:
    """Today's arrivals at one location: rows by bucket (late first, then checked in and
    waiting longest first, expected by start, completed, no-shows), counts per bucket,
    the wall-clock time of `now` there ("10:12 AM EDT")."""

    location_id: int
    location_name: str
    time_zone: str
    day_label: str
    now_label: str
    rows: tuple[ArrivalRow, ...]
    counts: dict[str, int]


def _check(actor: Actor) -> None:
    actor.require("calendar.read")
    actor.require("client.read")  # a list of client names and alerts: never the lab


def _minutes_between(earlier: datetime, later: datetime) -> int:
    """Whole minutes elapsed from `earlier` to `later` (aware instants), never negative."""
    return max(0, int((later - earlier).total_seconds() // 60))


def _clock(instant: datetime, tz: ZoneInfo, dst_day: bool) -> str:
    label = format_clinic_clock(instant, tz.key)
    return f"{label} {zone_abbreviation(instant, tz)}" if dst_day else label


def _day_of(now: datetime, tz: ZoneInfo) -> tuple[date, datetime, datetime, bool]:
    day = now.astimezone(tz).date()
    lo, hi = local_day_bounds(day, tz)
    return day, lo, hi, (hi - lo) != timedelta(hours=24)


def _first_visits(session: Session, client_ids: list[int]) -> dict[int, datetime]:
    """Each client's first completed visit start (client_first_visit, migration 0012)."""
    if not client_ids:
        return {}
    rows = session.execute(text("SELECT client_id, first_start_at FROM client_first_visit "
                                "WHERE client_id = ANY(:ids)"), {"ids": sorted(set(client_ids))}).all()
    return {cid: start for cid, start in rows}


def _rooms(session: Session, appointment_ids: list[int]) -> dict[int, str]:
    if not appointment_ids:
        return {}
    rows = session.exec(select(Occupancy.appointment_id, Resource.name)
                        .join(Resource, Resource.id == Occupancy.resource_id)
                        .where(Occupancy.appointment_id.in_(appointment_ids), Resource.kind.in_(("room", "device")))
                        .distinct().order_by(Occupancy.appointment_id, Resource.name)).all()
    out: dict[int, list[str]] = {}
    for appointment_id, name in rows:
        out.setdefault(appointment_id, []).append(name)
    return {k: ", ".join(v) for k, v in out.items()}


def visit_alerts(session: Session, actor: Actor, rows: list[tuple[Appointment, Client | None]], *,
                 before: datetime, now: datetime | None = None) -> dict[int, tuple[VisitAlert, ...]]:
    """The alerts of each visit (appointment id -> alerts, most serious first; see the module
    docstring). `before`: the local midnight starting today (aware UTC): an unpaid balance is
    of visits before it. THE place the clinical record's allergies and contraindications
    join ("allergy", "contraindication", tone "red", before the others)."""
    from medspa.domain.payments.owed import unpaid_balances  # payments depends on scheduling models

    client_ids = [c.id for _a, c in rows if c is not None]
    firsts = _first_visits(session, client_ids)
    owed = unpaid_balances(session, client_ids, before=before) if actor.can("payment.take") else {}
    see_alerts = actor.can("client.read")
    see_cards = actor.can("payment.take") or actor.can("client.contact.read")
    health = visit_flags(session, [a for a, _c in rows]) if actor.can("calendar.read") else {}
    detailed = actor.can("history.read")
    if detailed and health:
        audit_flag_reads(session, actor, {a.client_id: len(health[a.id]) for a, _c in rows if a.id in health},
                         now, "day list")
    out: dict[int, tuple[VisitAlert, ...]] = {}
    for appt, client in rows:
        alerts: list[VisitAlert] = []
        flags = health.get(appt.id, [])  # the clinical record (issue 17)
        if flags and not detailed:  # status words only: which kind of flag is health information too
            alerts.append(VisitAlert("contraindication", flag_words(flags, False), "red"))
        elif flags:
            for kind, found in (("allergy", [f for f in flags if f.code == "allergy"]),
                                ("contraindication", [f for f in flags if f.code != "allergy"])):
                if found:
                    alerts.append(VisitAlert(kind, flag_words(found, True), "red"))
        if client is not None:
            if see_alerts and client.alerts.strip():
                alerts.append(VisitAlert("client", client.alerts.strip(), "amber"))
            first = firsts.get(client.id)
            if first is None or first >= appt.start_at:
                alerts.append(VisitAlert("new_client", "New client", "blue"))
            if owed.get(client.id):
                alerts.append(VisitAlert("balance", f"Unpaid balance {format_money(owed[client.id], appt.currency)}",
                                         "amber"))
            card = visit_card(session, appt) if see_cards else None
            if card is not None and card.expires_before_visit:  # flagged before the visit (issue 16)
                alerts.append(VisitAlert("card", f"Card {card.label} expired ({card.expiry})", "amber"))
        out[appt.id] = tuple(alerts)
    return out


def _visits(session: Session, actor: Actor, stmt, now: datetime) -> list[DayVisit]:
    """The day visits of `stmt` (rows of Appointment, Service, Client|None, StaffMember,
    Location), keeping those on today's local date of their location, in start order."""
    rows = []
    for appt, svc, client, provider, location in session.exec(stmt):
        tz = ZoneInfo(location.time_zone)
        if appt.start_at.astimezone(tz).date() == now.astimezone(tz).date():
            rows.append((appt, svc, client, provider, location))
    rows.sort(key=lambda r: (r[0].start_at, r[0].id))
    rooms = _rooms(session, [r[0].id for r in rows])
    tz_first = ZoneInfo(rows[0][4].time_zone) if rows else None
    alerts = {}
    if rows:
        # one midnight for the balance: today's start at the first visit's location
        alerts = visit_alerts(session, actor, [(r[0], r[2]) for r in rows], before=_day_of(now, tz_first)[1],
                              now=now)
    waiting = card_waiting_ids(session, [r[0].id for r in rows if r[0].status == AppointmentStatus.HELD])
    paperwork = visit_paperwork(session, [r[0] for r in rows], now)
    visits = []
    for appt, svc, client, provider, location in rows:
        tz = ZoneInfo(location.time_zone)
        dst_day = _day_of(now, tz)[3]
        visits.append(DayVisit(
            appointment_id=appt.id, start_at=appt.start_at, start_label=_clock(appt.start_at, tz, dst_day),
            end_label=_clock(appt.end_at, tz, dst_day), client_id=appt.client_id, client_name=client_name(client),
            service_name=svc.name, provider_name=provider.display_name, location_name=location.name,
            rooms=rooms.get(appt.id, ""), status=appt.status,
            status_label=WAITING_FOR_CARD if appt.id in waiting else STATUS_LABELS.get(appt.status, appt.status),
            checked_in_label=_clock(appt.checked_in_at, tz, dst_day) if appt.checked_in_at else "",
            alerts=alerts.get(appt.id, ()), checked_in_at=appt.checked_in_at,
            forms_label=paperwork.get(appt.id, Paperwork()).forms,
            consents_label=paperwork.get(appt.id, Paperwork()).consents))
    return visits


def _select(*where):
    return (select(Appointment, Service, Client, StaffMember, Location)
            .join(Service, Service.id == Appointment.service_id)
            .join(StaffMember, StaffMember.id == Appointment.provider_id)
            .join(Location, Location.id == Appointment.location_id)
            .join(Client, Client.id == Appointment.client_id, isouter=True)
            .where(or_(Appointment.status.in_(SHOWN),
                       and_(Appointment.status == AppointmentStatus.HELD,
                            exists().where(CardSetup.appointment_id == Appointment.id,
                                           CardSetup.status.in_([str(s) for s in OPEN_SETUPS])))), *where))


def own_staff(session: Session, actor: Actor) -> StaffMember | None:
    """The actor's own staff record when it is an active, bookable one (a provider, or an owner
    or manager who treats), else None: only they have visits of their own."""
    if actor.staff_id is None:
        return None
    staff = session.get(StaffMember, actor.staff_id)
    return staff if staff is not None and staff.active and staff.is_bookable else None


def day_lists(session: Session, actor: Actor) -> tuple[str, ...]:
    """The lists /today offers this actor: MY_DAY to providers and to anyone with a bookable
    staff record of their own (an owner who treats), ARRIVALS to ARRIVALS_ROLES; none without
    calendar.read and client.read (the lab)."""
    if not (actor.can("calendar.read") and actor.can("client.read")):
        return ()
    lists = [MY_DAY] if actor.role == "provider" or own_staff(session, actor) is not None else []
    if actor.role in ARRIVALS_ROLES:
        lists.append(ARRIVALS)
    return tuple(lists)


def my_day(session: Session, actor: Actor, *, now: datetime) -> MyDay:
    """The signed-in provider's own visits today (any location, each on its own local day),
    in start order with their alerts. Always the actor's own staff record (`actor.staff_id`):
    there is no way to ask for another provider's list. An account without a bookable staff
    record (`own_staff`) gets an empty list (bookable False). The read is audited ("daylist.my_day" with the
    client ids shown). Raises PermissionDenied (needs calendar.read and client.read)."""
    _check(actor)
    staff = own_staff(session, actor)
    if staff is None:
        zone = ZoneInfo(session.exec(select(Location.time_zone).order_by(Location.id)).first() or "UTC")
        return MyDay(actor.label, False, format_date(now.astimezone(zone).date(), "EEEE, MMMM d", locale="en_US"),
                     (), 0)
    # every zone's today lies within a day and a half of now; the exact local day is kept below
    visits = _visits(session, actor, _select(Appointment.provider_id == staff.id,
                                             Appointment.start_at >= now - timedelta(hours=38),
                                             Appointment.start_at < now + timedelta(hours=38)), now)
    zone = ZoneInfo(_home_zone(session, staff.id, visits))
    remaining = sum(1 for v in visits if v.status in (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN))
    if actor.user_id is not None:
        record(session, actor, "daylist.my_day", "staff", staff.id, at=now, appointments=len(visits),
               client_ids=sorted({v.client_id for v in visits if v.client_id is not None}))
    return MyDay(staff.display_name, True, format_date(now.astimezone(zone).date(), "EEEE, MMMM d", locale="en_US"),
                 tuple(_arrival(v, now, False) for v in visits), remaining)


def _home_zone(session: Session, staff_id: int, visits: list[DayVisit]) -> str:
    """The zone naming "today" in the list's heading: the first visit's location's, else the
    zone of a location where the provider works, else the clinic's first location's."""
    if visits:
        return session.exec(select(Location.time_zone).join(Appointment, Appointment.location_id == Location.id)
                            .where(Appointment.id == visits[0].appointment_id)).one()
    from medspa.domain.practice.models import WorkingHours

    zone = session.exec(select(Location.time_zone).join(WorkingHours, WorkingHours.location_id == Location.id)
                        .where(WorkingHours.staff_id == staff_id).order_by(Location.id)).first()
    return zone or session.exec(select(Location.time_zone).order_by(Location.id)).first() or "UTC"


def _arrival(visit: DayVisit, now: datetime, may_check_in: bool) -> ArrivalRow:
    if visit.status == AppointmentStatus.CHECKED_IN:
        waited = _minutes_between(visit.checked_in_at or now, now)
        return ArrivalRow(visit, "waiting", f"waiting {waited} min" if waited else "just checked in", waited, False)
    if visit.status == AppointmentStatus.COMPLETED:
        return ArrivalRow(visit, "done", "", 0, False)
    if visit.status == AppointmentStatus.NO_SHOW:
        return ArrivalRow(visit, "no_show", "", 0, False)
    if visit.status == AppointmentStatus.HELD:  # waiting for its card: expected, not checked in yet
        may_check_in = False
    late = _minutes_between(visit.start_at, now)
    if late >= 1:
        return ArrivalRow(visit, "late", f"{late} min late", late, may_check_in)
    ahead = _minutes_between(now, visit.start_at)
    return ArrivalRow(visit, "expected", f"in {_duration(ahead)}" if ahead >= 1 else "due now", 0, may_check_in)


def _duration(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def arrivals(session: Session, actor: Actor, *, location_id: int, now: datetime) -> Arrivals:
    """Today's arrivals at a location (its local day of `now`): each visit in a bucket
    (late: start passed, not checked in, "12 min late"; waiting: checked in, "waiting 9 min"
    since checked_in_at, "just checked in" within the minute; expected: "in 25 min"; done;
    no_show), sorted late (most late first), waiting (longest first), expected (by start),
    done, no-shows. The read is audited
    ("daylist.arrivals" on the location, with the client ids shown). Raises PermissionDenied
    (calendar.read and client.read), NotFound (unknown location or another clinic's)."""
    _check(actor)
    location = get_location(session, location_id)
    tz = ZoneInfo(location.time_zone)
    _day, lo, hi, dst_day = _day_of(now, tz)
    visits = _visits(session, actor, _select(Appointment.location_id == location.id, Appointment.start_at >= lo,
                                             Appointment.start_at < hi), now)
    may = actor.can("appointment.check_in")
    rows = [_arrival(v, now, may) for v in visits]
    order = {b: i for i, b in enumerate(BUCKETS)}
    rows.sort(key=lambda r: (order[r.bucket], -r.minutes if r.bucket in ("late", "waiting") else 0,
                             r.visit.start_at, r.visit.appointment_id))
    counts = {b: sum(1 for r in rows if r.bucket == b) for b in BUCKETS}
    if actor.user_id is not None:
        record(session, actor, "daylist.arrivals", "location", location.id, at=now, day=_day.isoformat(),
               appointments=len(rows), client_ids=sorted({v.client_id for v in visits if v.client_id is not None}))
    return Arrivals(location.id, location.name, location.time_zone,
                    format_date(_day, "EEEE, MMMM d", locale="en_US"), _clock(now, tz, True), tuple(rows), counts)


__all__ = ["MY_DAY", "ARRIVALS", "ARRIVALS_ROLES", "own_staff", "day_lists", "ALERT_KINDS", "BUCKETS",
           "BUCKET_LABELS", "VisitAlert", "DayVisit", "MyDay", "ArrivalRow", "Arrivals",
           "visit_alerts", "my_day", "arrivals"]
