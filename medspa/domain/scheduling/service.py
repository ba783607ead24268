"""Holding, confirming, cancelling and checking in appointments.

The exclusion constraint on `occupancy` makes double booking impossible; these functions add the friendly
path: they check first (SlotTaken with the nearest alternatives), release lapsed holds on the wanted resources
in the same transaction (the constraint cannot use now()), and turn a lost race (23P01) into SlotTaken.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from psycopg.errors import ExclusionViolation, UniqueViolation
from sqlalchemy import text, update
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location, Resource
from medspa.domain.practice.service import get_location
from medspa.domain.scheduling.policy import (cancel_rule, clean_cancel_reason, is_clinic_reason, is_late_to_cancel,
                                            record_booked_rule)
from medspa.domain.scheduling.availability import (ONLINE_HORIZON_DAYS, Slot, day_plan, money_on_hold,
                                                   nearest_alternatives, occupancy_span)
from medspa.domain.scheduling.context import _Context, booking_context
from medspa.domain.scheduling.models import (Appointment, AppointmentStatus, Occupancy, OccupancyStatus,
                                             visits_overlapping)
from medspa.domain.waitlist.trigger import visit_freed
from medspa.domain.scheduling.references import (DISPLAY_CODE_CONSTRAINT, is_booking_token, new_booking_token,
                                                 new_display_code, normalise_display_code)

DEFAULT_HOLD_MINUTES = 10
DEFAULT_GRACE_SECONDS = 120  # Settings.reconcile_grace_seconds (payments.service.reconcile_after_of says why)
STAFF_HORIZON_DAYS = 730


class SlotTaken(Exception):
    """The wanted start is not (or no longer) free. `alternatives`: nearest free slots."""

    def __init__(self, alternatives: list[Slot]):
        super().__init__("slot_taken")
        self.alternatives = alternatives


class InvalidTransition(Exception):
    """The appointment's status does not allow this step (message is user-facing)."""


def _aware(instant: datetime, field: str = "start") -> datetime:
    if instant.tzinfo is None:
        raise ValidationFailed({field: "Give the time with its UTC offset"})
    return instant


def release_lapsed_holds(session: Session, resource_ids: list[int], lo: datetime, hi: datetime,
                         now: datetime) -> bool:
    """Expire the lapsed holds (no money on them) on these resources over [lo, hi) before a
    write that wants them: the exclusion constraint cannot compare with now(). True when
    there was one (then its appointment is expired and all its held occupancies released)."""
    lapsed = session.exec(
        select(Occupancy.id, Occupancy.appointment_id).where(
            Occupancy.status == OccupancyStatus.HELD, Occupancy.hold_expires_at <= now,
            Occupancy.resource_id.in_(resource_ids), Occupancy.during.op("&&")(Range(lo, hi, bounds="[)")),
            ~money_on_hold(Occupancy.appointment_id))
    ).all()
    if not lapsed:
        return False
    appointment_ids = {a for _, a in lapsed if a is not None}
    session.execute(update(Occupancy).where(Occupancy.appointment_id.in_(appointment_ids),
                                            Occupancy.status == OccupancyStatus.HELD)
                    .values(status=OccupancyStatus.RELEASED))
    session.execute(update(Appointment).where(Appointment.id.in_(appointment_ids),
                                              Appointment.status == AppointmentStatus.HELD)
                    .values(status=AppointmentStatus.EXPIRED))
    return True


def _free_resource(busy, candidates: list[int], lo: datetime, hi: datetime) -> int | None:
    return next((rid for rid in candidates if busy.is_free(rid, lo, hi)), None)


def _bookable(session: Session, *, location_id: int, service_id: int, start_at: datetime, now: datetime,
              client_id: int | None, online: bool, org_id: int) -> tuple[Service, Location, _Context]:
    """The service and location of a booking request whose start is ahead and within the
    horizon (online: the service is online-bookable; a client holds no overlapping visit), with
    the request's set-up data (availability.booking_context: kept per worker while the calendar
    loop listens).
    Raises ValidationFailed ("start": passed, too far ahead, or the client is already booked then),
    NotFound."""
    if start_at < now:
        raise ValidationFailed({"start": "This time has already passed"})
    if start_at > now + timedelta(days=ONLINE_HORIZON_DAYS if online else STAFF_HORIZON_DAYS):
        raise ValidationFailed({"start": "This time is too far ahead to book"})
    ctx = booking_context(session, org_id, location_id, service_id, now)
    service, location = ctx.service, ctx.location
    if online and not service.online_bookable:
        raise NotFound("service")
    if online and service.max_advance_days and start_at > now + timedelta(days=service.max_advance_days):
        raise ValidationFailed({"start": f"This service can be booked at most {service.max_advance_days} days ahead"})
    if client_id is not None:
        refuse_double_booking(session, client_id, start_at, start_at + timedelta(minutes=service.duration_minutes))
    return service, location, ctx


CODE_TRIES = 5  # display-code clashes are ~n/2^40 per insert: a fifth one means something is wrong


def _insert_reservation(session: Session, appt: Appointment, resource_ids: list[int], lo: datetime,
                        hi: datetime, now: datetime) -> bool:
    """Insert `appt` and its occupancies of `resource_ids` over [lo, hi) (booked for a confirmed
    appointment, held until its hold expiry otherwise; one INSERT for all) in a savepoint. False
    when the exclusion constraint refused them (another booking won the race; savepoint rolled
    back). Refused by a lapsed hold (no money on it): release_lapsed_holds and one more try, so
    the common path spends no statement on lapsed holds. A display code already used in the
    clinic is replaced and the insert retried (up to CODE_TRIES times, then IntegrityError)."""
    confirmed = appt.status == AppointmentStatus.CONFIRMED
    released = False
    for attempt in range(CODE_TRIES + 1):
        try:
            with session.begin_nested():
                session.add(appt)
                session.flush()
                session.add_all([
                    Occupancy(org_id=appt.org_id, resource_id=rid, appointment_id=appt.id,
                              during=Range(lo, hi, bounds="[)"),
                              status=OccupancyStatus.BOOKED if confirmed else OccupancyStatus.HELD,
                              hold_expires_at=appt.hold_expires_at)
                    for rid in resource_ids])
                session.flush()
        except IntegrityError as exc:
            if isinstance(exc.orig, ExclusionViolation):
                if released or not release_lapsed_holds(session, resource_ids, lo, hi, now):
                    return False
                released, appt.id = True, None  # the rolled-back row is gone: try once more
                continue
            if (isinstance(exc.orig, UniqueViolation) and exc.orig.diag.constraint_name == DISPLAY_CODE_CONSTRAINT
                    and attempt + 1 < CODE_TRIES):
                appt.id, appt.display_code = None, new_display_code()  # the rolled-back row is gone
                continue
            raise
        return True
    raise AssertionError("unreachable")  # every path of the last attempt returns or raises


def hold_slot(session: Session, actor: Actor, *, location_id: int, service_id: int, start_at: datetime,
              now: datetime, provider_id: int | None = None, client_id: int | None = None,
              source: str | None = None, hold_minutes: int = DEFAULT_HOLD_MINUTES,
              confirm: bool = False, online: bool | None = None) -> Appointment:
    """Reserve a slot: an appointment (held, or confirmed when confirm=True) and its occupancies.

    provider_id None means "anyone": the first free provider offering that start.
    online (default: the actor is public or client) needs appointment.book_online, else
    appointment.book.
    Online actors get the service's minimum notice; staff may book any future start on the
    grid. Raises SlotTaken (with alternatives), NotFound, ValidationFailed, PermissionDenied.
    The caller commits.
    """
    if online is None:  # the booking page and public API act as public/client; staff book at the desk
        online = actor.role in ("public", "client")
    source = source or ("online" if online else "staff")
    actor.require("appointment.book_online" if online else "appointment.book")
    start_at = _aware(start_at)
    service, location, ctx = _bookable(session, location_id=location_id, service_id=service_id, start_at=start_at,
                                       now=now, client_id=client_id, online=online, org_id=actor.org_id)
    tz = ZoneInfo(location.time_zone)
    local_day = start_at.astimezone(tz).date()
    # the day's slots, read with the context and busy index that the booking then reuses
    plan = day_plan(session, actor, location_id=location_id, service_id=service_id, start_date=local_day,
                    end_date=local_day, now=now, provider_id=provider_id, apply_notice=online, ctx=ctx)
    candidates = [s.provider_id for s in plan.slots if s.start == start_at]

    def taken(day_slots: list[Slot] | None) -> SlotTaken:
        return SlotTaken(nearest_alternatives(session, actor, location_id=location_id, service_id=service_id,
                                              wanted=start_at, now=now, provider_id=provider_id,
                                              apply_notice=online, day_slots=day_slots, ctx=plan.ctx))

    if not candidates:
        raise taken(plan.slots)  # this day's slots are fresh: reuse them
    lo, hi = occupancy_span(service, start_at)
    provider_res, rooms, devices = plan.ctx.provider_resource, plan.ctx.rooms, plan.ctx.devices
    busy = plan.busy  # covers [lo, hi); what changed since, the exclusion constraint refuses
    expires = now + timedelta(minutes=hold_minutes)
    for staff_id in candidates:
        wanted = [provider_res[staff_id]]
        for pool in (rooms, devices):
            if pool:
                rid = _free_resource(busy, pool, lo, hi)
                if rid is None:
                    break
                wanted.append(rid)
        else:
            appt = Appointment(
                org_id=actor.org_id, display_code=new_display_code(), booking_token=new_booking_token(),
                location_id=location_id, service_id=service_id,
                provider_id=staff_id, client_id=client_id, start_at=start_at,
                end_at=start_at + timedelta(minutes=service.duration_minutes),
                status=AppointmentStatus.CONFIRMED if confirm else AppointmentStatus.HELD,
                hold_expires_at=None if confirm else expires,
                price_cents=service.price_cents, deposit_cents=0 if confirm else service.deposit_cents,
                currency=service.currency, source=source, created_by_user_id=actor.user_id,
                confirmed_at=now if confirm else None)
            record_booked_rule(appt, location)
            if not _insert_reservation(session, appt, wanted, lo, hi, now):
                continue  # lost a race for this provider/room: try the next candidate
            record(session, actor, "appointment.confirm" if confirm else "appointment.hold", "appointment",
                   appt.id, client_id=client_id, at=now, start=start_at.isoformat(), provider_id=staff_id,
                   service_id=service_id)
            return appt
    raise taken(None)  # lost a race: what we read before is stale, look again


def client_visit_spans(session: Session, client_id: int, lo: datetime, hi: datetime, *,
                       exclude_id: int | None = None) -> list[tuple[datetime, datetime]]:
    """(start, end) of the client's live visits (held, confirmed, checked in) overlapping
    [lo, hi), but `exclude_id` (a visit being moved): what refuse_double_booking refuses."""
    return [(a, b) for a, b in session.exec(select(Appointment.start_at, Appointment.end_at).where(
        Appointment.client_id == client_id, Appointment.id != (exclude_id or 0),
        Appointment.status.in_((AppointmentStatus.HELD, AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN)),
        visits_overlapping(lo, hi)))]


def lock_client_bookings(session: Session, client_id: int | None = None, *, appointment_id: int | None = None) -> None:
    """Serialise the bookings of one client (`client_id`, or `appointment_id`'s) until the transaction
    ends (pg_advisory_xact_lock on clinic + client). Lock order: this BEFORE any row lock of the
    client's visits (reschedule.move_visit, series_changes.move_in_series), never crosswise waits."""
    if client_id is None and appointment_id is not None:
        client_id = session.exec(select(Appointment.client_id).where(Appointment.id == appointment_id)).first()
    if client_id is not None:
        session.execute(text("select pg_advisory_xact_lock(hashtextextended('client-bookings|' || "
                             "current_setting('app.org_id', true) || '|' || :c, 0))"), {"c": str(int(client_id))})


def refuse_double_booking(session: Session, client_id: int, start_at: datetime, end_at: datetime, *,
                          exclude_id: int | None = None) -> None:
    """A client cannot hold two live appointments that overlap (a retried or doubled request).
    Checked under lock_client_bookings: two desks booking one client at once check one after the
    other (READ COMMITTED). exclude_id: a visit being moved. Raises ValidationFailed({"start": ...})."""
    lock_client_bookings(session, client_id)
    if client_visit_spans(session, client_id, start_at, end_at, exclude_id=exclude_id):
        raise ValidationFailed({"start": "You already have a booking at this time"})


def get_appointment(session: Session, appointment_id: int, *, lock: bool = False) -> Appointment:
    """An appointment of the current clinic; raises NotFound. lock: FOR UPDATE, and the row is
    read afresh even when the session loaded it before (else the identity map hands back the
    stale object, and a check made under the lock reads what another transaction changed)."""
    stmt = select(Appointment).where(Appointment.id == appointment_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    appt = session.exec(stmt).first()
    if appt is None:
        raise NotFound("appointment")
    return appt


def appointment_by_token(session: Session, token: str) -> Appointment:
    """The booking with this unguessable token in the current clinic (exact, case-sensitive
    match). Raises NotFound for anything else: a display code (never a token: anonymous
    callers cannot guess their way in with the short code), a hold or a lapsed hold."""
    token = token.strip() if isinstance(token, str) else ""
    if not is_booking_token(token):
        raise NotFound("booking")
    appt = session.exec(select(Appointment).where(Appointment.booking_token == token)).first()
    if appt is None or appt.status in (AppointmentStatus.HELD, AppointmentStatus.EXPIRED):
        raise NotFound("booking")
    return appt


def appointment_by_display_code(session: Session, actor: Actor, code: str) -> Appointment:
    """The desk's search: the clinic's appointment with this display code as a person typed it
    (references.normalise_display_code: any case, with or without the hyphen, O for 0, I/L for 1).
    Needs calendar.read; other clinics' rows are invisible (RLS). Holds are found too (the
    calendar shows them). Raises PermissionDenied, NotFound (also for text that is no code)."""
    actor.require("calendar.read")
    bare = normalise_display_code(code)
    if bare is None:
        raise NotFound("appointment")
    appt = session.exec(select(Appointment).where(Appointment.display_code == bare)).first()
    if appt is None:
        raise NotFound("appointment")
    return appt


class HoldLost(Exception):
    """The hold was released (lapsed and taken by someone else) before it could be confirmed."""


def confirm_hold(session: Session, actor: Actor, appointment_id: int, *, now: datetime,
                 client_id: int | None = None) -> Appointment:
    """Turn a held appointment into a confirmed one (occupancies held -> booked).

    A lapsed hold that nobody took is still confirmed. Raises HoldLost if its occupancies
    were released, NotFound. The caller commits.
    """
    appt = get_appointment(session, appointment_id, lock=True)
    if appt.status == AppointmentStatus.CONFIRMED:
        return appt
    if appt.status != AppointmentStatus.HELD:
        raise HoldLost()
    rows = list(session.exec(select(Occupancy).where(Occupancy.appointment_id == appt.id).with_for_update()))
    if not rows or any(r.status != OccupancyStatus.HELD for r in rows):
        raise HoldLost()
    for r in rows:
        r.status, r.hold_expires_at = OccupancyStatus.BOOKED, None
    appt.status, appt.hold_expires_at, appt.confirmed_at = AppointmentStatus.CONFIRMED, None, now
    if client_id is not None:
        appt.client_id = client_id
    session.add_all([appt, *rows])
    record(session, actor, "appointment.confirm", "appointment", appt.id, client_id=appt.client_id, at=now)
    session.flush()
    return appt


def release_hold(session: Session, actor: Actor, appointment_id: int, *, now: datetime, reason: str = "") -> None:
    """Give a held slot back (declined card, client left). No-op for non-held appointments."""
    appt = get_appointment(session, appointment_id, lock=True)
    if appt.status != AppointmentStatus.HELD:
        return
    session.execute(update(Occupancy).where(Occupancy.appointment_id == appt.id,
                                            Occupancy.status == OccupancyStatus.HELD)
                    .values(status=OccupancyStatus.RELEASED))
    appt.status = AppointmentStatus.EXPIRED
    session.add(appt)
    record(session, actor, "appointment.release", "appointment", appt.id, client_id=appt.client_id, at=now,
           reason=reason)
    session.flush()
    visit_freed(session, appt)  # the waitlist hears of the freed time (a job in this transaction)


def revive_hold(session: Session, actor: Actor, appointment_id: int, *, now: datetime) -> bool:
    """Hold again the slot of an expired (released) hold when it is free, so that a deposit
    that was charged anyway can confirm it (reconciliation). True when the appointment is held
    again (its occupancies held, lapsed at `now`; audit appointment.hold, reason "revived"),
    False when it is not expired, starts before `now`, its client holds another visit at that
    time, or the exclusion constraint finds the slot taken (savepoint rolled back). Caller commits."""
    appt = get_appointment(session, appointment_id, lock=True)
    if appt.status != AppointmentStatus.EXPIRED or appt.start_at <= now:
        return False
    if appt.client_id is not None:
        try:
            refuse_double_booking(session, appt.client_id, appt.start_at, appt.end_at)
        except ValidationFailed:
            return False
    rows = list(session.exec(select(Occupancy).where(Occupancy.appointment_id == appt.id,
                                                     Occupancy.status == OccupancyStatus.RELEASED)))
    if not rows:
        return False
    try:
        with session.begin_nested():
            for r in rows:
                r.status, r.hold_expires_at = OccupancyStatus.HELD, now
            appt.status, appt.hold_expires_at = AppointmentStatus.HELD, now
            session.add_all([appt, *rows])
            session.flush()
    except IntegrityError as exc:
        if isinstance(exc.orig, ExclusionViolation):
            session.refresh(appt)
            return False
        raise
    record(session, actor, "appointment.hold", "appointment", appt.id, client_id=appt.client_id, at=now,
           reason="revived: the deposit was charged and the slot is free")
    return True


def _release_occupancy(session: Session, appointment_id: int) -> None:
    session.execute(update(Occupancy).where(Occupancy.appointment_id == appointment_id,
                                            Occupancy.status.in_((OccupancyStatus.HELD, OccupancyStatus.BOOKED)))
                    .values(status=OccupancyStatus.RELEASED))


@dataclass
class CancelOutcome:
    """late: inside the location's window; keeps_deposit: the policy keeps the deposit (late
    at a location whose late_cancel_keeps_deposit is on). refund_due_cents: deposit to return."""

    appointment: Appointment
    late: bool
    refund_due_cents: int
    keeps_deposit: bool = False


def holds_visit(actor: Actor, appt: Appointment, token: str | None = None) -> bool:
    """Whether a client-side actor may act on `appt` as its own: a portal client
    (actor.client_id) their own visit; a visitor (public actor) holding its manage link's
    `token` (compared in constant time). Staff roles: False (they act by permission)."""
    if actor.role == "client":
        return actor.client_id is not None and appt.client_id == actor.client_id
    if actor.role == "public":
        return (isinstance(token, str) and is_booking_token(token)
                and secrets.compare_digest(token.encode(), appt.booking_token.encode()))
    return False


def cancel_appointment(session: Session, actor: Actor, appointment_id: int, *, now: datetime,
                       reason: str = "client_request", note: str = "", token: str | None = None) -> CancelOutcome:
    """Cancel a confirmed appointment and free its resources.

    Late = less than the window hours before start: the deposit is kept when the rule keeps it
    (policy.cancel_rule: the kinder of the booked and the current rule) and staff did not cancel
    for the clinic's own reason (policy.CLINIC_REASONS); otherwise it is due back
    (payments.fees.settle_cancellation refunds it, or applies a late-cancel fee). Stored on the
    appointment with who cancelled (cancelled_by) and why (`reason`, `note`: clean_cancel_reason).
    A portal client (appointment.cancel_own) may cancel only their own visits, a visitor only the
    one whose manage-link `token` they hold (holds_visit); any other looks missing.
    Raises InvalidTransition, NotFound, PermissionDenied. The caller commits.
    """
    staff = actor.can("appointment.cancel")
    if not staff:
        actor.require("appointment.cancel_own")
    appt = get_appointment(session, appointment_id, lock=True)
    if not staff and not holds_visit(actor, appt, token):
        raise NotFound("appointment")
    reason, note = clean_cancel_reason(reason, note)
    if appt.status not in (AppointmentStatus.CONFIRMED, AppointmentStatus.HELD):
        raise InvalidTransition(f"A {appt.status.replace('_', ' ')} appointment cannot be cancelled")
    location = get_location(session, appt.location_id)
    window, late_keeps = cancel_rule(appt, location)  # the kinder of the booked and the current rule
    late = is_late_to_cancel(appt, window, now)
    keeps = late_keeps and late and not (staff and is_clinic_reason(reason))  # a client's: any reason
    _release_occupancy(session, appt.id)
    appt.status, appt.cancelled_at, appt.cancellation_late = AppointmentStatus.CANCELLED, now, late
    appt.cancellation_keeps_deposit = keeps
    appt.cancellation_reason, appt.cancellation_note = reason, note
    appt.cancelled_by = cancelled_by(actor)
    appt.cancelled_by_user_id = actor.user_id if appt.cancelled_by == "staff" else None
    session.add(appt)
    record(session, actor, "appointment.cancel", "appointment", appt.id, client_id=appt.client_id, at=now,
           late=late, keeps_deposit=keeps, reason=reason, note=note[:200])
    session.flush()
    visit_freed(session, appt)  # the waitlist hears of the freed time (a job in this transaction)
    return CancelOutcome(appt, late, 0 if keeps else appt.deposit_cents, keeps)


def cancelled_by(actor: Actor) -> str:
    """Who a cancellation (or a move) is recorded as made by: "client" (portal or manage link),
    "system" (jobs) or "staff"."""
    if actor.role in ("client", "public"):
        return "client"
    return "system" if actor.role == "system" else "staff"


_TRANSITIONS = {
    "check_in": ({AppointmentStatus.CONFIRMED}, AppointmentStatus.CHECKED_IN, "checked_in_at"),
    "complete": ({AppointmentStatus.CHECKED_IN, AppointmentStatus.CONFIRMED}, AppointmentStatus.COMPLETED,
                 "completed_at"),
    "no_show": ({AppointmentStatus.CONFIRMED}, AppointmentStatus.NO_SHOW, None),
}


def change_status(session: Session, actor: Actor, appointment_id: int, step: str, *, now: datetime) -> Appointment:
    """check_in, complete or no_show. Check-in and no-show only on or after the local day of
    the visit. Raises InvalidTransition, NotFound. The caller commits."""
    actor.require("appointment.check_in" if step == "check_in" else "appointment.update_status")
    if step not in _TRANSITIONS:
        raise InvalidTransition(f"Unknown step {step!r}")
    allowed, new_status, stamp = _TRANSITIONS[step]
    appt = get_appointment(session, appointment_id, lock=True)
    if appt.status not in allowed:
        raise InvalidTransition(f"A {appt.status.replace('_', ' ')} appointment cannot be {new_status.replace('_', ' ')}")
    tz = ZoneInfo(get_location(session, appt.location_id).time_zone)
    if now.astimezone(tz).date() < appt.start_at.astimezone(tz).date():
        raise InvalidTransition("This visit is on a later day")
    appt.status = new_status
    if stamp:
        setattr(appt, stamp, now)
    session.add(appt)
    record(session, actor, f"appointment.{step}", "appointment", appt.id, client_id=appt.client_id, at=now)
    session.flush()
    return appt


def add_block(session: Session, actor: Actor, *, staff_id: int, start_at: datetime, end_at: datetime,
              note: str = "", now: datetime) -> Occupancy:
    """Block a provider's time (meeting, lunch). Raises SlotTaken([]) if it overlaps a booking."""
    actor.require("block.write")
    start_at, end_at = _aware(start_at), _aware(end_at, "end")
    if end_at <= start_at:
        raise ValidationFailed({"end": "End must be after start"})
    res = session.exec(select(Resource).where(Resource.staff_id == staff_id, Resource.kind == "provider")).first()
    if res is None:
        raise NotFound("provider")
    release_lapsed_holds(session, [res.id], start_at, end_at, now)
    block = Occupancy(org_id=actor.org_id, resource_id=res.id, during=Range(start_at, end_at, bounds="[)"),
                      status=OccupancyStatus.BOOKED, kind="block", note=note[:200])
    try:
        with session.begin_nested():
            session.add(block)
            session.flush()
    except IntegrityError as exc:
        if isinstance(exc.orig, ExclusionViolation):
            raise SlotTaken([]) from exc
        raise
    record(session, actor, "block.create", "occupancy", block.id, at=now, staff_id=staff_id)
    return block
