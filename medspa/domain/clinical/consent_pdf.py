"""The PDF of a signed consent (fpdf2): clinic, client, title, version, the full text, the
signature image or the typed name, the time in the location's zone, IP and the text's SHA-256.

Text is set in DejaVu Sans when the system has it (every script a name can be written in);
otherwise in the PDF core font Helvetica, with characters outside Latin-1 replaced by "?".
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


@dataclass(frozen=True)
class ConsentRecord:
    """What the PDF shows (all text already formatted)."""

    clinic: str
    client: str
    title: str
    body: str
    version: int
    signed_label: str  # "Wed, Jul 1, 2026, 12:00 PM EDT (America/New_York)"
    method: str  # drawn | typed
    typed_name: str
    signature_png: bytes
    ip: str
    user_agent: str
    sha256: str
    signer_line: str  # "Signed by the client in the portal" / "Signed on a tablet, collected by Nurse Amy"
    choice_label: str = ""  # photo use: the client's choice, as read


def _font(pdf: FPDF) -> tuple[str, bool]:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdf.add_font("DejaVu", "", str(regular))
            pdf.add_font("DejaVu", "B", str(bold))
            return "DejaVu", True
    return "Helvetica", False


def render_consent_pdf(rec: ConsentRecord) -> bytes:
    """The signed consent as PDF bytes (A4, one or more pages)."""
    pdf = FPDF(format="A4")
    pdf.set_title(rec.title)
    pdf.set_author(rec.clinic)
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
    pdf.cell(width, 6, t(rec.clinic), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(family, "B", 16)
    pdf.multi_cell(width, 8, t(rec.title), new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font(family, "", 9)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(width, 5, t(f"Version {rec.version} · Client: {rec.client}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(4)
    pdf.set_font(family, "", 11)
    pdf.multi_cell(width, 5.6, t(rec.body), new_x="LMARGIN", new_y="NEXT", align="L")
    if rec.choice_label:
        pdf.ln(3)
        pdf.set_font(family, "B", 11)
        pdf.multi_cell(width, 6, t(f"My choice: {rec.choice_label}"), new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(6)
    if pdf.will_page_break(60):
        pdf.add_page()
    pdf.set_draw_color(180, 180, 180)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(3)
    pdf.set_font(family, "B", 11)
    pdf.cell(width, 6, "Signature", new_x="LMARGIN", new_y="NEXT")
    if rec.method == "drawn" and rec.signature_png:
        pdf.image(io.BytesIO(rec.signature_png), w=70)
    else:
        pdf.set_font(family, "", 16)
        pdf.cell(width, 10, t(rec.typed_name), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 9)
        pdf.cell(width, 5, "(full name typed as signature)", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(family, "", 9)
    for label, value in (("Signed", rec.signed_label), ("Signer", rec.client), ("How", rec.signer_line),
                         ("IP address", rec.ip or "unknown"), ("Browser", rec.user_agent[:160] or "unknown"),
                         ("Text SHA-256", rec.sha256)):
        pdf.set_font(family, "B", 9)
        pdf.cell(28, 5, t(label))
        pdf.set_font(family, "", 9)
        pdf.multi_cell(width - 28, 5, t(value), new_x="LMARGIN", new_y="NEXT", align="L")
    return bytes(pdf.output())
