"""Which payment gateway this process uses: Stripe with a secret key, else offline test payments.

`gateway_of` is the one place that decides; only domain actions call it (tests hand an
action their own gateway instead)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.payments.gateway import PaymentGateway, TestPaymentGateway
from medspa.settings import Settings, get_settings


def gateway_for(settings: Settings, engine: Engine, clock: Clock) -> PaymentGateway:
    """StripeGateway(settings.stripe_secret_key, settings.stripe_api_base or None) when a
    secret key is configured, else TestPaymentGateway(engine, clock.now) (Stripe's test
    card numbers, answered offline and stored per idempotency key)."""
    if settings.stripe_secret_key:
        from medspa.domain.payments.stripe_gateway import StripeGateway

        return StripeGateway(settings.stripe_secret_key, settings.stripe_api_base or None)
    return TestPaymentGateway(engine, clock.now)


def gateway_of(gateway: PaymentGateway | None, engine: Engine, clock: Clock,
               settings: Settings | None = None) -> PaymentGateway:
    """The gateway an action charges through: `gateway` when the caller passed one (tests),
    else this deployment's (gateway_for with `settings`, default the current Settings)."""
    return gateway if gateway is not None else gateway_for(settings or get_settings(), engine, clock)
