"""Sign-in constants and the `next` check, shared by the Reflex states and the HTTP routes
(medspa/api/auth.py). No Reflex import here."""

from __future__ import annotations

HOME_PATH = "/calendar"
LOGIN_PATH = "/login"
STAFF_ROLES = frozenset({"owner", "manager", "provider", "front_desk", "lab"})
WRONG = "Email or password is incorrect"
MISSING = "Enter your email and password"


def safe_next(path: str | None) -> str:
    """A local path to return to after sign-in (never another site), else /calendar."""
    path = (path or "").strip() if isinstance(path, str) else ""
    if not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 300:
        return HOME_PATH
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return HOME_PATH
    if path.startswith(LOGIN_PATH) or path.startswith("/auth/"):
        return HOME_PATH
    return path
