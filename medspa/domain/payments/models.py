"""Payments, refunds and the client ledger, all in integer cents with a currency."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp


class PaymentStatus(StrEnum):
    """A payment attempt's status (the `payment.status` column holds these values)."""

    PENDING = "pending"  # recorded before the gateway call: the outcome is not known yet
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    FAILED = "failed"  # never charged: refused before charging, or the intent was canceled
    REQUIRES_ACTION = "requires_action"  # 3-D Secure pending
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


# money the clinic received on the payment (some of it may have been refunded)
CAPTURED_PAYMENT_STATUSES = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
# the gateway may still take money on these: a hold with one is never silently expired (pending)
# and reconciliation asks the gateway about them
OPEN_PAYMENT_STATUSES = (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION)


class Payment(SQLModel, table=True):
    """One charge attempt at a gateway.

    status: pending (committed before the gateway is called: outcome unknown), succeeded,
    declined, failed (never charged), requires_action (3-D Secure pending), refunded,
    partially_refunded; a status only moves forward (payments.service.apply_charge_outcome).
    purpose: deposit (at booking) or balance (at checkout).
    idempotency_key is "deposit-<appointment id>-attempt-<n>" or "checkout-<appointment
    id>-attempt-<n>": the gateway replays its stored answer for a reused key (Stripe's
    idempotency keys). fee_cents: the gateway's processing fee for a succeeded charge
    (ChargeResult.fee_cents, integer cents; 0 when unknown); the ledger carries it as a
    processing_fee line, and a refund does not return it (Stripe keeps its fee).
    reconcile_after: set while the payment's fate is not settled (pending, 3-D Secure, a
    refund that failed): from this instant (aware UTC) the reconciliation job
    (payments/reconcile.py) may claim it; NULL once settled. reconcile_attempts: how often
    the job tried and could not settle it (its back-off).
    """

    __tablename__ = "payment"
    __table_args__ = (UniqueConstraint("org_id", "idempotency_key", name="uq_payment_idempotency"),
                      Index("ix_payment_unsettled", "org_id", "reconcile_after",
                            postgresql_where=text("reconcile_after is not null")))
    id: int | None = pk()
    org_id: int = org_fk()
    appointment_id: int | None = fk("appointment.id", nullable=True)
    client_id: int | None = fk("client.id", nullable=True)
    purpose: str = "deposit"
    amount_cents: int
    currency: str = Field(default="USD", max_length=3)
    status: str
    gateway: str
    gateway_payment_id: str | None = Field(default=None, index=True)
    idempotency_key: str
    failure_message: str = ""
    card_last4: str = ""
    fee_cents: int = 0
    created_at: datetime = tstamp(default_now=True)
    reconcile_after: datetime | None = tstamp()
    reconcile_attempts: int = 0


class RefundStatus(StrEnum):
    """A refund's fate: pending (recorded with its idempotency key before the gateway call;
    the gateway has not answered yet), succeeded (the money is on its way back: its ledger
    line exists), failed (the gateway refused it: nothing went back; a next try uses a new key)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Refund(SQLModel, table=True):
    """Money returned on a payment (amount_cents > 0, integer cents).

    status: RefundStatus. idempotency_key: "refund-<payment id>-<n>" for a refund the app
    asked for (NULL for one only reported by a Stripe event). entry_type: the negative ledger
    line written when it succeeds (deposit_refunded, sale_refunded, charge_voided).
    reconcile_after: set while pending, from this instant (aware UTC) the reconciliation job
    asks the gateway again with the same key and amount; NULL once settled.
    reconcile_attempts: its back-off. failure_message: the gateway's reason for a failed one.
    """

    __tablename__ = "refund"
    __table_args__ = (Index("uq_refund_idempotency", "org_id", "idempotency_key", unique=True,
                            postgresql_where=text("idempotency_key is not null")),
                      Index("ix_refund_unsettled", "org_id", "reconcile_after",
                            postgresql_where=text("reconcile_after is not null")))
    id: int | None = pk()
    org_id: int = org_fk()
    payment_id: int = fk("payment.id")
    amount_cents: int
    currency: str = Field(default="USD", max_length=3)
    reason: str = ""
    gateway_refund_id: str | None = None
    created_at: datetime = tstamp(default_now=True)
    status: str = RefundStatus.SUCCEEDED
    idempotency_key: str | None = None
    entry_type: str = ""
    failure_message: str = ""
    reconcile_after: datetime | None = tstamp()
    reconcile_attempts: int = 0


class LedgerEntry(SQLModel, table=True):
    """A line on the client's account. amount_cents > 0: money the clinic received or kept.

    entry_type: deposit_paid, deposit_refunded (negative), deposit_forfeited (0, records
    that a late cancellation kept the deposit), charge_voided (negative); at checkout
    (payments/checkout.py): sale (+ the visit's price), deposit_applied (minus the deposit
    already paid that the sale absorbs), sale_refunded (negative, a refund of the balance
    payment); processing_fee (negative, the gateway's fee on one payment, deposit or balance);
    balance_paid (+ a balance payment that is not the visit's sale: the visit was checked
    out by another payment, e.g. a 3-D Secure card confirmed late; always followed by its
    full refund, a sale_refunded line); dispute_withdrawn (negative: a chargeback took the
    disputed amount) and dispute_reinstated (positive: a won dispute gave it back), written
    once per dispute by payments.disputes; refund_reversed (positive: a refund that had
    succeeded was sent back by the card's bank, Stripe's refund.failed; payments.service.
    reverse_refund).
    Policy fees (payments/fees.py, issue 16): fee_from_deposit (0, like deposit_forfeited:
    records that the paid deposit, already counted by deposit_paid, was kept for a late-cancel
    or no-show fee, min(deposit, fee); the rest of the deposit goes back as deposit_refunded),
    fee_charged (+ the remainder of a fee charged off-session to the saved card, with its
    processing_fee line), fee_refunded (negative: a charged fee given back when a manager waived
    it). A fee left unpaid (card needs authentication, declined, no card) writes no line: no
    money moved; its PolicyFee row (status unpaid_needs_action, with the reason) shows on the
    client's profile and the visit.
    The sum of a visit's lines is what the clinic kept for it. One sale per visit: the unique
    partial index uq_ledger_sale_once (migration 0010).
    """

    __tablename__ = "ledger_entry"
    __table_args__ = (Index("uq_ledger_sale_once", "appointment_id", unique=True,
                            postgresql_where=text("entry_type = 'sale'")),)
    id: int | None = pk()
    org_id: int = org_fk()
    client_id: int | None = fk("client.id", nullable=True)
    appointment_id: int | None = fk("appointment.id", nullable=True)
    payment_id: int | None = fk("payment.id", nullable=True)
    refund_id: int | None = fk("refund.id", nullable=True)
    entry_type: str
    amount_cents: int
    currency: str = Field(default="USD", max_length=3)
    created_at: datetime = tstamp(default_now=True)


class Dispute(SQLModel, table=True):
    """A chargeback or inquiry a cardholder opened on a payment (Stripe's Dispute object,
    https://docs.stripe.com/api/disputes/object), applied from charge.dispute.* webhooks.

    gateway_dispute_id: Stripe's dp_... (unique per clinic). amount_cents: the disputed amount
    (integer minor units of currency). reason: Stripe's (fraudulent, product_not_received,
    ...). status: Stripe's, moved forward only (payments.disputes.STATUS_RANK):
    warning_needs_response / needs_response -> warning_under_review / under_review ->
    warning_closed / won / lost / prevented (final). evidence_due_by: when the clinic must
    answer (aware UTC; None when Stripe gives none). funds_withdrawn / funds_reinstated: the
    ledger lines dispute_withdrawn (-amount) and dispute_reinstated (+amount) were written
    (each once). created_at / updated_at: aware UTC."""

    __tablename__ = "dispute"
    __table_args__ = (UniqueConstraint("org_id", "gateway_dispute_id", name="uq_dispute_gateway_id"),)
    id: int | None = pk()
    org_id: int = org_fk()
    payment_id: int = fk("payment.id")
    gateway_dispute_id: str = Field(sa_column=Column(String(100), nullable=False))
    amount_cents: int
    currency: str = Field(default="USD", max_length=3)
    reason: str = ""
    status: str
    evidence_due_by: datetime | None = tstamp()
    funds_withdrawn: bool = False
    funds_reinstated: bool = False
    created_at: datetime = tstamp(default_now=True)
    updated_at: datetime = tstamp(default_now=True)


class WebhookEvent(SQLModel, table=True):
    """A gateway event received once (unique per gateway and event id): duplicates do nothing."""

    __tablename__ = "webhook_event"
    __table_args__ = (UniqueConstraint("gateway", "event_id", name="uq_webhook_event"),)
    id: int | None = pk()
    org_id: int = org_fk()
    gateway: str = "stripe"
    event_id: str
    event_type: str
    received_at: datetime = tstamp(default_now=True)


class TestGatewayCharge(SQLModel, table=True):
    """The offline test gateway's own memory of answers per idempotency key."""

    __tablename__ = "test_gateway_charge"
    __table_args__ = (UniqueConstraint("org_id", "idempotency_key", name="uq_test_gateway_key"),)
    __test__ = False
    id: int | None = pk()
    org_id: int = org_fk()
    idempotency_key: str = Field(sa_column=Column(String(200), nullable=False))
    result: dict = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime = tstamp(default_now=True)


class PolicyFeeStatus(StrEnum):
    """A policy fee's status (policy_fee.status).

    charging: the remainder is being charged to the saved card (its Payment, purpose "fee",
    committed pending before the gateway call; reconciliation settles it if the answer is lost);
    paid: covered by the deposit and/or the card; unpaid_needs_action: the card needs the
    client's authentication, was declined, or there is no card (reason says which): nothing is
    retried automatically; waived: a manager waived it (waive_reason); none_due: the fee came to
    0 cents."""

    CHARGING = "charging"
    PAID = "paid"
    UNPAID = "unpaid_needs_action"
    WAIVED = "waived"
    NONE_DUE = "none_due"


class PolicyFee(SQLModel, table=True):
    """A late-cancel or no-show fee of one visit (payments/fees.py; migration 0039).

    kind: late_cancel | no_show; unique per (org, appointment, kind): a double press, two tabs
    or a retry find the row that exists and never charge twice. All amounts integer cents of
    `currency`: fee_cents (scheduling.policy.fee_due), deposit_cents (the deposit paid then),
    applied_cents = min(deposit, fee) (kept from the deposit), refund_cents = max(0, deposit -
    fee) (given back), charge_cents = max(0, fee - deposit) (due from the card), charged_cents
    (what the card actually paid); fee + refund == deposit + charge (a check constraint).
    payment_id: the latest off-session charge attempt (idempotency key
    "fee-<appointment id>-<kind>-attempt-<n>"); attempts: how many were made. reason: why an
    unpaid fee needs action ("The card needs the client's authentication", a decline message,
    "No card on file"). card_label: "Visa ••4242" of the card charged or tried.
    """

    __tablename__ = "policy_fee"
    __table_args__ = (UniqueConstraint("org_id", "appointment_id", "kind", name="uq_policy_fee_once"),)
    id: int | None = pk()
    org_id: int = org_fk()
    appointment_id: int = fk("appointment.id", index=False)
    client_id: int | None = fk("client.id", nullable=True)
    kind: str = Field(sa_column=Column(String(12), nullable=False))
    status: str = Field(sa_column=Column(String(24), nullable=False))
    fee_cents: int
    deposit_cents: int = 0
    applied_cents: int = 0
    refund_cents: int = 0
    charge_cents: int = 0
    charged_cents: int = 0
    currency: str = Field(default="USD", max_length=3)
    reason: str = ""
    card_label: str = Field(default="", max_length=40)
    payment_id: int | None = fk("payment.id", nullable=True)
    attempts: int = 0
    waive_reason: str = ""
    waived_by_user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    waived_at: datetime | None = tstamp()
    created_at: datetime = tstamp(default_now=True)
    updated_at: datetime = tstamp(default_now=True)


class SavedCard(SQLModel, table=True):
    """A client's card kept at the gateway for later off-session charges (a Stripe
    PaymentMethod attached to a Customer, or the offline test gateway's equivalent).

    Never the card number: only the gateway's ids and what is shown ("Visa ••4242").
    gateway: PaymentGateway.name ("stripe" | "test"). gateway_customer_id: Stripe's cus_...
    payment_method_id: Stripe's pm_... (unique per clinic). brand: lower-case card network
    ("visa", "mastercard", ...). exp_month 1-12, exp_year four digits. created_at / removed_at:
    aware UTC (removed_at None while the card may be charged)."""

    __tablename__ = "saved_card"
    __table_args__ = (UniqueConstraint("org_id", "payment_method_id", name="uq_saved_card_payment_method"),)
    id: int | None = pk()
    org_id: int = org_fk()
    client_id: int = fk("client.id")
    gateway: str = Field(sa_column=Column(String(20), nullable=False))
    gateway_customer_id: str = Field(default="", sa_column=Column(String(100), nullable=False, server_default=""))
    payment_method_id: str = Field(sa_column=Column(String(100), nullable=False))
    brand: str = Field(default="", sa_column=Column(String(30), nullable=False, server_default=""))
    last4: str = Field(default="", sa_column=Column(String(4), nullable=False, server_default=""))
    exp_month: int = 0
    exp_year: int = 0
    created_at: datetime = tstamp(default_now=True)
    removed_at: datetime | None = tstamp()


class CardSetupStatus(StrEnum):
    """A card setup's status (`card_setup.status`): pending (recorded before the gateway is
    called), requires_action (the client must authenticate, 3-D Secure), succeeded (the card
    is saved: saved_card_id), declined (the gateway refused the card), failed (never set up:
    refused input, canceled)."""

    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    FAILED = "failed"


OPEN_CARD_SETUP_STATUSES = (CardSetupStatus.PENDING, CardSetupStatus.REQUIRES_ACTION)


class CardSetup(SQLModel, table=True):
    """One attempt to save a client's card (a Stripe SetupIntent), like Payment is one charge
    attempt: committed `pending` with its idempotency key "setup-<appointment id>-attempt-<n>"
    before the gateway is called, so the webhook (setup_intent.succeeded) or reconciliation
    can settle it when the booking never heard the answer.

    appointment_id: the booking waiting for the card (None for a card saved outside a
    booking). setup_intent_id: the gateway's seti_... (indexed; "" before the gateway
    answered). status: CardSetupStatus, moved forward only (payments.cards.apply_setup_outcome).
    saved_card_id: the card it saved. reconcile_after: while open, from this instant (aware
    UTC) reconciliation may ask the gateway; NULL once settled."""

    __tablename__ = "card_setup"
    __table_args__ = (UniqueConstraint("org_id", "idempotency_key", name="uq_card_setup_idempotency"),)
    id: int | None = pk()
    org_id: int = org_fk()
    client_id: int = fk("client.id")
    appointment_id: int | None = fk("appointment.id", nullable=True)
    gateway: str = Field(sa_column=Column(String(20), nullable=False))
    idempotency_key: str = Field(sa_column=Column(String(200), nullable=False))
    setup_intent_id: str = Field(default="", sa_column=Column(String(100), nullable=False, server_default="",
                                                              index=True))
    status: str = CardSetupStatus.PENDING
    saved_card_id: int | None = fk("saved_card.id", nullable=True)
    failure_message: str = ""
    decline_code: str = ""
    created_at: datetime = tstamp(default_now=True)
    settled_at: datetime | None = tstamp()
    reconcile_after: datetime | None = tstamp()
