"""The online booking flow: hold -> charge the deposit -> confirm (DESIGN.md, money flow).

Each step is its own transaction so no database transaction waits on the gateway:
1. validate the client and card input, find or create the client, hold the slot (commit);
2a. record the Payment `pending` with its idempotency key deposit-<appointment>-attempt-<n>,
   amount, appointment and client (commit) BEFORE the gateway is called;
2b. charge; then ONE transaction records the answer on that row (forward-only) and acts on
   it: a success confirms the hold with the ledger line, the confirmation and the receipt in
   the outbox; if the hold was lost meanwhile, the charge is refunded and SlotTaken raised; a
   decline KEEPS the hold for the rest of its time, so the client can try another card: the
   retry reuses that hold (the page passes hold_id; a request without one finds the
   client's declined hold of the same slot, see _declined_hold) with a new attempt key. A
   hold whose only payments failed has no money on it, so it lapses at its expiry as any.
A crash anywhere after 2a leaves the pending row (and its hold, which hold expiry skips):
reconciliation (medspa.domain.payments.reconcile) asks the gateway about the key and settles
it, so a charge never outlives its booking.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from medspa.clock import Clock
from medspa.db import tenant_session
from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import ClientInput, clinic_region, find_or_create_client, validate_client_input
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.service import queue_booking_confirmation, queue_deposit_receipt
from medspa.domain.payments.cards import (apply_setup_outcome, booking_step_taken, default_card, open_setup,
                                          record_pending_setup, setup_idempotency_key)
from medspa.domain.payments.gateway import (CardDetails, ChargeRequest, ChargeResult, PaymentGateway, SetupRequest,
                                            SetupResult, validate_card)
from medspa.domain.payments.models import CardSetup, CardSetupStatus, Payment, PaymentStatus, Refund, SavedCard
from medspa.domain.payments.service import (
    apply_charge_outcome,
    ledger_deposit_paid,
    mark_settled,
    next_idempotency_key,
    open_deposit,
    reconcile_after_of,
    record_pending,
    refund_payment,
)
from medspa.domain.practice.models import Location, Organization, StaffMember
from medspa.domain.scheduling.abuse import HoldCaps, refuse_excess_holds
from medspa.domain.scheduling.availability import (card_declined, last_deposit_declined, money_on_hold,
                                                   nearest_alternatives)
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.waitlist.entries import close_fulfilled
from medspa.domain.scheduling.service import (
    DEFAULT_GRACE_SECONDS,
    DEFAULT_HOLD_MINUTES,
    HoldLost,
    SlotTaken,
    confirm_hold,
    get_appointment,
    hold_slot,
    release_hold,
)


class CardDeclined(Exception):
    """The gateway declined the card; `message` (the gateway's words) is shown next to the card
    field. hold_id / held_until: the hold the client keeps for another card and when it lapses
    (aware UTC); None when the hold had already run out (then it was released)."""

    def __init__(self, message: str, decline_code: str = "", *, hold_id: int | None = None,
                 held_until: datetime | None = None):
        super().__init__(message)
        self.message = message
        self.decline_code = decline_code
        self.hold_id = hold_id
        self.held_until = held_until


class ActionRequired(Exception):
    """The card needs 3-D Secure: the page completes it with `client_secret`; the hold stays."""

    def __init__(self, client_secret: str, appointment_id: int, gateway: str = "", *, card_setup: bool = False):
        super().__init__("requires_action")
        self.client_secret = client_secret
        self.appointment_id = appointment_id
        self.gateway = gateway  # PaymentGateway.name: only "stripe" can complete 3-D Secure in the page
        # True: saving the card (a SetupIntent) waits for the client's bank, not a deposit; the
        # booking waits for its card ("Waiting for card") until the webhook or reconciliation
        # learns the outcome, also with the test gateway (whose hold is not released for it)
        self.card_setup = card_setup


@dataclass
class OnlineBooking:
    """A booking request from the public page or API. start_at is an aware instant.

    hold_id: the appointment held when the client picked the slot (booking page), if any.
    """

    location_id: int
    service_id: int
    start_at: datetime
    client: ClientInput
    provider_id: int | None = None
    card: CardDetails | None = None
    payment_method_id: str | None = None
    hold_id: int | None = None


def _validate(req: OnlineBooking, gateway: PaymentGateway, now: datetime, needs_card: bool,
              region: str) -> ClientInput:
    errors: dict[str, str] = {}
    try:
        clean = validate_client_input(req.client, region=region)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        clean = req.client
    if not needs_card:
        pass  # nothing to charge (e.g. a free consultation): no card asked for
    elif gateway.name == "test":
        if req.card is None:
            errors["card_number"] = "Enter your card details."
        else:
            try:
                validate_card(req.card, now)
            except ValidationFailed as exc:
                errors.update(exc.fields)
    elif not req.payment_method_id:
        errors["card_number"] = "Enter your card details."
    if req.start_at.tzinfo is None:
        errors["start"] = "Give the time with its UTC offset"
    if errors:
        raise ValidationFailed(errors)
    return clean


def _reuse_hold(session: Session, req: OnlineBooking, client_id: int) -> Appointment | None:
    if req.hold_id is None:
        return None
    try:
        appt = get_appointment(session, req.hold_id, lock=True)
    except NotFound:
        return None
    # a hold whose card was declined is the page's own (hold_id comes from its server-side
    # state, never from the API): the client may have corrected their details meanwhile
    same = (appt.status == AppointmentStatus.HELD and appt.service_id == req.service_id
            and appt.location_id == req.location_id
            and appt.start_at == req.start_at and (req.provider_id in (None, appt.provider_id))
            and (appt.client_id in (None, client_id) or last_deposit_declined(session, appt.id)))
    if not same:
        return None
    appt.client_id = client_id
    session.add(appt)
    return appt


def _declined_hold(session: Session, req: OnlineBooking, email: str, now: datetime) -> int | None:
    """The running hold of this very slot (location, service, start, provider if named) whose
    client has `email` and whose card was declined (a declined or failed payment, none pending
    or succeeded): the hold a retry without hold_id (the JSON API) reuses. None without one."""
    if req.hold_id is not None or not email or req.start_at.tzinfo is None:
        return None
    stmt = (select(Appointment.id).join(Client, Client.id == Appointment.client_id)
            .where(Client.email == email.strip().lower(), Appointment.status == AppointmentStatus.HELD,
                   Appointment.hold_expires_at > now, Appointment.location_id == req.location_id,
                   Appointment.service_id == req.service_id, Appointment.start_at == req.start_at,
                   card_declined(Appointment.id))
            .order_by(Appointment.id.desc()))
    if req.provider_id is not None:
        stmt = stmt.where(Appointment.provider_id == req.provider_id)
    return session.exec(stmt).first()


def keep_hold_after_decline(session: Session, actor: Actor, appointment_id: int, now: datetime,
                            reason: str) -> tuple[int | None, datetime | None]:
    """After a declined card: the hold stays for the rest of its time, so the client can try
    another card (hold id and its expiry returned). A hold already run out is released now
    (reason audited) and (None, None) returned."""
    appt = get_appointment(session, appointment_id, lock=True)
    if appt.status == AppointmentStatus.HELD and appt.hold_expires_at is not None and appt.hold_expires_at > now:
        return appt.id, appt.hold_expires_at
    release_hold(session, actor, appointment_id, now=now, reason=reason)
    return None, None


def finalize_paid_booking(session: Session, actor: Actor, appointment_id: int, payment: Payment | None,
                          now: datetime) -> Appointment:
    """Confirm a held appointment whose deposit succeeded (or needs none), with its ledger
    line, confirmation (email + SMS) and receipt in the outbox; a card saved for it no longer
    awaits its booking step (payments.cards.booking_step_taken). Idempotent. A visit already
    confirmed (a desk or series booking whose deposit is charged on the card on file after it
    was booked: charge_card_on_file) gets the ledger line and the receipt only: its
    confirmation went out with its booking. Raises HoldLost."""
    held = get_appointment(session, appointment_id, lock=True).status == AppointmentStatus.HELD
    appt = confirm_hold(session, actor, appointment_id, now=now)
    booking_step_taken(session, appointment_id)
    org = session.get(Organization, actor.org_id)
    client = session.get(Client, appt.client_id) if appt.client_id else None
    location = session.get(Location, appt.location_id)
    service = session.get(Service, appt.service_id)
    provider = session.get(StaffMember, appt.provider_id)
    if payment is not None:
        ledger_deposit_paid(session, payment, now)
    if held:
        close_fulfilled(session, actor, appt, now)  # a waitlist entry this booking fulfils is closed
    if client is not None and held:
        queue_booking_confirmation(session, org=org, appointment=appt, client=client, location=location,
                                   service=service, provider=provider)
    if client is not None:
        if payment is not None:
            queue_deposit_receipt(session, org=org, payment=payment, client=client, appointment=appt,
                                  location=location, service=service)
    session.flush()
    return appt


def book_online(engine: Engine, actor: Actor, req: OnlineBooking, gateway: PaymentGateway, clock: Clock, *,
                hold_minutes: int = DEFAULT_HOLD_MINUTES, grace_seconds: int = DEFAULT_GRACE_SECONDS,
                hold_caps: HoldCaps | None = None) -> Appointment:
    """Book a slot and take its deposit. Returns the confirmed Appointment.

    hold_minutes: how long a new hold lasts; grace_seconds: how long after the hold's expiry
    reconciliation may settle the deposit; hold_caps: slots one IP / one email may hold at
    once (scheduling.abuse.refuse_excess_holds, checked in the hold's transaction; a hold this
    request reuses is not counted). Entry points book through
    medspa.domain.scheduling.actions.online.do_book_online, which passes the Settings.

    Raises ValidationFailed (fields; a card the gateway refused keeps the hold), SlotTaken
    (alternatives; nothing kept charged), CardDeclined (the hold kept for another card until it
    lapses: .hold_id, .held_until), ActionRequired (3-D Secure pending), NotFound,
    GatewayUnavailable (the hold and the pending payment stay; a retry reuses its key),
    RateLimited (hold_caps reached: nothing written).
    """
    now = clock.now()
    with tenant_session(actor.org_id, engine) as session:
        service = session.get(Service, req.service_id)
        if service is None or not service.active:
            raise NotFound("service")
        location = session.get(Location, req.location_id)
        card_required = bool(location is not None and location.card_required)
        needs_card = service.deposit_cents > 0 or card_required
        region = clinic_region(session, actor.org_id)  # phones typed without +country: the clinic's
    clean = _validate(req, gateway, now, needs_card, region)
    with tenant_session(actor.org_id, engine) as session:
        retry_of = _declined_hold(session, req, clean.email, now)
        if retry_of is not None:  # the same client again after a decline: their hold, another card
            req = replace(req, hold_id=retry_of)
        refuse_excess_holds(session, actor, hold_caps, email=clean.email, now=now, keep_hold_id=req.hold_id)
        client = find_or_create_client(session, actor, clean, region=region, now=now)
        appt = _reuse_hold(session, req, client.id) or hold_slot(
            session, actor, location_id=req.location_id, service_id=req.service_id, start_at=req.start_at,
            now=now, provider_id=req.provider_id, client_id=client.id, hold_minutes=hold_minutes)
        session.commit()
        appointment_id, deposit = appt.id, appt.deposit_cents

    customer_id = ""
    if card_required:  # the card is saved first (a SetupIntent); the deposit, if any, is charged on it
        saved = save_card_at_booking(engine, actor, appointment_id, req, clean, gateway, clock, grace_seconds)
        req = replace(req, card=None, payment_method_id=saved.payment_method_id)
        customer_id = saved.gateway_customer_id
    if deposit <= 0:
        return _confirm_free(engine, actor, appointment_id, clock)
    payment_id, request = _open_payment(engine, actor, appointment_id, gateway, clock, grace_seconds,
                                        card=req.card, payment_method_id=req.payment_method_id,
                                        customer_id=customer_id)
    try:
        result = gateway.charge(request)
    except ValidationFailed as exc:
        _refused(engine, actor, payment_id, exc, clock)
        raise
    return settle_charge(engine, actor, payment_id, result, gateway, clock)


def save_card_at_booking(engine: Engine, actor: Actor, appointment_id: int, req: OnlineBooking, client: ClientInput,
                         gateway: PaymentGateway, clock: Clock, grace_seconds: int) -> SavedCard:
    """Save the client's card for a held visit at a location that requires a card on file
    (Location.card_required), in two steps like a charge: the CardSetup row committed
    `pending` with its key setup-<appointment>-attempt-<n> BEFORE the gateway is called
    (payments.cards.record_pending_setup; its hold is then not expired under it, see
    availability.money_on_hold), then gateway.setup_card and ONE transaction recording the
    answer (settle_setup). The client's existing gateway customer is reused.

    Returns the SavedCard (detached). Raises ValidationFailed (card input the gateway refused:
    the setup failed, the hold kept for another card), CardDeclined (the hold kept for another
    card until it lapses), ActionRequired with card_setup=True (the client's bank must confirm
    the card: the booking waits for its card)."""
    with tenant_session(actor.org_id, engine) as session:
        appt = get_appointment(session, appointment_id, lock=True)
        setup = open_setup(session, appointment_id)
        if setup is None or setup.status != CardSetupStatus.PENDING:
            setup = record_pending_setup(
                session, actor, client_id=appt.client_id, appointment_id=appointment_id, gateway=gateway.name,
                idempotency_key=setup_idempotency_key(session, appointment_id), now=clock.now(),
                reconcile_after=reconcile_after_of(clock.now(), appt.hold_expires_at, grace_seconds))
        on_file = default_card(session, appt.client_id)
        customer = on_file.gateway_customer_id if on_file is not None and on_file.gateway == gateway.name else ""
        request = SetupRequest(org_id=actor.org_id, idempotency_key=setup.idempotency_key, card=req.card,
                               payment_method_id=req.payment_method_id, customer_id=customer, email=client.email,
                               name=f"{client.first_name} {client.last_name}".strip(),
                               metadata={"appointment_id": str(appointment_id)})
        setup_id = setup.id
        session.commit()
    try:
        result = gateway.setup_card(request)
    except ValidationFailed as exc:
        message = "; ".join(str(v) for v in exc.fields.values())[:500]
        settle_setup(engine, actor, setup_id, SetupResult(status=CardSetupStatus.FAILED, message=message), gateway,
                     clock, raise_declined=False)
        raise
    return settle_setup(engine, actor, setup_id, result, gateway, clock)


def settle_setup(engine: Engine, actor: Actor, setup_id: int, result: SetupResult, gateway: PaymentGateway,
                 clock: Clock, *, raise_declined: bool = True) -> SavedCard | None:
    """ONE transaction: record the gateway's `result` on card setup `setup_id` (forward-only,
    payments.cards.apply_setup_outcome) and act on it: succeeded -> the SavedCard (detached);
    declined / failed -> the hold kept for another card until it lapses, CardDeclined
    (unless raise_declined is False: None); requires_action -> ActionRequired(card_setup=True).
    When the webhook or reconciliation settled the setup first, its status decides."""
    with tenant_session(actor.org_id, engine) as session:
        now = clock.now()
        setup = session.get(CardSetup, setup_id, with_for_update=True)
        apply_setup_outcome(session, actor, setup, result, now)
        if setup.status == CardSetupStatus.SUCCEEDED:
            card = session.get(SavedCard, setup.saved_card_id)
            session.commit()
            session.expunge(card)
            return card
        if setup.status in (CardSetupStatus.DECLINED, CardSetupStatus.FAILED):
            hold_id, held_until = (keep_hold_after_decline(session, actor, setup.appointment_id, now, "card declined")
                                   if setup.appointment_id else (None, None))
            message, code = setup.failure_message, setup.decline_code
            session.commit()
            if not raise_declined:
                return None
            raise CardDeclined(message or "Your card was declined.", code, hold_id=hold_id, held_until=held_until)
        appointment_id = setup.appointment_id
        session.commit()
        raise ActionRequired(result.client_secret, appointment_id, gateway.name, card_setup=True)


def _confirm_free(engine: Engine, actor: Actor, appointment_id: int, clock: Clock) -> Appointment:
    """Confirm a hold with nothing to pay; SlotTaken (alternatives) when the hold was lost."""
    with tenant_session(actor.org_id, engine) as session:
        try:
            appt = finalize_paid_booking(session, actor, appointment_id, None, clock.now())
            session.commit()
            return appt
        except HoldLost:
            session.rollback()
        appt = get_appointment(session, appointment_id)
        alternatives = nearest_alternatives(session, actor, location_id=appt.location_id,
                                            service_id=appt.service_id, wanted=appt.start_at, now=clock.now())
        raise SlotTaken(alternatives)


def _open_payment(engine: Engine, actor: Actor, appointment_id: int, gateway: PaymentGateway,
                  clock: Clock, grace_seconds: int, *, card: CardDetails | None = None,
                  payment_method_id: str | None = None, customer_id: str = "",
                  off_session: bool = False) -> tuple[int, ChargeRequest]:
    """Step 2a, its own committed transaction BEFORE the gateway call: the pending deposit
    payment with its idempotency key (an earlier pending one of this hold is reused with its
    key, so a retry after a crash or a timeout replays the gateway's answer). The appointment
    row is locked so two submissions of one hold serialise here. card / payment_method_id:
    what is charged (a card on file: its payment method and customer_id; off_session when the
    client is not on the page). From here the payment carries the booking: a card saved for
    the visit no longer awaits its booking step (payments.cards.booking_step_taken)."""
    with tenant_session(actor.org_id, engine) as session:
        appt = get_appointment(session, appointment_id, lock=True)
        booking_step_taken(session, appointment_id)
        payment = open_deposit(session, appointment_id)
        key = payment.idempotency_key if payment is not None else next_idempotency_key(session, appointment_id)
        request = ChargeRequest(org_id=actor.org_id, amount_cents=appt.deposit_cents, currency=appt.currency,
                                idempotency_key=key, description=f"Deposit for appointment {appointment_id}",
                                card=card, payment_method_id=payment_method_id, customer_id=customer_id,
                                off_session=off_session,
                                metadata={"org_id": str(actor.org_id), "appointment_id": str(appointment_id)})
        if payment is None:
            payment = record_pending(session, actor, appointment=appt, request=request, gateway=gateway.name,
                                     now=clock.now(), grace_seconds=grace_seconds)
        session.commit()
        return payment.id, request


def charge_card_on_file(engine: Engine, actor: Actor, appointment_id: int, card: SavedCard, gateway: PaymentGateway,
                        clock: Clock, *, grace_seconds: int = DEFAULT_GRACE_SECONDS) -> Appointment:
    """Charge the visit's deposit (appointment.deposit_cents) on the client's saved `card`
    off-session, through the booking's own payment steps: the pending Payment (purpose
    deposit, key deposit-<visit>-attempt-<n>) committed BEFORE the gateway call (_open_payment),
    then settle_charge (a held visit is confirmed; one already confirmed gets its deposit_paid
    and processing_fee lines and the receipt). Used when a webhook or reconciliation learns a
    waiting booking's card was saved (card_step.complete_card_booking) and after a series
    booked at the desk (scheduling.series.charge_series_deposits). The caller reads `card`
    (detached is fine: its payment method and customer ids only).

    Raises CardDeclined (also for a charge the gateway refused as a request), ActionRequired
    (the bank wants the client: the payment waits, reconciliation cancels it later), SlotTaken
    (a held visit lost its slot: the charge is refunded), GatewayUnavailable (the payment stays
    pending; reconciliation settles it with the same key)."""
    payment_id, request = _open_payment(engine, actor, appointment_id, gateway, clock, grace_seconds,
                                        payment_method_id=card.payment_method_id,
                                        customer_id=card.gateway_customer_id, off_session=True)
    try:
        result = gateway.charge(request)
    except ValidationFailed as exc:
        _refused(engine, actor, payment_id, exc, clock)
        raise CardDeclined("; ".join(str(v) for v in exc.fields.values()) or "The card was refused.") from exc
    return settle_charge(engine, actor, payment_id, result, gateway, clock)


def _refused(engine: Engine, actor: Actor, payment_id: int, exc: ValidationFailed, clock: Clock) -> None:
    """The gateway refused the card input before charging: the payment failed; the hold stays
    for another card until it lapses (released at once when it already ran out)."""
    message = "; ".join(str(v) for v in exc.fields.values())[:500]
    with tenant_session(actor.org_id, engine) as session:
        payment = session.get(Payment, payment_id, with_for_update=True)
        apply_charge_outcome(session, actor, payment, ChargeResult(status=PaymentStatus.FAILED, message=message),
                             clock.now())
        keep_hold_after_decline(session, actor, payment.appointment_id, clock.now(), "card rejected")
        session.commit()


def settle_charge(engine: Engine, actor: Actor, payment_id: int, result: ChargeResult, gateway: PaymentGateway,
                  clock: Clock) -> Appointment:
    """Step 2b, ONE transaction: record the gateway's `result` on the pending payment
    (forward-only) and act on it: succeeded -> the hold becomes a confirmed appointment with
    its ledger line, confirmation and receipt; the slot lost meanwhile -> refunded in full
    (charge_voided) and SlotTaken; declined -> CardDeclined, the hold kept for another card
    until it lapses (released when it already ran out); requires_action ->
    ActionRequired (hold kept). When the webhook or reconciliation settled the payment first,
    its status decides (a replay of this step changes nothing twice)."""
    with tenant_session(actor.org_id, engine) as session:
        now = clock.now()
        payment = session.get(Payment, payment_id, with_for_update=True)
        apply_charge_outcome(session, actor, payment, result, now)
        appointment_id = payment.appointment_id
        if payment.status in (PaymentStatus.DECLINED, PaymentStatus.FAILED):
            hold_id, held_until = keep_hold_after_decline(session, actor, appointment_id, now, "card declined")
            session.commit()
            raise CardDeclined(result.message or payment.failure_message or "Your card was declined.",
                               result.decline_code, hold_id=hold_id, held_until=held_until)
        if payment.status in (PaymentStatus.REQUIRES_ACTION, PaymentStatus.PENDING):
            session.commit()
            raise ActionRequired(result.client_secret, appointment_id, gateway.name)
        if payment.status == PaymentStatus.SUCCEEDED:
            try:
                with session.begin_nested():
                    appt = finalize_paid_booking(session, actor, appointment_id, payment, now)
                mark_settled(payment)
                session.add(payment)
                session.commit()
                return appt
            except HoldLost:
                void_charge(session, actor, payment, gateway, now)
        appt = get_appointment(session, appointment_id)
        alternatives = nearest_alternatives(session, actor, location_id=appt.location_id,
                                            service_id=appt.service_id, wanted=appt.start_at, now=now)
        session.commit()
        raise SlotTaken(alternatives)


def void_charge(session: Session, actor: Actor, payment: Payment, gateway: PaymentGateway,
                now: datetime) -> Refund | None:
    """Money taken for a booking that does not exist (the slot was lost) goes back in full:
    deposit_paid and charge_voided ledger lines, the refund at the gateway (key
    refund-<payment id>-<n>), audit refund.issue. Returns the Refund (status succeeded, or
    pending while the gateway does not answer: reconciliation retries it); None when the
    gateway refused it (audit refund.failed; the payment stays open for reconciliation)."""
    ledger_deposit_paid(session, payment, now)
    refund = refund_payment(session, actor, payment, gateway, now=now, reason="slot lost before confirmation",
                            entry_type="charge_voided")
    session.flush()
    return refund


def organization_ids(session: Session) -> list[int]:
    """Ids of every clinic (a session without a tenant: the organization table is not scoped)."""
    return list(session.exec(select(Organization.id).order_by(Organization.id)))


def lapsed_hold_ids(session: Session, now: datetime) -> list[int]:
    """Ids of the current clinic's appointments still held whose hold_expires_at <= now,
    except those with money on them (a pending or succeeded payment: reconciliation settles
    those, confirming or refunding; see scheduling.service.money_on_hold)."""
    return list(session.exec(select(Appointment.id).where(Appointment.status == AppointmentStatus.HELD,
                                                          Appointment.hold_expires_at <= now,
                                                          ~money_on_hold(Appointment.id))
                             .order_by(Appointment.id)))
