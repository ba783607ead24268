"""Client (patient) records: identity, contact and marketing consent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp


class Client(SQLModel, table=True):
    """A client of the clinic. Phone is stored as E.164 (+15551234567); email lower-cased."""

    __tablename__ = "client"
    id: int | None = pk()
    org_id: int = org_fk()
    first_name: str
    last_name: str
    date_of_birth: date | None = None
    email: str | None = None
    phone_e164: str | None = None
    email_marketing_consent: bool = False
    sms_marketing_consent: bool = False
    created_at: datetime = tstamp(default_now=True)
    merged_into_id: int | None = fk("client.id", nullable=True, index=False)  # hidden: merged into that client
    merged_at: datetime | None = tstamp()


class ClientMerge(SQLModel, table=True):
    """One merge of `absorbed_id` into `survivor_id` (clients.merge): the rows it moved
    {"table.column": [row ids]} and the fields it filled on the survivor {field: [old, new]},
    so that undo, until `undo_until`, puts back exactly those (migration 0032)."""

    __tablename__ = "client_merge"
    id: int | None = pk()
    org_id: int = org_fk()
    survivor_id: int = fk("client.id", index=False)
    absorbed_id: int = fk("client.id", index=False)
    merged_at: datetime = tstamp(nullable=False)
    merged_by: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))
    undo_until: datetime = tstamp(nullable=False)
    undone_at: datetime | None = tstamp()
    moved: dict = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}"))
    filled: dict = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}"))
