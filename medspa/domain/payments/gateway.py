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
    # a saved card (SavedCard.gateway_customer_id / payment_method_id) charged while the client
    # is not there: a card that needs authentication answers requires_action (Stripe's
    # authentication_required), never a 3-D Secure page
    customer_id: str = ""
    off_session: bool = False


@dataclass
class SetupRequest:
    """Save a card for later off-session charges (a Stripe SetupIntent with usage=off_session).

    card: raw input for the offline test gateway (never stored); payment_method_id: Stripe's
    pm_... made by Stripe.js on the page. customer_id: the client's gateway customer when they
    have one already ("" makes a new one); email / name describe a new customer.
    idempotency_key: "setup-<appointment id>-attempt-<n>": the same key replays the answer."""

    org_id: int
    idempotency_key: str
    card: CardDetails | None = None
    payment_method_id: str | None = None
    customer_id: str = ""
    email: str = ""
    name: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class SetupResult:
    """A card setup's outcome. status: succeeded (the card is saved: payment_method_id,
    customer_id, brand, last4, exp_month, exp_year filled) | requires_action (the client must
    authenticate: client_secret for the page) | declined (message, decline_code) | failed
    (canceled). setup_intent_id: the gateway's seti_..."""

    status: str
    setup_intent_id: str = ""
    payment_method_id: str = ""
    customer_id: str = ""
    brand: str = ""
    last4: str = ""
    exp_month: int = 0
    exp_year: int = 0
    client_secret: str = ""
    message: str = ""
    decline_code: str = ""


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

    def setup_card(self, request: SetupRequest) -> SetupResult:
        """Save a card for off-session use (SetupIntent); same idempotency key -> same answer.
        Raises ValidationFailed for bad card input, GatewayUnavailable when it cannot answer."""

    def lookup_setup(self, *, org_id: int, idempotency_key: str, setup_intent_id: str = "") -> SetupResult | None:
        """What became of the setup made with `idempotency_key` (or setup_intent_id): its
        current SetupResult, None when the gateway never saw it. Raises GatewayUnavailable."""

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


# Stripe's test cards for saving a card (https://docs.stripe.com/testing#regulatory-cards,
# #declined-payments): number -> (setup outcome, what a later off-session charge does).
# "succeed" | "authentication_required" (the bank asks for authentication every time) |
# "decline" (attaching succeeds, charging fails). Declining numbers of TEST_CARD_OUTCOMES
# are declined at setup already.
TEST_SETUP_CARDS: dict[str, tuple[str, str]] = {
    "4242424242424242": ("succeeded", "succeed"),
    "5555555555554444": ("succeeded", "succeed"),
    "4000002500003155": ("requires_action", "succeed"),  # authenticated once at setup, then exempt
    "4000002760003184": ("requires_action", "authentication_required"),  # authentication on every charge
    "4000000000000341": ("succeeded", "decline"),  # saves fine, declines when charged
}
AUTHENTICATION_REQUIRED_MESSAGE = ("This card needs the cardholder to authenticate the payment "
                                   "(the bank asked for 3-D Secure).")


def card_brand(digits: str) -> str:
    """The card network by the number's leading digits (IIN ranges): "visa", "mastercard",
    "amex", "discover", else "card"."""
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in {"51", "52", "53", "54", "55"} or (digits[:4].isdigit() and 2221 <= int(digits[:4]) <= 2720):
        return "mastercard"
    if digits[:2] in {"34", "37"}:
        return "amex"
    if digits.startswith("6011") or digits.startswith("65"):
        return "discover"
    return "card"


def _pm_key(payment_method_id: str) -> str:
    """The test gateway's memory row of a saved payment method (in test_gateway_charge)."""
    return f"pm:{payment_method_id}"


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

    def _stored(self, org_id: int, key: str) -> dict | None:
        with tenant_session(org_id, self._engine) as session:
            row = session.exec(select(TestGatewayCharge).where(TestGatewayCharge.idempotency_key == key)).first()
            return dict(row.result) if row is not None else None

    def _now_utc(self) -> datetime:
        from datetime import timezone

        return self._now() if self._now else datetime.now(timezone.utc)

    def setup_card(self, request: SetupRequest) -> SetupResult:
        """Save a test card (TEST_SETUP_CARDS: 4242... and 5555... succeed, 4000002500003155 and
        4000002760003184 need authentication first, 4000000000000341 saves but declines later;
        TEST_CARD_OUTCOMES' declining numbers decline). What a later charge of the saved
        payment method does is kept in test_gateway_charge under "pm:<id>": brand, last4,
        expiry and the behaviour, never the number. A reused idempotency key replays.
        Raises ValidationFailed for missing or bad card input."""
        if request.card is None:
            raise ValidationFailed({"card_number": "Enter your card details."})
        validate_card(request.card, self._now_utc())
        card = request.card

        def compute() -> dict:
            digits = card.digits
            seti = "seti_test_" + secrets.token_hex(12)
            if digits not in TEST_SETUP_CARDS:
                _, code, message = TEST_CARD_OUTCOMES.get(digits, (
                    PaymentStatus.DECLINED, "test_mode_live_card",
                    "Test payments accept test cards only, such as 4242 4242 4242 4242."))
                if code == "":  # a charge-only test number (3-D Secure on charges): not for saving
                    code, message = "card_declined", "Your card was declined."
                return asdict(SetupResult(status="declined", setup_intent_id=seti, message=message,
                                          decline_code=code, last4=card.last4))
            status, behaviour = TEST_SETUP_CARDS[digits]
            year = int(card.exp_year)
            year = year + 2000 if year < 100 else year
            result = SetupResult(status=status, setup_intent_id=seti, payment_method_id="pm_test_" + secrets.token_hex(12),
                                 customer_id=request.customer_id or "cus_test_" + secrets.token_hex(10),
                                 brand=card_brand(digits), last4=card.last4, exp_month=int(card.exp_month),
                                 exp_year=year,
                                 client_secret=(seti + "_secret_" + secrets.token_hex(8)) if status == "requires_action" else "")
            self._replay_or_store(request.org_id, _pm_key(result.payment_method_id),
                                  lambda: {"kind": "payment_method", "behaviour": behaviour,
                                           **{k: v for k, v in asdict(result).items() if k != "client_secret"}})
            return asdict(result)

        return SetupResult(**self._replay_or_store(request.org_id, request.idempotency_key, compute))

    def lookup_setup(self, *, org_id: int, idempotency_key: str, setup_intent_id: str = "") -> SetupResult | None:
        """The stored answer of the setup made with `idempotency_key`, None when never seen."""
        stored = self._stored(org_id, idempotency_key)
        return SetupResult(**stored) if stored is not None and "setup_intent_id" in stored else None

    def authenticate_setup(self, *, org_id: int, idempotency_key: str, approve: bool = True) -> SetupResult:
        """The offline stand-in for the client finishing 3-D Secure on a setup that
        requires_action: approve -> succeeded, else failed ("The card was not authenticated.").
        A setup in any other state is returned as it is. Raises NotFound for an unknown key."""
        from medspa.domain.errors import NotFound

        with tenant_session(org_id, self._engine) as session:
            row = session.exec(select(TestGatewayCharge).where(TestGatewayCharge.idempotency_key == idempotency_key)
                               .with_for_update()).first()
            if row is None or "setup_intent_id" not in row.result:
                raise NotFound("card setup")
            if row.result.get("status") == "requires_action":
                row.result = {**row.result, "client_secret": "",
                              **({"status": "succeeded"} if approve else
                                 {"status": "failed", "message": "The card was not authenticated.",
                                  "decline_code": "authentication_failed"})}
                session.add(row)
                session.commit()
            return SetupResult(**row.result)

    def _charge_saved(self, request: ChargeRequest) -> ChargeResult:
        """Charge a payment method saved by setup_card, by the behaviour its test number had."""
        pm = self._stored(request.org_id, _pm_key(request.payment_method_id or ""))
        if pm is None or pm.get("kind") != "payment_method":
            raise ValidationFailed({"card_number": "No such payment method: the saved card is unknown."})
        if request.customer_id and pm.get("customer_id") != request.customer_id:
            raise ValidationFailed({"card_number": "The saved card belongs to another customer."})

        def compute() -> dict:
            pid = "pi_test_" + secrets.token_hex(12)
            last4 = str(pm.get("last4") or "")
            behaviour = pm.get("behaviour")
            if behaviour == "decline":
                return asdict(ChargeResult(status=str(PaymentStatus.DECLINED), gateway_payment_id=pid,
                                           message="Your card was declined.", decline_code="card_declined",
                                           card_last4=last4))
            if behaviour == "authentication_required":
                return asdict(ChargeResult(status=str(PaymentStatus.REQUIRES_ACTION), gateway_payment_id=pid,
                                           message=AUTHENTICATION_REQUIRED_MESSAGE,
                                           decline_code="authentication_required",
                                           client_secret=pid + "_secret_" + secrets.token_hex(8), card_last4=last4))
            return asdict(ChargeResult(status=str(PaymentStatus.SUCCEEDED), gateway_payment_id=pid, card_last4=last4,
                                       fee_cents=card_fee_cents(request.amount_cents)))

        return ChargeResult(**self._replay_or_store(request.org_id, request.idempotency_key, compute))

    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Charge `request` (amount in cents) by Stripe's test card numbers (TEST_CARD_OUTCOMES:
        4242... succeeds, 4000...0002 declines, 4000002500003155 needs 3-D Secure); a reused
        idempotency key replays its stored answer. With payment_method_id (a card saved by
        setup_card; off_session or not) the saved card's behaviour answers: succeeded,
        declined (4000000000000341) or requires_action with decline_code
        authentication_required (4000002760003184). Raises ValidationFailed for missing or bad
        card input or an unknown saved card."""
        if request.card is None and request.payment_method_id:
            return self._charge_saved(request)
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
