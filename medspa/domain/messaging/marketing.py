"""Marketing is sent only with consent: the one check every marketing message passes
(birthday and review-request messages, campaigns).

Transactional messages (confirmations, reminders, receipts, notices about a visit) need no
marketing consent; marketing ones need the client's recorded express consent for that channel
(client.email_marketing_consent / sms_marketing_consent with its time, source and wording:
clients.consent) and an address that is not suppressed (an SMS number that said STOP is
`opted_out`; an address that bounced is `undeliverable`: messaging.suppression).
"""

from __future__ import annotations

from sqlmodel import Session

from medspa.domain.clients.models import Client
from medspa.domain.messaging.suppression import active_suppression
from medspa.domain.messaging.templates import KINDS

NO_CONSENT = "no marketing consent"
NO_ADDRESS = "no address"
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
    it may: NO_ADDRESS, NO_CONSENT, OPTED_OUT or UNDELIVERABLE (in that order). A merged-away
    client never gets one."""
    if client.merged_into_id is not None:
        return NO_CONSENT
    address = address_of(client, channel)
    if not address:
        return NO_ADDRESS
    consent = client.email_marketing_consent if channel == "email" else client.sms_marketing_consent
    if not consent:
        return NO_CONSENT
    suppression = active_suppression(session, channel, address)
    if suppression is not None:
        return OPTED_OUT if suppression.kind == "opted_out" else UNDELIVERABLE
    return ""
