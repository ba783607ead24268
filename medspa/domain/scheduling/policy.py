"""The cancellation rule of a location, in one place.

A cancellation is *late* when it comes less than the location's
`cancellation_window_hours` before the visit starts. A late cancellation keeps the paid
deposit when the location's `late_cancel_keeps_deposit` is on (the default); with it off the
deposit is refunded however late the client cancels (the cancellation still counts as late in
the reports). An early cancellation is always refunded. Cancelling
(scheduling.service.cancel_appointment), the calendar's detail panel, the client portal, the
booking page and the messages to clients all read it from here.

A visit keeps the rule it was booked under: the appointment records the location's window
and keep/refund when it is made (appointment.booked_window_hours, booked_late_keeps_deposit,
migration 0033), and a cancellation is decided by the kinder of that rule and the location's
current one (cancel_rule: the shorter window; the deposit kept only when both rules keep it),
so a later change of the settings never takes from a client what the confirmation promised.
A visit the client moved inside the window (its one free late move, scheduling.reschedule)
stays late to cancel wherever it moved (is_late_to_cancel).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from medspa.domain.errors import ValidationFailed
from medspa.domain.money import ROUNDING

# why a visit was cancelled (appointment.cancellation_reason; migration 0037 checks the codes)
CANCEL_REASONS: tuple[tuple[str, str], ...] = (
    ("client_request", "Client request"), ("illness", "Illness"), ("clinic", "Clinic"), ("weather", "Weather"),
    ("other", "Other"))
CANCEL_REASON_LABELS = dict(CANCEL_REASONS)
CANCEL_NOTE_MAX = 500


def clean_cancel_reason(reason: object, note: object) -> tuple[str, str]:
    """(reason code, note) of a cancellation as a person gave them: `reason` one of
    CANCEL_REASONS' codes, `note` free text (trimmed, at most CANCEL_NOTE_MAX characters), required
    for "other". Raises ValidationFailed({"reason": ...} or {"note": ...})."""
    if not isinstance(reason, str) or reason not in CANCEL_REASON_LABELS:
        raise ValidationFailed({"reason": "Choose why the visit is cancelled"})
    text = note.strip() if isinstance(note, str) else ""
    if "\x00" in text:
        raise ValidationFailed({"note": "The note contains a character that cannot be stored"})
    if len(text) > CANCEL_NOTE_MAX:
        raise ValidationFailed({"note": f"Keep the note under {CANCEL_NOTE_MAX} characters"})
    if reason == "other" and not text:
        raise ValidationFailed({"note": "Say why the visit is cancelled"})
    return reason, text


def cancel_reason_text(reason: str | None, note: str = "") -> str:
    """A stored reason in words: "Illness", "Other: flight delayed", "Weather: snow" ("" when none)."""
    if not reason:
        return ""
    label = CANCEL_REASON_LABELS.get(reason, reason)
    return f"{label}: {note}" if note else label


def cancellation_deadline(start_at: datetime, window_hours: int) -> datetime:
    """The last instant a cancellation is still free: `window_hours` before `start_at`
    (aware datetimes; the result has `start_at`'s zone)."""
    return start_at - timedelta(hours=window_hours)


def is_late_cancellation(start_at: datetime, window_hours: int, at: datetime) -> bool:
    """True when cancelling at `at` is late: strictly less than `window_hours` hours before
    `start_at` (exactly the window ahead is still free; at or after the start is late).
    `start_at` and `at` are aware datetimes; `window_hours` >= 0."""
    return at > cancellation_deadline(start_at, window_hours)


def is_late_to_cancel(appointment, window_hours: int, at: datetime) -> bool:
    """Whether cancelling `appointment` (anything with start_at and late_reschedules) at `at`
    is late: inside the window (is_late_cancellation), or the client already moved it once
    inside the window (late_reschedules > 0: the free late move does not turn a late
    cancellation into an early one by moving the visit far ahead first)."""
    return bool(appointment.late_reschedules) or is_late_cancellation(appointment.start_at, window_hours, at)


def cancellation_keeps_deposit(start_at: datetime, window_hours: int, late_keeps_deposit: bool,
                               at: datetime) -> bool:
    """True when cancelling at `at` keeps the paid deposit: the cancellation is late
    (is_late_cancellation) and the location keeps deposits of late cancellations
    (`late_keeps_deposit`, the location's late_cancel_keeps_deposit). Otherwise it is refunded."""
    return late_keeps_deposit and is_late_cancellation(start_at, window_hours, at)


def cancel_rule(appointment, location) -> tuple[int, bool]:
    """(window_hours, late_keeps_deposit) that decide cancelling `appointment` (anything with
    booked_window_hours and booked_late_keeps_deposit, None: not recorded) at `location`
    (cancellation_window_hours, late_cancel_keeps_deposit): the kinder of the rule it was booked
    under and the location's current one, i.e. the shorter window, and keep only when both keep."""
    window, keeps = location.cancellation_window_hours, location.late_cancel_keeps_deposit
    booked_window = appointment.booked_window_hours
    booked_keeps = appointment.booked_late_keeps_deposit
    if booked_window is not None:
        window = min(window, booked_window)
    if booked_keeps is not None:
        keeps = keeps and booked_keeps
    return window, keeps


def record_booked_rule(appointment, location) -> None:
    """Write the location's current rule on a new `appointment` (booked_window_hours,
    booked_late_keeps_deposit): the rule its confirmation states and its cancellation keeps."""
    appointment.booked_window_hours = location.cancellation_window_hours
    appointment.booked_late_keeps_deposit = location.late_cancel_keeps_deposit
    for kind in FEE_KINDS:  # the fees its terms come to (0: the location charges none now)
        setattr(appointment, f"booked_{kind}_fee_cents", fee_cents(fee_terms(location, kind),
                                                                     appointment.price_cents or 0))


NOTHING_PAID_RULE = "Cancellations are free: nothing was paid in advance."


@dataclass(frozen=True)
class FeeQuote:
    """A fee as the client's terms state it: cents (None: the price is not known yet, e.g. a
    location's terms before a treatment is chosen) and percent_bp (> 0: the location's term is a
    percent of the price, stated as such: "50% of the price ($175.00)")."""

    cents: int | None
    percent_bp: int = 0


def terms_sentence(window_hours: int, late_keeps_deposit: bool, deposit_cents: int | None,
                   late_fee: FeeQuote | None = None, no_show_fee: FeeQuote | None = None,
                   currency: str = "USD") -> str:
    """THE cancellation / no-show terms told to a client, before booking and after (issue 16):
    the booking page's card and details steps, its confirmation, the confirmation email and SMS,
    the series confirmation, the manage page, the API. Starts with "Cancellations"
    (payments.disputes finds it in a sent confirmation by that word). E.g. "Cancellations more
    than 24 hours ahead are free. Later ones cost $40.00 (taken from the deposit first). A
    missed visit costs 50% of the price ($175.00, taken from the deposit first)."

    window_hours / late_keeps_deposit: the rule (cancel_rule); deposit_cents: the visit's
    deposit (0: nothing paid in advance, None: not known yet); late_fee / no_show_fee: the fees
    that apply (None or 0 cents: no such fee). Without a late fee the deposit rule speaks:
    refund_rule_sentence, or NOTHING_PAID_RULE when there is no deposit."""
    from medspa.domain.money import format_money

    first = ("" if deposit_cents == 0 else
             "taken from the deposit first" if deposit_cents else "taken from any deposit first")

    def amount(q: FeeQuote) -> str:  # "$40.00 (taken ...)", "50% of the price ($175.00, taken ...)"
        money = format_money(q.cents, currency) if q.cents is not None else ""
        if q.percent_bp:
            pct = f"{(Decimal(q.percent_bp) / 100).normalize():f}% of the price"
            inside = ", ".join(x for x in (money, first) if x)
            return f"{pct} ({inside})" if inside else pct
        return f"{money} ({first})" if first else money

    def charged(q: FeeQuote | None) -> bool:
        return q is not None and q.cents != 0

    if charged(late_fee):
        ahead = "before the visit starts" if window_hours == 0 else f"more than {window_hours} hours ahead"
        text = f"Cancellations {ahead} are free. Later ones cost {amount(late_fee)}."
    elif deposit_cents == 0:
        text = NOTHING_PAID_RULE
    else:
        text = refund_rule_sentence(window_hours, late_keeps_deposit)
    if charged(no_show_fee):
        text += f" A missed visit costs {amount(no_show_fee)}."
    return text


def _quote(appointment, location, kind: str) -> FeeQuote | None:
    """The `kind` fee of a visit as its terms state it (fee_due; a percent when the location's
    current percent term is what decides it)."""
    due = fee_due(appointment, location, kind)
    if not due:
        return None
    terms = fee_terms(location, kind)
    percent = terms.term == "percent" and due == fee_cents(terms, appointment.price_cents or 0)
    return FeeQuote(due, terms.amount if percent else 0)


def visit_terms(appointment, location) -> str:
    """terms_sentence of a booked visit (anything with price_cents, deposit_cents, currency and
    the booked_* fields) at `location` (a practice.models.Location): the rule that decides
    cancelling it (cancel_rule) and the fees it owes (fee_due: none when it was booked without
    them). What its confirmation, reminders and manage page tell the client."""
    window, keeps = cancel_rule(appointment, location)
    return terms_sentence(window, keeps, getattr(appointment, "deposit_cents", 0) or 0,
                          _quote(appointment, location, "late_cancel"), _quote(appointment, location, "no_show"),
                          getattr(appointment, "currency", "USD") or "USD")




def location_terms(location, *, price_cents: int | None = None, deposit_cents: int | None = None,
                   currency: str = "USD") -> str:
    """terms_sentence of a visit booked now at `location` (a practice.models.Location): with
    price_cents (and deposit_cents) of the chosen treatment, exactly what visit_terms says of
    the visit once booked (record_booked_rule on it); without them, the location's terms with
    percent fees as a percent of the price."""
    if price_cents is not None:
        from types import SimpleNamespace

        visit = SimpleNamespace(price_cents=price_cents, deposit_cents=deposit_cents or 0, currency=currency,
                                late_reschedules=0)
        record_booked_rule(visit, location)
        return visit_terms(visit, location)
    quotes = []
    for kind in FEE_KINDS:
        terms = fee_terms(location, kind)
        quotes.append(None if not terms.is_set else
                      FeeQuote(terms.amount, 0) if terms.term == "flat" else FeeQuote(None, terms.amount))
    return terms_sentence(location.cancellation_window_hours, location.late_cancel_keeps_deposit, deposit_cents,
                          quotes[0], quotes[1], currency)


def refund_rule_sentence(window_hours: int, late_keeps_deposit: bool = True) -> str:
    """The rule in one sentence for messages to clients and the booking page (it starts with
    "Cancellations": payments.disputes finds it in a sent confirmation by that word)."""
    if not late_keeps_deposit:
        return "Cancellations are refunded in full, however close to the visit."
    if window_hours == 0:
        return "Cancellations before the visit starts are refunded in full."
    return (f"Cancellations more than {window_hours} hours ahead are refunded in full. "
            "Later ones keep the deposit.")


# --- late-cancel and no-show fees (issue 16) -------------------------------------------------
#
# A location may charge a fee for a late cancellation by the client and for a no-show
# (location.late_cancel_fee_kind / _amount, no_show_fee_kind / _amount, migration 0039): none,
# a flat amount in integer cents, or a percent of the visit's price (stored in basis points,
# 1 bp = 0.01 %) rounded HALF UP to whole cents (medspa.domain.money.ROUNDING: 12.5 cents -> 13).
# A visit keeps the fee it was booked under the way it keeps the window: record_booked_rule
# writes the fee its terms came to in cents (appointment.booked_late_cancel_fee_cents,
# booked_no_show_fee_cents; 0 when the location charged no such fee then) and fee_due takes
# the smaller of that and the location's current terms (a visit booked without the fee keeps
# the deposit rule alone; NULL, a visit booked before migration 0039 or never recorded: no fee). The clinic's own reasons (CLINIC_REASONS: "clinic", "weather") never charge a fee and
# refund the deposit in full; every other reason of a late cancellation does (the client's
# request, illness, other: a manager may waive it with a reason). payments.fees applies it:
# the deposit paid is applied to the fee first (settle_fee).

FEE_KINDS = ("late_cancel", "no_show")
FEE_KIND_LABELS = {"late_cancel": "Late-cancel fee", "no_show": "No-show fee"}
FEE_TERMS = ("none", "flat", "percent")
MAX_PERCENT_BP = 10_000  # 100 %
MAX_FLAT_FEE_CENTS = 10_000_000  # the highest service price (catalog.editing.MAX_PRICE_CENTS): above, a typing slip
CLINIC_REASONS = ("clinic", "weather")
"""Cancellation reasons that are the clinic's doing: no fee, and the deposit goes back in full
(also late, also when no fee is set: a clinic that cancels keeps nothing of the client's)."""


@dataclass(frozen=True)
class FeeTerms:
    """One fee setting of a location: term "none" | "flat" | "percent"; amount: flat -> integer
    cents, percent -> basis points (2500 = 25 %), 0 for none."""

    term: str = "none"
    amount: int = 0

    @property
    def is_set(self) -> bool:
        """True when the location charges this fee (a flat or percent term)."""
        return self.term in ("flat", "percent")


def fee_terms(location, kind: str) -> FeeTerms:
    """The location's terms (anything with <kind>_fee_kind and <kind>_fee_amount) of fee
    `kind` ("late_cancel" | "no_show")."""
    if kind not in FEE_KINDS:
        raise ValueError(kind)
    term = getattr(location, f"{kind}_fee_kind", "none") or "none"
    return FeeTerms(term, int(getattr(location, f"{kind}_fee_amount", 0) or 0) if term != "none" else 0)


def fee_cents(terms: FeeTerms, price_cents: int) -> int:
    """The fee in integer cents for a visit priced `price_cents`: none -> 0; flat -> the amount;
    percent -> price x bp / 10000 rounded HALF UP to whole cents (money.ROUNDING; 333 cents at
    25 % -> 83.25 -> 83, 50 cents at 25 % -> 12.5 -> 13)."""
    if terms.term == "flat":
        return max(0, terms.amount)
    if terms.term == "percent":
        exact = Decimal(max(0, price_cents)) * Decimal(max(0, terms.amount)) / Decimal(10_000)
        return int(exact.to_integral_value(rounding=ROUNDING))
    return 0


def fee_due(appointment, location, kind: str) -> int | None:
    """The `kind` fee in cents for `appointment` (price_cents, booked_<kind>_fee_cents) at
    `location`: the smaller of the fee its booked terms came to and the location's current
    terms (a later rise never applies to a booked visit; a later cut does). None when there is
    no fee: the location charges none now (fee_terms not set), the visit was booked when it
    charged none (booked 0), or its booked terms were never recorded (booked NULL: booked before
    fees existed, migration 0039, or by a path that did not record them): nothing was promised,
    so nothing is charged (the kinder rule, as the fee dialog and README say). The deposit rule
    (cancel_rule) then applies alone, as before fees. The one place the applicable fee is
    decided (payments.fees.fee_applies reads it)."""
    terms = fee_terms(location, kind)
    booked = getattr(appointment, f"booked_{kind}_fee_cents", None)
    if not terms.is_set or not booked:
        return None
    return min(fee_cents(terms, appointment.price_cents or 0), booked)


def late_fee_status(appointment, window_hours: int, fee: int, at: datetime, deadline_text: str) -> str:
    """Where a late-cancel fee of `fee` cents applies (fee_due): cancelling `appointment` at `at`
    in words for the client's visit card, "Free cancellation until <deadline_text>; later it
    costs $40.00 (taken from the deposit first)." or "Inside the cancellation window: cancelling
    now costs $40.00 ..." (is_late_to_cancel)."""
    from medspa.domain.money import format_money

    cost = format_money(fee, getattr(appointment, "currency", "USD") or "USD")
    cost += " (taken from the deposit first)" if getattr(appointment, "deposit_cents", 0) else ""
    if is_late_to_cancel(appointment, window_hours, at):
        return f"Inside the cancellation window: cancelling now costs {cost}."
    return f"Free cancellation until {deadline_text}; later it costs {cost}."


def is_clinic_reason(reason: str | None) -> bool:
    """True when a cancellation `reason` code is the clinic's own doing (CLINIC_REASONS)."""
    return reason in CLINIC_REASONS


def fee_terms_text(terms: FeeTerms, currency: str = "USD") -> str:
    """A fee setting in words: "No fee", "$25.00", "50% of the service price"
    ("12.5% of ..." for basis points that are not whole percents)."""
    from medspa.domain.money import format_money

    if terms.term == "flat":
        return format_money(terms.amount, currency)
    if terms.term == "percent":
        pct = Decimal(terms.amount) / 100
        return f"{pct.normalize():f}% of the service price"
    return "No fee"


@dataclass(frozen=True)
class FeeSettlement:
    """How a fee and a paid deposit settle (integer cents): kept = the deposit applied to the
    fee, refund = the deposit left over for the client, charge = the fee left over for the
    card. Always fee + refund == deposit + charge."""

    fee: int
    deposit: int
    kept: int
    refund: int
    charge: int


def settle_fee(deposit_cents: int, fee_cents_: int) -> FeeSettlement:
    """Apply a paid deposit to a fee first (issue 16): refund = max(0, deposit - fee),
    charge = max(0, fee - deposit), kept = min(deposit, fee). Pure; both >= 0 integer cents
    (ValueError otherwise)."""
    if deposit_cents < 0 or fee_cents_ < 0:
        raise ValueError("deposit and fee are cents >= 0")
    return FeeSettlement(fee_cents_, deposit_cents, min(deposit_cents, fee_cents_),
                         max(0, deposit_cents - fee_cents_), max(0, fee_cents_ - deposit_cents))
