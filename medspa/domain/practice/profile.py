"""The clinic's own identity, edited by its owner on /settings, Clinic tab (clinic.manage):
name, currency, country, public listing and logo; and what the public sees of it (the
landing page's list of listed clinics, the logo served at /clinics/{slug}/logo).

Services take a session and never commit (practice/profile_actions.py owns the transaction).
Every change writes one audit row with {field: [old, new]}.

The currency is the unit of every stored amount (prices, deposits, payments, ledger): once a
payment exists it can no longer change, since past payments and prices would be read in the
wrong currency. Before the first payment it may change (the prices' figures stay as typed):
every row that carries the currency follows in the same transaction (follow_currency: the
services, whose currency new bookings and deposits take, the appointments and the ledger
lines, none of which is money taken since there is no payment), and the audit row names how
many rows moved.

A logo upload (`process_logo`): at most LOGO_MAX_BYTES, its type decided by its content
(PNG, JPEG or WebP as Pillow reads it; a text file renamed .png is refused), at most
LOGO_MAX_PIXELS pixels before anything is decoded (a decompression bomb is refused),
orientation applied, metadata dropped, downscaled to at most LOGO_MAX px a side and stored
re-encoded as PNG (transparency kept) in clinic_logo, never on disk.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.changes import apply_changes
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.payments.models import Payment
from medspa.domain.practice.clinics import countries, currencies
from medspa.domain.practice.models import ClinicLogo, Organization
from medspa.domain.practice.service import SLUG_RE

PERMISSION = "clinic.manage"
MAX_NAME = 120
LOGO_MAX_BYTES = 2 * 1024 * 1024  # an upload larger than this is refused before decoding
LOGO_MAX_PIXELS = 16_000_000  # width x height read from the header; more is refused undecoded
LOGO_MAX = 512  # px, the longer side of the stored logo
LOGO_FORMATS = ("PNG", "JPEG", "WEBP")
LOGO_TOO_LARGE = f"The logo is larger than {LOGO_MAX_BYTES // (1024 * 1024)} MB. Choose a smaller file."
LOGO_NOT_IMAGE = "This file is not a PNG, JPEG or WebP image."
LOGO_TOO_MANY_PIXELS = f"The image has too many pixels (at most {LOGO_MAX_PIXELS // 1_000_000} megapixels)."
CURRENCY_LOCKED = ("The currency cannot change once the clinic has taken payments: past payments and prices "
                   "would be read in the wrong currency.")
_FIELDS = ("name", "currency", "country", "listed")


@dataclass(frozen=True)
class ClinicProfileInput:
    """The Clinic tab's form. currency: ISO 4217 code; country: ISO 3166 alpha-2 (the default
    region of phone numbers); listed: shown on the landing page."""

    name: str
    currency: str
    country: str
    listed: bool


@dataclass(frozen=True)
class ProcessedLogo:
    """A checked, re-encoded logo: PNG bytes and its pixel size."""

    data: bytes
    content_type: str
    width: int
    height: int


def _clinic_for_edit(session: Session, org_id: int) -> Organization:
    # FOR UPDATE takes the row-level security UPDATE policy too: only the session's own clinic
    org = session.exec(select(Organization).where(Organization.id == org_id).with_for_update()).first()
    if org is None:
        raise NotFound("clinic")
    return org


def has_payments(session: Session) -> bool:
    """True once the session's clinic has any payment row (whatever its status)."""
    return session.exec(select(Payment.id).limit(1)).first() is not None


def follow_currency(session: Session, currency: str) -> dict[str, int]:
    """Set `currency` (ISO 4217) on the session's clinic's services, appointments and ledger
    lines (row-level security scopes the updates); only sound before the first payment, which
    validate_profile checks. Returns {"services_moved": n, "appointments_moved": n,
    "ledger_lines_moved": n}, the rows whose currency changed."""
    from sqlalchemy import update

    from medspa.domain.catalog.models import Service
    from medspa.domain.payments.models import LedgerEntry
    from medspa.domain.scheduling.models import Appointment

    moved = {}
    for key, model in (("services_moved", Service), ("appointments_moved", Appointment),
                       ("ledger_lines_moved", LedgerEntry)):
        result = session.execute(update(model).where(model.currency != currency).values(currency=currency)
                                 .execution_options(synchronize_session="fetch"))
        moved[key] = result.rowcount
    return moved


def validate_profile(session: Session, org: Organization, data: ClinicProfileInput) -> ClinicProfileInput:
    """`data` trimmed and upper-cased, or ValidationFailed with a message for every bad field
    (keys: name, currency, country, listed)."""
    errors: dict[str, str] = {}
    name = data.name.strip() if isinstance(data.name, str) else ""
    if not name:
        errors["name"] = "Enter the clinic's name"
    elif len(name) > MAX_NAME or any(ord(c) < 32 or ord(c) == 127 for c in name):
        errors["name"] = f"Use at most {MAX_NAME} characters, without control characters"
    currency = data.currency.strip().upper() if isinstance(data.currency, str) else ""
    if currency not in dict(currencies()):
        errors["currency"] = "Choose a currency from the list"
    elif currency != org.currency and has_payments(session):
        errors["currency"] = CURRENCY_LOCKED
    country = data.country.strip().upper() if isinstance(data.country, str) else ""
    if country not in dict(countries()):
        errors["country"] = "Choose a country from the list"
    if not isinstance(data.listed, bool):
        errors["listed"] = "Choose listed or not listed"
    if errors:
        raise ValidationFailed(errors)
    return ClinicProfileInput(name, currency, country, data.listed)


def update_profile(session: Session, actor: Actor, data: ClinicProfileInput) -> Organization:
    """Change the actor's clinic; audited "clinic.update" with {field: [old, new]} of the
    changed fields (no row when nothing changed). Raises PermissionDenied, ValidationFailed
    (nothing is written)."""
    actor.require(PERMISSION)
    org = _clinic_for_edit(session, actor.org_id)
    clean = validate_profile(session, org, data)
    changes = apply_changes(org, clean, _FIELDS)
    moved = follow_currency(session, org.currency) if "currency" in changes else {}
    if changes:
        record(session, actor, "clinic.update", "organization", org.id, changes=changes, **moved)
    session.flush()
    return org


def _bad(message: str) -> ValidationFailed:
    return ValidationFailed({"logo": message})


def process_logo(data: bytes) -> ProcessedLogo:
    """Check and re-encode an upload (see the module docstring). Raises
    ValidationFailed({"logo": message}) for an empty, too large, non-image, truncated or
    too-many-pixels file."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise _bad("Choose an image to upload.")
    if len(data) > LOGO_MAX_BYTES:
        raise _bad(LOGO_TOO_LARGE)
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(bytes(data)), formats=list(LOGO_FORMATS)) as opened:
            if opened.width * opened.height > LOGO_MAX_PIXELS:
                raise _bad(LOGO_TOO_MANY_PIXELS)
            if opened.format == "JPEG":  # decode at a reduced scale: less memory for big photos
                opened.draft("RGB", (LOGO_MAX * 2, LOGO_MAX * 2))
            opened.load()  # truncated or corrupt files fail here
            ImageOps.exif_transpose(opened, in_place=True)
            has_alpha = opened.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in opened.info
            image = opened.convert("RGBA" if has_alpha else "RGB")  # a copy that outlives `opened`
    except ValidationFailed:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own guard, far above LOGO_MAX_PIXELS
        raise _bad(LOGO_TOO_MANY_PIXELS) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            EOFError) as exc:
        raise _bad(LOGO_NOT_IMAGE) from exc
    image.thumbnail((LOGO_MAX, LOGO_MAX), Image.Resampling.LANCZOS)
    image.info = {}
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return ProcessedLogo(out.getvalue(), "image/png", image.width, image.height)


def set_logo(session: Session, actor: Actor, data: bytes, *, now: datetime) -> ClinicLogo:
    """Replace the clinic's logo with the checked upload `data` (a new row: its id is the new
    version); audited "clinic.logo.set" with the old and new version and size. Raises
    PermissionDenied, ValidationFailed({"logo": message}) (nothing is written)."""
    actor.require(PERMISSION)
    logo = process_logo(data)
    org = _clinic_for_edit(session, actor.org_id)
    old = session.exec(select(ClinicLogo).with_for_update()).first()
    before = {"version": old.id, "width": old.width, "height": old.height} if old else None
    if old is not None:
        session.delete(old)
        session.flush()
    row = ClinicLogo(org_id=actor.org_id, content_type=logo.content_type, data=logo.data, width=logo.width,
                     height=logo.height, updated_at=now)
    session.add(row)
    session.flush()
    org.logo_version = row.id
    session.flush()
    record(session, actor, "clinic.logo.set", "organization", org.id, at=now, changes={"logo": [before, {
        "version": row.id, "width": logo.width, "height": logo.height, "bytes": len(logo.data)}]})
    return row


def remove_logo(session: Session, actor: Actor, *, now: datetime) -> bool:
    """Remove the clinic's logo; audited "clinic.logo.remove" (old version -> None). False
    when there was none (nothing written). Raises PermissionDenied."""
    actor.require(PERMISSION)
    org = _clinic_for_edit(session, actor.org_id)
    row = session.exec(select(ClinicLogo).with_for_update()).first()
    if row is None:
        return False
    record(session, actor, "clinic.logo.remove", "organization", org.id, at=now,
           changes={"logo": [{"version": row.id, "width": row.width, "height": row.height}, None]})
    session.delete(row)
    org.logo_version = None
    session.flush()
    return True


def clinic_of(session: Session, org_id: int) -> Organization:
    """The clinic row of `org_id` (read only). Raises NotFound."""
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound("clinic")
    return org


def public_org_id(session: Session, slug: str) -> int:
    """The id of the clinic named by a public slug. Raises NotFound (malformed or unknown)."""
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise NotFound("clinic")
    org_id = session.exec(select(Organization.id).where(Organization.slug == slug)).first()
    if org_id is None:
        raise NotFound("clinic")
    return org_id


def current_logo(session: Session) -> ClinicLogo:
    """The session's clinic's logo (row-level security scopes it). Raises NotFound."""
    row = session.exec(select(ClinicLogo)).first()
    if row is None:
        raise NotFound("logo")
    return row


def listed_clinics(session: Session, limit: int = 24) -> list[tuple[str, str, int | None]]:
    """(slug, name, logo_version) of the clinics that chose to be listed, by name: the
    landing page. Unlisted clinics are left out (their booking link still works)."""
    rows = session.exec(select(Organization.slug, Organization.name, Organization.logo_version)
                        .where(Organization.listed.is_(True)).order_by(Organization.name, Organization.id)
                        .limit(limit))
    return [(slug, name, version) for slug, name, version in rows]


def logo_url(slug: str, version: int | None) -> str:
    """The public URL of a clinic's logo with its version ("" without a logo):
    "/clinics/glow/logo?v=3"."""
    return f"/clinics/{slug}/logo?v={version}" if version else ""
