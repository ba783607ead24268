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
import json
from typing import Any, Callable

import reflex as rx

from medspa.domain.clinical import actions
from medspa.domain.clinical.models import NoteStatus
from medspa.domain.clinical.service import MAX_LINES, TREATMENT_AREAS, Chart, ChartLocked, LineInput
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.features.auth.state import StaffState
from medspa.features.charting.device_rows import DeviceRowsMixin
from medspa.features.charting.face_map import FaceMapMixin
from medspa.features.charting.line_catalog import OTHER, LineCatalogMixin, OptionView, RowView, id_text, int_or_none

__all__ = ["OTHER", "ChartState", "OptionView", "RowView", "VersionView", "appointment_id_from_path"]
from medspa.web.inputs import parse_id

FIELDS = ("product", "lot_number", "units", "treatment_area", "vial")
FIELD_LIMIT = 80
@dataclasses.dataclass
class AddendumView:
    """An addendum under the signed chart (issue 18)."""

    author: str = ""
    at_label: str = ""
    text: str = ""


@dataclasses.dataclass
class SigningView:
    """Issue 18 (clinical/signing.py): the order the visit rests on, why it cannot be charted yet,
    the addenda and the co-sign of the signed version."""

    order_label: str = ""
    order_problem: str = ""
    addenda: list[AddendumView] = dataclasses.field(default_factory=list)
    cosign_label: str = ""
    needs_cosign: bool = False


@dataclasses.dataclass
class DraftSync:
    """Issue 18, the draft's safety net (features/charting/autosave.py): the server's draft as JSON
    {rows, note} (compared in the browser with the form), the localStorage key
    ("medspa-chart:<visit id>:v<version>") and a counter that tells the browser to forget its copy
    (bumped when a save, sign or amend went through)."""

    server: str = ""
    key: str = ""
    clear: int = 0


@dataclasses.dataclass
class VersionView:
    """An older chart version in the history list: number and signed label."""

    version: int = 0
    label: str = ""


def draft_to_json(rows: list, note: str) -> str:
    """{rows: [{field: value} without the *_error fields], note} as JSON: what the browser keeps."""
    names = [f.name for f in dataclasses.fields(RowView) if not f.name.endswith("_error")]
    return json.dumps({"rows": [{n: getattr(r, n) for n in names} for r in rows], "note": note},
                      separators=(",", ":"), sort_keys=True)


def _sent(r: RowView) -> bool:
    """Whether a form row is sent on save (anything typed or a point placed)."""
    return any((r.product.strip(), r.lot_number.strip(), r.units.strip(), r.treatment_area, r.view,
                r.product_id not in ("", OTHER)))


def _point(r: RowView) -> tuple[str | None, int | None, int | None]:
    return (r.view, r.x, r.y) if r.view else (None, None, None)


def appointment_id_from_path(path: str) -> int:
    """/chart/123 -> 123; anything else -> 0."""
    parts = [p for p in (path or "").split("/") if p]
    if len(parts) == 2 and parts[0] == "chart":
        return parse_id(parts[1]) or 0
    return 0


class ChartState(FaceMapMixin, DeviceRowsMixin, LineCatalogMixin, StaffState):
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
    _appointment_id: int = 0
    signing: SigningView = SigningView()  # issue 18: order, addenda, co-sign
    draft_sync: DraftSync = DraftSync()  # issue 18: autosave and the browser's copy

    @rx.var
    def draft_json(self) -> str:
        """The form buffer as JSON {rows: [{field: value}], note} (the browser's copy starts from it)."""
        return draft_to_json(self.rows, self.note)

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
        self.signing = SigningView()
        self.draft_sync = DraftSync(clear=self.draft_sync.clear)
        self.settings, self.device_options, self.selected_point = [], [], 0

    def _show(self, chart: Chart) -> None:
        self.status = "ready"
        self.client_name, self.service_name = chart.client_name, chart.service_name
        self.provider_name, self.location_name = chart.provider_name, chart.location_name
        self.date_label, self.time_label = chart.date_label, chart.time_label
        self.version, self.chart_status, self.editable = chart.version, chart.status, chart.editable
        self.signed_label = chart.signed_label
        self.history = [VersionView(v.version, v.signed_label) for v in chart.history]
        self.rows = [RowView(ln.product, ln.lot_number, ln.units, ln.treatment_area,
                             id_text(ln.product_id) or (OTHER if ln.product else ""), id_text(ln.lot_id),
                             id_text(ln.vial_id), ln.unit,
                             bool(ln.product_id and self._catalog.get(str(ln.product_id))
                                  and self._catalog[str(ln.product_id)].reconstituted),
                             view=ln.view or "", x=ln.x or 0, y=ln.y or 0)
                     for ln in chart.lines]
        self._show_settings(chart)
        self.selected_point = 0
        if not self.rows and chart.editable:
            self.rows = [self._new_row()]
        self.note, self.note_error, self.error, self.confirm_sign = chart.note, "", "", False
        self.draft_sync = DraftSync(draft_to_json(self.rows, self.note) if chart.editable else "",
                                    f"medspa-chart:{chart.appointment_id}:v{chart.version}" if chart.editable else "",
                                    self.draft_sync.clear)
        self.signing = SigningView(chart.order_label, chart.order_problem,
                                   [AddendumView(a.author, a.at_label, a.text) for a in chart.addenda],
                                   chart.cosign_label, chart.needs_cosign)

    def _lines(self) -> list[LineInput]:
        out = []
        for r in self.rows:
            if not _sent(r):
                continue
            if r.product_id not in ("", OTHER):
                out.append(LineInput(r.product, "", r.units, r.treatment_area, *_point(r),
                                     product_id=int_or_none(r.product_id), lot_id=int_or_none(r.lot_id),
                                     vial_id=int_or_none(r.vial_id), unit=r.unit))
            else:
                out.append(LineInput(r.product, r.lot_number, r.units, r.treatment_area, *_point(r), unit=r.unit))
        return out

    def _show_errors(self, fields: dict[str, str]) -> None:
        """Messages next to their fields ("lines.<i>.<field>" counts only the rows sent)."""
        sent = [i for i, r in enumerate(self.rows) if _sent(r)]
        rows = [dataclasses.replace(r, product_error="", lot_number_error="", units_error="", treatment_area_error="",
                                    vial_error="", point_error="") for r in self.rows]
        for n, i in enumerate(sent):
            for name in (*FIELDS, "point"):
                message = fields.get(f"lines.{n}.{name}", "")
                if message:
                    setattr(rows[i], f"{name}_error", message)
        self.rows = rows
        self._show_setting_errors(fields)
        self.note_error = fields.get("note", "")
        self.error = fields.get("lines", "") or fields.get("settings", "") or "Check the highlighted fields."

    async def _chart_act(self, action: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Chart | None, Any]:
        """(chart, None) from `action(actor, appointment_id, *args)`; else (None, sign-in redirect
        or None: the page shows "not found"). ValidationFailed and ChartLocked propagate."""
        if not self._appointment_id:
            self._forget("not_found")
            return None, None
        done = await self._act(action, self._appointment_id, *args, **kwargs)
        if done.redirect is not None:
            self._forget("loading")
            return None, done.redirect
        if done.error:
            self._forget("not_found")
            return None, None
        return done.value, None

    async def _write(self, action: Callable[..., Any], *args: Any, notice: str, **kwargs: Any):
        """Run one chart-changing action (the permission is the action's to check) and show
        its result, or the field messages / the lock message next to the form."""
        self.busy, self.notice, self.error = True, "", ""
        yield
        try:
            chart, redirect = await self._chart_act(action, *args, **kwargs)
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
        self.draft_sync = dataclasses.replace(self.draft_sync, clear=self.draft_sync.clear + 1)  # forget the copy

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
        async for update in self._write(actions.do_save_chart, self._lines(), self.note, settings=self._settings(),
                                        notice="Draft saved."):
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
        async for update in self._write(actions.do_sign_chart, self._lines(), self.note, settings=self._settings(),
                                        notice="Chart signed."):
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

    @rx.event
    async def download_pdf(self):
        """The chart's print version as a PDF (one audited chart.read, pdf=True)."""
        chart_file, redirect = await self._chart_act(actions.fetch_chart_pdf)
        if chart_file is None:
            return redirect
        return rx.download(data=chart_file.data, filename=chart_file.filename, mime_type=chart_file.content_type)
