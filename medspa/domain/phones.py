"""How a phone number is shown to people (stored E.164, shown international)."""

from __future__ import annotations

import phonenumbers


def display_phone(e164: str) -> str:
    """+12125550123 -> "+1 212-555-0123" (phonenumbers' international format); anything that
    does not parse is returned as it is."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def display_address(channel: str, address: str) -> str:
    """A message's address as people read it: an SMS number through display_phone, an email
    address as it is."""
    return display_phone(address) if channel == "sms" else address


def normalise_phone(text: str, region: str = "US") -> str:
    """A phone number as typed ("(212) 555-0123", "+44 20 7946 0958") -> E.164 ("+12125550123").
    `region`: ISO country for numbers typed without a country code. Raises ValueError with a
    message for people when it is not a possible, valid number."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Enter a phone number like +1 212 555 0123") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("This is not a valid phone number: check the digits and the country code")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
