"""The front desk's use cases from the staff calendar: status steps, cancel, checkout, a
desk booking, and the booking dialog's reads. Each returns the refreshed panel detail where
the panel shows the result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Engine

from medspa.clock import Clock, app_clock
from medspa.domain.clients.service import ClientInput, search_clients
from medspa.domain.identity.actor import Actor
from medspa.domain.money import format_money
from medspa.domain.payments.checkout import Checkout, checkout_visit
from medspa.domain.payments.factory import gateway_of
from medspa.domain.payments.fees import apply_policy_fee, send_fee_charges_now
from medspa.domain.payments.gateway import CardDetails, PaymentGateway
from medspa.domain.payments.refunds import send_refunds_now
from medspa.domain.scheduling.calendar import AppointmentDetail, appointment_detail
from medspa.domain.scheduling.desk import (CancelResult, book_for_client, cancel_visit, cancellation_figures,
                                           desk_free_starts, desk_options)
from medspa.domain.scheduling.service import change_status
from medspa.domain.work import atomic, engine_of
from medspa.settings import get_settings

STEPS = ("check_in", "complete", "no_show")


@dataclass(frozen=True)
class Cancelled:
    """A desk cancellation: how the deposit was settled, and the refreshed panel."""

    result: CancelResult
    detail: AppointmentDetail


@dataclass(frozen=True)
class CheckedOut:
    """A checkout attempt (succeeded, declined or requires_action), and the refreshed panel."""

    result: Checkout
    detail: AppointmentDetail


def do_change_status(actor: Actor, appointment_id: int, step: str, *, clock: Clock | None = None,
                     engine: Engine | None = None, gateway: PaymentGateway | None = None) -> AppointmentDetail:
    """check_in, complete or no_show (`STEPS`); the step commits, then the refreshed detail.

    A no-show owes the location's no-show fee when one is set (payments.fees.apply_policy_fee,
    in the same transaction, once per visit: a second press is refused as InvalidTransition and
    the unique fee row stops any other path): the deposit is applied to it first, the rest of the
    deposit is refunded and the rest of the fee charged to the saved card after the commit
    (a card that needs authentication or is declined leaves the fee unpaid, needs action).
    Raises InvalidTransition (not allowed from the current status), NotFound, PermissionDenied."""
    clock = clock or app_clock()
    now = clock.now()
    refund_ids: tuple[int, ...] = ()
    with atomic(actor.org_id, engine=engine) as work:
        appt = change_status(work.session, actor, appointment_id, step, now=now)
        if step == "no_show":
            applied = apply_policy_fee(work.session, actor, appt, "no_show", now=now,
                                       grace_seconds=get_settings().reconcile_grace_seconds)
            refund_ids = applied.refund_ids if applied is not None else ()
        work.commit()
        if step != "no_show":
            return appointment_detail(work.session, actor, appointment_id, now=now)
    send_money_now(actor, (appointment_id,), refund_ids, clock=clock, engine=engine, gateway=gateway, now=now)
    with atomic(actor.org_id, engine=engine) as work:
        return appointment_detail(work.session, actor, appointment_id, now=now)


def send_money_now(actor: Actor, appointment_ids: tuple[int, ...], refund_ids: tuple[int, ...], *, clock: Clock,
                   engine: Engine | None, gateway: PaymentGateway | None, now) -> None:
    """After a commit that cancelled visits or marked a no-show: send the refunds written
    pending (payments.refunds.send_refunds_now), then each visit's pending late-cancel /
    no-show fee charges (payments.fees.send_fee_charges_now), each in its own transaction.
    Every cancel path of the desk and of a series sends its money here. A crash or a gateway
    that does not answer leaves the rest to reconciliation; a declined card never raises."""
    engine = engine_of(engine)
    pay = gateway_of(gateway, engine, clock)
    if refund_ids:
        send_refunds_now(engine, actor, refund_ids, pay, now)
    for appointment_id in appointment_ids:
        send_fee_charges_now(engine, actor, appointment_id, pay, now)


def do_cancel_visit(actor: Actor, appointment_id: int, reason: str = "client_request", *, note: str = "",
                    clock: Clock | None = None, engine: Engine | None = None,
                    gateway: PaymentGateway | None = None) -> Cancelled:
    """Cancel the appointment and settle its deposit by the location's window (refunded
    outside it, kept inside it: scheduling.policy). The cancellation commits with its refund
    written pending; then the refund is sent (payments.refunds.send_refunds_now: a crash in
    between leaves it to reconciliation), then the refreshed detail and figures. `reason`: a
    scheduling.policy.CANCEL_REASONS code; `note` its text (required for "other").
    Raises ValidationFailed (reason, note), InvalidTransition, NotFound, PermissionDenied."""
    clock = clock or app_clock()
    now = clock.now()
    with atomic(actor.org_id, engine=engine) as work:
        result = cancel_visit(work.session, actor, appointment_id, now=now, reason=reason, note=note)
    send_money_now(actor, (appointment_id,), result.refund_ids, clock=clock, engine=engine, gateway=gateway, now=now)
    engine = engine_of(engine)
    with atomic(actor.org_id, engine=engine) as work:
        result = cancellation_figures(work.session, appointment_id, late=result.late)
        return Cancelled(result, appointment_detail(work.session, actor, appointment_id, now=now))


def do_checkout_visit(actor: Actor, appointment_id: int, card: CardDetails | None, *, clock: Clock | None = None,
                      engine: Engine | None = None, gateway: PaymentGateway | None = None,
                      saved_card_id: int | None = None) -> CheckedOut:
    """Check the visit out (payments/checkout.py: the pending balance payment commits before
    the gateway is called, the answer is recorded in its own transaction), then the refreshed
    detail. A declined attempt stays recorded (the next attempt gets a new idempotency key).
    `card` is None when the deposit covers the price, or when `saved_card_id` (the panel's
    checkout_card_id) charges the client's card on file on-session instead (payments.checkout.
    open_checkout). Raises ValidationFailed (card fields, saved_card,
    already checked out, wrong status), NotFound, PermissionDenied, GatewayUnavailable (the
    pending attempt stays: a retry reuses its key, reconciliation settles it otherwise)."""
    clock = clock or app_clock()
    now = clock.now()
    engine = engine_of(engine)
    pay = gateway_of(gateway, engine, clock)
    result = checkout_visit(engine, actor, appointment_id, gateway=pay, now=now, card=card,
                            saved_card_id=saved_card_id, grace_seconds=get_settings().reconcile_grace_seconds)
    with atomic(actor.org_id, engine=engine) as work:
        return CheckedOut(result, appointment_detail(work.session, actor, appointment_id, now=now))


def do_book_for_client(actor: Actor, *, location_id: int, service_id: int, provider_id: int | None,
                       start_at: datetime, client_id: int | None, new_client: ClientInput | None,
                       clock: Clock | None = None, engine: Engine | None = None) -> int:
    """A confirmed desk booking (no deposit) for an existing client (`client_id`) or a new
    one (`new_client`), with its confirmation queued; returns the appointment id. `start_at`
    is an aware UTC datetime; `provider_id` None: any available provider. Raises
    ValidationFailed, SlotTaken (with alternatives), NotFound, PermissionDenied."""
    now = (clock or app_clock()).now()
    with atomic(actor.org_id, engine=engine) as work:
        appt = book_for_client(work.session, actor, location_id=location_id, service_id=service_id,
                               start_at=start_at, now=now, provider_id=provider_id, client_id=client_id,
                               new_client=new_client)
        return appt.id


@dataclass(frozen=True)
class ClientHit:
    """A client found by the dialog's search; `hint` (email or phone) only with client.contact.read."""

    id: int
    name: str
    hint: str


@dataclass(frozen=True)
class ServiceOption:
    """A bookable service: label "Name · 30 min · $350.00"; name "Name"."""

    id: int
    label: str
    duration_minutes: int
    name: str = ""


@dataclass(frozen=True)
class ProviderOption:
    """A bookable provider working at the location."""

    id: int
    name: str


@dataclass(frozen=True)
class BookingOptions:
    """What the desk may book at a location. performs: (provider id, the ids of the services
    among `services` that provider performs), one pair per provider."""

    services: tuple[ServiceOption, ...]
    providers: tuple[ProviderOption, ...]
    performs: tuple[tuple[int, tuple[int, ...]], ...] = ()

    def services_of(self, provider_id: int | None) -> tuple[ServiceOption, ...]:
        """The services `provider_id` performs (None: all of them), in the offered order."""
        if provider_id is None:
            return self.services
        ids = dict(self.performs).get(provider_id, ())
        return tuple(v for v in self.services if v.id in ids)


def fetch_client_hits(actor: Actor, query: str, *, engine: Engine | None = None) -> list[ClientHit]:
    """Up to 8 clients matching `query` (name, email or phone). Raises PermissionDenied."""
    with atomic(actor.org_id, engine=engine) as work:
        rows = search_clients(work.session, actor, query, limit=8)
        contact = actor.can("client.contact.read")
        return [ClientHit(c.id, f"{c.first_name} {c.last_name}",
                          (c.email or c.phone_e164 or "") if contact else "") for c in rows]


def fetch_booking_options(actor: Actor, location_id: int, *, engine: Engine | None = None) -> BookingOptions:
    """Every active service someone performs at the location (staff see all, not only online
    ones), the bookable providers working there and which services each performs
    (BookingOptions.services_of). Raises NotFound, PermissionDenied."""
    with atomic(actor.org_id, engine=engine) as work:
        rows, staff, performs = desk_options(work.session, actor, location_id)
        services = tuple(ServiceOption(v.id, f"{v.name} · {v.duration_minutes} min · "
                                             f"{format_money(v.price_cents, v.currency)}", v.duration_minutes, v.name)
                         for v in rows)
        return BookingOptions(services, tuple(ProviderOption(p.id, p.display_name) for p in staff),
                              tuple((p.id, tuple(sorted(performs.get(p.id, ())))) for p in staff))


def fetch_free_starts(actor: Actor, location_id: int, service_id: int, day: date, provider_id: int | None = None,
                      *, clock: Clock | None = None, engine: Engine | None = None) -> tuple[datetime, ...]:
    """The starts the desk can book on local `day` (aware UTC instants, sorted): free and in
    the working time of `provider_id` (None: of anyone performing the service), without the
    online notice and never in the past (scheduling.desk.desk_free_starts; the booking then
    accepts exactly these). () when that provider does not perform the service. Raises
    PermissionDenied, NotFound (location, service), ValidationFailed (day out of range)."""
    now = (clock or app_clock()).now()
    with atomic(actor.org_id, engine=engine) as work:
        return tuple(desk_free_starts(work.session, actor, location_id=location_id, service_id=service_id,
                                      day=day, now=now, provider_id=provider_id))
