"""Use cases of the signed-in staff account (/account) and the clinic facts the pages show.

Each is `fetch_<thing>(actor, ...)` or `do_<verb>(actor, ...)`, ONE transaction
(domain/work.atomic) in the actor's clinic. Keyword-only: `now` or `clock` (default: the app
clock) and `engine` (tests pass theirs). Errors: NotFound (no active account behind the
actor), ValidationFailed with the field's message (wrong code, wrong current password,
WeakPassword for the strength rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from medspa.clock import Clock

from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.credentials import change_password
from medspa.domain.identity.staff_admin import sign_out_everywhere
from medspa.domain.identity.two_factor import (
    TotpEnrolment,
    begin_totp_enrolment,
    confirm_totp_enrolment,
    regenerate_recovery_codes,
    two_factor_status,
)
from medspa.domain.practice.profile import clinic_of, logo_url
from medspa.domain.work import atomic, now_of


@dataclass(frozen=True)
class TwoFactorStatus:
    """Two-factor of one account: on or off, required (by role or the owner's flag), and how
    many unused recovery codes are left. Never the secret."""

    enabled: bool
    required: bool
    recovery_codes_left: int


@dataclass(frozen=True)
class ClinicHeader:
    """What the staff header shows of the actor's clinic: its name and logo URL ("" without)."""

    name: str
    logo_url: str


def fetch_clinic_header(actor: Actor, *, engine: Engine | None = None) -> ClinicHeader:
    """The name and logo URL of the actor's clinic (the staff header); empty when there is none."""
    with atomic(actor.org_id, engine=engine) as work:
        try:
            org = clinic_of(work.session, actor.org_id)
        except NotFound:
            return ClinicHeader("", "")
        return ClinicHeader(org.name, logo_url(org.slug, org.logo_version))


def fetch_two_factor_status(actor: Actor, *, engine: Engine | None = None) -> TwoFactorStatus:
    """Two-factor status of the actor's own account. Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        status = two_factor_status(work.session, actor)
    return TwoFactorStatus(status["enabled"], status["required"], status["recovery_codes_left"])


def do_start_two_factor(actor: Actor, *, now: datetime | None = None, clock: Clock | None = None,
                        engine: Engine | None = None) -> TotpEnrolment:
    """Start the optional two-factor set-up of the actor's own account: the QR code (SVG), the
    otpauth URI and the manual key of a new secret. Raises NotFound or ValidationFailed
    (already set up)."""
    now = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        return begin_totp_enrolment(work.session, actor, now=now)


def do_confirm_two_factor(actor: Actor, code: str, *, now: datetime | None = None, clock: Clock | None = None,
                          engine: Engine | None = None) -> list[str]:
    """Confirm the set-up with a first valid 6-digit code; returns the 10 recovery codes
    (shown once). Raises ValidationFailed ({"code": ...}) or NotFound."""
    now = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        return confirm_totp_enrolment(work.session, actor, code, now=now)


def do_regenerate_recovery_codes(actor: Actor, code: str, *, now: datetime | None = None,
                                 clock: Clock | None = None, engine: Engine | None = None) -> list[str]:
    """Replace the actor's recovery codes after a valid current TOTP code; returns the 10 new
    ones (the old ones stop working). Raises ValidationFailed ({"code": ...}) or NotFound."""
    now = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        return regenerate_recovery_codes(work.session, actor, code, now=now)


def do_change_password(actor: Actor, current_password: str, new_password: str, *, keep_token: str | None = None,
                       now: datetime | None = None, clock: Clock | None = None,
                       engine: Engine | None = None) -> int:
    """Change the actor's password (strength rule); every other session is revoked but the one
    of `keep_token` (the caller's cookie). Returns how many were revoked. Raises
    ValidationFailed ({"current_password": ...}), WeakPassword ({"password": ...}), NotFound."""
    now = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        return change_password(work.session, actor, current_password, new_password, now=now, keep_token=keep_token)


def do_sign_out_everywhere(actor: Actor, *, now: datetime | None = None, clock: Clock | None = None,
                           engine: Engine | None = None) -> int:
    """Revoke every session of the actor's account (this browser too); returns how many.
    Raises NotFound."""
    now = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        return sign_out_everywhere(work.session, actor, now=now)
