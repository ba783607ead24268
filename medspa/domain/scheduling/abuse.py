"""Open holds per network and per client: a slot held while its client pays (3-D Secure can
keep it for the whole hold) is capacity nobody else can book, so one IP address or one email
may hold only a few at once (Settings.max_open_holds_per_ip / _per_client). The hold's IP is
the one in its audit row (appointment.hold), so nothing new is stored about visitors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, func
from sqlmodel import Session, select

from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.models import Client
from medspa.domain.scheduling.models import Appointment, AppointmentStatus


@dataclass(frozen=True)
class OpenHolds:
    """Holds still running at `now`: how many, and the earliest instant one of them lapses
    (aware UTC; None when there is none)."""

    count: int
    first_lapse: datetime | None


def _open(session: Session, stmt, now: datetime, exclude_id: int | None) -> OpenHolds:
    stmt = stmt.where(Appointment.status == AppointmentStatus.HELD, Appointment.hold_expires_at > now)
    if exclude_id is not None:
        stmt = stmt.where(Appointment.id != exclude_id)
    count, first = session.exec(stmt).one()
    return OpenHolds(int(count or 0), first)


def open_holds_from_ip(session: Session, ip: str, now: datetime, *, exclude_id: int | None = None) -> OpenHolds:
    """The session's clinic's running holds made from `ip` (their appointment.hold audit row),
    except `exclude_id` (the hold a retry reuses: it does not count twice)."""
    stmt = (select(func.count(func.distinct(Appointment.id)), func.min(Appointment.hold_expires_at))
            .select_from(Appointment)
            .join(AuditEvent, (AuditEvent.object_type == "appointment")
                  & (AuditEvent.object_id == cast(Appointment.id, String))
                  & (AuditEvent.action == "appointment.hold"))
            .where(AuditEvent.ip == ip))
    return _open(session, stmt, now, exclude_id)


def open_holds_for_email(session: Session, email: str, now: datetime, *,
                         exclude_id: int | None = None) -> OpenHolds:
    """The session's clinic's running holds of the client(s) with `email` (lower-cased),
    except `exclude_id`."""
    stmt = (select(func.count(Appointment.id), func.min(Appointment.hold_expires_at)).select_from(Appointment)
            .join(Client, Client.id == Appointment.client_id).where(Client.email == email.strip().lower()))
    return _open(session, stmt, now, exclude_id)
