"""The chart's print version as a PDF (fpdf2, like consent_pdf.py; issue 18).

Visit, treatment lines (with each point's number), totals per product, the face diagram's
three views with the numbered dots (the same drawing as the page: face_map.svg_document; the
dots and numbers are drawn over it), the device/peel rows with units, the note and the
signature label ("Signed by ..." or "Draft: not signed"). The same font rule as the consent
PDF (DejaVu Sans when the system has it).
"""

from __future__ import annotations

import io

from fpdf import FPDF

from medspa.domain.clinical import face_map
from medspa.domain.clinical.consent_pdf import _font
from medspa.domain.clinical.device_rows import DEVICE_FIELDS, NUMBERS, PEEL_FIELDS
from medspa.domain.clinical.service import FACE_VIEWS, Chart

_LABELS = {"device": "Device", "handpiece": "Handpiece", "cooling": "Cooling", "agent": "Agent",
           **{k: v[0] for k, v in NUMBERS.items()}}


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def chart_points(chart: Chart) -> list[face_map.Point]:
    """The numbered dots of the chart's lines (number = line number), coloured per product."""
    colours = face_map.product_colours([ln.product for ln in chart.lines])
    return [face_map.Point(i + 1, ln.view, ln.x, ln.y, colours.get(ln.product.strip().lower(), "#52525b"),
                           ln.product)
            for i, ln in enumerate(chart.lines) if ln.view in FACE_VIEWS and ln.x is not None and ln.y is not None]


class _Doc:
    """The PDF being written: fpdf2 document, font family, usable width."""

    def __init__(self, title: str, clinic: str):
        self.pdf = FPDF(format="A4")
        self.pdf.set_title(title)
        self.pdf.set_author(clinic)
        self.pdf.set_creator("medspa")
        self.pdf.set_auto_page_break(True, margin=18)
        self.pdf.set_margins(18, 18, 18)
        self.family, self.unicode_ok = _font(self.pdf)
        self.pdf.add_page()
        self.width = self.pdf.w - self.pdf.l_margin - self.pdf.r_margin

    def t(self, text: str) -> str:
        return text if self.unicode_ok else text.encode("latin-1", "replace").decode("latin-1")

    def font(self, style: str, size: float) -> None:
        self.pdf.set_font(self.family, style, size)

    def heading(self, text: str) -> None:
        if self.pdf.will_page_break(20):
            self.pdf.add_page()
        self.pdf.ln(2)
        self.font("B", 12)
        self.pdf.cell(self.width, 7, self.t(text), new_x="LMARGIN", new_y="NEXT")
        self.font("", 9)


def _header(doc: _Doc, chart: Chart, clinic: str) -> None:
    pdf = doc.pdf
    doc.font("B", 10)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(doc.width, 6, doc.t(clinic), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    doc.font("B", 16)
    pdf.cell(doc.width, 8, doc.t(f"Treatment chart: {chart.client_name}"), new_x="LMARGIN", new_y="NEXT")
    for label, value in (("Service", chart.service_name), ("Date", chart.date_label), ("Time", chart.time_label),
                         ("Provider", chart.provider_name), ("Location", chart.location_name),
                         ("Version", str(chart.version))):
        doc.font("B", 9)
        pdf.cell(22, 5, doc.t(label))
        doc.font("", 9)
        pdf.cell(doc.width - 22, 5, doc.t(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _face_map(doc: _Doc, points: list[face_map.Point]) -> None:
    """The three views side by side (the page's drawing) with the numbered dots over them."""
    pdf = doc.pdf
    doc.heading("Face map")
    size = (doc.width - 8) / 3
    if pdf.will_page_break(size + 8):
        pdf.add_page()
    top = pdf.get_y()
    for k, view in enumerate(FACE_VIEWS):
        left = pdf.l_margin + k * (size + 4)
        pdf.image(io.BytesIO(face_map.svg_document(view, []).encode()), x=left, y=top, w=size, h=size)
        pdf.set_xy(left, top + size + 0.5)
        doc.font("", 8)
        pdf.cell(size, 4, doc.t(face_map.VIEW_LABELS[view]), align="C")
        for p in (p for p in points if p.view == view):
            cx, cy, r = left + size * p.x / 1000, top + size * p.y / 1000, 2.4
            pdf.set_fill_color(*_rgb(p.colour))
            pdf.set_draw_color(255, 255, 255)
            pdf.circle(x=cx, y=cy, radius=r, style="FD")
            pdf.set_text_color(255, 255, 255)
            doc.font("B", 6.5)
            pdf.set_xy(cx - r, cy - r)
            pdf.cell(2 * r, 2 * r, str(p.number), align="C")
            pdf.set_text_color(0, 0, 0)
    pdf.set_xy(pdf.l_margin, top + size + 6)


def _lines(doc: _Doc, chart: Chart) -> None:
    pdf = doc.pdf
    doc.heading("Treatment")
    if not chart.lines:
        pdf.cell(doc.width, 5, "No treatment lines.", new_x="LMARGIN", new_y="NEXT")
        return
    cols = (("#", 8), ("Product", 52), ("Lot", 32), ("Quantity", 24), ("Area", 38), ("Point", doc.width - 154))
    doc.font("B", 9)
    for name, w in cols:
        pdf.cell(w, 6, name, border="B")
    pdf.ln()
    doc.font("", 9)
    for i, ln in enumerate(chart.lines):
        quantity = face_map.quantity_label(ln.units_tenths, getattr(ln, "unit", "") or "units")
        point = face_map.VIEW_LABELS[ln.view] if ln.view in FACE_VIEWS else "-"
        for value, (_, w) in zip((str(i + 1), ln.product, ln.lot_number or "-", quantity,
                                  ln.treatment_area, point), cols):
            pdf.cell(w, 6, doc.t(value[:40]))
        pdf.ln()
    totals = face_map.product_totals([(ln.product, getattr(ln, "unit", "") or "units", ln.units_tenths)
                                      for ln in chart.lines])
    pdf.ln(1)
    doc.font("B", 9)
    pdf.multi_cell(doc.width, 5, doc.t("Totals: " + "; ".join(f"{x.product} {x.label}" for x in totals)),
                   new_x="LMARGIN", new_y="NEXT")


def _settings(doc: _Doc, chart: Chart) -> None:
    doc.heading("Device & peel settings")
    for i, row in enumerate(chart.settings):
        fields = DEVICE_FIELDS if row.kind == "device" else PEEL_FIELDS
        parts = [f"{_LABELS[f]}: {getattr(row, f)}" for f in fields if getattr(row, f)]
        doc.font("B", 9)
        doc.pdf.cell(22, 5, doc.t(f"{i + 1}. {'Device' if row.kind == 'device' else 'Peel'}"))
        doc.font("", 9)
        doc.pdf.multi_cell(doc.width - 22, 5, doc.t(" · ".join(parts)), new_x="LMARGIN", new_y="NEXT")


def render_chart_pdf(chart: Chart, clinic: str) -> bytes:
    """The chart (current version) as PDF bytes (A4); `clinic`: the name printed on top."""
    doc = _Doc(f"Treatment chart - {chart.client_name}", clinic)
    _header(doc, chart, clinic)
    points = chart_points(chart)
    if points:
        _face_map(doc, points)
    _lines(doc, chart)
    if chart.settings:
        _settings(doc, chart)
    doc.heading("Note")
    doc.font("", 10)
    doc.pdf.multi_cell(doc.width, 5.2, doc.t(chart.note or "No note."), new_x="LMARGIN", new_y="NEXT")
    doc.pdf.ln(4)
    doc.pdf.set_draw_color(180, 180, 180)
    doc.pdf.line(doc.pdf.l_margin, doc.pdf.get_y(), doc.pdf.w - doc.pdf.r_margin, doc.pdf.get_y())
    doc.pdf.ln(2)
    doc.font("B", 10)
    signed = chart.signed_label if chart.status == "signed" else "Draft: not signed"
    doc.pdf.multi_cell(doc.width, 5.5, doc.t(signed), new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.pdf.output())


__all__ = ["chart_points", "render_chart_pdf"]
