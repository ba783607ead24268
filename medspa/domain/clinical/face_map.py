"""The face diagram of the injectables chart: its drawing, its regions and its points (issue 18).

ONE place for the diagram: the chart page's SVG component (features/charting/face_map.jsx)
draws the shapes `drawing(view)` returns, and the chart's PDF (clinical/chart_pdf.py) renders
`svg_document(view, points)`, so the screen and the paper show the same face.

Coordinates: each view is a 1000 x 1000 box; a point's x and y are thousandths of its width
and height (0..1000), as stored on treatment_line (view, x, y). Views: "front", "left" (the
client's left side: the nose points to the viewer's left) and "right" (the mirror of "left").

`area_at(view, x, y)` guesses the treatment area of a click from the region table REGIONS
(rectangles, first hit wins; "other" when none): a guess the provider may change on the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medspa.domain.clinical.service import FACE_VIEWS, TREATMENT_AREAS, clean_point

SIZE = 1000
# dot colours per product, in order of first appearance on the chart (then repeating)
PALETTE = ("#7c3aed", "#0891b2", "#db2777", "#ea580c", "#16a34a", "#2563eb", "#ca8a04", "#dc2626")
VIEW_LABELS = {"front": "Front", "left": "Left side", "right": "Right side"}

# ---- the drawing: (kind, data) with absolute coordinates only ("x,y" pairs), so a mirror is
# x -> 1000 - x. kind "path": an SVG path (M, L, C, Q, Z); "ellipse": (cx, cy, rx, ry).
_FRONT: tuple[tuple[str, object], ...] = (
    ("path", "M500,90 C680,90 780,220 780,430 C780,600 740,720 660,820 C610,885 560,925 500,930 "
             "C440,925 390,885 340,820 C260,720 220,600 220,430 C220,220 320,90 500,90 Z"),
    ("path", "M222,400 C195,395 188,440 195,480 C200,520 210,555 232,560"),
    ("path", "M778,400 C805,395 812,440 805,480 C800,520 790,555 768,560"),
    ("path", "M300,365 C340,335 400,332 445,352"),
    ("path", "M700,365 C660,335 600,332 555,352"),
    ("path", "M318,425 C345,400 395,400 422,425 C395,442 345,442 318,425 Z"),
    ("path", "M682,425 C655,400 605,400 578,425 C605,442 655,442 682,425 Z"),
    ("path", "M482,445 C478,520 462,575 452,605 C470,628 530,628 548,605 C538,575 522,520 518,445"),
    ("path", "M420,722 C450,700 480,702 500,712 C520,702 550,700 580,722 C545,732 455,732 420,722 Z"),
    ("path", "M420,722 C450,775 550,775 580,722"),
    ("path", "M385,862 L380,1000"),
    ("path", "M615,862 L620,1000"),
)
_LEFT: tuple[tuple[str, object], ...] = (
    ("path", "M600,90 C420,90 322,185 318,320 L312,380 C302,400 306,420 300,440 L242,578 "
             "C248,600 280,610 302,612 L302,660 C282,668 284,690 296,700 C284,712 284,732 300,742 "
             "C312,762 300,782 306,802 C300,842 312,880 352,900 C420,920 500,902 560,862"),
    ("path", "M600,90 C760,90 842,250 832,430 C822,560 762,640 705,700 L705,1000"),
    ("path", "M420,905 L432,1000"),
    ("ellipse", (640, 470, 40, 70)),
    ("path", "M330,420 C345,408 362,408 378,420 C362,430 345,430 330,420 Z"),
    ("path", "M318,378 C345,362 370,362 398,372"),
    ("path", "M300,612 C330,600 350,610 362,630"),
)

# ---- the regions: (area, x0, y0, x1, y1) in the view's thousandths; the first hit wins
_FRONT_REGIONS: tuple[tuple[str, int, int, int, int], ...] = (
    ("glabella", 450, 320, 550, 420),
    ("bunny lines", 448, 420, 552, 520),
    ("brow", 290, 320, 450, 375), ("brow", 550, 320, 710, 375),
    ("forehead", 280, 120, 720, 320),
    ("temples", 222, 230, 300, 380), ("temples", 700, 230, 778, 380),
    # crow's feet: lateral to the outer corner of the eye (318, 425), down to the cheekbone
    ("crow's feet", 222, 380, 335, 495), ("crow's feet", 665, 380, 778, 495),
    ("tear troughs", 335, 445, 448, 510), ("tear troughs", 552, 445, 665, 510),
    ("lips", 410, 690, 590, 780),
    ("nasolabial folds", 395, 580, 462, 700), ("nasolabial folds", 538, 580, 605, 700),
    ("perioral lines", 385, 640, 615, 690),
    ("marionette lines", 380, 780, 440, 850), ("marionette lines", 560, 780, 620, 850),
    ("chin", 430, 780, 570, 935),
    ("dao", 335, 780, 380, 870), ("dao", 620, 780, 665, 870),
    ("masseter", 225, 640, 330, 800), ("masseter", 670, 640, 775, 800),
    ("cheeks", 250, 510, 450, 640), ("cheeks", 550, 510, 750, 640),
    ("jawline", 250, 800, 750, 935),
    ("neck", 300, 935, 700, 1000),
)
_LEFT_REGIONS: tuple[tuple[str, int, int, int, int], ...] = (
    ("brow", 300, 355, 420, 398),
    ("forehead", 305, 110, 540, 355),
    ("temples", 420, 300, 570, 420),
    ("crow's feet", 380, 398, 460, 470),
    ("tear troughs", 318, 432, 390, 482),
    ("bunny lines", 250, 440, 318, 560),
    ("lips", 272, 680, 335, 752),
    ("nasolabial folds", 302, 600, 372, 680),
    ("perioral lines", 285, 640, 372, 800),
    ("marionette lines", 330, 752, 400, 820),
    ("dao", 372, 752, 440, 845),
    ("chin", 285, 800, 380, 910),
    ("cheeks", 318, 482, 560, 620),
    ("masseter", 470, 620, 620, 800),
    ("jawline", 380, 800, 640, 910),
    ("neck", 380, 910, 720, 1000),
)
_PAIR = re.compile(r"(-?\d+),(-?\d+)")


def _mirror_path(d: str) -> str:
    return _PAIR.sub(lambda m: f"{SIZE - int(m.group(1))},{m.group(2)}", d)


def drawing(view: str) -> list[dict[str, str]]:
    """The line art of `view` as SVG element descriptions for the JSX component and the PDF:
    [{"kind": "path", "d": "M..."} or {"kind": "ellipse", "cx", "cy", "rx", "ry"} (strings)].
    Raises ValueError for a view not in FACE_VIEWS."""
    if view not in FACE_VIEWS:
        raise ValueError(f"Unknown view {view!r}")
    shapes = _FRONT if view == "front" else _LEFT
    out: list[dict[str, str]] = []
    for kind, data in shapes:
        if kind == "path":
            d = str(data)
            out.append({"kind": "path", "d": _mirror_path(d) if view == "right" else d})
        else:
            cx, cy, rx, ry = data  # type: ignore[misc]
            out.append({"kind": "ellipse", "cx": str(SIZE - cx if view == "right" else cx), "cy": str(cy),
                        "rx": str(rx), "ry": str(ry)})
    return out


def regions(view: str) -> list[tuple[str, int, int, int, int]]:
    """The region table of `view`: (area, x0, y0, x1, y1) in thousandths, first hit wins."""
    if view == "front":
        return list(_FRONT_REGIONS)
    if view == "left":
        return list(_LEFT_REGIONS)
    if view == "right":
        return [(a, SIZE - x1, y0, SIZE - x0, y1) for a, x0, y0, x1, y1 in _LEFT_REGIONS]
    raise ValueError(f"Unknown view {view!r}")


def area_at(view: str, x: int, y: int) -> str:
    """The treatment area (one of service.TREATMENT_AREAS) under the point, or "other"."""
    for area, x0, y0, x1, y1 in regions(view):
        if x0 <= x <= x1 and y0 <= y <= y1:
            return area
    return "other"


@dataclass(frozen=True)
class Point:
    """One numbered dot on the diagram: the line's number (1-based, in chart order), view,
    x/y in thousandths, the dot's colour (per product) and a label ("Botox 4 units, glabella")."""

    number: int
    view: str
    x: int
    y: int
    colour: str
    label: str


def product_colours(products: list[str]) -> dict[str, str]:
    """Product name (case-insensitive key: lowercased) -> colour from PALETTE, in order of
    first appearance."""
    out: dict[str, str] = {}
    for name in products:
        key = name.strip().lower()
        if key and key not in out:
            out[key] = PALETTE[len(out) % len(PALETTE)]
    return out


def svg_document(view: str, points: list[Point], *, px: int = 300) -> str:
    """A standalone SVG of `view` with its numbered points (for the PDF), `px` wide and high."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{px}" height="{px}" viewBox="0 0 {SIZE} {SIZE}">',
             f'<rect x="0" y="0" width="{SIZE}" height="{SIZE}" fill="#ffffff" stroke="#d4d4d8" stroke-width="4"/>']
    for shape in drawing(view):
        style = 'fill="none" stroke="#52525b" stroke-width="7" stroke-linecap="round" stroke-linejoin="round"'
        if shape["kind"] == "path":
            parts.append(f'<path d="{shape["d"]}" {style}/>')
        else:
            parts.append(f'<ellipse cx="{shape["cx"]}" cy="{shape["cy"]}" rx="{shape["rx"]}" ry="{shape["ry"]}" {style}/>')
    for p in points:
        if p.view != view:
            continue
        parts.append(f'<circle cx="{p.x}" cy="{p.y}" r="26" fill="{p.colour}" stroke="#ffffff" stroke-width="5"/>')
    parts.append("</svg>")
    return "".join(parts)


assert all(a in TREATMENT_AREAS for a, *_ in _FRONT_REGIONS + _LEFT_REGIONS)

__all__ = ["PALETTE", "Point", "SIZE", "VIEW_LABELS", "area_at", "clean_point", "drawing", "product_colours",
           "regions", "svg_document"]


@dataclass(frozen=True)
class ProductTotal:
    """The total of one product on a chart: name as first written, unit, integer tenths."""

    product: str
    unit: str
    tenths: int

    @property
    def label(self) -> str:
        """"24 units", "1 unit", "1.5 mL"."""
        return quantity_label(self.tenths, self.unit)


def quantity_label(tenths: int, unit: str) -> str:
    """Integer tenths of `unit` in words: "24 units", "1 unit", "2.5 units", "1 mL"."""
    whole, tenth = divmod(tenths, 10)
    if tenths == 10 and unit.endswith("s"):
        unit = unit[:-1]
    return f"{whole}.{tenth} {unit}" if tenth else f"{whole} {unit}"


def product_totals(lines: list[tuple[str, str, int]]) -> list[ProductTotal]:
    """Totals per product and unit from (product, unit, tenths) rows, in order of first
    appearance (products compared case-insensitively; rows without a product or a quantity skipped)."""
    order: list[tuple[str, str]] = []
    sums: dict[tuple[str, str], int] = {}
    names: dict[tuple[str, str], str] = {}
    for product, unit, tenths in lines:
        if not product.strip() or tenths <= 0:
            continue
        key = (product.strip().lower(), unit or "units")
        if key not in sums:
            order.append(key)
            sums[key], names[key] = 0, product.strip()
        sums[key] += tenths
    return [ProductTotal(names[k], k[1], sums[k]) for k in order]


__all__ += ["ProductTotal", "product_totals", "quantity_label"]
