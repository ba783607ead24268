"""Ledger entry types in words for the client's profile (one mapping: a new user read "Fee From
Deposit $0.00" as nothing kept though $50.00 of the deposit went to a no-show fee).

A few lines move no money themselves (amount 0: the deposit stays where it is, counted when it
was paid) but say what the deposit became; their words carry the amount that matters, e.g.
"Deposit kept for the fee $50.00" (payments.fees: PolicyFee.applied_cents).
"""

from __future__ import annotations

from medspa.domain.money import format_money

LEDGER_LABELS = {
    "deposit_paid": "Deposit paid",
    "deposit_applied": "Deposit applied to the visit",
    "deposit_refunded": "Deposit refunded",
    "deposit_forfeited": "Deposit kept (late cancellation or no-show)",
    "sale": "Visit price",
    "sale_refunded": "Visit payment refunded",
    "balance_paid": "Paid at checkout",
    "charge_voided": "Charge voided",
    "fee_charged": "Fee charged to the card",
    "fee_from_deposit": "Deposit kept for the fee",
    "fee_refunded": "Fee refunded",
    "refund_reversed": "Refund sent back by the bank",
    "processing_fee": "Card processing fee",
}
"""entry_type -> words; an unknown type reads as its code with spaces ("new_type" -> "New type")."""


def ledger_label(entry_type: str, *, kept_cents: int = 0, currency: str = "USD") -> str:
    """The words of one ledger line. kept_cents (integer cents): for a fee_from_deposit line, how
    much of the deposit the fee kept (PolicyFee.applied_cents), named in the words: "Deposit
    kept for the fee $50.00"."""
    words = LEDGER_LABELS.get(entry_type) or entry_type.replace("_", " ").capitalize()
    if entry_type == "fee_from_deposit" and kept_cents:
        return f"{words} {format_money(kept_cents, currency)}"
    return words
