"""The product catalog, lots, opened vials and stock (issue 18, section 1), and the chart's interface to them.

Catalog (product.manage: owner and manager): add and edit a product (name, manufacturer,
category, unit, units per vial and beyond-use hours for a reconstituted neuromodulator, low
stock mark), archive and bring it back (never delete: signed charts name it). Receive a lot
(number unique per product, expiry date, quantity). Open a vial (vial.open: providers too):
diluent in mL -> units per mL, beyond-use time = opened + the product's hours.
Stock (product.read: owner, manager, provider): per lot, received - sum(lot_usage); a lot at or
under its product's low-stock mark (or at or under zero) is flagged low; a lot past its expiry
date is flagged expired. Every change is audited ("product.*", "lot.receive", "vial.open");
stock reads are not health information and are not audited.

The chart (domain/clinical/service.py) uses three functions of inventory_chart.py, built on this
module:
- `chartable_products`: what a visit's line rows may pick (active products, lots not expired on
  the visit's local date, vials opened by the visit's end and still within their beyond-use time
  at its start), with the stock left;
- `check_line_lot`: one line's product / lot / vial checked against the visit (LotRefused, a
  ValueError naming the reason and the field);
- `post_usage`: signing writes the lot_usage ledger (and the reversal of the version amended).

Quantities are integer tenths of the product's unit (product_models docstring). Dates shown as
"Nov 30, 2026"; instants in the clinic's zone ("Dec 1 9:02 AM").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from sqlalchemy import func
from sqlmodel import Session, select

from medspa.domain.base import is_row_id
from medspa.domain.audit.service import record
from medspa.domain.clinical.chart_rules import LOT_NUMBER
from medspa.domain.clinical.product_models import (
    PRODUCT_CATEGORIES,
    PRODUCT_UNITS,
    LotUsage,
    Product,
    ProductLot,
    ProductVial,
)
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location
from medspa.domain.textrules import refuse_control
from medspa.domain.timezones import zone_abbreviation

DEFAULT_UNITS_PER_VIAL = 100  # a neuromodulator vial, e.g. Botox 100 u
DEFAULT_BEYOND_USE_HOURS = 24
MAX_RECEIVED_TENTHS = 100_000_000  # the database check
MAX_UNITS_PER_VIAL = 1000
MAX_BEYOND_USE_HOURS = 24 * 42  # six weeks
MAX_DILUENT_TENTHS = 100  # 10 mL: the database check
_QTY = re.compile(r"^\d{1,7}(\.\d)?$")
_INT = re.compile(r"^\d{1,5}$")


class LotRefused(ValueError):
    """A line's product / lot / vial may not be charted for this visit. str() is the message;
    `field` is the line's field it belongs to: "product", "lot_number" or "vial"."""

    def __init__(self, message: str, field_name: str = "lot_number"):
        super().__init__(message)
        self.field = field_name


# ---------------------------------------------------------------------------- views


@dataclass(frozen=True)
class VialInfo:
    """An opened vial: concentration, opened and use-by labels in clinic time, usable now or not."""

    id: int
    lot_id: int
    diluent_ml_tenths: int
    units_per_ml_tenths: int
    opened_at: datetime
    beyond_use_at: datetime
    opened_label: str  # "Dec 1 9:02 AM"
    use_by_label: str  # "Dec 2 9:02 AM EST"
    opened_by: str
    usable: bool  # within its beyond-use time at `now`

    @property
    def label(self) -> str:
        """"2.5 mL · 40 u/mL · use by Dec 2 9:02 AM EST"."""
        return (f"{tenths_text(self.diluent_ml_tenths)} mL · {tenths_text(self.units_per_ml_tenths)} u/mL · "
                f"use by {self.use_by_label}")


@dataclass(frozen=True)
class LotInfo:
    """A lot with its stock: received, used (net of reversals) and left, in tenths of the unit."""

    id: int
    product_id: int
    lot_number: str
    expires_on: date
    expires_label: str  # "Nov 30, 2026"
    received_tenths: int
    used_tenths: int
    expired: bool
    low: bool  # left at or under the product's low-stock mark, or at or under zero
    active: bool
    vials: list[VialInfo] = field(default_factory=list)

    @property
    def left_tenths(self) -> int:
        return self.received_tenths - self.used_tenths


@dataclass(frozen=True)
class ProductInfo:
    """A catalog product with its lots (newest expiry last)."""

    id: int
    name: str
    manufacturer: str
    category: str
    unit: str
    units_per_vial: int | None
    beyond_use_hours: int | None
    low_stock_tenths: int
    active: bool
    lots: list[LotInfo] = field(default_factory=list)

    @property
    def reconstituted(self) -> bool:
        """A vial product reconstituted before use (has units per vial)."""
        return self.units_per_vial is not None

    @property
    def left_tenths(self) -> int:
        """Stock left over the lots not expired."""
        return sum(lot.left_tenths for lot in self.lots if not lot.expired)

    @property
    def low(self) -> bool:
        return any(lot.low for lot in self.lots if not lot.expired) or not any(not lot.expired for lot in self.lots)


@dataclass(frozen=True)
class ProductInput:
    """The product form as typed: numbers as text ("100", "24", "2.5")."""

    name: str = ""
    manufacturer: str = ""
    category: str = ""
    unit: str = ""
    units_per_vial: str = ""
    beyond_use_hours: str = ""
    low_stock: str = ""


# ---------------------------------------------------------------------------- helpers


def tenths_text(tenths: int) -> str:
    """200 -> "20", 25 -> "2.5", -15 -> "-1.5"."""
    sign = "-" if tenths < 0 else ""
    whole, tenth = divmod(abs(tenths), 10)
    return f"{sign}{whole}.{tenth}" if tenth else f"{sign}{whole}"


def parse_tenths(text: object, *, allow_zero: bool = False, limit: int = MAX_RECEIVED_TENTHS) -> int:
    """"20" -> 200, "2.5" -> 25. Raises ValueError with the user's message."""
    raw = text.strip() if isinstance(text, str) else ""
    if not raw:
        raise ValueError("Enter a quantity")
    if not _QTY.match(raw):
        raise ValueError("Enter a number with at most one decimal, e.g. 100 or 2.5")
    try:
        tenths = int(Decimal(raw) * 10)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guards
        raise ValueError("Enter a number with at most one decimal, e.g. 100 or 2.5") from exc
    if tenths < 0 or (tenths == 0 and not allow_zero):
        raise ValueError("Enter more than 0")
    if tenths > limit:
        raise ValueError(f"At most {tenths_text(limit)}")
    return tenths


def date_label(day: date) -> str:
    """"Nov 30, 2026"."""
    return format_date(day, "MMM d, y", locale="en_US")


def clock_label(instant: datetime, tz: ZoneInfo, *, zone: bool = False) -> str:
    """"Dec 1 9:02 AM" in `tz` ("Dec 1 9:02 AM EST" with zone=True)."""
    text = format_datetime(instant.astimezone(tz), "MMM d h:mm a", tzinfo=tz, locale="en_US")
    return f"{text} {zone_abbreviation(instant, tz)}" if zone else text


def clinic_zone(session: Session) -> str:
    """The clinic's time zone for stock labels: its first location's (UTC without one)."""
    return session.exec(select(Location.time_zone).order_by(Location.id)).first() or "UTC"


def used_by_lot(session: Session, lot_ids: list[int]) -> dict[int, int]:
    """lot id -> sum of lot_usage quantity (net of reversals)."""
    if not lot_ids:
        return {}
    rows = session.exec(select(LotUsage.lot_id, func.sum(LotUsage.quantity_tenths))
                        .where(LotUsage.lot_id.in_(lot_ids)).group_by(LotUsage.lot_id)).all()
    return {lot_id: int(total or 0) for lot_id, total in rows}


def is_low(left: int, product: Product) -> bool:
    """Stock `left` (tenths) at or under zero, or at or under the product's low-stock mark."""
    return left <= 0 or (product.low_stock_tenths > 0 and left <= product.low_stock_tenths)


def vial_info(vial: ProductVial, tz: ZoneInfo, now: datetime) -> VialInfo:
    """The vial as shown in `tz`, usable or not at `now`."""
    return VialInfo(vial.id, vial.lot_id, vial.diluent_ml_tenths, vial.units_per_ml_tenths, vial.opened_at,
                    vial.beyond_use_at, clock_label(vial.opened_at, tz), clock_label(vial.beyond_use_at, tz, zone=True),
                    vial.opened_by_label, vial.opened_at <= now < vial.beyond_use_at)


def _product_info(product: Product, lots: list[ProductLot], used: dict[int, int], vials: list[ProductVial],
                  tz: ZoneInfo, now: datetime) -> ProductInfo:
    today = now.astimezone(tz).date()
    infos = []
    for lot in sorted(lots, key=lambda x: (x.expires_on, x.id)):
        spent = used.get(lot.id, 0)
        infos.append(LotInfo(lot.id, lot.product_id, lot.lot_number, lot.expires_on, date_label(lot.expires_on),
                             lot.received_tenths, spent, lot.expires_on < today,
                             is_low(lot.received_tenths - spent, product), lot.active,
                             [vial_info(v, tz, now) for v in sorted(vials, key=lambda v: v.opened_at)
                              if v.lot_id == lot.id and v.beyond_use_at > now - timedelta(days=2)]))
    return ProductInfo(product.id, product.name, product.manufacturer, product.category, product.unit,
                       product.units_per_vial, product.beyond_use_hours, product.low_stock_tenths, product.active,
                       infos)


# ---------------------------------------------------------------------------- reads


def list_products(session: Session, actor: Actor, now: datetime, *, include_archived: bool = True) -> list[ProductInfo]:
    """The catalog with lots, stock and the vials opened within the last two days, by name.

    product.read. Raises NotFound for anyone else."""
    if not actor.can("product.read"):
        raise NotFound("product")
    query = select(Product)
    if not include_archived:
        query = query.where(Product.active.is_(True))
    products = list(session.exec(query.order_by(func.lower(Product.name))))
    ids = [p.id for p in products]
    lots = list(session.exec(select(ProductLot).where(ProductLot.product_id.in_(ids)))) if ids else []
    lot_ids = [lot.id for lot in lots]
    vials = list(session.exec(select(ProductVial).where(ProductVial.lot_id.in_(lot_ids)))) if lot_ids else []
    used = used_by_lot(session, lot_ids)
    tz = ZoneInfo(clinic_zone(session))
    return [_product_info(p, [lot for lot in lots if lot.product_id == p.id], used, vials, tz, now)
            for p in products]


# ---------------------------------------------------------------------------- catalog changes


def _product_fields(data: ProductInput) -> dict:
    errors: dict[str, str] = {}
    if not isinstance(data, ProductInput):
        raise ValidationFailed({"name": "Unreadable product"})
    name = " ".join(data.name.split()) if isinstance(data.name, str) else ""
    manufacturer = " ".join(data.manufacturer.split()) if isinstance(data.manufacturer, str) else ""
    if not name:
        errors["name"] = "Enter the product's name, e.g. Botox"
    elif len(name) > 80:
        errors["name"] = "Use at most 80 characters"
    refuse_control(name, "name", errors)
    if len(manufacturer) > 80:
        errors["manufacturer"] = "Use at most 80 characters"
    refuse_control(manufacturer, "manufacturer", errors)
    category = data.category if data.category in PRODUCT_CATEGORIES else ""
    if not category:
        errors["category"] = "Choose a category"
    unit = data.unit if data.unit in PRODUCT_UNITS else ""
    if not unit:
        errors["unit"] = "Choose the unit it is charted in (units, mL, syringes, vials)"
    per_vial = hours = None
    vial_text = data.units_per_vial.strip() if isinstance(data.units_per_vial, str) else ""
    hours_text = data.beyond_use_hours.strip() if isinstance(data.beyond_use_hours, str) else ""
    if category == "neuromodulator" or vial_text or hours_text:
        if unit and unit != "units":
            errors.setdefault("units_per_vial", "Reconstituted vials are charted in units: choose the unit “units”")
        if not _INT.match(vial_text or str(DEFAULT_UNITS_PER_VIAL)) or not (
                0 < int(vial_text or DEFAULT_UNITS_PER_VIAL) <= MAX_UNITS_PER_VIAL):
            errors.setdefault("units_per_vial", f"Enter whole units per vial, 1 to {MAX_UNITS_PER_VIAL}")
        else:
            per_vial = int(vial_text or DEFAULT_UNITS_PER_VIAL)
        if not _INT.match(hours_text or str(DEFAULT_BEYOND_USE_HOURS)) or not (
                0 < int(hours_text or DEFAULT_BEYOND_USE_HOURS) <= MAX_BEYOND_USE_HOURS):
            errors["beyond_use_hours"] = f"Enter whole hours, 1 to {MAX_BEYOND_USE_HOURS}"
        else:
            hours = int(hours_text or DEFAULT_BEYOND_USE_HOURS)
    low_text = data.low_stock.strip() if isinstance(data.low_stock, str) else ""
    low = 0
    if low_text:
        try:
            low = parse_tenths(low_text, allow_zero=True)
        except ValueError as exc:
            errors["low_stock"] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    return {"name": name, "manufacturer": manufacturer, "category": category, "unit": unit,
            "units_per_vial": per_vial, "beyond_use_hours": hours, "low_stock_tenths": low}


def _product(session: Session, actor: Actor, product_id: object, *, lock: bool = False) -> Product:
    if not is_row_id(product_id):
        raise NotFound("product")
    query = select(Product).where(Product.id == product_id)
    if lock:
        query = query.with_for_update()
    product = session.exec(query).first()
    if product is None or product.org_id != actor.org_id:
        raise NotFound("product")
    return product


def save_product(session: Session, actor: Actor, product_id: int | None, data: ProductInput, now: datetime) -> int:
    """Add a product (product_id None) or change one; returns its id. product.manage; audited with
    the fields (before and after when changed). Raises NotFound (also when forbidden),
    ValidationFailed keyed "name", "manufacturer", "category", "unit", "units_per_vial",
    "beyond_use_hours", "low_stock" (a neuromodulator gets 100 units per vial and 24 h by default)."""
    if not actor.can("product.manage"):
        raise NotFound("product")
    values = _product_fields(data)
    taken = session.exec(select(Product.id).where(func.lower(Product.name) == values["name"].lower())).first()
    if taken is not None and taken != product_id:
        raise ValidationFailed({"name": "The catalog has a product of this name"})
    if product_id is None:
        product = Product(org_id=actor.org_id, created_at=now, **values)
        session.add(product)
        session.flush()
        record(session, actor, "product.create", "product", product.id, at=now, **values)
        return product.id
    product = _product(session, actor, product_id, lock=True)
    before = {k: getattr(product, k) for k in values}
    if product.unit != values["unit"] and session.exec(
            select(ProductLot.id).where(ProductLot.product_id == product.id).limit(1)).first() is not None:
        raise ValidationFailed({"unit": "Lots were received in " + product.unit + ": the unit can no longer change"})
    for key, value in values.items():
        setattr(product, key, value)
    session.add(product)
    session.flush()
    record(session, actor, "product.update", "product", product.id, at=now, before=before, after=values)
    return product.id


def set_product_active(session: Session, actor: Actor, product_id: int, active: bool, now: datetime) -> None:
    """Archive (active=False: no longer offered on charts) or bring back a product.
    product.manage; audited. Raises NotFound."""
    if not actor.can("product.manage"):
        raise NotFound("product")
    product = _product(session, actor, product_id, lock=True)
    product.active = bool(active)
    session.add(product)
    session.flush()
    record(session, actor, "product.archive" if not product.active else "product.restore", "product", product.id,
           at=now, name=product.name)


def receive_lot(session: Session, actor: Actor, product_id: int, lot_number: str, expires_on: object,
                quantity: str, now: datetime) -> int:
    """Receive a lot of a product: number (unique per product, kept upper case), expiry date
    (a date or "YYYY-MM-DD"; not already past in the clinic's zone), quantity in the product's
    unit as text ("100", "2.5"). Returns the lot id. product.manage; audited ("lot.receive").
    Raises NotFound, ValidationFailed keyed "lot_number", "expires_on", "quantity"."""
    if not actor.can("product.manage"):
        raise NotFound("product")
    product = _product(session, actor, product_id, lock=True)
    errors: dict[str, str] = {}
    number = lot_number.strip().upper() if isinstance(lot_number, str) else ""
    if not number:
        errors["lot_number"] = "Enter the lot number printed on the box"
    elif not LOT_NUMBER.match(number):
        errors["lot_number"] = "Use letters, digits, '-', '.', '/' (at most 40)"
    elif session.exec(select(ProductLot.id).where(ProductLot.product_id == product.id,
                                                  func.upper(ProductLot.lot_number) == number)).first() is not None:
        errors["lot_number"] = f"Lot {number} of {product.name} was already received"
    expiry = expires_on if isinstance(expires_on, date) and not isinstance(expires_on, datetime) else None
    if expiry is None:
        try:
            expiry = date.fromisoformat(expires_on.strip()) if isinstance(expires_on, str) and expires_on.strip() else None
        except ValueError:
            expiry = None
        if expiry is None:
            errors["expires_on"] = "Enter the expiry date"
    today = now.astimezone(ZoneInfo(clinic_zone(session))).date()
    if expiry is not None and expiry < today:
        errors["expires_on"] = f"This lot expired on {date_label(expiry)}"
    elif expiry is not None and expiry.year > today.year + 10:
        errors["expires_on"] = "Check the year: at most ten years ahead"
    try:
        tenths = parse_tenths(quantity)
    except ValueError as exc:
        errors["quantity"] = str(exc)
        tenths = 0
    if errors:
        raise ValidationFailed(errors)
    lot = ProductLot(org_id=actor.org_id, product_id=product.id, lot_number=number, expires_on=expiry,
                     received_tenths=tenths, received_at=now, received_by_user_id=actor.user_id)
    session.add(lot)
    session.flush()
    record(session, actor, "lot.receive", "product_lot", lot.id, at=now, product_id=product.id, lot_number=number,
           expires_on=expiry.isoformat(), received_tenths=tenths)
    return lot.id


def open_vial(session: Session, actor: Actor, lot_id: int, diluent_ml: str, now: datetime) -> VialInfo:
    """Open (reconstitute) a vial of a lot now: `diluent_ml` as text ("2.5"). Units per mL =
    the product's units per vial / diluent (in tenths, rounded down); beyond use at now + the
    product's hours. vial.open; audited. Raises NotFound, ValidationFailed keyed "diluent"
    (not 0.1..10 mL) or "lot" (not a reconstituted product, expired, archived)."""
    if not actor.can("vial.open") or not is_row_id(lot_id):
        raise NotFound("lot")
    lot = session.get(ProductLot, lot_id)
    if lot is None or lot.org_id != actor.org_id:
        raise NotFound("lot")
    product = session.get(Product, lot.product_id)
    tz = ZoneInfo(clinic_zone(session))
    if product is None or product.units_per_vial is None or product.beyond_use_hours is None:
        raise ValidationFailed({"lot": "Only reconstituted products (units per vial) have vials to open"})
    if not product.active or not lot.active:
        raise ValidationFailed({"lot": f"{product.name} is archived"})
    if lot.expires_on < now.astimezone(tz).date():
        raise ValidationFailed({"lot": f"Lot {lot.lot_number} expired on {date_label(lot.expires_on)}"})
    try:
        diluent = parse_tenths(diluent_ml, limit=MAX_DILUENT_TENTHS)
    except ValueError as exc:
        raise ValidationFailed({"diluent": f"{exc} (mL of saline, 0.1 to 10)"}) from exc
    per_ml = product.units_per_vial * 100 // diluent  # tenths of units per mL
    vial = ProductVial(org_id=actor.org_id, lot_id=lot.id, diluent_ml_tenths=diluent, units_per_ml_tenths=per_ml,
                       opened_at=now, beyond_use_at=now + timedelta(hours=product.beyond_use_hours),
                       opened_by_user_id=actor.user_id, opened_by_label=actor.label[:120])
    session.add(vial)
    session.flush()
    record(session, actor, "vial.open", "product_vial", vial.id, at=now, lot_id=lot.id, product_id=product.id,
           diluent_ml_tenths=diluent, units_per_ml_tenths=per_ml)
    return vial_info(vial, tz, now)


__all__ = ["DEFAULT_BEYOND_USE_HOURS", "DEFAULT_UNITS_PER_VIAL", "LotInfo", "LotRefused", "ProductInfo",
           "ProductInput", "VialInfo", "clinic_zone", "date_label", "list_products", "open_vial", "parse_tenths",
           "receive_lot", "save_product", "set_product_active", "tenths_text", "clock_label", "is_low",
           "used_by_lot", "vial_info"]
