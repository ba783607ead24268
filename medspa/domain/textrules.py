"""Which characters typed or recorded text may hold: the one place for "invisible" characters.

- `has_invisible(text)`: True when `text` holds a character that shows as nothing or changes
  how the rest is shown: C0/C1 controls and DEL (Unicode category Cc), format characters (Cf:
  bidi overrides and isolates U+202A-U+202E and U+2066-U+2069, marks U+200E/U+200F, zero
  widths U+200B-U+200D, U+2060, U+FEFF, soft hyphen ...), lone surrogates (Cs) and private use
  (Co). A name a signer typed, as the PDF shows it, must be the characters stored.
- `strip_invisible(text, limit)`: the same characters removed, cut to `limit` characters (the
  IP address and user agent an actor brings are recorded this way: never refused, never a
  crash on NUL, which PostgreSQL text refuses).
- `strip_unstorable(text)`: only what PostgreSQL text cannot hold (NUL) or UTF-8 cannot encode
  (lone surrogates) removed, everything else kept as received: for text that arrives from
  outside and is kept, never refused (a client's inbound text), and for search input.
- `has_control(text, multiline=False)` / `refuse_control(text, key, errors, multiline=False)`:
  THE check of free text the clinical record keeps (history, form answers, chart notes,
  override reasons, documents, orders, results, the test catalog). PostgreSQL refuses a NUL
  in text and JSON and a lone surrogate cannot be encoded: either would be a DataError (a 500)
  instead of a message next to the field. Control characters are refused, not removed: what
  a person wrote about their health is kept as written or sent back to them. A one-line field
  allows none; a multi-line one allows tab, newline and return.
"""

from __future__ import annotations

import re
import unicodedata

INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})


def has_invisible(text: str) -> bool:
    """True when `text` holds a control, format (bidi, zero-width), surrogate or private-use character."""
    return any(unicodedata.category(ch) in INVISIBLE_CATEGORIES for ch in text)


def strip_invisible(value: object, limit: int) -> str:
    """`value` without control, format, surrogate and private-use characters, cut to `limit`
    characters; "" for a non-string."""
    if not isinstance(value, str):
        return ""
    if value.isascii() and value.isprintable():
        return value[:limit]
    return "".join(ch for ch in value if unicodedata.category(ch) not in INVISIBLE_CATEGORIES)[:limit]


UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""NUL (PostgreSQL text and JSON refuse it) and lone surrogates (not encodable as UTF-8)."""


def strip_unstorable(value: object) -> str:
    """`value` without the characters PostgreSQL text cannot hold (UNSTORABLE), nothing else
    changed; "" for a non-string."""
    if not isinstance(value, str):
        return ""
    return UNSTORABLE.sub("", value)


CONTROL_MESSAGE = "Remove the invisible control characters"
"""The field message for text with control characters."""

_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def has_control(text: str, *, multiline: bool = False) -> bool:
    """True when `text` holds NUL, another C0 control (multi-line text may hold tab, newline
    and return), DEL, a C1 control or a lone surrogate. A non-string is False (the caller's
    type check reports it)."""
    if not isinstance(text, str):
        return False
    return bool((_MULTI_LINE if multiline else _ONE_LINE).search(text))


def refuse_control(text: str, key: str, errors: dict[str, str], *, multiline: bool = False,
                   message: str = CONTROL_MESSAGE) -> bool:
    """When `text` has control characters (see has_control), set errors[key] = `message`
    (keeping a message already there) and return True; else False. For validators that gather
    field messages and raise ValidationFailed(errors) at the end."""
    if not has_control(text, multiline=multiline):
        return False
    errors.setdefault(key, message)
    return True


__all__ = ["CONTROL_MESSAGE", "INVISIBLE_CATEGORIES", "UNSTORABLE", "has_control", "has_invisible", "refuse_control",
           "strip_invisible", "strip_unstorable"]
