"""Money is integer minor units (cents) with a currency. One rounding rule: ROUND_HALF_UP.

Parsing "19.99" goes through Decimal, never float (acceptance case MN-1: float gives 1998).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_currency

ROUNDING = ROUND_HALF_UP


class InvalidAmount(ValueError):
    """The text is not an amount of money (message is user-facing)."""


def parse_to_cents(text: str | int | Decimal) -> int:
    """"19.99" -> 1999. Accepts at most two decimals, no negatives; raises InvalidAmount."""
    try:
        value = Decimal(str(text).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise InvalidAmount("Enter an amount like 19.99") from exc
    if not value.is_finite() or value < 0:
        raise InvalidAmount("Enter an amount of zero or more")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidAmount("Use at most two decimals")
    return int((value * 100).to_integral_value(rounding=ROUNDING))


def apply_percentage(cents: int, percent: str | Decimal) -> int:
    """cents + percent% of cents, rounded half-up to whole cents (110 + 7% -> 118; 150 + 7% -> 161)."""
    total = Decimal(cents) * (Decimal(100) + Decimal(str(percent))) / Decimal(100)
    return int(total.to_integral_value(rounding=ROUNDING))


def format_money(cents: int, currency: str, locale: str = "en_US") -> str:
    """1999, "USD" -> "$19.99" (Babel, per locale)."""
    return format_currency(Decimal(cents) / 100, currency, locale=locale)
