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


def national_phone(e164: str, region: str | None = None) -> str:
    """How the desk of a clinic in `region` (ISO 3166 alpha-2) reads a stored number: its
    national format when it is a number of that country ("+442079460958", "GB" -> "020 7946
    0958"), else international ("+1 212-555-0123"); without a region, the national format of
    the number's own country (a location's own phone on its booking page); anything that does
    not parse as it is."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if region is None:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    # by country calling code: +44 7911 is Guernsey's range to phonenumbers, yet read as "07911" in London
    if region and number.country_code == phonenumbers.country_code_for_region(region.upper()):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


_PHONE_CHARS = set("0123456789+-(). /")


def phone_search(raw: str, region: str) -> tuple[str | None, str | None]:
    """What a search box's text means as a phone number in a clinic of `region`:
    (the E.164 number when it is a whole valid number, else None; the digits to look for
    inside stored E.164 numbers, else None).

    Only text made of digits and phone punctuation with at least 3 digits counts. A number
    typed in national format loses its trunk prefix ("07700 900" in GB -> "7700900", which
    "+447700900123" contains); one typed with "+" keeps its country code ("+44 77" -> "+4477",
    matched as a prefix by the caller)."""
    text = (raw or "").strip()
    if not text or any(ch not in _PHONE_CHARS for ch in text):
        return None, None
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) < 3:
        return None, None
    exact = None
    try:
        exact = normalize_phone(text, region or "US")
    except ValueError:
        exact = None
    if text.startswith("+"):
        return exact, "+" + digits
    meta = phonenumbers.PhoneMetadata.metadata_for_region((region or "US").upper())
    prefix = (meta.national_prefix or "") if meta else ""
    # "1" (North America) is typed only before a whole 10-digit number; "0" always leads a national one
    if prefix and digits.startswith(prefix) and (prefix != "1" or len(digits) == 11):
        digits = digits[len(prefix):]
    return exact, (digits if len(digits) >= 3 else None)


def example_mobile(region: str) -> str:
    """An example mobile number of `region` in its national format, for a form's placeholder
    ("US" -> "(201) 555-0123", "GB" -> "07400 123456"); "" for an unknown region."""
    number = phonenumbers.example_number_for_type(region.upper(), phonenumbers.PhoneNumberType.MOBILE) if region \
        else None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL) if number else ""
