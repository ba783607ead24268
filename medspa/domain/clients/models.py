"""Client (patient) records: identity, contact and marketing consent."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import SQLModel

from medspa.domain.base import org_fk, pk, tstamp


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
