"""Staff passwords: the strength rule (creation, change, reset) and argon2id hashing."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from medspa.domain.errors import ValidationFailed

MIN_LENGTH = 12
MAX_LENGTH = 1024

# Frequent passwords of 12+ characters (shorter ones already fail the length rule), from
# public breach top lists; compared case-insensitively after trimming spaces.
COMMON_PASSWORDS = frozenset({
    "123456789012", "1234567890123", "12345678901234", "123456789123", "111111111111", "000000000000",
    "123123123123", "password1234", "password12345", "password123456", "password2024", "password2025",
    "password2026", "passwordpassword", "qwertyuiopas", "qwertyuiop123", "qwerty123456", "1q2w3e4r5t6y",
    "1qaz2wsx3edc", "qazwsxedcrfv", "abcdefghijkl", "abc123abc123", "iloveyou1234", "welcome12345",
    "welcome123456", "letmein12345", "changeme1234", "administrator", "admin1234567", "trustno1trustno1",
    "football1234", "baseball1234", "superman1234", "sunshine1234", "princess1234", "starwars1234",
    "monkey123456", "dragon123456", "whatever1234", "zaq12wsxcde3", "asdfghjkl123", "asdfasdfasdf",
    "correcthorsebatterystaple", "correct horse battery staple", "medspa123456", "botox1234567",
})


class WeakPassword(ValidationFailed):
    """The password breaks the strength rule; fields["password"] is the message to show."""

    def __init__(self, message: str):
        super().__init__({"password": message})
        self.message = message


def check_password_strength(password: str, email: str = "") -> None:
    """Raise WeakPassword unless `password` is at least 12 characters (at most 1024), not a
    common password, and does not contain the local part of `email` (case-insensitive,
    local parts of 3+ characters)."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters (a few unrelated words work well)")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Use at most {MAX_LENGTH} characters")
    lowered = password.strip().lower()
    if lowered in COMMON_PASSWORDS:
        raise WeakPassword("This password is too common; choose something harder to guess")
    local = email.strip().lower().split("@", 1)[0]
    if len(local) >= 3 and local in password.lower():
        raise WeakPassword("The password must not contain your email name")


# --- hashing -------------------------------------------------------------------------------

_HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory defaults
DUMMY_HASH = _HASHER.hash("timing-equaliser")


def hash_password(password: str) -> str:
    """An argon2id hash (PHC string) of `password`."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if `password` matches the argon2 hash (False for a malformed hash)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def spend_time(password: str = "timing") -> None:
    """Do the work of one password check against a dummy hash, so that an unknown, locked or
    throttled account answers in the same time as a real wrong password."""
    verify_password(DUMMY_HASH, password)
