"""Device/laser and peel settings of a chart (issue 18, migration 0050).

One row per device pass or peel application, hanging off a treatment note like its lines:
the signed-note trigger (medspa_signed_note_guard) makes the rows of a signed note
read-only, and an amendment copies them to the new draft. Numbers are integers in fixed
decimals: fluence in tenths of J/cm², pulse width in hundredths of ms, spot size in tenths of
mm, concentration in tenths of a percent; passes, layers and minutes are whole numbers. A
number left empty is NULL (not every device has every setting).
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, String
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk

SETTING_KINDS = ("device", "peel")


class TreatmentSetting(SQLModel, table=True):
    """kind "device": device (name; resource_id when it is one of the clinic's device
    resources), handpiece, fluence, pulse width, spot size, passes, cooling. kind "peel":
    agent, concentration, layers, minutes. position orders the rows of one note."""

    __tablename__ = "treatment_setting"
    id: int | None = pk()
    org_id: int = org_fk()
    note_id: int = fk("treatment_note.id", ondelete="CASCADE")
    position: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    kind: str = Field(sa_column=Column(String(8), nullable=False))
    device: str = Field(default="", sa_column=Column(String(80), nullable=False, server_default=""))
    resource_id: int | None = fk("resource.id", nullable=True, index=False)
    handpiece: str = Field(default="", sa_column=Column(String(60), nullable=False, server_default=""))
    fluence_tenths: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    pulse_hundredths: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    spot_tenths: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    passes: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    cooling: str = Field(default="", sa_column=Column(String(60), nullable=False, server_default=""))
    agent: str = Field(default="", sa_column=Column(String(80), nullable=False, server_default=""))
    concentration_tenths: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    layers: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    minutes: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
