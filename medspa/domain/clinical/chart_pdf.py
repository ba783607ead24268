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


def render_chart_pdf(chart: Chart, clinic: str) -> bytes:
    """The chart (current version) as PDF bytes (A4)."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"Treatment chart - {chart.client_name}")
    pdf.set_author(clinic)
    pdf.set_creator("medspa")
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_margins(18, 18, 18)
    family, unicode_ok = _font(pdf)

    def t(text: str) -> str:
        return text if unicode_ok else text.encode("latin-1", "replace").decode("latin-1")

    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font(family, "B", 10)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(width, 6, t(clinic), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(family, "B", 16)
    pdf.cell(width, 8, t(f"Treatment chart: {chart.client_name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 9)
    for label, value in (("Service", chart.service_name), ("Date", chart.date_label), ("Time", chart.time_label),
                         ("Provider", chart.provider_name), ("Location", chart.location_name),
                         ("Version", str(chart.version))):
        pdf.set_font(family, "B", 9)
        pdf.cell(22, 5, t(label))
        pdf.set_font(family, "", 9)
        pdf.cell(width - 22, 5, t(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    def heading(text: str) -> None:
        if pdf.will_page_break(20):
            pdf.add_page()
        pdf.set_font(family, "B", 12)
        pdf.cell(width, 7, t(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 9)

    points = chart_points(chart)
    if points:
        heading("Face map")
        size = (width - 8) / 3
        if pdf.will_page_break(size + 8):
            pdf.add_page()
        top = pdf.get_y()
        for k, view in enumerate(FACE_VIEWS):
            left = pdf.l_margin + k * (size + 4)
            svg = face_map.svg_document(view, [])
            pdf.image(io.BytesIO(svg.encode()), x=left, y=top, w=size, h=size)
            pdf.set_xy(left, top + size + 0.5)
            pdf.set_font(family, "", 8)
            pdf.cell(size, 4, t(face_map.VIEW_LABELS[view]), align="C")
            for p in points:
                if p.view != view:
                    continue
                cx, cy, r = left + size * p.x / 1000, top + size * p.y / 1000, 2.4
                pdf.set_fill_color(*_rgb(p.colour))
                pdf.set_draw_color(255, 255, 255)
                pdf.circle(x=cx, y=cy, radius=r, style="FD")
                pdf.set_text_color(255, 255, 255)
                pdf.set_font(family, "B", 6.5)
                pdf.set_xy(cx - r, cy - r)
                pdf.cell(2 * r, 2 * r, str(p.number), align="C")
                pdf.set_text_color(0, 0, 0)
        pdf.set_xy(pdf.l_margin, top + size + 6)

    heading("Treatment")
    if chart.lines:
        cols = (("#", 8), ("Product", 52), ("Lot", 32), ("Quantity", 24), ("Area", 38), ("Point", width - 154))
        pdf.set_font(family, "B", 9)
        for name, w in cols:
            pdf.cell(w, 6, name, border="B")
        pdf.ln()
        pdf.set_font(family, "", 9)
        for i, ln in enumerate(chart.lines):
            unit = getattr(ln, "unit", "") or "units"
            point = f"{face_map.VIEW_LABELS[ln.view]}" if ln.view in FACE_VIEWS else "-"
            for value, (_, w) in zip((str(i + 1), ln.product, ln.lot_number or "-", f"{ln.units} {unit}",
                                      ln.treatment_area, point), cols):
                pdf.cell(w, 6, t(value[:40]))
            pdf.ln()
        totals = face_map.product_totals([(ln.product, getattr(ln, "unit", "") or "units", ln.units_tenths)
                                          for ln in chart.lines])
        pdf.ln(1)
        pdf.set_font(family, "B", 9)
        pdf.multi_cell(width, 5, t("Totals: " + "; ".join(f"{x.product} {x.label}" for x in totals)),
                       new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.cell(width, 5, "No treatment lines.", new_x="LMARGIN", new_y="NEXT")

    if chart.settings:
        heading("Device & peel settings")
        for i, row in enumerate(chart.settings):
            fields = DEVICE_FIELDS if row.kind == "device" else PEEL_FIELDS
            parts = [f"{_LABELS[f]}: {getattr(row, f)}" for f in fields if getattr(row, f)]
            pdf.set_font(family, "B", 9)
            pdf.cell(22, 5, t(f"{i + 1}. {'Device' if row.kind == 'device' else 'Peel'}"))
            pdf.set_font(family, "", 9)
            pdf.multi_cell(width - 22, 5, t(" · ".join(parts)), new_x="LMARGIN", new_y="NEXT")

    heading("Note")
    pdf.set_font(family, "", 10)
    pdf.multi_cell(width, 5.2, t(chart.note or "No note."), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_draw_color(180, 180, 180)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(2)
    pdf.set_font(family, "B", 10)
    signed = chart.signed_label if chart.status == "signed" else "Draft: not signed"
    pdf.multi_cell(width, 5.5, t(signed), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


__all__ = ["chart_points", "render_chart_pdf"]
