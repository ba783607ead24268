"""State of the profile's "Documents" and "Tests and results" cards (issue 17, section 3).

A substate of ClientProfileState (the client comes from the profile just loaded, never from an
event argument). Documents: document.read (provider, owner) lists and downloads what the
client uploaded in the portal. Orders: result.read lists the client's orders with results;
order.write orders a test from the catalog (optionally for one of the listed visits) and
reviews a result with a note the client then sees. Every handler re-checks the session and
permission through StaffState._act; ids must be among those this state listed. Downloads are
rx.download(data=bytes) from an audited action, never a public URL.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from medspa.domain.clinical import order_actions as oa
from medspa.domain.clinical.documents import DocumentInfo, size_label
from medspa.domain.clinical.orders import ORDERABLE_VISITS
from medspa.domain.errors import ValidationFailed
from medspa.domain.money import format_money
from medspa.features.charting.photos import private_store
from medspa.features.choices import Option
from medspa.features.clients.state import ClientProfileState
from medspa.features.lab.views import OrderCard, order_card
from medspa.web.inputs import form_text, parse_id


@dataclasses.dataclass
class DocView:
    """One uploaded document: title, kind, type and size, upload date."""

    id: int = 0
    title: str = ""
    kind: str = ""
    meta: str = ""  # "PDF · 220 KB · Jul 1, 2026"


def doc_view(d: DocumentInfo) -> DocView:
    """The list view of a document (shared with the portal)."""
    kind = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}.get(d.content_type, "File")
    return DocView(d.id, d.title, d.kind_label, f"{kind} · {size_label(d.bytes)} · {d.created_at:%b %-d, %Y}")


class ClientRecordsState(ClientProfileState):
    """Documents and orders of the profile shown."""

    show_docs: bool = False
    docs: list[DocView] = []
    show_orders: bool = False
    can_order: bool = False
    orders: list[OrderCard] = []
    tests: list[Option] = []
    visits: list[Option] = []
    order_open: bool = False
    order_test: str = ""
    order_visit: str = "none"
    order_errors: dict[str, str] = {}
    review_id: int = 0
    review_errors: dict[str, str] = {}
    records_notice: str = ""
    records_busy: bool = False

    @rx.event
    async def load(self):
        """on_load after the profile: documents and orders for the roles that may read them."""
        self.records_notice = ""
        return await self._load()

    async def _load(self):
        self.show_docs = self.show_orders = self.can_order = self.order_open = False
        self.docs, self.orders, self.tests, self.visits, self.review_id = [], [], [], [], 0
        if self.status != "ready" or not self._client_id:
            return None
        docs = await self._act(oa.fetch_documents, self._client_id)
        if docs.redirect is not None:
            return docs.redirect
        if docs.ok:
            self.show_docs, self.docs = True, [doc_view(d) for d in docs.value]
        got = await self._act(oa.fetch_client_orders, self._client_id)
        if got.ok:
            self.show_orders, self.orders = True, [order_card(o) for o in got.value]
            self.can_order = got.actor.can("order.write")
        return None

    @rx.event
    async def download_document(self, document_id: Any):
        """One listed document as a download (audited)."""
        did = parse_id(document_id)
        if did is None or not any(d.id == did for d in self.docs):
            return None
        done = await self._act(oa.fetch_document_file, did, store=private_store())
        if not done.ok:
            return done.redirect
        return rx.download(data=done.value.data, filename=done.value.filename, mime_type=done.value.content_type)

    @rx.event
    async def download_result(self, order_id: Any):
        """A listed order's result file as a download (audited)."""
        oid = parse_id(order_id)
        if oid is None or not any(o.id == oid and o.has_file for o in self.orders):
            return None
        done = await self._act(oa.fetch_result_file, oid, store=private_store())
        if not done.ok:
            return done.redirect
        return rx.download(data=done.value.data, filename=done.value.filename, mime_type=done.value.content_type)

    # ---- ordering

    @rx.event
    async def open_order(self):
        """The "Order a test" dialog with the active catalog and this client's visits."""
        if not self.can_order:
            return None
        done = await self._act(oa.fetch_tests, active_only=True)
        if not done.ok:
            return done.redirect
        self.tests = [Option(str(t.id), f"{t.name} ({t.category_label}) · {format_money(t.price_cents, t.currency)}")
                      for t in done.value]
        self.visits = [Option(str(v.id), f"{v.when} · {v.service}") for v in [*self.upcoming, *self.past]
                       if v.status in ORDERABLE_VISITS]  # upcoming first, as the profile lists them
        self.order_test = self.tests[0].value if self.tests else ""
        self.order_visit, self.order_errors, self.order_open = "none", {}, True
        return None

    @rx.event
    def close_order(self):
        self.order_open, self.order_errors = False, {}

    @rx.event
    def set_order_open(self, value: bool):
        if not value:
            self.order_open, self.order_errors = False, {}

    @rx.event
    def pick_test(self, value: str):
        if any(t.value == value for t in self.tests):
            self.order_test = value

    @rx.event
    def pick_visit(self, value: str):
        if value == "none" or any(v.value == value for v in self.visits):
            self.order_visit = value

    @rx.event
    async def place_order(self, form: Any):
        """Order the picked test (and visit) with the note typed."""
        test_id = parse_id(self.order_test)
        visit = None if self.order_visit == "none" else parse_id(self.order_visit)
        if not self.order_open or self.records_busy or test_id is None:
            self.order_errors = {"test": "Choose a test from the catalog."}
            return None
        self.records_busy = True
        try:
            done = await self._act(oa.do_order_test, self._client_id, test_id, appointment_id=visit,
                                   note=form_text(form, "note", 501))
        except ValidationFailed as exc:
            self.records_busy, self.order_errors = False, exc.fields
            return None
        self.records_busy = False
        if not done.ok:
            return done.redirect
        label = next((t.label for t in self.tests if t.value == self.order_test), "The test")
        self.order_open, self.records_notice = False, f"Ordered: {label}. It is on the lab worklist."
        return await self._load()

    # ---- review

    @rx.event
    def start_review(self, order_id: Any):
        oid = parse_id(order_id)
        if self.can_order and any(o.id == oid and o.status == "resulted" for o in self.orders):
            self.review_id, self.review_errors = oid, {}

    @rx.event
    def cancel_review(self):
        self.review_id, self.review_errors = 0, {}

    @rx.event
    async def review(self, form: Any):
        """Mark the result reviewed with the note typed (the client sees both)."""
        oid = self.review_id
        if not oid or self.records_busy or not any(o.id == oid and o.status == "resulted" for o in self.orders):
            return None
        self.records_busy = True
        try:
            done = await self._act(oa.do_review_result, oid, form_text(form, "review_note", 2001, strip=False))
        except ValidationFailed as exc:
            self.records_busy, self.review_errors = False, exc.fields
            return None
        self.records_busy = False
        if not done.ok:
            return done.redirect
        self.review_id, self.records_notice = 0, "Result reviewed. The client can now see it in the portal."
        return await self._load()
