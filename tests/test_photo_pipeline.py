"""Issue 18 photos on real PostgreSQL: HEIC accepted and converted (made here with pillow-heif),
orientation and GPS handled for HEIC too, size limit message in MB, the display copy of at most
DISPLAY_MAX px, the clinic's keep-originals setting, tags (area, angle, kind) and their
validation, the client's timeline in date order with its filters, tag edits, portal sharing
only with shared mark AND signed photo-use consent, and permission and audit on every read."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timezone

import pillow_heif
import pytest
from PIL import Image, ImageDraw
from sqlalchemy import text
from sqlmodel import select

from medspa.domain.clinical import photo_actions
from medspa.domain.clinical.consent import current_versions, ensure_templates
from medspa.domain.clinical.consent_builtins import PHOTO_USE
from medspa.domain.clinical.consent_signing import sign_consent
from medspa.domain.clinical.photo_timeline import (client_timeline, photo_consent_signed, portal_open_photo,
                                                   portal_photos, share_photo, tag_photo)
from medspa.domain.clinical.photos import (DISPLAY_MAX, MAX_BYTES, ClinicalPhoto, add_photo, open_photo,
                                           process_image)
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import hold_slot
from tests.consent_support import MemoryStore
from medspa.domain.clinical.photos import LocalMediaStore
from tests.test_handlers import app_settings  # noqa: F401  (fixture)
from tests.test_photos import GPS_IFD, NOW, NY, ORIENTATION, audit_rows, exif_of, jpeg, person, visit


@pytest.fixture(name="store")
def store_fixture(tmp_path) -> LocalMediaStore:
    return LocalMediaStore(tmp_path / "media")


@pytest.fixture(name="nurse")
def nurse_fixture(clinic) -> tuple[Actor, str]:
    return person(clinic, "provider")


def heic(width: int = 1200, height: int = 900, *, gps: bool = True, orientation: int | None = None) -> bytes:
    """An iPhone-like HEIC made with pillow-heif: red block top-left, GPS and camera make in EXIF."""
    pillow_heif.register_heif_opener()
    image = Image.new("RGB", (width, height), (235, 235, 235))
    ImageDraw.Draw(image).rectangle((0, 0, width // 4, height // 4), fill=(220, 0, 0))
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    if orientation is not None:
        exif[ORIENTATION] = orientation
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (40.0, 44.0, 54.36), 3: "W", 4: (73.0, 59.0, 8.5)}
    out = io.BytesIO()
    image.save(out, "HEIF", quality=80, exif=exif.tobytes())
    return out.getvalue()


def add(clinic, actor, appt, data, store, kind="before", **tags):
    with clinic.session() as s:
        photo = add_photo(s, actor, appt, data, kind, NOW, store, **tags)
        s.commit()
        return photo


def visit_on(clinic, client_id: int, day: date, hour: int = 14) -> int:
    with clinic.session() as s:
        start = datetime.combine(day, time(hour), tzinfo=NY).astimezone(timezone.utc)
        appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=start, now=datetime(2026, 1, 1, tzinfo=timezone.utc), client_id=client_id,
                         confirm=True)
        s.commit()
        return appt.id


def client_of(clinic, appt: int) -> int:
    with clinic.session() as s:
        return s.get(Appointment, appt).client_id


def sign_photo_consent(clinic, client_id: int) -> None:
    desk = Actor(org_id=clinic.org_id, role="front_desk", label="test desk")
    with clinic.session() as s:
        ids = ensure_templates(s, clinic.org_id, NOW)
        version = current_versions(s, [ids[PHOTO_USE]])[ids[PHOTO_USE]]
        sign_consent(s, desk, client_id, version.id, version.sha256, method="typed", typed_name="Ivy Stone",
                     choice="clinical", now=NOW, store=MemoryStore())
        s.commit()


# ---------------------------------------------------------------------------- pipeline


def test_heic_is_accepted_stored_as_jpeg_without_gps(clinic, nurse, store):
    upload = heic(1200, 900)
    assert upload[4:12] == b"ftypheic"
    appt = visit(clinic)
    photo = add(clinic, nurse[0], appt, upload, store, kind="after", area="lips", angle="front")
    assert (photo.content_type, photo.width, photo.height) == ("image/jpeg", 1200, 900)
    assert (photo.area, photo.angle, photo.kind) == ("lips", "front", "after")
    with clinic.session() as s:
        row = s.exec(select(ClinicalPhoto).where(ClinicalPhoto.id == photo.id)).one()
    stored = store.get(row.storage_key)
    assert row.storage_key.endswith(".jpg") and row.original_key is None
    with Image.open(io.BytesIO(stored)) as im:
        assert im.format == "JPEG" and im.size == (1200, 900)
        assert im.getpixel((50, 50))[0] > 180 and im.getpixel((1150, 850))[1] > 180  # red block still top-left
    exif = exif_of(stored)
    assert GPS_IFD not in exif and b"Apple" not in stored and b"Exif\x00\x00" not in stored
    [added] = audit_rows(clinic, "photo.add")
    assert added.detail["source"] == "HEIF" and added.detail["area"] == "lips"


def test_heic_orientation_ends_up_applied_once(clinic, nurse, store):
    """A HEIC whose EXIF says "turn 90°" (Orientation 6) is stored portrait: pillow-heif hands
    the rotation to libheif and exif_transpose must not turn it a second time."""
    processed = process_image(heic(800, 600, orientation=6))
    assert (processed.width, processed.height, processed.source_format) == (600, 800, "HEIF")
    with Image.open(io.BytesIO(processed.data)) as im:
        assert im.size == (600, 800) and exif_of(processed.data).get(ORIENTATION, 1) == 1
        # turned once, clockwise like the JPEG case: the camera's top-left corner is now top-right
        assert im.getpixel((600 - 50, 50))[0] > 180 and im.getpixel((50, 50))[1] > 180


def test_display_copy_is_bounded_and_originals_only_when_the_clinic_keeps_them(clinic, nurse, store):
    appt = visit(clinic)
    big = jpeg(4000, 3000)
    photo = add(clinic, nurse[0], appt, big, store)
    assert (photo.width, photo.height) == (DISPLAY_MAX, 1920) and not photo.has_original
    with clinic.session() as s:
        row = s.get(ClinicalPhoto, photo.id)
        assert row.original_key is None and row.original_width is None

    owner = Actor(org_id=clinic.org_id, role="owner", label="test owner", user_id=None)
    with pytest.raises(NotFound):
        photo_actions.do_set_keep_originals(nurse[0], True, engine=clinic.engine)
    assert photo_actions.fetch_keep_originals(owner, engine=clinic.engine) is False
    assert photo_actions.do_set_keep_originals(owner, True, engine=clinic.engine) is True
    assert photo_actions.fetch_keep_originals(owner, engine=clinic.engine) is True

    kept = add(clinic, nurse[0], appt, big, store)
    small = add(clinic, nurse[0], appt, jpeg(800, 600), store)
    with clinic.session() as s:
        row = s.get(ClinicalPhoto, kept.id)
        small_row = s.get(ClinicalPhoto, small.id)
        assert (row.width, row.height, row.original_width, row.original_height) == (DISPLAY_MAX, 1920, 4000, 3000)
        original = store.get(row.original_key)
        assert row.original_bytes == len(original) and GPS_IFD not in exif_of(original)
        with Image.open(io.BytesIO(original)) as im:
            assert im.size == (4000, 3000)
        # a photo small enough is its own original: one object, not two
        assert small_row.original_key == small_row.storage_key and small_row.original_width == 800
        opened = open_photo(s, nurse[0], kept.id, NOW, store, original=True)
        s.commit()
    assert opened.data == original and opened.filename == f"photo-{kept.id}-original.jpg"
    assert audit_rows(clinic)[-1].detail["variant"] == "original"
    with clinic.session() as s, pytest.raises(NotFound):
        open_photo(s, nurse[0], photo.id, NOW, store, original=True)  # stored before the setting: none kept
    changed = audit_rows(clinic, "clinic.photo_originals")
    assert [(r.detail["before"], r.detail["after"]) for r in changed] == [(False, True)]


def test_size_limit_names_the_size_in_mb(clinic, nurse, store):
    appt = visit(clinic)
    too_big = jpeg(64, 64) + b"\0" * (MAX_BYTES + MAX_BYTES // 10)
    with pytest.raises(ValidationFailed) as err:
        add(clinic, nurse[0], appt, too_big, store)
    assert err.value.fields["photo"] == "The photo is 16.5 MB: larger than 15 MB. Choose a smaller one."


def test_tags_are_checked(clinic, nurse, store):
    appt = visit(clinic)
    with pytest.raises(ValidationFailed) as err:
        add(clinic, nurse[0], appt, jpeg(), store, area="elbow", angle="upside down")
    assert set(err.value.fields) == {"area", "angle"}
    assert "front" not in err.value.fields["angle"] and "Left 45°" in err.value.fields["angle"]
    photo = add(clinic, nurse[0], appt, jpeg(), store, area="", angle="left45")
    assert (photo.area, photo.angle) == (None, "left45")
    with clinic.session() as s:
        assert s.execute(text("select count(*) from clinical_photo")).scalar() == 1


# ---------------------------------------------------------------------------- timeline


def test_timeline_in_date_order_with_filters_and_one_audit_row(clinic, nurse, store):
    first = visit(clinic)
    client_id = client_of(clinic, first)
    later = visit_on(clinic, client_id, date(2026, 8, 5))
    earlier = visit_on(clinic, client_id, date(2026, 5, 20))
    # uploaded out of order on purpose
    a_after = add(clinic, nurse[0], later, jpeg(), store, kind="after", area="lips", angle="front")
    a_before = add(clinic, nurse[0], later, jpeg(), store, kind="before", area="lips", angle="front")
    b = add(clinic, nurse[0], first, jpeg(), store, kind="before", area="forehead", angle="left45")
    c = add(clinic, nurse[0], earlier, jpeg(), store, kind="before", area="lips", angle="front")
    with clinic.session() as s:
        everything = client_timeline(s, nurse[0], client_id, NOW)
        lips = client_timeline(s, nurse[0], client_id, NOW, area="lips")
        angled = client_timeline(s, nurse[0], client_id, NOW, angle="left45")
        s.commit()
    assert [p.id for p in everything.photos] == [c.id, b.id, a_before.id, a_after.id]
    assert [p.date for p in everything.photos] == ["May 20, 2026", "Jul 1, 2026", "Aug 5, 2026", "Aug 5, 2026"]
    assert everything.areas == ["forehead", "lips"] and everything.angles == ["front", "left45"]
    assert [p.id for p in lips.photos] == [c.id, a_before.id, a_after.id]
    assert [p.id for p in angled.photos] == [b.id]
    assert not everything.consent_signed
    rows = [r for r in audit_rows(clinic) if r.detail.get("timeline")]
    assert len(rows) == 3 and all(r.client_id == client_id and r.object_type == "client" for r in rows)
    assert rows[1].detail["area"] == "lips" and rows[1].detail["photo_ids"] == [c.id, a_before.id, a_after.id]
    with clinic.session() as s, pytest.raises(ValidationFailed):
        client_timeline(s, nurse[0], client_id, NOW, area="elbow")


@pytest.mark.parametrize("role", ["front_desk", "manager", "lab", "client"])
def test_timeline_tags_and_sharing_are_for_providers_and_owners_only(clinic, nurse, store, role):
    appt = visit(clinic)
    client_id = client_of(clinic, appt)
    photo = add(clinic, nurse[0], appt, jpeg(), store)
    actor = (Actor.client(clinic.org_id, client_id) if role == "client"
             else Actor(org_id=clinic.org_id, role=role, label=role))
    before = len(audit_rows(clinic))
    with clinic.session() as s:
        for call in (lambda: client_timeline(s, actor, client_id, NOW),
                     lambda: tag_photo(s, actor, photo.id, NOW, kind="after", area=None, angle="front"),
                     lambda: share_photo(s, actor, photo.id, True, NOW)):
            with pytest.raises(NotFound):
                call()
    assert len(audit_rows(clinic)) == before
    with clinic.session() as s:
        assert s.get(ClinicalPhoto, photo.id).shared is False


def test_tag_edit_is_audited_with_old_and_new(clinic, nurse, store):
    appt = visit(clinic)
    photo = add(clinic, nurse[0], appt, jpeg(), store)
    got = photo_actions.do_tag_photo(nurse[0], photo.id, kind="after", area="chin", angle="right",
                                     engine=clinic.engine)
    assert (got.kind, got.area, got.angle) == ("after", "chin", "right")
    with pytest.raises(ValidationFailed) as err:
        photo_actions.do_tag_photo(nurse[0], photo.id, kind="during", area="chin", angle="right",
                                   engine=clinic.engine)
    assert set(err.value.fields) == {"kind"}
    [row] = audit_rows(clinic, "photo.tag")
    assert row.detail["before"] == {"kind": "before", "area": None, "angle": "other"}
    assert row.detail["after"] == {"kind": "after", "area": "chin", "angle": "right"}


# ---------------------------------------------------------------------------- the portal


def test_portal_sees_a_photo_only_when_shared_and_the_photo_consent_is_signed(clinic, nurse, store):
    appt = visit(clinic)
    client_id = client_of(clinic, appt)
    shared = add(clinic, nurse[0], appt, jpeg(), store, area="lips")
    private = add(clinic, nurse[0], appt, jpeg(), store, kind="after")
    me = Actor.client(clinic.org_id, client_id)

    def seen() -> list[int]:
        with clinic.session() as s:
            out = [p.id for p in portal_photos(s, me, NOW)]
            s.commit()
            return out

    assert seen() == []
    photo_actions.do_share_photo(nurse[0], shared.id, True, engine=clinic.engine)
    assert seen() == []  # shared, but no photo-use consent yet
    with clinic.session() as s, pytest.raises(NotFound):
        portal_open_photo(s, me, shared.id, NOW, store)
    sign_photo_consent(clinic, client_id)
    with clinic.session() as s:
        assert photo_consent_signed(s, client_id)
    assert seen() == [shared.id]
    with clinic.session() as s:
        opened = portal_open_photo(s, me, shared.id, NOW, store, thumb=True)
        for other in (private.id, 10**12):
            with pytest.raises(NotFound):
                portal_open_photo(s, me, other, NOW, store)
        s.commit()
    assert opened.data[:2] == b"\xff\xd8"
    gallery = photo_actions.fetch_portal_gallery(me, store=store, engine=clinic.engine)  # the Photos tab
    assert [(p.id, p.area, thumb[:2]) for p, thumb in gallery] == [(shared.id, "lips", b"\xff\xd8")]
    # another client of the clinic never sees it, staff actors are not portal clients
    other_client = client_of(clinic, visit(clinic, hour=15))
    with clinic.session() as s:
        with pytest.raises(NotFound):
            portal_open_photo(s, Actor.client(clinic.org_id, other_client), shared.id, NOW, store)
        with pytest.raises(NotFound):
            portal_photos(s, nurse[0], NOW)
    # taken back: gone again
    photo_actions.do_share_photo(nurse[0], shared.id, False, engine=clinic.engine)
    assert seen() == []
    lists = audit_rows(clinic, "portal.photos")
    assert [r.detail["photo_ids"] for r in lists] == [[], [], [shared.id], [shared.id], []]
    assert all(r.actor_role == "client" and r.client_id == client_id for r in lists)
    opened_rows = audit_rows(clinic, "portal.photo")
    assert [(r.object_id, r.detail["variant"]) for r in opened_rows] == [(str(shared.id), "thumb")] * 2
    shares = audit_rows(clinic, "photo.share")
    assert [r.detail["shared"] for r in shares] == [True, False]
    with clinic.session() as s:
        row = s.get(ClinicalPhoto, shared.id)
        assert row.shared is False and row.shared_at is None


# ---------------------------------------------------------------------------- the chart's panel


def test_panel_uploads_several_photos_with_their_tags_and_names_the_refused_one(clinic, nurse, tmp_path,
                                                                                 monkeypatch, app_settings):
    from medspa.features.charting import photos as panel
    from medspa.features.charting.photos import PhotosState
    from medspa.settings import Settings
    from tests.test_handlers import call, run
    from tests.test_photos import panel_state, upload_file

    media = Settings(database_url=app_settings.database_url, database_owner_url=app_settings.database_owner_url,
                     media_dir=tmp_path / "media")
    monkeypatch.setattr(panel, "get_settings", lambda: media)
    appt = visit(clinic)
    state = panel_state(nurse[1], appt)
    run(call(PhotosState.load, state))
    run(call(PhotosState.set_area, state, "lips"))
    run(call(PhotosState.set_angle, state, "left45"))
    run(call(PhotosState.set_area, state, "elbow"))  # not an area: ignored
    run(call(PhotosState.upload, state, [upload_file(jpeg(), "IMG_1.jpg"), upload_file(heic(), "IMG_2.HEIC"),
                                         upload_file(b"not a photo", "notes.txt")]))
    assert state.notice == "2 before photos added."
    assert state.error == "notes.txt: This file is not a JPEG, PNG or HEIC photo."
    assert [p.label for p in state.photos] == ["Before · Lips · Left 45° · 640 × 480",
                                               "Before · Lips · Left 45° · 1200 × 900"]
    with clinic.session() as s:
        rows = s.exec(select(ClinicalPhoto).order_by(ClinicalPhoto.id)).all()
    assert [(r.area, r.angle, r.kind) for r in rows] == [("lips", "left45", "before")] * 2
    run(call(PhotosState.upload, state, [upload_file(jpeg(), f"{i}.jpg") for i in range(11)]))
    assert state.error == "At most 10 photos at once."
    run(call(PhotosState.upload, state, [upload_file(jpeg(), f"{i}.jpg", size=14 * 1024 * 1024)
                                         for i in range(5)]))
    assert state.error == "These photos are 70.0 MB together: at most 60 MB in one upload."
    # the viewer edits one photo's labels (hostile fields and values ignored)
    first = state.photos[0].id
    run(call(PhotosState.open, state, first))
    run(call(PhotosState.set_viewing_tag, state, "kind", "after"))
    run(call(PhotosState.set_viewing_tag, state, "area", "chin"))
    run(call(PhotosState.set_viewing_tag, state, "id", 99))
    run(call(PhotosState.set_viewing_tag, state, "angle", "sideways"))
    run(call(PhotosState.save_tags, state))
    assert state.notice == "Labels saved."
    with clinic.session() as s:
        row = s.get(ClinicalPhoto, first)
    assert (row.kind, row.area, row.angle) == ("after", "chin", "left45")
    assert [p.label for p in state.photos][-1] == "After · Chin · Left 45° · 640 × 480"
