"""The rules of a chart line that need no database: the treatment areas and face-map views, the
limits, which products are injectables (a lot number required), and quantities as typed.
Moved out of clinical/service.py (issue 18), which re-exports these names."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from medspa.domain.scheduling.models import AppointmentStatus

# the treatment areas a line may name (also the database check of treatment_line, migration 0048)
TREATMENT_AREAS = ("forehead", "glabella", "crow's feet", "bunny lines", "brow", "temples", "tear troughs", "cheeks",
                   "nasolabial folds", "lips", "perioral lines", "marionette lines", "dao", "chin", "jawline",
                   "masseter", "neck", "other")
FACE_VIEWS = ("front", "left", "right")  # the face diagram's views (a line's point)
MAX_UNITS_TENTHS = 2000  # 200 of the line's unit (units, mL, ...)
MAX_LINES = 40
MAX_NOTE = 10_000
# a line is an injectable (lot number required) when the visit is an injectable service or the
# product is a known injectable brand
INJECTABLE_CATEGORIES = ("neuromodulators", "dermal fillers", "fillers", "biostimulators")
INJECTABLE_PRODUCTS = ("botox", "dysport", "xeomin", "jeuveau", "daxxify", "letybo", "juvederm", "juvéderm",
                       "voluma", "volbella", "vollure", "restylane", "rha", "belotero", "radiesse", "sculptra",
                       "kybella", "skinvive", "revanesse", "versa")
NOT_CHARTABLE = (AppointmentStatus.HELD, AppointmentStatus.EXPIRED)  # holds are not visits
LOT_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./ -]{0,39}$")  # a lot number as printed: the one pattern
_UNITS = re.compile(r"^\d{1,4}(\.\d)?$")




def area_label(area: str) -> str:
    """A treatment area as people read it: "Crow's feet", "Tear troughs", "DAO"."""
    return "DAO" if area == "dao" else area[:1].upper() + area[1:]


def is_injectable(product: str, category: str) -> bool:
    """True when a lot number must be recorded for this product in a visit of this category."""
    name = product.strip().lower()
    return category.strip().lower() in INJECTABLE_CATEGORIES or any(
        name == brand or name.startswith(brand + " ") for brand in INJECTABLE_PRODUCTS)


def parse_units(text: object, unit: str = "units") -> int:
    """The quantity as typed in tenths of `unit` ("units", "mL", ...): "20" -> 200, "2.5" -> 25.
    Raises ValueError with the user message (naming the unit)."""
    raw = text.strip() if isinstance(text, str) else ""
    if not raw:
        raise ValueError("Enter the units" if unit == "units" else f"Enter the quantity in {unit}")
    if not _UNITS.match(raw):
        raise ValueError("Enter a number with at most one decimal, e.g. 20 or 2.5")
    try:
        tenths = int(Decimal(raw) * 10)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guards
        raise ValueError("Enter a number with at most one decimal, e.g. 20 or 2.5") from exc
    if tenths <= 0:
        raise ValueError("Units must be more than 0" if unit == "units" else "The quantity must be more than 0")
    if tenths > MAX_UNITS_TENTHS:
        raise ValueError(f"At most {MAX_UNITS_TENTHS // 10} {unit} per line")
    return tenths


__all__ = ["FACE_VIEWS", "area_label", "INJECTABLE_CATEGORIES", "INJECTABLE_PRODUCTS", "LOT_NUMBER", "MAX_LINES", "MAX_NOTE", "MAX_UNITS_TENTHS",
           "NOT_CHARTABLE", "TREATMENT_AREAS", "is_injectable", "parse_units"]
