"""Staff accounts and their server-side sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp


class UserAccount(SQLModel, table=True):
    """A staff login. email is unique across clinics (lower-case); password_hash is argon2id."""

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
