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
A series has a count or an end date (UNTIL, the end of that local day), MIN_OCCURRENCES (2)
to MAX_OCCURRENCES visits.

Booking (`plan_series`, then `book_series`): every occurrence is checked BEFORE anything is
saved, with the desk booking's own rules: free when the desk could book that start
(availability.find_slots for the provider that day, as hold_slot checks) and the client has no
other visit then; otherwise the reason from fit.fit_start (or the client's clash,
the past, the horizon) and the day's free starts as alternatives. The desk then books the
occurrences it keeps, each at its own or another start that same day, in ONE transaction:
each through service.hold_slot (the desk booking: confirmed, its audit row), so the exclusion
constraint decides a race; an occurrence lost meanwhile is reported (`SeriesBooked.lost`),
not a crash.

Changing a series (one visit, this and following, or all): scheduling.series_changes.

Deposit (`deposit_due_cents`): the service's deposit for the first visit of the series only,
unless the location's series_deposit_each_visit says each visit; each booked visit carries
its own in appointment.deposit_cents. When the client has a card on file
(payments.cards.default_card), the action charges those deposits off-session on it after the
booking commits (`charge_series_deposits`, through the booking's deposit payment path,
booking.charge_card_on_file); a declined card, one that needs the client's authentication, or
no card leaves the visit booked with its deposit due (payments.deposit_due: shown on the
panel and in the series result). Each visit is an ordinary appointment checked out on its own
(payments.checkout): its own deposit paid, if any, is applied; a due one is part of the balance.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil.rrule import MONTHLY, WEEKLY, rrule, rrulestr, weekday
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from medspa.clock import Clock
from medspa.db import tenant_session
from medspa.domain.audit.service import record
from medspa.domain.catalog.service import get_service
from medspa.domain.clients.service import get_client
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.money import format_money
from medspa.domain.payments.cards import card_for_visit, card_label, default_card
from medspa.domain.payments.deposit_due import DUE_STATUSES, deposit_due
from medspa.domain.payments.gateway import PaymentGateway
from medspa.domain.payments.models import Payment, PaymentStatus
from medspa.domain.payments.stripe_gateway import GatewayUnavailable
from medspa.domain.practice.models import StaffMember
from medspa.domain.practice.service import get_location
from medspa.domain.scheduling.availability import find_slots
from medspa.domain.scheduling.fit import NotFree, fit_start
from medspa.domain.scheduling.day_blockers import no_time_reason
from medspa.domain.scheduling.booking import ActionRequired, CardDeclined, charge_card_on_file
from medspa.domain.messaging.notices import queue_series_confirmation
from medspa.domain.scheduling.models import Appointment, AppointmentSeries
from medspa.domain.scheduling.service import STAFF_HORIZON_DAYS, SlotTaken, client_visit_spans, hold_slot
from medspa.domain.timezones import format_clinic_clock
from medspa.domain.waitlist.entries import close_fulfilled

MAX_OCCURRENCES = 52
MIN_OCCURRENCES = 2  # one visit is a booking, not a series (the dialog's Book button books it)
MAX_INTERVAL = 12
FREQUENCIES = ("weekly", "monthly_date", "monthly_weekday")
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Recurrence:
    """How a series repeats, as the desk asks for it. freq: "weekly" (every `interval` weeks
    on the first visit's weekday), "monthly_date" (every `interval` months on its day of the
    month) or "monthly_weekday" (every `interval` months on, e.g., its second Tuesday).
    Exactly one of `count` (visits, MIN_OCCURRENCES..MAX_OCCURRENCES) or `until` (last local date,
    inclusive, giving at least MIN_OCCURRENCES)."""

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


def repeat_choices(first: date) -> list[tuple[str, str]]:
    """The ways a series from local date `first` can repeat, as (freq, words): weekly on its
    weekday, monthly on its day of the month, monthly on its nth weekday ("the second
    Tuesday"; a fifth one: "the last")."""
    name = _DAYS[first.weekday()]
    return [("weekly", f"Weekly on {name}"), ("monthly_date", f"Monthly on day {first.day}"),
            ("monthly_weekday", f"Monthly on the {_ORDINALS[nth_of_month(first)]} {name}")]


def rule_text(rec: Recurrence, first: date) -> str:
    """The RFC 5545 RRULE (without DTSTART) for `rec` from the first visit's local date, e.g.
    "FREQ=WEEKLY;INTERVAL=2;COUNT=6". Raises ValidationFailed (freq, interval, count, until)."""
    if rec.freq not in FREQUENCIES:
        raise ValidationFailed({"repeat": "Choose how the visit repeats"})
    if not isinstance(rec.interval, int) or not 1 <= rec.interval <= MAX_INTERVAL:
        raise ValidationFailed({"interval": f"Repeat every 1 to {MAX_INTERVAL}"})
    if (rec.count is None) == (rec.until is None):
        raise ValidationFailed({"count": "Give a number of visits or an end date"})
    if rec.count is not None and not MIN_OCCURRENCES <= rec.count <= MAX_OCCURRENCES:
        raise ValidationFailed({"count": f"A series has {MIN_OCCURRENCES} to {MAX_OCCURRENCES} visits"})
    if rec.until is not None and rec.until < first:
        raise ValidationFailed({"until": "The end date is before the first visit"})
    wd = weekday(first.weekday())
    if rec.freq == "weekly":
        rule = rrule(WEEKLY, interval=rec.interval, byweekday=wd)
    elif rec.freq == "monthly_date":
        rule = rrule(MONTHLY, interval=rec.interval, bymonthday=first.day)
    else:
        rule = rrule(MONTHLY, interval=rec.interval, byweekday=wd, bysetpos=nth_of_month(first))
    parts = [rrule_line(rule)]
    parts.append(f"COUNT={rec.count}" if rec.count else f"UNTIL={rec.until:%Y%m%d}T235959")
    return ";".join(parts)


def rrule_line(rule: rrule) -> str:
    """The RRULE value dateutil writes for `rule` (its DTSTART line dropped), e.g.
    "FREQ=WEEKLY;UNTIL=20260316T235959;BYDAY=TU"."""
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
    date gives more than MAX_OCCURRENCES visits or fewer than MIN_OCCURRENCES)."""
    if first_start.tzinfo is None:
        raise ValidationFailed({"start": "Give the time with its UTC offset"})
    local = first_start.astimezone(ZoneInfo(time_zone)).replace(tzinfo=None, second=0, microsecond=0)
    text = rule_text(rec, local.date())
    found = expand(text, local, time_zone)
    if len(found) > MAX_OCCURRENCES:
        raise ValidationFailed({"until": f"That end date gives more than {MAX_OCCURRENCES} visits: choose an earlier "
                                         f"one or a number of visits"})
    if len(found) < MIN_OCCURRENCES:
        raise ValidationFailed({"until": f"That end date gives only {len(found)} visit: a series has at least "
                                         f"{MIN_OCCURRENCES}, choose a later date"})
    return text, local, found


@dataclass(frozen=True)
class OccurrenceCheck:
    """One date of a planned series: `free` (the desk can book start_at) or `reason` why not
    (fit.fit_start's words, the client's other visit, the past); `alternatives`: the
    provider's free starts that local day (aware UTC, sorted; none: the reason ends with why
    there is no other time, day_blockers.no_time_reason); `note`: the gap shift when the
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
    every occurrence's check, the deposit due per occurrence index (integer cents), and the
    client's card on file the deposits will be charged to ("Visa ••4242"; "": none, the
    deposits stay due and checkout collects them)."""

    rrule: str
    description: str
    time_zone: str
    checks: tuple[OccurrenceCheck, ...]
    deposits: tuple[int, ...]
    currency: str
    notes: tuple[str, ...] = ()
    card_label: str = ""


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
    if not starts:
        why = no_time_reason(session, actor, location_id=location_id, service_id=service_id, provider_id=provider_id,
                             provider_name=provider_name, day=day, now=now, usable=client_free)
        reason += f"; {why}" if why else ""
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
                      service.currency, tuple(notes), card_label(default_card(session, client_id)))


@dataclass(frozen=True)
class SeriesBooked:
    """A series saved: its id, the booked visits as (occurrence index, appointment id), and the
    occurrences that could not be booked as (index, reason): lost to another booking meanwhile
    (the exclusion constraint decided) or refused."""

    series_id: int
    booked: tuple[tuple[int, int], ...]
    lost: tuple[tuple[int, str], ...] = ()
    deposits: tuple[SeriesDeposit, ...] = ()


@dataclass(frozen=True)
class SeriesDeposit:
    """The deposit of one booked visit after the booking (charge_series_deposits): occurrence
    `index`, appointment id, amount (integer cents of `currency`), state ("paid", or a
    payments.deposit_due.DepositDue state: "charging", "declined", "needs_action", "no_card",
    "due") and the words, e.g. "$50.00 paid with Visa ••4242" or "$50.00 due · no card on
    file: collect it at checkout"."""

    index: int
    appointment_id: int
    amount_cents: int
    currency: str
    state: str
    text: str


def book_series(session: Session, actor: Actor, *, location_id: int, service_id: int, provider_id: int,
                client_id: int, recurrence: Recurrence, first_start: datetime, picks: dict[int, datetime],
                now: datetime) -> SeriesBooked:
    """Save the series and book the picked occurrences: `picks` maps an occurrence index to
    the start chosen for it (its own, or another start the same local day; an index left out
    is skipped). Each visit is a confirmed desk booking (service.hold_slot, its audit row) in
    its own savepoint, asking its deposit (appointment.deposit_cents: deposit_due_cents by its
    position among the booked; the action charges it after the commit,
    charge_series_deposits); a lost race is reported in `lost`. The client gets ONE confirmation of the
    whole series (messaging.notices.queue_series_confirmation), not one per visit. A waitlist
    entry of the client that a booked visit fulfils is closed as booked (waitlist.entries.
    close_fulfilled, as a desk or online booking does). Raises ValidationFailed (rule fields,
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
                close_fulfilled(session, actor, appt, now)  # a waitlist entry this visit fulfils is closed
        except SlotTaken:
            lost.append((index, "Taken meanwhile by another booking"))
            continue
        except ValidationFailed as exc:
            lost.append((index, next(iter(exc.fields.values()), "Cannot be booked")))
            continue
        booked.append((index, appt.id))
    if not booked:
        raise ValidationFailed({"series": "None of the chosen dates could be booked: check the dates again"})
    service = get_service(session, service_id)
    visits = [session.get(Appointment, a) for _, a in booked]
    each = location.series_deposit_each_visit
    for position, visit in enumerate(visits):  # each visit asks its own deposit (charge_series_deposits)
        visit.deposit_cents = deposit_due_cents(service.deposit_cents, each, position)
        session.add(visit)
    queue_series_confirmation(session, visits, description=describe(recurrence, local.date()).rsplit(", ", 1)[0],
                              deposit_cents=sum(v.deposit_cents for v in visits),
                              card=card_label(default_card(session, client_id)))
    record(session, actor, "series.book", "appointment_series", series.id, client_id=client_id, at=now,
           rrule=text, dtstart=local.isoformat(), time_zone=location.time_zone,
           booked=[i for i, _ in booked], lost=[i for i, _ in lost])
    session.flush()
    return SeriesBooked(series.id, tuple(booked), tuple(lost))


def charge_series_deposits(engine: Engine, actor: Actor, booked: SeriesBooked, gateway: PaymentGateway,
                           clock: Clock, *, grace_seconds: int) -> SeriesBooked:
    """After the series' booking committed: charge each booked visit's deposit
    (appointment.deposit_cents; the first visit only, or each one) off-session on the client's
    card on file (payments.cards.card_for_visit), one visit at a time, each through the
    booking's deposit payment path (booking.charge_card_on_file: the pending Payment with key
    deposit-<visit>-attempt-<n> committed before the gateway call, then deposit_paid and
    processing_fee lines and the receipt; a pending one is settled by reconciliation). Only a
    deposit still due with no attempt yet is charged (a second call charges nothing twice). A
    declined card, one that needs the client's authentication or no card (or a card saved with
    another gateway) leaves the visit booked with its deposit due: nothing raises. Returns
    `booked` with `deposits` (SeriesDeposit per visit asking a deposit)."""
    out: list[SeriesDeposit] = []
    for index, appointment_id in booked.booked:
        with tenant_session(actor.org_id, engine) as session:
            appt = session.get(Appointment, appointment_id)
            due = deposit_due(session, appt) if appt is not None else None
            card = card_for_visit(session, appt) if due is not None and due.state == "due" else None
            if card is not None and card.gateway != gateway.name:
                card = None
            if card is not None:
                session.expunge(card)
        if card is not None:
            try:
                charge_card_on_file(engine, actor, appointment_id, card, gateway, clock, grace_seconds=grace_seconds)
            except (CardDeclined, ActionRequired, SlotTaken, GatewayUnavailable):
                pass  # the deposit payment's row says what happened: deposit_due words it
        with tenant_session(actor.org_id, engine) as session:
            appt = session.get(Appointment, appointment_id)
            if appt is None or appt.deposit_cents <= 0 or appt.status not in DUE_STATUSES:
                continue
            due = deposit_due(session, appt)
            if due is not None:
                out.append(SeriesDeposit(index, appointment_id, due.amount_cents, due.currency, due.state, due.text))
                continue
            paid = session.exec(select(Payment).where(Payment.appointment_id == appointment_id,
                                                      Payment.purpose == "deposit",
                                                      Payment.status == PaymentStatus.SUCCEEDED)).first()
            label = card_label(card_for_visit(session, appt))
            words = f"{format_money(appt.deposit_cents, appt.currency)} paid" + (f" with {label}" if label else "")
            out.append(SeriesDeposit(index, appointment_id, paid.amount_cents if paid else appt.deposit_cents,
                                     appt.currency, "paid", words))
    return replace(booked, deposits=tuple(out))


__all__ = ["FREQUENCIES", "MAX_OCCURRENCES", "MIN_OCCURRENCES", "Occurrence", "OccurrenceCheck", "Recurrence", "SeriesBooked",
           "SeriesDeposit", "SeriesPlan", "book_series", "charge_series_deposits", "deposit_due_cents", "describe",
           "expand", "localise", "occurrences_of", "plan_series", "repeat_choices", "rrule_line", "rule_text"]
