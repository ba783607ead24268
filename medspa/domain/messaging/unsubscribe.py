"""The unsubscribe link of a marketing email: `{base}/u/{token}`, where the token names the
clinic, the client and the channel and is signed (HMAC-SHA256 with a key derived from
SECRET_KEY for this purpose only), so nobody can unsubscribe anyone else by guessing ids.
The link never expires (a years-old email must still work). No database here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from medspa.domain.identity.secretbox import signing_secret
from medspa.settings import Settings, get_settings

PATH = "/u/"
_PURPOSE = "unsubscribe"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _sign(payload: str, settings: Settings) -> str:
    return _b64(hmac.new(signing_secret(_PURPOSE, settings), payload.encode(), hashlib.sha256).digest()[:18])


def unsubscribe_token(org_id: int, client_id: int, channel: str = "email", *,
                      settings: Settings | None = None) -> str:
    """The signed token of (clinic, client, channel): "<org>.<client>.<e|s>.<signature>"."""
    settings = settings or get_settings()
    payload = f"{int(org_id)}.{int(client_id)}.{'s' if channel == 'sms' else 'e'}"
    return f"{payload}.{_sign(payload, settings)}"


def unsubscribe_url(org_id: int, client_id: int, channel: str = "email", *, settings: Settings | None = None) -> str:
    """The public unsubscribe link of the client's marketing on `channel` (Settings.base_url)."""
    settings = settings or get_settings()
    return f"{settings.base_url}{PATH}{unsubscribe_token(org_id, client_id, channel, settings=settings)}"


def read_unsubscribe_token(token: str, *, settings: Settings | None = None) -> tuple[int, int, str] | None:
    """(org id, client id, channel) of a valid token, else None (bad shape or signature;
    constant-time comparison)."""
    settings = settings or get_settings()
    parts = (token or "").split(".")
    if len(parts) != 4 or not all(p.isascii() and p.isdigit() and 0 < len(p) <= 18 for p in parts[:2]) \
            or parts[2] not in ("e", "s"):
        return None
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(_sign(payload, settings), parts[3]):
        return None
    return int(parts[0]), int(parts[1]), "sms" if parts[2] == "s" else "email"
