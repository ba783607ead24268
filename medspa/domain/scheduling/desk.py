"""Front-desk actions from the staff calendar, each one service call in one transaction.

book_for_client: a confirmed staff booking (no deposit charged) for an existing or new
client, with the usual confirmation in the outbox. cancel_visit: cancel and settle the
deposit by the location's window (refund outside it, keep inside it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from medspa.domain.catalog.models import Service, ServiceProvider
from medspa.domain.catalog.service import get_service, list_services, providers_for
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import ClientInput, find_or_create_client, get_client
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.notices import queue_cancellation_notice
from medspa.domain.messaging.service import queue_booking_confirmation
from medspa.domain.payments.fees import fee_of, settle_cancellation, visit_fee_sentence
from medspa.domain.payments.models import PolicyFeeStatus
from medspa.domain.payments.service import deposit_payment, deposit_refund_cents, succeeded_deposit
from medspa.domain.practice.models import Organization, StaffMember, WorkingHours
from medspa.domain.practice.service import get_location
from medspa.domain.scheduling.availability import find_slots
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import cancel_appointment, hold_slot
from medspa.domain.waitlist.entries import close_fulfilled


def book_for_client(session: Session, actor: Actor, *, location_id: int, service_id: int, start_at: datetime,
                    now: datetime, provider_id: int | None = None, client_id: int | None = None,
                    new_client: ClientInput | None = None) -> Appointment:
    """Book a confirmed appointment at the desk (no deposit charged).

    Exactly one of client_id (an existing client) or new_client (found by email or created;
    email and phone optional for desk bookings). Raises ValidationFailed (client fields,
    "client" when neither is given), SlotTaken, NotFound, PermissionDenied. The caller commits.
    """
    actor.require("appointment.book")
    if (client_id is None) == (new_client is None):
        raise ValidationFailed({"client": "Choose a client or enter a new one"})
    if client_id is not None:
        client = get_client(session, actor, client_id)
    else:
        actor.require("client.write")
        client = find_or_create_client(session, actor, new_client, require_contact=False, now=now)
    appt = hold_slot(session, actor, location_id=location_id, service_id=service_id, start_at=start_at, now=now,
                     provider_id=provider_id, client_id=client.id, source="staff", confirm=True)
    _confirm_message(session, actor, appt, client)
    close_fulfilled(session, actor, appt, now)  # a waitlist entry this booking fulfils is closed
    return appt


def _confirm_message(session: Session, actor: Actor, appt: Appointment, client: Client) -> None:
    if not (client.email or client.phone_e164):
        return
    org = session.get(Organization, actor.org_id)
    queue_booking_confirmation(session, org=org, appointment=appt, client=client,
                               location=get_location(session, appt.location_id),
                               service=get_service(session, appt.service_id),
                               provider=session.get(StaffMember, appt.provider_id))


@dataclass(frozen=True)
class CancelResult:
    """late: inside the window (the deposit is kept only when the location's policy keeps it:
    kept_cents); refunded_cents / kept_cents of the paid deposit;
    pending_refund_cents: a refund the gateway has not confirmed yet (written pending with the
    cancellation and sent after it commits; reconciliation retries it): shown as "Refund of $x
    pending", never as refunded (integer cents). refund_ids: the refunds to send after commit.
    With a late-cancel fee (payments.fees) kept_cents is the deposit applied to the fee."""

    appointment_id: int
    late: bool
    refunded_cents: int
    kept_cents: int
    currency: str
    pending_refund_cents: int = 0
    refund_ids: tuple[int, ...] = ()


def cancel_visit(session: Session, actor: Actor, appointment_id: int, *, now: datetime,
                 reason: str = "client_request", note: str = "", token: str | None = None) -> CancelResult:
    """Cancel an appointment, settle its deposit (kept when the location's policy keeps it:
    scheduling.policy; else its refund written pending: payments.fees.settle_cancellation)
    and queue the client's
    cancellation notice in the same transaction. `reason` (a policy.CANCEL_REASONS code) and
    `note` are recorded on the visit (ValidationFailed when "other" has no note); `token`: a
    visitor's manage-link token (scheduling.service.holds_visit).

    The caller commits, then sends result.refund_ids (payments.refunds.send_refunds_now) and
    reads the figures again (cancellation_figures). Raises InvalidTransition, NotFound,
    PermissionDenied, ValidationFailed.
    """
    outcome = cancel_appointment(session, actor, appointment_id, now=now, reason=reason, note=note, token=token)
    paid = succeeded_deposit(session, appointment_id)
    refund = settle_cancellation(session, actor, outcome.appointment, keep=outcome.keeps_deposit, now=now)
    queue_cancellation_notice(session, outcome.appointment, paid_cents=paid.amount_cents if paid else 0,
                              refunding_cents=refund.amount_cents if refund is not None else 0,
                              kept=outcome.keeps_deposit,
                              fee_sentence=visit_fee_sentence(session, outcome.appointment.id))
    return cancellation_figures(session, appointment_id, late=outcome.late,
                                refund_ids=(refund.id,) if refund is not None else ())


def cancellation_figures(session: Session, appointment_id: int, *, late: bool,
                         refund_ids: tuple[int, ...] = ()) -> CancelResult:
    """What a cancellation did to the appointment's deposit as it stands now: refunded,
    pending and kept cents (the deposit paid when the policy kept it:
    appointment.cancellation_keeps_deposit). late: inside the window (reported as given)."""
    appt = session.get(Appointment, appointment_id)
    refunded, pending = deposit_refund_cents(session, appointment_id)
    paid = deposit_payment(session, appointment_id)
    kept = paid.amount_cents if (paid is not None and appt.cancellation_keeps_deposit) else 0
    fee = fee_of(session, appointment_id, "late_cancel")
    if fee is not None and fee.status != PolicyFeeStatus.WAIVED:
        kept = fee.applied_cents  # the deposit applied to the late-cancel fee (payments.fees)
    return CancelResult(appointment_id, late, refunded, kept, appt.currency, pending, refund_ids)


def desk_options(session: Session, actor: Actor, location_id: int
                 ) -> tuple[list[Service], list[StaffMember], dict[int, set[int]]]:
    """What the desk may book at a location: every active service someone performs there
    (online-bookable or not), the active bookable providers with hours there, and which of
    those services each provider performs (staff id -> service ids: the provider-service
    link, catalog ServiceProvider)."""
    actor.require("appointment.book")
    get_location(session, location_id)
    services = list_services(session, actor, location_id)
    providers = list(session.exec(
        select(StaffMember).where(StaffMember.active, StaffMember.is_bookable,
                                  StaffMember.id.in_(select(WorkingHours.staff_id)
                                                     .where(WorkingHours.location_id == location_id)))
        .order_by(StaffMember.display_name)))
    performs: dict[int, set[int]] = {p.id: set() for p in providers}
    offered = {v.id for v in services}
    if providers and offered:
        for staff_id, service_id in session.exec(select(ServiceProvider.staff_id, ServiceProvider.service_id).where(
                ServiceProvider.staff_id.in_(sorted(performs)), ServiceProvider.service_id.in_(sorted(offered)))):
            performs[staff_id].add(service_id)
    return services, providers, performs


def desk_free_starts(session: Session, actor: Actor, *, location_id: int, service_id: int, day: date,
                     now: datetime, provider_id: int | None = None) -> list[datetime]:
    """The starts the desk can book on local `day` at the location for the service: those of
    `provider_id` (None: of anyone who performs it) that fall in their working time and are
    free, from availability.find_slots without the online notice (what book_for_client then
    accepts; never the past). Sorted aware UTC instants; [] when the provider does not
    perform the service there. Raises PermissionDenied, NotFound (location, service),
    ValidationFailed (a day out of range)."""
    actor.require("appointment.book")
    get_service(session, service_id)
    if provider_id is not None and provider_id not in {p.id for p in providers_for(session, service_id,
                                                                                    location_id)}:
        return []
    slots = find_slots(session, actor, location_id=location_id, service_id=service_id, start_date=day,
                       end_date=day, now=now, provider_id=provider_id, apply_notice=False)
    return sorted({sl.start for sl in slots})

