"""Lot recall: which clients received lot X (issue 18, section 1), on screen and as CSV.

recall.read (owner and provider). The answer is ONE grouped query over the lot_usage ledger
(inventory.post_usage writes it at signing; an amendment's reversal cancels what it replaced):
per client and visit, the net quantity of the lot, kept when it is more than 0. Each client
listed is one audit row ("recall.read" on screen, "recall.export" for the CSV) with the
client's id, so the client's "Record access" shows it; an empty list is one row without a
client. Finding a lot by its number (or listing a product's lots) names no client and is not
audited.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from medspa.domain.base import is_row_id
from medspa.domain.audit.query import csv_cell
from medspa.domain.audit.service import record
from medspa.domain.clients.models import Client
from medspa.domain.clinical.inventory import clinic_zone, date_label, tenths_text
from medspa.domain.clinical.product_models import LotUsage, Product, ProductLot
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.phones import display_phone
from medspa.domain.practice.models import StaffMember
from medspa.domain.scheduling.models import Appointment

MAX_FOUND = 50
CSV_HEADER = ("Client", "Phone", "Email", "Visit date", "Quantity", "Unit", "Provider", "Product", "Lot", "Expiry")


@dataclass(frozen=True)
class LotRef:
    """A lot as the recall screen's picker shows it."""

    id: int
    product_id: int
    product: str
    lot_number: str
    expires_label: str

    @property
    def label(self) -> str:
        """"Botox · C3709C3 · exp Nov 30, 2026"."""
        return f"{self.product} · {self.lot_number} · exp {self.expires_label}"


@dataclass(frozen=True)
class RecallRow:
    """One client visit that received the lot (net quantity > 0)."""

    client_id: int
    client_name: str
    phone: str
    email: str
    visit_date: str  # "Jul 1, 2026" (clinic time)
    quantity: str  # "20"
    unit: str
    provider: str


@dataclass(frozen=True)
class Recall:
    """The lot and the client visits that received it, by visit date."""

    lot: LotRef
    unit: str
    rows: list[RecallRow]

    @property
    def client_count(self) -> int:
        return len({r.client_id for r in self.rows})


def _allowed(actor: Actor) -> None:
    if not actor.can("recall.read"):
        raise NotFound("lot")


def find_lots(session: Session, actor: Actor, *, product_id: int | None = None, number: str = "") -> list[LotRef]:
    """Lots whose number contains `number` (case-insensitive) and/or of `product_id`, by product
    then expiry (at most MAX_FOUND). recall.read. Raises NotFound for anyone else."""
    _allowed(actor)
    query = select(ProductLot, Product).join(Product, Product.id == ProductLot.product_id)
    text = number.strip()[:40] if isinstance(number, str) else ""
    if text:
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(ProductLot.lot_number.ilike(like, escape="\\"))
    if isinstance(product_id, int) and not isinstance(product_id, bool):
        query = query.where(ProductLot.product_id == product_id)
    rows = session.exec(query.order_by(func.lower(Product.name), ProductLot.expires_on.desc(), ProductLot.id)
                        .limit(MAX_FOUND)).all()
    return [LotRef(lot.id, p.id, p.name, lot.lot_number, date_label(lot.expires_on)) for lot, p in rows]


def _recall(session: Session, lot_id: object) -> Recall:
    if not is_row_id(lot_id):
        raise NotFound("lot")
    found = session.exec(select(ProductLot, Product).join(Product, Product.id == ProductLot.product_id)
                         .where(ProductLot.id == lot_id)).first()
    if found is None:
        raise NotFound("lot")
    lot, product = found
    tz = ZoneInfo(clinic_zone(session))
    total = func.sum(LotUsage.quantity_tenths)
    # THE recall query: the lot's ledger, net per client and visit, kept when more than 0
    rows = session.exec(
        select(Client, Appointment.start_at, StaffMember.display_name, total)
        .select_from(LotUsage)
        .join(Client, Client.id == LotUsage.client_id)
        .join(Appointment, Appointment.id == LotUsage.appointment_id)
        .join(StaffMember, StaffMember.id == Appointment.provider_id)
        .where(LotUsage.lot_id == lot.id)
        .group_by(Client.id, Appointment.id, StaffMember.id)
        .having(total > 0)
        .order_by(Appointment.start_at, Client.id)).all()
    out = [RecallRow(c.id, f"{c.first_name} {c.last_name}".strip(), display_phone(c.phone_e164 or ""),
                     c.email or "", date_label(start.astimezone(tz).date()), tenths_text(int(qty)), product.unit,
                     provider) for c, start, provider, qty in rows]
    return Recall(LotRef(lot.id, product.id, product.name, lot.lot_number, date_label(lot.expires_on)),
                  product.unit, out)


def _audit(session: Session, actor: Actor, action: str, recall: Recall, now: datetime) -> None:
    """One `action` row per client listed (like order_reads.audit_per_client); one without a
    client when nobody received the lot."""
    clients = sorted({r.client_id for r in recall.rows})
    if not clients:
        record(session, actor, action, "product_lot", recall.lot.id, at=now, lot_number=recall.lot.lot_number,
               clients=0)
    for client_id in clients:
        record(session, actor, action, "client", client_id, client_id=client_id, at=now, lot_id=recall.lot.id,
               lot_number=recall.lot.lot_number, product=recall.lot.product)


def lot_recall(session: Session, actor: Actor, lot_id: int, now: datetime) -> Recall:
    """The client visits that received lot `lot_id` (net quantity > 0), by visit date, with phone,
    email, quantity and provider. recall.read; one "recall.read" audit row per client listed.
    Raises NotFound (no such lot, another clinic's, or forbidden)."""
    _allowed(actor)
    recall = _recall(session, lot_id)
    _audit(session, actor, "recall.read", recall, now)
    return recall


def recall_csv(session: Session, actor: Actor, lot_id: int, now: datetime) -> tuple[str, bytes]:
    """(file name, UTF-8 CSV with a BOM) of lot_recall: a header row (CSV_HEADER) then one row
    per client visit; formula-like cells get a leading quote. recall.read; one "recall.export"
    audit row per client listed. Raises NotFound."""
    _allowed(actor)
    recall = _recall(session, lot_id)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in recall.rows:
        writer.writerow([csv_cell(v) for v in (r.client_name, r.phone, r.email, r.visit_date, r.quantity, r.unit,
                                                 r.provider, recall.lot.product, recall.lot.lot_number,
                                                 recall.lot.expires_label)])
    _audit(session, actor, "recall.export", recall, now)
    safe = "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in recall.lot.lot_number)
    return f"recall-{safe}.csv", ("\ufeff" + buf.getvalue()).encode("utf-8")


__all__ = ["CSV_HEADER", "LotRef", "Recall", "RecallRow", "find_lots", "lot_recall", "recall_csv"]
