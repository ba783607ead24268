"""Anonymous identity use cases: sign in (one or two steps, two-factor set-up forced at
sign-in), the actor of a session token, sign out, password reset by email link.

Each takes what identifies the caller (an email and password, a challenge, a session or
reset token) instead of an actor, finds the clinic through the database's SECURITY DEFINER
lookups (tokens.enter_clinic) and runs in ONE transaction (domain/work.atomic). A refused
attempt still commits its failure count, lock and audit rows before raising.

Common keyword-only arguments: `now` (an aware UTC instant) or `clock` (default: the app
clock); `engine` (tests pass theirs; the app passes nothing); `ip`, `user_agent` for the
audit trail; `session_hours`: absolute lifetime of a new session (idle: 2 h).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.identity.actions._common import enter_challenge, kept_on_failure
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.credentials import ResetLinkInvalid, queue_reset_link, reset_with_link
from medspa.domain.identity.lockout import LoginFailed, TooManyAttempts, check_guard, count_failure, guard_for
from medspa.domain.identity.passwords import spend_time
from medspa.domain.identity.sessions import SignedIn, end_session, session_actor
from medspa.domain.identity.signin import (
    EnrolledSignIn,
    InvalidCode,
    LoginResult,
    SecondFactorRequired,
    challenge_alive,
    check_code,
    check_password,
    confirm_forced_enrolment,
    start_forced_enrolment,
)
from medspa.domain.identity.tokens import enter_clinic, token_hash
from medspa.domain.identity.two_factor import TotpEnrolment
from medspa.domain.ratelimits import RateLimited, count, hit, network_key, refuse_if_full
from medspa.domain.work import atomic, now_of
from medspa.settings import get_settings


def do_begin_login(email: str, password: str, *, session_hours: int = 12, ip: str = "", user_agent: str = "",
                   now: datetime | None = None, clock: Clock | None = None,
                   engine: Engine | None = None) -> LoginResult:
    """First sign-in step: check lock and password, then open a session (status "signed_in")
    or issue the challenge of the second step ("totp_required", "enrolment_required"; the
    challenge is single-use and lasts 10 minutes).

    Raises LoginFailed (unknown email, wrong password, deactivated account; retry_after
    hint in seconds after 3 consecutive failures of the address from this IP, known or not),
    AccountLocked (5 consecutive failures from this IP: 15 minutes for this address from this
    IP only; even the right password is refused there until then) or TooManyAttempts
    (Settings.limit_sign_in_per_ip FAILED attempts from this IP's network, whatever the
    addresses; an IPv6 /64 is one network; a successful sign-in is not counted)."""
    now, email = now_of(clock, now), email.strip().lower()
    refuse_sign_in_from(ip)
    try:
        with atomic(None, engine=engine) as work:
            org_id = enter_clinic(work.session, "login", email)
            with kept_on_failure(work):
                if org_id is None:  # counted and slowed down exactly like a known address
                    guard = guard_for(work.session, email, ip, now)
                    check_guard(work.session, guard, now)
                    spend_time(password)  # same work whether or not the account exists
                    raise count_failure(work.session, guard, now)
                return check_password(work.session, org_id, email, password, now=now, session_hours=session_hours,
                                      ip=ip, user_agent=user_agent)
    except LoginFailed:
        # only failures fill the network's window: an office of colleagues signing in is not guessing
        if ip:
            count(get_settings().limit_sign_in_per_ip, "sign-in-ip", network_key(ip))
        raise


def refuse_sign_in_from(ip: str) -> None:
    """Raise TooManyAttempts when `ip`'s network (ratelimits.network_key) has failed
    Settings.limit_sign_in_per_ip sign-ins in the moving window (do_begin_login counts each
    failure). No IP (internal callers): never refused."""
    if not ip:
        return
    try:
        refuse_if_full(get_settings().limit_sign_in_per_ip, "sign-in-ip", network_key(ip),
                       message="Too many sign-in attempts from your network.")
    except RateLimited as exc:
        raise TooManyAttempts(exc.message, exc.retry_after) from exc


def do_login(email: str, password: str, *, session_hours: int = 12, ip: str = "", user_agent: str = "",
             now: datetime | None = None, clock: Clock | None = None, engine: Engine | None = None) -> SignedIn:
    """One-step sign-in for accounts without a second factor (do_begin_login, which this
    wraps). Raises LoginFailed, AccountLocked or SecondFactorRequired (the account needs a
    TOTP code or two-factor enrolment: use do_begin_login)."""
    result = do_begin_login(email, password, session_hours=session_hours, ip=ip, user_agent=user_agent, now=now,
                            clock=clock, engine=engine)
    if result.signed_in is None:
        raise SecondFactorRequired(result.status, result.challenge)
    return result.signed_in


def do_complete_login(challenge: str, code: str, *, session_hours: int = 12, ip: str = "", user_agent: str = "",
                      now: datetime | None = None, clock: Clock | None = None,
                      engine: Engine | None = None) -> SignedIn:
    """Second sign-in step: a 6-digit TOTP code (±1 step of 30 s, each code once) or one of
    the account's unused recovery codes ("xxxxx-xxxxx"; spent on use). Opens the session.

    Raises InvalidCode (wrong code, or an unknown/used/expired challenge; a wrong code counts
    as a failed attempt with the same retry_after/lock rules), AccountLocked, or LoginFailed
    (the enforced slow-down: the attempt was not checked)."""
    now = now_of(clock, now)
    with atomic(None, engine=engine) as work:
        org_id = enter_challenge(work, challenge)
        if org_id is None:
            raise InvalidCode()
        with kept_on_failure(work):
            return check_code(work.session, org_id, challenge, code, now=now, session_hours=session_hours, ip=ip,
                              user_agent=user_agent)


def do_start_enrolment(challenge: str, *, now: datetime | None = None, clock: Clock | None = None,
                       engine: Engine | None = None) -> TotpEnrolment:
    """Forced enrolment (status "enrolment_required"): a new TOTP secret for the challenge's
    account; returns the provisioning URI, the QR code SVG and the manual key. Calling it
    again replaces the unconfirmed secret. Raises InvalidCode (unknown/used/expired
    challenge) or ValidationFailed (already set up)."""
    now = now_of(clock, now)
    with atomic(None, engine=engine) as work:
        if enter_challenge(work, challenge) is None:
            raise InvalidCode()
        return start_forced_enrolment(work.session, challenge, now=now)


def do_confirm_enrolment(challenge: str, code: str, *, session_hours: int = 12, ip: str = "", user_agent: str = "",
                         now: datetime | None = None, clock: Clock | None = None,
                         engine: Engine | None = None) -> EnrolledSignIn:
    """Forced enrolment, last step: the first valid code confirms two-factor, signs in and
    returns the 10 recovery codes (shown once). Raises InvalidCode (wrong code: counts as a
    failed attempt; unknown/used/expired challenge), AccountLocked, or ValidationFailed
    (do_start_enrolment was not called)."""
    now = now_of(clock, now)
    with atomic(None, engine=engine) as work:
        org_id = enter_challenge(work, challenge)
        if org_id is None:
            raise InvalidCode()
        with kept_on_failure(work):
            return confirm_forced_enrolment(work.session, org_id, challenge, code, now=now,
                                            session_hours=session_hours, ip=ip, user_agent=user_agent)


def fetch_challenge_alive(challenge: str, *, purpose: str | None = None, now: datetime | None = None,
                          clock: Clock | None = None, engine: Engine | None = None) -> bool:
    """True while a sign-in challenge token can still be used (unknown, used, expired:
    False); `purpose` ("totp" or "enrol") must match when given."""
    if not challenge:
        return False
    now = now_of(clock, now)
    with atomic(None, engine=engine) as work:
        if enter_challenge(work, challenge) is None:
            return False
        return challenge_alive(work.session, challenge, now=now, purpose=purpose)


def actor_for_token(token: str | None, *, ip: str = "", user_agent: str = "", touch: bool = True,
                    now: datetime | None = None, clock: Clock | None = None,
                    engine: Engine | None = None) -> Actor | None:
    """The signed-in actor of a session token, or None (unknown, revoked, expired, idle 2 h,
    account deactivated). touch=False checks without counting as activity (server-initiated
    pushes must not keep an idle session alive). Any role: callers check STAFF_ROLES."""
    if not token:
        return None
    now = now_of(clock, now)
    with atomic(None, engine=engine) as work:
        if enter_clinic(work.session, "session", token_hash(token)) is None:
            return None
        return session_actor(work.session, token, now=now, ip=ip, user_agent=user_agent, touch=touch)


def do_logout(token: str | None, *, now: datetime | None = None, clock: Clock | None = None,
              engine: Engine | None = None) -> None:
    """Revoke the session of `token` (audited auth.logout; no-op for unknown tokens)."""
    if not token:
        return
    now = now_of(clock, now)
    with atomic(None, engine=engine) as work:
        if enter_clinic(work.session, "session", token_hash(token)) is not None:
            end_session(work.session, token, now=now)


def do_request_password_reset(email: str, *, base_url: str, ip: str = "", user_agent: str = "",
                              now: datetime | None = None, clock: Clock | None = None,
                              engine: Engine | None = None) -> None:
    """Queue a reset link by email for an active account (credentials.queue_reset_link:
    `{base_url}/reset-password?token=...`, 30 minutes, single use; earlier links stop
    working). Returns None whether or not the email belongs to an account (no enumeration),
    also beyond Settings.limit_reset_per_email links per address (then nothing is sent).
    Raises RateLimited beyond Settings.limit_reset_per_ip requests from one IP address."""
    now, email = now_of(clock, now), email.strip().lower()
    settings = get_settings()
    if ip:
        hit(settings.limit_reset_per_ip, "reset-ip", network_key(ip),
            message="Too many password-reset requests from your network.")
    try:  # the same silence for a known and an unknown address: nothing to probe
        hit(settings.limit_reset_per_email, "reset-email", email, message="")
    except RateLimited:
        return
    with atomic(None, engine=engine) as work:
        org_id = enter_clinic(work.session, "login", email)
        if org_id is not None:
            queue_reset_link(work.session, org_id, email, now=now, base_url=base_url, ip=ip, user_agent=user_agent)


def do_reset_password(token: str, new_password: str, *, ip: str = "", user_agent: str = "",
                      now: datetime | None = None, clock: Clock | None = None, engine: Engine | None = None) -> None:
    """Use a reset link: set `new_password` (strength rule), spend the link, revoke all the
    account's sessions and lift a failed-login lock. Raises ResetLinkInvalid (unknown, used
    or expired) or WeakPassword (nothing changes; the link stays usable)."""
    now = now_of(clock, now)
    with atomic(None, engine=engine) as work:
        org_id = enter_clinic(work.session, "reset", token_hash(token or ""))
        if org_id is None:
            raise ResetLinkInvalid()
        reset_with_link(work.session, org_id, token or "", new_password, now=now, ip=ip, user_agent=user_agent)
