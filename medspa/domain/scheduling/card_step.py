"""A booking waiting for its card (issue 16 section 1): what happens when a card setup's
outcome arrives after the booking request gave its answer, from the Stripe webhook
(setup_intent.succeeded / .setup_failed / .canceled) or from reconciliation.

The booking request itself saves the card (scheduling.booking.save_card_at_booking). When the
client's bank must confirm the card first (3-D Secure on a SetupIntent), or the request
crashed after the gateway call, the visit stays held with an open CardSetup: the calendar
shows it "Waiting for card" (payments.cards.card_waiting_ids). Whoever learns the outcome first moves the
setup forward (payments.cards.apply_setup_outcome, forward-only, so the webhook and
reconciliation never act twice) and then completes the booking once (complete_card_booking):
the visit is confirmed, its deposit (if any) charged on the saved card off-session.

A crash between the two (the card saved, the booking step not run; also in the booking
request itself) loses nothing: a succeeded setup of a visit keeps its reconcile_after until
the booking step has run (payments.cards.awaits_booking_step / booking_step_taken), its hold
is kept meanwhile (availability.money_on_hold), and from reconcile_after on reconciliation
(reconcile_setup) or a redelivered webhook (resume_card_booking) runs the step, with the same
keys (an open deposit is reused with its key). Why not one transaction: the deposit must be
committed `pending` before the gateway is called, so the step always spans transactions; the
marker on the setup makes it resumable instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from medspa.clock import Clock
from medspa.db import tenant_session
from medspa.domain.identity.actor import Actor
from medspa.domain.payments.cards import OPEN, apply_setup_outcome, awaits_booking_step, booking_step_taken
from medspa.domain.payments.gateway import PaymentGateway, SetupResult
from medspa.domain.payments.models import CardSetup, CardSetupStatus, SavedCard
from medspa.domain.scheduling.booking import (ActionRequired, CardDeclined, _confirm_free, charge_card_on_file,
                                              keep_hold_after_decline)
from medspa.domain.scheduling.models import AppointmentStatus
from medspa.domain.scheduling.service import (DEFAULT_GRACE_SECONDS, SlotTaken, get_appointment, lock_client_bookings,
                                              revive_hold)


def complete_card_booking(engine: Engine, actor: Actor, setup_id: int, gateway: PaymentGateway, clock: Clock, *,
                          grace_seconds: int = DEFAULT_GRACE_SECONDS, resume: bool = False) -> str:
    """After card setup `setup_id` succeeded outside the booking request: confirm its visit.
    A visit still held (or lapsed and its slot still free: held again, scheduling.service.
    revive_hold) is confirmed; with a deposit, the deposit is first charged on the saved card
    off-session through the booking's own payment steps (key deposit-<visit>-attempt-<n>; an
    open one is reused with its key).

    Runs only while the setup awaits its booking step (payments.cards.awaits_booking_step);
    resume=True (reconciliation, a redelivered webhook: someone else's step may have died)
    also only once it is due (reconcile_after <= now). The first transaction takes the step
    for grace_seconds (reconcile_after moved on), so a concurrent resume changes nothing and a
    crash is picked up after it. Lock order: the client's bookings, the visit, then its setup.

    Returns "confirmed"; "declined" (the deposit was declined: the hold is kept for another card
    until it lapses); "requires_action" (the bank wants the client for the deposit);
    "lost" (the slot was taken meanwhile; a charged deposit is refunded by settle_charge);
    "ignored" (the setup did not succeed, no visit, the step already ran or is not due, or the
    visit is no longer held: confirmed, cancelled: nothing changes twice)."""
    now = clock.now()
    with tenant_session(actor.org_id, engine) as session:
        setup = session.get(CardSetup, setup_id)
        if setup is None or not awaits_booking_step(setup):
            return "ignored"
        lock_client_bookings(session, appointment_id=setup.appointment_id)  # revive_hold checks the client
        appt = get_appointment(session, setup.appointment_id, lock=True)
        setup = session.get(CardSetup, setup_id, with_for_update=True, populate_existing=True)
        if not awaits_booking_step(setup) or (resume and setup.reconcile_after > now):
            session.rollback()
            return "ignored"
        if appt.status == AppointmentStatus.EXPIRED:
            revive_hold(session, actor, appt.id, now=now)
        if appt.status != AppointmentStatus.HELD:
            booking_step_taken(session, appt.id)  # nothing left to book
            session.commit()
            return "ignored"
        setup.reconcile_after = now + timedelta(seconds=grace_seconds)  # this caller's step, for a while
        session.add(setup)
        card = session.get(SavedCard, setup.saved_card_id)
        appointment_id, deposit = appt.id, appt.deposit_cents
        session.commit()
        session.expunge(card)
    try:
        if deposit <= 0:
            _confirm_free(engine, actor, appointment_id, clock)
            return "confirmed"
        charge_card_on_file(engine, actor, appointment_id, card, gateway, clock, grace_seconds=grace_seconds)
        return "confirmed"
    except CardDeclined:
        return "declined"
    except ActionRequired:
        return "requires_action"
    except SlotTaken:
        with tenant_session(actor.org_id, engine) as session:
            get_appointment(session, appointment_id, lock=True)
            booking_step_taken(session, appointment_id)  # the slot is gone: nothing left to book
            session.commit()
        return "lost"


def resume_card_booking(engine: Engine, actor: Actor, setup_id: int, gateway: PaymentGateway, clock: Clock) -> str:
    """Run the booking step of card setup `setup_id` when it is still waiting and due (a
    crash after the card was saved): complete_card_booking with resume=True, same outcomes."""
    return complete_card_booking(engine, actor, setup_id, gateway, clock, resume=True)


def apply_setup_answer(engine: Engine, actor: Actor, setup_id: int, result: SetupResult, clock: Clock, *,
                       grace_seconds: int = DEFAULT_GRACE_SECONDS) -> str:
    """Record an answer learnt outside the booking request on card setup `setup_id` (locked;
    forward-only) and settle its hold: succeeded -> "card_saved" (the caller then runs
    complete_card_booking; the step is the caller's for grace_seconds at least, then anyone's:
    reconcile_after); declined / failed -> "declined" (the hold kept for another card
    until it lapses, released when it ran out); requires_action -> "waiting"; an answer that
    changes nothing (already settled) -> "ignored"."""
    with tenant_session(actor.org_id, engine) as session:
        now = clock.now()
        setup = session.get(CardSetup, setup_id, with_for_update=True)
        if setup is None or not apply_setup_outcome(session, actor, setup, result, now):
            session.rollback()
            return "ignored"
        outcome = "card_saved" if setup.status == CardSetupStatus.SUCCEEDED else "waiting"
        if awaits_booking_step(setup):
            setup.reconcile_after = max(setup.reconcile_after, now + timedelta(seconds=grace_seconds))
            session.add(setup)
        if setup.status in (CardSetupStatus.DECLINED, CardSetupStatus.FAILED):
            outcome = "declined"
            if setup.appointment_id is not None:
                keep_hold_after_decline(session, actor, setup.appointment_id, now, "card declined")
        session.commit()
        return outcome


def settle_card_answer(engine: Engine, actor: Actor, setup_id: int, result: SetupResult, gateway: PaymentGateway,
                       clock: Clock) -> str:
    """apply_setup_answer, then, for a card newly saved, complete_card_booking: "confirmed",
    "declined", "requires_action", "lost", "card_saved" (saved, no visit to confirm),
    "waiting" or "ignored". A card saved earlier whose booking step never ran (a crash) and is
    due is completed too (resume_card_booking)."""
    outcome = apply_setup_answer(engine, actor, setup_id, result, clock)
    if outcome == "ignored":
        return resume_card_booking(engine, actor, setup_id, gateway, clock)
    if outcome != "card_saved":
        return outcome
    done = complete_card_booking(engine, actor, setup_id, gateway, clock)
    return "card_saved" if done == "ignored" else done


def claim_due_setups(session: Session, now: datetime, limit: int = 100) -> list[int]:
    """Ids of the current clinic's card setups due for reconciliation (reconcile_after <= now):
    open ones (their answer unknown) and succeeded ones whose booking step never ran (a crash),
    oldest first, locked FOR UPDATE SKIP LOCKED by the caller's transaction."""
    due = [str(s) for s in (*OPEN, CardSetupStatus.SUCCEEDED)]
    return list(session.exec(select(CardSetup.id).where(CardSetup.reconcile_after <= now, CardSetup.status.in_(due))
                             .order_by(CardSetup.reconcile_after, CardSetup.id).limit(limit)
                             .with_for_update(skip_locked=True)))


def reconcile_setup(engine: Engine, actor: Actor, setup_id: int, gateway: PaymentGateway, clock: Clock, *,
                    grace_seconds: int = 120) -> str:
    """Settle one open card setup whose answer was never recorded (the booking crashed, the
    webhook never came): ask the gateway (lookup_setup by key and setup intent id).
    Unknown to the gateway -> failed ("never reached the payment service"); still waiting for
    the client's bank while the hold runs -> asked again grace_seconds after the hold lapses
    ("postponed"); still waiting after that -> failed and the hold released; any other answer
    -> settle_card_answer's outcome. A succeeded setup whose booking step never ran: that step
    (resume_card_booking). Raises GatewayUnavailable (the caller postpones)."""
    with tenant_session(actor.org_id, engine) as session:
        setup = session.get(CardSetup, setup_id)
        status = setup.status if setup is not None else None
        if status in OPEN:
            key, intent_id, appointment_id = setup.idempotency_key, setup.setup_intent_id, setup.appointment_id
            hold_until = None
            if appointment_id is not None:
                appt = get_appointment(session, appointment_id)
                hold_until = appt.hold_expires_at if appt.status == AppointmentStatus.HELD else None
    if status == CardSetupStatus.SUCCEEDED:
        return resume_card_booking(engine, actor, setup_id, gateway, clock)
    if status not in OPEN:
        return "ignored"
    result = gateway.lookup_setup(org_id=actor.org_id, idempotency_key=key, setup_intent_id=intent_id)
    now = clock.now()
    if result is None:
        result = SetupResult(status=CardSetupStatus.FAILED, message="The card never reached the payment service.")
    elif result.status == CardSetupStatus.REQUIRES_ACTION:
        if hold_until is not None and hold_until > now:
            with tenant_session(actor.org_id, engine) as session:
                setup = session.get(CardSetup, setup_id, with_for_update=True)
                setup.reconcile_after = hold_until + timedelta(seconds=grace_seconds)
                session.add(setup)
                session.commit()
            return "postponed"
        result = SetupResult(status=CardSetupStatus.FAILED, setup_intent_id=result.setup_intent_id,
                             message="The card was not confirmed by the bank in time.")
    # a declined or failed card releases a hold that ran out (keep_hold_after_decline)
    return settle_card_answer(engine, actor, setup_id, result, gateway, clock)


def postpone_setup(session: Session, setup_id: int, now: datetime, minutes: int = 1) -> None:
    """Ask about open card setup `setup_id` again `minutes` from `now` (the gateway did not
    answer), or try its booking step again then (awaits_booking_step); a settled one is left alone."""
    setup = session.get(CardSetup, setup_id, with_for_update=True)
    if setup is not None and (setup.status in OPEN or awaits_booking_step(setup)):
        setup.reconcile_after = now + timedelta(minutes=minutes)
        session.add(setup)
