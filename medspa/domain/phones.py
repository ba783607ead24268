"""Phone numbers: read from people (normalize_phone, to E.164), shown to people (international)."""

from __future__ import annotations

import phonenumbers


def display_phone(e164: str) -> str:
    """+12125550123 -> "+1 212-555-0123" (phonenumbers' international format); anything that
    does not parse is returned as it is."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def national_phone(e164: str) -> str:
    """+12125550123 -> "(212) 555-0123" (the number's national format, as people of its country
    dial it); anything that does not parse is returned as it is."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def display_address(channel: str, address: str) -> str:
    """A message's address as people read it: an SMS number through display_phone, an email
    address as it is."""
    return display_phone(address) if channel == "sms" else address


def normalize_phone(raw: str, region: str = "US") -> str:
    """"(212) 555-0123" -> "+12125550123" (E.164); `region` (ISO 3166 alpha-2) is the country of
    a number written without +country code. Raises ValueError with a user message."""
    try:
        number = phonenumbers.parse(raw, region or None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Enter a phone number like (212) 555-0123 or +44 20 7946 0958") from exc
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise ValueError("This phone number is not valid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
