"""A late-cancel / no-show fee told to the client, in words (payments.fees uses these for the
cancellation notice, the no-show fee message and the waiver message). Amounts are integer cents
formatted in the fee's currency."""

from __future__ import annotations

from medspa.domain.money import format_money
from medspa.domain.payments.models import PolicyFee, PolicyFeeStatus

__all__ = ["client_fee_sentence", "waived_fee_sentence"]


def client_fee_sentence(row: PolicyFee) -> str:
    """What a fee did, told to the client after their own cancellation: "A late-cancellation
    fee of $75.00 applies: $50.00 of your deposit was kept for it and $25.00 was charged to
    your card on file." (or "... the clinic will contact you about the remaining $25.00.", or
    "$25.00 of your deposit is being refunded.")."""
    money = lambda cents: format_money(cents, row.currency)  # noqa: E731
    what = "late-cancellation fee" if row.kind == "late_cancel" else "no-show fee"
    if row.status == PolicyFeeStatus.NONE_DUE:
        return ""
    parts = [f"A {what} of {money(row.fee_cents)} applies"]
    tail = []
    if row.applied_cents:
        tail.append(f"{money(row.applied_cents)} of your deposit was kept for it")
    if row.refund_cents:
        tail.append(f"{money(row.refund_cents)} of your deposit is being refunded")
    if row.charged_cents:
        tail.append(f"{money(row.charged_cents)} was charged to your card on file")
    elif row.charge_cents and row.status == PolicyFeeStatus.CHARGING:
        tail.append(f"{money(row.charge_cents)} is being charged to your card on file")
    elif row.charge_cents and row.status == PolicyFeeStatus.UNPAID:
        tail.append(f"the clinic will contact you about the remaining {money(row.charge_cents)}")
    return parts[0] + (": " + " and ".join(tail) if tail else "") + "."


def waived_fee_sentence(row: PolicyFee, deposit_back_cents: int, card_back_cents: int) -> str:
    """A waived fee told to the client: "Your no-show fee of $75.00 was waived: $75.00 is being
    refunded to your card ($50.00 of your deposit, $25.00 charged to your card on file)." or
    "...was waived: nothing more is due." (integer cents being refunded, by where they came from)."""
    money = lambda cents: format_money(cents, row.currency)  # noqa: E731
    what = "late-cancellation fee" if row.kind == "late_cancel" else "no-show fee"
    head = f"Your {what} of {money(row.fee_cents)} was waived"
    back = deposit_back_cents + card_back_cents
    if not back:
        return f"{head}: nothing more is due."
    parts = ([f"{money(deposit_back_cents)} of your deposit"] if deposit_back_cents else []) + (
        [f"{money(card_back_cents)} charged to your card on file"] if card_back_cents else [])
    return f"{head}: {money(back)} is being refunded to your card ({', '.join(parts)})."
