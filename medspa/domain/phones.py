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
