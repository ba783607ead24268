"""Clinical photos: before/after pictures of a visit (photo.write to add, photo.read to see).

Provider and owner only (permissions.py); front desk, manager, lab, clients and anonymous
visitors never see them. Anyone else, another clinic's photo and a missing one get NotFound:
missing and forbidden look alike.

What happens to an upload (`add_photo`), all on the server:
- at most MAX_BYTES (15 MB), checked before anything is decoded (the message names the
  file's size in MB);
- the type is decided by the content, never by the file name or the browser's claim: only
  what Pillow opens as JPEG, PNG or HEIC/HEIF (iPhones' default; pillow-heif) is accepted (a
  text file renamed .jpg is refused), and the image is fully decoded (a truncated file is
  refused); at most MAX_PIXELS pixels. A HEIC photo is stored as JPEG;
- the EXIF orientation is applied to the pixels (ImageOps.exif_transpose), the metadata is
  dropped and the pixels re-encoded: no EXIF at all (so no GPS, no camera serial, no
  Orientation tag), no XMP, no text chunks; only an ICC colour profile is kept;
- the stored image is a display copy of at most DISPLAY_MAX px on its longer side (a larger
  photo is downscaled); the full-resolution picture (oriented and stripped the same way) is
  kept as well only when the clinic chooses (organization.keep_photo_originals, owner setting);
- a thumbnail of at most THUMB_MAX px on its longer side, same orientation;
- memory (issue 12): the upload is decoded once at full size and that one copy is worked on
  in place (~4 bytes a pixel, ~200 MB at 50 MP; a photo whose EXIF asks for a turn needs a
  second copy while it turns); display copy and thumbnail are resized straight from it; at
  most settings.image_processing_concurrency uploads decode at once per process
  (bench/photo_memory.py);
- both go to a MediaStore under random keys (no name, no client id in the key): the private
  media folder (LocalMediaStore, settings.media_root) or a private S3 bucket (S3MediaStore,
  server-side encryption) when settings.s3_bucket is set. Never Reflex's public upload folder.

Tags (migration 0052): the client and visit (from the appointment), kind (before/after),
treatment area (service.TREATMENT_AREAS or none) and angle (ANGLES). The timeline, the
comparison and the portal's Photos tab are in photo_timeline.py.

Every view is audited: `list_photos` and `open_photo` each write exactly one "photo.read" row
with the client, in the caller's transaction; `add_photo` writes one "photo.add" row.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, Column, Integer, String, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from medspa.domain.audit.service import record
from medspa.domain.base import fk, org_fk, pk, tstamp
from medspa.domain.clients.live import lock_visit
from medspa.domain.clinical.photo_store import LocalMediaStore, MediaStore, S3MediaStore, discard, media_store_for
from medspa.domain.work import on_rollback
from medspa.domain.clinical.service import TREATMENT_AREAS
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.scheduling.models import Appointment, AppointmentStatus

MB = 1024 * 1024
MAX_BYTES = 15 * MB  # an upload larger than this is refused before decoding
MAX_PIXELS = 50_000_000  # 50 MP: far above any phone camera; refuses decompression bombs
DISPLAY_MAX = 2560  # px, the longer side of the stored display copy
MAX_FILES = 10  # photos in one upload
MAX_BATCH_BYTES = 60 * MB  # all the photos of one upload together
OPTIMIZE_MAX_PIXELS = 16_000_000  # larger JPEGs are re-encoded without optimized Huffman tables (memory)
THUMB_MAX = 400  # px, the longer side of a thumbnail
MAX_PHOTOS_PER_VISIT = 40
KINDS = ("before", "after")
ANGLES = {"front": "Front", "left45": "Left 45°", "right45": "Right 45°", "left": "Left profile",
          "right": "Right profile", "other": "Other"}
"""Photo angle tag: stored word -> label."""
NOT_PHOTOGRAPHABLE = (AppointmentStatus.HELD, AppointmentStatus.EXPIRED)  # holds are not visits
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}
INPUT_FORMATS = ("JPEG", "PNG", "HEIF")  # what an upload may be (Pillow's format names); HEIF is stored as JPEG
OPENED_AS = INPUT_FORMATS + ("MPO",)  # a phone's multi-picture JPEG opens through JPEG as "MPO": its first picture is kept
TOO_LARGE = f"The photo is larger than {MAX_BYTES // MB} MB. Choose a smaller one."
NOT_AN_IMAGE = "This file is not a JPEG, PNG or HEIC photo."
TOO_MANY_PIXELS = f"The photo has too many pixels (at most {MAX_PIXELS // 1_000_000} megapixels)."
_SLOTS: threading.BoundedSemaphore | None = None  # built on first use, see _slots()
_SLOTS_LOCK = threading.Lock()
_HEIF_LOCK = threading.Lock()
_heif_ready = False


def megabytes(size: int) -> str:
    """A byte count as people read it: "17.3 MB" (one decimal, 1 MB = 1024 × 1024 bytes)."""
    return f"{size / MB:.1f} MB"


def too_large(size: int) -> str:
    """The message for an upload of `size` bytes over MAX_BYTES."""
    return f"The photo is {megabytes(size)}: larger than {MAX_BYTES // MB} MB. Choose a smaller one."


class ClinicalPhoto(SQLModel, table=True):
    """One stored photo of a visit (before or after). The bytes are in the media store under
    storage_key (the display copy, at most DISPLAY_MAX px), thumb_key (thumbnail) and, when
    the clinic keeps originals, original_key (full resolution, oriented and stripped too);
    width/height/bytes/sha256 describe the stored display copy (after orientation and
    re-encoding), not the upload. Tags: area (service.TREATMENT_AREAS or None), angle
    (ANGLES), kind. shared: staff marked it for the client's portal (shown there only while
    the client's photo-use consent is signed, photo_timeline.portal_photos)."""

    __tablename__ = "clinical_photo"
    __table_args__ = (UniqueConstraint("storage_key", name="uq_clinical_photo_storage_key"),
                      UniqueConstraint("thumb_key", name="uq_clinical_photo_thumb_key"))
    id: int | None = pk()
    org_id: int = org_fk()
    appointment_id: int = fk("appointment.id")
    client_id: int = fk("client.id")
    kind: str = Field(sa_column=Column(String(10), nullable=False))
    storage_key: str = Field(sa_column=Column(String(200), nullable=False))
    thumb_key: str = Field(sa_column=Column(String(200), nullable=False))
    width: int = Field(sa_column=Column(Integer, nullable=False))
    height: int = Field(sa_column=Column(Integer, nullable=False))
    bytes: int = Field(sa_column=Column(Integer, nullable=False))
    content_type: str = Field(sa_column=Column(String(40), nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    uploaded_by: int | None = fk("user_account.id", nullable=True, index=False)
    created_at: datetime = tstamp(nullable=False)
    # migration 0052: tags, the kept original, portal sharing
    area: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    angle: str = Field(default="other", sa_column=Column(String(10), nullable=False, server_default="other"))
    original_key: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    original_width: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    original_height: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    original_bytes: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    shared: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    shared_at: datetime | None = tstamp(nullable=True)
    shared_by: int | None = fk("user_account.id", nullable=True, index=False)


# storage: photo_store.py (MediaStore, LocalMediaStore, S3MediaStore, media_store_for)


# ---------------------------------------------------------------------------- images


@dataclass(frozen=True)
class ProcessedImage:
    """A checked, stripped and re-encoded upload: the display copy's bytes (at most DISPLAY_MAX
    px), the thumbnail's, the display copy's size in pixels, MIME type, extension, and the
    full-resolution copy (`original`, same type; None unless asked for) with its size."""

    data: bytes
    thumb: bytes
    width: int
    height: int
    content_type: str
    extension: str
    original: bytes | None = None
    original_width: int = 0
    original_height: int = 0
    source_format: str = ""  # what the upload was: JPEG, PNG or HEIF


def _register_heif() -> None:
    """Teach Pillow to open HEIC/HEIF (pillow-heif), once per process."""
    global _heif_ready
    with _HEIF_LOCK:
        if not _heif_ready:
            import pillow_heif

            pillow_heif.register_heif_opener()
            _heif_ready = True


def _slots() -> threading.BoundedSemaphore:
    """The process-wide limit on images being decoded at once (settings.image_processing_concurrency)."""
    global _SLOTS
    with _SLOTS_LOCK:
        if _SLOTS is None:
            from medspa.settings import get_settings

            _SLOTS = threading.BoundedSemaphore(max(1, get_settings().image_processing_concurrency))
        return _SLOTS


def _pixels_only(image):
    """`image` in a mode JPEG/PNG can store, with nothing from the upload's metadata left.

    Converting makes a new image; the caller drops the decoded one so only one full-size
    copy stays alive. Clearing info is what strips EXIF, XMP and text chunks: the encoders
    only write what is passed to save() or, for a few keys, found in info."""
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        has_alpha = image.mode in ("PA", "RGBa", "La") or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    image.info = {}
    return image


def _bounded_size(width: int, height: int, longest: int) -> tuple[int, int]:
    """At most `longest` px on the longer side, same aspect, never enlarged."""
    if max(width, height) <= longest:
        return width, height
    if width >= height:
        return longest, max(1, round(height * longest / width))
    return max(1, round(width * longest / height)), longest


def _thumb_size(width: int, height: int) -> tuple[int, int]:
    """At most THUMB_MAX px on the longer side, same aspect, never enlarged (Image.thumbnail's rounding)."""
    return _bounded_size(width, height, THUMB_MAX)


def _shrunk(image, longest: int):
    """A new image of at most `longest` px on its longer side (or `image` itself when small
    enough): resize's reducing_gap first box-reduces by an integer factor, so nothing near
    full size is allocated (Image.thumbnail would need a full-size copy)."""
    from PIL import Image

    size = _bounded_size(image.width, image.height, longest)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def _thumbnail(image):
    """A new small image (a copy even when the image is small already)."""
    small = _shrunk(image, THUMB_MAX)
    return image.copy() if small is image else small


def _encode(image, fmt: str, icc: bytes | None) -> bytes:
    out = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        # optimized Huffman tables buffer the whole image's coefficients (~3 bytes a pixel):
        # worth it for phone-sized photos, not on top of a 50 MP one
        optimize = image.width * image.height <= OPTIMIZE_MAX_PIXELS
        image.save(out, "JPEG", quality=90, optimize=optimize, **extra)
    else:
        image.save(out, "PNG", optimize=False, **extra)
    return out.getvalue()


def process_image(data: bytes, *, keep_original: bool = False) -> ProcessedImage:
    """Check, orient, strip and re-encode an upload; make its display copy and thumbnail
    (and, with keep_original, a full-resolution copy).

    At most settings.image_processing_concurrency calls decode at once in this process (the
    others wait), and each keeps one full-size decoded copy: ~4 bytes per pixel, about
    200 MB for 50 MP (bench/photo_memory.py).
    Raises ValidationFailed({"photo": message}) for an empty, too large (the message says its
    size in MB), non-JPEG/PNG/HEIC, truncated or oversized (pixels) file."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ValidationFailed({"photo": "Choose a photo to upload."})
    if len(data) > MAX_BYTES:
        raise ValidationFailed({"photo": too_large(len(data))})
    _register_heif()
    with _slots():
        return _decode_and_encode(bytes(data), keep_original)


def _decode_and_encode(data: bytes, keep_original: bool = False) -> ProcessedImage:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data), formats=list(INPUT_FORMATS)) as opened:
            source = opened.format
            if source not in OPENED_AS:  # pragma: no cover - formats= already limits this (JPEG may say MPO)
                raise ValidationFailed({"photo": NOT_AN_IMAGE})
            if opened.width * opened.height > MAX_PIXELS:
                raise ValidationFailed({"photo": TOO_MANY_PIXELS})
            opened.load()  # decode everything now: truncated or corrupt files fail here
            icc = opened.info.get("icc_profile")
            # HEIF: libheif already applied the rotation and pillow-heif reset the EXIF tag, so
            # this only turns what still asks to be turned
            ImageOps.exif_transpose(opened, in_place=True)
            image = _pixels_only(opened)
            if image is not opened:
                opened.close()  # a converted copy was made: free the decoded one now, not at return
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError,
            EOFError, RuntimeError) as exc:
        raise ValidationFailed({"photo": NOT_AN_IMAGE}) from exc
    fmt = "PNG" if source == "PNG" else "JPEG"
    content_type, extension = FORMATS[fmt]
    thumb = _thumbnail(image)
    display = _shrunk(image, DISPLAY_MAX)
    original = None
    full_w, full_h = image.size
    if keep_original and display is not image:
        original = _encode(image, fmt, icc)
    del image, opened  # the full-size pixels go before the display copy is encoded
    width, height = display.size
    shown = _encode(display, fmt, icc)
    if keep_original and original is None:
        original = shown  # small already: the display copy is the full resolution
    return ProcessedImage(shown, _encode(thumb, fmt, icc), width, height, content_type, extension, original,
                          full_w if original is not None else 0, full_h if original is not None else 0, source)


# ---------------------------------------------------------------------------- services


@dataclass(frozen=True)
class PhotoInfo:
    """What the chart shows of a photo (no bytes, no storage keys)."""

    id: int
    appointment_id: int
    kind: str
    width: int
    height: int
    bytes: int
    content_type: str
    created_at: datetime
    area: str | None = None
    angle: str = "other"
    shared: bool = False
    has_original: bool = False


@dataclass(frozen=True)
class OpenedPhoto:
    """The stored bytes of one photo (or its thumbnail) with the content type and a download name."""

    id: int
    data: bytes
    content_type: str
    filename: str  # "photo-12.jpg" / "photo-12-thumb.jpg": never the client's name


def _info(photo: ClinicalPhoto) -> PhotoInfo:
    return PhotoInfo(photo.id, photo.appointment_id, photo.kind, photo.width, photo.height, photo.bytes,
                     photo.content_type, photo.created_at, photo.area, photo.angle, photo.shared,
                     photo.original_key is not None)


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _visit(session: Session, actor: Actor, appointment_id: int, action: str, *, lock: bool = False) -> Appointment:
    if not actor.can(action) or not _is_id(appointment_id):
        raise NotFound("photo")
    if lock:  # one writer per visit, the client's row locked first (a merge's order): no deadlock with one
        appt = lock_visit(session, appointment_id)
    else:
        appt = session.exec(select(Appointment).where(Appointment.id == appointment_id)).first()
    if appt is None or appt.status in NOT_PHOTOGRAPHABLE or appt.client_id is None:
        raise NotFound("photo")
    return appt


def check_tags(area: object, angle: object) -> tuple[str | None, str]:
    """The tags as stored: area in service.TREATMENT_AREAS or None ("" means none), angle in
    ANGLES. Raises ValidationFailed({"area"} / {"angle"}) naming what is wrong."""
    errors = {}
    if area in (None, ""):
        area = None
    elif not isinstance(area, str) or area not in TREATMENT_AREAS:
        errors["area"] = "Choose a treatment area from the list."
    if not isinstance(angle, str) or angle not in ANGLES:
        errors["angle"] = "Choose the angle: " + ", ".join(ANGLES.values()) + "."
    if errors:
        raise ValidationFailed(errors)
    return area, angle  # type: ignore[return-value]


def keeps_originals(session: Session, org_id: int) -> bool:
    """The clinic's choice (organization.keep_photo_originals): keep full-resolution originals."""
    from medspa.domain.practice.models import Organization

    return bool(session.exec(select(Organization.keep_photo_originals).where(Organization.id == org_id)).first())


def add_photo(session: Session, actor: Actor, appointment_id: int, data: bytes, kind: str, now: datetime,
              store: MediaStore, *, area: str | None = None, angle: str = "other") -> PhotoInfo:
    """Store a before/after photo of the visit (checked, oriented, stripped, a display copy of
    at most DISPLAY_MAX px, a thumbnail, and the full-resolution copy when the clinic keeps
    originals), tagged with `area` (service.TREATMENT_AREAS or None) and `angle` (ANGLES).

    photo.write. Raises NotFound (also when forbidden), ValidationFailed ({"kind"}, {"area"},
    {"angle"} or {"photo"}). The bytes are written to `store` before the row; if the row cannot
    be written they are removed again. One "photo.add" audit row in the caller's transaction."""
    appt = _visit(session, actor, appointment_id, "photo.write", lock=True)
    if kind not in KINDS:
        raise ValidationFailed({"kind": "Choose before or after."})
    area, angle = check_tags(area, angle)
    count = len(session.exec(select(ClinicalPhoto.id).where(ClinicalPhoto.appointment_id == appt.id)).all())
    if count >= MAX_PHOTOS_PER_VISIT:
        raise ValidationFailed({"photo": f"At most {MAX_PHOTOS_PER_VISIT} photos per visit."})
    image = process_image(data, keep_original=keeps_originals(session, actor.org_id))
    token = secrets.token_hex(16)
    storage_key = f"org-{actor.org_id}/photos/{token}.{image.extension}"
    thumb_key = f"org-{actor.org_id}/photos/{token}-thumb.{image.extension}"
    original_key = None
    if image.original is not None:  # the display copy is the full resolution when it was small already
        original_key = storage_key if image.original is image.data else \
            f"org-{actor.org_id}/photos/{token}-original.{image.extension}"
    written: list[str] = []
    try:
        for key, blob in ((storage_key, image.data), (thumb_key, image.thumb),
                          (original_key if original_key != storage_key else None, image.original)):
            if key is not None:
                written.append(key)
                store.put(key, blob, image.content_type)
        photo = ClinicalPhoto(org_id=actor.org_id, appointment_id=appt.id, client_id=appt.client_id, kind=kind,
                              storage_key=storage_key, thumb_key=thumb_key, width=image.width,
                              height=image.height, bytes=len(image.data), content_type=image.content_type,
                              sha256=hashlib.sha256(image.data).hexdigest(), uploaded_by=actor.user_id,
                              created_at=now, area=area, angle=angle, original_key=original_key,
                              original_width=image.original_width or None,
                              original_height=image.original_height or None,
                              original_bytes=len(image.original) if image.original is not None else None)
        session.add(photo)
        session.flush()
    except BaseException:
        discard(store, written)
        raise
    on_rollback(session, lambda: discard(store, written))  # the commit may still fail: no orphan files
    record(session, actor, "photo.add", "clinical_photo", photo.id, client_id=appt.client_id, at=now,
           appointment_id=appt.id, kind=kind, area=area, angle=angle, width=image.width, height=image.height,
           bytes=len(image.data), source=image.source_format, original=original_key is not None)
    return _info(photo)


def list_photos(session: Session, actor: Actor, appointment_id: int, now: datetime) -> list[PhotoInfo]:
    """The visit's photos, before first, then oldest first. photo.read; one "photo.read" audit
    row (object: the appointment, detail: how many). Raises NotFound (also when forbidden)."""
    appt = _visit(session, actor, appointment_id, "photo.read")
    photos = list(session.exec(select(ClinicalPhoto).where(ClinicalPhoto.appointment_id == appt.id)
                               .order_by(ClinicalPhoto.created_at, ClinicalPhoto.id)))
    photos.sort(key=lambda p: KINDS.index(p.kind))
    record(session, actor, "photo.read", "appointment", appt.id, client_id=appt.client_id, at=now,
           photos=len(photos), list=True)
    return [_info(p) for p in photos]


def photo_bytes(photo: ClinicalPhoto, store: MediaStore, variant: str) -> OpenedPhoto:
    """The stored bytes of `photo` in `variant` ("full": the display copy, "thumb", "original":
    the kept full resolution). No permission check, no audit: for callers that did both.
    Raises NotFound when that variant does not exist or its bytes are gone."""
    key = {"full": photo.storage_key, "thumb": photo.thumb_key, "original": photo.original_key}.get(variant)
    if not key:
        raise NotFound("photo")
    try:
        data = store.get(key)
    except (KeyError, ValueError) as exc:
        raise NotFound("photo") from exc
    extension = FORMATS["PNG" if photo.content_type == "image/png" else "JPEG"][1]
    suffix = "" if variant == "full" else f"-{variant}"
    return OpenedPhoto(photo.id, data, photo.content_type, f"photo-{photo.id}{suffix}.{extension}")


def open_photo(session: Session, actor: Actor, photo_id: int, now: datetime, store: MediaStore, *,
               thumb: bool = False, original: bool = False) -> OpenedPhoto:
    """The stored bytes of one photo: its display copy, its thumbnail (thumb=True) or its kept
    full-resolution original (original=True). photo.read; one "photo.read" audit row with the
    client. Raises NotFound: forbidden, another clinic's, missing, no original kept, bytes gone."""
    if not actor.can("photo.read") or not _is_id(photo_id):
        raise NotFound("photo")
    photo = session.exec(select(ClinicalPhoto).where(ClinicalPhoto.id == photo_id)).first()
    if photo is None:
        raise NotFound("photo")
    variant = "thumb" if thumb else "original" if original else "full"
    opened = photo_bytes(photo, store, variant)
    record(session, actor, "photo.read", "clinical_photo", photo.id, client_id=photo.client_id, at=now,
           appointment_id=photo.appointment_id, variant=variant)
    return opened


__all__ = ["ANGLES", "DISPLAY_MAX", "KINDS", "MAX_BYTES", "THUMB_MAX", "ClinicalPhoto", "check_tags", "keeps_originals",
           "photo_bytes", "too_large", "LocalMediaStore", "MediaStore", "OpenedPhoto",
           "PhotoInfo", "ProcessedImage", "S3MediaStore", "add_photo", "list_photos", "media_store_for",
           "open_photo", "process_image"]
