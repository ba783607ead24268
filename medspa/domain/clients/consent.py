"""Marketing consent per channel (email, sms), with the time and source of its last change.

The booleans client.email_marketing_consent / sms_marketing_consent stay the truth; every
place that changes one goes through set_consent (the staff form, the portal, an import that
merges into a client, a merge) or stamp_new_consents (a new client), so *_consent_at and
*_consent_source always say when and where it last changed (migration 0034).
"""

from __future__ import annotations

from datetime import datetime

from medspa.domain.clients.models import Client

CONSENT_SOURCES = ("desk", "import", "portal", "online booking", "merge")
"""Where a marketing consent last changed: the staff form, a client import, the client's
portal, the public booking page, a merge that carried the other record's consent."""
CHANNELS = {"email": "email_marketing_consent", "sms": "sms_marketing_consent"}


def set_consent(client: Client, channel: str, given: bool, *, at: datetime, source: str) -> list | None:
    """Set the client's marketing consent of `channel` ("email" or "sms") and, when it
    changes, the time (`at`, aware UTC) and `source` (one of CONSENT_SOURCES) of that change.
    Returns [old, new] when it changed, else None. Raises ValueError for an unknown channel
    or source (a programming error)."""
    if channel not in CHANNELS or source not in CONSENT_SOURCES:
        raise ValueError(f"consent {channel!r} from {source!r}")
    column = CHANNELS[channel]
    old = bool(getattr(client, column))
    if old == bool(given):
        return None
    setattr(client, column, bool(given))
    setattr(client, f"{column}_at", at)
    setattr(client, f"{column}_source", source)
    return [old, bool(given)]


def stamp_new_consents(client: Client, *, at: datetime, source: str) -> None:
    """A new client's consents given at creation: their time and source (none when not given)."""
    for channel, column in CHANNELS.items():
        if getattr(client, column):
            setattr(client, f"{column}_at", at)
            setattr(client, f"{column}_source", source)


def copy_consent(target: Client, source: Client, channel: str) -> None:
    """Give `target` the consent of `channel` that `source` gave, with its original time and
    source (a merge carries the client's own consent; "merge" when the time is unknown)."""
    column = CHANNELS[channel]
    setattr(target, column, True)
    setattr(target, f"{column}_at", getattr(source, f"{column}_at"))
    setattr(target, f"{column}_source", getattr(source, f"{column}_source") or "merge")
    setattr(target, f"{column}_wording", getattr(source, f"{column}_wording"))
