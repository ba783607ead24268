"""THE check for control characters in free text the clinical record keeps (issue 17).

PostgreSQL refuses a NUL byte in a text column and in JSON ("\\u0000"), and a lone surrogate
(a JSON "\\ud800" decodes to one) cannot be encoded as UTF-8: either one reaching the database
is a DataError (a 500) instead of a message next to the field. The other control characters
(C0 but the whitespace allowed below, DEL, C1) are invisible and never meant in typed text, so
they are refused too, not silently removed: what a person wrote about their health is kept as
written or sent back to them.

- `has_control(text, multiline=False)`: True when `text` holds such a character. A one-line
  field allows none (tab, newline and return included); a multi-line one allows tab, newline
  and return.
- `refuse_control(text, key, errors, multiline=False)`: the validators' form: puts
  CONTROL_MESSAGE under `key` in `errors` (a ValidationFailed's field dict) and returns True.

Every free-text validator of the clinical record uses it (medical history sections, intake
form answers, chart notes and products, override reasons); pages clean typed text with
medspa.web.inputs.clean_text first, this is the domain's own guard for every other caller
(API, jobs, a handler given junk). Pure: no database.
"""

from __future__ import annotations

import re

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


__all__ = ["CONTROL_MESSAGE", "has_control", "refuse_control"]
