"""Payment gateways that fail the way real ones do, wrapped around a working one: the process
dying around the charge or the refund, Stripe not answering, an answer lost after the money
moved, a refusal. Shared by the reconciliation, checkout and refund tests."""

from __future__ import annotations

from medspa.domain.payments.gateway import RefundResult
from medspa.domain.payments.stripe_gateway import GatewayUnavailable


class Crash(Exception):
    """The request's process dies here."""


class Wrapped:
    """The real gateway with some calls replaced (every other call goes through)."""

    def __init__(self, inner):
        self.inner, self.name = inner, inner.name

    def __getattr__(self, name):
        return getattr(self.inner, name)


class CrashingGateway(Wrapped):
    """The process dies just before (`when="before_gateway"`) or just after
    (`"after_gateway"`) the charge."""

    def __init__(self, inner, when: str):
        super().__init__(inner)
        self.when = when

    def charge(self, request):
        if self.when == "before_gateway":
            raise Crash("killed before the gateway call")
        result = self.inner.charge(request)
        if self.when == "after_gateway":
            raise Crash("killed after the gateway charged, before the answer was recorded")
        return result


class Unreachable(Wrapped):
    """Stripe cannot be reached: the refund raises a connection error (GatewayUnavailable)."""

    def refund(self, **kwargs):
        raise GatewayUnavailable("The payment service is not answering.", cause="APIConnectionError: refused")


class AnswerLost(Wrapped):
    """Stripe refunds, but its answer never reaches the app (a timeout after the request landed)."""

    def refund(self, **kwargs):
        self.inner.refund(**kwargs)
        raise GatewayUnavailable("The payment service is not answering.", cause="Timeout")


class Refusing(Wrapped):
    """Stripe refuses the refund."""

    def refund(self, **kwargs):
        return RefundResult(status="failed", message="Charge is disputed.")


class CrashAfterRefund(Wrapped):
    """Stripe refunds, then the process dies before the answer is recorded."""

    def refund(self, **kwargs):
        self.inner.refund(**kwargs)
        raise Crash("killed after the gateway refunded")
