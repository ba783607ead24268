"""The service menu: durations, buffers, prices and deposits (integer cents)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk

SERVICE_CATEGORIES = (
    "Neuromodulators",
    "Dermal fillers",
    "Laser hair removal",
    "IPL photofacial",
    "Microneedling",
    "Chemical peels",
    "HydraFacial",
    "Body contouring",
    "Consultations",
)


class Service(SQLModel, table=True):
    """A bookable treatment.

    duration_minutes is the client's time; buffer_before/after_minutes (setup, cleanup) also
    occupy the provider, room and device. price_cents and deposit_cents are integer minor
    units of `currency`. slot_grid_minutes spaces offered start times; min_notice_minutes is
    how long before start an online booking is still allowed; max_advance_days how many days
    ahead a client may book it online (None: the clinic-wide online horizon). `active` False
    is "archived": never deleted, because booked visits name it.
    """

    __tablename__ = "service"
    id: int | None = pk()
    org_id: int = org_fk()
    category: str
    name: str
    description: str = ""
    duration_minutes: int
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    price_cents: int
    deposit_cents: int = 0
    currency: str = Field(default="USD", max_length=3)
    room_type: str | None = None
    device_type: str | None = None
    slot_grid_minutes: int = 15
    min_notice_minutes: int = 120
    online_bookable: bool = True
    max_advance_days: int | None = None
    active: bool = True
    chart_template: str | None = None  # injectable/device/peel/general; None: from the category (clinical/device_rows.py)
    requires_prescriber_order: bool = False  # issue 18: a non-prescriber charts it only under an order


class ServiceProvider(SQLModel, table=True):
    """Which staff members perform which service."""

    __tablename__ = "service_provider"
    org_id: int = org_fk()
    service_id: int = Field(sa_column=Column(BigInteger, ForeignKey("service.id"), primary_key=True))
    staff_id: int = Field(sa_column=Column(BigInteger, ForeignKey("staff_member.id"), primary_key=True))
