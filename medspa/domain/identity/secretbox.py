"""Encryption at rest for small secrets (the TOTP secrets of staff accounts).

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) keyed by SHA-256 of the
SECRET_KEY setting. Without SECRET_KEY a random key is created once in VAR_DIR/secret_key
(mode 0600): fine on one machine; several machines must share one SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet

from medspa.settings import Settings, get_settings


def _key_file_secret(var_dir: Path) -> str:
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: two workers starting together agree on the first writer's key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


@lru_cache(maxsize=4)
def _fernet(secret: str) -> Fernet:
    digest = hashlib.sha256(b"medspa-secretbox:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def signing_secret(purpose: str, settings: Settings | None = None) -> bytes:
    """A key derived from SECRET_KEY (or VAR_DIR/secret_key) for HMAC-signing links of one
    `purpose` (e.g. "unsubscribe"): different purposes never share a key."""
    settings = settings or get_settings()
    secret = settings.secret_key or _key_file_secret(settings.var_dir)
    return hashlib.sha256(f"medspa-sign:{purpose}:".encode() + secret.encode()).digest()


def _box(settings: Settings | None = None) -> Fernet:
    settings = settings or get_settings()
    return _fernet(settings.secret_key or _key_file_secret(settings.var_dir))


def seal(plaintext: str, settings: Settings | None = None) -> str:
    """Encrypt `plaintext`; returns an ASCII token safe to store in a text column.
    `settings`: whose key (the launcher's, when --var-dir differs from the environment)."""
    return _box(settings).encrypt(plaintext.encode()).decode()


def unseal(token: str, settings: Settings | None = None) -> str:
    """Decrypt a token from `seal`. Raises cryptography.fernet.InvalidToken if the key changed."""
    return _box(settings).decrypt(token.encode()).decode()
