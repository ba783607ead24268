"""`/recall`: which clients received a lot (owner and provider: recall.read).

Pick the lot (product · lot · expiry) or search its number; the list shows each client visit
that received it (name, phone, email, visit date, quantity, provider) with "Download CSV".
Each list and each CSV is audited per client by the domain (domain/clinical/recall.py); the
CSV leaves through rx.download from that audited action, never a public URL. Other roles see
"not found". RecallState's public handlers re-check the session and the permission through
StaffState._act; the lot id comes from the listed choices.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from medspa.domain.clinical import inventory_actions as ia
from medspa.domain.clinical.recall import LotRef
from medspa.features.auth.shell import not_found_view, staff_header
from medspa.features.auth.state import StaffState
from medspa.web.inputs import form_text, parse_id

ROUTE = "/recall"


@dataclasses.dataclass
class LotOption:
    """A lot of the picker."""

    value: str = ""
    label: str = ""


@dataclasses.dataclass
class RecallRowView:
    """One client visit of the recall list."""

    client_id: int = 0
    name: str = ""
    phone: str = ""
    email: str = ""
    visit_date: str = ""
    quantity: str = ""
    provider: str = ""


def _options(lots: list[LotRef]) -> list[LotOption]:
    return [LotOption(str(lot.id), lot.label) for lot in lots]


class RecallState(StaffState):
    """The lot picker, the chosen lot's clients. status: loading, ready or not_found."""

    status: str = "loading"
    lots: list[LotOption] = []
    lot_id: str = ""
    lot_label: str = ""
    searched: str = ""
    rows: list[RecallRowView] = []
    client_count: int = 0
    shown: bool = False
    notice: str = ""

    @rx.event
    async def load(self):
        """on_load: the clinic's lots (no client named, not audited); ?lot=<id> opens that lot."""
        self.rows, self.shown, self.lot_id, self.lot_label, self.notice, self.searched = [], False, "", "", "", ""
        done = await self._act(ia.find_recall_lots)
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            self.status, self.lots = "not_found", []
            return None
        self.lots, self.status = _options(done.value), "ready"
        wanted = self.router.url.query_parameters.get("lot", "")
        if isinstance(wanted, str) and wanted in {o.value for o in self.lots}:
            return await self.pick(wanted)
        return None

    @rx.event
    async def search(self, form: Any):
        """Lots whose number contains the text typed; one match opens at once."""
        text = form_text(form, "number", 40)
        done = await self._act(ia.find_recall_lots, number=text)
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            return None
        self.searched, self.lots = text, _options(done.value)
        if len(self.lots) == 1:
            return await self.pick(self.lots[0].value)
        self.notice = f"No lot number contains “{text}”." if not self.lots else ""
        self.rows, self.shown, self.lot_id = [], False, ""
        return None

    @rx.event
    async def pick(self, value: Any):
        """Show the clients of a listed lot (audited: one row per client)."""
        lot_id = parse_id(value)
        if lot_id is None or str(lot_id) not in {o.value for o in self.lots}:
            return None
        done = await self._act(ia.fetch_lot_recall, lot_id)
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            self.rows, self.shown, self.notice = [], False, done.error
            return None
        recall = done.value
        self.lot_id, self.lot_label, self.notice = str(lot_id), recall.lot.label, ""
        self.rows = [RecallRowView(r.client_id, r.client_name, r.phone, r.email, r.visit_date,
                                   f"{r.quantity} {r.unit}", r.provider) for r in recall.rows]
        self.client_count, self.shown = recall.client_count, True
        return None

    @rx.event
    async def download(self):
        """The shown lot's list as CSV (audited per client before a byte leaves)."""
        lot_id = parse_id(self.lot_id)
        if lot_id is None or not self.shown:
            return None
        done = await self._act(ia.fetch_recall_csv, lot_id)
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            return None
        name, data = done.value
        return rx.download(data=data, filename=name, mime_type="text/csv")


S = RecallState


def _option(o: LotOption) -> rx.Component:
    return rx.select.item(o.label, value=o.value)


def _row(r: RecallRowView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(r.name, href="/clients/" + r.client_id.to_string(), weight="medium")),
        rx.table.cell(r.phone),
        rx.table.cell(r.email),
        rx.table.cell(r.visit_date),
        rx.table.cell(r.quantity, text_align="right"),
        rx.table.cell(r.provider),
        class_name="recall-row",
    )


def _view() -> rx.Component:
    return rx.vstack(
        rx.vstack(rx.heading("Lot recall", size="6", weight="bold"),
                  rx.text("Which clients received a lot: pick it, or search its number. The list and its CSV are "
                          "recorded in each client's access log.", size="2", color_scheme="gray"), spacing="1"),
        rx.card(rx.flex(
            rx.vstack(rx.text("Lot", size="2", weight="medium"),
                      rx.select.root(rx.select.trigger(placeholder="Choose product and lot", width="100%",
                                                       id="recall-lot"),
                                     rx.select.content(rx.foreach(S.lots, _option)),
                                     value=S.lot_id, on_change=S.pick),
                      spacing="1", flex="1", min_width="260px"),
            rx.form(rx.hstack(
                rx.input(name="number", placeholder="Lot number, e.g. C3709", id="recall-search", width="200px",
                         auto_complete="off"),
                rx.button(rx.icon("search", size=14), "Search", type="submit", variant="soft", id="recall-search-go"),
                spacing="2", align="end"), on_submit=S.search, reset_on_submit=False),
            gap="16px", align="end", wrap="wrap", width="100%"), width="100%"),
        rx.cond(S.notice != "", rx.callout(S.notice, icon="info", color_scheme="gray", size="1", width="100%")),
        rx.cond(S.shown, rx.card(rx.vstack(
            rx.flex(
                rx.vstack(rx.heading(S.lot_label, size="4", id="recall-lot-label"),
                          rx.text(S.client_count.to_string(), rx.cond(S.client_count == 1, " client", " clients"),
                                  " received this lot", size="2", color_scheme="gray", id="recall-count"),
                          spacing="1"),
                rx.button(rx.icon("download", size=14), "Download CSV", on_click=S.download, size="2",
                          variant="outline", id="recall-csv", disabled=S.rows.length() == 0),
                justify="between", align="end", gap="12px", wrap="wrap", width="100%"),
            rx.cond(S.rows.length() > 0,
                    rx.box(rx.table.root(
                        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, **({"text_align": "right"}
                                                                                         if h == "Quantity" else {}))
                                                       for h in ("Client", "Phone", "Email", "Visit", "Quantity",
                                                                 "Provider")])),
                        rx.table.body(rx.foreach(S.rows, _row)), size="2", variant="ghost", width="100%",
                        id="recall-table"), width="100%", overflow_x="auto"),
                    rx.text("No signed chart used this lot.", size="2", color_scheme="gray")),
            spacing="3", width="100%"), width="100%")),
        spacing="4", padding="20px", width="100%", max_width="1100px", margin_x="auto")


def recall_page() -> rx.Component:
    """/recall: the picker and the list, a spinner while loading, or "not found"."""
    return rx.box(
        rx.cond(S.status == "not_found", not_found_view("recall-not-found"),
                rx.cond(S.status == "ready", rx.fragment(staff_header("recall"), _view()),
                        rx.center(rx.spinner(size="3"), padding_top="18vh"))),
        min_height="100vh", background=rx.color("gray", 2), id="recall-page",
        custom_attrs={"data-status": S.status})


def register(app: rx.App) -> None:
    """Add /recall (owner and provider)."""
    app.add_page(recall_page, route=ROUTE, title="Lot recall · medspa", on_load=S.load)
