"""Client (patient) records: identity, contact and marketing consent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Text
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
    # details (migration 0034; clients/details.py validates them)
    address: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    time_zone: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))  # None: usual location's
    emergency_name: str = Field(default="", sa_column=Column(String(120), nullable=False, server_default=""))
    emergency_phone_e164: str | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    preferred_provider_id: int | None = Field(default=None, sa_column=Column(
        BigInteger, ForeignKey("staff_member.id", ondelete="SET NULL"), nullable=True))
    insurance_carrier: str = Field(default="", sa_column=Column(String(120), nullable=False, server_default=""))
    insurance_member_id: str = Field(default="", sa_column=Column(String(60), nullable=False, server_default=""))
    email_marketing_consent_at: datetime | None = tstamp()  # the last change of email_marketing_consent
    email_marketing_consent_source: str = Field(default="", sa_column=Column(String(40), nullable=False,
                                                                             server_default=""))
    sms_marketing_consent_at: datetime | None = tstamp()
    sms_marketing_consent_source: str = Field(default="", sa_column=Column(String(40), nullable=False,
                                                                           server_default=""))
    alerts: str = Field(default="", sa_column=Column(String(120), nullable=False, server_default=""))
    # messages (issue 19, migration 0053): how reminders reach them; what each marketing consent said
    reminder_channel: str = Field(default="both", sa_column=Column(String(10), nullable=False,
                                                                  server_default="both"))  # both/email/sms/none
    reminder_hours: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))  # None: the clinic's
    email_marketing_consent_wording: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    sms_marketing_consent_wording: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


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
