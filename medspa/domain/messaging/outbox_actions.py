"""Use cases of the owners' outbox page (outbox.manage: owner and manager), one transaction each.

Kept apart from messaging/actions.py (the delivery job's action): these are the page's reads
and its one change (a resend, or "Send now"). Each checks the permission before opening the transaction and raises
PermissionDenied without it; the service checks it again and writes the audit row in the same
transaction (a list, an opened message, a resend). `clock` and `settings` are for tests (None:
the app clock, the process settings); `engine` too (None: the app's engine).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.outbox import (
    PERMISSION, MessageDetail, OutboxFilter, OutboxPage, Resent, list_messages, outbox_locations, read_message,
    resend_message)
from medspa.domain.work import atomic, now_of
from medspa.settings import Settings, get_settings

__all__ = ["OutboxOptions", "do_resend_message", "fetch_outbox", "fetch_outbox_message", "fetch_outbox_options"]


@dataclass(frozen=True)
class OutboxOptions:
    """What the page needs before its first list: the clinic's locations (id, name, IANA zone)
    to read times in, whether email leaves through a mail server (and SMS through Twilio), and whether this actor also
    sees the job queue's dead letters (jobs.read: owners)."""

    locations: list[tuple[int, str, str]]
    mail_enabled: bool
    show_failed_jobs: bool
    sms_enabled: bool = False  # text messages leave through Twilio


def fetch_outbox_options(actor: Actor, *, settings: Settings | None = None,
                         engine: Engine | None = None) -> OutboxOptions:
    """The page's options (no client data, not audited). Raises PermissionDenied without outbox.manage."""
    actor.require(PERMISSION)
    settings = settings or get_settings()
    with atomic(actor.org_id, engine=engine) as work:
        locations = outbox_locations(work.session, actor)
    return OutboxOptions(locations, settings.mail_enabled, actor.can("jobs.read"), settings.sms_enabled)


def fetch_outbox(actor: Actor, filt: OutboxFilter, *, limit: int = 50, offset: int = 0, clock: Clock | None = None,
                 settings: Settings | None = None, engine: Engine | None = None) -> OutboxPage:
    """One page of the outbox matching `filt` (messaging.outbox.list_messages, which clamps
    `limit` and `offset`), with its "outbox.search" audit row. Raises PermissionDenied,
    ValidationFailed (field -> message: e.g. NUL or broken characters in the client text)."""
    actor.require(PERMISSION)
    settings = settings or get_settings()
    with atomic(actor.org_id, engine=engine) as work:
        return list_messages(work.session, actor, filt, now=now_of(clock), mail_enabled=settings.mail_enabled, sms_enabled=settings.sms_enabled,
                             limit=limit, offset=offset)


def fetch_outbox_message(actor: Actor, message_id: int, *, time_zone: str = "UTC", clock: Clock | None = None,
                         settings: Settings | None = None, engine: Engine | None = None) -> MessageDetail:
    """Message `message_id` in full (body, failure reason, Message-ID, provider id, times in
    `time_zone`), with its "outbox.message.read" audit row naming the client. Raises
    PermissionDenied, NotFound (no such message in this clinic), ValidationFailed (zone)."""
    actor.require(PERMISSION)
    settings = settings or get_settings()
    with atomic(actor.org_id, engine=engine) as work:
        return read_message(work.session, actor, message_id, now=now_of(clock), time_zone=time_zone,
                            mail_enabled=settings.mail_enabled, sms_enabled=settings.sms_enabled)


def do_resend_message(actor: Actor, message_id: int, *, clock: Clock | None = None, settings: Settings | None = None,
                      engine: Engine | None = None) -> Resent:
    """Send message `message_id` again (messaging.outbox.resend_message): a failed one, or "Send
    now" for a queued one no delivery job will pick up once its channel's provider is set up;
    queued, to the client's current address, a delivery job deferred in this transaction when
    its channel's provider is set up; audited as "outbox.message.resend". Raises
    PermissionDenied, NotFound, NotResendable (the reason in words, e.g. "Waiting for the mail
    server: set SMTP_HOST, ...")."""
    actor.require(PERMISSION)
    settings = settings or get_settings()
    with atomic(actor.org_id, engine=engine) as work:
        return resend_message(work.session, actor, message_id, now=now_of(clock), settings=settings)
