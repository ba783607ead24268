"""A client's clinical history on the profile (/clients/{id}): every chart of their visits and
every photo, newest visit first. Charts need chart.read and photos photo.read (provider and
owner only); anyone else gets nothing at all, not an empty list (NotFound: missing and
forbidden look alike).

Each list is one audited read of health information in the caller's transaction, as the
chart page's reads are: one "chart.read" row (object: the client, detail: list=True and the
visits listed) and one "photo.read" row (object: the client, detail: list=True, how many and
which photos). The thumbnails are then fetched one by one through the protected media route,
which audits each (clinical.photos.open_photo).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlmodel import Session, select

from medspa.domain.base import is_row_id
from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.clinical.models import NoteStatus, TreatmentNote
from medspa.domain.clinical.photos import ClinicalPhoto
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location, StaffMember
from medspa.domain.scheduling.models import Appointment

MAX_CHARTS = 200
MAX_PHOTOS = 200


@dataclass(frozen=True)
class ChartEntry:
    """A visit's chart: appointment id, local visit date ("Jul 15, 2026"), service, provider,
    status of its current version: "draft" (never signed), "signed", "amended" (a signed
    amendment) or "amending" (an amendment being written over a signed version)."""

    appointment_id: int
    date: str
    service: str
    provider: str
    status: str


@dataclass(frozen=True)
class PhotoEntry:
    """A photo: its id (for the protected thumbnail route), visit (appointment id), kind
    ("before"/"after"), local visit date and service."""

    id: int
    appointment_id: int
    kind: str
    date: str
    service: str


def chart_status(status: str, version: int) -> str:
    """The list's word for a chart version: draft, signed, amended or amending."""
    if version <= 1:
        return "signed" if status == NoteStatus.SIGNED else "draft"
    return "amended" if status == NoteStatus.SIGNED else "amending"


def _client(session: Session, client_id: int) -> Client:
    if not is_row_id(client_id):
        raise NotFound("client")
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound("client")
    return client


def _visits(session: Session, client_id: int, ids) -> dict[int, tuple[str, str, str]]:
    """appointment id -> (local date, service, provider) for the client's visits among `ids`."""
    rows = session.exec(select(Appointment.id, Appointment.start_at, Service.name, StaffMember.display_name,
                               Location.time_zone)
                        .join(Service, Service.id == Appointment.service_id)
                        .join(StaffMember, StaffMember.id == Appointment.provider_id)
                        .join(Location, Location.id == Appointment.location_id)
                        .where(Appointment.client_id == client_id, Appointment.id.in_(list(ids) or [-1]))).all()
    return {i: (format_date(start.astimezone(ZoneInfo(tz)).date(), "medium", locale="en_US"), service, provider)
            for i, start, service, provider, tz in rows}


def _order(session: Session, ids) -> list[int]:
    """`ids` newest visit first."""
    return list(session.exec(select(Appointment.id).where(Appointment.id.in_(list(ids) or [-1]))
                             .order_by(Appointment.start_at.desc(), Appointment.id.desc())).all())


def client_charts(session: Session, actor: Actor, client_id: int, now: datetime) -> list[ChartEntry]:
    """The client's charts, newest visit first (at most MAX_CHARTS). chart.read; one audited
    "chart.read" row. Raises NotFound (no such client, another clinic's, or forbidden)."""
    if not actor.can("chart.read"):
        raise NotFound("chart")
    client = _client(session, client_id)
    latest: dict[int, tuple[str, int]] = {}
    for appt_id, status, version in session.exec(
            select(TreatmentNote.appointment_id, TreatmentNote.status, TreatmentNote.version)
            .where(TreatmentNote.client_id == client.id).order_by(TreatmentNote.appointment_id,
                                                                   TreatmentNote.version)).all():
        latest[appt_id] = (status, version)  # the current version wins
    order = _order(session, latest)[:MAX_CHARTS]
    visits = _visits(session, client.id, order)
    out = [ChartEntry(i, *visits[i], chart_status(*latest[i])) for i in order if i in visits]
    record(session, actor, "chart.read", "client", client.id, client_id=client.id, at=now, list=True,
           appointment_ids=[c.appointment_id for c in out])
    return out


def client_photos(session: Session, actor: Actor, client_id: int, now: datetime) -> list[PhotoEntry]:
    """The client's photos, newest visit first, before then after (at most MAX_PHOTOS).
    photo.read; one audited "photo.read" row. Raises NotFound (no such client, another
    clinic's, or forbidden)."""
    if not actor.can("photo.read"):
        raise NotFound("photo")
    client = _client(session, client_id)
    photos = list(session.exec(select(ClinicalPhoto).where(ClinicalPhoto.client_id == client.id)
                               .order_by(ClinicalPhoto.created_at, ClinicalPhoto.id)))
    rank = {appt_id: n for n, appt_id in enumerate(_order(session, {p.appointment_id for p in photos}))}
    photos.sort(key=lambda p: (rank.get(p.appointment_id, len(rank)), p.kind != "before"))
    photos = photos[:MAX_PHOTOS]
    visits = _visits(session, client.id, rank)
    out = [PhotoEntry(p.id, p.appointment_id, p.kind, *visits[p.appointment_id][:2]) for p in photos
           if p.appointment_id in visits]
    record(session, actor, "photo.read", "client", client.id, client_id=client.id, at=now, list=True,
           photos=len(out), photo_ids=[p.id for p in out])
    return out
