"""Recurring series from the staff calendar (scheduling.series): check the dates, book the
chosen ones in one transaction, cancel or move one visit, this and following, or all.
Open calendars follow by themselves (the appointment and occupancy triggers notify on commit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy.engine import Engine

from medspa.clock import Clock, app_clock
from medspa.domain.clinical.health_record import require_booking_overrides
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.payments.factory import gateway_of
from medspa.domain.payments.gateway import PaymentGateway
from medspa.domain.scheduling.actions.desk import send_money_now
from medspa.domain.scheduling.detail import AppointmentDetail, appointment_detail
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.series import (Recurrence, SeriesBooked, SeriesPlan, book_series, charge_series_deposits,
                                             plan_series)
from medspa.domain.scheduling.series_changes import (SeriesInfo, SeriesMoved, cancel_in_series, move_in_series,
                                                     series_info)
from medspa.domain.scheduling.service import get_appointment
from medspa.domain.work import atomic, engine_of, now_of
from medspa.settings import get_settings


def do_plan_series(actor: Actor, *, location_id: int, service_id: int, provider_id: int, client_id: int,
                   recurrence: Recurrence, first_start: datetime, clock: Clock | None = None,
                   engine: Engine | None = None) -> SeriesPlan:
    """Every date of the series checked before saving (scheduling.series.plan_series): free or
    the reason, with the day's other free starts. Saves nothing. Raises ValidationFailed,
    NotFound, PermissionDenied."""
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        return plan_series(work.session, actor, location_id=location_id, service_id=service_id,
                           provider_id=provider_id, client_id=client_id, recurrence=recurrence,
                           first_start=first_start, now=now)


def do_book_series(actor: Actor, *, location_id: int, service_id: int, provider_id: int, client_id: int,
                   recurrence: Recurrence, first_start: datetime, picks: dict[int, datetime],
                   override_reason: str = "", clock: Clock | None = None, engine: Engine | None = None,
                   gateway: PaymentGateway | None = None) -> SeriesBooked:
    """Save the series and book the picked dates (index -> start) in ONE transaction, each a
    confirmed desk booking with its audit row and its deposit asked (the first visit only, or
    each: scheduling.series.book_series); dates lost to another booking meanwhile are in
    `lost`. In the same transaction the booked visits go through the contraindication check
    of every desk booking (clinical.health_record.require_booking_overrides): a flagged visit
    needs `override_reason`, kept once per flagged visit (stage "booking"). After the commit
    the deposits are charged off-session on the client's card on file
    (scheduling.series.charge_series_deposits); what became of each is in `deposits` (a
    declined card or none leaves the deposit due, never an error). Raises HealthFlagged (a
    ValidationFailed keyed "health_reason": flagged without a reason; nothing saved, nothing
    charged), ValidationFailed (nothing saved), NotFound, PermissionDenied."""
    clock = clock or app_clock()
    now = clock.now()
    with atomic(actor.org_id, engine=engine) as work:
        booked = book_series(work.session, actor, location_id=location_id, service_id=service_id,
                             provider_id=provider_id, client_id=client_id, recurrence=recurrence,
                             first_start=first_start, picks=picks, now=now)
        visits = [work.session.get(Appointment, appointment_id) for _, appointment_id in booked.booked]
        require_booking_overrides(work.session, actor, visits, override_reason, now)
    engine = engine_of(engine)
    return charge_series_deposits(engine, actor, booked, gateway_of(gateway, engine, clock), clock,
                                  grace_seconds=get_settings().reconcile_grace_seconds)


@dataclass(frozen=True)
class SeriesCancelDone:
    """A cancel in a series: how many visits were cancelled, their deposit figures summed
    (integer cents: refunded or pending back, kept) and the currency."""

    cancelled: int
    refunded_cents: int
    pending_refund_cents: int
    kept_cents: int
    currency: str


def do_cancel_in_series(actor: Actor, appointment_id: int, scope: str, reason: str = "client_request", *,
                        note: str = "", clock: Clock | None = None, engine: Engine | None = None,
                        gateway: PaymentGateway | None = None) -> SeriesCancelDone:
    """Cancel this visit, this and following, or all still ahead (scope "one" | "following" |
    "all"; scheduling.series.cancel_in_series) in one transaction; then, as the desk's single
    cancel, the refunds written pending and the visits' late-cancel fee charges are sent
    (actions.desk.send_money_now; reconciliation settles what does not get an answer).
    Raises ValidationFailed (scope, reason, note), InvalidTransition, NotFound, PermissionDenied."""
    clock = clock or app_clock()
    now = clock.now()
    with atomic(actor.org_id, engine=engine) as work:
        result = cancel_in_series(work.session, actor, appointment_id, scope, now=now, reason=reason, note=note)
    send_money_now(actor, tuple(r.appointment_id for r in result.results), result.refund_ids, clock=clock,
                   engine=engine, gateway=gateway, now=now)
    rs = result.results
    return SeriesCancelDone(len(rs), sum(r.refunded_cents for r in rs), sum(r.pending_refund_cents for r in rs),
                            sum(r.kept_cents for r in rs), rs[0].currency)


def do_move_in_series(actor: Actor, appointment_id: int, scope: str, *, wall: time, provider_id: int | None = None,
                      clock: Clock | None = None, engine: Engine | None = None) -> SeriesMoved:
    """Move this visit, this and following (the series splits) or all still ahead to local
    time `wall` on their own dates (scheduling.series_changes.move_in_series), all or nothing.
    Raises MoveRefused ("date: reason"), ValidationFailed, InvalidTransition, NotFound,
    PermissionDenied."""
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        return move_in_series(work.session, actor, appointment_id, scope, wall=wall, provider_id=provider_id, now=now)


def do_move_series(actor: Actor, appointment_id: int, scope: str, *, wall: time | None,
                   provider_id: int | None = None, clock: Clock | None = None,
                   engine: Engine | None = None) -> AppointmentDetail:
    """The edit dialog's save for several visits of a series (do_move_in_series), then the
    refreshed panel of `appointment_id`. `wall` None: ValidationFailed({"time": ...})."""
    if wall is None:
        raise ValidationFailed({"time": "Pick a start time on the 5-minute grid, e.g. 10:05."})
    do_move_in_series(actor, appointment_id, scope, wall=wall, provider_id=provider_id, clock=clock, engine=engine)
    with atomic(actor.org_id, engine=engine) as work:
        return appointment_detail(work.session, actor, appointment_id, now=now_of(clock))


def fetch_series_info(actor: Actor, appointment_id: int, *, clock: Clock | None = None,
                      engine: Engine | None = None) -> SeriesInfo | None:
    """The visit's place in its series (None when it has none). Raises NotFound, PermissionDenied."""
    actor.require("calendar.read")
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        return series_info(work.session, get_appointment(work.session, appointment_id), now)
