"""Use cases of the texts clients send: Twilio's inbound webhook (do_receive_twilio_sms), and
the desk's reads and "Mark handled" (inbound.read: everyone who books). Reading a client's
texts is a read of their record: audited like other client reads ("inbound.read").
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.actions import InvalidTwilioRequest, SmsNotConfigured
from medspa.domain.messaging.inbound import (InboundRow, InboundText, flagged_count, knows_number, mark_handled,
                                             orgs_for_number, read_client_texts, read_flagged_texts, receive_text)
from medspa.domain.messaging.twilio import signature_valid
from medspa.domain.textrules import strip_unstorable
from medspa.domain.work import atomic, now_of
from medspa.settings import Settings, get_settings

PERMISSION = "inbound.read"

__all__ = ["InboundRow", "ReceivedText", "do_mark_inbound_handled", "do_receive_twilio_sms", "fetch_client_texts",
           "fetch_flagged_count", "fetch_flagged_texts"]


@dataclass(frozen=True)
class ReceivedText:
    """What one inbound webhook did: per clinic it reached, (org id, "stop" | "start" | "help" |
    "flagged" | "duplicate"); empty when no clinic sends from the receiving number."""

    outcomes: tuple[tuple[int, str], ...]


def _text_of(params: list[tuple[str, str]]) -> InboundText:
    """The text of Twilio's form (after its signature is checked), without the characters
    PostgreSQL text cannot hold (textrules.strip_unstorable: a NUL in "STOP\x00" must not turn
    the webhook into a 500 that Twilio retries while the STOP is never applied)."""
    form = {key: strip_unstorable(value) for key, value in params}
    return InboundText(from_number=form.get("From", "").strip(), to_number=form.get("To", "").strip(),
                       body=form.get("Body", ""), sid=(form.get("MessageSid") or form.get("SmsSid") or "").strip())


def do_receive_twilio_sms(path_and_query: str, params: list[tuple[str, str]], signature: str | None, *,
                          settings: Settings | None = None, clock: Clock | None = None,
                          engine: Engine | None = None) -> ReceivedText:
    """Verify and keep one inbound text (form parameters From, To, Body, MessageSid, in order,
    repeats kept) POSTed by Twilio to `path_and_query` (the signed URL is PUBLIC_BASE_URL + it).

    The text goes to the clinics that send from its `To` number (messaging.inbound.orgs_for_number),
    each in its own tenant transaction (messaging.inbound.receive_text). A clinic's own number
    (or a location's) reaches that clinic; the deployment's shared TWILIO_FROM_NUMBER reaches
    only the clinics sharing it that know the sender (a client with that number, or an SMS sent
    to it), so no clinic sees a stranger's text meant for another. Raises SmsNotConfigured
    without Twilio credentials, InvalidTwilioRequest for a missing or wrong
    X-Twilio-Signature (nothing read or written)."""
    settings = settings or get_settings()
    if not settings.sms_enabled:
        raise SmsNotConfigured("Twilio is not configured")
    if not signature_valid(settings.twilio_auth_token, settings.base_url + path_and_query, params, signature):
        raise InvalidTwilioRequest("bad or missing X-Twilio-Signature")
    sms = _text_of(params)
    if not sms.from_number or not sms.to_number:
        return ReceivedText(())
    shared = bool(settings.twilio_from_number) and sms.to_number == settings.twilio_from_number
    with atomic(None, engine=engine) as work:
        org_ids = orgs_for_number(work.session, sms.to_number, is_default=shared)
    now = now_of(clock)
    outcomes = []
    for org_id in org_ids:
        with atomic(org_id, engine=engine) as work:
            if shared and not knows_number(work.session, sms.from_number):
                continue
            outcomes.append((org_id, receive_text(work.session, org_id, sms, now=now)))
    return ReceivedText(tuple(outcomes))


def fetch_client_texts(actor: Actor, client_id: int, *, clock: Clock | None = None,
                       engine: Engine | None = None) -> list[InboundRow]:
    """The texts client `client_id` sent, flagged first (messaging.inbound.client_texts), with an
    "inbound.read" audit row naming the client. Raises PermissionDenied without inbound.read."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return read_client_texts(work.session, actor, client_id, now=now_of(clock))


def fetch_flagged_texts(actor: Actor, *, clock: Clock | None = None, engine: Engine | None = None) -> list[InboundRow]:
    """The clinic's texts waiting for the desk, oldest first, with an "inbound.read" audit row
    naming the clients shown. Raises PermissionDenied without inbound.read."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return read_flagged_texts(work.session, actor, now=now_of(clock))


def fetch_flagged_count(actor: Actor, *, engine: Engine | None = None) -> int:
    """How many texts wait for the desk (a number, no client data: not audited); 0 for an
    actor without inbound.read."""
    if not actor.can(PERMISSION):
        return 0
    with atomic(actor.org_id, engine=engine) as work:
        return flagged_count(work.session)


def do_mark_inbound_handled(actor: Actor, inbound_id: int, *, clock: Clock | None = None,
                            engine: Engine | None = None) -> bool:
    """Mark text `inbound_id` handled (messaging.inbound.mark_handled, audited "inbound.handle").
    Returns False when it was already handled. Raises PermissionDenied, NotFound."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return mark_handled(work.session, actor, inbound_id, now=now_of(clock))
