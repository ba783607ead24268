"""Client documents (medspa/domain/clinical/documents.py via order_actions) on real
PostgreSQL: type by content (a renamed .exe refused, a broken PDF refused), EXIF/GPS stripped
from images, size and count limits with their messages, who may list and open them (the
client own only; provider/owner; never front desk, manager nor lab), one audit row each."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import text

from medspa.domain.clinical import documents as docs
from medspa.domain.clinical import order_actions as oa
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.clinical.photos import LocalMediaStore
from tests.test_orders import audit, kw, new_client, who

GPS_IFD = 0x8825


@pytest.fixture
def store(tmp_path) -> LocalMediaStore:
    return LocalMediaStore(tmp_path / "media")


def pdf() -> bytes:
    from fpdf import FPDF

    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=12)
    doc.cell(text="Prescription: tretinoin 0.025%")
    return bytes(doc.output())


def png_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif[GPS_IFD] = {1: "N", 2: (40.0, 44.0, 54.36), 3: "W", 4: (73.0, 59.0, 8.5)}
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (10, 200, 10)).save(out, "PNG", exif=exif)
    return out.getvalue()


def upload(clinic, cid, data, store, title="My prescription", kind="prescription"):
    return oa.do_add_document(who(clinic, "client", cid), data, title, kind, store=store, **kw(clinic))


def test_pdf_and_png_accepted_exif_stripped(clinic, store):
    cid = new_client(clinic)
    data = png_with_gps()
    with Image.open(io.BytesIO(data)) as im:
        assert GPS_IFD in im.getexif()  # the upload really carries a position
    img = upload(clinic, cid, data, store, "Old results photo", "image")
    paper_bytes = pdf()
    paper = upload(clinic, cid, paper_bytes, store)
    assert (img.content_type, paper.content_type, paper.kind_label) == ("image/png", "application/pdf", "Prescription")
    got = oa.fetch_document_file(who(clinic, "provider"), img.id, store=store, **kw(clinic))
    with Image.open(io.BytesIO(got.data)) as im:
        assert im.format == "PNG" and not im.getexif() and "exif" not in im.info
    assert got.filename == f"document-{img.id}.png"
    assert oa.fetch_document_file(who(clinic, "client", cid), paper.id, store=store, **kw(clinic)).data == paper_bytes
    listed = oa.fetch_documents(who(clinic, "owner"), cid, **kw(clinic))
    assert [d.title for d in listed] == ["My prescription", "Old results photo"]  # newest first
    untitled = upload(clinic, cid, pdf(), store, "  ", "lab_report")
    assert untitled.title == "Lab report"


def test_type_by_content_not_name(clinic, store):
    cid = new_client(clinic)
    for data, message in ((b"MZ\x90\x00\x03" + b"\x00" * 200, docs.NOT_ALLOWED),  # an .exe renamed .pdf
                          (b"%PDF-1.7\nnot really a pdf at all", docs.NOT_A_PDF),
                          (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, docs.NOT_ALLOWED),
                          (b"", docs.EMPTY), (b"GIF89a....", docs.NOT_ALLOWED)):
        with pytest.raises(ValidationFailed) as err:
            upload(clinic, cid, data, store)
        assert err.value.fields == {"file": message}
    with clinic.session() as s:
        assert s.execute(text("select count(*) from client_document where client_id = :c"), {"c": cid}).scalar() == 0
    with pytest.raises(ValidationFailed) as err:
        upload(clinic, cid, pdf(), store, kind="selfie")
    assert "kind" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        upload(clinic, cid, pdf(), store, title="t" * 121)
    assert "title" in err.value.fields


def test_size_and_count_limits_say_so(clinic, store, monkeypatch):
    cid = new_client(clinic)
    big = b"%PDF-1.4\n" + b"0" * docs.MAX_BYTES
    with pytest.raises(ValidationFailed) as err:
        upload(clinic, cid, big, store)
    assert err.value.fields["file"] == "The file is larger than 10 MB. Choose a smaller one or scan it at a lower resolution."
    monkeypatch.setattr(docs, "MAX_PER_CLIENT", 2)
    upload(clinic, cid, pdf(), store)
    upload(clinic, cid, pdf(), store)
    with pytest.raises(ValidationFailed) as err:
        upload(clinic, cid, pdf(), store)
    assert "At most" in err.value.fields["file"]


def test_who_reads_documents_and_audit(clinic, store):
    cid, other = new_client(clinic), new_client(clinic, "Zoe")
    d = upload(clinic, cid, pdf(), store)
    for role in ("front_desk", "manager", "lab"):
        with pytest.raises(NotFound):
            oa.fetch_documents(who(clinic, role), cid, **kw(clinic))
        with pytest.raises(NotFound):
            oa.fetch_document_file(who(clinic, role), d.id, store=store, **kw(clinic))
    with pytest.raises(NotFound):  # another client
        oa.fetch_document_file(who(clinic, "client", other), d.id, store=store, **kw(clinic))
    with pytest.raises(NotFound):
        oa.fetch_documents(who(clinic, "client", other), cid, **kw(clinic))
    assert oa.fetch_documents(who(clinic, "client", other), **kw(clinic)) == []
    with pytest.raises(NotFound):  # staff do not upload in the client's name
        oa.do_add_document(who(clinic, "provider"), pdf(), "x", "other", store=store, **kw(clinic))
    oa.fetch_documents(who(clinic, "provider"), cid, **kw(clinic))
    oa.fetch_document_file(who(clinic, "provider"), d.id, store=store, **kw(clinic))
    adds, reads = audit(clinic, "document.add"), audit(clinic, "document.read")
    assert [(a.actor_role, a.client_id) for a in adds] == [("client", cid)]
    assert [(r.actor_role, r.client_id) for r in reads] == [("client", other), ("provider", cid), ("provider", cid)]
