"""The portal's "Documents" tab (upload and download own documents) and "Results" tab (own
reviewed results), with their state: PortalRecordsState, a substate of PortalState.

Every handler goes through PortalState._as_client on the parent (the portal token is its
private backend var, never sent to the browser; a lapsed session sends the tab back to
sign-in) and one action of domain/clinical/order_actions.py, which audits the read. Uploads
use rx.upload: the handler reads at most MAX_BYTES + 1 bytes (lab.views.read_upload) and the
domain decides the type by content; nothing is written to Reflex's public upload folder.
Downloads are rx.download(data=bytes) of an audited action; ids must be among those listed.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from medspa.domain.clinical import order_actions as oa
from medspa.domain.clinical.documents import KINDS, MAX_MB, MAX_PER_CLIENT
from medspa.domain.errors import ValidationFailed
from medspa.features.charting.photos import private_store
from medspa.features.clients.records_state import DocView, doc_view
from medspa.features.lab.views import ACCEPT, OrderCard, order_card, read_upload, result_table
from medspa.features.portal.state import PortalState, as_tab_client
from medspa.web.inputs import clean_text, parse_id

UPLOAD_ID = "portal-document-upload"


class PortalRecordsState(PortalState):
    """The signed-in client's documents and reviewed results."""

    docs: list[DocView] = []
    docs_loaded: bool = False
    doc_title: str = ""
    doc_kind: str = "prescription"
    doc_error: str = ""
    doc_notice: str = ""
    uploading: bool = False
    results: list[OrderCard] = []
    results_loaded: bool = False

    async def _client(self, action, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        return await as_tab_client(self, action, *args, **kwargs)

    @rx.event
    async def load_documents(self):
        """The Documents tab appeared: own documents (one audited read)."""
        ok, docs = await self._client(oa.fetch_documents)
        self.docs, self.docs_loaded = ([doc_view(d) for d in docs], True) if ok else ([], False)

    @rx.event
    def set_doc_title(self, value: Any):
        self.doc_title = clean_text(value, 120, strip=False)

    @rx.event
    def set_doc_kind(self, value: Any):
        if isinstance(value, str) and value in KINDS:
            self.doc_kind = value

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        """Upload the chosen file with the title and kind picked (checked on the server)."""
        if self.uploading or (await self.get_state(PortalState)).step != "portal":
            return
        self.doc_notice = ""
        data, message = await read_upload(files)
        if data is None:
            self.doc_error = message
            return
        self.uploading, self.doc_error = True, ""
        yield
        try:
            ok, doc = await self._client(oa.do_add_document, data, self.doc_title.strip(), self.doc_kind,
                                         store=private_store())
        except ValidationFailed as exc:
            self.uploading, self.doc_error = False, next(iter(exc.fields.values()), "This file cannot be used.")
            return
        self.uploading = False
        if not ok:
            return
        self.doc_title, self.doc_notice = "", f"“{doc.title}” is uploaded. The clinic can see it now."
        yield rx.clear_selected_files(UPLOAD_ID)
        ok, docs = await self._client(oa.fetch_documents)
        if ok:
            self.docs = [doc_view(d) for d in docs]

    @rx.event
    async def download_document(self, document_id: Any):
        """One of the listed own documents as a download (audited)."""
        did = parse_id(document_id)
        if did is None or not any(d.id == did for d in self.docs):
            return None
        ok, got = await self._client(oa.fetch_document_file, did, store=private_store())
        if not ok:
            return None
        return rx.download(data=got.data, filename=got.filename, mime_type=got.content_type)

    @rx.event
    async def load_results(self):
        """The Results tab appeared: own reviewed results (one audited read)."""
        ok, results = await self._client(oa.fetch_my_results)
        self.results, self.results_loaded = ([order_card(o) for o in results], True) if ok else ([], False)

    @rx.event
    async def download_result(self, order_id: Any):
        """A listed reviewed result's file as a download (audited)."""
        oid = parse_id(order_id)
        if oid is None or not any(o.id == oid and o.has_file for o in self.results):
            return None
        ok, got = await self._client(oa.fetch_result_file, oid, store=private_store())
        if not ok:
            return None
        return rx.download(data=got.data, filename=got.filename, mime_type=got.content_type)


# ---------------------------------------------------------------- components

P = PortalRecordsState


def _doc(d: DocView) -> rx.Component:
    return rx.flex(
        rx.hstack(rx.icon("file-text", size=20, color=rx.color("teal", 10), flex_shrink="0"),
                  rx.vstack(rx.text(d.title, size="2", weight="medium"),
                            rx.text(d.kind, " · ", d.meta, size="1", color_scheme="gray"), spacing="0", min_width="0"),
                  align="center", spacing="3", min_width="0"),
        rx.icon_button(rx.icon("download", size=16), variant="soft", size="2", on_click=P.download_document(d.id),
                       aria_label="Download", class_name="portal-doc-download"),
        justify="between", align="center", gap="8px", width="100%", padding_y="0.6em",
        border_bottom=f"1px solid {rx.color('gray', 4)}", class_name="portal-doc",
    )


def documents_tab() -> rx.Component:
    """Upload prior prescriptions, reports and images; list own documents."""
    uploader = rx.card(rx.vstack(
        rx.heading("Add a document", size="4", as_="h3"),
        rx.text("Prior prescriptions, lab reports or photos of them, before your visit. Only your providers "
                "see them.", size="2", color_scheme="gray"),
        rx.select.root(rx.select.trigger(width="100%", id="doc-kind"),
                       rx.select.content(*[rx.select.item(label, value=k) for k, label in KINDS.items()]),
                       value=P.doc_kind, on_change=P.set_doc_kind, size="3"),
        rx.input(placeholder="Title (optional), e.g. Tretinoin prescription", value=P.doc_title,
                 on_change=P.set_doc_title, size="3", width="100%", id="doc-title", max_length=120),
        rx.upload.root(
            rx.vstack(rx.icon("upload", size=22, color=rx.color("teal", 10)),
                      rx.text("Choose a file", weight="medium", size="2"),
                      rx.foreach(rx.selected_files(UPLOAD_ID), lambda n: rx.text(n, size="1", color_scheme="gray")),
                      align="center", spacing="1"),
            id=UPLOAD_ID, accept=ACCEPT, max_files=1, multiple=False, width="100%", padding="1em",
            border=f"1px dashed {rx.color('teal', 7)}", border_radius="10px", cursor="pointer"),
        rx.text(f"PDF, JPEG or PNG, at most {MAX_MB} MB; up to {MAX_PER_CLIENT} documents. Location data is removed "
                "from photos.", size="1", color_scheme="gray"),
        rx.cond(P.doc_error != "", rx.callout(P.doc_error, icon="circle-alert", color_scheme="red", size="1",
                                              width="100%", id="doc-error")),
        rx.cond(P.doc_notice != "", rx.callout(P.doc_notice, icon="circle-check", color_scheme="teal", size="1",
                                               width="100%", id="doc-notice")),
        rx.button("Upload", size="3", width="100%", loading=P.uploading, id="doc-upload",
                  on_click=P.upload(rx.upload_files(upload_id=UPLOAD_ID))),
        spacing="3", width="100%"), width="100%")
    return rx.vstack(
        uploader,
        rx.heading("My documents", size="5", as_="h3", margin_top="0.5em"),
        rx.cond(P.docs.length() > 0, rx.card(rx.vstack(rx.foreach(P.docs, _doc), spacing="0", width="100%"),
                                             width="100%", id="portal-docs"),
                rx.text(rx.cond(P.docs_loaded, "No documents yet.", "Loading…"), size="2", color_scheme="gray")),
        spacing="3", width="100%", on_mount=P.load_documents,
    )


def _result(o: OrderCard) -> rx.Component:
    return rx.card(rx.vstack(
        rx.text(o.test, weight="bold", size="3"),
        rx.text("Reviewed ", o.reviewed, " by ", o.reviewed_by, size="1", color_scheme="gray"),
        result_table(o),
        rx.cond(o.review_note != "", rx.callout(rx.text(rx.text.strong("Your provider: "), o.review_note),
                                                icon="message-circle", color_scheme="teal", size="1", width="100%")),
        rx.cond(o.has_file, rx.button(rx.icon("download", size=14), "Lab report", size="2", variant="soft",
                                      on_click=P.download_result(o.id))),
        spacing="2", width="100%"), width="100%", class_name="portal-result")


def results_tab() -> rx.Component:
    """Own test results, once a provider reviewed them."""
    return rx.vstack(
        rx.heading("My test results", size="5", as_="h3"),
        rx.text("Results appear here once your provider has reviewed them.", size="2", color_scheme="gray"),
        rx.cond(P.results.length() > 0, rx.vstack(rx.foreach(P.results, _result), spacing="3", width="100%",
                                                  id="portal-results"),
                rx.text(rx.cond(P.results_loaded, "No results yet.", "Loading…"), size="2", color_scheme="gray")),
        spacing="3", width="100%", on_mount=P.load_results,
    )
