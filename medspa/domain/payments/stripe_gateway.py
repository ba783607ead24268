"""The Stripe gateway: PaymentIntents created and confirmed server-side, and Refunds.

One `stripe.StripeClient` per gateway instance (never the library's global `stripe.api_key`),
so two clinics or a test and the app can use different keys and API hosts in one process.
Every POST carries the caller's idempotency key as Stripe's `Idempotency-Key`: Stripe replays
the stored answer for a reused key, a decline included (DESIGN.md, money flow step 2).

Processing fee: the PaymentIntent is created with `expand=["latest_charge.balance_transaction"]`
and ChargeResult.fee_cents is that balance transaction's `fee` (Stripe's total fee in the
minor units of the settlement currency, https://docs.stripe.com/api/balance_transactions/object).
When the balance transaction is not available yet (asynchronous payment methods, a pending
charge) or not expanded, fee_cents is 0: the ledger then carries no processing_fee line for
that payment (the figure is under-stated, never invented).
"""

from __future__ import annotations

from typing import Any

import stripe

from medspa.domain.errors import ValidationFailed
from medspa.domain.payments.gateway import (AUTHENTICATION_REQUIRED_MESSAGE, ChargeRequest, ChargeResult, RefundResult,
                                            SetupRequest, SetupResult)
from medspa.domain.payments.models import PaymentStatus


class GatewayUnavailable(Exception):
    """Stripe could not be reached or refused the request for a reason other than the card
    (bad API key, rate limit, outage). `message` is safe to show ("try again"); the hold stays
    and a retry reuses the same idempotency key, so a charge that did happen is replayed."""

    def __init__(self, message: str, *, cause: str = ""):
        super().__init__(message)
        self.message = message
        self.cause = cause


def _as_dict(obj: Any) -> dict:
    """A StripeObject (not a dict since stripe 13) or a dict, as a plain dict."""
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    return obj.to_dict()


def _card_error(exc: stripe.CardError) -> dict:
    """The `error` object of a card decline's JSON body (decline_code, payment_intent or
    setup_intent), {} when Stripe sent none."""
    return _as_dict((exc.json_body or {}).get("error") if isinstance(exc.json_body, dict) else None)


def _not_a_card_answer(exc: stripe.StripeError, could_not: str) -> Exception:
    """What to raise for a Stripe error that is not the card's answer: ValidationFailed at the
    card field for an unknown or refused payment method, GatewayUnavailable(`could_not`) for
    another bad request, GatewayUnavailable("not answering") for the rest (network, rate limit,
    Stripe's own errors)."""
    cause = f"{type(exc).__name__}: {exc.user_message}"
    if isinstance(exc, stripe.InvalidRequestError):
        if exc.param == "payment_method" or exc.code == "resource_missing":
            return ValidationFailed({"card_number": exc.user_message or "Your card details were not accepted."})
        return GatewayUnavailable(could_not, cause=cause)
    return GatewayUnavailable("The payment service is not answering. Please try again.", cause=cause)


def _fee_cents(intent: dict) -> int:
    """The expanded latest_charge.balance_transaction.fee (integer minor units), else 0."""
    charge = intent.get("latest_charge")
    if not isinstance(charge, dict):
        return 0
    txn = charge.get("balance_transaction")
    if not isinstance(txn, dict):
        return 0
    try:
        return max(0, int(txn.get("fee") or 0))
    except (TypeError, ValueError):
        return 0


def _card_last4(intent: dict) -> str:
    pm = intent.get("payment_method")
    if isinstance(pm, dict):
        return str((pm.get("card") or {}).get("last4") or "")
    return ""


class StripeGateway:
    """PaymentGateway backed by Stripe's PaymentIntents and Refunds APIs.

    secret_key: the clinic's (or platform's) secret key, sk_test_... or sk_live_...
    api_base: another API host (tests point it at tests/fake_stripe.py); None = Stripe.
    """

    name = "stripe"

    def __init__(self, secret_key: str, api_base: str | None = None, *, max_network_retries: int = 2):
        if not secret_key:
            raise ValueError("StripeGateway needs a secret key (STRIPE_SECRET_KEY)")
        base = {"api": api_base.rstrip("/")} if api_base else None
        self._client = stripe.StripeClient(secret_key, base_addresses=base, max_network_retries=max_network_retries)

    @property
    def client(self) -> stripe.StripeClient:
        """The instance's own Stripe client (for reconciliation jobs)."""
        return self._client

    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Create and confirm a PaymentIntent for request.amount_cents (minor units of
        request.currency) with request.payment_method_id.

        Returns ChargeResult: succeeded (card_last4 filled; fee_cents from the expanded
        latest_charge.balance_transaction, 0 when Stripe has none yet), requires_action (client_secret for
        the page's stripe.handleNextAction), or declined (Stripe's user-facing message and
        decline code). The same request.idempotency_key always gets the same answer.
        Raises ValidationFailed({"card_number": ...}) without or with an unknown payment method,
        GatewayUnavailable when Stripe cannot answer.
        """
        if not request.payment_method_id:
            raise ValidationFailed({"card_number": "Enter your card details."})
        metadata = {"org_id": str(request.org_id), "idempotency_key": request.idempotency_key,
                    **{k: str(v) for k, v in request.metadata.items()}}
        params: dict[str, Any] = {
            "amount": int(request.amount_cents),
            "currency": request.currency.lower(),
            "payment_method": request.payment_method_id,
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "metadata": metadata,
            "expand": ["payment_method", "latest_charge.balance_transaction"],
        }
        if request.description:
            params["description"] = request.description[:1000]
        if request.customer_id:
            params["customer"] = request.customer_id
        if request.off_session:
            # a saved card charged while the client is away (https://docs.stripe.com/payments/save-and-reuse)
            params["off_session"] = True
            params.pop("automatic_payment_methods")
            params["payment_method_types"] = ["card"]
        try:
            intent = self._client.v1.payment_intents.create(
                params=params, options={"idempotency_key": request.idempotency_key})
        except stripe.CardError as exc:
            err = _card_error(exc)
            pi = _as_dict(err.get("payment_intent"))
            code = str(err.get("decline_code") or exc.code or "")
            if exc.code == "authentication_required" or err.get("decline_code") == "authentication_required":
                # off-session: the bank wants the cardholder; the intent waits for them
                return ChargeResult(status=PaymentStatus.REQUIRES_ACTION, gateway_payment_id=str(pi.get("id") or ""),
                                    message=AUTHENTICATION_REQUIRED_MESSAGE, decline_code="authentication_required",
                                    client_secret=str(pi.get("client_secret") or ""))
            return ChargeResult(status=PaymentStatus.DECLINED, gateway_payment_id=str(pi.get("id") or ""),
                                message=exc.user_message or "Your card was declined.", decline_code=code)
        except stripe.StripeError as exc:
            raise _not_a_card_answer(exc, "The payment could not be started. Please try again.") from exc
        return self._result(_as_dict(intent))

    @staticmethod
    def _result(intent: dict) -> ChargeResult:
        status = intent.get("status")
        pid = str(intent.get("id") or "")
        last4 = _card_last4(intent)
        if status == "succeeded":
            return ChargeResult(status=PaymentStatus.SUCCEEDED, gateway_payment_id=pid, card_last4=last4,
                                fee_cents=_fee_cents(intent))
        if status in ("requires_action", "processing"):
            # processing: the outcome arrives by webhook; the hold stays like for 3-D Secure
            return ChargeResult(status=PaymentStatus.REQUIRES_ACTION, gateway_payment_id=pid,
                                client_secret=str(intent.get("client_secret") or ""), card_last4=last4)
        if status == "canceled":
            return ChargeResult(status=PaymentStatus.FAILED, gateway_payment_id=pid, card_last4=last4,
                                message="The payment was canceled.")
        error = _as_dict(intent.get("last_payment_error"))
        return ChargeResult(status=PaymentStatus.DECLINED, gateway_payment_id=pid,
                            message=str(error.get("message") or "Your card was declined."),
                            decline_code=str(error.get("decline_code") or error.get("code") or status or ""),
                            card_last4=last4)

    def lookup(self, *, org_id: int, idempotency_key: str, gateway_payment_id: str = "") -> ChargeResult | None:
        """The PaymentIntent made with `idempotency_key`, as a ChargeResult; None when Stripe has none.

        With gateway_payment_id: GET /v1/payment_intents/{id}. Without (the booking crashed
        before recording Stripe's answer): the Search API on the metadata every intent carries,
        `metadata['idempotency_key']:'<key>'` (https://docs.stripe.com/search). Search is
        eventually consistent (new intents show up "in under a minute", later during an
        outage), which is one reason reconciliation waits a grace period; and should an intent
        still appear after a payment was marked failed, its payment_intent.succeeded webhook
        finds the payment by the same metadata key and refunds it. Only intents whose
        metadata.org_id is this clinic's count. Raises GatewayUnavailable.
        """
        expand = ["payment_method", "latest_charge.balance_transaction"]
        try:
            if gateway_payment_id:
                intent = _as_dict(self._client.v1.payment_intents.retrieve(gateway_payment_id,
                                                                           params={"expand": expand}))
                return self._result(intent)
            found = self._client.v1.payment_intents.search(params={
                "query": f"metadata['idempotency_key']:'{idempotency_key}'", "expand": [f"data.{e}" for e in expand]})
        except stripe.StripeError as exc:
            raise GatewayUnavailable("The payment service is not answering.",
                                     cause=f"{type(exc).__name__}: {exc.user_message}") from exc
        intents = [_as_dict(i) for i in (_as_dict(found).get("data") or [])]
        ours = [i for i in intents if str((i.get("metadata") or {}).get("org_id")) == str(org_id)]
        return self._result(ours[0]) if ours else None

    def setup_card(self, request: SetupRequest) -> SetupResult:
        """Save request.payment_method_id (made by Stripe.js) for off-session charges: a Customer
        (request.customer_id, else a new one with the email and name, idempotency key
        "<key>-customer") and a confirmed SetupIntent with usage=off_session
        (https://docs.stripe.com/payments/save-and-reuse), metadata org_id and idempotency_key
        (the webhook finds its setup by them). Returns SetupResult succeeded (card brand, last4,
        expiry), requires_action (client_secret for stripe.handleNextAction), declined
        (Stripe's message and decline code). Raises ValidationFailed({"card_number": ...})
        without or with an unknown payment method, GatewayUnavailable when Stripe cannot answer."""
        if not request.payment_method_id:
            raise ValidationFailed({"card_number": "Enter your card details."})
        key = request.idempotency_key
        try:
            customer = request.customer_id
            if not customer:
                created = _as_dict(self._client.v1.customers.create(
                    params={"email": request.email or None, "name": request.name or None,
                            "metadata": {"org_id": str(request.org_id)}},
                    options={"idempotency_key": f"{key}-customer"}))
                customer = str(created.get("id") or "")
            intent = self._client.v1.setup_intents.create(params={
                "customer": customer, "payment_method": request.payment_method_id, "confirm": True,
                "usage": "off_session", "payment_method_types": ["card"],
                "metadata": {"org_id": str(request.org_id), "idempotency_key": key,
                             **{k: str(v) for k, v in request.metadata.items()}},
                "expand": ["payment_method"]}, options={"idempotency_key": key})
        except stripe.CardError as exc:
            err = _card_error(exc)
            seti = _as_dict(err.get("setup_intent"))
            return SetupResult(status="declined", setup_intent_id=str(seti.get("id") or ""),
                               message=exc.user_message or "Your card was declined.",
                               decline_code=str(err.get("decline_code") or exc.code or ""))
        except stripe.StripeError as exc:
            raise _not_a_card_answer(exc, "The card could not be saved. Please try again.") from exc
        return self._setup_result(_as_dict(intent), customer)

    @staticmethod
    def _setup_result(intent: dict, customer: str = "") -> SetupResult:
        """A SetupIntent (payment_method expanded or an id) as a SetupResult."""
        pm = intent.get("payment_method")
        pm = _as_dict(pm) if not isinstance(pm, str) else {"id": pm}
        card = _as_dict(pm.get("card"))
        status = intent.get("status")
        common = dict(setup_intent_id=str(intent.get("id") or ""), payment_method_id=str(pm.get("id") or ""),
                      customer_id=str(intent.get("customer") or customer or ""), brand=str(card.get("brand") or ""),
                      last4=str(card.get("last4") or ""), exp_month=int(card.get("exp_month") or 0),
                      exp_year=int(card.get("exp_year") or 0))
        if status == "succeeded":
            return SetupResult(status="succeeded", **common)
        if status in ("requires_action", "processing"):
            return SetupResult(status="requires_action", client_secret=str(intent.get("client_secret") or ""), **common)
        if status == "canceled":
            return SetupResult(status="failed", message="The card setup was canceled.", **common)
        error = _as_dict(intent.get("last_setup_error"))
        return SetupResult(status="declined", message=str(error.get("message") or "Your card was declined."),
                           decline_code=str(error.get("decline_code") or error.get("code") or status or ""), **common)

    def lookup_setup(self, *, org_id: int, idempotency_key: str, setup_intent_id: str = "") -> SetupResult | None:
        """The SetupIntent setup_intent_id (GET /v1/setup_intents/{id}, payment_method
        expanded) as a SetupResult; without an id, None (SetupIntents have no search: a setup
        whose id was never recorded is left to its setup_intent.* webhook). Only an intent whose
        metadata.org_id is this clinic's counts. Raises GatewayUnavailable."""
        if not setup_intent_id:
            return None
        try:
            intent = _as_dict(self._client.v1.setup_intents.retrieve(setup_intent_id,
                                                                     params={"expand": ["payment_method"]}))
        except stripe.InvalidRequestError:
            return None
        except stripe.StripeError as exc:
            raise GatewayUnavailable("The payment service is not answering.",
                                     cause=f"{type(exc).__name__}: {exc.user_message}") from exc
        if str((intent.get("metadata") or {}).get("org_id")) != str(org_id):
            return None
        return self._setup_result(intent)

    def payment_intent_metadata(self, gateway_payment_id: str) -> dict:
        """The metadata of PaymentIntent gateway_payment_id (GET /v1/payment_intents/{id}):
        the webhook finds a dispute's clinic by its org_id. Raises GatewayUnavailable."""
        try:
            intent = _as_dict(self._client.v1.payment_intents.retrieve(gateway_payment_id))
        except stripe.StripeError as exc:
            raise GatewayUnavailable("The payment service is not answering.",
                                     cause=f"{type(exc).__name__}: {exc.user_message}") from exc
        return dict(intent.get("metadata") or {})

    def cancel(self, *, org_id: int, idempotency_key: str, gateway_payment_id: str) -> ChargeResult:
        """Cancel PaymentIntent gateway_payment_id (POST /v1/payment_intents/{id}/cancel,
        idempotency key "cancel-<charge key>"): failed when canceled; when Stripe refuses
        because the intent moved on (it succeeded meanwhile), its current state. Raises
        GatewayUnavailable."""
        try:
            intent = self._client.v1.payment_intents.cancel(
                gateway_payment_id, options={"idempotency_key": f"cancel-{idempotency_key}"})
        except stripe.InvalidRequestError:
            current = self.lookup(org_id=org_id, idempotency_key=idempotency_key,
                                  gateway_payment_id=gateway_payment_id)
            return current or ChargeResult(status=PaymentStatus.FAILED, message="The payment was canceled.")
        except stripe.StripeError as exc:
            raise GatewayUnavailable("The payment service is not answering.",
                                     cause=f"{type(exc).__name__}: {exc.user_message}") from exc
        return self._result(_as_dict(intent))

    def refund(self, *, org_id: int, gateway_payment_id: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        """Refund amount_cents (minor units) of PaymentIntent gateway_payment_id.

        Returns RefundResult succeeded (Stripe's status succeeded or pending: the money is on
        its way back) or failed with Stripe's message. Same idempotency_key -> same refund; the
        key is also in the refund's metadata, so a refund.* webhook settles the app's pending
        Refund row whose answer was lost. Raises GatewayUnavailable when Stripe cannot answer
        (connection error, timeout, outage: the refund stays pending and is asked again).
        """
        try:
            refund = self._client.v1.refunds.create(
                params={"payment_intent": gateway_payment_id, "amount": int(amount_cents),
                        "metadata": {"org_id": str(org_id), "idempotency_key": idempotency_key}},
                options={"idempotency_key": idempotency_key})
        except (stripe.InvalidRequestError, stripe.CardError) as exc:
            return RefundResult(status="failed", message=exc.user_message or "The refund was refused.")
        except stripe.StripeError as exc:
            raise GatewayUnavailable("The payment service is not answering. Please try again.",
                                     cause=f"{type(exc).__name__}: {exc.user_message}") from exc
        data = _as_dict(refund)
        ok = data.get("status") in ("succeeded", "pending")
        return RefundResult(status="succeeded" if ok else "failed", gateway_refund_id=str(data.get("id") or ""),
                            message="" if ok else str(data.get("failure_reason") or data.get("status") or ""))
