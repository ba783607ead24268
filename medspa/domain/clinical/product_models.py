"""Tables of the product catalog, lots, opened vials and lot usage (issue 18, section 1; migration 0048).

product: what the clinic injects or applies: name, manufacturer, category (PRODUCT_CATEGORIES),
the unit it is charted in (PRODUCT_UNITS: "units" for neuromodulators, "mL" for fillers,
"syringes", "vials"), and for a neuromodulator reconstituted from a vial: units per vial and the
beyond-use time in hours after opening (the label's figure; the clinic may set its own). A low
stock mark in tenths of the unit.

product_lot: a lot of a product as received: lot number (unique per product), expiry date (the
lot may not be charted on or after the day after it), quantity received in tenths of the unit.

product_vial: a neuromodulator vial of a lot, reconstituted and opened: diluent in tenths of a
mL, units per mL in tenths (derived: units per vial / diluent), opened at, beyond-use at (opened +
the product's hours), who opened it. A vial past its beyond-use time may not be charted.

lot_usage: the ledger of what left a lot (append-only: a trigger refuses UPDATE and DELETE except
the merge's move of client_id). A signed chart writes one row per line with a lot (+ quantity);
signing an amendment writes the reversal of the version it replaces (- quantity) and the new
lines: the stock of a lot is received - sum(quantity), and "which clients received lot X" is one
grouped query over this table (sum > 0).

Quantities are integer tenths of the product's unit everywhere (20 units -> 200, 0.5 mL -> 5).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Column, Date, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp

PRODUCT_CATEGORIES = ("neuromodulator", "filler", "biostimulator", "skin booster", "peel", "other")
PRODUCT_UNITS = ("units", "mL", "syringes", "vials")


class Product(SQLModel, table=True):
    """A product of the clinic's catalog (see the module docstring)."""

    __tablename__ = "product"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_product_name"),)
    id: int | None = pk()
    org_id: int = org_fk()
    name: str = Field(sa_column=Column(String(80), nullable=False))
    manufacturer: str = Field(default="", sa_column=Column(String(80), nullable=False))
    category: str = Field(sa_column=Column(String(20), nullable=False))
    unit: str = Field(sa_column=Column(String(10), nullable=False))
    units_per_vial: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    beyond_use_hours: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    low_stock_tenths: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = tstamp(nullable=False)


class ProductLot(SQLModel, table=True):
    """A received lot of a product (see the module docstring)."""

    __tablename__ = "product_lot"
    __table_args__ = (UniqueConstraint("org_id", "product_id", "lot_number", name="uq_product_lot_number"),)
    id: int | None = pk()
    org_id: int = org_fk()
    product_id: int = fk("product.id")
    lot_number: str = Field(sa_column=Column(String(40), nullable=False))
    expires_on: date = Field(sa_column=Column(Date, nullable=False))
    received_tenths: int = Field(sa_column=Column(Integer, nullable=False))
    received_at: datetime = tstamp(nullable=False)
    received_by_user_id: int | None = fk("user_account.id", nullable=True, index=False)
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))


class ProductVial(SQLModel, table=True):
    """An opened, reconstituted vial of a lot (see the module docstring)."""

    __tablename__ = "product_vial"
    id: int | None = pk()
    org_id: int = org_fk()
    lot_id: int = fk("product_lot.id")
    diluent_ml_tenths: int = Field(sa_column=Column(Integer, nullable=False))
    units_per_ml_tenths: int = Field(sa_column=Column(Integer, nullable=False))
    opened_at: datetime = tstamp(nullable=False)
    beyond_use_at: datetime = tstamp(nullable=False)
    opened_by_user_id: int | None = fk("user_account.id", nullable=True, index=False)
    opened_by_label: str = Field(default="", sa_column=Column(String(120), nullable=False))


class LotUsage(SQLModel, table=True):
    """One movement out of (or, as a reversal, back into) a lot (see the module docstring)."""

    __tablename__ = "lot_usage"
    id: int | None = pk()
    org_id: int = org_fk()
    lot_id: int = fk("product_lot.id")
    product_id: int = fk("product.id", index=False)
    client_id: int = fk("client.id")
    appointment_id: int = fk("appointment.id")
    note_id: int = fk("treatment_note.id", index=False)
    quantity_tenths: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = tstamp(nullable=False)


__all__ = ["PRODUCT_CATEGORIES", "PRODUCT_UNITS", "LotUsage", "Product", "ProductLot", "ProductVial"]
