"""State of /lab: the worklist (order.worklist.read), its two steps (order.result.write: mark
collected, record the result with values, notes and an optional file) and, for providers and
owners (result.read), the results waiting for review.

Every public handler is an entry point: it re-checks the staff session and the permission on
the server through StaffState._act and one action of domain/clinical/order_actions.py, and
takes only order ids this state listed. The result file is read here with a size limit
(views.read_upload) and kept in a backend var until saved; the domain checks its content.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from medspa.domain.clinical import order_actions as oa
from medspa.domain.clinical.order_reads import WorkItem
from medspa.domain.clinical.orders import MAX_VALUES
from medspa.domain.errors import ValidationFailed
from medspa.features.auth.state import StaffState
from medspa.features.charting.photos import private_store
from medspa.features.lab.views import STATUS_COLORS, OrderCard, order_card, read_upload
from medspa.web.inputs import form_text, parse_id

UPLOAD_ID = "lab-result-file"
FIELDS = ("name", "value", "unit", "low", "high")
START_ROWS = 3


@dataclasses.dataclass
class WorkView:
    """One worklist row (no result values: the lab identifies the specimen and the test)."""

    id: int = 0
    client_name: str = ""
    date_of_birth: str = ""
    test: str = ""
    category: str = ""
    status: str = ""
    status_label: str = ""
    status_color: str = "gray"
    ordered: str = ""
    ordered_by: str = ""
    note: str = ""


@dataclasses.dataclass
class RowInput:
    """One editable result row of the dialog, with its error text."""

    pos: int = 0
    name: str = ""
    value: str = ""
    unit: str = ""
    low: str = ""
    high: str = ""
    error: str = ""


def _work(w: WorkItem) -> WorkView:
    dob = w.date_of_birth.strftime("%b %-d, %Y") if w.date_of_birth else "not recorded"
    return WorkView(w.id, w.client_name, dob, w.test_name, w.category_label, w.status, w.status_label,
                    STATUS_COLORS.get(w.status, "gray"), w.ordered, w.ordered_by, w.note)


class LabState(StaffState):
    """The /lab page. status: loading, ready or not_found."""

    status: str = "loading"
    items: list[WorkView] = []
    can_result: bool = False
    can_review: bool = False
    reviews: list[OrderCard] = []
    entry_id: int = 0  # the order whose result dialog is open (0: closed)
    entry_title: str = ""
    rows: list[RowInput] = []
    errors: dict[str, str] = {}
    file_name: str = ""
    busy: bool = False
    notice: str = ""
    error: str = ""
    _file: bytes = b""

    @rx.event
    async def load(self):
        """on_load: the worklist (audited) and, for result.read, the results to review."""
        self.notice = self.error = ""
        self._close()
        return await self._refresh()

    async def _refresh(self):
        done = await self._act(oa.fetch_worklist)
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            self.status, self.items, self.reviews = "not_found", [], []
            return None
        self.items = [_work(w) for w in done.value]
        self.can_result = done.actor.can("order.result.write")
        self.can_review = done.actor.can("result.read")
        self.reviews = []
        if self.can_review:
            got = await self._act(oa.fetch_results_to_review)
            self.reviews = [order_card(o) for o in got.value] if got.ok else []
        self.status = "ready"
        return None

    def _listed(self, value: Any, status: str) -> int | None:
        oid = parse_id(value)
        return oid if any(i.id == oid and i.status == status for i in self.items) else None

    @rx.event
    async def collect(self, order_id: Any):
        """Mark a listed, ordered test collected."""
        oid = self._listed(order_id, "ordered")
        if oid is None or self.busy:
            return None
        try:
            done = await self._act(oa.do_collect, oid)
        except ValidationFailed as exc:
            self.error = exc.fields.get("status", "This test cannot be marked collected.")
            return await self._refresh()
        if done.redirect is not None:
            return done.redirect
        self.error = done.error
        self.notice = "" if done.error else "Sample marked collected."
        return await self._refresh()

    @rx.event
    async def open_result(self, order_id: Any):
        """Open the result dialog of a listed, collected test."""
        oid = self._listed(order_id, "collected")
        if oid is None or await self._staff_actor() is None:
            return
        item = next(i for i in self.items if i.id == oid)
        self._close()
        self.entry_id, self.entry_title = oid, f"{item.test} · {item.client_name}"
        self.rows = [RowInput(i) for i in range(START_ROWS)]

    def _close(self) -> None:
        self.entry_id, self.entry_title, self.rows, self.errors = 0, "", [], {}
        self.file_name, self._file, self.busy = "", b"", False

    @rx.event
    def close_result(self):
        self._close()

    @rx.event
    def add_row(self, form: Any = None):
        if self.entry_id and len(self.rows) < MAX_VALUES:
            self.rows = [*self.rows, RowInput(len(self.rows))]

    @rx.event
    async def attach(self, files: list[rx.UploadFile]):
        """The optional result file: read with the size limit, checked by the domain on save."""
        if not self.entry_id or await self._staff_actor() is None:
            return
        data, message = await read_upload(files)
        if data is None:
            self.errors = {**self.errors, "file": message}
            return
        self._file, self.file_name = data, (getattr(files[0], "name", "") or "file")[-80:]
        self.errors = {k: v for k, v in self.errors.items() if k != "file"}

    @rx.event
    def remove_file(self):
        self._file, self.file_name = b"", ""

    def _typed(self, form: Any) -> list[dict[str, str]]:
        return [{f: form_text(form, f"{f}_{r.pos}", 40) for f in FIELDS} for r in self.rows]

    @rx.event
    async def save_result(self, form: Any):
        """collected -> resulted with the typed values, notes and the attached file."""
        oid = self._listed(self.entry_id, "collected")
        if oid is None or self.busy:
            return None
        typed, notes = self._typed(form), form_text(form, "notes", 4001, strip=False)
        self.busy = True
        try:
            done = await self._act(oa.do_record_result, oid, typed, notes, file=self._file or None,
                                   store=private_store())
        except ValidationFailed as exc:
            self.busy = False
            self.rows = [RowInput(i, **t, error=" ".join(v for k, v in exc.fields.items()
                                                          if k.startswith(f"values.{i}.")))
                         for i, t in enumerate(typed)]
            self.errors = {k: v for k, v in exc.fields.items() if not k.startswith("values.")}
            return None
        if done.redirect is not None:
            return done.redirect
        self._close()
        self.error, self.notice = done.error, "" if done.error else "Result recorded. The provider will review it."
        return await self._refresh()
