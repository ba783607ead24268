"""Demo data: signed consents for some past visits, so client profiles and the portal show them.

The most recent completed visits (one per client, up to `count`) get their service's consents
signed by the client with a typed name a few minutes before the visit, through the domain
service (the same rows, hashes and PDFs as a real signature), stored in the media store."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from medspa.db import tenant_session
from medspa.domain.clients.models import Client
from medspa.domain.clinical.consent_signing import consents_to_sign, sign_consent
from medspa.domain.clinical.photos import media_store_for
from medspa.domain.identity.actor import Actor
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.settings import Settings, get_settings


def seed_consents(engine: Engine, org_id: int, now: datetime, settings: Settings | None = None, *,
                  count: int = 12) -> int:
    """Sign (typed) the consents of up to `count` recent completed visits of clinic `org_id`
    before `now`; returns how many consents were signed."""
    store = media_store_for(settings or get_settings())
    signed = 0
    with tenant_session(org_id, engine) as s:
        rows = s.exec(select(Appointment, Client).join(Client, Client.id == Appointment.client_id)
                      .where(Appointment.status == AppointmentStatus.COMPLETED, Appointment.start_at < now)
                      .order_by(Appointment.start_at.desc()).limit(count * 5)).all()
        seen: set[int] = set()
        for appt, client in rows:
            if client.id in seen or len(seen) >= count:
                continue
            seen.add(client.id)
            at = appt.start_at - timedelta(minutes=15)
            actor = Actor.client(org_id, client.id, ip="203.0.113.10", user_agent="Demo data (portal)")
            for item in consents_to_sign(s, actor, client.id, at, appointment_id=appt.id):
                if not item.required:
                    continue
                sign_consent(s, actor, client.id, item.version_id, item.sha256, method="typed",
                             typed_name=f"{client.first_name} {client.last_name}".strip() or "Client",
                             appointment_id=appt.id, now=at, store=store)
                signed += 1
        s.commit()
    return signed
