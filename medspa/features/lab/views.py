"""Views of orders and results shared by /lab, the client profile and the portal: UI-sized
dataclasses built from domain OrderView rows, the result table, and the one way an uploaded
file is read on the server (at most MAX_BYTES + 1 bytes; never Reflex's public upload dir)."""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.clinical.documents import MAX_BYTES, TOO_LARGE
from medspa.domain.clinical.order_reads import OrderView
from medspa.domain.money import format_money

STATUS_COLORS = {"ordered": "gray", "collected": "blue", "resulted": "amber", "reviewed": "grass"}
FLAG_WORDS = {"low": "Low", "high": "High"}
ACCEPT = {"application/pdf": [".pdf"], "image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"]}


@dataclasses.dataclass
class ResultRow:
    """One result value as shown: range "12 – 15.5", flag "Low"/"High"/""."""

    name: str = ""
    value: str = ""
    unit: str = ""
    reference: str = ""  # not `range`: a Var method
    flag: str = ""


@dataclasses.dataclass
class OrderCard:
    """An order with its result, as the profile, the review list and the portal show it."""

    id: int = 0
    client_name: str = ""
    client_href: str = ""
    test: str = ""
    category: str = ""
    price: str = ""
    status: str = ""
    status_label: str = ""
    status_color: str = "gray"
    ordered: str = ""
    ordered_by: str = ""
    note: str = ""
    resulted: str = ""
    resulted_by: str = ""
    lines: list[ResultRow] = dataclasses.field(default_factory=list)  # not `values`: a Var method
    flagged: int = 0
    result_notes: str = ""
    has_file: bool = False
    reviewed: str = ""
    reviewed_by: str = ""
    review_note: str = ""
    visit: str = ""  # "For the visit Fri, Jul 3, 2026 · Botox", or ""


def _range(v: dict) -> str:
    low, high = v.get("low", ""), v.get("high", "")
    if low and high:
        return f"{low} – {high}"
    return f"≥ {low}" if low else (f"≤ {high}" if high else "")


def order_card(o: OrderView) -> OrderCard:
    """The UI view of one order (values only present when the domain gave them)."""
    rows = [ResultRow(v.get("name", ""), v.get("value", ""), v.get("unit", ""), _range(v),
                      FLAG_WORDS.get(v.get("flag", ""), "")) for v in o.values]
    return OrderCard(o.id, o.client_name, f"/clients/{o.client_id}", o.test_name, o.category_label,
                     format_money(o.price_cents, o.currency), o.status, o.status_label,
                     STATUS_COLORS.get(o.status, "gray"), o.ordered, o.ordered_by, o.note, o.resulted,
                     o.resulted_by, rows, sum(1 for r in rows if r.flag), o.result_notes, o.has_file, o.reviewed,
                     o.reviewed_by, o.review_note, getattr(o, "visit", ""))


async def read_upload(files: object) -> tuple[bytes | None, str]:
    """The one selected file's bytes (at most MAX_BYTES; read with a limit of MAX_BYTES + 1),
    or (None, message) for none, several or a too large one."""
    if not isinstance(files, list) or len(files) != 1:
        return None, "Choose one file." if not files else "Upload one file at a time."
    upload = files[0]
    if not callable(getattr(upload, "read", None)):
        return None, "Choose one file."
    size = getattr(upload, "size", None)
    if isinstance(size, int) and size > MAX_BYTES:
        return None, TOO_LARGE
    data = await upload.read(MAX_BYTES + 1)
    if not isinstance(data, bytes):
        return None, "Choose one file."
    if len(data) > MAX_BYTES:
        return None, TOO_LARGE
    return data, ""


def status_badge(card: OrderCard) -> rx.Component:
    """The order's status as a coloured badge."""
    return rx.badge(card.status_label, color_scheme=card.status_color, variant="soft", class_name="order-status",
                    white_space="nowrap")


def _value_row(r: ResultRow) -> rx.Component:
    flagged = r.flag != ""
    return rx.table.row(
        rx.table.cell(rx.text(r.name, size="2")),
        rx.table.cell(rx.text(r.value, " ", r.unit, size="2", weight=rx.cond(flagged, "bold", "regular"),
                              color=rx.cond(flagged, rx.color("red", 11), rx.color("gray", 12))),
                      white_space="nowrap"),
        rx.table.cell(rx.text(r.reference, size="2", color_scheme="gray"), white_space="nowrap"),
        rx.table.cell(rx.cond(flagged, rx.badge(r.flag, color_scheme="red", variant="solid", size="1"))),
        class_name="result-value", custom_attrs={"data-flag": r.flag},
    )


def result_table(card: OrderCard) -> rx.Component:
    """The result values (name, value and unit, reference range, flag) and notes."""
    return rx.vstack(
        rx.cond(card.lines.length() > 0, rx.box(rx.table.root(
            rx.table.header(rx.table.row(rx.table.column_header_cell("Test"), rx.table.column_header_cell("Result"),
                                         rx.table.column_header_cell("Reference"), rx.table.column_header_cell(""))),
            rx.table.body(rx.foreach(card.lines, _value_row)), size="1", variant="ghost", width="100%"),
            width="100%", overflow_x="auto")),
        rx.cond(card.result_notes != "", rx.text(rx.text.strong("Lab notes: "), card.result_notes, size="2",
                                                 white_space="pre-wrap")),
        spacing="2", width="100%",
    )
