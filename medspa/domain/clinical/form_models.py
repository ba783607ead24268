"""Intake form responses (migration 0044): one row per submission of a form for a visit.

A submitted response is never changed (a database trigger allows no UPDATE except the merge's
move of client_id, and the app role may not DELETE): sending a form again adds a new row with
version + 1, and the latest version is the one that counts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp


class FormResponse(SQLModel, table=True):
    """One submitted version of one form (template_key, template_version) for one visit.
    answers: field key -> answer string. source: "portal" (the client) or "tablet" (filled
    with the client on a staff device). Unique per (org, appointment, template, version)."""

    __tablename__ = "form_response"
    __table_args__ = (UniqueConstraint("org_id", "appointment_id", "template_key", "version",
                                       name="uq_form_response_version"),)
    id: int | None = pk()
    org_id: int = org_fk()
    client_id: int = fk("client.id")
    appointment_id: int = fk("appointment.id")
    template_key: str = Field(sa_column=Column(String(40), nullable=False))
    template_version: int = Field(sa_column=Column(Integer, nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    answers: dict = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    source: str = Field(sa_column=Column(String(10), nullable=False))
    submitted_at: datetime = tstamp(nullable=False)
    submitted_by_user_id: int | None = fk("user_account.id", nullable=True, index=False)
    submitted_by_label: str = Field(default="", sa_column=Column(String(120), nullable=False))
