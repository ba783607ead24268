"""Before/after photos over time: a client's timeline (filtered by treatment area and angle),
editing a photo's tags, sharing it to the client's portal, and the portal's Photos tab.

Staff side (photo.read to see, photo.write to tag and share: provider and owner): anyone else,
another clinic's client or photo and a missing one get NotFound (missing and forbidden look
alike). Every list is one audited "photo.read" row with the client, in the caller's
transaction; the images themselves come through the checked media route, which audits each.

The portal (the client, signed in to their own portal) sees a photo only when BOTH hold:
- staff marked it shared (clinical_photo.shared, `share_photo`), and
- the client's photo-use consent (consent_builtins.PHOTO_USE) is signed on its CURRENT
  version (either choice: "clinical" or "marketing"; a new version of the text hides the
  photos again until the client signs it).
Each portal list and each portal image is audited like the portal's other tabs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.clinical.consent import current_versions
from medspa.domain.clinical.consent_builtins import PHOTO_USE
from medspa.domain.clinical.consent_models import ConsentSignature, ConsentTemplate
from medspa.domain.clinical.photos import (ANGLES, KINDS, ClinicalPhoto, MediaStore, OpenedPhoto, check_tags,
                                           photo_bytes)
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.models import Appointment

MAX_TIMELINE = 300


@dataclass(frozen=True)
class TimelinePhoto:
    """A photo on the timeline: id, visit (appointment id), visit's local date ("Jul 1, 2026")
    and ISO day, service, tags (kind, area or None, angle), shared mark, display size."""

    id: int
    appointment_id: int
    date: str
    day: str
    service: str
    kind: str
    area: str | None
    angle: str
    shared: bool
    width: int
    height: int


@dataclass(frozen=True)
class Timeline:
    """The client's photos oldest first (visit date, before then after, upload order), the
    filter applied, the areas and angles the client's photos have (for the filter's choices),
    and whether the photo-use consent is signed (sharing shows on the portal only then)."""

    photos: list[TimelinePhoto]
    area: str
    angle: str
    areas: list[str]
    angles: list[str]
    consent_signed: bool


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def photo_consent_signed(session: Session, client_id: int) -> bool:
    """True when the client signed the current version of the clinic's photo-use consent."""
    template_id = session.exec(select(ConsentTemplate.id).where(ConsentTemplate.key == PHOTO_USE)).first()
    if template_id is None:
        return False
    current = current_versions(session, [template_id]).get(template_id)
    if current is None:
        return False
    return session.exec(select(ConsentSignature.id).where(ConsentSignature.client_id == client_id,
                                                          ConsentSignature.version_id == current.id)).first() \
        is not None


def _rows(session: Session, client_id: int, *, shared_only: bool = False) -> list[TimelinePhoto]:
    """The client's photos with their visits, oldest visit first (before, then after, upload order)."""
    query = (select(ClinicalPhoto, Appointment.start_at, Service.name, Location.time_zone)
             .join(Appointment, Appointment.id == ClinicalPhoto.appointment_id)
             .join(Service, Service.id == Appointment.service_id)
             .join(Location, Location.id == Appointment.location_id)
             .where(ClinicalPhoto.client_id == client_id))
    if shared_only:
        query = query.where(ClinicalPhoto.shared.is_(True))
    rows = session.exec(query.order_by(Appointment.start_at, Appointment.id, ClinicalPhoto.created_at,
                                       ClinicalPhoto.id)).all()
    out = []
    for photo, start, service, zone in rows:
        day = start.astimezone(ZoneInfo(zone)).date()
        out.append(TimelinePhoto(photo.id, photo.appointment_id, format_date(day, "medium", locale="en_US"),
                                 day.isoformat(), service, photo.kind, photo.area, photo.angle, photo.shared,
                                 photo.width, photo.height))
    # before, then after, within a visit (the sort is stable: upload order otherwise)
    out.sort(key=lambda p: (p.day, p.appointment_id, KINDS.index(p.kind)))
    return out


def client_timeline(session: Session, actor: Actor, client_id: int, now: datetime, *, area: str = "",
                    angle: str = "") -> Timeline:
    """The client's photos in date order, only those of `area` and/or `angle` when given ("":
    any). photo.read; one audited "photo.read" row (object: the client; detail: timeline, the
    filter and the photo ids). Raises NotFound (no such client, another clinic's, forbidden),
    ValidationFailed({"area"} / {"angle"}) for a filter value that is not a tag."""
    if not actor.can("photo.read") or not _is_id(client_id):
        raise NotFound("photo")
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound("photo")
    if area or angle:  # the tags' own check (photos.check_tags), "" meaning any
        check_tags(area, angle or "other")
    everything = _rows(session, client.id)
    areas = sorted({p.area for p in everything if p.area})
    angles = [a for a in ANGLES if any(p.angle == a for p in everything)]
    photos = [p for p in everything if (not area or p.area == area) and (not angle or p.angle == angle)]
    photos = photos[-MAX_TIMELINE:]
    record(session, actor, "photo.read", "client", client.id, client_id=client.id, at=now, list=True, timeline=True,
           area=area or None, angle=angle or None, photos=len(photos), photo_ids=[p.id for p in photos])
    return Timeline(photos, area, angle, areas, angles, photo_consent_signed(session, client.id))


def _photo_for_write(session: Session, actor: Actor, photo_id: int) -> ClinicalPhoto:
    if not actor.can("photo.write") or not _is_id(photo_id):
        raise NotFound("photo")
    photo = session.exec(select(ClinicalPhoto).where(ClinicalPhoto.id == photo_id).with_for_update()).first()
    if photo is None:
        raise NotFound("photo")
    return photo


def tag_photo(session: Session, actor: Actor, photo_id: int, now: datetime, *, kind: str, area: str | None,
              angle: str) -> TimelinePhoto:
    """Change a photo's tags (kind before/after, treatment area or None, angle). photo.write;
    one "photo.tag" audit row with the old and new tags. Raises NotFound (also when
    forbidden), ValidationFailed({"kind"} / {"area"} / {"angle"})."""
    photo = _photo_for_write(session, actor, photo_id)
    if kind not in KINDS:
        raise ValidationFailed({"kind": "Choose before or after."})
    area, angle = check_tags(area, angle)
    before = {"kind": photo.kind, "area": photo.area, "angle": photo.angle}
    photo.kind, photo.area, photo.angle = kind, area, angle
    session.add(photo)
    session.flush()
    record(session, actor, "photo.tag", "clinical_photo", photo.id, client_id=photo.client_id, at=now,
           before=before, after={"kind": kind, "area": area, "angle": angle})
    return next(p for p in _rows(session, photo.client_id) if p.id == photo.id)


def share_photo(session: Session, actor: Actor, photo_id: int, shared: bool, now: datetime) -> bool:
    """Mark a photo shared with the client's portal (or take it back). It shows there only
    while the client's photo-use consent is signed (see the module docstring). photo.write;
    one "photo.share" audit row. Returns the new mark. Raises NotFound (also when forbidden),
    ValidationFailed({"shared"}) for a value that is not a bool."""
    if not isinstance(shared, bool):
        raise ValidationFailed({"shared": "Choose shared or not shared."})
    photo = _photo_for_write(session, actor, photo_id)
    if photo.shared != shared:
        photo.shared = shared
        photo.shared_at, photo.shared_by = (now, actor.user_id) if shared else (None, None)
        session.add(photo)
        session.flush()
    record(session, actor, "photo.share", "clinical_photo", photo.id, client_id=photo.client_id, at=now,
           shared=shared)
    return shared


# ---------------------------------------------------------------------------- the portal


def _portal_client(actor: Actor) -> int:
    """The signed-in portal client's id; NotFound for any other actor."""
    if actor.role != "client" or not actor.can("portal.self.read") or not _is_id(actor.client_id):
        raise NotFound("photo")
    return actor.client_id


def portal_photos(session: Session, actor: Actor, now: datetime) -> list[TimelinePhoto]:
    """The photos the signed-in portal client (`actor`, role client) sees in the portal: shared
    by staff, and only while their photo-use consent is signed ([] otherwise). One
    "portal.photos" audit row. Raises NotFound for any other actor."""
    client_id = _portal_client(actor)
    photos = _rows(session, client_id, shared_only=True) if photo_consent_signed(session, client_id) else []
    record(session, actor, "portal.photos", "client", client_id, client_id=client_id, at=now, photos=len(photos),
           photo_ids=[p.id for p in photos])
    return photos


def portal_open_photo(session: Session, actor: Actor, photo_id: int, now: datetime, store: MediaStore, *,
                      thumb: bool = False) -> OpenedPhoto:
    """One of the signed-in portal client's shared photos (display copy or thumbnail). Raises
    NotFound for anything else: another client's, not shared, consent not signed, missing,
    not a portal client. One "portal.photo" audit row."""
    client_id = _portal_client(actor)
    if not _is_id(photo_id):
        raise NotFound("photo")
    photo = session.exec(select(ClinicalPhoto).where(ClinicalPhoto.id == photo_id,
                                                     ClinicalPhoto.client_id == client_id)).first()
    if photo is None or not photo.shared or not photo_consent_signed(session, client_id):
        raise NotFound("photo")
    opened = photo_bytes(photo, store, "thumb" if thumb else "full")
    record(session, actor, "portal.photo", "clinical_photo", photo.id, client_id=client_id, at=now,
           variant="thumb" if thumb else "full")
    return opened


__all__ = ["Timeline", "TimelinePhoto", "client_timeline", "photo_consent_signed", "portal_open_photo",
           "portal_photos", "share_photo", "tag_photo"]
