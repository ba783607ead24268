"""The identity area's use cases, one transaction each (domain/work.atomic):

- signin.py (anonymous: what identifies the caller instead of an actor): do_begin_login,
  do_complete_login, do_login, do_start_enrolment, do_confirm_enrolment,
  fetch_challenge_alive, actor_for_token, do_logout, do_request_password_reset,
  do_reset_password;
- account.py (the signed-in account): fetch_clinic_header,
  fetch_two_factor_status, do_start_two_factor, do_confirm_two_factor,
  do_regenerate_recovery_codes, do_change_password, do_sign_out_everywhere;
- staff.py (the owner, staff.manage): fetch_staff_roster, do_require_two_factor,
  do_reset_two_factor, do_revoke_sessions, do_deactivate, do_reactivate, do_unlock;
- invitations.py: the owner's fetch_invitations, do_invite_staff, do_resend_invitation,
  do_revoke_invitation; with the link's token fetch_invitation, do_accept_invitation.

Entry points (Reflex states, HTTP routes, jobs, CLI) call these and nothing below them;
the results and errors they need are re-exported here too.
"""

from __future__ import annotations

from medspa.domain.identity.actions.account import (
    TwoFactorStatus,
    do_change_password,
    do_confirm_two_factor,
    do_regenerate_recovery_codes,
    do_sign_out_everywhere,
    do_start_two_factor,
    ClinicHeader,
    fetch_clinic_header,
    fetch_two_factor_status,
)
from medspa.domain.identity.actions.signin import (
    actor_for_token,
    do_begin_login,
    do_complete_login,
    do_confirm_enrolment,
    do_login,
    do_logout,
    do_request_password_reset,
    do_reset_password,
    do_start_enrolment,
    fetch_challenge_alive,
)
from medspa.domain.identity.actions.invitations import (
    InvitationView,
    do_accept_invitation,
    do_invite_staff,
    do_resend_invitation,
    do_revoke_invitation,
    fetch_invitation,
    fetch_invitations,
)
from medspa.domain.identity.credentials import ResetLinkInvalid
from medspa.domain.identity.invitations import INVITE_ROLES, ROLE_LABELS, InvitationInvalid, InvitationRow
from medspa.domain.identity.lockout import AccountLocked, LoginFailed, SlowedDown, TooManyAttempts
from medspa.domain.identity.passwords import WeakPassword
from medspa.domain.identity.roster import StaffAccountRow
from medspa.domain.identity.sessions import SignedIn
from medspa.domain.identity.signin import CHALLENGE_TTL, EnrolledSignIn, InvalidCode, LoginResult, SecondFactorRequired
from medspa.domain.identity.two_factor import TotpEnrolment
from medspa.domain.identity.actions.staff import (
    do_deactivate,
    do_reactivate,
    do_require_two_factor,
    do_reset_two_factor,
    do_revoke_sessions,
    do_unlock,
    fetch_staff_roster,
)

__all__ = [
    "CHALLENGE_TTL", "AccountLocked", "SlowedDown", "TooManyAttempts", "EnrolledSignIn", "InvalidCode", "LoginFailed", "LoginResult", "ResetLinkInvalid",
    "SecondFactorRequired", "SignedIn", "StaffAccountRow", "TotpEnrolment", "WeakPassword",
    "ClinicHeader", "TwoFactorStatus", "actor_for_token", "do_begin_login", "do_change_password", "do_complete_login",
    "do_confirm_enrolment", "do_confirm_two_factor", "do_deactivate", "do_login", "do_logout", "do_reactivate",
    "do_regenerate_recovery_codes", "do_request_password_reset", "do_require_two_factor", "do_reset_password",
    "do_reset_two_factor", "do_revoke_sessions", "do_sign_out_everywhere", "do_start_enrolment",
    "do_start_two_factor", "do_unlock", "fetch_challenge_alive", "fetch_clinic_header",
    "fetch_staff_roster", "fetch_two_factor_status",
    "INVITE_ROLES", "ROLE_LABELS", "InvitationInvalid", "InvitationRow", "InvitationView", "do_accept_invitation",
    "do_invite_staff", "do_resend_invitation", "do_revoke_invitation", "fetch_invitation", "fetch_invitations",
]
