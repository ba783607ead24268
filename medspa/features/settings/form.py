"""The service form of /settings as text: to and from the domain's ServiceRow / ServiceInput.

Pure functions (no Reflex): the page keeps the form as a dict of strings (form field name ->
text), parsed here into a ServiceInput or a message per bad field. Field names are the
ServiceInput field names, so the domain's ValidationFailed keys land next to the same inputs.
Money is typed in the clinic's currency ("125" or "125.50") and becomes integer cents.
"""

from __future__ import annotations

from babel.numbers import get_currency_symbol

from medspa.domain.catalog.actions import ServiceRow
from medspa.domain.catalog.editing import ServiceInput
from medspa.domain.money import InvalidAmount, format_money, parse_to_cents
from medspa.domain.scheduling.labels import resource_type_name

NONE = "__none__"  # the select value for "no room / device needed" (a select item cannot be "")
TEXT_FIELDS = ("category", "name", "description", "duration_minutes", "buffer_before_minutes",
               "buffer_after_minutes", "price_cents", "deposit_cents", "room_type", "device_type", "chart_template",
               "min_notice_minutes", "slot_grid_minutes", "max_advance_days")
FIELD_LIMIT = 2100  # longer text is refused before parsing (the description's limit is 2000)

# (minutes, label) offered for the minimum notice of an online booking
NOTICE_CHOICES = ((0, "None"), (15, "15 minutes"), (30, "30 minutes"), (60, "1 hour"), (120, "2 hours"),
                  (240, "4 hours"), (720, "12 hours"), (1440, "1 day"), (2880, "2 days"), (10080, "1 week"))


def notice_label(minutes: int) -> str:
    """60 -> "1 hour"; a value outside NOTICE_CHOICES -> "95 minutes"."""
    return dict(NOTICE_CHOICES).get(minutes, f"{minutes} minutes")


def type_label(resource_type: str | None) -> str:
    """"treatment_room" -> "Treatment room", "ipl_bbl" -> "IPL BBL"; None -> ""
    (scheduling.labels.resource_type_name, the one naming of types)."""
    return resource_type_name(resource_type)


def amount_text(cents: int) -> str:
    """12550 -> "125.50", 12500 -> "125" (what the owner typed, give or take)."""
    whole, part = divmod(cents, 100)
    return f"{whole}" if part == 0 else f"{whole}.{part:02d}"


def blank_form() -> dict[str, str]:
    """A new service's form: 30 minutes, 15-minute grid, 2 hours' notice, no room or device."""
    return {"category": "", "name": "", "description": "", "duration_minutes": "30", "buffer_before_minutes": "0",
            "buffer_after_minutes": "0", "price_cents": "", "deposit_cents": "0", "room_type": NONE,
            "device_type": NONE, "chart_template": NONE, "min_notice_minutes": "120", "slot_grid_minutes": "15", "max_advance_days": ""}


def form_of(row: ServiceRow) -> dict[str, str]:
    """The form filled with a service's current values."""
    return {"category": row.category, "name": row.name, "description": row.description,
            "duration_minutes": str(row.duration_minutes), "buffer_before_minutes": str(row.buffer_before_minutes),
            "buffer_after_minutes": str(row.buffer_after_minutes), "price_cents": amount_text(row.price_cents),
            "deposit_cents": amount_text(row.deposit_cents), "room_type": row.room_type or NONE,
            "device_type": row.device_type or NONE, "chart_template": row.chart_template or NONE,
            "min_notice_minutes": str(row.min_notice_minutes),
            "slot_grid_minutes": str(row.slot_grid_minutes),
            "max_advance_days": "" if row.max_advance_days is None else str(row.max_advance_days)}


def _whole(text: str, errors: dict[str, str], key: str, *, optional: bool = False) -> int | None:
    text = text.strip()
    if optional and not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 7:
        errors[key] = "Enter a whole number" if text else "Required"
        return None
    return int(text)


def _money(text: str, errors: dict[str, str], key: str) -> int | None:
    if not text.strip():
        errors[key] = "Required (0 for free)"
        return None
    if not text.isascii() or len(text) > 16:
        errors[key] = "Enter an amount like 125.50"
        return None
    try:
        return parse_to_cents(text)
    except InvalidAmount as exc:
        errors[key] = str(exc)
        return None


def parse_form(form: dict[str, str], online: bool, provider_ids: list[int]) -> tuple[ServiceInput | None, dict]:
    """(ServiceInput, {}) or (None, {field: message}) for the page's text form; the domain
    checks the ranges and the deposit against the price again (ValidationFailed)."""
    errors: dict[str, str] = {}
    ints = {key: _whole(form.get(key, ""), errors, key) for key in (
        "duration_minutes", "buffer_before_minutes", "buffer_after_minutes", "min_notice_minutes",
        "slot_grid_minutes")}
    advance = _whole(form.get("max_advance_days", ""), errors, "max_advance_days", optional=True)
    price = _money(form.get("price_cents", ""), errors, "price_cents")
    deposit = _money(form.get("deposit_cents", ""), errors, "deposit_cents")
    if price is not None and deposit is not None and deposit > price:
        errors["deposit_cents"] = "Deposit cannot be more than the price"
    if errors:
        return None, errors
    room, device = form.get("room_type", NONE), form.get("device_type", NONE)
    template = form.get("chart_template", NONE)
    return ServiceInput(category=form.get("category", ""), name=form.get("name", ""),
                        description=form.get("description", ""), price_cents=price, deposit_cents=deposit,
                        room_type=None if room == NONE else room, device_type=None if device == NONE else device,
                        provider_ids=tuple(provider_ids), online_bookable=online, max_advance_days=advance,
                        chart_template=None if template == NONE else template,
                        **ints), {}


def money(cents: int, currency: str) -> str:
    """Integer cents shown in the clinic's currency: 12500, "USD" -> "$125.00"."""
    return format_money(cents, currency)


def currency_symbol(currency: str) -> str:
    """"USD" -> "$", "EUR" -> "€", "CHF" -> "CHF" (Babel, en_US)."""
    return get_currency_symbol(currency, locale="en_US")
