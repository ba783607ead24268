"""A location's opening hours per weekday and its closures (holidays, one-off closed days)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Column, Date, SmallInteger, String, Time
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp


class LocationHours(SQLModel, table=True):
    """One opening interval of a location on a weekday (0 = Monday), local wall times.

    A location with no rows at all is open whenever its providers work (the behaviour before
    opening hours existed); with rows, a weekday without any is closed."""

    __tablename__ = "location_hours"
    id: int | None = pk()
    org_id: int = org_fk()
    location_id: int = fk("location.id")
    weekday: int = Field(sa_column=Column(SmallInteger, nullable=False))
    start_time: time = Field(sa_column=Column(Time, nullable=False))
    end_time: time = Field(sa_column=Column(Time, nullable=False))


class LocationClosure(SQLModel, table=True):
    """The location is closed from start_date to end_date (local dates, both inclusive)."""

    __tablename__ = "location_closure"
    id: int | None = pk()
    org_id: int = org_fk()
    location_id: int = fk("location.id")
    start_date: date = Field(sa_column=Column(Date, nullable=False))
    end_date: date = Field(sa_column=Column(Date, nullable=False))
    reason: str = Field(default="", sa_column=Column(String(200), nullable=False))
    created_at: datetime = tstamp(default_now=True)
