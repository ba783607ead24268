"""State of the product catalog and stock: /settings "Products" tab and the /products page.

ProductsState's public handlers are entry points: each re-checks the staff session and the
permission on the server through StaffState._act and one action of
domain/clinical/inventory_actions.py (product.read to list; product.manage to add, edit,
archive and receive lots; vial.open to open a vial). Ids come from the listed rows, never
trusted as-is; quantities are typed as text and parsed by the domain.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from medspa.domain.clinical import inventory_actions as ia
from medspa.domain.clinical.inventory import (
    DEFAULT_BEYOND_USE_HOURS,
    DEFAULT_UNITS_PER_VIAL,
    ProductInfo,
    ProductInput,
    tenths_text,
)
from medspa.domain.clinical.product_models import PRODUCT_CATEGORIES, PRODUCT_UNITS
from medspa.domain.errors import ValidationFailed
from medspa.features.auth.state import StaffState
from medspa.web.inputs import form_text, parse_id


@dataclasses.dataclass
class VialView:
    """An opened vial under its lot."""

    id: int = 0
    label: str = ""  # "2.5 mL · 40 u/mL · use by Jul 2 9:02 AM EDT"
    opened: str = ""  # "Opened Jul 1 9:02 AM by Nurse Amy"
    usable: bool = True


@dataclasses.dataclass
class LotView:
    """One lot row: number, expiry, received / used / left (in the product's unit), flags."""

    id: int = 0
    lot_number: str = ""
    expires: str = ""
    received: str = ""
    used: str = ""
    left: str = ""
    expired: bool = False
    low: bool = False
    vials: list[VialView] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ProductView:
    """One product card: the catalog fields as shown and as the edit form starts, and its lots."""

    id: int = 0
    name: str = ""
    manufacturer: str = ""
    category: str = ""
    unit: str = ""
    vial_text: str = ""  # "100 units per vial · use within 24 h of opening"
    units_per_vial: str = ""
    beyond_use_hours: str = ""
    low_stock: str = ""
    left: str = ""  # "480 units in stock"
    low: bool = False
    active: bool = True
    reconstituted: bool = False
    lots: list[LotView] = dataclasses.field(default_factory=list)


def _product_view(p: ProductInfo) -> ProductView:
    vial = (f"{p.units_per_vial} units per vial · use within {p.beyond_use_hours} h of opening"
            if p.reconstituted else "")
    lots = [LotView(lot.id, lot.lot_number, lot.expires_label, tenths_text(lot.received_tenths),
                    tenths_text(lot.used_tenths), tenths_text(lot.left_tenths), lot.expired, lot.low,
                    [VialView(v.id, v.label, f"Opened {v.opened_label}" + (f" by {v.opened_by}" if v.opened_by else ""),
                              v.usable) for v in lot.vials])
            for lot in p.lots]
    return ProductView(p.id, p.name, p.manufacturer, p.category, p.unit, vial,
                       str(p.units_per_vial or ""), str(p.beyond_use_hours or ""),
                       tenths_text(p.low_stock_tenths) if p.low_stock_tenths else "",
                       f"{tenths_text(p.left_tenths)} {p.unit} in stock", p.low and p.active, p.active, p.reconstituted,
                       lots)


class ProductsState(StaffState):
    """The catalog and its three dialogs (product, receive lot, open vial). status: loading,
    ready or not_found (no product.read)."""

    status: str = "loading"
    products: list[ProductView] = []
    can_manage: bool = False
    can_open: bool = False
    can_recall: bool = False
    show_archived: bool = False
    notice: str = ""
    error: str = ""
    errors: dict[str, str] = {}
    # the product dialog (product_id 0: adding)
    product_open: bool = False
    product_id: int = 0
    form: ProductView = ProductView()
    form_category: str = "neuromodulator"
    form_unit: str = "units"
    # the lot dialog
    lot_open: bool = False
    lot_product: str = ""
    lot_unit: str = ""
    _lot_product_id: int = 0
    # the vial dialog
    vial_open: bool = False
    vial_lot: str = ""
    _vial_lot_id: int = 0

    @rx.var
    def shown(self) -> list[ProductView]:
        """Active products, and archived ones when asked."""
        return [p for p in self.products if p.active or self.show_archived]

    @rx.var
    def low_count(self) -> int:
        return sum(1 for p in self.products if p.low)

    @rx.event
    async def load_products(self):
        """The tab or page appeared: the catalog with stock (product.read)."""
        done = await self._act(ia.fetch_products)
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            self.status, self.products, self.can_manage, self.can_open = "not_found", [], False, False
            return None
        self.products = [_product_view(p) for p in done.value]
        self.can_manage, self.can_open = done.actor.can("product.manage"), done.actor.can("vial.open")
        self.can_recall = done.actor.can("recall.read")
        self.status = "ready"
        return None

    def _listed(self, product_id: Any) -> ProductView | None:
        pid = parse_id(product_id)
        return next((p for p in self.products if p.id == pid), None)

    @rx.event
    def toggle_archived(self, value: bool):
        self.show_archived = bool(value)

    # ---- product dialog

    @rx.event
    def new_product(self):
        if self.can_manage:
            self.product_open, self.product_id, self.errors = True, 0, {}
            self.form = ProductView(units_per_vial=str(DEFAULT_UNITS_PER_VIAL),
                                    beyond_use_hours=str(DEFAULT_BEYOND_USE_HOURS))
            self.form_category, self.form_unit = "neuromodulator", "units"

    @rx.event
    def edit_product(self, product_id: Any):
        p = self._listed(product_id)
        if p is not None and self.can_manage:
            self.product_open, self.product_id, self.errors, self.form = True, p.id, {}, p
            self.form_category, self.form_unit = p.category, p.unit

    @rx.event
    def pick_category(self, value: Any):
        if isinstance(value, str) and value in PRODUCT_CATEGORIES:
            self.form_category = value
            if value == "neuromodulator":
                self.form_unit = "units"
            elif value in ("filler", "skin booster") and self.form_unit == "units":
                self.form_unit = "mL"

    @rx.event
    def pick_unit(self, value: Any):
        if isinstance(value, str) and value in PRODUCT_UNITS:
            self.form_unit = value

    @rx.event
    def close_dialogs(self, value: bool = False):
        if not value:
            self.product_open = self.lot_open = self.vial_open = False
            self.errors = {}

    @rx.event
    async def save_product(self, form: Any):
        """Add or change the product as typed (vial fields only for neuromodulators)."""
        if not self.product_open:
            return None
        vial = self.form_category == "neuromodulator"
        data = ProductInput(form_text(form, "name", 81), form_text(form, "manufacturer", 81), self.form_category,
                            self.form_unit, form_text(form, "units_per_vial", 8) if vial else "",
                            form_text(form, "beyond_use_hours", 8) if vial else "", form_text(form, "low_stock", 12))
        try:
            done = await self._act(ia.do_save_product, self.product_id or None, data)
        except ValidationFailed as exc:
            self.errors = exc.fields
            return None
        if done.redirect is not None:
            return done.redirect
        self.product_open, self.errors = False, {}
        self.notice, self.error = ("" if done.error else f"{data.name.strip()} saved."), done.error
        return await self.load_products()

    @rx.event
    async def toggle_product(self, product_id: Any):
        """Archive an active product (no longer offered on charts) or bring one back."""
        p = self._listed(product_id)
        if p is None or not self.can_manage:
            return None
        done = await self._act(ia.do_set_product_active, p.id, not p.active)
        if done.redirect is not None:
            return done.redirect
        self.notice = "" if done.error else (f"{p.name} archived." if p.active else f"{p.name} is back.")
        return await self.load_products()

    # ---- receive a lot

    @rx.event
    def new_lot(self, product_id: Any):
        p = self._listed(product_id)
        if p is not None and self.can_manage and p.active:
            self.lot_open, self._lot_product_id, self.lot_product, self.lot_unit = True, p.id, p.name, p.unit
            self.errors = {}

    @rx.event
    async def receive_lot(self, form: Any):
        """Receive the lot as typed (number, expiry date, quantity)."""
        if not self.lot_open or not self._lot_product_id:
            return None
        number = form_text(form, "lot_number", 41)
        try:
            done = await self._act(ia.do_receive_lot, self._lot_product_id, number, form_text(form, "expires_on", 10),
                                   form_text(form, "quantity", 12))
        except ValidationFailed as exc:
            self.errors = exc.fields
            return None
        if done.redirect is not None:
            return done.redirect
        self.lot_open, self.errors = False, {}
        self.notice, self.error = ("" if done.error else f"Lot {number.upper()} of {self.lot_product} received."), \
            done.error
        return await self.load_products()

    # ---- open a vial

    @rx.event
    def new_vial(self, lot_id: Any):
        lid = parse_id(lot_id)
        found = next(((p, lot) for p in self.products for lot in p.lots if lot.id == lid), None)
        if found is not None and self.can_open and found[0].reconstituted and not found[1].expired:
            p, lot = found
            self.vial_open, self._vial_lot_id, self.errors = True, lot.id, {}
            self.vial_lot = f"{p.name} · lot {lot.lot_number} · {p.units_per_vial} units per vial"

    @rx.event
    async def open_vial(self, form: Any):
        """Open the vial now with the diluent typed (mL)."""
        if not self.vial_open or not self._vial_lot_id:
            return None
        try:
            done = await self._act(ia.do_open_vial, self._vial_lot_id, form_text(form, "diluent", 8))
        except ValidationFailed as exc:
            self.errors = exc.fields
            return None
        if done.redirect is not None:
            return done.redirect
        self.vial_open, self.errors = False, {}
        self.notice = "" if done.error else f"Vial opened: {done.value.label}."
        self.error = done.error
        return await self.load_products()
