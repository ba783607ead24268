"""One payment-gateway interface; the offline test gateway lives here, Stripe in stripe_gateway.py.

Every charge carries an idempotency key ("deposit-<appointment id>-attempt-<n>" at booking,
"checkout-<appointment id>-attempt-<n>" at checkout): a gateway replays the stored answer, a
decline included, for a reused key.

Processing fees: every succeeded ChargeResult says what the provider kept (fee_cents). The
offline test gateway charges Stripe's US standard card pricing, 2.9% + 30 cents per successful
card charge (https://stripe.com/pricing), rounded half up to whole cents (medspa.domain.money).
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from medspa.db import tenant_session
from medspa.domain.errors import ValidationFailed
from medspa.domain.money import ROUNDING
from medspa.domain.payments.models import PaymentStatus, TestGatewayCharge


@dataclass
class CardDetails:
    """Raw card input for the offline test gateway (never stored; only last4 is kept)."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str

    @property
    def digits(self) -> str:
        """The number's ASCII digits (spaces and dashes dropped; validate_card refuses the rest)."""
        return "".join(ch for ch in self.number if ch in "0123456789")

    @property
    def last4(self) -> str:
        """The card number's last four digits (shown as "card ending 4242")."""
        return self.digits[-4:]


@dataclass
class ChargeRequest:
    """What to charge: amount_cents in minor units of currency; metadata goes to the gateway."""

    org_id: int
    amount_cents: int
    currency: str
    idempotency_key: str
    description: str = ""
    card: CardDetails | None = None
    payment_method_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class ChargeResult:
    """status: succeeded | declined | requires_action. gateway_payment_id: PaymentIntent id.

    fee_cents: the provider's processing fee for a succeeded charge, in minor units of the
    charge's currency (0 when declined, pending, or not known yet).
    """

    status: str
    gateway_payment_id: str = ""
    message: str = ""
    decline_code: str = ""
    client_secret: str = ""
    card_last4: str = ""
    fee_cents: int = 0


CARD_FEE_PERCENT = Decimal("2.9")
CARD_FEE_FIXED_CENTS = 30
"""Stripe's US standard pricing for domestic cards: 2.9% + 30 cents per successful charge
(https://stripe.com/pricing). Used by the offline test gateway only; Stripe reports its own."""


def card_fee_cents(amount_cents: int) -> int:
    """The test gateway's fee for a successful charge of amount_cents (integer cents):
    2.9% rounded half up to whole cents, + 30 cents (Stripe US standard card pricing,
    https://stripe.com/pricing). 25000 -> 755; 5000 -> 175; 0 -> 0 (nothing charged)."""
    if amount_cents <= 0:
        return 0
    percent = (Decimal(amount_cents) * CARD_FEE_PERCENT / Decimal(100)).to_integral_value(rounding=ROUNDING)
    return int(percent) + CARD_FEE_FIXED_CENTS


@dataclass
class RefundResult:
    """A refund at the gateway: status succeeded | failed."""

    status: str
    gateway_refund_id: str = ""
    message: str = ""


class PaymentGateway(Protocol):
    """What the booking flow needs from a payment provider."""

    name: str

    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Charge now; same idempotency key -> same answer. Raises ValidationFailed for bad card input."""

    def refund(self, *, org_id: int, gateway_payment_id: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        """Refund (part of) a succeeded charge."""

    def lookup(self, *, org_id: int, idempotency_key: str, gateway_payment_id: str = "") -> ChargeResult | None:
        """What became of the charge made with `idempotency_key` (reconciliation asks this
        when the booking crashed before recording the answer): its current ChargeResult, or
        None when the gateway never saw the key (nothing was charged). Raises
        GatewayUnavailable when the gateway cannot answer."""

    def cancel(self, *, org_id: int, idempotency_key: str, gateway_payment_id: str) -> ChargeResult:
        """Cancel a charge still waiting for the customer (3-D Secure): returns the outcome
        after the attempt, `failed` when canceled, `succeeded` when it had completed first."""


def luhn_ok(digits: str) -> bool:
    """Luhn checksum of a card number's digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def validate_card(card: CardDetails, now: datetime) -> None:
    """Field messages for a mistyped card (Stripe's wording); raises ValidationFailed."""
    errors: dict[str, str] = {}
    digits = card.digits
    typed_only_digits = all(ch in "0123456789 -" for ch in card.number)  # no letters, no other scripts' digits
    if not typed_only_digits or not (12 <= len(digits) <= 19) or not luhn_ok(digits):
        errors["card_number"] = "Your card number is invalid."
    if not 1 <= int(card.exp_month or 0) <= 12:
        errors["exp_month"] = "Your card's expiration month is invalid."
    year = int(card.exp_year or 0)
    year = year + 2000 if year < 100 else year
    if year < now.year or (year == now.year and 1 <= int(card.exp_month or 0) < now.month):
        errors["exp_year"] = "Your card's expiration date is in the past."
    elif year > now.year + 25:
        errors["exp_year"] = "Your card's expiration year is invalid."
    if not (card.cvc.isascii() and card.cvc.isdigit() and len(card.cvc) in (3, 4)):
        errors["cvc"] = "Your card's security code is invalid."
    if errors:
        raise ValidationFailed(errors)


# Stripe's documented test cards and their outcomes (stripe.com/docs/testing)
TEST_CARD_OUTCOMES: dict[str, tuple[str, str, str]] = {
    "4242424242424242": (PaymentStatus.SUCCEEDED, "", ""),
    "5555555555554444": (PaymentStatus.SUCCEEDED, "", ""),
    "4000000000000002": (PaymentStatus.DECLINED, "generic_decline", "Your card was declined."),
    "4000000000009995": (PaymentStatus.DECLINED, "insufficient_funds", "Your card has insufficient funds."),
    "4000000000000069": (PaymentStatus.DECLINED, "expired_card", "Your card has expired."),
    "4000000000000127": (PaymentStatus.DECLINED, "incorrect_cvc", "Your card's security code is incorrect."),
    "4000002500003155": (PaymentStatus.REQUIRES_ACTION, "", ""),
}


class TestPaymentGateway:
    """Offline gateway, clearly labelled "test payments": Stripe's test card numbers only.

    A succeeded charge reports fee_cents = card_fee_cents(amount) (2.9% + 30 cents).

    Answers are stored per idempotency key in test_gateway_charge (its own transaction, like
    a remote service), so a retried key replays the first answer, also when two requests
    send the same key at the same moment (the unique key decides which answer is first).
    """

    name = "test"
    __test__ = False

    def __init__(self, engine: Engine, clock_now=None):
        self._engine = engine
        self._now = clock_now

    def _replay_or_store(self, org_id: int, key: str, compute) -> dict:
        with tenant_session(org_id, self._engine) as session:
            row = session.exec(select(TestGatewayCharge).where(TestGatewayCharge.idempotency_key == key)).first()
            if row is not None:
                return row.result
            result = compute()
            session.add(TestGatewayCharge(org_id=org_id, idempotency_key=key, result=result))
            try:
                session.commit()
            except IntegrityError:  # the same key sent at the same moment (two tabs): the first answer stands
                session.rollback()
                return session.exec(select(TestGatewayCharge)
                                    .where(TestGatewayCharge.idempotency_key == key)).one().result
            return result

    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Charge `request` (amount in cents) by Stripe's test card numbers (TEST_CARD_OUTCOMES:
        4242... succeeds, 4000...0002 declines, 4000002500003155 needs 3-D Secure); a reused
        idempotency key replays its stored answer. Raises ValidationFailed for missing or bad card
        input."""
        if request.card is None:
            raise ValidationFailed({"card_number": "Enter your card details."})
        from datetime import datetime, timezone

        validate_card(request.card, self._now() if self._now else datetime.now(timezone.utc))
        card = request.card

        def compute() -> dict:
            status, code, message = TEST_CARD_OUTCOMES.get(
                card.digits,
                (PaymentStatus.DECLINED, "test_mode_live_card",
                 "Test payments accept test cards only, such as 4242 4242 4242 4242."))
            pid = "pi_test_" + secrets.token_hex(12)
            secret = (pid + "_secret_" + secrets.token_hex(8)) if status == PaymentStatus.REQUIRES_ACTION else ""
            fee = card_fee_cents(request.amount_cents) if status == PaymentStatus.SUCCEEDED else 0
            return asdict(ChargeResult(status=str(status), gateway_payment_id=pid, message=message, decline_code=code,
                                       client_secret=secret, card_last4=card.last4, fee_cents=fee))

        return ChargeResult(**self._replay_or_store(request.org_id, request.idempotency_key, compute))

    def lookup(self, *, org_id: int, idempotency_key: str, gateway_payment_id: str = "") -> ChargeResult | None:
        """The stored answer for `idempotency_key` (test_gateway_charge), None when the key
        was never charged."""
        with tenant_session(org_id, self._engine) as session:
            row = session.exec(select(TestGatewayCharge)
                               .where(TestGatewayCharge.idempotency_key == idempotency_key)).first()
            return ChargeResult(**row.result) if row is not None else None

    def cancel(self, *, org_id: int, idempotency_key: str, gateway_payment_id: str) -> ChargeResult:
        """A stored requires_action answer becomes failed ("The payment was canceled."), like a
        canceled PaymentIntent; any other stored answer is returned as it is."""
        with tenant_session(org_id, self._engine) as session:
            row = session.exec(select(TestGatewayCharge).where(TestGatewayCharge.idempotency_key == idempotency_key)
                               .with_for_update()).first()
            if row is None:
                return ChargeResult(status=PaymentStatus.FAILED, message="The payment was canceled.")
            if row.result.get("status") == PaymentStatus.REQUIRES_ACTION:
                row.result = {**row.result, "status": str(PaymentStatus.FAILED), "client_secret": "",
                              "message": "The payment was canceled."}
                session.add(row)
                session.commit()
            return ChargeResult(**row.result)

    def refund(self, *, org_id: int, gateway_payment_id: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        """Refund `amount_cents` of test charge `gateway_payment_id`; a reused idempotency key
        replays its stored answer."""
        result = self._replay_or_store(
            org_id, idempotency_key,
            lambda: asdict(RefundResult(status="succeeded", gateway_refund_id="re_test_" + secrets.token_hex(12))))
        return RefundResult(**result)
