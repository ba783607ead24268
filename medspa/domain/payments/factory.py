"""Which payment gateway this process uses: Stripe with a secret key, else offline test payments."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.payments.gateway import PaymentGateway, TestPaymentGateway
from medspa.settings import Settings


def gateway_for(settings: Settings, engine: Engine, clock: Clock) -> PaymentGateway:
    """StripeGateway(settings.stripe_secret_key, settings.stripe_api_base or None) when a
    secret key is configured, else TestPaymentGateway(engine, clock.now) (Stripe's test
    card numbers, answered offline and stored per idempotency key)."""
    if settings.stripe_secret_key:
        from medspa.domain.payments.stripe_gateway import StripeGateway

        return StripeGateway(settings.stripe_secret_key, settings.stripe_api_base or None)
    return TestPaymentGateway(engine, clock.now)
