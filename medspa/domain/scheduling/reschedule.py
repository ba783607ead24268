"""Moving a visit: another time, provider, service or room (issue 15, "The front desk's day").

One service for every way a visit moves: the staff calendar's drag-and-drop and edit dialog
(`online=False`) and the client's manage link or portal (`online=True`). The visit keeps its
row, references and payments (the deposit moves with it; a changed service keeps the deposit
and its new price is settled at checkout); its occupancies are released and booked anew in one
savepoint, so the exclusion constraint on `occupancy` still refuses any overlap however two
moves race.

What is checked:
- staff: any future start on a 5-minute step inside the provider's hours where the provider,
  a room and a device of the service's types are free, buffers included
  (fit.fit_start, which names the reason when it does not fit); a checked-in visit
  only within today (the client is here);
- client: a start the booking page would offer (the service's slot grid, notice and maximum
  advance: availability.find_slots without the visit's own time), the same service, a
  confirmed visit still ahead.

A client's move inside the cancellation window (policy.cancel_rule) is free once; the
location's `late_reschedule_is_late_cancel`, or a second late move, makes it count as a late
cancellation: the visit is cancelled with its deposit settled as a late cancel would settle it
(kept or refunded by the rule it was booked under) and the new time is a new confirmed visit
with nothing paid (its free late move counted as used). Its manage link moves to the new
visit, so one link never holds two bookings. A client's move that the clinic must make
(the provider left, or the rebook would be an online booking of a treatment not sold online)
is refused with CALL_CLINIC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from psycopg.errors import ExclusionViolation
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.catalog.service import get_service
from medspa.domain.clients.models import Client
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.notices import queue_move_notice
from medspa.domain.messaging.service import queue_booking_confirmation
from medspa.domain.money import format_money
from medspa.domain.payments.fees import late_fee_preview, settle_cancellation
from medspa.domain.payments.service import succeeded_deposit
from medspa.domain.practice.models import Location, Organization, Resource, StaffMember
from medspa.domain.practice.service import get_location
from medspa.domain.scheduling.availability import Slot, find_slots, nearest_alternatives
from medspa.domain.scheduling.fit import Fit, NotFree, fit_start
from medspa.domain.scheduling.models import (MOVABLE_STATUSES, Appointment, AppointmentStatus, Occupancy,
                                             OccupancyStatus)
from medspa.domain.scheduling.policy import CANCEL_REASONS, cancel_rule, is_late_cancellation
from medspa.domain.scheduling.references import new_booking_token
from medspa.domain.scheduling.service import (
    STAFF_HORIZON_DAYS,
    InvalidTransition,
    SlotTaken,
    cancel_appointment,
    get_appointment,
    hold_slot,
    holds_visit,
    lock_client_bookings,
    refuse_double_booking,
    release_lapsed_holds,
)
from medspa.domain.timezones import format_clinic_time
from medspa.domain.waitlist.trigger import time_freed

__all__ = ["CANCEL_REASONS", "MoveRefused", "Moved", "RescheduleTerms", "VisitChange", "move_visit",
           "reschedule_terms", "visit_resources"]

STAFF_STEP_MINUTES = 5  # a staff move lands on a 5-minute step of the clinic's clock
NOTES_MAX = 2000
CALL_CLINIC = "This visit cannot be moved online now. Please call the clinic."


class MoveRefused(Exception):
    """The visit cannot move there: `reason` in words for the person who asked (shown next to
    the block or the time), `alternatives` the nearest free slots (UTC Slots; may be empty)."""

    def __init__(self, reason: str, alternatives: list[Slot] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.alternatives = alternatives or []


@dataclass(frozen=True)
class VisitChange:
    """What a move asks for. start_at: the new start (aware UTC); provider_id, service_id,
    room_id, notes: None keeps the visit's own (room: the current room when free, else any free
    room of the service's type)."""

    start_at: datetime
    provider_id: int | None = None
    service_id: int | None = None
    room_id: int | None = None
    notes: str | None = None


@dataclass(frozen=True)
class RescheduleTerms:
    """What a client's move costs now. late: inside the cancellation window (policy.cancel_rule);
    free_late_left: the one free late move is still unused; counts_as_late_cancel: moving now
    is settled as a late cancellation; sentence: the terms in words, shown before the move."""

    late: bool
    free_late_left: bool
    counts_as_late_cancel: bool
    sentence: str


@dataclass
class Moved:
    """A move done (not yet committed). appointment: the live visit at its new time (the same
    row, or a new one when the move counted as a late cancellation); late: the move came inside
    the window; refund_ids: refunds written pending with it, to send after the commit."""

    appointment: Appointment
    late: bool = False
    counted_as_late_cancel: bool = False
    refund_ids: tuple[int, ...] = ()
    changed: bool = True


def reschedule_terms(session: Session, appt: Appointment, now: datetime) -> RescheduleTerms:
    """The terms of a client moving `appt` at `now` (module docstring): free outside the window;
    inside it free once unless the location counts late moves as late cancellations."""
    location = get_location(session, appt.location_id)
    window, keeps = cancel_rule(appt, location)
    late = is_late_cancellation(appt.start_at, window, now)
    free_left = appt.late_reschedules == 0 and not location.late_reschedule_is_late_cancel
    if not late:
        return RescheduleTerms(False, free_left, False, "Moving this visit is free.")
    if free_left:
        return RescheduleTerms(True, True, False, f"You are within {window} hours of your visit: you can move it "
                                                  "once without a fee.")
    fee_words = late_fee_preview(session, appt, location, client=True)  # a late-cancel fee: said as a cancel says it
    if fee_words:
        return RescheduleTerms(True, False, True, f"Moving it now counts as a late cancellation. {fee_words} The new "
                                                  "visit is paid in full at the clinic.")
    paid = succeeded_deposit(session, appt.id)
    if paid is None:
        tail = "."
    elif keeps:
        tail = (f": your {format_money(paid.amount_cents, paid.currency)} deposit is kept and the new visit "
                "is paid in full at the clinic.")
    else:
        tail = ": your deposit is refunded and the new visit is paid in full at the clinic."
    return RescheduleTerms(True, False, True, f"Moving it now counts as a late cancellation{tail}")


def visit_resources(session: Session, appointment_id: int) -> dict[str, int]:
    """The resources a visit holds now, by kind ("provider", "room", "device") -> resource id."""
    rows = session.exec(select(Resource.kind, Resource.id).join(Occupancy, Occupancy.resource_id == Resource.id)
                        .where(Occupancy.appointment_id == appointment_id,
                               Occupancy.status.in_((OccupancyStatus.HELD, OccupancyStatus.BOOKED))))
    return {kind: rid for kind, rid in rows}


def _may_move(actor: Actor, appt: Appointment, online: bool, token: str | None) -> None:
    """The staff path needs appointment.reschedule; the client's path (online) a portal client's
    own visit or a visitor's manage-link token (service.holds_visit) with
    appointment.reschedule_own. Anything else looks missing (NotFound) or is denied."""
    if online:  # the client's path: their own visit only (staff use theirs)
        actor.require("appointment.reschedule_own")
        if not holds_visit(actor, appt, token):
            raise NotFound("appointment")
    else:
        actor.require("appointment.reschedule")


def _clean_notes(notes: str | None, current: str) -> str:
    if notes is None:
        return current
    if not isinstance(notes, str) or "\x00" in notes:
        raise ValidationFailed({"notes": "The notes contain a character that cannot be stored"})
    notes = notes.strip()
    if len(notes) > NOTES_MAX:
        raise ValidationFailed({"notes": f"Keep the notes under {NOTES_MAX} characters"})
    return notes


def move_visit(session: Session, actor: Actor, appointment_id: int, change: VisitChange, *, now: datetime,
               online: bool, token: str | None = None) -> Moved:
    """Move the visit as `change` asks (module docstring for the rules), with its audit row
    (appointment.reschedule: from and to) and the client's notice of the new time.

    online: the client's path (manage link with `token`, or the portal); else the staff's.
    Nothing changes (changed=False) when the change asks for what the visit already has.
    Raises MoveRefused (reason, alternatives), InvalidTransition (status), ValidationFailed
    (start without offset, service change online, notes), NotFound, PermissionDenied.
    The caller commits, then sends `refund_ids`."""
    lock_client_bookings(session, appointment_id=appointment_id)  # lock order: the client, then the visit
    appt = get_appointment(session, appointment_id, lock=True)
    _may_move(actor, appt, online, token)
    _check_request(appt, change, now, online)
    start_at = change.start_at
    provider_id = change.provider_id if change.provider_id is not None else appt.provider_id
    service_id = change.service_id if change.service_id is not None else appt.service_id
    notes = _clean_notes(change.notes, appt.notes)
    held = visit_resources(session, appt.id)
    if (start_at == appt.start_at and provider_id == appt.provider_id and service_id == appt.service_id
            and change.room_id in (None, held.get("room"))):
        return _update_notes(session, actor, appt, notes, now)
    fit = _fit(session, actor, appt, start_at, provider_id, service_id, change.room_id, held, now=now, online=online)
    terms = reschedule_terms(session, appt, now) if online else None
    if terms is not None and terms.counts_as_late_cancel:
        if not get_service(session, appt.service_id).online_bookable:  # the rebook is a new online booking
            raise MoveRefused(CALL_CLINIC)
        return _rebook_as_late_cancel(session, actor, appt, start_at, provider_id, now)
    old = {"start": appt.start_at.isoformat(), "provider_id": appt.provider_id, "service_id": appt.service_id,
           "room_id": held.get("room")}
    _relocate(session, actor, appt, fit, start_at, provider_id, service_id, now=now, online=online)
    old_start, old_end, old_provider = appt.start_at, appt.end_at, appt.provider_id
    service = get_service(session, service_id)
    appt.start_at, appt.end_at = start_at, start_at + timedelta(minutes=service.duration_minutes)
    appt.provider_id, appt.notes, appt.rescheduled_at = provider_id, notes, now
    if service_id != appt.service_id:
        appt.service_id, appt.price_cents = service_id, service.price_cents  # the deposit stays; checkout settles
    late = bool(terms and terms.late)
    if late:
        appt.late_reschedules += 1
    session.add(appt)
    record(session, actor, "appointment.reschedule", "appointment", appt.id, client_id=appt.client_id, at=now,
           **{"from": old, "to": {"start": start_at.isoformat(), "provider_id": provider_id,
                                  "service_id": service_id, "room_id": fit.room_id}},
           late=late, by="client" if online else "staff")
    session.flush()
    if old_start != start_at or old["provider_id"] != provider_id or old["service_id"] != service_id:
        queue_move_notice(session, appt, old_start=old_start, now=now)
    time_freed(session, location_id=appt.location_id, lo=old_start, hi=old_end, provider_id=old_provider)  # waitlist
    return Moved(appt, late=late)


def _check_request(appt: Appointment, change: VisitChange, now: datetime, online: bool) -> None:
    """The visit's status allows the move on this path, and the start is an aware instant."""
    if not isinstance(change.start_at, datetime) or change.start_at.tzinfo is None:
        raise ValidationFailed({"start": "Give the time with its UTC offset"})
    if online:
        if appt.status != AppointmentStatus.CONFIRMED or appt.start_at <= now:
            raise InvalidTransition("This visit can no longer be moved online. Please call the clinic.")
        if change.service_id not in (None, appt.service_id):
            raise ValidationFailed({"service": "To change the treatment, please call the clinic"})
    elif appt.status not in MOVABLE_STATUSES:
        raise InvalidTransition(f"A {appt.status.replace('_', ' ')} visit cannot be moved")


def _update_notes(session: Session, actor: Actor, appt: Appointment, notes: str, now: datetime) -> Moved:
    """A change that keeps the time, provider, service and room: only the notes, if they differ."""
    changed = notes != appt.notes
    if changed:
        appt.notes = notes
        session.add(appt)
        record(session, actor, "appointment.update", "appointment", appt.id, client_id=appt.client_id, at=now,
               fields=["notes"])
        session.flush()
    return Moved(appt, changed=changed)


def _fit(session: Session, actor: Actor, appt: Appointment, start_at: datetime, provider_id: int, service_id: int,
         room_id: int | None, held: dict[str, int], *, now: datetime, online: bool) -> Fit:
    """Where the visit fits at `start_at` (fit.fit_start; online also on the booking
    page's grid and notice), the reason in words when it does not (MoveRefused)."""
    location = get_location(session, appt.location_id)
    service = get_service(session, service_id)
    provider = session.get(StaffMember, provider_id)
    if provider is None or not provider.active:
        if online:  # the client's own provider left: nothing of theirs is missing, the desk moves it
            raise MoveRefused(CALL_CLINIC)
        raise NotFound("provider")
    if start_at < now:
        raise MoveRefused("This time has already passed")
    if start_at > now + timedelta(days=STAFF_HORIZON_DAYS):
        raise MoveRefused("This time is too far ahead to book")
    local = start_at.astimezone(ZoneInfo(location.time_zone))
    if not online and (local.minute % STAFF_STEP_MINUTES or local.second or local.microsecond):
        raise MoveRefused(f"Visits start on a {STAFF_STEP_MINUTES}-minute step")
    if appt.status == AppointmentStatus.CHECKED_IN and local.date() != now.astimezone(local.tzinfo).date():
        # the client is here: a check-in belongs to its visit's day (service.change_status)
        raise MoveRefused("The client is checked in: move the visit within today, or cancel it and book "
                          "another day")

    def alternatives() -> list[Slot]:
        return nearest_alternatives(session, actor, location_id=location.id, service_id=service_id, wanted=start_at,
                                    now=now, provider_id=provider_id, apply_notice=online,
                                    exclude_appointment_id=appt.id)

    if appt.client_id is not None:
        try:
            refuse_double_booking(session, appt.client_id, start_at,
                                  start_at + timedelta(minutes=service.duration_minutes), exclude_id=appt.id)
        except ValidationFailed:
            raise MoveRefused("You already have a visit at that time. Please pick another." if online
                              else "The client has another visit at that time") from None
    if online:
        try:
            offered = find_slots(session, actor, location_id=location.id, service_id=service_id,
                                 start_date=local.date(), end_date=local.date(), now=now, provider_id=provider_id,
                                 apply_notice=True, exclude_appointment_id=appt.id)
        except NotFound:  # the provider no longer performs the service here
            raise MoveRefused(CALL_CLINIC) from None
        if not any(s.start == start_at for s in offered):
            raise MoveRefused("This time is not free any more. Please pick another.", alternatives())
    try:
        return fit_start(session, actor, location_id=location.id, service_id=service_id, provider_id=provider_id,
                         start_at=start_at, now=now, exclude_appointment_id=appt.id, room_id=room_id,
                         prefer_room_id=held.get("room"), prefer_device_id=held.get("device"),
                         provider_name=provider.display_name)
    except NotFree as exc:
        raise MoveRefused(exc.reason, alternatives()) from None


def _relocate(session: Session, actor: Actor, appt: Appointment, fit: Fit, start_at: datetime, provider_id: int,
              service_id: int, *, now: datetime, online: bool) -> None:
    """Move the visit's live occupancies to `fit` in one savepoint, in place: each kind of
    resource (provider, room, device) keeps its one row, updated to the new resource and span
    (a row the new service no longer needs is deleted, one it newly needs inserted), so a
    moved visit never leaves rows behind that the calendar, the panel or the day lists would
    show. A time taken meanwhile (the exclusion constraint checks the updated rows too) rolls
    it back and raises MoveRefused."""
    release_lapsed_holds(session, fit.resource_ids, fit.lo, fit.hi, now)
    wanted = {"provider": fit.provider_resource_id, "room": fit.room_id, "device": fit.device_id}
    rows = session.exec(select(Occupancy, Resource.kind).join(Resource, Resource.id == Occupancy.resource_id)
                        .where(Occupancy.appointment_id == appt.id,
                               Occupancy.status.in_((OccupancyStatus.HELD, OccupancyStatus.BOOKED)))).all()
    current = {kind: occ for occ, kind in rows}
    try:
        with session.begin_nested():
            for kind, resource_id in wanted.items():
                occ = current.get(kind)
                if occ is not None and resource_id is None:
                    session.delete(occ)
                elif occ is not None:
                    occ.resource_id, occ.during, occ.status = resource_id, Range(fit.lo, fit.hi, bounds="[)"), \
                        OccupancyStatus.BOOKED
                    session.add(occ)
                elif resource_id is not None:
                    session.add(Occupancy(org_id=appt.org_id, resource_id=resource_id, appointment_id=appt.id,
                                          during=Range(fit.lo, fit.hi, bounds="[)"), status=OccupancyStatus.BOOKED))
            session.flush()
    except IntegrityError as exc:
        if isinstance(exc.orig, ExclusionViolation):
            session.refresh(appt)
            alternatives = nearest_alternatives(session, actor, location_id=appt.location_id, service_id=service_id,
                                                wanted=start_at, now=now, provider_id=provider_id,
                                                apply_notice=online, exclude_appointment_id=appt.id)
            raise MoveRefused("Someone else just took this time. Please pick another.", alternatives) from None
        raise


def _rebook_as_late_cancel(session: Session, actor: Actor, appt: Appointment, start_at: datetime,
                           provider_id: int, now: datetime) -> Moved:
    """A client's late move that counts as a late cancellation: cancel `appt` (deposit kept or
    refunded by its rule), book the new time as a new confirmed visit with nothing paid, and
    hand it the manage link's token. Raises MoveRefused when the time was taken meanwhile."""
    token = appt.booking_token
    when = format_clinic_time(start_at, get_location(session, appt.location_id).time_zone)
    outcome = cancel_appointment(session, actor, appt.id, now=now, reason="client_request",
                                 note=f"Moved to {when} inside the cancellation window", token=token)
    refund = settle_cancellation(session, actor, outcome.appointment, keep=outcome.keeps_deposit, now=now)
    appt.booking_token = new_booking_token()  # the link follows the live visit
    session.add(appt)
    session.flush()
    try:
        new = hold_slot(session, actor, location_id=appt.location_id, service_id=appt.service_id, start_at=start_at,
                        now=now, provider_id=provider_id, client_id=appt.client_id, source=appt.source,
                        confirm=True, online=True)
    except SlotTaken as exc:
        raise MoveRefused("This time is not free any more. Please pick another.", exc.alternatives) from None
    new.booking_token, new.notes, new.rescheduled_at = token, appt.notes, now
    new.late_reschedules = appt.late_reschedules + 1  # its one free late move is used: never free again
    session.add(new)
    record(session, actor, "appointment.reschedule", "appointment", new.id, client_id=new.client_id, at=now,
           late=True, counted_as_late_cancel=True, replaces=appt.id, start=start_at.isoformat())
    session.flush()
    client = session.get(Client, new.client_id) if new.client_id else None
    if client is not None:
        queue_booking_confirmation(session, org=session.get(Organization, actor.org_id), appointment=new,
                                   client=client, location=session.get(Location, new.location_id),
                                   service=get_service(session, new.service_id),
                                   provider=session.get(StaffMember, new.provider_id))
    return Moved(new, late=True, counted_as_late_cancel=True, refund_ids=(refund.id,) if refund is not None else ())
