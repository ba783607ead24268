"""Sign-in constants and the `next` check, shared by the Reflex states and the HTTP routes
(medspa/api/auth.py). No Reflex import here."""

from __future__ import annotations

from medspa.features.inputs import ascii_int

HOME_PATH = "/calendar"
LOGIN_PATH = "/login"
VERIFY_PATH = "/login/verify"
ENROL_PATH = "/login/enrol"
FORGOT_PATH = "/login/forgot"
RESET_PATH = "/reset-password"
STAFF_ROLES = frozenset({"owner", "manager", "provider", "front_desk", "lab"})
WRONG = "Email or password is incorrect"
MISSING = "Enter your email and password"
EXPIRED = "Your sign-in took too long or the link was already used; sign in again"
WRONG_CODE = "That code is not right; enter the current 6-digit code or a recovery code"
FORGOT_SENT = "If the address is known, we emailed a link to choose a new password. It works for 30 minutes."
RESET_INVALID = "This reset link is not valid any more (used, expired or unknown); ask for a new one"
RESET_DONE = "Your password was changed; sign in with the new one"


def wait_message(seconds: int) -> str:
    """ "Try again in N seconds" (the retry_after hint)."""
    seconds = max(1, int(seconds))
    return f"Too many attempts: try again in {seconds} second{'s' if seconds != 1 else ''}"


def locked_message(seconds: int) -> str:
    """The account lock message, in whole minutes (rounded up)."""
    minutes = max(1, (int(seconds) + 59) // 60)
    return (f"This account is locked after too many failed attempts: try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}")


def _wait_of(query: dict) -> int:
    raw = str(query.get("wait", "") or "")
    return min(ascii_int(raw) or 0, 24 * 3600)


def login_error(query: dict) -> str:
    """The /login message for an error code in its query (?error=...&wait=N)."""
    code, wait = str(query.get("error", "") or ""), _wait_of(query)
    if code == "1":
        return f"{WRONG}. {wait_message(wait)}" if wait else WRONG
    if code == "locked":
        return locked_message(wait or 60)
    return {"missing": MISSING, "expired": EXPIRED, "reset": RESET_DONE}.get(code, "")


def code_error(query: dict) -> str:
    """The /login/verify and /login/enrol message for ?error=code[&wait=N]."""
    error, wait = str(query.get("error", "") or ""), _wait_of(query)
    if error == "wait":
        return wait_message(wait or 1)
    if error != "code":
        return ""
    return f"{WRONG_CODE}. {wait_message(wait)}" if wait else WRONG_CODE


def _weak_messages() -> dict[str, str]:
    """Code -> message of the password rule (medspa/domain/identity/passwords.py), so a reset
    form that comes back with ?error=<code> shows the rule's own words."""
    from medspa.domain.identity.passwords import MAX_LENGTH, WeakPassword, check_password_strength

    out = {}
    for code, (password, email) in {"short": ("x", ""), "long": ("x" * (MAX_LENGTH + 1), ""),
                                    "common": ("password1234", ""),
                                    "email": ("annabel-secret-words", "annabel@example.com")}.items():
        try:
            check_password_strength(password, email)
        except WeakPassword as exc:
            out[code] = exc.message
    return out


WEAK_MESSAGES = _weak_messages()


def weak_code(message: str) -> str:
    """The code of a WeakPassword message ("short" when unknown)."""
    return next((code for code, text in WEAK_MESSAGES.items() if text == message), "short")


def safe_next(path: str | None) -> str:
    """A local path to return to after sign-in (never another site), else /calendar."""
    path = (path or "").strip() if isinstance(path, str) else ""
    if not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 300:
        return HOME_PATH
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return HOME_PATH
    if path.startswith(LOGIN_PATH) or path.startswith("/auth/") or path.startswith(RESET_PATH):
        return HOME_PATH
    return path
