"""The outbox: messages written in the transaction that caused them, sent later."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp


class OutboxMessage(SQLModel, table=True):
    """An email or SMS to send. dedupe_key makes a message idempotent (e.g. one receipt per payment)."""

    __tablename__ = "outbox_message"
    __table_args__ = (UniqueConstraint("org_id", "dedupe_key", name="uq_outbox_dedupe"),)
    id: int | None = pk()
    org_id: int = org_fk()
    channel: str
    kind: str
    to_address: str
    subject: str = ""
    body: str
    client_id: int | None = fk("client.id", nullable=True)
    appointment_id: int | None = fk("appointment.id", nullable=True)
    dedupe_key: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    status: str = "pending"
    created_at: datetime = tstamp(default_now=True)
    sent_at: datetime | None = tstamp()
