"""Stripe webhooks: the source of truth for asynchronous payment outcomes (DESIGN.md, money flow 4).

Each event is verified with `stripe.Webhook.construct_event` (HMAC-SHA256 of "<t>.<body>" with
the endpoint's signing secret) and its age checked against the injected clock. The clinic comes
from the verified PaymentIntent's metadata.org_id, set by StripeGateway.charge: nothing in the
request besides the signed body decides which clinic is touched.

Exactly once: the WebhookEvent row (unique per gateway and event id) is inserted first, in the
same transaction as the effect. A redelivery, also one arriving concurrently (it waits on the
unique index, then hits the violation), changes nothing and answers "duplicate". Out-of-order
events cannot undo a success: the payment row is locked and a failure after a success is ignored.
"""

from __future__ import annotations

from datetime import datetime

import stripe
from psycopg.errors import UniqueViolation
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from medspa.clock import Clock
from medspa.db import tenant_session
from medspa.domain.audit.service import record
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.money_notices import queue_owner_alert, queue_refund_notice
from medspa.domain.payments.checkout import settle_balance
from medspa.domain.payments.disputes import DISPUTE_EVENTS, apply_dispute_event
from medspa.domain.payments.gateway import PaymentGateway, RefundResult, SetupResult
from medspa.domain.payments.fees import FEE_PURPOSE, settle_fee_payment
from medspa.domain.payments.models import Payment, PaymentStatus, Refund, RefundStatus, WebhookEvent
from medspa.domain.money import format_money
from medspa.domain.payments.service import (apply_refund_outcome, ledger_deposit_paid, mark_settled, record_refund,
                                            refund_failure_text, reverse_refund)
from medspa.domain.practice.models import Organization
from medspa.domain.payments.cards import setup_by_intent, setup_by_key
from medspa.domain.scheduling.booking import finalize_paid_booking, keep_hold_after_decline, void_charge
from medspa.domain.scheduling.card_step import resume_card_booking, settle_card_answer
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.scheduling.service import HoldLost, get_appointment, revive_hold

DEFAULT_TOLERANCE_SECONDS = 300
"""Oldest accepted signature timestamp, like Stripe's libraries (5 minutes)."""

SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"
CANCELED = "payment_intent.canceled"
REFUND_EVENTS = ("refund.created", "refund.updated", "refund.failed")
SETUP_SUCCEEDED = "setup_intent.succeeded"
SETUP_EVENTS = (SETUP_SUCCEEDED, "setup_intent.setup_failed", "setup_intent.canceled")
HANDLED_EVENTS = (SUCCEEDED, FAILED, CANCELED) + REFUND_EVENTS + DISPUTE_EVENTS + SETUP_EVENTS
SETTLED = (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED)


class InvalidWebhook(Exception):
    """The request is not a genuine, fresh Stripe event (bad or missing signature, stale
    timestamp, unreadable body). `reason` is safe to return in the 400 answer."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class WebhookNotReady(Exception):
    """The event is genuine but names a PaymentIntent this app has not recorded yet (the
    booking request that created it has not committed). Nothing was written; answer non-2xx
    so Stripe delivers it again later."""


def _signature_timestamp(sig_header: str) -> int:
    for item in sig_header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            return int(value)
    raise ValueError("no t= in header")


def verify_event(payload: bytes, sig_header: str | None, secret: str, now: datetime,
                 tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS) -> stripe.Event:
    """The verified Stripe Event of a webhook request.

    payload: the raw request body, byte for byte; sig_header: the Stripe-Signature header;
    secret: the endpoint's signing secret (whsec_...); now: aware UTC instant from the clock.
    Raises InvalidWebhook for a missing/wrong signature, a signature older than
    tolerance_seconds, or a body that is not a Stripe event.
    """
    if not secret:
        raise InvalidWebhook("webhook signing secret is not configured")
    try:
        # the library's own age check reads the wall clock; ours uses the injected clock below
        event = stripe.Webhook.construct_event(payload, sig_header, secret, tolerance=None)
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook(f"bad signature: {exc.user_message}") from exc
    except (ValueError, UnicodeDecodeError) as exc:  # json.JSONDecodeError is a ValueError
        raise InvalidWebhook(f"unreadable payload: {exc}") from exc
    signed_at = _signature_timestamp(sig_header or "")
    if signed_at < now.timestamp() - tolerance_seconds:
        raise InvalidWebhook(f"signature timestamp {signed_at} is older than {tolerance_seconds} s")
    if getattr(event, "object", None) != "event" or not getattr(event, "id", None):
        raise InvalidWebhook("payload is not a Stripe event")
    return event


def _org_id(intent: dict) -> int | None:
    raw = (intent.get("metadata") or {}).get("org_id")
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _is_duplicate_event(exc: IntegrityError) -> bool:
    orig = exc.orig
    return isinstance(orig, UniqueViolation) and getattr(orig.diag, "constraint_name", None) == "uq_webhook_event"


def handle_stripe_event(engine: Engine, payload: bytes, sig_header: str | None, secret: str,
                        gateway: PaymentGateway, clock: Clock, *,
                        tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS) -> str:
    """Verify one Stripe webhook delivery and apply it once. Returns what happened:

    - "confirmed": payment_intent.succeeded settled the payment and confirmed its booking
      (ledger deposit_paid, confirmation and receipt in the outbox);
    - "confirmed" also when the hold had lapsed or a failure event had released it and its slot
      is still free: held again (scheduling.service.revive_hold) and confirmed;
    - "voided": the payment succeeded but its slot was lost meanwhile (lapsed or released and
      taken, or cancelled while the card was pending): refunded at the gateway (key
      refund-<payment id>-<n>) with deposit_paid and charge_voided ledger lines; a lost slot
      (not a cancellation) also queues the client's refund notice;
    - "refund_failed": as "voided" but the gateway refused the refund (audit refund.failed);
    - "checked_out": a checkout's balance payment (3-D Secure completed later) succeeded and
      its visit's checkout was recorded with it (payments.checkout.settle_balance: sale,
      deposit_applied and processing_fee lines, visit completed, receipt); "voided" /
      "refund_failed" also when that visit had been checked out by another payment meanwhile;
    - "succeeded": a payment without a booking was marked succeeded, a balance payment whose
      checkout was already recorded, or a pending deposit succeeded after its visit already
      took place (ledger line only);
    - "declined": payment_intent.payment_failed / .canceled marked a pending payment declined
      and left its hold for another card until it lapses (released when it already ran out);
    - "ignored": not an event we act on or no (existing) clinic in its metadata (nothing
      written), or stale: a failure after a success, a success after a refund, a late success
      for a booking the booking request settled and that was cancelled since (the event id is
      recorded, nothing else changes);
    - "refunded": refund.created / refund.updated reported a refund the app never recorded
      (its answer was lost): recorded, at most what is left; a refund the app made itself, or
      one recorded from an earlier event, is "ignored" (nothing changes twice);
    - a failed Refund (refund.failed): `_on_refund_failed`'s "refund_reversed" / "refund_failed";
    - charge.dispute.*: payments.disputes.apply_dispute_event's "disputed" / "withdrawn" /
      "reinstated" / "updated" / "ignored" (the clinic: the disputed PaymentIntent's
      metadata.org_id, asked of the gateway, which may raise GatewayUnavailable);
    - "duplicate": this event id was already processed (also when delivered concurrently).

    payload/sig_header/secret: see verify_event. gateway: used only for the refund of a lost
    slot (and for setup_intent.* events, a card on file: see _on_setup_event). Raises InvalidWebhook (answer 400), WebhookNotReady (answer non-2xx, Stripe retries),
    GatewayUnavailable from the refund (nothing committed; Stripe retries).
    """
    now = clock.now()
    event = verify_event(payload, sig_header, secret, now, tolerance_seconds)
    event_type = str(event.type)
    if event_type not in HANDLED_EVENTS:
        return "ignored"
    intent = event.data.object.to_dict()  # a PaymentIntent, a Refund (REFUND_EVENTS), a Dispute (DISPUTE_EVENTS)
    if event_type in SETUP_EVENTS:  # a SetupIntent: a card on file (issue 16)
        return _on_setup_event(engine, intent, event_type, str(event.id), gateway, clock)
    kind = "refund" if event_type in REFUND_EVENTS else "dispute" if event_type in DISPUTE_EVENTS else "payment_intent"
    org_id = _dispute_org_id(intent, gateway) if kind == "dispute" else _org_id(intent)
    if org_id is None or intent.get("object") != kind or not intent.get("id"):
        return "ignored"
    if not _known_clinic(engine, org_id):
        return "ignored"
    actor = Actor.system(org_id, "stripe webhook")
    with tenant_session(org_id, engine) as session:
        session.add(WebhookEvent(org_id=org_id, gateway="stripe", event_id=str(event.id), event_type=event_type,
                                 received_at=now))
        try:
            session.flush()  # a concurrent delivery of the same id waits here until we commit
        except IntegrityError as exc:
            session.rollback()
            if _is_duplicate_event(exc):
                return "duplicate"
            raise
        if kind in ("refund", "dispute"):
            result = (_on_refund(session, actor, intent, now, str(event.id)) if kind == "refund"
                      else _on_dispute(session, actor, intent, event_type, now, str(event.id)))
            session.commit()
            return result
        payment = _payment_of(session, intent)
        if payment is None:
            session.rollback()
            raise WebhookNotReady(f"payment {intent['id']} is not recorded yet")
        if event_type == SUCCEEDED:
            result = _on_succeeded(session, actor, payment, gateway, now, str(event.id))
        else:
            result = _on_failed(session, actor, payment, intent, now, str(event.id), event_type)
        session.commit()
        return result


def _known_clinic(engine: Engine, org_id: int) -> bool:
    """Whether clinic `org_id` exists (the organization table is not tenant-scoped)."""
    with tenant_session(None, engine) as session:
        return session.get(Organization, org_id) is not None


def _payment_of(session: Session, intent: dict) -> Payment | None:
    """The Payment (locked) of a PaymentIntent: by its id, else by the idempotency key in its
    metadata (a payment recorded pending before the gateway call, whose request crashed or is
    still running before it stored the intent id; the id is stored now)."""
    payment = session.exec(select(Payment).where(Payment.gateway == "stripe",
                                                 Payment.gateway_payment_id == str(intent["id"]))
                           .with_for_update()).first()
    key = (intent.get("metadata") or {}).get("idempotency_key")
    if payment is not None or not key:
        return payment
    payment = session.exec(select(Payment).where(Payment.gateway == "stripe", Payment.idempotency_key == str(key))
                           .with_for_update()).first()
    if payment is not None and not payment.gateway_payment_id:
        payment.gateway_payment_id = str(intent["id"])
        session.add(payment)
    return payment


def _on_succeeded(session: Session, actor: Actor, payment: Payment, gateway: PaymentGateway, now: datetime,
                  event_id: str) -> str:
    if payment.status in (PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED):
        return "ignored"
    newly = payment.status != PaymentStatus.SUCCEEDED  # else the booking request (or an earlier event) recorded it
    if newly:
        previous = payment.status
        payment.status, payment.failure_message = PaymentStatus.SUCCEEDED, ""
        session.add(payment)
        record(session, actor, "payment.succeeded", "payment", payment.id, client_id=payment.client_id, at=now,
               amount_cents=payment.amount_cents, previous=previous, stripe_event=event_id)
        session.flush()
    if payment.appointment_id is not None and payment.purpose == "balance":  # a checkout's (3-D Secure)
        outcome = settle_balance(session, actor, payment, gateway, now)
        return {"refunded": "voided", "settled": "succeeded"}.get(outcome, outcome)
    if payment.purpose == FEE_PURPOSE:  # a late-cancel / no-show fee's card charge (payments.fees)
        settle_fee_payment(session, actor, payment, now)
        return "succeeded"
    if payment.appointment_id is None or payment.purpose != "deposit":
        return "succeeded"
    appt = get_appointment(session, payment.appointment_id, lock=True)
    if appt.status == AppointmentStatus.EXPIRED:
        # the hold lapsed or a failure released it, and the money came after all: the booking
        # stands when its slot is still free (never "expired and refunded" while it sits free)
        revive_hold(session, actor, appt.id, now=now)
    if appt.status in (AppointmentStatus.HELD, AppointmentStatus.CONFIRMED):
        try:
            with session.begin_nested():
                finalize_paid_booking(session, actor, appt.id, payment, now)  # idempotent for "confirmed"
            mark_settled(payment)
            return "confirmed"
        except HoldLost:
            return _void(session, actor, payment, appt, gateway, now, tell=True)
    if appt.status == AppointmentStatus.EXPIRED or (newly and appt.status == AppointmentStatus.CANCELLED):
        # the slot was taken meanwhile, or the booking was cancelled while the card was
        # pending: money for a booking that does not exist goes back
        return _void(session, actor, payment, appt, gateway, now, tell=appt.status == AppointmentStatus.EXPIRED)
    if newly:  # checked in / completed / no-show meanwhile: keep the money on the client's account
        ledger_deposit_paid(session, payment, now)
        mark_settled(payment)
        return "succeeded"
    return "ignored"  # settled by the booking flow and a later cancellation or visit


def _void(session: Session, actor: Actor, payment: Payment, appt: Appointment, gateway: PaymentGateway,
          now: datetime, *, tell: bool) -> str:
    """Money for a booking that does not exist goes back in full (scheduling.booking.
    void_charge: deposit_paid and charge_voided lines). tell: the client lost the slot
    without being told (not a cancellation the desk made with them): the refund notice, as
    reconciliation sends it (messaging.money_notices)."""
    refund = void_charge(session, actor, payment, gateway, now)
    if refund is None:
        return "refund_failed"
    if tell:
        queue_refund_notice(session, appt, refunded_cents=payment.amount_cents,
                            pending=refund.status == RefundStatus.PENDING)
    return "voided"


def _on_refund(session: Session, actor: Actor, refund: dict, now: datetime, event_id: str) -> str:
    """refund.created / refund.updated: a refund the app made itself (its Refund row carries the
    refund id; the app's refund holds the payment's row lock until it commits, so the event
    waits for it) or one already recorded from an earlier event changes nothing ("ignored").
    The app's own refund still pending (its answer was lost; found by the idempotency key in
    the refund's metadata) is settled with its ledger line -> "refunded", once.
    A succeeded or pending refund the app never recorded (its answer was lost) is recorded
    (payments.service.record_refund: at most what is left) -> "refunded"."""
    payment = session.exec(select(Payment).where(Payment.gateway == "stripe",
                                                 Payment.gateway_payment_id == str(refund.get("payment_intent") or ""))
                           .with_for_update()).first()
    if payment is not None and refund.get("status") == "failed":
        return _on_refund_failed(session, actor, payment, refund, now, event_id)
    if payment is None or refund.get("status") not in ("succeeded", "pending"):
        return "ignored"
    known = session.exec(select(Refund.id).where(Refund.payment_id == payment.id,
                                                 Refund.gateway_refund_id == str(refund["id"]))).first()
    if known is not None:
        return "ignored"
    key = str((refund.get("metadata") or {}).get("idempotency_key") or "")
    mine = session.exec(select(Refund).where(Refund.payment_id == payment.id, Refund.idempotency_key == key)
                        .with_for_update()).first() if key else None
    if mine is not None:  # the app's own refund whose answer was lost (still pending): settled now, once
        if mine.status != RefundStatus.PENDING:
            return "ignored"
        settled = apply_refund_outcome(session, actor, payment, mine,
                                       RefundResult(status="succeeded", gateway_refund_id=str(refund["id"])), now,
                                       stripe_event=event_id)
        return "refunded" if settled is not None else "ignored"
    recorded = record_refund(session, actor, payment, amount_cents=int(refund.get("amount") or 0),
                             gateway_refund_id=str(refund["id"]), now=now, reason="refund reported by Stripe",
                             stripe_event=event_id)
    return "refunded" if recorded is not None else "ignored"


def _on_refund_failed(session: Session, actor: Actor, payment: Payment, refund: dict, now: datetime,
                      event_id: str) -> str:
    """A Refund the gateway reports failed (https://docs.stripe.com/refunds#failed-refunds: the
    money is back in the clinic's balance and Stripe does not try again). The app's row (by the
    refund id, else the idempotency key in its metadata; locked after the payment): succeeded
    -> reversed ("refund_reversed"), pending -> failed ("refund_failed"); either way every owner
    is emailed once (dedupe refund-failed-<refund id>). Already failed or unknown: "ignored"."""
    key = str((refund.get("metadata") or {}).get("idempotency_key") or "")
    match = Refund.gateway_refund_id == str(refund["id"])
    if key:
        match = match | (Refund.idempotency_key == key)
    mine = session.exec(select(Refund).where(Refund.payment_id == payment.id, match).with_for_update()).first()
    if mine is None or mine.status == RefundStatus.FAILED:
        return "ignored"
    why = refund_failure_text(str(refund.get("failure_reason") or "unknown"))
    message = f"Refund failed after it was sent: {why}."
    if mine.status == RefundStatus.SUCCEEDED:
        reverse_refund(session, actor, payment, mine, message, now, stripe_event=event_id)
        result = "refund_reversed"
    else:
        apply_refund_outcome(session, actor, payment, mine, RefundResult(status="failed", message=message), now,
                             stripe_event=event_id)
        result = "refund_failed"
    amount = format_money(mine.amount_cents, mine.currency)
    body = "\n".join([
        f"A refund of {amount} (payment #{payment.id}, Stripe refund {refund['id']}) did not reach the client: {why}.",
        "The money is back in the clinic's Stripe balance and Stripe will not try again.",
        "Contact the client and return it another way (or refund again once they give you a new card); "
        "the client's ledger shows the refund as failed."])
    queue_owner_alert(session, payment.org_id, kind="refund_failed", subject=f"Refund failed: {amount}", body=body,
                      dedupe_prefix=f"refund-failed-{mine.id}", client_id=payment.client_id,
                      appointment_id=payment.appointment_id)
    return result


def _dispute_org_id(dispute: dict, gateway: PaymentGateway) -> int | None:
    """The clinic of a Dispute: Stripe's Dispute carries none of our metadata, so the disputed
    PaymentIntent is asked for its metadata.org_id (StripeGateway.payment_intent_metadata;
    None for a gateway without it or a dispute without a PaymentIntent). Raises
    GatewayUnavailable (the delivery fails, Stripe sends it again)."""
    pi = dispute.get("payment_intent")
    fetch = getattr(gateway, "payment_intent_metadata", None)
    if not pi or fetch is None:
        return None
    return _org_id({"metadata": fetch(str(pi))})


def _on_dispute(session: Session, actor: Actor, dispute: dict, event_type: str, now: datetime, event_id: str) -> str:
    """charge.dispute.*: applied to the disputed payment (locked) by payments.disputes; a
    dispute on a payment this clinic does not hold is "ignored"."""
    payment = session.exec(select(Payment).where(Payment.gateway == "stripe",
                                                 Payment.gateway_payment_id == str(dispute.get("payment_intent")))
                           .with_for_update()).first()
    if payment is None:
        return "ignored"
    return apply_dispute_event(session, actor, payment, dispute, event_type, now, event_id)


def _on_failed(session: Session, actor: Actor, payment: Payment, intent: dict, now: datetime, event_id: str,
               event_type: str) -> str:
    if payment.status in SETTLED:
        return "ignored"  # out of order: a failure never undoes a success
    if payment.status not in (PaymentStatus.DECLINED, PaymentStatus.FAILED):
        error = intent.get("last_payment_error") or {}
        message = error.get("message") or ("The payment was canceled." if event_type == CANCELED
                                           else "Your card was declined.")
        payment.status, payment.failure_message = PaymentStatus.DECLINED, str(message)[:500]
        mark_settled(payment)
        session.add(payment)
        record(session, actor, "payment.declined", "payment", payment.id, client_id=payment.client_id, at=now,
               amount_cents=payment.amount_cents, decline_code=str(error.get("decline_code") or error.get("code") or ""),
               stripe_event=event_id)
    if payment.appointment_id is not None and payment.purpose == "deposit":
        # the client keeps the time for another card until the hold lapses (released if it ran out)
        keep_hold_after_decline(session, actor, payment.appointment_id, now, "card declined")
    return "declined"


def _on_setup_event(engine: Engine, seti: dict, event_type: str, event_id: str, gateway: PaymentGateway,
                    clock: Clock) -> str:
    """A SetupIntent event (card on file, issue 16). The clinic: the verified intent's
    metadata.org_id (StripeGateway.setup_card sets it); the setup: by its id, else the
    idempotency key in its metadata (a setup whose request crashed before storing the id).
    The event id is recorded with the setup's answer in one transaction (exactly once); the
    card's brand, last4 and expiry are asked of the gateway (lookup_setup; the event carries
    only the payment method's id). Then the booking waiting for the card is completed once
    (scheduling.card_step.settle_card_answer: confirmed, its deposit charged on the saved
    card). Returns settle_card_answer's "confirmed", "card_saved", "declined", "requires_action",
    "lost" or "ignored"; "ignored" also for no clinic or an unknown setup of no booking request,
    "duplicate" for a redelivery. A redelivered setup_intent.succeeded whose booking step never
    ran (the first delivery died after recording the card) runs it once due (card_step.
    resume_card_booking) and returns its outcome. Raises WebhookNotReady (the setup is not
    recorded yet), GatewayUnavailable (lookup_setup; nothing written, Stripe retries)."""
    org_id = _org_id(seti)
    if org_id is None or seti.get("object") != "setup_intent" or not seti.get("id"):
        return "ignored"
    if not _known_clinic(engine, org_id):
        return "ignored"
    key = str((seti.get("metadata") or {}).get("idempotency_key") or "")
    if event_type == SETUP_SUCCEEDED:
        result = gateway.lookup_setup(org_id=org_id, idempotency_key=key, setup_intent_id=str(seti["id"]))
        if result is None or result.status != "succeeded":
            return "ignored"
    else:
        error = seti.get("last_setup_error") or {}
        result = SetupResult(status="declined" if event_type != "setup_intent.canceled" else "failed",
                             setup_intent_id=str(seti["id"]),
                             message=str(error.get("message") or ("The card setup was canceled."
                                                                   if event_type == "setup_intent.canceled"
                                                                   else "Your card was declined.")),
                             decline_code=str(error.get("decline_code") or error.get("code") or ""))
    actor = Actor.system(org_id, "stripe webhook")
    now = clock.now()
    with tenant_session(org_id, engine) as session:
        session.add(WebhookEvent(org_id=org_id, gateway="stripe", event_id=event_id, event_type=event_type,
                                 received_at=now))
        try:
            session.flush()
        except IntegrityError as exc:
            session.rollback()
            if not _is_duplicate_event(exc):
                raise
            setup = setup_by_intent(session, str(seti["id"])) if event_type == SETUP_SUCCEEDED else None
            setup_id = setup.id if setup is not None else None
            session.rollback()
            done = resume_card_booking(engine, actor, setup_id, gateway, clock) if setup_id else "ignored"
            return "duplicate" if done == "ignored" else done
        setup = setup_by_intent(session, str(seti["id"])) or (setup_by_key(session, key) if key else None)
        if setup is None:
            session.rollback()
            raise WebhookNotReady(f"card setup {seti['id']} is not recorded yet")
        setup_id = setup.id
        session.commit()  # the event is recorded: a redelivery is a duplicate from here on
    return settle_card_answer(engine, actor, setup_id, result, gateway, clock)
