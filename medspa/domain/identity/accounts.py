"""Staff account security, by topic (each module holds its rules and documents them):

- signin.py: sign-in with a password, then a TOTP or recovery code, or the two-factor set-up
  forced at sign-in; challenges between the two steps;
- lockout.py: the slow-down and the lock after failed attempts (LoginFailed, AccountLocked);
- two_factor.py: TOTP enrolment, recovery codes, the owner's two-factor actions;
- sessions.py: opening, finding and revoking server-side sessions;
- staff_admin.py: sign out everywhere, revoke, deactivate, reactivate, unlock;
- credentials.py: password change and reset links; passwords.py: strength rule, hashing;
- tokens.py: token hashing and the clinic of an email or token.

The use cases (one transaction each) are in actions/. This module re-exports the names
other modules imported from here before the split.
"""

from __future__ import annotations

from medspa.domain.identity.credentials import RESET_TTL, ResetLinkInvalid, change_password
from medspa.domain.identity.lockout import LOCK_AFTER, LOCK_DURATION, SLOW_DOWN_AFTER, AccountLocked, LoginFailed
from medspa.domain.identity.signin import (
    CHALLENGE_TTL,
    EnrolledSignIn,
    InvalidCode,
    LoginResult,
    SecondFactorRequired,
)
from medspa.domain.identity.staff_admin import (
    deactivate_user,
    reactivate_user,
    revoke_user_sessions,
    sign_out_everywhere,
    unlock_user,
)
from medspa.domain.identity.two_factor import (
    RECOVERY_CODE_COUNT,
    REQUIRED_2FA_ROLES,
    TOTP_STEP_SECONDS,
    TotpEnrolment,
    begin_totp_enrolment,
    confirm_totp_enrolment,
    regenerate_recovery_codes,
    reset_two_factor,
    set_two_factor_required,
    two_factor_status,
)

__all__ = [
    "CHALLENGE_TTL", "LOCK_AFTER", "LOCK_DURATION", "RECOVERY_CODE_COUNT", "REQUIRED_2FA_ROLES", "RESET_TTL",
    "SLOW_DOWN_AFTER", "TOTP_STEP_SECONDS", "AccountLocked", "EnrolledSignIn", "InvalidCode", "LoginFailed",
    "LoginResult", "ResetLinkInvalid", "SecondFactorRequired", "TotpEnrolment", "begin_totp_enrolment",
    "change_password", "confirm_totp_enrolment", "deactivate_user", "reactivate_user", "regenerate_recovery_codes",
    "reset_two_factor", "revoke_user_sessions", "set_two_factor_required", "sign_out_everywhere",
    "two_factor_status", "unlock_user",
]
