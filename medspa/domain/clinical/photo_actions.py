"""Use cases of the photo timeline, tags, portal sharing and the keep-originals setting, one
transaction each (services in photo_timeline.py and photos.py write the audit rows).

Callers: the profile's photo timeline (features/photos), the chart's photo panel, the
portal's Photos tab and the portal media route. Keyword-only extras: `clock` (default: the
app clock), `engine` (default: the app-role engine; tests pass theirs).
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import select

from medspa.clock import Clock
from medspa.domain.audit.service import record
from medspa.domain.clinical.photo_timeline import (Timeline, TimelinePhoto, client_timeline, portal_open_photo,
                                                   portal_photos, share_photo, tag_photo)
from medspa.domain.clinical.photos import MediaStore, OpenedPhoto
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Organization
from medspa.domain.work import atomic, now_of

KEEP_ORIGINALS_PERMISSION = "clinic.manage"  # the owner decides what the clinic keeps

__all__ = ["do_set_keep_originals", "do_share_photo", "do_tag_photo", "fetch_client_timeline",
           "fetch_keep_originals", "fetch_portal_gallery", "fetch_portal_photo_file", "fetch_portal_photos"]


def fetch_client_timeline(actor: Actor, client_id: int, *, area: str = "", angle: str = "",
                          clock: Clock | None = None, engine: Engine | None = None) -> Timeline:
    """The client's photos oldest first, filtered by treatment `area` / `angle` ("" = any); one
    audited "photo.read". Raises NotFound (also when forbidden: photo.read), ValidationFailed
    for a filter value that is not a tag."""
    with atomic(actor.org_id, engine=engine) as work:
        return client_timeline(work.session, actor, client_id, now_of(clock), area=area, angle=angle)


def do_tag_photo(actor: Actor, photo_id: int, *, kind: str, area: str | None, angle: str,
                 clock: Clock | None = None, engine: Engine | None = None) -> TimelinePhoto:
    """Change a photo's tags (audited "photo.tag"). Raises NotFound (also when forbidden:
    photo.write), ValidationFailed({"kind"} / {"area"} / {"angle"})."""
    with atomic(actor.org_id, engine=engine) as work:
        return tag_photo(work.session, actor, photo_id, now_of(clock), kind=kind, area=area, angle=angle)


def do_share_photo(actor: Actor, photo_id: int, shared: bool, *, clock: Clock | None = None,
                   engine: Engine | None = None) -> bool:
    """Share a photo with the client's portal or take it back (audited "photo.share"); it shows
    there only while the photo-use consent is signed. Raises NotFound (also when forbidden:
    photo.write), ValidationFailed({"shared"})."""
    with atomic(actor.org_id, engine=engine) as work:
        return share_photo(work.session, actor, photo_id, shared, now_of(clock))


def fetch_portal_photos(actor: Actor, *, clock: Clock | None = None,
                        engine: Engine | None = None) -> list[TimelinePhoto]:
    """The portal client's shared photos (consent permitting), oldest first; audited
    "portal.photos". Raises NotFound for anyone but a signed-in portal client."""
    with atomic(actor.org_id, engine=engine) as work:
        return portal_photos(work.session, actor, now_of(clock))


def fetch_portal_gallery(actor: Actor, *, store: MediaStore, clock: Clock | None = None,
                         engine: Engine | None = None) -> list[tuple[TimelinePhoto, bytes]]:
    """The portal's Photos tab in one transaction: the client's shared photos (consent
    permitting, oldest first) each with its thumbnail's bytes. Audited: one "portal.photos"
    row and one "portal.photo" row per thumbnail; a photo whose bytes are gone is left out.
    Raises NotFound for anyone but a signed-in portal client."""
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        out = []
        for photo in portal_photos(work.session, actor, now):
            try:
                out.append((photo, portal_open_photo(work.session, actor, photo.id, now, store, thumb=True).data))
            except NotFound:
                continue
        return out


def fetch_portal_photo_file(actor: Actor, photo_id: int, *, store: MediaStore, thumb: bool = False,
                            clock: Clock | None = None, engine: Engine | None = None) -> OpenedPhoto:
    """One shared photo's bytes for the portal client (audited "portal.photo", committed before
    a byte is sent). Raises NotFound for anything not shown in their Photos tab."""
    with atomic(actor.org_id, engine=engine) as work:
        return portal_open_photo(work.session, actor, photo_id, now_of(clock), store, thumb=thumb)


def fetch_keep_originals(actor: Actor, *, engine: Engine | None = None) -> bool:
    """The clinic's setting: keep full-resolution originals of photos (owner: clinic.manage).
    Raises NotFound when forbidden."""
    if not actor.can(KEEP_ORIGINALS_PERMISSION):
        raise NotFound("setting")
    with atomic(actor.org_id, engine=engine) as work:
        return bool(work.session.exec(select(Organization.keep_photo_originals)
                                      .where(Organization.id == actor.org_id)).first())


def do_set_keep_originals(actor: Actor, keep: bool, *, clock: Clock | None = None,
                          engine: Engine | None = None) -> bool:
    """Keep (True) or stop keeping (False) full-resolution originals of new photos; photos
    already stored keep what they have. Owner only (clinic.manage); audited
    "clinic.photo_originals". Raises NotFound when forbidden, ValidationFailed({"keep"})."""
    if not actor.can(KEEP_ORIGINALS_PERMISSION):
        raise NotFound("setting")
    if not isinstance(keep, bool):
        raise ValidationFailed({"keep": "Choose keep or do not keep."})
    with atomic(actor.org_id, engine=engine) as work:
        org = work.session.exec(select(Organization).where(Organization.id == actor.org_id)).one()
        before, org.keep_photo_originals = org.keep_photo_originals, keep
        work.session.add(org)
        work.session.flush()
        record(work.session, actor, "clinic.photo_originals", "organization", org.id, at=now_of(clock),
               before=before, after=keep)
        return keep
