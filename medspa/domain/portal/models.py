"""Client portal accounts, one-time sign-in codes and client sessions (hashes only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp


class ClientAccount(SQLModel, table=True):
    """A client's portal login: the client record whose email was proven with a code."""

    __tablename__ = "client_account"
    __table_args__ = (UniqueConstraint("org_id", "client_id", name="uq_client_account_client"),)
    id: int | None = pk()
    org_id: int = org_fk()
    client_id: int = fk("client.id")
    email: str = Field(sa_column=Column(String(320), nullable=False))
    verified_at: datetime = tstamp(nullable=False)
    last_login_at: datetime | None = tstamp()


class PortalCode(SQLModel, table=True):
    """A one-time 6-digit sign-in code sent to `email`. Only a salted SHA-256 is stored.

    client_id is None when no client has this email (the request is answered alike and
    nothing is sent). A code dies when used, after MAX_ATTEMPTS wrong tries, or at expires_at.
    """

    __tablename__ = "portal_code"
    id: int | None = pk()
    org_id: int = org_fk()
    email: str = Field(sa_column=Column(String(320), nullable=False, index=True))
    client_id: int | None = fk("client.id", nullable=True)
    salt: str = Field(sa_column=Column(String(32), nullable=False))
    code_hash: str = Field(sa_column=Column(String(64), nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    created_at: datetime = tstamp(nullable=False)
    expires_at: datetime = tstamp(nullable=False)
    used_at: datetime | None = tstamp()


class PortalSession(SQLModel, table=True):
    """A signed-in portal tab bound to one client. Only the SHA-256 of the token is stored."""

    __tablename__ = "portal_session"
    id: int | None = pk()
    org_id: int = org_fk()
    client_id: int = fk("client.id")
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    created_at: datetime = tstamp(nullable=False)
    last_seen_at: datetime = tstamp(nullable=False)
    expires_at: datetime = tstamp(nullable=False)
    revoked_at: datetime | None = tstamp()
