"""`medspa outbox`: the newest outbox messages of each clinic with their delivery status (on a
laptop without SMTP_HOST every email reads "not sent: no mail server set up", and without
Twilio every SMS "not sent: no SMS provider set up")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class OutboxLine:
    """One outbox message: when it was queued (UTC instant), channel, kind, address, subject and body."""

    created_at: datetime
    channel: str
    kind: str
    to_address: str
    subject: str
    body: str
    status: str = ""


@dataclass(frozen=True)
class ClinicOutbox:
    """A clinic's slug, name and newest outbox messages."""

    slug: str
    name: str
    messages: tuple[OutboxLine, ...]


def newest_outbox(engine: Engine, *, clinic: str = "", limit: int = 10,
                  mail_enabled: bool = False, sms_enabled: bool = False) -> list[ClinicOutbox]:
    """Each clinic's (only `clinic`'s, when given) `limit` newest outbox messages; `status`
    is the delivery label (mail_enabled: an SMTP server is set up; sms_enabled: Twilio is)."""
    from medspa.db import tenant_session
    from medspa.domain.errors import NotFound
    from medspa.domain.identity.actor import Actor
    from medspa.domain.messaging.service import list_outbox
    from medspa.domain.practice.service import list_clinics, organization_by_slug

    with tenant_session(None, engine) as s:
        if clinic:  # found by its slug, not by filtering the first clinics (a server may have more)
            try:
                org = organization_by_slug(s, clinic)
            except NotFound:
                return []
            clinics = [(org.slug, org.name)]
        else:
            clinics = list_clinics(s, limit=1000)
    result = []
    for slug, name in clinics:
        with tenant_session(None, engine) as s:
            org_id = organization_by_slug(s, slug).id
        with tenant_session(org_id, engine) as s:
            messages = list_outbox(s, Actor.system(org_id, "medspa outbox"), limit=limit)
            lines = tuple(OutboxLine(m.created_at, m.channel, m.kind, m.to_address, m.subject or "", m.body,
                                     m.delivery_label(mail_enabled, sms_enabled)) for m in messages)
        result.append(ClinicOutbox(slug, name, lines))
    return result


def outbox_of(settings, db, *, clinic: str = "", limit: int = 10) -> list[ClinicOutbox]:
    """`newest_outbox` on the database `db` (an ops.database.Database)."""
    from medspa.db import get_engine
    from medspa.ops.database import require_schema

    require_schema(settings, db)
    engine = get_engine(db.settings(settings))
    try:
        return newest_outbox(engine, clinic=clinic, limit=limit, mail_enabled=settings.mail_enabled,
                             sms_enabled=settings.sms_enabled)
    finally:
        engine.dispose()
