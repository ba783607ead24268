"""State of `/chart/[appointment_id]`: one visit's treatment chart.

Provider and owner only (chart.read / chart.write). Every public handler re-checks the staff
session and the permission on the server; anyone else gets the page's "not found" view and
no data. The visit comes from the URL, never from an event argument; the rows the browser
edits are a form buffer that only a save or a sign sends to the domain (which validates it
all again). Each save, sign, amend and load is ONE action of medspa.domain.clinical.actions,
run through `StaffState._act` (actor re-checked, worker thread, one transaction).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import reflex as rx

from medspa.domain.clinical import actions
from medspa.domain.clinical import inventory_actions
from medspa.domain.clinical.inventory import ProductChoice
from medspa.domain.clinical.product_models import PRODUCT_UNITS
from medspa.domain.clinical.models import NoteStatus
from medspa.domain.clinical.service import MAX_LINES, TREATMENT_AREAS, Chart, ChartLocked, LineInput
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.features.auth.state import StaffState
from medspa.web.inputs import parse_id

FIELDS = ("product", "lot_number", "units", "treatment_area", "vial")
FIELD_LIMIT = 80
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


@dataclasses.dataclass
class OptionView:
    """One choice of a line's product, lot or vial select: value (an id as text), label, low
    stock (the lot's label in red)."""

    value: str = ""
    label: str = ""
    low: bool = False


def _id_text(value: int | None) -> str:
    return str(value) if value else ""


def _int_or_none(value: str) -> int | None:
    return int(value) if value.isdigit() else None


@dataclasses.dataclass
class VersionView:
    """An older chart version in the history list: number and signed label."""

    version: int = 0
    label: str = ""


def appointment_id_from_path(path: str) -> int:
    """/chart/123 -> 123; anything else -> 0."""
    parts = [p for p in (path or "").split("/") if p]
    if len(parts) == 2 and parts[0] == "chart":
        return parse_id(parts[1]) or 0
    return 0


class ChartState(StaffState):
    """What /chart/<id> shows. status: loading, ready or not_found."""

    status: str = "loading"
    client_name: str = ""
    service_name: str = ""
    provider_name: str = ""
    location_name: str = ""
    date_label: str = ""
    time_label: str = ""
    version: int = 1
    chart_status: str = NoteStatus.DRAFT.value
    editable: bool = False
    signed_label: str = ""
    history: list[VersionView] = []
    rows: list[RowView] = []
    note: str = ""
    note_error: str = ""
    error: str = ""
    notice: str = ""
    busy: bool = False
    confirm_sign: bool = False
    appointment_ref: str = ""  # the visit id as text, for the "Sign with client" link (/consent/<id>)
    product_options: list[OptionView] = []  # the catalog products the visit may chart
    lot_options: dict[str, list[OptionView]] = {}  # product id -> its usable lots
    vial_options: dict[str, list[OptionView]] = {}  # lot id -> its usable vials
    _appointment_id: int = 0
    _catalog: dict[str, ProductChoice] = {}

    # ---- helpers (not callable from the browser)

    async def _charting(self, action: str) -> tuple[Actor | None, object | None]:
        """(actor, None) when signed in with `action`; else (None, sign-in redirect or None: not found)."""
        actor = await self._staff_actor()
        if actor is None:
            self._forget("loading")
            return None, self._to_login()
        if not actor.can(action) or not self._appointment_id:
            self._forget("not_found")
            return None, None
        return actor, None

    def _forget(self, status: str) -> None:
        self.status = status
        self.client_name = self.service_name = self.provider_name = self.location_name = ""
        self.date_label = self.time_label = self.signed_label = self.note = self.note_error = ""
        self.error = self.notice = ""
        self.rows, self.history, self.editable, self.busy, self.confirm_sign = [], [], False, False, False

    def _show(self, chart: Chart) -> None:
        self.status = "ready"
        self.client_name, self.service_name = chart.client_name, chart.service_name
        self.provider_name, self.location_name = chart.provider_name, chart.location_name
        self.date_label, self.time_label = chart.date_label, chart.time_label
        self.version, self.chart_status, self.editable = chart.version, chart.status, chart.editable
        self.signed_label = chart.signed_label
        self.history = [VersionView(v.version, v.signed_label) for v in chart.history]
        self.rows = [RowView(ln.product, ln.lot_number, ln.units, ln.treatment_area,
                             _id_text(ln.product_id) or (OTHER if ln.product else ""), _id_text(ln.lot_id),
                             _id_text(ln.vial_id), ln.unit,
                             bool(ln.product_id and self._catalog.get(str(ln.product_id))
                                  and self._catalog[str(ln.product_id)].reconstituted))
                     for ln in chart.lines]
        if not self.rows and chart.editable:
            self.rows = [self._new_row()]
        self.note, self.note_error, self.error, self.confirm_sign = chart.note, "", "", False

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

    @staticmethod
    def _sent(r: RowView) -> bool:
        return any((r.product.strip(), r.lot_number.strip(), r.units.strip(), r.treatment_area,
                    r.product_id not in ("", OTHER)))

    def _lines(self) -> list[LineInput]:
        out = []
        for r in self.rows:
            if not self._sent(r):
                continue
            if r.product_id not in ("", OTHER):
                out.append(LineInput(r.product, "", r.units, r.treatment_area, _int_or_none(r.product_id),
                                     _int_or_none(r.lot_id), _int_or_none(r.vial_id), r.unit))
            else:
                out.append(LineInput(r.product, r.lot_number, r.units, r.treatment_area, unit=r.unit))
        return out

    def _show_errors(self, fields: dict[str, str]) -> None:
        """Messages next to their fields ("lines.<i>.<field>" counts only the rows sent)."""
        sent = [i for i, r in enumerate(self.rows) if self._sent(r)]
        rows = [dataclasses.replace(r, product_error="", lot_number_error="", units_error="", treatment_area_error="",
                                    vial_error="")
                for r in self.rows]
        for n, i in enumerate(sent):
            for name in FIELDS:
                message = fields.get(f"lines.{n}.{name}", "")
                if message:
                    setattr(rows[i], f"{name}_error", message)
        self.rows = rows
        self.note_error = fields.get("note", "")
        self.error = fields.get("lines", "") or "Check the highlighted fields."

    async def _chart_act(self, action: Callable[..., Any], *args: Any) -> tuple[Chart | None, Any]:
        """(chart, None) from `action(actor, appointment_id, *args)`; else (None, sign-in redirect
        or None: the page shows "not found"). ValidationFailed and ChartLocked propagate."""
        if not self._appointment_id:
            self._forget("not_found")
            return None, None
        done = await self._act(action, self._appointment_id, *args)
        if done.redirect is not None:
            self._forget("loading")
            return None, done.redirect
        if done.error:
            self._forget("not_found")
            return None, None
        return done.value, None

    async def _write(self, action: Callable[..., Any], *args: Any, notice: str):
        """Run one chart-changing action (the permission is the action's to check) and show
        its result, or the field messages / the lock message next to the form."""
        self.busy, self.notice, self.error = True, "", ""
        yield
        try:
            chart, redirect = await self._chart_act(action, *args)
        except ValidationFailed as exc:
            self.busy, self.confirm_sign = False, False
            self._show_errors(exc.fields)
            return
        except ChartLocked as exc:
            self.busy, self.confirm_sign, self.error = False, False, str(exc)
            return
        if chart is None:
            if redirect is not None:
                yield redirect
            return
        self._show(chart)
        self.busy, self.notice = False, notice

    # ---- events

    @rx.event
    async def load(self):
        """on_load: the visit and its chart (each load is one audited chart.read)."""
        self._appointment_id = appointment_id_from_path(self.router.url.path)
        self.appointment_ref = str(self._appointment_id or "")
        self.status = "loading"
        chart, redirect = await self._chart_act(actions.fetch_chart)
        if chart is None:
            return redirect
        if chart.editable:
            await self._load_catalog()
        self._show(chart)
        self.notice = ""

    @rx.event
    async def set_cell(self, index: int, name: str, value: str):
        """One field of one row, as typed (validated for real when saved)."""
        actor, redirect = await self._charting("chart.write")
        if actor is None:
            return redirect
        if (not self.editable or name not in FIELDS or isinstance(index, bool) or not isinstance(index, int)
                or not 0 <= index < len(self.rows) or not isinstance(value, str)):
            return
        if name == "treatment_area" and value not in TREATMENT_AREAS:
            return
        rows = list(self.rows)
        rows[index] = dataclasses.replace(rows[index], **{name: value[:FIELD_LIMIT], f"{name}_error": ""})
        self.rows, self.notice = rows, ""

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

    @rx.event
    async def set_note(self, value: str):
        actor, redirect = await self._charting("chart.write")
        if actor is None:
            return redirect
        if self.editable and isinstance(value, str):
            self.note, self.note_error, self.notice = value[:10_000], "", ""

    @rx.event
    async def add_row(self):
        actor, redirect = await self._charting("chart.write")
        if actor is None:
            return redirect
        if self.editable and len(self.rows) < MAX_LINES:
            self.rows = [*self.rows, self._new_row()]
            self.notice = ""

    @rx.event
    async def remove_row(self, index: int):
        actor, redirect = await self._charting("chart.write")
        if actor is None:
            return redirect
        if self.editable and isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(self.rows):
            self.rows = [r for i, r in enumerate(self.rows) if i != index]
            self.notice = ""

    @rx.event
    async def save(self):
        """Save the draft as shown."""
        async for update in self._write(actions.do_save_chart, self._lines(), self.note, notice="Draft saved."):
            yield update

    @rx.event
    async def ask_sign(self, show: bool):
        actor, redirect = await self._charting("chart.write")
        if actor is None:
            return redirect
        self.confirm_sign = bool(show) and self.editable

    @rx.event
    async def sign(self):
        """Save what is shown and sign it (one transaction): the chart becomes read-only."""
        if not self.confirm_sign:
            return
        async for update in self._write(actions.do_sign_chart, self._lines(), self.note, notice="Chart signed."):
            yield update

    @rx.event
    async def amend(self):
        """Start an amendment: a new draft version copied from the signed chart."""
        async for update in self._write(actions.do_amend_chart,
                                        notice="Amendment started: edit, then sign the new version."):
            yield update
        if self.editable:
            await self._load_catalog()
            self._reflag()

    def _reflag(self) -> None:
        """Mark the rows of reconstituted catalog products (after the catalog is read)."""
        self.rows = [dataclasses.replace(r, reconstituted=bool(r.product_id in self._catalog
                                                                and self._catalog[r.product_id].reconstituted))
                     for r in self.rows]
