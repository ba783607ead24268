"""Treatment charts: one note per visit and version, with its treatment lines.

A visit's chart starts as a draft (version 1) that the provider edits; signing it makes it
read-only for good (a database trigger refuses changes to a signed note and to its lines).
An amendment is a new row, version + 1, that starts as a copy of the signed one and points
back to it (amends_id): the signed original is never changed.

Units are stored as integer tenths (20 units -> 200, 2.5 units -> 25): never floats.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp

class NoteStatus(StrEnum):
    """A treatment note version's status: a DRAFT is edited, a SIGNED version is final
    (an amendment is a new DRAFT version that amends it)."""

    DRAFT = "draft"
    SIGNED = "signed"


NOTE_STATUSES = tuple(NoteStatus)


class TreatmentNote(SQLModel, table=True):
    """One version of a visit's chart. Unique per (org, appointment, version); at most one
    draft per visit (partial unique index in migration 0008)."""

    __tablename__ = "treatment_note"
    __table_args__ = (UniqueConstraint("org_id", "appointment_id", "version", name="uq_treatment_note_version"),)
    id: int | None = pk()
    org_id: int = org_fk()
    appointment_id: int = fk("appointment.id")
    client_id: int = fk("client.id")
    provider_id: int = fk("staff_member.id")  # the visit's provider
    author_user_id: int | None = fk("user_account.id", nullable=True, index=False)  # who started this version
    author_label: str = ""
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    status: str = NoteStatus.DRAFT.value
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    amends_id: int | None = fk("treatment_note.id", nullable=True, index=False)
    created_at: datetime = tstamp(nullable=False)
    updated_at: datetime = tstamp(nullable=False)
    signed_at: datetime | None = tstamp()
    signed_by_user_id: int | None = fk("user_account.id", nullable=True, index=False)
    signed_by_label: str = ""
    prescriber_order_id: int | None = fk("prescriber_order.id", nullable=True, index=False)  # set when signed


class TreatmentLine(SQLModel, table=True):
    """One product given: "Botox / lot C3709C3 / 20 units / glabella". position orders the rows.

    Since issue 18 (migration 0048) a line may name the catalog product and lot (product_id,
    lot_id; vial_id for a reconstituted neuromodulator vial) and carry its point on the face
    diagram: view ("front", "left", "right") and x, y in thousandths of the diagram's width and
    height (0..1000). `units_tenths` is the quantity in tenths of `unit` (units, mL, ...).
    Free-text product/lot lines (older charts, products not in the catalog) stay valid."""

    __tablename__ = "treatment_line"
    id: int | None = pk()
    org_id: int = org_fk()
    note_id: int = fk("treatment_note.id", ondelete="CASCADE")
    position: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    product: str = Field(sa_column=Column(String(80), nullable=False))
    lot_number: str = Field(default="", sa_column=Column(String(40), nullable=False))
    units_tenths: int = Field(sa_column=Column(Integer, nullable=False))
    treatment_area: str = Field(sa_column=Column(String(40), nullable=False))
    unit: str = Field(default="units", sa_column=Column(String(10), nullable=False, server_default="units"))
    product_id: int | None = fk("product.id", nullable=True, index=False)
    lot_id: int | None = fk("product_lot.id", nullable=True)
    vial_id: int | None = fk("product_vial.id", nullable=True, index=False)
    view: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    x: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    y: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))


# treatment_line's foreign keys name product, product_lot and product_vial: their tables must be
# in the metadata wherever a line is written (the web process imports no other module of them)
from medspa.domain.clinical import product_models as _product_models  # noqa: E402

LINE_TARGETS = (_product_models.Product, _product_models.ProductLot, _product_models.ProductVial)
from medspa.domain.clinical import signing_models as _signing_models  # noqa: E402  (treatment_note.prescriber_order_id)

NOTE_TARGETS = (_signing_models.PrescriberOrder,)
