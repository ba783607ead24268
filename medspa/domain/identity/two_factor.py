"""TOTP two-factor sign-in and recovery codes of staff accounts.

Two-factor is required for owner, manager and provider accounts (REQUIRED_2FA_ROLES) and for
any account whose owner set require_2fa; any other account may turn it on. A code is valid
±1 step of TOTP_STEP_SECONDS around now, each step once (no replay). Recovery codes
("xxxxx-xxxxx", RECOVERY_CODE_COUNT of them) are stored as argon2id hashes and each signs in
once; the TOTP secret is stored encrypted (secretbox) and never returned after enrolment.

Services: they take a session and never commit (the actions in actions/ do).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from sqlalchemy import update
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.models import RecoveryCode, UserAccount
from medspa.domain.identity.passwords import hash_password, verify_password
from medspa.domain.identity.secretbox import seal, unseal
from medspa.domain.identity.sessions import revoke_all
from medspa.domain.identity.users import self_user, staff_user
from medspa.domain.practice.models import Organization

REQUIRED_2FA_ROLES = frozenset({"owner", "manager", "provider"})
RECOVERY_CODE_COUNT = 10
TOTP_STEP_SECONDS = 30
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
ALREADY_ON = "Two-factor sign-in is already set up for this account"
WRONG_CODE = "That code is not right; enter the current 6-digit code"


@dataclass(frozen=True)
class TotpEnrolment:
    """What the enrolment screen shows: the otpauth:// URI, the same as an SVG QR code
    (a complete <svg> document) and the secret in base32 for typing it in by hand.
    Shown once: nothing returns the secret after confirmation."""

    provisioning_uri: str
    qr_svg: str
    manual_key: str


def needs_2fa(user: UserAccount) -> bool:
    """True when the account must use two-factor (its role, or the owner's flag)."""
    return user.role in REQUIRED_2FA_ROLES or user.require_2fa


def verify_totp(user: UserAccount, code: str, now: datetime) -> int | None:
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


def use_recovery_code(session: Session, user: UserAccount, code: str, now: datetime) -> bool:
    """Spend one unused recovery code matching `code` (case, spaces and dashes ignored);
    False if none matches."""
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


def _spend_recovery_codes(session: Session, user_id: int, now: datetime) -> None:
    session.execute(update(RecoveryCode).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
                    .values(used_at=now))


def new_recovery_codes(session: Session, user: UserAccount, now: datetime) -> list[str]:
    """Replace the user's recovery codes by RECOVERY_CODE_COUNT new ones (returned in clear once)."""
    _spend_recovery_codes(session, user.id, now)
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    session.add_all([RecoveryCode(org_id=user.org_id, user_id=user.id, code_hash=hash_password(c), created_at=now)
                     for c in codes])
    return codes


def start_enrolment(session: Session, user: UserAccount, actor: Actor, now: datetime) -> TotpEnrolment:
    """A new (unconfirmed) TOTP secret for `user`, replacing an unconfirmed one. Raises
    ValidationFailed when two-factor is already on. Audited auth.2fa_enrolment_started."""
    if user.totp_confirmed_at is not None:
        raise ValidationFailed({"code": ALREADY_ON})
    secret = pyotp.random_base32()
    user.totp_secret_enc = seal(secret)
    user.totp_last_step = None
    session.add(user)
    issuer = session.exec(select(Organization.name).where(Organization.id == user.org_id)).first() or "medspa"
    uri = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS).provisioning_uri(name=user.email, issuer_name=issuer)
    svg = segno.make(uri, error="m").svg_inline(scale=4, title="Two-factor set-up code")
    record(session, actor, "auth.2fa_enrolment_started", "user_account", user.id, at=now)
    return TotpEnrolment(provisioning_uri=uri, qr_svg=svg, manual_key=secret)


def confirm_enrolment(session: Session, user: UserAccount, code: str, actor: Actor, now: datetime) -> list[str] | None:
    """Confirm with a first valid code; returns the recovery codes, or None for a wrong code.
    Raises ValidationFailed (already on, or nothing started). Audited auth.2fa_enabled."""
    if user.totp_confirmed_at is not None:
        raise ValidationFailed({"code": ALREADY_ON})
    if not user.totp_secret_enc:
        raise ValidationFailed({"code": "Start the two-factor set-up first"})
    step = verify_totp(user, code, now)
    if step is None:
        return None
    user.totp_last_step = step
    user.totp_confirmed_at = now
    session.add(user)
    codes = new_recovery_codes(session, user, now)
    record(session, actor, "auth.2fa_enabled", "user_account", user.id, at=now)
    return codes


# --- the signed-in account's own two-factor -----------------------------------------------

def begin_totp_enrolment(session: Session, actor: Actor, *, now: datetime) -> TotpEnrolment:
    """Optional two-factor set-up by the signed-in account itself (any staff role).
    Raises NotFound (no account behind the actor) or ValidationFailed (already set up)."""
    return start_enrolment(session, self_user(session, actor), actor, now)


def confirm_totp_enrolment(session: Session, actor: Actor, code: str, *, now: datetime) -> list[str]:
    """Confirm the signed-in account's set-up with a first valid code; returns the 10
    recovery codes (shown once). Raises ValidationFailed (wrong code, nothing started,
    already set up) or NotFound."""
    codes = confirm_enrolment(session, self_user(session, actor), code, actor, now)
    if codes is None:
        raise ValidationFailed({"code": WRONG_CODE})
    return codes


def regenerate_recovery_codes(session: Session, actor: Actor, code: str, *, now: datetime) -> list[str]:
    """Replace the signed-in account's recovery codes (old ones stop working), after a valid
    current TOTP code. Raises ValidationFailed or NotFound. Audited."""
    user = self_user(session, actor)
    if user.totp_confirmed_at is None:
        raise ValidationFailed({"code": "Two-factor sign-in is not set up"})
    step = verify_totp(user, code, now)
    if step is None:
        raise ValidationFailed({"code": WRONG_CODE})
    user.totp_last_step = step
    session.add(user)
    codes = new_recovery_codes(session, user, now)
    record(session, actor, "auth.recovery_codes_regenerated", "user_account", user.id, at=now)
    return codes


def two_factor_status(session: Session, actor: Actor, user_id: int | None = None) -> dict:
    """{"enabled": bool, "required": bool, "recovery_codes_left": int} of the actor's own
    account (user_id None) or, with staff.manage, of any staff account. Never the secret.
    Raises NotFound, PermissionDenied."""
    if user_id is None or user_id == actor.user_id:
        user = self_user(session, actor)
    else:
        actor.require("staff.manage")
        user = staff_user(session, actor, user_id)
    left = len(session.exec(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                                          RecoveryCode.used_at.is_(None))).all())
    return {"enabled": user.totp_confirmed_at is not None, "required": needs_2fa(user),
            "recovery_codes_left": left}


# --- the owner's two-factor actions on staff accounts ---------------------------------------

def reset_two_factor(session: Session, actor: Actor, user_id: int, *, now: datetime) -> None:
    """Owner (staff.manage): clear a staff member's two-factor (lost phone). Their recovery
    codes stop working and their sessions are revoked; the next sign-in of a role that needs
    two-factor goes through enrolment again. Raises PermissionDenied, NotFound."""
    actor.require("staff.manage")
    user = staff_user(session, actor, user_id)
    user.totp_secret_enc = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    session.add(user)
    _spend_recovery_codes(session, user.id, now)
    revoked = revoke_all(session, user.id, now)
    record(session, actor, "auth.2fa_reset", "user_account", user.id, at=now, sessions_revoked=revoked)


def set_two_factor_required(session: Session, actor: Actor, user_id: int, required: bool, *,
                            now: datetime) -> None:
    """Owner (staff.manage): require two-factor for any staff account (owner, manager and
    provider always need it; the flag adds it for others). Takes effect at the next
    sign-in. Raises PermissionDenied, NotFound."""
    actor.require("staff.manage")
    user = staff_user(session, actor, user_id)
    user.require_2fa = bool(required)
    session.add(user)
    record(session, actor, "user.require_2fa", "user_account", user.id, at=now, required=bool(required))
