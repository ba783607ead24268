"""Staff account security: sign-in with lockout and TOTP two-factor, enrolment, recovery
codes, sessions (sign out everywhere, revoke), deactivation, password change and reset.

Sign-in is two steps when a second factor is involved:

1. begin_login(email, password) -> LoginResult with status
   - "signed_in": no second factor needed; result.signed_in holds the session;
   - "totp_required": ask for a 6-digit code (or a recovery code), then complete_login;
   - "enrolment_required": the account must set up two-factor first: start_enrolment
     (QR code) then confirm_enrolment (first code) signs in and returns the recovery codes.
   The challenge token of the second step is single-use and lasts CHALLENGE_TTL.
2. complete_login(challenge, code) / confirm_enrolment(challenge, code) -> the session.

Two-factor is required for owner, manager and provider accounts (REQUIRED_2FA_ROLES) and
for any account whose owner set require_2fa. Failed passwords and failed codes count
together per account: after 3 consecutive failures LoginFailed.retry_after is a hint in
seconds; the 5th locks the account for LOCK_DURATION (audited "auth.locked"); the first
attempt after the lock ends is audited "auth.unlocked". A full sign-in resets the count.

All instants are aware UTC and come from the caller (`now`). Tokens (sessions, challenges,
reset links) are stored as SHA-256 only; recovery codes as argon2id hashes; the TOTP
secret encrypted (secretbox) and never returned after enrolment.
"""

from __future__ import annotations

import hmac
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pyotp
import segno
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from medspa.db import tenant_session
from medspa.domain.audit.service import record
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.models import (
    LoginChallenge,
    PasswordResetToken,
    RecoveryCode,
    UserAccount,
    UserSession,
)
from medspa.domain.identity.passwords import check_password_strength
from medspa.domain.identity.secretbox import seal, unseal
from medspa.domain.identity.service import (
    _DUMMY_HASH,
    LoginFailed,
    SignedIn,
    _actor,
    _token_hash,
    hash_password,
    verify_password,
)
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.practice.models import Organization

REQUIRED_2FA_ROLES = frozenset({"owner", "manager", "provider"})
SLOW_DOWN_AFTER = 3          # failures before retry_after hints start
LOCK_AFTER = 5               # consecutive failures that lock the account
LOCK_DURATION = timedelta(minutes=15)
CHALLENGE_TTL = timedelta(minutes=10)
RESET_TTL = timedelta(minutes=30)
RECOVERY_CODE_COUNT = 10
TOTP_STEP_SECONDS = 30
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


class AccountLocked(LoginFailed):
    """Too many failed attempts: the account refuses every sign-in until locked_until
    (retry_after: whole seconds left)."""

    def __init__(self, locked_until: datetime, now: datetime):
        super().__init__("account locked", retry_after=max(1, int((locked_until - now).total_seconds() + 0.999)))
        self.locked_until = locked_until


class SecondFactorRequired(LoginFailed):
    """Raised by the one-step service.login when the account needs a TOTP code ("totp_required")
    or two-factor enrolment ("enrolment_required"); `challenge` continues with
    complete_login / start_enrolment."""

    def __init__(self, status: str, challenge: str | None):
        super().__init__(status)
        self.status = status
        self.challenge = challenge


class InvalidCode(LoginFailed):
    """A wrong, expired or already used TOTP or recovery code, or an unknown/expired/used
    challenge. Counts as a failed sign-in attempt of the account."""


class ResetLinkInvalid(Exception):
    """The password reset link is unknown, used or expired (one message for all three)."""


@dataclass
class LoginResult:
    """The outcome of a correct password (see module doc): status, the session when
    status is "signed_in", else the challenge token for the second step."""

    status: str
    signed_in: SignedIn | None = None
    challenge: str | None = None


@dataclass
class TotpEnrolment:
    """What the enrolment screen shows: the otpauth:// URI, the same as an SVG QR code
    (a complete <svg> document) and the secret in base32 for typing it in by hand.
    Shown once: nothing returns the secret after confirmation."""

    provisioning_uri: str
    qr_svg: str
    manual_key: str


@dataclass
class EnrolledSignIn:
    """A forced enrolment confirmed: the new session and the 10 recovery codes (shown once)."""

    signed_in: SignedIn
    recovery_codes: list[str] = field(default_factory=list)


# --- helpers ---------------------------------------------------------------------------

def _needs_2fa(user: UserAccount) -> bool:
    return user.role in REQUIRED_2FA_ROLES or user.require_2fa


def _retry_hint(failures: int) -> int:
    """Seconds to suggest waiting after `failures` consecutive failures: 0, then 30, 60, ..."""
    return 0 if failures < SLOW_DOWN_AFTER else 30 * (failures - SLOW_DOWN_AFTER + 1)


def _org_by(engine: Engine, function: str, value: str) -> int | None:
    with tenant_session(None, engine) as s:
        return s.execute(text(f"select {function}(:v)"), {"v": value}).scalar()


def _lock_user(session: Session, user_id: int) -> UserAccount | None:
    return session.exec(select(UserAccount).where(UserAccount.id == user_id).with_for_update()).first()


def _check_lock(session: Session, user: UserAccount, now: datetime, actor: Actor) -> None:
    """Raise AccountLocked while locked; after the lock ended, clear it (audited auth.unlocked).
    Commits the unlock so it stays even when the attempt then fails."""
    if user.locked_until is None:
        return
    if now < user.locked_until:
        record(session, actor, "auth.login_refused_locked", "user_account", user.id, at=now)
        session.commit()
        raise AccountLocked(user.locked_until, now)
    user.locked_until = None
    user.failed_login_count, user.throttled_until = 0, None
    session.add(user)
    record(session, actor, "auth.unlocked", "user_account", user.id, at=now, reason="expired")


def _fail(session: Session, user: UserAccount, now: datetime, actor: Actor, action: str,
          exc: type[LoginFailed] = LoginFailed) -> LoginFailed:
    """Count one failed attempt (audited `action`), lock at LOCK_AFTER, commit; returns the
    exception to raise."""
    user.failed_login_count += 1
    record(session, actor, action, "user_account", user.id, at=now, failures=user.failed_login_count)
    if user.failed_login_count >= LOCK_AFTER:
        user.locked_until = now + LOCK_DURATION
        record(session, actor, "auth.locked", "user_account", user.id, at=now,
               failures=user.failed_login_count, until=user.locked_until.isoformat())
        session.add(user)
        session.commit()
        return AccountLocked(user.locked_until, now)
    hint = _retry_hint(user.failed_login_count)
    if hint:  # the slow-down is enforced: no attempt is even checked before this instant
        user.throttled_until = now + timedelta(seconds=hint)
    session.add(user)
    session.commit()
    return exc(retry_after=hint)


def _check_throttle(session: Session, user: UserAccount, now: datetime, actor: Actor) -> None:
    """Refuse an attempt during the slow-down after repeated failures (not counted, audited)."""
    if user.throttled_until is not None and now < user.throttled_until:
        verify_password(_DUMMY_HASH, "timing")
        wait = math.ceil((user.throttled_until - now).total_seconds())
        record(session, actor, "auth.login_throttled", "user_account", user.id, at=now, retry_after=wait)
        session.commit()
        raise LoginFailed(retry_after=wait)


def _open_session(session: Session, user: UserAccount, now: datetime, session_hours: int, ip: str,
                  user_agent: str, method: str) -> SignedIn:
    token = secrets.token_urlsafe(32)
    session.add(UserSession(org_id=user.org_id, user_id=user.id, token_hash=_token_hash(token), created_at=now,
                            last_seen_at=now, expires_at=now + timedelta(hours=session_hours)))
    user.last_login_at = now
    user.failed_login_count, user.throttled_until = 0, None
    session.add(user)
    actor = _actor(user, ip, user_agent)
    if method == "password":
        record(session, actor, "auth.login", "user_account", user.id, at=now)
    else:
        record(session, actor, "auth.login", "user_account", user.id, at=now, second_factor=method)
    return SignedIn(token, actor, user.display_name or user.email)


def _revoke_all(session: Session, user_id: int, now: datetime, *, except_token: str | None = None) -> int:
    """Revoke the user's live sessions (but the one of except_token); returns how many."""
    stmt = (update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=now))
    if except_token:
        stmt = stmt.where(UserSession.token_hash != _token_hash(except_token))
    return session.execute(stmt).rowcount or 0


def _verify_totp(user: UserAccount, code: str, now: datetime) -> int | None:
    """The accepted time step for `code` (±1 step around now, never a step at or before the
    last accepted one: no replay), or None."""
    code = code.strip().replace(" ", "")
    if not user.totp_secret_enc or len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(unseal(user.totp_secret_enc), interval=TOTP_STEP_SECONDS)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _normalise_recovery(code: str) -> str:
    raw = "".join(ch for ch in code.lower() if ch.isalnum())
    return f"{raw[:5]}-{raw[5:]}" if len(raw) == 10 else ""


def _use_recovery_code(session: Session, user: UserAccount, code: str, now: datetime) -> bool:
    """Spend one unused recovery code matching `code`; False if none matches."""
    code = _normalise_recovery(code)
    if not code:
        return False
    rows = session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
                        .with_for_update()).all()
    for row in rows:
        if verify_password(row.code_hash, code):
            row.used_at = now
            session.add(row)
            return True
    return False


def _new_recovery_codes(session: Session, user: UserAccount, now: datetime) -> list[str]:
    """Replace the user's recovery codes by RECOVERY_CODE_COUNT new ones (returned in clear once)."""
    session.execute(update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
                    .values(used_at=now))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    session.add_all([RecoveryCode(org_id=user.org_id, user_id=user.id, code_hash=hash_password(c), created_at=now)
                     for c in codes])
    return codes


def _start_enrolment(session: Session, user: UserAccount, actor: Actor, now: datetime) -> TotpEnrolment:
    if user.totp_confirmed_at is not None:
        raise ValidationFailed({"code": "Two-factor sign-in is already set up for this account"})
    secret = pyotp.random_base32()
    user.totp_secret_enc = seal(secret)
    user.totp_last_step = None
    session.add(user)
    issuer = session.exec(select(Organization.name).where(Organization.id == user.org_id)).first() or "medspa"
    uri = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS).provisioning_uri(name=user.email, issuer_name=issuer)
    svg = segno.make(uri, error="m").svg_inline(scale=4, title="Two-factor set-up code")
    record(session, actor, "auth.2fa_enrolment_started", "user_account", user.id, at=now)
    return TotpEnrolment(provisioning_uri=uri, qr_svg=svg, manual_key=secret)


def _confirm_enrolment(session: Session, user: UserAccount, code: str, actor: Actor, now: datetime) -> list[str] | None:
    """Confirm with a first valid code; returns the recovery codes, or None for a wrong code."""
    if user.totp_confirmed_at is not None:
        raise ValidationFailed({"code": "Two-factor sign-in is already set up for this account"})
    if not user.totp_secret_enc:
        raise ValidationFailed({"code": "Start the two-factor set-up first"})
    step = _verify_totp(user, code, now)
    if step is None:
        return None
    user.totp_last_step = step
    user.totp_confirmed_at = now
    session.add(user)
    codes = _new_recovery_codes(session, user, now)
    record(session, actor, "auth.2fa_enabled", "user_account", user.id, at=now)
    return codes


def _challenge(session: Session, user: UserAccount, purpose: str, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(LoginChallenge(org_id=user.org_id, user_id=user.id, token_hash=_token_hash(token), purpose=purpose,
                               created_at=now, expires_at=now + CHALLENGE_TTL))
    return token


def _load_challenge(session: Session, challenge: str, purpose: str, now: datetime) -> LoginChallenge | None:
    row = session.exec(select(LoginChallenge).where(LoginChallenge.token_hash == _token_hash(challenge))
                       .with_for_update()).first()
    if row is None or row.used_at is not None or row.purpose != purpose or now >= row.expires_at:
        return None
    return row


def _staff_user(session: Session, actor: Actor, user_id: int) -> UserAccount:
    user = _lock_user(session, user_id)
    if user is None or user.org_id != actor.org_id:
        raise NotFound("user_account")
    return user


def _self_user(session: Session, actor: Actor) -> UserAccount:
    if actor.user_id is None:
        raise NotFound("user_account")
    user = _lock_user(session, actor.user_id)
    if user is None or not user.active:
        raise NotFound("user_account")
    return user


# --- sign-in -----------------------------------------------------------------------------

def begin_login(engine: Engine, email: str, password: str, *, now: datetime, session_hours: int = 12,
                ip: str = "", user_agent: str = "") -> LoginResult:
    """First sign-in step: check lock and password, then open a session or ask for the
    second factor (see the module doc for the statuses).

    Raises LoginFailed (unknown email, wrong password, deactivated account; retry_after
    hint in seconds after 3 consecutive failures of the account) or AccountLocked (5
    consecutive failures: 15 minutes; even the right password is refused until then).
    Audited: auth.login, auth.login_failed, auth.locked, auth.unlocked,
    auth.login_refused_locked, auth.password_ok (second step pending).
    """
    email = email.strip().lower()
    org_id = _org_by(engine, "medspa_org_for_login", email)
    if org_id is None:
        verify_password(_DUMMY_HASH, password)  # same work whether or not the account exists
        raise LoginFailed()
    with tenant_session(org_id, engine) as s:
        user = s.exec(select(UserAccount).where(UserAccount.email == email, UserAccount.active)
                      .with_for_update()).first()
        public = Actor(org_id=org_id, role="public", label=email, ip=ip, user_agent=user_agent)
        if user is None:
            verify_password(_DUMMY_HASH, password)
            raise LoginFailed()
        if user.locked_until is not None and now < user.locked_until:
            verify_password(_DUMMY_HASH, password)
        _check_lock(s, user, now, public)
        _check_throttle(s, user, now, public)
        if not verify_password(user.password_hash, password):
            raise _fail(s, user, now, public, "auth.login_failed")
        if user.totp_confirmed_at is not None or _needs_2fa(user):
            purpose = "totp" if user.totp_confirmed_at is not None else "enrol"
            token = _challenge(s, user, purpose, now)
            record(s, public, "auth.password_ok", "user_account", user.id, at=now, next=purpose)
            s.commit()
            return LoginResult("totp_required" if purpose == "totp" else "enrolment_required", challenge=token)
        signed = _open_session(s, user, now, session_hours, ip, user_agent, "password")
        s.commit()
        return LoginResult("signed_in", signed_in=signed)


def complete_login(engine: Engine, challenge: str, code: str, *, now: datetime, session_hours: int = 12,
                   ip: str = "", user_agent: str = "") -> SignedIn:
    """Second sign-in step: a 6-digit TOTP code (±1 step of 30 s, each code once) or one of
    the account's unused recovery codes ("xxxxx-xxxxx"; spent on use). Opens the session.

    Raises InvalidCode (wrong code, or an unknown/used/expired challenge; a wrong code counts
    as a failed attempt with the same retry_after/lock rules) or AccountLocked.
    """
    org_id = _org_by(engine, "medspa_org_for_challenge", _token_hash(challenge or ""))
    if org_id is None:
        raise InvalidCode()
    with tenant_session(org_id, engine) as s:
        row = _load_challenge(s, challenge, "totp", now)
        if row is None:
            raise InvalidCode()
        user = _lock_user(s, row.user_id)
        if user is None or not user.active or user.totp_confirmed_at is None:
            raise InvalidCode()
        public = Actor(org_id=org_id, role="public", label=user.email, ip=ip, user_agent=user_agent)
        _check_lock(s, user, now, public)
        _check_throttle(s, user, now, public)
        step = _verify_totp(user, code, now)
        method = "totp"
        if step is not None:
            user.totp_last_step = step
        elif _use_recovery_code(s, user, code, now):
            method = "recovery_code"
            record(s, public, "auth.recovery_code_used", "user_account", user.id, at=now)
        else:
            raise _fail(s, user, now, public, "auth.2fa_failed", InvalidCode)
        row.used_at = now
        s.add(row)
        signed = _open_session(s, user, now, session_hours, ip, user_agent, method)
        s.commit()
        return signed


def start_enrolment(engine: Engine, challenge: str, *, now: datetime) -> TotpEnrolment:
    """Forced enrolment (status "enrolment_required"): a new TOTP secret for the challenge's
    account; returns the provisioning URI, the QR code SVG and the manual key. Calling it
    again replaces the unconfirmed secret. Raises InvalidCode for an unknown/used/expired
    challenge."""
    org_id = _org_by(engine, "medspa_org_for_challenge", _token_hash(challenge or ""))
    if org_id is None:
        raise InvalidCode()
    with tenant_session(org_id, engine) as s:
        row = _load_challenge(s, challenge, "enrol", now)
        user = _lock_user(s, row.user_id) if row else None
        if row is None or user is None or not user.active:
            raise InvalidCode()
        enrolment = _start_enrolment(s, user, _actor(user), now)
        s.commit()
        return enrolment


def confirm_enrolment(engine: Engine, challenge: str, code: str, *, now: datetime, session_hours: int = 12,
                      ip: str = "", user_agent: str = "") -> EnrolledSignIn:
    """Forced enrolment, last step: the first valid code confirms two-factor, signs in and
    returns the 10 recovery codes (shown once). Raises InvalidCode (wrong code: counts as a
    failed attempt; unknown/used/expired challenge), AccountLocked, or ValidationFailed
    (start_enrolment was not called)."""
    org_id = _org_by(engine, "medspa_org_for_challenge", _token_hash(challenge or ""))
    if org_id is None:
        raise InvalidCode()
    with tenant_session(org_id, engine) as s:
        row = _load_challenge(s, challenge, "enrol", now)
        user = _lock_user(s, row.user_id) if row else None
        if row is None or user is None or not user.active:
            raise InvalidCode()
        public = Actor(org_id=org_id, role="public", label=user.email, ip=ip, user_agent=user_agent)
        _check_lock(s, user, now, public)
        codes = _confirm_enrolment(s, user, code, _actor(user, ip, user_agent), now)
        if codes is None:
            raise _fail(s, user, now, public, "auth.2fa_failed", InvalidCode)
        row.used_at = now
        s.add(row)
        signed = _open_session(s, user, now, session_hours, ip, user_agent, "totp")
        s.commit()
        return EnrolledSignIn(signed, codes)


# --- two-factor for a signed-in account --------------------------------------------------

def begin_totp_enrolment(session: Session, actor: Actor, *, now: datetime) -> TotpEnrolment:
    """Optional two-factor set-up by the signed-in account itself (any staff role).

    Raises NotFound (no account behind the actor) or ValidationFailed (already set up).
    The caller commits."""
    user = _self_user(session, actor)
    return _start_enrolment(session, user, actor, now)


def confirm_totp_enrolment(session: Session, actor: Actor, code: str, *, now: datetime) -> list[str]:
    """Confirm the signed-in account's set-up with a first valid code; returns the 10
    recovery codes (shown once). Raises ValidationFailed (wrong code, nothing started,
    already set up). The caller commits."""
    user = _self_user(session, actor)
    codes = _confirm_enrolment(session, user, code, actor, now)
    if codes is None:
        raise ValidationFailed({"code": "That code is not right; enter the current 6-digit code"})
    return codes


def regenerate_recovery_codes(session: Session, actor: Actor, code: str, *, now: datetime) -> list[str]:
    """Replace the signed-in account's recovery codes (old ones stop working), after a valid
    current TOTP code. Raises ValidationFailed. The caller commits."""
    user = _self_user(session, actor)
    if user.totp_confirmed_at is None:
        raise ValidationFailed({"code": "Two-factor sign-in is not set up"})
    step = _verify_totp(user, code, now)
    if step is None:
        raise ValidationFailed({"code": "That code is not right; enter the current 6-digit code"})
    user.totp_last_step = step
    session.add(user)
    codes = _new_recovery_codes(session, user, now)
    record(session, actor, "auth.recovery_codes_regenerated", "user_account", user.id, at=now)
    return codes


def reset_two_factor(session: Session, actor: Actor, user_id: int, *, now: datetime) -> None:
    """Owner (staff.manage): clear a staff member's two-factor (lost phone). Their recovery
    codes stop working and their sessions are revoked; the next sign-in of a role that needs
    two-factor goes through enrolment again. Raises PermissionDenied, NotFound. Caller commits."""
    actor.require("staff.manage")
    user = _staff_user(session, actor, user_id)
    user.totp_secret_enc = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    session.add(user)
    session.execute(update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
                    .values(used_at=now))
    revoked = _revoke_all(session, user.id, now)
    record(session, actor, "auth.2fa_reset", "user_account", user.id, at=now, sessions_revoked=revoked)


def set_two_factor_required(session: Session, actor: Actor, user_id: int, required: bool, *,
                            now: datetime) -> None:
    """Owner (staff.manage): require two-factor for any staff account (owner, manager and
    provider always need it; the flag adds it for others). Takes effect at the next
    sign-in. Raises PermissionDenied, NotFound. The caller commits."""
    actor.require("staff.manage")
    user = _staff_user(session, actor, user_id)
    user.require_2fa = bool(required)
    session.add(user)
    record(session, actor, "user.require_2fa", "user_account", user.id, at=now, required=bool(required))


def two_factor_status(session: Session, actor: Actor, user_id: int | None = None) -> dict:
    """{"enabled": bool, "required": bool, "recovery_codes_left": int} of the actor's own
    account (user_id None) or, with staff.manage, of any staff account. Never the secret."""
    if user_id is None or user_id == actor.user_id:
        user = _self_user(session, actor)
    else:
        actor.require("staff.manage")
        user = _staff_user(session, actor, user_id)
    left = len(session.exec(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                                          RecoveryCode.used_at.is_(None))).all())
    return {"enabled": user.totp_confirmed_at is not None, "required": _needs_2fa(user),
            "recovery_codes_left": left}


# --- sessions, deactivation, lock --------------------------------------------------------

def sign_out_everywhere(session: Session, actor: Actor, *, now: datetime) -> int:
    """Revoke every session of the signed-in account (this browser too); returns how many.
    Raises NotFound without an account. Audited auth.sign_out_everywhere. Caller commits."""
    user = _self_user(session, actor)
    revoked = _revoke_all(session, user.id, now)
    record(session, actor, "auth.sign_out_everywhere", "user_account", user.id, at=now, sessions_revoked=revoked)
    return revoked


def revoke_user_sessions(session: Session, actor: Actor, user_id: int, *, now: datetime) -> int:
    """Owner (staff.manage): revoke all sessions of a staff account; returns how many.
    Raises PermissionDenied, NotFound. Audited auth.sessions_revoked. Caller commits."""
    actor.require("staff.manage")
    user = _staff_user(session, actor, user_id)
    revoked = _revoke_all(session, user.id, now)
    record(session, actor, "auth.sessions_revoked", "user_account", user.id, at=now, sessions_revoked=revoked)
    return revoked


def deactivate_user(session: Session, actor: Actor, user_id: int, *, now: datetime) -> None:
    """Owner (staff.manage): deactivate a staff account. The row stays (history, audit),
    active=False, deactivated_at=now, all sessions revoked; sign-in is refused like a wrong
    password. Raises PermissionDenied, NotFound, ValidationFailed (own account). Caller commits."""
    actor.require("staff.manage")
    user = _staff_user(session, actor, user_id)
    if user.id == actor.user_id:
        raise ValidationFailed({"user": "You cannot deactivate your own account"})
    if not user.active:
        return
    user.active = False
    user.deactivated_at = now
    session.add(user)
    revoked = _revoke_all(session, user.id, now)
    record(session, actor, "user.deactivate", "user_account", user.id, at=now, sessions_revoked=revoked)


def reactivate_user(session: Session, actor: Actor, user_id: int, *, now: datetime) -> None:
    """Owner (staff.manage): allow a deactivated account to sign in again. Raises
    PermissionDenied, NotFound. Audited user.reactivate. Caller commits."""
    actor.require("staff.manage")
    user = _staff_user(session, actor, user_id)
    if user.active:
        return
    user.active = True
    user.deactivated_at = None
    user.failed_login_count, user.throttled_until = 0, None
    user.locked_until = None
    session.add(user)
    record(session, actor, "user.reactivate", "user_account", user.id, at=now)


def unlock_user(session: Session, actor: Actor, user_id: int, *, now: datetime) -> None:
    """Owner (staff.manage): lift a failed-login lock before it expires and reset the count.
    Raises PermissionDenied, NotFound. Audited auth.unlocked. Caller commits."""
    actor.require("staff.manage")
    user = _staff_user(session, actor, user_id)
    was_locked = user.locked_until is not None and now < user.locked_until
    user.locked_until = None
    user.failed_login_count, user.throttled_until = 0, None
    session.add(user)
    if was_locked:
        record(session, actor, "auth.unlocked", "user_account", user.id, at=now, reason="owner")


# --- passwords ---------------------------------------------------------------------------

def change_password(session: Session, actor: Actor, current_password: str, new_password: str, *,
                    now: datetime, keep_token: str | None = None) -> int:
    """The signed-in account changes its password (strength rule). Every other session is
    revoked (keep_token: the session to keep, usually the caller's cookie); returns how many
    were revoked. Raises ValidationFailed ({"current_password": ...}), WeakPassword, NotFound.
    Audited auth.password_changed. Caller commits."""
    user = _self_user(session, actor)
    if not verify_password(user.password_hash, current_password):
        raise ValidationFailed({"current_password": "Your current password is not right"})
    check_password_strength(new_password, user.email)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    session.add(user)
    revoked = _revoke_all(session, user.id, now, except_token=keep_token)
    record(session, actor, "auth.password_changed", "user_account", user.id, at=now, sessions_revoked=revoked)
    return revoked


def request_password_reset(engine: Engine, email: str, *, now: datetime, base_url: str, ip: str = "",
                           user_agent: str = "") -> None:
    """Queue a reset link by email (outbox kind "password_reset", dedupe_key
    "password-reset-<token row id>") for an active account; earlier unused links of the
    account stop working. The link is `{base_url}/reset-password?token=...`, valid
    RESET_TTL (30 min), single use; only its SHA-256 is stored.

    Returns None whether or not the email belongs to an account (no enumeration).
    Audited auth.password_reset_requested for known accounts.
    """
    email = email.strip().lower()
    token = secrets.token_urlsafe(32)
    digest = _token_hash(token)
    org_id = _org_by(engine, "medspa_org_for_login", email)
    if org_id is None:
        return None
    with tenant_session(org_id, engine) as s:
        user = s.exec(select(UserAccount).where(UserAccount.email == email, UserAccount.active)).first()
        if user is None:
            return None
        s.execute(update(PasswordResetToken).where(PasswordResetToken.user_id == user.id,
                                                   PasswordResetToken.used_at.is_(None)).values(used_at=now))
        row = PasswordResetToken(org_id=org_id, user_id=user.id, token_hash=digest, created_at=now,
                                 expires_at=now + RESET_TTL)
        s.add(row)
        s.flush()
        org_name = s.exec(select(Organization.name).where(Organization.id == org_id)).first() or ""
        link = f"{base_url.rstrip('/')}/reset-password?token={token}"
        s.add(OutboxMessage(
            org_id=org_id, channel="email", kind="password_reset", to_address=user.email,
            subject=f"Reset your {org_name} staff password".replace("  ", " "),
            body=(f"Hi {user.display_name or user.email},\n\n"
                  f"Someone (hopefully you) asked to reset the password of your staff account.\n"
                  f"Open this link within 30 minutes to choose a new password:\n{link}\n\n"
                  f"If you did not ask for this, ignore this email: your password stays the same.\n\n{org_name}"),
            dedupe_key=f"password-reset-{row.id}"))
        record(s, Actor(org_id=org_id, role="public", label=email, ip=ip, user_agent=user_agent),
               "auth.password_reset_requested", "user_account", user.id, at=now)
        s.commit()
    return None


def reset_password(engine: Engine, token: str, new_password: str, *, now: datetime, ip: str = "",
                   user_agent: str = "") -> None:
    """Use a reset link: set `new_password` (strength rule), spend the link, revoke all the
    account's sessions and lift a failed-login lock. Raises ResetLinkInvalid (unknown, used
    or expired) or WeakPassword (the link stays usable). Audited auth.password_reset."""
    digest = _token_hash(token or "")
    org_id = _org_by(engine, "medspa_org_for_reset", digest)
    if org_id is None:
        raise ResetLinkInvalid()
    with tenant_session(org_id, engine) as s:
        row = s.exec(select(PasswordResetToken).where(PasswordResetToken.token_hash == digest)
                     .with_for_update()).first()
        if row is None or row.used_at is not None or now >= row.expires_at:
            raise ResetLinkInvalid()
        user = _lock_user(s, row.user_id)
        if user is None or not user.active:
            raise ResetLinkInvalid()
        check_password_strength(new_password, user.email)
        user.password_hash = hash_password(new_password)
        user.password_changed_at = now
        user.failed_login_count, user.throttled_until = 0, None
        user.locked_until = None
        s.add(user)
        row.used_at = now
        s.add(row)
        revoked = _revoke_all(s, user.id, now)
        record(s, Actor(org_id=org_id, role="public", label=user.email, ip=ip, user_agent=user_agent),
               "auth.password_reset", "user_account", user.id, at=now, sessions_revoked=revoked)
        s.commit()

