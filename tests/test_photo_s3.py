"""Photos on S3 against a REAL S3-compatible server the test starts: moto in server mode
(moto.server.ThreadedMotoServer on 127.0.0.1, a free port), reached over HTTP by boto3 exactly
as the app reaches AWS (S3_BUCKET + S3_ENDPOINT_URL through Settings and media_store_for).

Checked: put/get/delete of display copy, thumbnail and kept original; objects private (an
anonymous GET is refused, no public grant), server-side encryption header on every object,
presigned URLs short (at most 5 minutes, 60 s by default) and working while valid. moto does
not enforce a presigned URL's expiry nor check its signature (verified: a tampered URL still
answers 200), so the expiry is asserted on the signed parameters (X-Amz-Date + X-Amz-Expires);
AWS enforces it. Also: the client merge moves photo rows and their files stay where they are
(keys carry no client id)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.merge_actions import do_merge_clients
from medspa.domain.clinical.photo_actions import do_set_keep_originals, fetch_client_timeline
from medspa.domain.clinical.photos import ClinicalPhoto, S3MediaStore, add_photo, media_store_for, open_photo
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.settings import Settings
from tests.test_photo_pipeline import client_of, heic
from tests.test_photos import GPS_IFD, NOW, exif_of, jpeg, person, visit

BUCKET = "medspa-photos"


@pytest.fixture(name="nurse")
def nurse_fixture(clinic) -> tuple[Actor, str]:
    return person(clinic, "provider")


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3 as a real HTTP server on a free loopback port, for this module."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, monkeypatch):
    """(store built from Settings like the app's, a boto3 client to look at the bucket)."""
    import boto3
    from botocore.config import Config

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_server, config=Config(signature_version="s3v4"))
    try:
        client.create_bucket(Bucket=BUCKET)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    store = media_store_for(Settings(s3_bucket=BUCKET, s3_endpoint_url=s3_server))
    assert isinstance(store, S3MediaStore)
    return store, client


def _row(clinic, photo_id: int) -> ClinicalPhoto:
    with clinic.session() as s:
        return s.exec(select(ClinicalPhoto).where(ClinicalPhoto.id == photo_id)).one()


def test_photos_on_a_real_s3_server_are_private_encrypted_and_come_back(clinic, nurse, s3, s3_server):
    store, client = s3
    owner = Actor(org_id=clinic.org_id, role="owner", label="owner")
    do_set_keep_originals(owner, True, engine=clinic.engine)
    appt = visit(clinic)
    with clinic.session() as s:
        big = add_photo(s, nurse[0], appt, jpeg(4032, 3024, orientation=6, gps=True), "before", NOW, store,
                        area="forehead", angle="front")
        iphone = add_photo(s, nurse[0], appt, heic(), "after", NOW, store, area="forehead", angle="front")
        s.commit()
    row = _row(clinic, big.id)
    keys = [row.storage_key, row.thumb_key, row.original_key, _row(clinic, iphone.id).storage_key]
    assert len(set(keys)) == 4
    for key in keys:
        head = client.head_object(Bucket=BUCKET, Key=key)
        assert head["ServerSideEncryption"] == "AES256" and head["ContentType"] == "image/jpeg"
        assert head["CacheControl"] == "private, no-store"
        grants = client.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
        assert grants and all(g["Grantee"]["Type"] == "CanonicalUser" for g in grants)  # no AllUsers grant
        assert httpx.get(f"{s3_server}/{BUCKET}/{key}").status_code == 403  # anonymous: refused
    # the bytes come back over HTTP through the services (display copy 2560 px, original 4032 px)
    with clinic.session() as s:
        shown = open_photo(s, nurse[0], big.id, NOW, store)
        original = open_photo(s, nurse[0], big.id, NOW, store, original=True)
        s.commit()
    assert (row.width, row.height, row.original_width, row.original_height) == (1920, 2560, 3024, 4032)
    assert GPS_IFD not in exif_of(shown.data) and GPS_IFD not in exif_of(original.data)
    assert len(original.data) == row.original_bytes > len(shown.data) == row.bytes

    # presigned: short, and the object really comes back with it while valid
    url = store.presigned_url(row.storage_key)
    signed_at = datetime.strptime(re.search(r"X-Amz-Date=(\d{8}T\d{6}Z)", url).group(1),
                                  "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    assert "X-Amz-Expires=60&" in url or url.endswith("X-Amz-Expires=60")
    assert abs(signed_at - datetime.now(timezone.utc)) < timedelta(minutes=2)  # expires 60 s after this
    answer = httpx.get(url)
    assert answer.status_code == 200 and answer.content == shown.data
    assert answer.headers["cache-control"] == "private, no-store"
    assert "X-Amz-Expires=300" in store.presigned_url(row.storage_key, expires_in=86_400)  # capped at 5 minutes

    # delete: gone from the server; the service then answers NotFound (never a broken image)
    store.delete(row.thumb_key)
    with pytest.raises(KeyError):
        store.get(row.thumb_key)
    with clinic.session() as s, pytest.raises(NotFound):
        open_photo(s, nurse[0], big.id, NOW, store, thumb=True)


def test_the_client_merge_moves_photos_and_their_files_stay_put(clinic, nurse, s3):
    store, client = s3
    kept_appt, gone_appt = visit(clinic, hour=13), visit(clinic, hour=15)
    keep, gone = client_of(clinic, kept_appt), client_of(clinic, gone_appt)
    with clinic.session() as s:
        mine = add_photo(s, nurse[0], kept_appt, jpeg(), "before", NOW, store, area="lips", angle="front")
        moved = add_photo(s, nurse[0], gone_appt, jpeg(), "after", NOW, store, area="lips", angle="front")
        s.commit()
    before = _row(clinic, moved.id)
    for key in (before.storage_key, before.thumb_key):  # no client id in keys: org, random token, variant
        assert re.fullmatch(rf"org-{clinic.org_id}/photos/[0-9a-f]{{32}}(-thumb)?\.jpg", key)
    manager = Actor(org_id=clinic.org_id, role="manager", label="manager")
    do_merge_clients(manager, keep, gone, clock=FixedClock(NOW), engine=clinic.engine)
    after = _row(clinic, moved.id)
    assert after.client_id == keep
    assert (after.storage_key, after.thumb_key, after.area) == (before.storage_key, before.thumb_key, "lips")
    assert client.get_object(Bucket=BUCKET, Key=after.storage_key)["Body"].read()[:2] == b"\xff\xd8"
    timeline = fetch_client_timeline(nurse[0], keep, area="lips", clock=FixedClock(NOW), engine=clinic.engine)
    assert [p.id for p in timeline.photos] == [mine.id, moved.id]
