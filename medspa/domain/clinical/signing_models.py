"""Tables of who may treat and sign (issue 18, migration 0051).

prescriber_order: a prescriber's good-faith exam / standing order for one client: who (a staff
member with a prescriber licence), scope (a service category, lower case, or "all"), when the
client was examined and until when the order is valid (default 12 months), a note. Append-only
for the app role (select, insert; update of client_id alone: the client merge moves rows).

chart_addendum: text added under a SIGNED chart version by anyone with chart.write (append-only;
a trigger refuses one on a draft).

chart_cosign: the medical director's co-sign of a signed chart version (one per note; append-only).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp


class PrescriberOrder(SQLModel, table=True):
    """A prescriber's exam/order for a client (see the module docstring)."""

    __tablename__ = "prescriber_order"
    id: int | None = pk()
    org_id: int = org_fk()
    client_id: int = fk("client.id")
    prescriber_id: int = fk("staff_member.id", index=False)
    scope: str = Field(sa_column=Column(String(60), nullable=False))
    examined_at: datetime = tstamp(nullable=False)
    valid_until: datetime = tstamp(nullable=False)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_by_user_id: int | None = fk("user_account.id", nullable=True, index=False)
    created_at: datetime = tstamp(nullable=False)


class ChartAddendum(SQLModel, table=True):
    """Text added under a signed chart version."""

    __tablename__ = "chart_addendum"
    id: int | None = pk()
    org_id: int = org_fk()
    note_id: int = fk("treatment_note.id")
    author_user_id: int | None = fk("user_account.id", nullable=True, index=False)
    author_label: str = Field(default="", sa_column=Column(String(120), nullable=False, server_default=""))
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = tstamp(nullable=False)


class ChartCosign(SQLModel, table=True):
    """The medical director's co-sign of a signed chart version (one per note)."""

    __tablename__ = "chart_cosign"
    __table_args__ = (UniqueConstraint("note_id", name="uq_chart_cosign_note"),)
    id: int | None = pk()
    org_id: int = org_fk()
    note_id: int = fk("treatment_note.id", index=False)
    cosigned_by_user_id: int | None = fk("user_account.id", nullable=True, index=False)
    cosigned_by_staff_id: int | None = fk("staff_member.id", nullable=True, index=False)
    cosigned_by_label: str = Field(default="", sa_column=Column(String(120), nullable=False, server_default=""))
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = tstamp(nullable=False)
