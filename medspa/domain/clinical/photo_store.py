"""Where photo and document bytes live: the MediaStore interface, the private local folder
(LocalMediaStore, the default) and a private S3 bucket (S3MediaStore, when settings.s3_bucket
is set; settings.s3_endpoint_url for an S3-compatible server). Keys are opaque and random:
no names, no client ids (a client merge moves rows, never files). Moved out of photos.py
(issue 18); photos.py re-exports these names."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from medspa.settings import Settings

_KEY = re.compile(r"^[a-z0-9][a-z0-9/_.-]{0,190}$")


class MediaStore(Protocol):
    """Where photo bytes live. Keys are opaque, random, and never carry names or ids."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes:
        """The bytes, or KeyError when missing."""
        ...

    def delete(self, key: str) -> None: ...


def discard(store: MediaStore, keys) -> None:
    """Delete each of `keys` (an iterable of keys, read when called), best effort: what is
    cleaned up after a failure must not hide the failure itself."""
    for key in list(keys):
        try:
            store.delete(key)
        except Exception:  # noqa: BLE001 - best effort; the original error matters
            pass


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.match(key) or ".." in key or "//" in key:
        raise ValueError("bad media key")
    return key


class LocalMediaStore:
    """Files under a private folder (settings.media_root): folders 0700, files 0600, written
    atomically. The app serves them only through the checked route /media/photos/<id>."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / _check_key(key)).resolve()
        if not path.is_relative_to(self.root):  # pragma: no cover - _check_key already refuses
            raise ValueError("bad media key")
        return path

    def _private_dirs(self, folder: Path) -> None:
        """Create `folder` and every missing folder above it up to the root, each 0700."""
        missing = [d for d in (folder, *folder.parents) if d == self.root or d.is_relative_to(self.root)]
        for d in reversed(missing):
            if not d.is_dir():
                d.mkdir(parents=True, exist_ok=True)
                d.chmod(0o700)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        self._private_dirs(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")  # 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise KeyError(key) from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3MediaStore:
    """Private objects in an S3 bucket: never a public ACL, server-side encryption (AES256, or
    aws:kms with `kms_key_id`), and presigned GET URLs that live at most 5 minutes. boto3 finds
    its credentials and region the usual AWS way (instance role, AWS_* variables)."""

    MAX_URL_SECONDS = 300

    def __init__(self, bucket: str, client=None, kms_key_id: str = "", endpoint_url: str = ""):
        if not bucket:
            raise ValueError("S3MediaStore needs a bucket")
        self.bucket, self.kms_key_id = bucket, kms_key_id
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client("s3", endpoint_url=endpoint_url or None, config=Config(signature_version="s3v4"))
        self.client = client

    def put(self, key: str, data: bytes, content_type: str) -> None:
        extra = ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id} if self.kms_key_id
                 else {"ServerSideEncryption": "AES256"})
        self.client.put_object(Bucket=self.bucket, Key=_check_key(key), Body=data, ContentType=content_type,
                               CacheControl="private, no-store", **extra)

    def get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=_check_key(key))
        except self.client.exceptions.NoSuchKey as exc:
            raise KeyError(key) from exc
        return answer["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=_check_key(key))

    def presigned_url(self, key: str, expires_in: int = 60) -> str:
        """A short-lived GET URL (at most MAX_URL_SECONDS) that the browser must not cache.

        Only for callers that already checked photo.read and wrote the audit row."""
        seconds = max(1, min(int(expires_in), self.MAX_URL_SECONDS))
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": _check_key(key),
                                  "ResponseCacheControl": "private, no-store"}, ExpiresIn=seconds)


def media_store_for(settings: "Settings") -> MediaStore:
    """S3 when settings.s3_bucket is set (at settings.s3_endpoint_url for an S3-compatible
    server), else the private folder settings.media_root."""
    if settings.s3_bucket:
        return S3MediaStore(settings.s3_bucket, endpoint_url=settings.s3_endpoint_url)
    return LocalMediaStore(settings.media_root)


__all__ = ["LocalMediaStore", "MediaStore", "S3MediaStore", "discard", "media_store_for"]
