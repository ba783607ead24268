"""Free text of the clinical record that PostgreSQL must be able to store: no NUL, no other
control characters (line breaks and tabs only where the field is multi-line), no lone UTF-16
surrogates. One check for documents, orders, results and the test catalog; the same shape as
the shared `refuse_control` so the two can become one."""

from __future__ import annotations

import unicodedata

CONTROL_MESSAGE = "Remove the invisible control characters"
_MULTILINE_OK = frozenset("\n\r\t")


def refuse_control(text: str, key: str, errors: dict[str, str], *, multiline: bool = False) -> None:
    """Add errors[key] = CONTROL_MESSAGE when `text` holds a control character (NUL, escape,
    DEL, C1; line breaks and tabs are allowed when `multiline`) or a lone surrogate, which the
    database cannot store. Leaves `errors` alone otherwise (an existing message for `key` wins)."""
    if key in errors:
        return
    for ch in text:
        if multiline and ch in _MULTILINE_OK:
            continue
        if unicodedata.category(ch) in ("Cc", "Cs"):
            errors[key] = CONTROL_MESSAGE
            return


__all__ = ["CONTROL_MESSAGE", "refuse_control"]
