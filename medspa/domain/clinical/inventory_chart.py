"""The chart's interface to the product catalog (issue 18): what a visit's lines may pick,
one line's product / lot / vial checked against the visit, and the lot ledger written at
signing. domain/clinical/service.py calls these; inventory.py holds the catalog and stock.

- `chartable_products`: active products, lots not expired on the visit's local date, vials
  opened by the visit's end and within their beyond-use time at its start, with stock left;
- `check_line_lot`: LotRefused (a ValueError naming the reason and the line's field);
- `post_usage`: one lot_usage row per lot line of the note signed, after the reversal of the
  signed version it amends (stock = received - sum; recall = sum > 0 per client).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from medspa.domain.clinical.chart_rules import LOT_NUMBER
from medspa.domain.clinical.inventory import LotRefused, clock_label, is_low, used_by_lot, vial_info, date_label, tenths_text
from medspa.domain.clinical.models import TreatmentLine, TreatmentNote
from medspa.domain.clinical.product_models import LotUsage, Product, ProductLot, ProductVial


@dataclass(frozen=True)
class VialChoice:
    """A vial a chart line may pick."""

    id: int
    label: str


@dataclass(frozen=True)
class LotChoice:
    """A lot a chart line may pick: number, expiry, stock left (negative: the shelf had more than the count)."""

    id: int
    lot_number: str
    expires_label: str
    left_tenths: int
    low: bool
    vials: list[VialChoice] = field(default_factory=list)

    @property
    def label(self) -> str:
        """"C3709C3 · exp Nov 30, 2026 · 180 left"."""
        return f"{self.lot_number} · exp {self.expires_label} · {tenths_text(self.left_tenths)} left"


@dataclass(frozen=True)
class ProductChoice:
    """A catalog product a chart line may pick, with its usable lots."""

    id: int
    name: str
    unit: str
    category: str
    reconstituted: bool
    lots: list[LotChoice] = field(default_factory=list)



def _usable_vial(vial: ProductVial, visit_start: datetime, visit_end: datetime) -> bool:
    return vial.opened_at <= visit_end and vial.beyond_use_at > visit_start


def chartable_products(session: Session, visit_start: datetime, location_tz: str,
                       visit_end: datetime | None = None) -> list[ProductChoice]:
    """What a visit's line rows may pick: active products by name, each with its active lots not
    expired on the visit's local date (soonest expiry first, stock left), and for a
    reconstituted product each lot's vials opened by the visit's end (`visit_end`, default the
    start) and within their beyond-use time at its start. Products without a usable lot are
    listed too (a non-injectable may be charted without a lot)."""
    tz = ZoneInfo(location_tz)
    day = visit_start.astimezone(tz).date()
    end = visit_end or visit_start
    products = list(session.exec(select(Product).where(Product.active.is_(True)).order_by(func.lower(Product.name))))
    ids = [p.id for p in products]
    lots = list(session.exec(select(ProductLot).where(ProductLot.product_id.in_(ids), ProductLot.active.is_(True),
                                                      ProductLot.expires_on >= day)
                             .order_by(ProductLot.expires_on, ProductLot.id))) if ids else []
    lot_ids = [lot.id for lot in lots]
    vials = list(session.exec(select(ProductVial).where(ProductVial.lot_id.in_(lot_ids))
                              .order_by(ProductVial.opened_at))) if lot_ids else []
    used = used_by_lot(session, lot_ids)
    out = []
    for p in products:
        choices = []
        for lot in (x for x in lots if x.product_id == p.id):
            left = lot.received_tenths - used.get(lot.id, 0)
            lot_vials = [VialChoice(v.id, vial_info(v, tz, visit_start).label) for v in vials
                         if v.lot_id == lot.id and _usable_vial(v, visit_start, end)]
            choices.append(LotChoice(lot.id, lot.lot_number, date_label(lot.expires_on), left, is_low(left, p),
                                     lot_vials))
        out.append(ProductChoice(p.id, p.name, p.unit, p.category, p.units_per_vial is not None, choices))
    return out


def check_line_lot(session: Session, product_id: int | None, lot_id: int | None, vial_id: int | None,
                   visit_start: datetime, tz: str, visit_end: datetime | None = None,
                   ) -> tuple[Product, ProductLot | None, ProductVial | None]:
    """One chart line's catalog product, lot and vial checked against the visit (the visit's
    local date for the expiry; the vial opened by the visit's end and not past its beyond-use
    time at its start). A reconstituted product's line with a lot must name the vial.

    Raises LotRefused (a ValueError; .field "product", "lot_number" or "vial") e.g. "Lot
    C3709C3 expired on Nov 30, 2026", "This vial passed its beyond-use time (opened Dec 1
    9:02 AM, use by Dec 2 9:02 AM EST)", a lot of another product, an archived product."""
    zone = ZoneInfo(tz)
    end = visit_end or visit_start
    product = session.get(Product, product_id) if isinstance(product_id, int) and not isinstance(product_id, bool) else None
    if product is None:
        raise LotRefused("Choose a product from the list", "product")
    if not product.active:
        raise LotRefused(f"{product.name} is archived: choose another product", "product")
    if lot_id is None:
        if vial_id is not None:
            raise LotRefused("Choose the lot of this vial", "lot_number")
        return product, None, None
    lot = session.get(ProductLot, lot_id) if isinstance(lot_id, int) and not isinstance(lot_id, bool) else None
    if lot is None or lot.product_id != product.id:
        raise LotRefused(f"This lot is not a lot of {product.name}: choose it again", "lot_number")
    if not lot.active:
        raise LotRefused(f"Lot {lot.lot_number} was withdrawn: choose another lot", "lot_number")
    if lot.expires_on < visit_start.astimezone(zone).date():
        raise LotRefused(f"Lot {lot.lot_number} expired on {date_label(lot.expires_on)}", "lot_number")
    if vial_id is None:
        if product.units_per_vial is not None:
            raise LotRefused("Choose the opened vial (open one under Products if needed)", "vial")
        return product, lot, None
    vial = session.get(ProductVial, vial_id) if isinstance(vial_id, int) and not isinstance(vial_id, bool) else None
    if vial is None or vial.lot_id != lot.id:
        raise LotRefused(f"This vial is not from lot {lot.lot_number}: choose it again", "vial")
    if vial.opened_at > end:
        raise LotRefused(f"This vial was opened after the visit ({clock_label(vial.opened_at, zone, zone=True)})", "vial")
    if vial.beyond_use_at <= visit_start:
        raise LotRefused(f"This vial passed its beyond-use time (opened {clock_label(vial.opened_at, zone)}, "
                         f"use by {clock_label(vial.beyond_use_at, zone, zone=True)})", "vial")
    return product, lot, vial


def post_usage(session: Session, note: TreatmentNote, replaced: TreatmentNote | None, now: datetime) -> int:
    """Write the lot_usage ledger of a note being signed: when it amends a signed version
    (`replaced`), first the reversal (-quantity) of every lot line of that version, then one row
    per lot line of `note` (+quantity). Both rows carry `note`'s id. Returns the rows written."""
    rows: list[LotUsage] = []

    def usage(line: TreatmentLine, sign: int) -> LotUsage:
        return LotUsage(org_id=note.org_id, lot_id=line.lot_id, product_id=line.product_id, client_id=note.client_id,
                        appointment_id=note.appointment_id, note_id=note.id,
                        quantity_tenths=sign * line.units_tenths, created_at=now)

    def lot_lines(note_id: int) -> list[TreatmentLine]:
        return list(session.exec(select(TreatmentLine).where(TreatmentLine.note_id == note_id,
                                                             TreatmentLine.lot_id.is_not(None))
                                 .order_by(TreatmentLine.position, TreatmentLine.id)))

    if replaced is not None:
        rows += [usage(line, -1) for line in lot_lines(replaced.id) if line.product_id is not None]
    rows += [usage(line, 1) for line in lot_lines(note.id) if line.product_id is not None]
    for row in rows:
        session.add(row)
    session.flush()
    return len(rows)



LotCheck = Callable[[int | None, int | None, int | None], tuple[Product, ProductLot | None, ProductVial | None]]
LOT_CATEGORIES = ("neuromodulator", "filler", "biostimulator")  # catalog categories that need a lot


def visit_lot_check(session: Session, visit_start: datetime, visit_end: datetime, tz: str) -> LotCheck:
    """check_line_lot bound to a visit (its start and end, its location's zone): what
    service.validate_lines calls as `check(product_id, lot_id, vial_id)`."""
    def check(product_id, lot_id, vial_id):
        return check_line_lot(session, product_id, lot_id, vial_id, visit_start, tz, visit_end=visit_end)
    return check


def catalog_line(check: LotCheck | None, product_id: int, lot_id: int | None, vial_id: int | None, lot_text: str,
                 key: str, errors: dict[str, str]) -> tuple[str, str, str, int | None, int | None] | None:
    """A chart line naming a catalog product, resolved by `check`: (product name, unit, lot
    number, lot_id, vial_id), or None when refused. Messages go to errors[key + field]: the
    LotRefused reason, "Choose the lot" for a catalog injectable (LOT_CATEGORIES) without one,
    a malformed free-text lot of a non-injectable. Without `check` the line is refused."""
    try:
        if check is None:
            raise LotRefused("Choose a product from the list", "product")
        product, lot, vial = check(product_id, lot_id, vial_id)
    except LotRefused as exc:
        errors[key + exc.field] = str(exc)
        return None
    if lot is None and product.category in LOT_CATEGORIES:
        errors[key + "lot_number"] = "Choose the lot (expired lots are not offered)"
    elif lot is None and lot_text and not LOT_NUMBER.match(lot_text):
        errors[key + "lot_number"] = "Use letters, digits, '-', '.', '/' (at most 40)"
    return (product.name, product.unit, lot.lot_number if lot is not None else lot_text,
            lot.id if lot is not None else None, vial.id if vial is not None else None)


__all__ = ["LOT_CATEGORIES", "LotCheck", "LotChoice", "LotRefused", "ProductChoice", "VialChoice", "catalog_line",
           "chartable_products", "check_line_lot", "post_usage", "visit_lot_check"]
