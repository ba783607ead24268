"""Actions of the "manage booking" link (`/book/<clinic>/manage/<token>`, issue 15): a client
sees their visit, moves it to another free time or cancels it with a reason, without signing in.

The unguessable booking token is the credential (scheduling.references: 192 random bits; the
display code never opens anything here: `appointment_by_token` refuses it). The caller is the
anonymous visitor, `online.public_actor(org_id, ip, user_agent)` (appointment.reschedule_own,
appointment.cancel_own); the services check the token again (scheduling.service.holds_visit)
and apply the client's rules, the same as the portal's: `reschedule.move_visit(online=True)`
for a move, `portal.cancellation.cancel_own_appointment` (the one cancel rule of a client) for
a cancel. They write the audit rows (recorded as made by the client).

A move keeps the visit (the same appointment, its deposit and payments with it); when a late
move counts as a late cancellation the domain makes a new visit and moves the token onto it,
so the link always shows the live visit and a used link can never make a second booking.

Changes are rate-limited per network and per link (Settings.limit_manage_per_ip /
limit_manage_per_token) before anything is written. Keyword-only `clock`, `engine`,
`gateway` as in the other actions (tests pass theirs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy.engine import Engine
from sqlmodel import Session

from medspa.clock import Clock, app_clock
from medspa.domain.catalog.models import Service
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.money import format_money
from medspa.domain.payments.factory import gateway_of
from medspa.domain.payments.gateway import PaymentGateway
from medspa.domain.payments.fees import send_fee_charges_now, visit_fee_sentence
from medspa.domain.payments.refunds import send_refunds_now
from medspa.domain.payments.service import succeeded_deposit
from medspa.domain.portal import cancellation
from medspa.domain.portal.service import STATUS_LABELS, preview_cancellation
from medspa.domain.practice.models import Location, StaffMember
from medspa.domain.ratelimits import hit, network_key
from medspa.domain.scheduling.availability import find_slots
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.scheduling.policy import visit_terms
from medspa.domain.scheduling.references import format_display_code
from medspa.domain.scheduling.reschedule import CANCEL_REASONS, VisitChange, move_visit, reschedule_terms
from medspa.domain.scheduling.service import appointment_by_token, client_visit_spans
from medspa.domain.timezones import format_clinic_clock, format_clinic_time, zone_abbreviation
from medspa.domain.work import atomic, engine_of, now_of
from medspa.settings import get_settings

__all__ = ["CANCEL_REASONS", "DayOpen", "FreeTime", "ManagedVisit", "Rescheduled", "do_cancel_by_token",
           "do_reschedule_by_token", "fetch_managed_visit", "fetch_reschedule_days", "fetch_reschedule_slots",
           "guard_manage_link"]

MAX_DAYS = 31  # days one request may ask for (the page asks for 14 at a time)


@dataclass(frozen=True)
class ManagedVisit:
    """A visit as its manage link shows it. Text is in the location's time zone (`time_zone`,
    IANA); money as display text in the visit's currency.

    status: an AppointmentStatus value, status_label its words; when: "Wed, Jul 15, 2026,
    10:00 AM EDT (America/New_York)", day: "Wednesday, July 15, 2026", times: "10:00 AM -
    10:30 AM EDT" (en dash); deposit: "$50.00 deposit paid" or ""
    (none); balance_due: "$300.00 due at the visit" or ""; policy: the cancellation rule the
    visit was booked under (policy.visit_terms). can_change: the client may move or
    cancel it online now, else why_not says why in plain words. terms: what moving it now
    means (RescheduleTerms.sentence); cancel_outcome: what cancelling it now does to the
    deposit; late: cancelling now keeps the deposit."""

    reference: str
    status: str
    status_label: str
    service: str
    provider: str
    location: str
    address: str
    phone: str
    when: str
    day: str
    times: str
    time_zone: str
    deposit: str
    balance_due: str
    policy: str
    can_change: bool
    why_not: str = ""
    terms: str = ""
    cancel_outcome: str = ""
    late: bool = False


@dataclass(frozen=True)
class DayOpen:
    """A local date at the visit's location and whether it has a free time for the visit."""

    day: date
    open: bool


@dataclass(frozen=True)
class FreeTime:
    """A free start for the visit: `start` (aware UTC) and its labels in clinic time:
    label "10:00 AM" (the page names the zone once), long_label "Wed, Jul 15, 2026, 10:00 AM EDT (America/New_York)"."""

    start: datetime
    label: str
    long_label: str


@dataclass(frozen=True)
class Rescheduled:
    """A committed move: the visit as it stands now, and `message`, the outcome in plain words."""

    visit: ManagedVisit
    message: str


# ---------------------------------------------------------------- guards and lookups


def guard_manage_link(actor: Actor, token: str) -> None:
    """Count one change through a manage link before anything is written: per network
    (Settings.limit_manage_per_ip, skipped without an IP) and per link
    (limit_manage_per_token). Raises RateLimited (its message is safe to show)."""
    settings = get_settings()
    org = str(actor.org_id)
    if actor.ip:
        hit(settings.limit_manage_per_ip, "manage-ip", org, network_key(actor.ip),
            message="Too many changes from your network.")
    if isinstance(token, str) and token:
        hit(settings.limit_manage_per_token, "manage-token", org, token[:64],
            message="Too many changes to this booking.")


def _visit_by_token(session: Session, actor: Actor, token: str, *, lock: bool = False) -> Appointment:
    """The visit of `token` in the clinic of `actor` (a public visitor: staff and portal clients
    have their own pages).
    lock: FOR UPDATE, so two changes through one link run one after the other. Raises
    NotFound (unknown token, a display code, a hold)."""
    if actor.role != "public":
        raise NotFound("booking")
    appt = appointment_by_token(session, token)
    if lock:
        session.refresh(appt, with_for_update=True)
        if appt.booking_token != token:  # the token moved on to a new visit while we waited
            raise NotFound("booking")
    return appt


def _why_not(appt: Appointment, now: datetime) -> str:
    if appt.status == AppointmentStatus.CANCELLED:
        return "This visit was cancelled."
    if appt.status != AppointmentStatus.CONFIRMED or appt.start_at <= now:
        return "This visit can no longer be changed online. Please call the clinic."
    return ""


def _managed(session: Session, appt: Appointment, now: datetime) -> ManagedVisit:
    location = session.get(Location, appt.location_id)
    service = session.get(Service, appt.service_id)
    provider = session.get(StaffMember, appt.provider_id)
    tz = location.time_zone
    paid = succeeded_deposit(session, appt.id)
    paid_cents = paid.amount_cents if paid is not None else 0
    deposit = f"{format_money(paid_cents, appt.currency)} deposit paid" if paid_cents else ""
    due = max(0, appt.price_cents - paid_cents)
    live = appt.status == AppointmentStatus.CONFIRMED
    balance = f"{format_money(due, appt.currency)} due at the visit" if (due and live) else ""
    why_not = _why_not(appt, now)
    terms = outcome = ""
    late = False
    if not why_not:
        terms = reschedule_terms(session, appt, now).sentence
        preview = preview_cancellation(session, appt, now=now)
        outcome, late = preview.message, preview.late
    return ManagedVisit(
        format_display_code(appt.display_code), str(appt.status), STATUS_LABELS.get(appt.status, str(appt.status)),
        service.name if service else "Visit", provider.display_name if provider else "", location.name,
        location.address or "", location.phone or "", format_clinic_time(appt.start_at, tz),
        format_date(appt.start_at.astimezone(ZoneInfo(tz)).date(), "EEEE, MMMM d, y", locale="en_US"),
        f"{format_clinic_clock(appt.start_at, tz)} – {format_clinic_clock(appt.end_at, tz)} "
        f"{zone_abbreviation(appt.start_at, ZoneInfo(tz))}", tz, deposit, balance, visit_terms(appt, location), not why_not, why_not, terms, outcome, late)


# ---------------------------------------------------------------- reads


def fetch_managed_visit(actor: Actor, token: str, *, clock: Clock | None = None,
                        engine: Engine | None = None) -> ManagedVisit:
    """The visit of a manage link, with what moving or cancelling it now would mean.
    Raises NotFound (unknown token, a display code, a hold or lapsed hold)."""
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        return _managed(work.session, _visit_by_token(work.session, actor, token), now)


def _free_starts(session: Session, actor: Actor, appt: Appointment, start_date: date, end_date: date,
                 now: datetime) -> list[datetime]:
    if _why_not(appt, now):
        return []
    if not (isinstance(start_date, date) and isinstance(end_date, date)):
        raise ValidationFailed({"start_date": "Pick a day"})
    if end_date < start_date or (end_date - start_date).days >= MAX_DAYS:
        raise ValidationFailed({"end_date": f"Ask for at most {MAX_DAYS} days at a time"})
    try:
        slots = find_slots(session, actor, location_id=appt.location_id, service_id=appt.service_id,
                           start_date=start_date, end_date=end_date, now=now, provider_id=appt.provider_id,
                           exclude_appointment_id=appt.id)
    except NotFound:  # the visit's provider left or no longer performs it: no free time (the desk moves it)
        return []
    length = appt.end_at - appt.start_at
    mine = [] if appt.client_id is None or not slots else client_visit_spans(
        session, appt.client_id, slots[0].start, slots[-1].end, exclude_id=appt.id)  # the move would refuse them
    return sorted({s.start for s in slots if s.start != appt.start_at
                   and not any(lo < s.start + length and s.start < hi for lo, hi in mine)})


def fetch_reschedule_days(actor: Actor, token: str, start_date: date, end_date: date, *,
                          clock: Clock | None = None, engine: Engine | None = None) -> tuple[DayOpen, ...]:
    """Each local date from start_date to end_date (inclusive, at most MAX_DAYS) and whether
    the visit could move to a free time on it: the same service, provider and location, the
    service's notice and advance limits, the visit's own time not counted as busy, a time
    overlapping the client's other visits left out (the move refuses it). A visit
    that can no longer change has no open day. Raises NotFound, ValidationFailed (range)."""
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        appt = _visit_by_token(work.session, actor, token)
        tz = ZoneInfo(work.session.get(Location, appt.location_id).time_zone)
        starts = _free_starts(work.session, actor, appt, start_date, end_date, now)
    open_days = {s.astimezone(tz).date() for s in starts}
    return tuple(DayOpen(start_date + timedelta(days=i), start_date + timedelta(days=i) in open_days)
                 for i in range((end_date - start_date).days + 1))


def fetch_reschedule_slots(actor: Actor, token: str, start_date: date, end_date: date, *,
                           clock: Clock | None = None, engine: Engine | None = None) -> tuple[FreeTime, ...]:
    """The free starts the visit could move to from start_date to end_date (local dates,
    inclusive; see fetch_reschedule_days), soonest first, labelled in clinic time.
    Raises NotFound, ValidationFailed (range)."""
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        appt = _visit_by_token(work.session, actor, token)
        zone = work.session.get(Location, appt.location_id).time_zone
        starts = _free_starts(work.session, actor, appt, start_date, end_date, now)
    return tuple(FreeTime(s, format_clinic_clock(s, zone), format_clinic_time(s, zone)) for s in starts)


# ---------------------------------------------------------------- changes


def _move_message(visit: ManagedVisit, counted_as_late_cancel: bool, deposit: str, fee_words: str = "") -> str:
    """The move in words. deposit: what happened to the old visit's deposit when the move
    counted as a late cancellation ("kept", "refunded" or "" when none was paid); fee_words:
    the late-cancel fee it applied, told as a cancellation tells it (payments.fees
    .visit_fee_sentence), said instead of the deposit's words."""
    if not counted_as_late_cancel:
        return f"Your visit is moved to {visit.when}."
    head = f"Your visit is moved to {visit.when}. As the policy says, this counted as a late cancellation."
    if fee_words:
        return f"{head} {fee_words} The new visit is paid in full at the clinic."
    said = {"kept": " Your deposit was kept,", "refunded": " Your deposit is being refunded,"}.get(deposit, "")
    return f"{head}{said or ' The'}{' and the' if said else ''} new visit is paid in full at the clinic."


def do_reschedule_by_token(actor: Actor, token: str, start_at: datetime, *, clock: Clock | None = None,
                           engine: Engine | None = None, gateway: PaymentGateway | None = None) -> Rescheduled:
    """Move the visit of a manage link to `start_at` (an aware instant among the free starts)
    under the location's policy (reschedule.move_visit, online=True), committed; refunds the
    move wrote are sent after the commit. The token stays with the live visit.

    Raises RateLimited (guard_manage_link: nothing written), NotFound (unknown token, or it
    moved on meanwhile), MoveRefused (.reason: the time is no longer free, with
    alternatives), InvalidTransition / ValidationFailed (no longer changeable, bad time)."""
    guard_manage_link(actor, token)
    clock = clock or app_clock()
    now = clock.now()
    if not isinstance(start_at, datetime) or start_at.tzinfo is None:
        raise ValidationFailed({"start": "Pick one of the free times"})
    with atomic(actor.org_id, engine=engine) as work:
        appt = _visit_by_token(work.session, actor, token, lock=True)
        why_not = _why_not(appt, now)
        if why_not:
            raise ValidationFailed({"start": why_not})
        moved = move_visit(work.session, actor, appt.id, VisitChange(start_at=start_at), now=now, online=True,
                           token=token)
        refund_ids, counted, old_id = tuple(moved.refund_ids), moved.counted_as_late_cancel, appt.id
        paid = succeeded_deposit(work.session, appt.id) if counted else None
        deposit = "" if paid is None else "refunded" if refund_ids else "kept"
    engine = engine_of(engine)
    if refund_ids:
        send_refunds_now(engine, actor, refund_ids, gateway_of(gateway, engine, clock), now)
    fee_words = ""
    if counted:  # a late move counted as a late cancellation: its fee's card charge, if any, then its words
        send_fee_charges_now(engine, actor, old_id, gateway_of(gateway, engine, clock), now)
        with atomic(actor.org_id, engine=engine) as work:
            fee_words = visit_fee_sentence(work.session, old_id)
    visit = fetch_managed_visit(actor, token, clock=clock, engine=engine)
    return Rescheduled(visit, _move_message(visit, counted, deposit, fee_words))


def do_cancel_by_token(actor: Actor, token: str, reason: str, note: str = "", *, clock: Clock | None = None,
                       engine: Engine | None = None, gateway: PaymentGateway | None = None) -> str:
    """Cancel the visit of a manage link with a reason (a CANCEL_REASONS code; "other" needs
    `note`), by the location's policy (portal.cancellation.cancel_own_appointment: the deposit
    kept or its refund written pending), committed; the refund is sent after the commit.

    Returns the outcome in plain words. Raises RateLimited (nothing written), NotFound,
    ValidationFailed({"reason"|"note": message}), portal.PortalUnavailable (no longer
    cancellable online; str() is the reason)."""
    guard_manage_link(actor, token)
    clock = clock or app_clock()
    now = clock.now()
    with atomic(actor.org_id, engine=engine) as work:
        appt = _visit_by_token(work.session, actor, token, lock=True)
        cancelled = cancellation.cancel_own_appointment(work.session, actor, appt.id, now=now, reason=reason,
                                                        note=note, token=token)
    engine = engine_of(engine)
    pay = gateway_of(gateway, engine, clock)
    send_refunds_now(engine, actor, cancelled.refund_ids, pay, now)
    send_fee_charges_now(engine, actor, cancelled.appointment_id, pay, now)  # a late-cancel fee's card charge
    with atomic(actor.org_id, engine=engine) as work:
        return cancellation.own_cancellation_message(work.session, actor, cancelled, token=token)
