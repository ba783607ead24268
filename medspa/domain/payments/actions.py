"""Actions of the payments area that entry points call (issue "One way in").

`do_apply_stripe_event`: the Stripe webhook route hands over the raw delivery; verifying,
applying it exactly once and settling its booking happen here (medspa.domain.payments.webhooks
does the work in its own transaction).
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from medspa.clock import Clock, app_clock
from medspa.domain.payments.factory import gateway_of
from medspa.domain.payments.gateway import PaymentGateway
from medspa.domain.payments.webhooks import handle_stripe_event
from medspa.domain.work import engine_of
from medspa.settings import Settings, get_settings


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
