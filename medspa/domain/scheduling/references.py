"""The two references every appointment carries (the one place that owns their format).

- display code: what people read, say on the phone and type at the desk. 8 characters of
  Crockford's base32 (`ALPHABET`: digits and capitals without I, L, O, U), 40 bits, unique per
  clinic (UNIQUE (org_id, display_code)); stored bare ("K7M2Q9XD") and shown everywhere as two
  groups of four ("K7M2-Q9XD", `format_display_code`). It is not a secret: it finds a visit
  only for signed-in staff of the clinic (the desk search), never on an anonymous route.
- booking token: the unguessable key of the "manage booking" link and the anonymous API
  lookup (GET /api/v1/{clinic}/bookings/{token}): 192 random bits, URL-safe base64 (32
  characters). Tokens written before migration 0021 (32 lower-case base32 characters, or 22
  URL-safe ones from the demo seed) stay valid.

Migration 0021 gave rows that existed before it a display code computed in SQL from their id
(`medspa_display_code(id)`: a bijection of the id's low 40 bits, so unique without retries);
the bulk demo loader uses the same function. New appointments get a random one
(`new_display_code`) and retry on the rare clash (scheduling.service._insert_reservation).
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
CODE_LENGTH = 8
DISPLAY_CODE_CONSTRAINT = "uq_appointment_display_code"
# what people mistype for a digit (Crockford's decoding rules); U is not in the alphabet
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]+")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def new_display_code() -> str:
    """A random display code: 8 characters of ALPHABET (secrets), bare, e.g. "K7M2Q9XD"."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def new_booking_token() -> str:
    """A fresh booking token: 192 random bits as 32 URL-safe base64 characters."""
    return secrets.token_urlsafe(24)


def format_display_code(code: str) -> str:
    """How a stored (bare) display code is shown everywhere: "K7M2Q9XD" -> "K7M2-Q9XD"."""
    return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LENGTH else code


def normalise_display_code(text: str) -> str | None:
    """The bare display code a person typed, or None when it cannot be one.

    Case-insensitive; spaces, hyphens, underscores and dots are ignored; O reads as 0 and
    I / L as 1 (Crockford). "k7m2-q9xd", " K7M2 Q9XD " and "K7M2Q9XD" all give "K7M2Q9XD".
    """
    if not isinstance(text, str) or len(text) > 40:
        return None
    bare = _SEPARATORS.sub("", text).upper().translate(_LOOKALIKES)
    if len(bare) != CODE_LENGTH or any(ch not in ALPHABET for ch in bare):
        return None
    return bare


def is_booking_token(text: str) -> bool:
    """True when `text` has a booking token's shape (20-64 URL-safe characters). A display
    code never does (8 characters, 9 with its hyphen), so it cannot be used as a token."""
    return isinstance(text, str) and _TOKEN.fullmatch(text) is not None


def manage_url(slug: str, token: str, base_url: str = "") -> str:
    """The "manage booking" link of a booking: `{base_url}/book/{slug}/manage/{token}` (the one
    place that builds it: the booking page's confirmation, the confirmation email). Always the
    booking TOKEN, never the display code. base_url "" gives the path alone (a link on our own
    pages); emails pass Settings.base_url."""
    return f"{base_url.rstrip('/')}/book/{slug}/manage/{token}"


def portal_url(slug: str, base_url: str = "") -> str:
    """The clinic's client portal: `{base_url}/portal/{slug}` (sign-in by emailed code)."""
    return f"{base_url.rstrip('/')}/portal/{slug}"


def portal_forms_url(slug: str, base_url: str = "") -> str:
    """The portal link that lands on the Forms tab after sign-in: `{base_url}/portal/{slug}?tab=forms`
    (the booking confirmation names it so the client fills the intake forms before the visit)."""
    return f"{portal_url(slug, base_url)}?tab=forms"


_MANAGE_LINK = re.compile(r"(/book/[a-z0-9-]+/manage/)[A-Za-z0-9_-]{20,64}")


def hide_manage_tokens(text: str) -> str:
    """`text` with the token of every manage link (manage_url) replaced by "…": what staff may
    read of a message sent to a client (the link acts for the client; the outbox shows the rest)."""
    return _MANAGE_LINK.sub(r"\1…", text or "")


def calendar_url(slug: str, token: str, base_url: str = "") -> str:
    """The booking's "add to calendar" download (.ics, GET /api/v1/{slug}/bookings/{token}/calendar.ics),
    by its TOKEN; base_url as in manage_url."""
    return f"{base_url.rstrip('/')}/api/v1/{slug}/bookings/{token}/calendar.ics"
