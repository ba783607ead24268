"""Use cases of the public unsubscribe link `/u/{token}` (messaging.unsubscribe): what the page
shows (no change: mail scanners fetch links) and the unsubscribe itself (the page's button, or a
mail provider's RFC 8058 one-click POST). No sign-in: the signed token is the key.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.audit.service import record
from medspa.domain.clients.consent import clinic_name_of, set_consent
from medspa.domain.clients.merge import live_client_id
from medspa.domain.clients.models import Client
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.unsubscribe import read_unsubscribe_token
from medspa.domain.work import atomic, now_of
from medspa.domain.practice.models import Organization
from medspa.domain.scheduling.references import portal_url
from medspa.settings import Settings, get_settings


@dataclass(frozen=True)
class UnsubscribeView:
    """What the page says: the clinic, the channel ("email" / "sms"), and whether the client is
    already unsubscribed there (no marketing consent on that channel)."""

    clinic_name: str
    channel: str
    subscribed: bool
    portal_url: str = ""  # the clinic's client portal, where offers can be turned back on


def _client(session, org_id: int, client_id: int) -> Client:
    client = session.get(Client, live_client_id(session, client_id))
    if client is None:
        raise NotFound("client")
    return client


def _consent(client: Client, channel: str) -> bool:
    return bool(client.email_marketing_consent if channel == "email" else client.sms_marketing_consent)


def _view(session, org_id: int, channel: str, client: Client, settings: Settings | None) -> UnsubscribeView:
    org = session.get(Organization, org_id)
    link = portal_url(org.slug, (settings or get_settings()).base_url) if org is not None else ""
    return UnsubscribeView(clinic_name_of(session, org_id), channel, _consent(client, channel), link)


def fetch_unsubscribe(token: str, *, settings: Settings | None = None,
                      engine: Engine | None = None) -> UnsubscribeView:
    """The page of `token` (a client merged since: the record it was merged into). Changes and
    records nothing. Raises NotFound for a bad token or a client the clinic no longer has."""
    target = read_unsubscribe_token(token, settings=settings)
    if target is None:
        raise NotFound("unsubscribe")
    org_id, client_id, channel = target
    with atomic(org_id, engine=engine) as work:
        client = _client(work.session, org_id, client_id)
        return _view(work.session, org_id, channel, client, settings)


def do_unsubscribe(token: str, *, one_click: bool = False, ip: str = "", user_agent: str = "",
                   settings: Settings | None = None, clock: Clock | None = None,
                   engine: Engine | None = None) -> UnsubscribeView:
    """Withdraw the marketing consent of the token's client and channel (source "unsubscribe
    link"), audited "client.unsubscribe" (`one_click`: a mail provider's List-Unsubscribe-Post,
    `ip` / `user_agent` of the request). Unsubscribing twice changes nothing the second time
    (still audited: the client asked). Transactional messages (visit confirmations,
    reminders, receipts) still go. Returns the page's view after the change. Raises NotFound
    for a bad token or a client the clinic no longer has."""
    target = read_unsubscribe_token(token, settings=settings)
    if target is None:
        raise NotFound("unsubscribe")
    org_id, client_id, channel = target
    now = now_of(clock)
    actor = Actor(org_id=org_id, role="public", label="unsubscribe link", ip=ip, user_agent=user_agent)
    with atomic(org_id, engine=engine) as work:
        s = work.session
        client = _client(s, org_id, client_id)
        changed = set_consent(client, channel, False, at=now, source="unsubscribe link")
        s.add(client)
        record(s, actor, "client.unsubscribe", "client", client.id, client_id=client.id, at=now, channel=channel,
               one_click=one_click, changed=bool(changed))
        return _view(s, org_id, channel, client, settings)
