"""The chart line rows' catalog choices (issue 18): a Reflex mixin of ChartState holding the
visit's product, lot and vial options and the events of the row editor's product, lot, vial and
unit selects. The rows stay a form buffer: the domain validates the ids again at save and sign
(service.validate_lines with inventory_chart.check_line_lot)."""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.clinical import inventory_actions
from medspa.domain.clinical.inventory_chart import ProductChoice
from medspa.domain.clinical.product_models import PRODUCT_UNITS

OTHER = "other"  # the product select's "Other…": a product typed as free text


@dataclasses.dataclass
class RowView:
    """One treatment line in the chart form (units as typed), with a message per field.

    product_id: "" (nothing picked yet), "other" (free text product and lot), or a catalog
    product's id as text; lot_id / vial_id: the catalog lot's and vial's ids as text ("": none).
    unit: the product's unit (a free-text line picks it)."""

    product: str = ""
    lot_number: str = ""
    units: str = ""
    treatment_area: str = ""
    product_id: str = ""
    lot_id: str = ""
    vial_id: str = ""
    unit: str = "units"
    reconstituted: bool = False
    product_error: str = ""
    lot_number_error: str = ""
    units_error: str = ""
    treatment_area_error: str = ""
    vial_error: str = ""
    view: str = ""  # the face-map point (features/charting/face_map.py): "" for none
    x: int = 0
    y: int = 0
    point_error: str = ""


@dataclasses.dataclass
class OptionView:
    """One choice of a line's product, lot or vial select: value (an id as text), label, low
    stock (the lot's label in red)."""

    value: str = ""
    label: str = ""
    low: bool = False


def id_text(value: int | None) -> str:
    """An id as the selects' value: 12 -> "12", None -> ""."""
    return str(value) if value else ""


def int_or_none(value: str) -> int | None:
    """A select's value back to an id: "12" -> 12, "" or "other" -> None."""
    return int(value) if value.isdigit() else None



class LineCatalogMixin(rx.State, mixin=True):
    """The catalog choices of the visit and the row editor's select events (ChartState has
    rows, editable, _appointment_id and _charting)."""

    product_options: list[OptionView] = []  # the catalog products the visit may chart
    lot_options: dict[str, list[OptionView]] = {}  # product id -> its usable lots
    vial_options: dict[str, list[OptionView]] = {}  # lot id -> its usable vials
    _catalog: dict[str, ProductChoice] = {}

    def _new_row(self) -> RowView:
        """An empty row: the product select when the clinic has a catalog, else free text."""
        return RowView(product_id="" if self.product_options else OTHER)

    def _set_catalog(self, choices: list[ProductChoice]) -> None:
        """The product, lot and vial choices of this visit (inventory.chartable_products)."""
        self._catalog = {str(c.id): c for c in choices}
        self.product_options = [OptionView(str(c.id), c.name) for c in choices]
        self.lot_options = {str(c.id): [OptionView(str(lot.id), lot.label, lot.low) for lot in c.lots]
                            for c in choices}
        self.vial_options = {str(lot.id): [OptionView(str(v.id), v.label) for v in lot.vials]
                             for c in choices for lot in c.lots}

    async def _load_catalog(self) -> None:
        done = await self._act(inventory_actions.fetch_chart_products, self._appointment_id)
        self._set_catalog(done.value if done.ok else [])

    def _row_at(self, index: object) -> RowView | None:
        if not self.editable or isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self.rows):
            return None
        return self.rows[index]

    def _put(self, index: int, row: RowView) -> None:
        rows = list(self.rows)
        rows[index] = row
        self.rows, self.notice = rows, ""

    @rx.event
    async def set_product(self, index: int, value: str):
        """The product select: a catalog product (its name and unit; the soonest-expiring lot and
        its only vial picked) or "other" (free text)."""
        actor, redirect = await self._charting("chart.write")
        if actor is None:
            return redirect
        row = self._row_at(index)
        if row is None or not isinstance(value, str):
            return
        blank = dict(lot_id="", vial_id="", product_error="", lot_number_error="", vial_error="")
        if value == OTHER:
            free = row.product_id in ("", OTHER)
            self._put(index, dataclasses.replace(row, product_id=OTHER, product=row.product if free else "",
                                                 lot_number=row.lot_number if free else "", reconstituted=False,
                                                 **blank))
            return
        choice = self._catalog.get(value)
        if choice is None:
            return
        lot = choice.lots[0] if choice.lots else None
        vial = lot.vials[0] if lot is not None and len(lot.vials) == 1 else None
        self._put(index, dataclasses.replace(
            row, product_id=value, product=choice.name, unit=choice.unit, lot_number=lot.lot_number if lot else "",
            reconstituted=choice.reconstituted, **{**blank, "lot_id": str(lot.id) if lot else "",
                                                    "vial_id": str(vial.id) if vial else ""}))

    @rx.event
    async def set_lot(self, index: int, value: str):
        """The lot select of a catalog line (its only vial picked)."""
        actor, redirect = await self._charting("chart.write")
        if actor is None:
            return redirect
        row = self._row_at(index)
        choice = self._catalog.get(row.product_id) if row is not None else None
        lot = next((x for x in choice.lots if str(x.id) == value), None) if choice is not None else None
        if lot is None:
            return
        vial = lot.vials[0] if len(lot.vials) == 1 else None
        self._put(index, dataclasses.replace(row, lot_id=value, lot_number=lot.lot_number,
                                             vial_id=str(vial.id) if vial else "", lot_number_error="", vial_error=""))

    @rx.event
    async def set_vial(self, index: int, value: str):
        """The vial select of a reconstituted product's line."""
        actor, redirect = await self._charting("chart.write")
        if actor is None:
            return redirect
        row = self._row_at(index)
        if row is None or not isinstance(value, str) or value not in {o.value for o in
                                                                       self.vial_options.get(row.lot_id, [])}:
            return
        self._put(index, dataclasses.replace(row, vial_id=value, vial_error=""))

    @rx.event
    async def set_unit(self, index: int, value: str):
        """The unit of a free-text ("Other…") line."""
        actor, redirect = await self._charting("chart.write")
        if actor is None:
            return redirect
        row = self._row_at(index)
        if row is not None and row.product_id == OTHER and value in PRODUCT_UNITS:
            self._put(index, dataclasses.replace(row, unit=value))

    def _reflag(self) -> None:
        """Mark the rows of reconstituted catalog products (after the catalog is read)."""
        self.rows = [dataclasses.replace(r, reconstituted=bool(r.product_id in self._catalog
                                                                and self._catalog[r.product_id].reconstituted))
                     for r in self.rows]
