"""Read models of the owners' analytics, maintained by the database (not by the app).

Kept here, in the analytics package, rather than next to Appointment: the table is a derived
index of the appointment history that only the reports read (service.new_clients,
cohorts.retention); no scheduling code writes or needs it. Triggers of migration 0012 keep it
exact; the app role may only SELECT it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey
from sqlmodel import Field, SQLModel


class ClientFirstVisit(SQLModel, table=True):
    """A client's first completed visit (earliest start_at, then lowest id, any location) and
    second one: the earliest completed visit starting strictly after the first's start (None
    while there is none). One row per client with a completed visit; see migration 0012."""

    __tablename__ = "client_first_visit"
    org_id: int = Field(sa_column=Column(BigInteger, ForeignKey("organization.id"), primary_key=True))
    client_id: int = Field(sa_column=Column(BigInteger, ForeignKey("client.id"), primary_key=True))
    first_appointment_id: int = Field(sa_column=Column(
        BigInteger, ForeignKey("appointment.id", deferrable=True, initially="DEFERRED"), nullable=False))
    first_location_id: int = Field(sa_column=Column(BigInteger, ForeignKey("location.id"), nullable=False))
    first_start_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    second_appointment_id: int | None = Field(default=None, sa_column=Column(
        BigInteger, ForeignKey("appointment.id", deferrable=True, initially="DEFERRED"), nullable=True))
    second_start_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
