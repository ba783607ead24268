"""Marketing consent per channel (email, sms), with the time and source of its last change.

The booleans client.email_marketing_consent / sms_marketing_consent stay the truth; every
place that changes one goes through set_consent (the staff form, the portal, an import that
merges into a client, a merge) or stamp_new_consents (a new client), so *_consent_at and
*_consent_source always say when and where it last changed (migration 0034), and a consent
given keeps the exact words the client agreed to (*_consent_wording, migration 0053: the one
wording per channel, `consent_wording`, shown next to every checkbox that gives it).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from medspa.domain.clients.models import Client
from medspa.domain.practice.models import Organization

CONSENT_SOURCES = ("desk", "import", "portal", "online booking", "merge", "sms keyword", "unsubscribe link")
"""Where a marketing consent last changed: the staff form, a client import, the client's
portal, the public booking page, a merge that carried the other record's consent, the client
texting STOP (messaging.inbound), the unsubscribe link of a marketing email."""
CHANNELS = {"email": "email_marketing_consent", "sms": "sms_marketing_consent"}

WORDING = {
    "email": "Yes, send me offers and news from {clinic} by email. I can unsubscribe at any time.",
    "sms": ("Yes, send me offers and news from {clinic} by text message (msg & data rates may apply). "
            "I can reply STOP at any time to stop them."),
}
"""The one wording per channel a client agrees to, with the clinic's name in it."""


def consent_wording(channel: str, clinic_name: str) -> str:
    """The words of the marketing consent of `channel` ("email" / "sms") for clinic
    `clinic_name`, as shown next to the checkbox and stored with the consent. Raises KeyError
    for an unknown channel."""
    return WORDING[channel].format(clinic=(clinic_name or "").strip() or "the clinic")


def clinic_name_of(session: Session, org_id: int) -> str:
    """The clinic's name, as the consent wording names it ("" when the clinic is not found)."""
    org = session.get(Organization, org_id)
    return org.name if org is not None else ""


def set_consent(client: Client, channel: str, given: bool, *, at: datetime, source: str,
                wording: str = "") -> list | None:
    """Set the client's marketing consent of `channel` ("email" or "sms") and, when it
    changes, the time (`at`, aware UTC) and `source` (one of CONSENT_SOURCES) of that change;
    a consent given stores `wording` (what the client agreed to: consent_wording), a
    withdrawal keeps the words of the consent it withdraws. Returns [old, new] when it
    changed, else None. Raises ValueError for an unknown channel or source (a programming
    error)."""
    if channel not in CHANNELS or source not in CONSENT_SOURCES:
        raise ValueError(f"consent {channel!r} from {source!r}")
    column = CHANNELS[channel]
    old = bool(getattr(client, column))
    if old == bool(given):
        return None
    setattr(client, column, bool(given))
    setattr(client, f"{column}_at", at)
    setattr(client, f"{column}_source", source)
    if given and wording:
        setattr(client, f"{column}_wording", wording)
    return [old, bool(given)]


def stamp_new_consents(client: Client, *, at: datetime, source: str, clinic_name: str | None = None) -> None:
    """A new client's consents given at creation: their time, source and wording (the
    consent_wording of `clinic_name`, the words shown next to the checkbox; None: no wording
    recorded, e.g. an import whose consent was given elsewhere). Nothing for a consent not given."""
    for channel, column in CHANNELS.items():
        if getattr(client, column):
            setattr(client, f"{column}_at", at)
            setattr(client, f"{column}_source", source)
            if clinic_name is not None:
                setattr(client, f"{column}_wording", consent_wording(channel, clinic_name))


def copy_consent(target: Client, source: Client, channel: str) -> None:
    """Give `target` the consent of `channel` that `source` gave, with its original time and
    source (a merge carries the client's own consent; "merge" when the time is unknown)."""
    column = CHANNELS[channel]
    setattr(target, column, True)
    setattr(target, f"{column}_at", getattr(source, f"{column}_at"))
    setattr(target, f"{column}_source", getattr(source, f"{column}_source") or "merge")
    setattr(target, f"{column}_wording", getattr(source, f"{column}_wording"))
