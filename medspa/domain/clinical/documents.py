"""Client documents: prior prescriptions, reports and images the client uploads in the portal.

Who sees them: the client (own documents, portal.self.read / portal.self.write) and staff with
document.read (provider, owner). Front desk, manager and lab never do; anyone else, another
clinic's document and a missing one get NotFound (missing and forbidden look alike).

What happens to an upload (`add_document`), all on the server:
- at most MAX_BYTES (10 MB), checked before anything is parsed (the message says MB);
- at most MAX_PER_CLIENT documents per client;
- the type is decided by the content (`check_file`), never by the name: a PDF must start with
  "%PDF-" and open with pypdf (a renamed .exe is refused); JPEG and PNG go through the photo
  pipeline's process_image (decoded, orientation applied, EXIF/GPS stripped, re-encoded);
- the bytes go to the private MediaStore under a random key; never Reflex's upload folder.

Every list and every open writes one audit row ("document.read"), an upload one
("document.add"), in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, Column, Integer, String, UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, select

from medspa.domain.work import on_rollback
from medspa.domain.base import is_row_id
from medspa.domain.audit.service import record
from medspa.domain.base import fk, org_fk, pk, tstamp
from medspa.domain.clients.live import live_client
from medspa.domain.clinical.photos import MediaStore, process_image
from medspa.domain.textrules import refuse_control
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor

MAX_BYTES = 10 * 1024 * 1024  # an upload larger than this is refused before it is parsed
MAX_MB = MAX_BYTES // (1024 * 1024)
MAX_PER_CLIENT = 30
KINDS = {"prescription": "Prescription", "lab_report": "Lab report", "image": "Image", "other": "Other"}
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
TOO_LARGE = f"The file is larger than {MAX_MB} MB. Choose a smaller one or scan it at a lower resolution."
NOT_ALLOWED = "This file is not a PDF, JPEG or PNG."
NOT_A_PDF = "This PDF cannot be read. Save it again as PDF and try once more."
EMPTY = "Choose a file to upload."
TOO_MANY = f"At most {MAX_PER_CLIENT} documents per client. Ask the clinic to remove old ones."


class ClientDocument(SQLModel, table=True):
    """One uploaded document of a client; the bytes are in the media store under storage_key."""

    __tablename__ = "client_document"
    __table_args__ = (UniqueConstraint("storage_key", name="uq_client_document_storage_key"),)
    id: int | None = pk()
    org_id: int = org_fk()
    client_id: int = fk("client.id")
    title: str = Field(sa_column=Column(String(120), nullable=False))
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    storage_key: str = Field(sa_column=Column(String(200), nullable=False))
    content_type: str = Field(sa_column=Column(String(40), nullable=False))
    bytes: int = Field(sa_column=Column(Integer, nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    uploaded_by_client: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    uploaded_by_user: int | None = fk("user_account.id", nullable=True, index=False)
    created_at: datetime = tstamp(nullable=False)


@dataclass(frozen=True)
class CheckedFile:
    """An accepted upload as it will be stored: bytes (images re-encoded), MIME type, extension."""

    data: bytes
    content_type: str
    extension: str


@dataclass(frozen=True)
class DocumentInfo:
    """What a list shows of a document (no bytes, no storage key)."""

    id: int
    title: str
    kind: str
    kind_label: str
    content_type: str
    bytes: int
    created_at: datetime
    by_client: bool


@dataclass(frozen=True)
class OpenedFile:
    """The stored bytes of a document or result file with its type and a download name."""

    data: bytes
    content_type: str
    filename: str  # "document-12.pdf": never the client's name


def size_label(n: int) -> str:
    """A byte count for people: "820 KB", "2.4 MB"."""
    if n < 1024 * 1024:
        return f"{max(1, round(n / 1024))} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _pdf_ok(data: bytes) -> bool:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        return len(reader.pages) >= 1
    except Exception:  # noqa: BLE001 - any parser error means "not a readable PDF"
        return False


def check_file(data: bytes, field: str = "file") -> CheckedFile:
    """Decide the type by content and make the bytes safe to store.

    PDF: starts with "%PDF-" and pypdf reads at least one page (kept as uploaded). JPEG/PNG:
    process_image (EXIF/GPS stripped, orientation applied, re-encoded). Raises
    ValidationFailed({field: message}): empty, over MAX_BYTES, another type, unreadable."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ValidationFailed({field: EMPTY})
    if len(data) > MAX_BYTES:
        raise ValidationFailed({field: TOO_LARGE})
    data = bytes(data)
    if data.startswith(b"%PDF-"):
        if not _pdf_ok(data):
            raise ValidationFailed({field: NOT_A_PDF})
        return CheckedFile(data, "application/pdf", "pdf")
    if data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n"):
        try:
            image = process_image(data)
        except ValidationFailed as exc:
            raise ValidationFailed({field: NOT_ALLOWED}) from exc
        return CheckedFile(image.data, image.content_type, image.extension)
    raise ValidationFailed({field: NOT_ALLOWED})


def store_checked(store: MediaStore, org_id: int, folder: str, checked: CheckedFile) -> str:
    """Put a checked file in the private store under a new random key; returns the key."""
    key = f"org-{org_id}/{folder}/{secrets.token_hex(16)}.{checked.extension}"
    store.put(key, checked.data, checked.content_type)
    return key


def _forget(store: MediaStore, key: str) -> None:
    try:
        store.delete(key)
    except Exception:  # noqa: BLE001 - best effort; the original error matters
        pass


def _client_for(session: Session, actor: Actor, client_id: int | None, action: str, *, lock: bool = False) -> int:
    """The client whose documents `actor` may use: a portal client only their own
    (portal.self.*), staff with document.read any live client of the clinic (locked with
    `lock`). Else NotFound (also for a merged-away client)."""
    if actor.role == "client":
        if not actor.can(action) or actor.client_id is None or (client_id is not None and client_id != actor.client_id):
            raise NotFound("document")
        client_id = actor.client_id
    elif not actor.can("document.read") or not is_row_id(client_id):
        raise NotFound("document")
    try:
        return int(live_client(session, client_id, lock=lock, org_id=actor.org_id).id)
    except NotFound:
        raise NotFound("document") from None


def _info(d: ClientDocument) -> DocumentInfo:
    return DocumentInfo(d.id, d.title, d.kind, KINDS.get(d.kind, d.kind), d.content_type, d.bytes, d.created_at,
                        d.uploaded_by_client)


def add_document(session: Session, actor: Actor, data: bytes, title: str, kind: str, now: datetime,
                 store: MediaStore, *, client_id: int | None = None) -> DocumentInfo:
    """Store a document of the portal client `actor` (portal.self.write; staff cannot upload).

    `title`: text of at most 120 characters without control characters (spaces collapsed;
    empty or None: the kind's label); `kind`: a KINDS key. Raises NotFound (not a portal
    client, a merged-away one), ValidationFailed ({"title"}, {"kind"} or {"file"}: empty,
    too large, wrong type, unreadable, too many). Bytes are stored before the row and removed
    again if the row fails. One "document.add" audit row."""
    if actor.role != "client":
        raise NotFound("document")
    # locked: uploads of one client are counted one at a time, and a merge waits or wins
    cid = _client_for(session, actor, client_id, "portal.self.write", lock=True)
    errors: dict[str, str] = {}
    if title is not None and not isinstance(title, str):
        errors["title"] = "Enter the title as text."
    title = " ".join(title.split()) if isinstance(title, str) else ""
    if len(title) > 120:
        errors["title"] = "Keep the title to 120 characters."
    refuse_control(title, "title", errors)
    if not isinstance(kind, str) or kind not in KINDS:
        errors["kind"] = "Choose what kind of document this is."
    if errors:
        raise ValidationFailed(errors)
    count = session.exec(select(func.count()).select_from(ClientDocument)
                         .where(ClientDocument.client_id == cid)).one()
    if count >= MAX_PER_CLIENT:
        raise ValidationFailed({"file": TOO_MANY})
    checked = check_file(data)
    key = store_checked(store, actor.org_id, "documents", checked)
    try:
        doc = ClientDocument(org_id=actor.org_id, client_id=cid, title=title or KINDS[kind], kind=kind,
                             storage_key=key, content_type=checked.content_type, bytes=len(checked.data),
                             sha256=hashlib.sha256(checked.data).hexdigest(), uploaded_by_client=True,
                             uploaded_by_user=actor.user_id, created_at=now)
        session.add(doc)
        session.flush()
    except BaseException:
        _forget(store, key)
        raise
    on_rollback(session, lambda: _forget(store, key))  # the commit may still fail: no orphan file
    record(session, actor, "document.add", "client_document", doc.id, client_id=cid, at=now, kind=kind,
           content_type=checked.content_type, bytes=len(checked.data))
    return _info(doc)


def list_documents(session: Session, actor: Actor, now: datetime, *, client_id: int | None = None
                   ) -> list[DocumentInfo]:
    """A client's documents, newest first: staff with document.read (any client of the clinic,
    `client_id`), or the portal client (own; `client_id` is for staff only). One
    "document.read" audit row (list=True). Raises NotFound (also when forbidden)."""
    if actor.role == "client" and client_id is not None:
        raise NotFound("document")
    cid = _client_for(session, actor, client_id, "portal.self.read")
    docs = session.exec(select(ClientDocument).where(ClientDocument.client_id == cid)
                        .order_by(ClientDocument.created_at.desc(), ClientDocument.id.desc())).all()
    record(session, actor, "document.read", "client", cid, client_id=cid, at=now, list=True, documents=len(docs))
    return [_info(d) for d in docs]


def open_document(session: Session, actor: Actor, document_id: int, now: datetime, store: MediaStore
                  ) -> OpenedFile:
    """The bytes of one document for staff with document.read or its own portal client.
    One "document.read" audit row. Raises NotFound: forbidden, another client's or clinic's,
    missing, bytes gone."""
    if not is_row_id(document_id):
        raise NotFound("document")
    doc = session.get(ClientDocument, document_id)
    if doc is None or doc.org_id != actor.org_id:
        raise NotFound("document")
    _client_for(session, actor, doc.client_id, "portal.self.read")
    try:
        data = store.get(doc.storage_key)
    except (KeyError, ValueError) as exc:
        raise NotFound("document") from exc
    record(session, actor, "document.read", "client_document", doc.id, client_id=doc.client_id, at=now)
    return OpenedFile(data, doc.content_type, f"document-{doc.id}.{EXTENSIONS.get(doc.content_type, 'bin')}")


__all__ = ["KINDS", "MAX_BYTES", "MAX_PER_CLIENT", "CheckedFile", "ClientDocument", "DocumentInfo", "OpenedFile",
           "add_document", "check_file", "list_documents", "open_document", "size_label", "store_checked"]
