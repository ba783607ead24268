"""Staff accounts, their server-side sessions and the account-security rows around them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, String, Text
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp


class UserAccount(SQLModel, table=True):
    """A staff login. email is unique across clinics (lower-case); password_hash is argon2id.

    Deactivated accounts keep their row (history): active=False, deactivated_at set.
    totp_secret_enc is the Fernet-encrypted TOTP secret (never returned after enrolment);
    totp_confirmed_at is set once a first valid code was entered; totp_last_step is the last
    accepted 30-second step (a code is never accepted twice). failed_login_count counts
    consecutive failed sign-in attempts (password or second factor); locked_until ends a lock.
    """

    __tablename__ = "user_account"
    id: int | None = pk()
    org_id: int = org_fk()
    email: str = Field(sa_column=Column(String(320), unique=True, nullable=False))
    password_hash: str
    role: str
    staff_id: int | None = fk("staff_member.id", nullable=True)
    display_name: str = ""
    active: bool = True
    created_at: datetime = tstamp(default_now=True)
    last_login_at: datetime | None = tstamp()
    require_2fa: bool = False
    totp_secret_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    totp_confirmed_at: datetime | None = tstamp()
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    failed_login_count: int = 0
    locked_until: datetime | None = tstamp()
    throttled_until: datetime | None = tstamp()  # after 3 failures: no attempt before this
    password_changed_at: datetime | None = tstamp()
    deactivated_at: datetime | None = tstamp()


class UserSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of the token is stored."""

    __tablename__ = "user_session"
    id: int | None = pk()
    org_id: int = org_fk()
    user_id: int = fk("user_account.id")
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    created_at: datetime = tstamp(nullable=False)
    last_seen_at: datetime = tstamp(nullable=False)
    expires_at: datetime = tstamp(nullable=False)
    revoked_at: datetime | None = tstamp()


class RecoveryCode(SQLModel, table=True):
    """One two-factor recovery code: only its argon2id hash; used_at set when spent."""

    __tablename__ = "user_recovery_code"
    id: int | None = pk()
    org_id: int = org_fk()
    user_id: int = fk("user_account.id")
    code_hash: str
    created_at: datetime = tstamp(nullable=False)
    used_at: datetime | None = tstamp()


class LoginChallenge(SQLModel, table=True):
    """The step between a correct password and a session: purpose "totp" (enter a code) or
    "enrol" (two-factor enrolment forced). Only the SHA-256 of its token is stored."""

    __tablename__ = "login_challenge"
    id: int | None = pk()
    org_id: int = org_fk()
    user_id: int = fk("user_account.id")
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    purpose: str
    created_at: datetime = tstamp(nullable=False)
    expires_at: datetime = tstamp(nullable=False)
    used_at: datetime | None = tstamp()


class PasswordResetToken(SQLModel, table=True):
    """A single-use password reset link: only the SHA-256 of its token is stored."""

    __tablename__ = "password_reset_token"
    id: int | None = pk()
    org_id: int = org_fk()
    user_id: int = fk("user_account.id")
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    created_at: datetime = tstamp(nullable=False)
    expires_at: datetime = tstamp(nullable=False)
    used_at: datetime | None = tstamp()


class Invitation(SQLModel, table=True):
    """An emailed single-use link that makes a staff account with `role` (and a staff member
    with `title`). Only the SHA-256 of its token is stored. invited_by: the inviting account
    (None: the set-up link or the CLI); user_id: the account it made once accepted."""

    __tablename__ = "invitation"
    id: int | None = pk()
    org_id: int = org_fk()
    email: str = Field(sa_column=Column(String(320), nullable=False))
    display_name: str
    role: str
    title: str = ""
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    invited_by: int | None = fk("user_account.id", nullable=True, index=False)
    created_at: datetime = tstamp(nullable=False)
    expires_at: datetime = tstamp(nullable=False)
    accepted_at: datetime | None = tstamp()
    revoked_at: datetime | None = tstamp()
    user_id: int | None = fk("user_account.id", nullable=True, index=False)


class SignInGuard(SQLModel, table=True):
    """Failed sign-ins of one address from one network (identity.lockout): key_hash =
    sha256("<email>|<ip>"), email_hash = sha256("<email>"), both hex (no address or IP in
    clear). failures: consecutive failures of the pair; throttled_until: the slow-down;
    locked_until: the lock of this pair only. Rows exist for unknown addresses too."""

    __tablename__ = "sign_in_guard"

    key_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    email_hash: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    failures: int = 0
    throttled_until: datetime | None = tstamp()
    locked_until: datetime | None = tstamp()
    updated_at: datetime = tstamp(nullable=False)
