"""Sending refunds that are already recorded `pending` (payments.service.begin_refund).

A refund caused by a user's step (a cancellation outside the window, a deposit above the
visit's price at checkout) is written pending, with its idempotency key, in the step's own
transaction, which commits; only then is the gateway asked (`send_refunds_now`), each refund
in a transaction of its own. A process killed between the two leaves the step done and its
refund pending: reconciliation (payments.reconcile, claim_next_refund + `settle_refund`) sends
it with the same key once its reconcile_after is reached, so no refund ever exists at the
gateway without its row, and none is made twice (Stripe replays an idempotency key's answer:
https://docs.stripe.com/api/idempotent_requests).

Refunds made inside a transaction whose whole step is retried by someone else (reconciliation
voiding a charge whose slot is gone, the Stripe webhook, which Stripe delivers again) keep
calling the gateway in that transaction (payments.service.refund_payment): the retry derives
the same key.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from medspa.db import tenant_session
from medspa.domain.audit.service import record
from medspa.domain.identity.actor import Actor
from medspa.domain.payments.gateway import PaymentGateway
from medspa.domain.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from medspa.domain.payments.service import apply_refund_outcome
from medspa.domain.payments.stripe_gateway import GatewayUnavailable

log = logging.getLogger(__name__)


class OtherGateway(Exception):
    """The payment was made at another gateway than this process's (e.g. a Stripe payment
    while the deployment runs offline test payments): it cannot be asked; try later."""


def settle_refund(session: Session, actor: Actor, payment: Payment, refund: Refund, gateway: PaymentGateway,
                  now: datetime, *, source: str = "reconciliation") -> str:
    """Ask the gateway for a locked pending refund, with its own idempotency key and amount
    (integer cents), and settle it: "refunded" (the ledger line written once) or
    "refund_failed" (refused: failed with the reason; a deposit's payment is opened again for
    reconciliation, whose next refund uses a new key). source: the audit rows' "source".
    Raises GatewayUnavailable (the caller rolls back; the refund stays pending and is asked
    again), OtherGateway. The caller commits."""
    if payment.gateway != gateway.name:
        raise OtherGateway(f"refund {refund.id} is of a {payment.gateway} payment, this gateway is {gateway.name}")
    result = gateway.refund(org_id=payment.org_id, gateway_payment_id=payment.gateway_payment_id or "",
                            amount_cents=refund.amount_cents, idempotency_key=refund.idempotency_key or "")
    if apply_refund_outcome(session, actor, payment, refund, result, now, source=source) is not None:
        return "refunded"
    if payment.purpose == "deposit" and payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
        payment.reconcile_after = now
        session.add(payment)
    return "refund_failed"


def _lock_pending(session: Session, refund_id: int) -> tuple[Payment, Refund] | None:
    """The pending refund and its payment, locked payment first (the order of every refund
    path), or None when it is settled already (reconciliation or the webhook came first)."""
    payment_id = session.exec(select(Refund.payment_id).where(Refund.id == refund_id)).first()
    if payment_id is None:
        return None
    payment = session.exec(select(Payment).where(Payment.id == payment_id).with_for_update()).one()
    refund = session.exec(select(Refund).where(Refund.id == refund_id, Refund.status == RefundStatus.PENDING)
                          .with_for_update()).first()
    return (payment, refund) if refund is not None else None


def send_refunds_now(engine: Engine, actor: Actor, refund_ids: Iterable[int], gateway: PaymentGateway,
                     now: datetime) -> dict[int, str]:
    """Send committed pending refunds of actor's clinic to the gateway, each in its own
    transaction (`settle_refund`), right after the step that wrote them committed.

    Returns {refund id: "refunded" | "refund_failed" | "pending" | "settled"}: "pending" when
    the gateway did not answer (GatewayUnavailable; audit refund.unanswered; the refund keeps
    its reconcile_after and reconciliation asks again with the same key) or is another
    gateway; "settled" when someone settled it first. Never raises for the gateway's state: the
    step the user took is done either way."""
    outcomes: dict[int, str] = {}
    for refund_id in refund_ids:
        try:
            with tenant_session(actor.org_id, engine) as session:
                locked = _lock_pending(session, refund_id)
                if locked is None:
                    outcomes[refund_id] = "settled"
                    continue
                payment, refund = locked
                outcomes[refund_id] = settle_refund(session, actor, payment, refund, gateway, now, source="request")
                session.commit()
        except (GatewayUnavailable, OtherGateway) as exc:
            outcomes[refund_id] = "pending"
            log.warning("refund %s not answered (%s): reconciliation asks again", refund_id, exc)
            with tenant_session(actor.org_id, engine) as session:
                refund = session.get(Refund, refund_id)
                if refund is not None:
                    payment = session.get(Payment, refund.payment_id)
                    record(session, actor, "refund.unanswered", "payment", refund.payment_id,
                           client_id=payment.client_id if payment else None, at=now,
                           amount_cents=refund.amount_cents, idempotency_key=refund.idempotency_key or "",
                           cause=getattr(exc, "cause", "") or str(exc))
                    session.commit()
    return outcomes
