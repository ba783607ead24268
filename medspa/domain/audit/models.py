"""The append-only audit trail (a trigger rejects UPDATE, DELETE and TRUNCATE)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from medspa.domain.base import org_fk, pk, tstamp


class AuditEvent(SQLModel, table=True):
    """Who did what to which record of which client, when and from where."""

    __tablename__ = "audit_event"
    id: int | None = pk()
    org_id: int = org_fk()
    occurred_at: datetime = tstamp(nullable=False)
    actor_user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    actor_role: str
    actor_label: str = ""
    client_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))
    action: str
    object_type: str
    object_id: str = ""
    detail: dict = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    ip: str = ""
    user_agent: str = ""
