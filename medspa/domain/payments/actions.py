"""Actions of the payments area that entry points call (issue "One way in").

`do_apply_stripe_event`: the Stripe webhook route hands over the raw delivery; verifying,
applying it exactly once and settling its booking happen here (medspa.domain.payments.webhooks
does the work in its own transaction).

`do_issue_refund`: a manager's refund, its pending row committed before the gateway call.
`fetch_open_disputes`: the owners' list of open disputes (payments/disputes.py).
`fetch_money_violations`: the money invariant (payments/invariant.py) in every clinic, for
`medspa check` and the tests. `do_reconcile_payments`: the reconciliation job's one action
(payments/reconcile.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import select

from medspa.clock import Clock, app_clock
from medspa.domain.payments.disputes import DisputeRow, open_disputes
from medspa.domain.payments.factory import gateway_of
from medspa.domain.payments.gateway import PaymentGateway
from medspa.domain.identity.actor import Actor
from medspa.domain.payments.invariant import MoneyViolation, money_violations
from medspa.domain.errors import ValidationFailed
from medspa.domain.payments.models import Payment, Refund, RefundStatus
from medspa.domain.payments.service import begin_refund, check_refundable, refund_line, send_refund
from medspa.domain.payments.reconcile import (StillOpen, claim_next, claim_next_refund, postpone, postpone_refund,
                                             settle_payment)
from medspa.domain.payments.refunds import OtherGateway, settle_refund
from medspa.domain.payments.stripe_gateway import GatewayUnavailable
from medspa.domain.payments.webhooks import handle_stripe_event
from medspa.domain.practice.models import Organization
from medspa.domain.scheduling.booking import organization_ids
from medspa.domain.scheduling.card_step import claim_due_setups, postpone_setup, reconcile_setup
from medspa.domain.work import atomic, engine_of, now_of
from medspa.settings import Settings, get_settings

log = logging.getLogger(__name__)


class StripeNotConfigured(Exception):
    """This deployment has no Stripe secret key or no webhook signing secret."""


def do_apply_stripe_event(payload: bytes, sig_header: str | None, *, settings: Settings | None = None,
                          clock: Clock | None = None, engine: Engine | None = None,
                          gateway: PaymentGateway | None = None) -> str:
    """Verify one Stripe webhook delivery (raw body, Stripe-Signature header) and apply it
    once; returns what happened ("confirmed", "voided", "declined", "duplicate", "ignored",
    ...: see webhooks.handle_stripe_event). The actor is system "stripe webhook".

    settings: the deployment's (default get_settings()): its webhook secret verifies the
    signature and its Stripe keys build the gateway used for a refund (unless `gateway`).
    Raises StripeNotConfigured, InvalidWebhook (answer 400), WebhookNotReady (answer non-2xx,
    Stripe retries), GatewayUnavailable (nothing committed; Stripe retries).
    """
    settings = settings or get_settings()
    if not settings.stripe_webhook_secret or not settings.stripe_secret_key:
        raise StripeNotConfigured("Stripe is not configured")
    clock = clock or app_clock()
    engine = engine_of(engine)
    gateway = gateway_of(gateway, engine, clock, settings)
    return handle_stripe_event(engine, payload, sig_header, settings.stripe_webhook_secret, gateway, clock)


@dataclass(frozen=True)
class ClinicViolations:
    """The money invariant's violations (MoneyViolation rows) in one clinic."""

    org_id: int
    slug: str
    name: str
    violations: tuple[MoneyViolation, ...]


def fetch_money_violations(*, clinic: str = "", clock: Clock | None = None,
                           engine: Engine | None = None) -> list[ClinicViolations]:
    """The money invariant checked in every clinic (only the one with slug `clinic` when
    given), each in its own tenant transaction as the app role, so row-level security scopes
    the query exactly as it scopes the app. Returns one entry per clinic checked, violations
    or not (empty `violations`: the invariant holds there); an unknown slug gives []."""
    now = now_of(clock)
    with atomic(None, engine=engine) as work:
        orgs = [(o.id, o.slug, o.name) for o in work.session.exec(select(Organization).order_by(Organization.id))
                if not clinic or o.slug == clinic]
    result = []
    for org_id, slug, name in orgs:
        with atomic(org_id, engine=engine) as work:
            result.append(ClinicViolations(org_id, slug, name, tuple(money_violations(work.session, now))))
    return result


@dataclass(frozen=True)
class IssuedRefund:
    """A manager's refund as the page shows it: ids, amount (integer cents), currency, status
    (pending: the gateway did not answer yet, reconciliation retries it; succeeded) and its
    line ("Refund of $50.00 pending")."""

    refund_id: int
    payment_id: int
    amount_cents: int
    currency: str
    status: str
    line: str


def do_issue_refund(actor: Actor, payment_id: int, *, reason: str, amount_cents: int | None = None,
                    clock: Clock | None = None, engine: Engine | None = None,
                    gateway: PaymentGateway | None = None) -> IssuedRefund:
    """A discretionary refund (refund.issue) of what is left of a payment, or amount_cents of
    it, in two transactions like a charge: the first checks it (payments.service.
    check_refundable) and COMMITS the Refund row `pending` with its key refund-<payment>-<n>;
    the second locks the payment and the refund and asks the gateway (payments.service.
    send_refund): succeeded -> its ledger line; no answer -> stays pending, reconciliation
    asks again with the same key; a crash after the gateway call leaves the committed pending
    row, which reconciliation (or the refund.created webhook) settles, once.
    Raises PermissionDenied, NotFound, ValidationFailed (not refundable, bad amount, no reason,
    refused by the gateway: the refund is then recorded failed)."""
    clock = clock or app_clock()
    engine = engine_of(engine)
    gateway = gateway_of(gateway, engine, clock)
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        payment = check_refundable(work.session, actor, payment_id, reason=reason, amount_cents=amount_cents)
        refund = begin_refund(work.session, actor, payment, now=now, reason=reason.strip()[:200],
                              amount_cents=amount_cents)
        if refund is None:
            raise ValidationFailed({"payment": "Nothing is left to refund"})
        refund_id = refund.id
    with atomic(actor.org_id, engine=engine) as work:
        payment = work.session.get(Payment, payment_id, with_for_update=True)
        refund = work.session.get(Refund, refund_id, with_for_update=True)
        if refund.status == RefundStatus.PENDING:  # else settled meanwhile (the webhook, reconciliation)
            send_refund(work.session, actor, payment, refund, gateway, now)
        issued = IssuedRefund(refund.id, payment.id, refund.amount_cents, refund.currency, str(refund.status),
                              refund_line(refund))
    if issued.status == RefundStatus.FAILED:
        raise ValidationFailed({"payment": f"The payment provider refused the refund: {refund.failure_message}"})
    return issued


def fetch_open_disputes(actor: Actor, *, engine: Engine | None = None) -> list[DisputeRow]:
    """The clinic's disputes not closed yet, soonest evidence due first (payments.disputes.
    open_disputes). Raises PermissionDenied without dispute.read (owners only)."""
    actor.require("dispute.read")
    with atomic(actor.org_id, engine=engine) as work:
        return open_disputes(work.session, actor)


@dataclass(frozen=True)
class Reconciled:
    """One payment (or pending refund, refund_id set) a reconciliation run handled: clinic,
    payment id and outcome (payments.reconcile.settle_payment's or settle_refund's, or
    "postponed: <reason>")."""

    org_id: int
    payment_id: int
    outcome: str
    refund_id: int | None = None


def do_reconcile_payments(*, clock: Clock | None = None, engine: Engine | None = None,
                          gateway: PaymentGateway | None = None, max_per_clinic: int = 500) -> list[Reconciled]:
    """Settle every open payment due now (reconcile_after <= now), in every clinic, one
    payment per transaction, then ask again for every pending refund due now (same key and
    amount, payments.reconcile.settle_refund), each claimed FOR UPDATE SKIP LOCKED (payments/reconcile.py), with
    the actor system "payment reconciliation". A payment the gateway cannot settle now
    (GatewayUnavailable, a refused refund, any error) is postponed with a back-off in its own
    transaction and the run goes on. Safe to run on several workers at once and twice in a row.

    gateway: this deployment's unless given (tests). max_per_clinic bounds one run. Returns
    what was handled, in order."""
    clock = clock or app_clock()
    engine = engine_of(engine)
    gateway = gateway_of(gateway, engine, clock)
    now = now_of(clock)
    with atomic(None, engine=engine) as work:
        org_ids = organization_ids(work.session)
    done: list[Reconciled] = []
    for org_id in org_ids:
        actor = Actor.system(org_id, "payment reconciliation")
        seen: set[int] = set()
        while len(seen) < max_per_clinic:
            outcome, payment_id = _reconcile_one(actor, engine, gateway, now, seen)
            if payment_id is None:
                break
            seen.add(payment_id)
            done.append(Reconciled(org_id, payment_id, outcome))
        done.extend(_reconcile_card_setups(actor, engine, gateway, clock, now, max_per_clinic))
        refunds_seen: set[int] = set()
        while len(refunds_seen) < max_per_clinic:
            outcome, payment_id, refund_id = _reconcile_refund(actor, engine, gateway, now, refunds_seen)
            if refund_id is None:
                break
            refunds_seen.add(refund_id)
            done.append(Reconciled(org_id, payment_id, outcome, refund_id))
    return done


def _reconcile_card_setups(actor: Actor, engine: Engine, gateway: PaymentGateway, clock: Clock, now,
                           limit: int) -> list[Reconciled]:
    """Settle the clinic's open card setups due now (issue 16: a booking waiting for its card
    whose answer was never recorded), each through scheduling.card_step.reconcile_setup; one
    whose gateway does not answer is postponed (reconcile_after moved on by a minute) and the
    run goes on. Reconciled rows carry payment_id 0 and the outcome "card setup <id>: <outcome>"."""
    with atomic(actor.org_id, engine=engine) as work:
        due = claim_due_setups(work.session, now, limit)
    done = []
    for setup_id in due:
        try:
            outcome = reconcile_setup(engine, actor, setup_id, gateway, clock)
        except Exception as exc:  # noqa: BLE001 - one setup's failure never stops the others
            (log.warning if isinstance(exc, GatewayUnavailable) else log.exception)(
                "reconciling card setup %s failed: %s", setup_id, exc)
            with atomic(actor.org_id, engine=engine) as work:
                postpone_setup(work.session, setup_id, now)
            outcome = f"postponed: {type(exc).__name__}"
        done.append(Reconciled(actor.org_id, 0, f"card setup {setup_id}: {outcome}"))
    return done


def _reconcile_refund(actor: Actor, engine: Engine, gateway: PaymentGateway, now,
                      seen: set[int]) -> tuple[str, int | None, int | None]:
    """Claim and ask again for the next due pending refund of actor's clinic (payments.reconcile.
    settle_refund): (outcome, payment id, refund id), or ("", None, None) when none is due.
    A gateway that still does not answer (or any error) rolls back and postpones the refund."""
    refund_id: int | None = None
    payment_id: int | None = None
    try:
        with atomic(actor.org_id, engine=engine) as work:
            claimed = claim_next_refund(work.session, now, seen)
            if claimed is None:
                return "", None, None
            payment, refund = claimed
            payment_id, refund_id = payment.id, refund.id
            return settle_refund(work.session, actor, payment, refund, gateway, now), payment_id, refund_id
    except Exception as exc:  # noqa: BLE001 - one refund's failure never stops the others
        if refund_id is None:
            raise
        expected = isinstance(exc, (GatewayUnavailable, OtherGateway))
        (log.warning if expected else log.exception)("reconciling refund %s failed: %s", refund_id, exc)
        with atomic(actor.org_id, engine=engine) as work:
            refund = work.session.get(Refund, refund_id, with_for_update=True)
            if refund is not None and refund.reconcile_after is not None:
                postpone_refund(work.session, refund, now, type(exc).__name__)
        return f"postponed: {type(exc).__name__}", payment_id, refund_id


def _reconcile_one(actor: Actor, engine: Engine, gateway: PaymentGateway, now, seen: set[int]) -> tuple[str, int | None]:
    """Claim and settle the next due payment of actor's clinic: (outcome, payment id), or
    ("", None) when none is due. A failure rolls back and postpones the payment."""
    payment_id: int | None = None
    try:
        with atomic(actor.org_id, engine=engine) as work:
            payment = claim_next(work.session, now, seen)
            if payment is None:
                return "", None
            payment_id = payment.id
            outcome = settle_payment(work.session, actor, payment, gateway, now)
            if outcome == "refund_failed":
                postpone(work.session, payment, now, "the gateway refused the refund")
            return outcome, payment_id
    except Exception as exc:  # noqa: BLE001 - one payment's failure never stops the others
        if payment_id is None:
            raise
        expected = isinstance(exc, (GatewayUnavailable, OtherGateway, StillOpen))  # the gateway's state, not a bug
        (log.warning if expected else log.exception)("reconciling payment %s failed: %s", payment_id, exc)
        with atomic(actor.org_id, engine=engine) as work:
            payment = work.session.get(Payment, payment_id, with_for_update=True)
            if payment is not None and payment.reconcile_after is not None:
                postpone(work.session, payment, now, type(exc).__name__)
        return f"postponed: {type(exc).__name__}", payment_id
