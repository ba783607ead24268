"""Signing a consent, and reading the signed records and their PDFs.

Who signs: the client in the portal (Actor.client, own record, portal.self.write; signer
"portal") or a client on a staff tablet (staff with consent.collect; signer "tablet", the
collecting staff member kept). The page sends back the version id and the SHA-256 of the text
it showed: if the template has a newer version (or the text changed) the signature is refused
with StaleConsent, which carries the current text to show.

A signature keeps: time (the caller's clock), IP and user agent (the actor's), the version,
the SHA-256 of the exact text, the method (drawn PNG or typed full name), the photo-use
choice, the signature PNG and a PDF (consent_pdf) in the private media store, under random
keys. The row is append-only (migration 0043) and its text_sha256 must equal its version's
(0046: checked at insert under a lock of the version row). Signing locks the template, reads
the current version fresh, then locks the client row (a merge or a second tap waits); signing
a version again returns the first signature; a failed signing removes the files it stored.

Reading the signed list and downloading a PDF is health information: staff need consent.read
(provider, owner), a client reads only their own; each read is one audit row.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import secrets
import struct
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from medspa.domain.work import on_rollback
from medspa.domain.clinical.photo_store import discard
from medspa.domain.base import is_row_id
from medspa.domain.clients.live import live_client
from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.clinical.consent import ConsentStatus, current_versions, ensure_templates, visit_consents
from medspa.domain.clinical.consent_builtins import PHOTO_CHOICES, PHOTO_USE
from medspa.domain.clinical.consent_models import ConsentSignature, ConsentTemplate, ConsentVersion
from medspa.domain.clinical.consent_pdf import ConsentRecord, render_consent_pdf
from medspa.domain.clinical.photos import MediaStore
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location, Organization
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.textrules import has_invisible, strip_invisible
from medspa.domain.timezones import format_clinic_time

COLLECT, READ = "consent.collect", "consent.read"
MAX_SIGNATURE_BYTES = 300 * 1024
MAX_SIGNATURE_SIDE = 2400
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_URL_PREFIX = "data:image/png;base64,"
UPCOMING = (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN)
NOT_VISITS = (AppointmentStatus.HELD, AppointmentStatus.EXPIRED)
STALE = "This consent was updated while you were reading it. Please read the new text below and sign again."


class StaleConsent(Exception):
    """The version shown is no longer the current one: `current` is what to show now."""

    def __init__(self, current: "ConsentToSign"):
        super().__init__(STALE)
        self.current = current


@dataclass(frozen=True)
class ConsentToSign:
    """A consent waiting for the client's signature, with the exact text to show."""

    template_id: int
    version_id: int
    version: int
    key: str
    kind: str
    title: str
    body: str
    sha256: str
    for_label: str  # "Needed for Botox on Wed, Jul 15" or "Optional: how your photos are used"
    required: bool


@dataclass(frozen=True)
class SignedConsent:
    """A signed consent as lists show it (no signature image, no text)."""

    id: int
    title: str
    version: int
    signed_label: str
    how: str  # "Drawn in the portal", "Typed on a tablet with Nurse Amy"
    choice_label: str


@dataclass(frozen=True)
class ConsentFile:
    """A signed consent's PDF for a download."""

    filename: str
    data: bytes


def _check_client(session: Session, actor: Actor, client_id: object, staff_permission: str,
                  client_permission: str) -> Client:
    """The client the actor may act on (own record for a portal client), else NotFound."""
    if not is_row_id(client_id):
        raise NotFound("client")
    if actor.role == "client":
        if not actor.can(client_permission) or actor.client_id != client_id:
            raise NotFound("client")
    elif not actor.can(staff_permission):
        raise NotFound("client")
    return live_client(session, client_id)


def png_from_data_url(value: object) -> bytes:
    """The PNG bytes of a canvas data URL ("data:image/png;base64,..."); b"" for "" (an empty pad).
    Raises ValidationFailed({"signature"}) for anything else."""
    if value in ("", None):
        return b""
    if not isinstance(value, str) or not value.startswith(DATA_URL_PREFIX) or len(value) > MAX_SIGNATURE_BYTES * 2:
        raise ValidationFailed({"signature": "The signature could not be read. Clear it and sign again."})
    try:
        return base64.b64decode(value[len(DATA_URL_PREFIX):], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed({"signature": "The signature could not be read. Clear it and sign again."}) from exc


def validate_signature_png(data: object) -> bytes:
    """A real, non-blank PNG of at most MAX_SIGNATURE_BYTES and MAX_SIGNATURE_SIDE px a side
    (the size is read from the PNG header before anything is decoded: a decompression bomb is
    refused like any other bad image). Raises ValidationFailed({"signature": message})."""
    from PIL import Image, UnidentifiedImageError

    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ValidationFailed({"signature": "Draw your signature in the box, or type your full name instead."})
    if len(data) > MAX_SIGNATURE_BYTES:
        raise ValidationFailed({"signature": "The signature image is too large. Clear it and sign again."})
    bad = ValidationFailed({"signature": "The signature is not a PNG image. Clear it and sign again."})
    if bytes(data[:8]) != PNG_MAGIC or data[12:16] != b"IHDR" or len(data) < 24:
        raise bad
    width, height = struct.unpack(">II", bytes(data[16:24]))  # from the header: nothing decoded yet
    if max(width, height) > MAX_SIGNATURE_SIDE or min(width, height) < 20:
        raise bad
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format != "PNG":
                raise bad
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            if max(image.size) > MAX_SIGNATURE_SIDE or min(image.size) < 20:
                raise bad
            image.load()
            alpha = image.convert("RGBA").getchannel("A")
            rgb = image.convert("L")
            blank = alpha.getbbox() is None or (image.mode in ("RGB", "L") and rgb.getextrema()[0] > 245)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise bad from exc
    if blank:
        raise ValidationFailed({"signature": "The signature box is empty. Draw your signature, or type your name."})
    return bytes(data)


def _clean_name(value: object) -> str:
    """The typed name with runs of spaces made one. Refuses (ValidationFailed {"typed_name"}) a
    non-string, fewer than 2 or more than 120 characters, no letter, and invisible characters
    (controls, bidi overrides, zero widths: textrules.has_invisible), which would make the PDF
    show a name other than the one stored."""
    name = " ".join(value.split()) if isinstance(value, str) else ""
    if not 2 <= len(name) <= 120 or not any(c.isalpha() for c in name):
        raise ValidationFailed({"typed_name": "Type your full name (2 to 120 characters)."})
    if has_invisible(name):
        raise ValidationFailed({"typed_name": "Type your name with letters only: remove the hidden characters."})
    return name


def _to_sign(version: ConsentVersion, template: ConsentTemplate, for_label: str, required: bool) -> ConsentToSign:
    return ConsentToSign(template.id, version.id, version.version, template.key, template.kind, version.title,
                         version.body, version.sha256, for_label, required)


def consents_to_sign(session: Session, actor: Actor, client_id: int, now: datetime, *,
                     appointment_id: int | None = None) -> list[ConsentToSign]:
    """What the client still has to sign: the missing consents of their upcoming visits (or of
    visit `appointment_id` only), then the photo-use consent while it is unsigned (optional).
    A portal client (own record) or staff with consent.collect. Raises NotFound."""
    _check_client(session, actor, client_id, COLLECT, "portal.self.read")
    ids = ensure_templates(session, actor.org_id, now)
    query = select(Appointment, Service, Location).join(Service, Service.id == Appointment.service_id).join(
        Location, Location.id == Appointment.location_id).where(Appointment.client_id == client_id)
    if appointment_id is not None:
        if not is_row_id(appointment_id):
            raise NotFound("appointment")
        query = query.where(Appointment.id == appointment_id, Appointment.status.notin_(NOT_VISITS))
    else:
        query = query.where(Appointment.status.in_(UPCOMING), Appointment.end_at >= now)
    visits = list(session.exec(query.order_by(Appointment.start_at)))
    if appointment_id is not None and not visits:
        raise NotFound("appointment")
    statuses: dict[int, ConsentStatus] = visit_consents(session, [v[0] for v in visits], now=now)
    templates = {t.id: t for t in session.exec(select(ConsentTemplate))}
    current = current_versions(session, templates)
    by_title = {current[t].title: t for t in current}
    out: list[ConsentToSign] = []
    seen: set[int] = set()
    for appt, svc, loc in visits:
        when = format_clinic_time(appt.start_at, loc.time_zone).split(", 20")[0]
        for title in statuses.get(appt.id, ConsentStatus()).missing:
            tid = by_title.get(title)
            if tid is not None and tid not in seen:
                seen.add(tid)
                out.append(_to_sign(current[tid], templates[tid], f"Needed for {svc.name} on {when}", True))
    photo = ids.get(PHOTO_USE)
    if photo is not None and photo not in seen:
        signed = session.exec(select(ConsentSignature.id).where(ConsentSignature.client_id == client_id,
                                                                ConsentSignature.version_id == current[photo].id)).first()
        if signed is None:
            out.append(_to_sign(current[photo], templates[photo], "Optional: how your photos may be used", False))
    return out


@dataclass(frozen=True)
class TabletVisit:
    """What the client-facing tablet view shows for a visit: first name, service, time and the
    consents to sign (nothing else of the record)."""

    client_id: int
    first_name: str
    service: str
    when: str
    items: list[ConsentToSign]


def tablet_visit(session: Session, actor: Actor, appointment_id: int, now: datetime) -> TabletVisit:
    """The visit's client and what they still have to sign (consent.collect). Raises NotFound."""
    if not actor.can(COLLECT) or not is_row_id(appointment_id):
        raise NotFound("appointment")
    row = session.exec(select(Appointment, Service, Location).join(Service, Service.id == Appointment.service_id)
                       .join(Location, Location.id == Appointment.location_id)
                       .where(Appointment.id == appointment_id)).first()
    if row is None or row[0].client_id is None or row[0].status in NOT_VISITS:
        raise NotFound("appointment")
    appt, svc, loc = row
    items = consents_to_sign(session, actor, appt.client_id, now, appointment_id=appt.id)
    client = session.get(Client, appt.client_id)
    return TabletVisit(appt.client_id, client.first_name, svc.name, format_clinic_time(appt.start_at, loc.time_zone),
                       items)


def _where(session: Session, org_id: int, appointment: Appointment | None) -> tuple[str, str]:
    """(clinic `org_id`'s name, time zone of the visit's location or the clinic's first location).
    By id: every clinic's organization row is readable (the landing page lists them, 0028)."""
    org = session.get(Organization, org_id)
    loc = session.get(Location, appointment.location_id) if appointment is not None else None
    loc = loc or session.exec(select(Location).order_by(Location.id)).first()
    return (org.name if org else ""), (loc.time_zone if loc else "UTC")


def _how(sig: ConsentSignature) -> str:
    drawn = "Drawn" if sig.method == "drawn" else "Typed"
    return f"{drawn} in the portal" if sig.signer == "portal" else f"{drawn} on a tablet with {sig.collected_by or 'staff'}"


def _check_mark(method: object, signature_png: object, typed_name: object) -> tuple[bytes, str]:
    """(PNG, typed name) of a drawn or typed signature. Raises ValidationFailed."""
    if method == "drawn":
        return validate_signature_png(signature_png), ""
    if method == "typed":
        return b"", _clean_name(typed_name)
    raise ValidationFailed({"method": "Choose to draw your signature or type your name."})


def sign_consent(session: Session, actor: Actor, client_id: int, version_id: int, shown_sha256: str, *,
                 method: str, signature_png: bytes = b"", typed_name: str = "", choice: str = "",
                 appointment_id: int | None = None, now: datetime, store: MediaStore) -> SignedConsent:
    """Record the client's signature of version `version_id` whose text hashed to `shown_sha256`
    on their screen. method "drawn" (signature_png: the pad's PNG) or "typed" (typed_name);
    choice for the photo-use consent ("clinical" or "marketing"). now: aware UTC.
    The template is locked (FOR SHARE: an edit waits) before the current version is read fresh
    from the database, then the client row (FOR UPDATE: a merge or a second tap waits). Signing
    a version the client already signed returns that signature (a double tap makes one).
    Raises NotFound (also a client merged away meanwhile), ValidationFailed ({"method"},
    {"signature"}, {"typed_name"}, {"choice"}), StaleConsent (a newer version or another text:
    its .current is what to show)."""
    _check_client(session, actor, client_id, COLLECT, "portal.self.write")
    if not is_row_id(version_id):
        raise NotFound("consent")
    found = session.get(ConsentVersion, version_id)
    if found is None:
        raise NotFound("consent")
    template = session.exec(select(ConsentTemplate).where(ConsentTemplate.id == found.template_id)
                            .with_for_update(read=True)).first()  # edits take it FOR UPDATE
    current = current_versions(session, [template.id])[template.id]  # read after the lock, fresh
    if current.id != version_id or not isinstance(shown_sha256, str) or shown_sha256 != current.sha256:
        raise StaleConsent(_to_sign(current, template, "", template.kind != PHOTO_USE))
    version = current
    client = live_client(session, client_id, lock=True)  # one signing of a client at a time
    appt = None
    if appointment_id is not None:
        appt = session.get(Appointment, appointment_id) if is_row_id(appointment_id) else None
        if appt is None or appt.client_id != client.id or appt.status in NOT_VISITS:
            raise NotFound("appointment")
    if template.kind == PHOTO_USE:
        if not isinstance(choice, str) or choice not in PHOTO_CHOICES:
            raise ValidationFailed({"choice": "Choose how your photos may be used."})
    else:
        choice = ""
    png, name = _check_mark(method, signature_png, typed_name)
    clinic, zone = _where(session, client.org_id, appt)
    earlier = session.exec(select(ConsentSignature).where(ConsentSignature.client_id == client.id,
                                                          ConsentSignature.version_id == version.id)
                           .order_by(ConsentSignature.id)).first()
    if earlier is not None:  # a second tap, or a second device: the first signature stands
        return SignedConsent(earlier.id, version.title, version.version, format_clinic_time(earlier.signed_at, zone),
                             _how(earlier), PHOTO_CHOICES.get(earlier.choice, ""))
    signer = "portal" if actor.role == "client" else "tablet"
    collected = "" if signer == "portal" else (actor.label or actor.role)[:200]
    sig = ConsentSignature(org_id=actor.org_id, client_id=client.id, template_id=template.id, version_id=version.id,
                           appointment_id=appt.id if appt else None, signed_at=now, method=method, typed_name=name,
                           signer=signer, collected_by_user_id=None if signer == "portal" else actor.user_id,
                           collected_by=collected, choice=choice, ip=strip_invisible(actor.ip, 64),
                           user_agent=strip_invisible(actor.user_agent, 400), text_sha256=version.sha256, pdf_key="",
                           pdf_sha256="")
    how = _how(sig)
    pdf = render_consent_pdf(ConsentRecord(
        clinic=clinic, client=f"{client.first_name} {client.last_name}".strip(), title=version.title,
        body=version.body, version=version.version, signed_label=format_clinic_time(now, zone), method=method,
        typed_name=name, signature_png=png, ip=sig.ip, user_agent=sig.user_agent, sha256=version.sha256,
        signer_line=how, choice_label=PHOTO_CHOICES.get(choice, "")))
    token = secrets.token_hex(16)
    written: list[str] = []
    try:
        if png:
            sig.signature_key = f"org-{actor.org_id}/consents/{token}-signature.png"
            store.put(sig.signature_key, png, "image/png")
            written.append(sig.signature_key)
        sig.pdf_key, sig.pdf_sha256 = f"org-{actor.org_id}/consents/{token}.pdf", hashlib.sha256(pdf).hexdigest()
        store.put(sig.pdf_key, pdf, "application/pdf")
        written.append(sig.pdf_key)
        session.add(sig)
        session.flush()
        record(session, actor, "consent.sign", "consent_signature", sig.id, client_id=client.id, at=now,
               template=template.key, version=version.version, method=method, signer=signer, sha256=version.sha256,
               appointment_id=sig.appointment_id)
        session.flush()
    except BaseException:
        discard(store, written)
        raise
    on_rollback(session, lambda: discard(store, written))  # the commit may still fail: no orphan files
    return SignedConsent(sig.id, version.title, version.version, format_clinic_time(now, zone), how,
                         PHOTO_CHOICES.get(choice, ""))


def client_signatures(session: Session, actor: Actor, client_id: int, now: datetime) -> list[SignedConsent]:
    """The client's signed consents, newest first: consent.read staff or the client (own).
    One "consent.read" audit row. Raises NotFound."""
    _check_client(session, actor, client_id, READ, "portal.self.read")
    rows = list(session.exec(select(ConsentSignature, ConsentVersion)
                             .join(ConsentVersion, ConsentVersion.id == ConsentSignature.version_id)
                             .where(ConsentSignature.client_id == client_id)
                             .order_by(ConsentSignature.signed_at.desc(), ConsentSignature.id.desc())))
    _, zone = _where(session, actor.org_id, None)
    record(session, actor, "consent.read", "client", client_id, client_id=client_id, at=now, rows=len(rows))
    return [SignedConsent(sig.id, ver.title, ver.version, format_clinic_time(sig.signed_at, zone), _how(sig),
                          PHOTO_CHOICES.get(sig.choice, "")) for sig, ver in rows]


def signature_pdf(session: Session, actor: Actor, signature_id: int, now: datetime, store: MediaStore) -> ConsentFile:
    """The stored PDF of one signed consent: consent.read staff or the client (own). One
    "consent.download" audit row. Raises NotFound (also when forbidden or the file is gone)."""
    if not is_row_id(signature_id):
        raise NotFound("consent")
    if actor.role == "client" and not actor.can("portal.self.read") or actor.role != "client" and not actor.can(READ):
        raise NotFound("consent")
    sig = session.get(ConsentSignature, signature_id)
    if sig is None or (actor.role == "client" and sig.client_id != actor.client_id):
        raise NotFound("consent")
    try:
        data = store.get(sig.pdf_key)
    except (KeyError, ValueError) as exc:
        raise NotFound("consent") from exc
    if hashlib.sha256(data).hexdigest() != sig.pdf_sha256:
        raise NotFound("consent")
    version = session.get(ConsentVersion, sig.version_id)
    record(session, actor, "consent.download", "consent_signature", sig.id, client_id=sig.client_id, at=now,
           version=version.version if version else None)
    day = sig.signed_at.strftime("%Y-%m-%d")
    return ConsentFile(f"consent-{sig.id}-{day}.pdf", data)


__all__ = ["ConsentFile", "ConsentToSign", "SignedConsent", "StaleConsent", "TabletVisit", "tablet_visit", "client_signatures", "consents_to_sign",
           "png_from_data_url", "sign_consent", "signature_pdf", "validate_signature_png"]
