"""Staff sign-in, one or two steps, as services on a session already scoped to the clinic of
the email or challenge (tokens.enter_clinic). The actions in actions/signin.py open the
transaction; see there for the whole flow.

1. check_password(...) -> LoginResult with status
   - "signed_in": no second factor needed; result.signed_in holds the session;
   - "totp_required": ask for a 6-digit code (or a recovery code), then check_code;
   - "enrolment_required": the account must set up two-factor first: start_forced_enrolment
     (QR code) then confirm_forced_enrolment (first code) signs in and returns the recovery codes.
   The challenge token of the second step is single-use and lasts CHALLENGE_TTL.
2. check_code(...) / confirm_forced_enrolment(...) -> the session.

Failures raise LoginFailed and its subclasses (lockout.py) AFTER recording what must stay
(failure count, lock, audit rows): the caller commits before re-raising.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.lockout import LoginFailed, TooManyAttempts, check_guard, count_failure, guard_for
from medspa.domain.ratelimits import RateLimited, count, refuse_if_full
from medspa.settings import get_settings
from medspa.domain.identity.models import LoginChallenge, UserAccount
from medspa.domain.identity.passwords import spend_time, verify_password
from medspa.domain.identity.sessions import SignedIn, actor_of, open_session
from medspa.domain.identity.tokens import new_token, token_hash
from medspa.domain.identity.two_factor import (
    TotpEnrolment,
    confirm_enrolment,
    needs_2fa,
    start_enrolment,
    use_recovery_code,
    verify_totp,
)
from medspa.domain.identity.users import active_user_by_email, lock_user

CHALLENGE_TTL = timedelta(minutes=10)


class SecondFactorRequired(LoginFailed):
    """Raised by the one-step sign-in (actions.do_login) when the account needs a TOTP code
    ("totp_required") or two-factor enrolment ("enrolment_required"); `challenge` continues
    with do_complete_login / do_start_enrolment."""

    def __init__(self, status: str, challenge: str | None):
        super().__init__(status)
        self.status = status
        self.challenge = challenge


class InvalidCode(LoginFailed):
    """A wrong, expired or already used TOTP or recovery code, or an unknown/expired/used
    challenge. Counts as a failed sign-in attempt of the account."""


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a correct password: status ("signed_in", "totp_required",
    "enrolment_required"), the session when status is "signed_in", else the challenge token
    for the second step."""

    status: str
    signed_in: SignedIn | None = None
    challenge: str | None = None


@dataclass(frozen=True)
class EnrolledSignIn:
    """A forced enrolment confirmed: the new session and the 10 recovery codes (shown once)."""

    signed_in: SignedIn
    recovery_codes: list[str] = field(default_factory=list)


def _public(org_id: int, email: str, ip: str, user_agent: str) -> Actor:
    return Actor(org_id=org_id, role="public", label=email, ip=ip, user_agent=user_agent)


def issue_challenge(session: Session, user: UserAccount, purpose: str, now: datetime) -> str:
    """A new single-use challenge token ("totp" or "enrol") for the second step."""
    token = new_token()
    session.add(LoginChallenge(org_id=user.org_id, user_id=user.id, token_hash=token_hash(token), purpose=purpose,
                               created_at=now, expires_at=now + CHALLENGE_TTL))
    return token


def load_challenge(session: Session, challenge: str, purpose: str, now: datetime) -> LoginChallenge | None:
    """The usable challenge row of `challenge` for `purpose` (locked), or None (unknown,
    used, expired, other purpose)."""
    row = session.exec(select(LoginChallenge).where(LoginChallenge.token_hash == token_hash(challenge))
                       .with_for_update()).first()
    if row is None or row.used_at is not None or row.purpose != purpose or now >= row.expires_at:
        return None
    return row


def challenge_alive(session: Session, challenge: str, *, now: datetime, purpose: str | None = None) -> bool:
    """True while a sign-in challenge can still be used; `purpose` ("totp" or "enrol") must
    match when given."""
    return any(load_challenge(session, challenge, p, now) is not None
               for p in ((purpose,) if purpose else ("totp", "enrol")))


def check_password(session: Session, org_id: int, email: str, password: str, *, now: datetime,
                   session_hours: int, ip: str, user_agent: str) -> LoginResult:
    """First sign-in step for a lower-cased `email` of clinic `org_id`: check lock and
    password, then open a session or issue the challenge of the second step.

    Raises LoginFailed (unknown email, wrong password, deactivated account; retry_after
    hint after 3 consecutive failures) or AccountLocked. Audited: auth.login,
    auth.login_failed, auth.locked, auth.unlocked, auth.login_refused_locked, auth.password_ok."""
    user = active_user_by_email(session, email)
    public = _public(org_id, email, ip, user_agent)
    guard = guard_for(session, email, ip, now)
    if user is None:  # a deactivated account: counted like an unknown address
        check_guard(session, guard, now)
        spend_time(password)
        raise count_failure(session, guard, now)
    check_guard(session, guard, now, public, user)
    if not verify_password(user.password_hash, password):
        raise count_failure(session, guard, now, public, user, "auth.login_failed")
    if user.totp_confirmed_at is not None or needs_2fa(user):
        purpose = "totp" if user.totp_confirmed_at is not None else "enrol"
        token = issue_challenge(session, user, purpose, now)
        record(session, public, "auth.password_ok", "user_account", user.id, at=now, next=purpose)
        return LoginResult("totp_required" if purpose == "totp" else "enrolment_required", challenge=token)
    return LoginResult("signed_in", signed_in=open_session(session, user, now, session_hours, ip, user_agent,
                                                           "password"))


def refuse_second_factor(user: UserAccount) -> None:
    """Raise TooManyAttempts when `user` had Settings.limit_second_factor_failures wrong codes
    in the moving window, from all networks together: whoever reaches the second step knows
    the password, and a 6-digit code must not be guessable by spreading tries over networks."""
    try:
        refuse_if_full(get_settings().limit_second_factor_failures, "2fa-account", str(user.id),
                       message="Too many wrong codes for this account.")
    except RateLimited as exc:
        raise TooManyAttempts(exc.message, exc.retry_after) from exc


def count_second_factor_failure(user: UserAccount) -> None:
    """Count one wrong second-factor code of `user` (refuse_second_factor's window)."""
    count(get_settings().limit_second_factor_failures, "2fa-account", str(user.id))


def check_code(session: Session, org_id: int, challenge: str, code: str, *, now: datetime, session_hours: int,
               ip: str, user_agent: str) -> SignedIn:
    """Second sign-in step: a 6-digit TOTP code (±1 step, each once) or an unused recovery
    code (spent). Spends the challenge and opens the session. Raises InvalidCode (wrong code:
    counted like a wrong password; unknown/used/expired challenge), AccountLocked, LoginFailed
    (slow-down)."""
    row = load_challenge(session, challenge, "totp", now)
    user = lock_user(session, row.user_id) if row else None
    if row is None or user is None or not user.active or user.totp_confirmed_at is None:
        raise InvalidCode()
    public = _public(org_id, user.email, ip, user_agent)
    guard = guard_for(session, user.email, ip, now)
    check_guard(session, guard, now, public, user)
    refuse_second_factor(user)
    step = verify_totp(user, code, now)
    method = "totp"
    if step is not None:
        user.totp_last_step = step
    elif use_recovery_code(session, user, code, now):
        method = "recovery_code"
        record(session, public, "auth.recovery_code_used", "user_account", user.id, at=now)
    else:
        count_second_factor_failure(user)
        raise count_failure(session, guard, now, public, user, "auth.2fa_failed", InvalidCode)
    row.used_at = now
    session.add(row)
    return open_session(session, user, now, session_hours, ip, user_agent, method)


def _enrolling_user(session: Session, challenge: str, now: datetime) -> tuple[LoginChallenge, UserAccount]:
    row = load_challenge(session, challenge, "enrol", now)
    user = lock_user(session, row.user_id) if row else None
    if row is None or user is None or not user.active:
        raise InvalidCode()
    return row, user


def start_forced_enrolment(session: Session, challenge: str, *, now: datetime) -> TotpEnrolment:
    """Status "enrolment_required": a new TOTP secret for the challenge's account (calling it
    again replaces the unconfirmed secret). Raises InvalidCode (unknown/used/expired
    challenge) or ValidationFailed (already set up)."""
    _, user = _enrolling_user(session, challenge, now)
    return start_enrolment(session, user, actor_of(user), now)


def confirm_forced_enrolment(session: Session, org_id: int, challenge: str, code: str, *, now: datetime,
                             session_hours: int, ip: str, user_agent: str) -> EnrolledSignIn:
    """Forced enrolment, last step: the first valid code confirms two-factor, signs in and
    returns the 10 recovery codes. Raises InvalidCode (wrong code: counted; bad challenge),
    AccountLocked, or ValidationFailed (start_forced_enrolment was not called)."""
    row, user = _enrolling_user(session, challenge, now)
    public = _public(org_id, user.email, ip, user_agent)
    guard = guard_for(session, user.email, ip, now)
    check_guard(session, guard, now, public, user)
    refuse_second_factor(user)
    codes = confirm_enrolment(session, user, code, actor_of(user, ip, user_agent), now)
    if codes is None:
        count_second_factor_failure(user)
        raise count_failure(session, guard, now, public, user, "auth.2fa_failed", InvalidCode)
    row.used_at = now
    session.add(row)
    return EnrolledSignIn(open_session(session, user, now, session_hours, ip, user_agent, "totp"), codes)
