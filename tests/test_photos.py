"""Clinical photos (medspa/domain/clinical/photos.py, GET /media/photos/<id>, the chart's photo
panel) on real PostgreSQL: acceptance case PH-1 (orientation applied, GPS and EXIF gone),
size limit, type by content, who may see what (services and the route with the cookie),
other clinics see nothing, exactly one audit row per view, the S3 store against moto."""

from __future__ import annotations

import hashlib
import io
import secrets
import uuid
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw, ImageOps
from sqlalchemy import text
from sqlmodel import select

from medspa.api import media, v1
from medspa.api.app import api
from medspa.clock import FixedClock
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.clinical.photos import (
    MAX_BYTES,
    THUMB_MAX,
    ClinicalPhoto,
    LocalMediaStore,
    S3MediaStore,
    add_photo,
    list_photos,
    media_store_for,
    open_photo,
    process_image,
)
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.models import UserSession
from medspa.domain.identity.service import create_user
from medspa.domain.scheduling.service import hold_slot
from medspa.settings import Settings
from tests.conftest import utc
from tests.factories import build_clinic
from tests.test_handlers import app_settings  # noqa: F401  (fixture)

NOW = utc(2026, 7, 1, 16)
NY = ZoneInfo("America/New_York")
ORIENTATION, GPS_IFD, MAKE, DATETIME_ORIGINAL = 0x0112, 0x8825, 0x010F, 0x9003


# ---------------------------------------------------------------------------- helpers


def jpeg(width: int = 640, height: int = 480, *, orientation: int | None = None, gps: bool = False,
         quality: int = 85) -> bytes:
    """A JPEG from the camera's point of view: a red block in the top-left corner of the raw
    pixels, optional EXIF Orientation and GPS position (plus a camera make)."""
    image = Image.new("RGB", (width, height), (240, 240, 240))
    ImageDraw.Draw(image).rectangle((0, 0, width // 4, height // 4), fill=(220, 0, 0))
    exif = Image.Exif()
    exif[MAKE] = "TestCam"
    if orientation is not None:
        exif[ORIENTATION] = orientation
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (40.0, 44.0, 54.36), 3: "W", 4: (73.0, 59.0, 8.5), 6: 12.0}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def png(width: int = 300, height: int = 200) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 128, 255, 200)).save(out, "PNG")
    return out.getvalue()


def exif_of(data: bytes) -> Image.Exif:
    with Image.open(io.BytesIO(data)) as im:
        return im.getexif()


def visit(clinic, *, hour: int = 14, confirm: bool = True) -> int:
    with clinic.session() as s:
        client = find_or_create_client(s, clinic.system, ClientInput(
            "Ivy", "Stone", f"ivy-{uuid.uuid4().hex[:8]}@example.com", "+12125550160"))
        start = datetime.combine(date(2026, 7, 1), time(hour), tzinfo=NY).astimezone(timezone.utc)
        appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=start, now=NOW, client_id=client.id, confirm=confirm)
        s.commit()
        return appt.id


def person(clinic, role: str) -> tuple[Actor, str]:
    """A staff member of `role` with a live session (made directly, as the 2FA sign-in would)."""
    token = secrets.token_urlsafe(24)
    with clinic.session() as s:
        user = create_user(s, clinic.system, email=f"{role}-{uuid.uuid4().hex[:8]}@example.com",
                           password="long-enough-password", role=role, display_name=f"test {role}")
        s.add(UserSession(org_id=clinic.org_id, user_id=user.id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                          created_at=NOW, last_seen_at=NOW, expires_at=NOW + timedelta(hours=8)))
        s.commit()
        return Actor(org_id=clinic.org_id, role=role, user_id=user.id, label=f"test {role}"), token


def add(clinic, actor: Actor, appointment_id: int, data: bytes, store, kind: str = "before"):
    with clinic.session() as s:
        photo = add_photo(s, actor, appointment_id, data, kind, NOW, store)
        s.commit()
        return photo


def audit_rows(clinic, action: str = "photo.read") -> list:
    with clinic.session() as s:
        return s.execute(text("select actor_role, client_id, object_type, object_id, detail from audit_event "
                              "where action = :a order by id"), {"a": action}).all()


@pytest.fixture
def store(tmp_path) -> LocalMediaStore:
    return LocalMediaStore(tmp_path / "media")


@pytest.fixture
def nurse(clinic) -> tuple[Actor, str]:
    return person(clinic, "provider")


@pytest.fixture
def http(engine, store):
    clock = FixedClock(NOW)
    api.dependency_overrides[v1.get_db_engine] = lambda: engine
    api.dependency_overrides[v1.get_clock] = lambda: clock
    api.dependency_overrides[media.get_media_store] = lambda: store
    yield TestClient(api)
    api.dependency_overrides.clear()


def get(http, url: str, token: str | None, **headers):
    cookies = {"cookie": f"medspa_session={token}"} if token else {}
    return http.get(url, headers={**cookies, **headers})


# ---------------------------------------------------------------------------- PH-1


def test_ph1_orientation_applied_and_gps_stripped(clinic, nurse, store):
    """PH-1: a 4032x3024 JPEG with EXIF Orientation=6 and GPS tags is uploaded: the stored image
    and its thumbnail are portrait (the display copy 1920x2560, issue 18, and the thumbnail
    scaled), and the stored bytes carry no GPS tags and no Orientation other than 1."""
    upload = jpeg(4032, 3024, orientation=6, gps=True)
    sent = exif_of(upload)  # the test image really carries what the case describes
    assert sent[ORIENTATION] == 6 and sent.get_ifd(GPS_IFD)[1] == "N" and len(upload) < MAX_BYTES

    appt = visit(clinic)
    photo = add(clinic, nurse[0], appt, upload, store)
    assert (photo.width, photo.height, photo.content_type) == (1920, 2560, "image/jpeg")

    with clinic.session() as s:
        row = s.exec(select(ClinicalPhoto).where(ClinicalPhoto.id == photo.id)).one()
    stored, thumb = store.get(row.storage_key), store.get(row.thumb_key)
    assert row.sha256 == hashlib.sha256(stored).hexdigest() and row.bytes == len(stored)
    with Image.open(io.BytesIO(stored)) as im:
        assert im.format == "JPEG" and im.size == (1920, 2560)
        # the rotation went the right way: the camera's top-left corner is now top-right
        assert im.getpixel((1920 - 50, 50))[0] > 180 and im.getpixel((50, 50))[1] > 180
    with Image.open(io.BytesIO(thumb)) as im:
        assert im.format == "JPEG" and im.height == THUMB_MAX and im.width == 300  # 3024:4032 = 300:400
    for data in (stored, thumb):
        exif = exif_of(data)
        assert GPS_IFD not in exif and not exif.get_ifd(GPS_IFD)
        assert exif.get(ORIENTATION, 1) == 1
        assert MAKE not in exif and b"Exif\x00\x00" not in data and b"TestCam" not in data
        with Image.open(io.BytesIO(data)) as im:  # nothing left to rotate: shown as stored
            assert ImageOps.exif_transpose(im).size == im.size

    # the same bytes come back through the service (and the route, below)
    with clinic.session() as s:
        opened = open_photo(s, nurse[0], photo.id, NOW, store)
        s.commit()
    assert opened.data == stored and opened.filename == f"photo-{photo.id}.jpg"


def test_png_stays_png_with_a_thumbnail_and_landscape_stays_landscape(clinic, nurse, store):
    appt = visit(clinic)
    photo = add(clinic, nurse[0], appt, png(1200, 800), store, kind="after")
    assert (photo.width, photo.height, photo.content_type, photo.kind) == (1200, 800, "image/png", "after")
    plain = process_image(jpeg(1000, 500))
    with Image.open(io.BytesIO(plain.thumb)) as im:
        assert im.size == (400, 200)
    small = process_image(jpeg(120, 90, orientation=8))  # never enlarged; Orientation 8 -> 90 x 120
    assert (small.width, small.height) == (90, 120)
    with Image.open(io.BytesIO(small.thumb)) as im:
        assert im.size == (90, 120)


# ---------------------------------------------------------------------------- input checks


def _nothing_stored(clinic, store) -> None:
    with clinic.session() as s:
        assert s.execute(text("select count(*) from clinical_photo")).scalar() == 0
    assert not store.root.exists() or not any(p.is_file() for p in store.root.rglob("*"))


def test_size_limit_on_the_server(clinic, nurse, store):
    appt = visit(clinic)
    too_big = jpeg(64, 64) + b"\0" * (MAX_BYTES + 1 - len(jpeg(64, 64)))
    assert len(too_big) == MAX_BYTES + 1
    with pytest.raises(ValidationFailed) as err:
        add(clinic, nurse[0], appt, too_big, store)
    assert "larger than 15 MB" in err.value.fields["photo"]
    _nothing_stored(clinic, store)
    assert audit_rows(clinic, "photo.add") == []


@pytest.mark.parametrize("data", [
    b"this is a text file renamed to photo.jpg\n" * 20,
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n",
    b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    b"",
], ids=["text-as-jpg", "pdf", "svg", "empty"])
def test_files_that_are_not_jpeg_or_png_are_refused(clinic, nurse, store, data):
    appt = visit(clinic)
    with pytest.raises(ValidationFailed) as err:
        add(clinic, nurse[0], appt, data, store)
    assert set(err.value.fields) == {"photo"}
    _nothing_stored(clinic, store)


def test_other_image_formats_and_broken_jpegs_are_refused(clinic, nurse, store):
    appt = visit(clinic)
    gif, bmp = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (50, 50)).save(gif, "GIF")
    Image.new("RGB", (50, 50)).save(bmp, "BMP")
    truncated = jpeg(800, 600)[:2000]
    for data in (gif.getvalue(), bmp.getvalue(), truncated):
        with pytest.raises(ValidationFailed) as err:
            add(clinic, nurse[0], appt, data, store)
        assert err.value.fields == {"photo": "This file is not a JPEG, PNG or HEIC photo."}
    with pytest.raises(ValidationFailed) as err:
        add(clinic, nurse[0], appt, jpeg(), store, kind="during")
    assert set(err.value.fields) == {"kind"}
    _nothing_stored(clinic, store)


def test_a_hold_is_not_a_visit(clinic, nurse, store):
    held = visit(clinic, confirm=False)
    with pytest.raises(NotFound):
        add(clinic, nurse[0], held, jpeg(), store)


# ---------------------------------------------------------------------------- who may see what


@pytest.mark.parametrize("role", ["front_desk", "manager", "lab"])
def test_only_providers_and_owners_see_or_add_photos(clinic, nurse, store, role):
    appt = visit(clinic)
    photo = add(clinic, nurse[0], appt, jpeg(), store)
    actor, _ = person(clinic, role)
    others = [actor, Actor.client(clinic.org_id, 1), clinic.public, clinic.system]
    for who in others:
        with clinic.session() as s:
            with pytest.raises(NotFound):
                open_photo(s, who, photo.id, NOW, store)
            with pytest.raises(NotFound):
                list_photos(s, who, appt, NOW)
            with pytest.raises(NotFound):
                add_photo(s, who, appt, jpeg(), "after", NOW, store)
            s.rollback()
    assert audit_rows(clinic) == []
    owner, _ = person(clinic, "owner")
    add(clinic, owner, appt, jpeg(), store, kind="after")
    with clinic.session() as s:
        assert [p.kind for p in list_photos(s, owner, appt, NOW)] == ["before", "after"]


def test_another_clinic_sees_nothing(engine, owner_engine, clinic, nurse, store):
    appt = visit(clinic)
    photo = add(clinic, nurse[0], appt, jpeg(), store)
    other = build_clinic(engine, owner_engine)
    stranger, _ = person(other, "owner")
    with other.session() as s:
        for call in (lambda: open_photo(s, stranger, photo.id, NOW, store),
                     lambda: open_photo(s, stranger, photo.id, NOW, store, thumb=True),
                     lambda: list_photos(s, stranger, appt, NOW),
                     lambda: add_photo(s, stranger, appt, jpeg(), "after", NOW, store)):
            with pytest.raises(NotFound):
                call()
        # row-level security, not only the service: the row is invisible to the other clinic
        assert s.execute(text("select count(*) from clinical_photo")).scalar() == 0
        s.rollback()
    with clinic.session() as s:
        assert len(list_photos(s, nurse[0], appt, NOW)) == 1


def test_each_view_is_exactly_one_audit_row(clinic, nurse, store):
    appt = visit(clinic)
    photo = add(clinic, nurse[0], appt, jpeg(), store)
    with clinic.session() as s:
        client_id = s.exec(select(ClinicalPhoto.client_id).where(ClinicalPhoto.id == photo.id)).one()
    assert [(r.actor_role, r.client_id, r.object_id) for r in audit_rows(clinic, "photo.add")] == [
        ("provider", client_id, str(photo.id))]
    with clinic.session() as s:
        list_photos(s, nurse[0], appt, NOW)
        s.commit()
    assert [(r.object_type, r.object_id, r.detail["photos"]) for r in audit_rows(clinic)] == [
        ("appointment", str(appt), 1)]
    for thumb in (False, True):
        with clinic.session() as s:
            open_photo(s, nurse[0], photo.id, NOW, store, thumb=thumb)
            s.commit()
    rows = audit_rows(clinic)
    assert len(rows) == 3
    assert [(r.object_type, r.client_id, r.detail["variant"]) for r in rows[1:]] == [
        ("clinical_photo", client_id, "full"), ("clinical_photo", client_id, "thumb")]


# ---------------------------------------------------------------------------- the route


def test_route_serves_the_photo_privately_to_the_provider(clinic, nurse, store, http):
    appt = visit(clinic)
    photo = add(clinic, nurse[0], appt, jpeg(4032, 3024, orientation=6, gps=True), store)
    full = get(http, f"/media/photos/{photo.id}", nurse[1])
    assert full.status_code == 200, full.text
    assert full.headers["content-type"] == "image/jpeg"
    assert full.headers["cache-control"] == "private, no-store"
    assert full.headers["x-content-type-options"] == "nosniff"
    assert full.headers["content-disposition"] == f'inline; filename="photo-{photo.id}.jpg"'
    with Image.open(io.BytesIO(full.content)) as im:
        assert im.size == (1920, 2560) and GPS_IFD not in im.getexif()
    thumb = get(http, f"/media/photos/{photo.id}?thumb=1", nurse[1])
    assert thumb.status_code == 200 and thumb.headers["cache-control"] == "private, no-store"
    with Image.open(io.BytesIO(thumb.content)) as im:
        assert im.size == (300, 400)
    rows = audit_rows(clinic)
    assert [(r.actor_role, r.object_id, r.detail["variant"]) for r in rows] == [
        ("provider", str(photo.id), "full"), ("provider", str(photo.id), "thumb")]


def test_route_is_404_for_everyone_else(engine, owner_engine, clinic, nurse, store, http):
    appt = visit(clinic)
    photo = add(clinic, nurse[0], appt, jpeg(), store)
    url = f"/media/photos/{photo.id}"
    _, desk = person(clinic, "front_desk")
    _, manager = person(clinic, "manager")
    other = build_clinic(engine, owner_engine)
    _, stranger = person(other, "owner")
    for token in (None, "forged-token", desk, manager, stranger):
        answer = get(http, url, token)
        assert answer.status_code == 404 and answer.json() == {"error": "not_found"}
        assert answer.headers["cache-control"] == "private, no-store"
        assert get(http, url + "?thumb=1", token).status_code == 404
    for bad in ("/media/photos/abc", "/media/photos/0", f"{url}?thumb=2", f"{url}?thumb=1&thumb=0",
                f"{url}?x=1", "/media/photos/99999999999999", "/media/photos/99999999999999999999",
                f"/media/photos/{photo.id}.jpg", "/media/photos/"):
        assert get(http, bad, nurse[1]).status_code == 404, bad
    # a request another site started never gets the bytes (even if a cookie came along)
    assert get(http, url, nurse[1], **{"sec-fetch-site": "cross-site"}).status_code == 404
    assert get(http, url, nurse[1], origin="https://evil.example").status_code == 404
    assert audit_rows(clinic) == [] and audit_rows(other) == []
    # a revoked session is refused too
    with clinic.session() as s:
        s.execute(text("update user_session set revoked_at = :t where token_hash = :h"),
                  {"t": NOW, "h": hashlib.sha256(nurse[1].encode()).hexdigest()})
        s.commit()
    assert get(http, url, nurse[1]).status_code == 404
    assert audit_rows(clinic) == []


def test_missing_bytes_are_404_and_not_audited(clinic, nurse, store, http):
    appt = visit(clinic)
    photo = add(clinic, nurse[0], appt, jpeg(), store)
    with clinic.session() as s:
        row = s.exec(select(ClinicalPhoto).where(ClinicalPhoto.id == photo.id)).one()
    store.delete(row.storage_key)
    assert get(http, f"/media/photos/{photo.id}", nurse[1]).status_code == 404
    assert get(http, f"/media/photos/{photo.id}?thumb=1", nurse[1]).status_code == 200
    assert len(audit_rows(clinic)) == 1


# ---------------------------------------------------------------------------- storage


def test_local_store_is_private_and_refuses_odd_keys(tmp_path):
    store = LocalMediaStore(tmp_path / "media")
    store.put("org-1/photos/abc.jpg", b"x", "image/jpeg")
    path = tmp_path / "media" / "org-1" / "photos" / "abc.jpg"
    assert path.read_bytes() == b"x" and path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "media" / "org-1").stat().st_mode & 0o777 == 0o700
    for key in ("../etc/passwd", "/abs/key.jpg", "org-1/../../x", "Org/UPPER.jpg", "a//b"):
        with pytest.raises(ValueError):
            store.put(key, b"x", "image/jpeg")
    with pytest.raises(KeyError):
        store.get("org-1/photos/missing.jpg")


def test_the_store_follows_the_settings(tmp_path):
    local = media_store_for(Settings(media_dir=tmp_path / "m"))
    assert isinstance(local, LocalMediaStore) and local.root == (tmp_path / "m").resolve()
    assert media_store_for(Settings(var_dir=tmp_path)).root == (tmp_path / "media").resolve()


def test_the_panel_refuses_a_media_folder_inside_reflexs_public_upload_folder(tmp_path, monkeypatch):
    import reflex as rx

    from medspa.features.charting import photos as panel

    public = tmp_path / "uploaded_files"
    monkeypatch.setattr(rx, "get_upload_dir", lambda: public)
    monkeypatch.setattr(panel, "get_settings", lambda: Settings(media_dir=public / "media"))
    with pytest.raises(RuntimeError, match="public upload folder"):
        panel.private_store()
    monkeypatch.setattr(panel, "get_settings", lambda: Settings(media_dir=tmp_path / "private"))
    assert isinstance(panel.private_store(), LocalMediaStore)


@pytest.fixture
def s3(monkeypatch):
    """moto's in-process S3 (no network, no AWS account)."""
    moto = pytest.importorskip("moto")
    import boto3
    from botocore.config import Config

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1", config=Config(signature_version="s3v4"))
        client.create_bucket(Bucket="medspa-photos")
        yield client


def test_s3_store_private_encrypted_objects_and_short_urls(clinic, nurse, s3):
    store = S3MediaStore("medspa-photos", client=s3)
    appt = visit(clinic)
    photo = add(clinic, nurse[0], appt, jpeg(4032, 3024, orientation=6, gps=True), store)
    with clinic.session() as s:
        row = s.exec(select(ClinicalPhoto).where(ClinicalPhoto.id == photo.id)).one()
        opened = open_photo(s, nurse[0], photo.id, NOW, store)
        s.commit()
    for key in (row.storage_key, row.thumb_key):
        head = s3.head_object(Bucket="medspa-photos", Key=key)
        assert head["ServerSideEncryption"] == "AES256" and head["ContentType"] == "image/jpeg"
        grants = s3.get_object_acl(Bucket="medspa-photos", Key=key)["Grants"]
        assert all("URI" not in g["Grantee"] for g in grants)  # no AllUsers / AuthenticatedUsers grant
    with Image.open(io.BytesIO(opened.data)) as im:
        assert im.size == (1920, 2560) and GPS_IFD not in im.getexif()
    url = store.presigned_url(row.storage_key, expires_in=3600)
    assert "X-Amz-Expires=300" in url and "X-Amz-Signature=" in url  # capped at 5 minutes
    assert "X-Amz-Expires=60" in store.presigned_url(row.thumb_key)
    store.delete(row.thumb_key)
    with clinic.session() as s, pytest.raises(NotFound):
        open_photo(s, nurse[0], photo.id, NOW, store, thumb=True)
    assert isinstance(media_store_for(Settings(s3_bucket="medspa-photos")), S3MediaStore)


# ---------------------------------------------------------------------------- the chart's photo panel


def panel_state(token: str | None, appointment_id: int):
    """PhotosState of a tab at /chart/<appointment_id> whose handshake carried `token`."""
    from reflex.istate.data import RouterData

    from medspa.features.charting.photos import PhotosState
    from tests.test_handlers import state_for

    state = state_for(PhotosState, token)
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    root.router = RouterData.from_router_data({"headers": dict(root.router.headers.raw_headers), "pathname":
                                               "/chart/[appointment_id]", "asPath": f"/chart/{appointment_id}"})
    return state


def upload_file(data: bytes, name: str = "photo.jpg", size: int | None = None):
    import reflex as rx
    from pathlib import Path

    return rx.UploadFile(file=io.BytesIO(data), path=Path(name), size=size)


def test_panel_upload_checks_size_and_role_on_the_server(clinic, nurse, tmp_path, monkeypatch, app_settings):
    from medspa.features.charting import photos as panel
    from medspa.features.charting.photos import PhotosState
    from tests.test_handlers import call, run

    media_settings = Settings(database_url=app_settings.database_url,
                              database_owner_url=app_settings.database_owner_url, media_dir=tmp_path / "media")
    monkeypatch.setattr(panel, "get_settings", lambda: media_settings)
    appt = visit(clinic)
    state = panel_state(nurse[1], appt)
    run(call(PhotosState.load, state))
    assert state.allowed and state.can_upload and state.photos == []

    # the browser's max_size is bypassed: the server still refuses (declared size, then real size)
    run(call(PhotosState.upload, state, [upload_file(b"\xff\xd8" + b"\0" * MAX_BYTES, size=10)]))
    assert "larger than 15 MB" in state.error
    run(call(PhotosState.upload, state, [upload_file(b"x", size=MAX_BYTES + 1)]))
    assert "larger than 15 MB" in state.error
    run(call(PhotosState.upload, state, [upload_file(b"not an image", name="fake.jpg")]))
    assert state.error == "This file is not a JPEG, PNG or HEIC photo."
    _nothing_stored(clinic, LocalMediaStore(tmp_path / "media"))

    run(call(PhotosState.set_kind, state, "after"))
    run(call(PhotosState.upload, state, [upload_file(jpeg(4032, 3024, orientation=6, gps=True))]))
    assert state.error == "" and state.notice == "After photo added."
    assert [(p.kind, p.label) for p in state.photos] == [("after", "After · Front · 1920 × 2560")]
    photo_id = state.photos[0].id
    assert state.photos[0].thumb_url == f"/media/photos/{photo_id}?thumb=1"
    run(call(PhotosState.open, state, photo_id))
    assert state.viewing.full_url == f"/media/photos/{photo_id}"
    run(call(PhotosState.open, state, photo_id + 1000))  # not one of this visit's photos
    assert state.viewing.id == 0
    # nothing of it under Reflex's public upload folder
    import reflex as rx

    public = rx.get_upload_dir()
    assert not public.exists() or not any(p.is_file() for p in public.rglob("*"))

    # the front desk: no panel, no upload
    _, desk = person(clinic, "front_desk")
    desk_state = panel_state(desk, appt)
    run(call(PhotosState.load, desk_state))
    assert not desk_state.allowed and desk_state.photos == []
    desk_state.allowed, desk_state._appointment_id = True, appt  # a hostile browser
    run(call(PhotosState.upload, desk_state, [upload_file(jpeg())]))
    with clinic.session() as s:
        assert s.execute(text("select count(*) from clinical_photo")).scalar() == 1
