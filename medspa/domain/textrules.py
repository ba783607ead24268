"""Which characters typed or recorded text may hold: the one place for "invisible" characters.

- `has_invisible(text)`: True when `text` holds a character that shows as nothing or changes
  how the rest is shown: C0/C1 controls and DEL (Unicode category Cc), format characters (Cf:
  bidi overrides and isolates U+202A-U+202E and U+2066-U+2069, marks U+200E/U+200F, zero
  widths U+200B-U+200D, U+2060, U+FEFF, soft hyphen ...), lone surrogates (Cs) and private use
  (Co). A name a signer typed, as the PDF shows it, must be the characters stored.
- `strip_invisible(text, limit)`: the same characters removed, cut to `limit` characters (the
  IP address and user agent an actor brings are recorded this way: never refused, never a
  crash on NUL, which PostgreSQL text refuses).
"""

from __future__ import annotations

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


__all__ = ["INVISIBLE_CATEGORIES", "has_invisible", "strip_invisible"]
