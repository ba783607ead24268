"""Tables of the medical history and contraindications (issue 17, section 1; migration 0042).

medical_history_version: every change of one section of a client's medical history is a row
(append-only: a trigger refuses UPDATE and DELETE except the merge's move of client_id): the
section, the new value and the value it replaced (JSON, shapes in medical_history.SECTIONS),
who (user id and label), when, and the source ("staff", "portal", "intake form"). The client's
current history is the newest row of each section; there is no other copy to drift.

service_contraindication: what a service may not be done with: kind "pregnancy",
"breastfeeding", "medication" (term, months: stopped within that many months of the visit, or
still taken; months 0 = only while still taken), "allergy" (term: an agent or ingredient),
"condition" (term) or "fitzpatrick" (term: a range "V-VI").

health_override: a flagged visit booked or charted anyway: the stage ("booking" or "chart"),
the reason given, the flags as shown (codes and detail), who and when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp


class MedicalHistoryVersion(SQLModel, table=True):
    """One change of one section of a client's medical history (see the module docstring)."""

    __tablename__ = "medical_history_version"
    id: int | None = pk()
    org_id: int = org_fk()
    client_id: int = fk("client.id")
    section: str = Field(sa_column=Column(String(24), nullable=False))
    value: Any = Field(sa_column=Column(JSONB, nullable=False))
    old_value: Any = Field(default=None, sa_column=Column(JSONB, nullable=True))
    source: str = Field(sa_column=Column(String(12), nullable=False))
    by_user_id: int | None = fk("user_account.id", nullable=True, index=False)
    by_label: str = Field(default="", sa_column=Column(String(120), nullable=False))
    changed_at: datetime = tstamp(nullable=False)


class ServiceContraindication(SQLModel, table=True):
    """One contraindication of a service (see the module docstring)."""

    __tablename__ = "service_contraindication"
    id: int | None = pk()
    org_id: int = org_fk()
    service_id: int = fk("service.id")
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    term: str = Field(default="", sa_column=Column(String(80), nullable=False))
    months: int = Field(default=0, sa_column=Column(Integer, nullable=False))


class HealthOverride(SQLModel, table=True):
    """A flagged visit booked or charted anyway, with the reason (see the module docstring)."""

    __tablename__ = "health_override"
    id: int | None = pk()
    org_id: int = org_fk()
    client_id: int = fk("client.id")
    appointment_id: int = fk("appointment.id")
    stage: str = Field(sa_column=Column(String(8), nullable=False))
    reason: str = Field(sa_column=Column(String(500), nullable=False))
    flags: Any = Field(sa_column=Column(JSONB, nullable=False))
    by_user_id: int | None = fk("user_account.id", nullable=True, index=False)
    by_label: str = Field(default="", sa_column=Column(String(120), nullable=False))
    created_at: datetime = tstamp(nullable=False)
