"""Sign-in paths, cookie names and messages, the `next` check and the session cookie
parser: shared by the Reflex states (medspa/features/auth) and the HTTP routes
(medspa/api/auth.py), which never import each other. No Reflex nor FastAPI here."""

from __future__ import annotations

from medspa.domain.identity.permissions import STAFF_ROLES  # noqa: F401 - re-exported for the sign-in code
from medspa.web.inputs import ascii_int

SESSION_COOKIE = "medspa_session"
LOGIN_EMAIL_COOKIE = "medspa_login_email"  # after a failed sign-in: the email to fill in again
CHALLENGE_COOKIE = "medspa_challenge"  # between the password and the second factor (10 min)
MAX_TOKEN_LENGTH = 200

HOME_PATH = "/calendar"
ROLE_HOMES = {"lab": "/lab"}  # the lab does not read the calendar (no calendar.read): its worklist
LOGIN_PATH = "/login"
VERIFY_PATH = "/login/verify"
ENROL_PATH = "/login/enrol"
FORGOT_PATH = "/login/forgot"
RESET_PATH = "/reset-password"
INVITE_PATH = "/invite"
WRONG = "Email or password is incorrect"
MISSING = "Enter your email and password"
EXPIRED = "Your sign-in took too long or the link was already used; sign in again"
WRONG_CODE = "That code is not right; enter the current 6-digit code or a recovery code"
FORGOT_SENT = "If the address is known, we emailed a link to choose a new password. It works for 30 minutes."
RESET_INVALID = "This reset link is not valid any more (used, expired or unknown); ask for a new one"
RESET_DONE = "Your password was changed; sign in with the new one"


def invitation_message(reason: str) -> str:
    """Why an invitation link cannot be used (used, expired, revoked, taken; else unknown)."""
    from medspa.domain.identity.invitations import INVALID_MESSAGES

    return INVALID_MESSAGES.get(reason, INVALID_MESSAGES["unknown"])


def wait_message(seconds: int) -> str:
    """ "Try again in N seconds" (the retry_after hint)."""
    seconds = max(1, int(seconds))
    return f"Too many attempts: try again in {seconds} second{'s' if seconds != 1 else ''}"


def locked_message(seconds: int) -> str:
    """The lock message (this address from this network), in whole minutes (rounded up)."""
    minutes = max(1, (int(seconds) + 59) // 60)
    return (f"Too many failed attempts for this account from your network: try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}, or reset your password")


def limited_message(seconds: int) -> str:
    """Too many sign-in attempts from one network (any addresses), in whole minutes."""
    minutes = max(1, (int(seconds) + 59) // 60)
    return f"Too many sign-in attempts from your network: try again in {minutes} minute{'s' if minutes != 1 else ''}"


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
    if code == "limited":
        return limited_message(wait or 60)
    if code == "wait":  # the slow-down: that attempt was not checked
        return wait_message(wait or 1)
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


def home_for(role: str, next_path: str) -> str:
    """Where a signed-in `role` lands: `next_path`, except that the default HOME_PATH becomes the
    role's own home (the lab's /lab) when it has one."""
    return ROLE_HOMES.get(role, HOME_PATH) if next_path == HOME_PATH else next_path


def safe_next(path: str | None) -> str:
    """A local path to return to after sign-in (never another site), else /calendar."""
    path = (path or "").strip() if isinstance(path, str) else ""
    if not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 300:
        return HOME_PATH
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return HOME_PATH
    if path.startswith((LOGIN_PATH, "/auth/", RESET_PATH, INVITE_PATH, "/setup")):
        return HOME_PATH
    return path


# --------------------------------------------------------------------------- session cookie


def session_token_from_cookies(cookie_header: str | None) -> str | None:
    """The `medspa_session` value of a Cookie header; None when absent, too long or ambiguous.

    Two different values (e.g. a second cookie of that name tossed in for another path) are
    refused rather than guessed between.
    """
    if not cookie_header:
        return None
    values = set()
    for part in cookie_header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name.strip() == SESSION_COOKIE:
            values.add(value.strip().strip('"'))
    if len(values) != 1:
        return None
    token = values.pop()
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return token


def cookie_value(cookie_header: str | None, name: str) -> str:
    """The first value of cookie `name` in a Cookie header ("" when absent)."""
    for part in (cookie_header or "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key.strip() == name:
            return value.strip().strip('"')
    return ""
