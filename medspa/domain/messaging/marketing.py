"""Marketing is sent only with consent: the one check every marketing message passes
(birthday and review-request messages, campaigns).

Transactional messages (confirmations, reminders, receipts, notices about a visit) need no
marketing consent; marketing ones need the client's recorded express consent for that channel
(client.email_marketing_consent / sms_marketing_consent with its time, source and wording:
clients.consent) and an address that is not suppressed (an SMS number that said STOP is
`opted_out`; an address that bounced is `undeliverable`: messaging.suppression).
"""

from __future__ import annotations

from sqlmodel import Session, select

from medspa.domain.clients.models import Client
from medspa.domain.messaging.models import ContactSuppression
from medspa.domain.messaging.suppression import active_suppression, normal_address
from medspa.domain.messaging.templates import KINDS

NO_CONSENT = "no marketing consent"
NO_ADDRESS = {"email": "no email address", "sms": "no mobile number"}  # by channel: the skip reason
LEGACY_NO_ADDRESS = "no address"  # the reason stored before it named the channel (read by campaign_results)
OPTED_OUT = "opted out"
UNDELIVERABLE = "undeliverable"
CAMPAIGN_KIND = "campaign"  # the outbox kind of a campaign's messages (always marketing)


def is_marketing_kind(kind: str) -> bool:
    """Whether outbox messages of `kind` are marketing: a campaign's, or a template kind marked
    marketing (messaging.templates.KINDS: review request, birthday). Marketing emails carry
    the List-Unsubscribe headers (messaging.claims)."""
    return kind == CAMPAIGN_KIND or bool(getattr(KINDS.get(kind), "marketing", False))


def address_of(client: Client, channel: str) -> str:
    """The client's address on `channel`: the email, or the E.164 mobile number ("" when none)."""
    return (client.email if channel == "email" else client.phone_e164) or ""


def marketing_refusal(session: Session, client: Client, channel: str) -> str:
    """Why a marketing message on `channel` ("email" / "sms") must not go to `client`, or "" when
    it may: NO_ADDRESS[channel], NO_CONSENT, OPTED_OUT or UNDELIVERABLE (in that order). A merged-away
    client never gets one."""
    reason = _before_suppression(client, channel)
    if reason:
        return reason
    suppression = active_suppression(session, channel, address_of(client, channel))
    if suppression is not None:
        return OPTED_OUT if suppression.kind == "opted_out" else UNDELIVERABLE
    return ""


def _before_suppression(client: Client, channel: str) -> str:
    if client.merged_into_id is not None:
        return NO_CONSENT
    if not address_of(client, channel):
        return NO_ADDRESS[channel]
    consent = client.email_marketing_consent if channel == "email" else client.sms_marketing_consent
    return "" if consent else NO_CONSENT


def marketing_refusals(session: Session, clients: list[Client], channel: str) -> dict[int, str]:
    """marketing_refusal for many clients at once: {client id: reason or ""}, with one query for
    the suppressions of all their addresses (a campaign's segment, its count preview)."""
    out = {c.id: _before_suppression(c, channel) for c in clients}
    addresses = {normal_address(channel, address_of(c, channel)) for c in clients if not out[c.id]}
    kinds: dict[str, str] = {}
    if addresses:
        rows = session.exec(select(ContactSuppression.address, ContactSuppression.kind).where(
            ContactSuppression.channel == channel, ContactSuppression.address.in_(sorted(addresses)))).all()
        kinds = {a: k for a, k in rows}
    for c in clients:
        if not out[c.id]:
            kind = kinds.get(normal_address(channel, address_of(c, channel)))
            if kind is not None:
                out[c.id] = OPTED_OUT if kind == "opted_out" else UNDELIVERABLE
    return out
