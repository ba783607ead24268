"""How the dashboard says its figures: percents, money in the clinic's currency, the change
against the previous period, heatmap cells and the stacked revenue chart, CSV text.

No database and no Reflex here: plain values in, display strings and chart rows out.
"""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Iterator

from medspa.domain.analytics import cohorts as co
from medspa.domain.analytics import revenue as rv
from medspa.domain.analytics import trends as tr
from medspa.domain.audit.query import csv_cell
from medspa.domain.money import format_money

GOOD, BAD, NEUTRAL = "good", "bad", "neutral"


def pct(ratio: float | None) -> str:
    """0.0862 -> "8.6%"; None (nothing to divide by) -> "—"."""
    return "—" if ratio is None else f"{ratio * 100:.1f}%"


# The clinic's currency while one of its reports is built (set by `clinic_currency` in the
# worker thread that builds it), so every amount goes through domain.money.format_money.
_CURRENCY: ContextVar[str] = ContextVar("dashboard_currency", default="USD")


def money(cents: int) -> str:
    """Integer cents in the clinic's currency (Babel via format_money): -1234 -> "-$12.34"."""
    return format_money(cents, _CURRENCY.get())


@contextmanager
def clinic_currency(code: str) -> Iterator[None]:
    """Format every amount of this block in currency `code` (ISO 4217)."""
    token = _CURRENCY.set(code)
    try:
        yield
    finally:
        _CURRENCY.reset(token)


def _visits(n: int) -> str:
    return "1 visit" if n == 1 else f"{n:,} visits"


def days_text(n: int) -> str:
    """"1 day", "30 days"."""
    return "1 day" if n == 1 else f"{n} days"


MIN_MONEY_BASE_CENTS = 5000  # a previous amount under $50 (either sign) is too small a base for a percent
MIN_COUNT_BASE = 1  # a previous count of 0 is no base; 1 or more gives a percent (1 -> 2 is "▲ 100.0%")


def _too_small(kind: str, previous: float | int) -> bool:
    """True when the previous period's value is too small a base for a percent change:
    a count below MIN_COUNT_BASE (0), an amount below MIN_MONEY_BASE_CENTS ($50) either way."""
    if kind == "money":
        return abs(previous) < MIN_MONEY_BASE_CENTS
    return previous < MIN_COUNT_BASE


def change(kind: str, current: float | int | None, previous: float | int | None, *, higher_is_better: bool,
           days: int) -> tuple[str, str]:
    """(text, tone) of a figure's change against the previous `days` days.

    kind "rate": the difference in percentage points ("▲ 1.2 pts"); "count"/"money": the
    change in percent ("▼ 12.5%"). Against a base too small for a percent (`_too_small`: no
    visits, or less than $50) a rise reads "▲ new" and a fall only "▼"; both periods empty read
    "= same" without an arrow. tone is good/bad by `higher_is_better`, neutral when unchanged
    or not comparable. The previous value follows in brackets."""
    period = f"vs previous {days_text(days)}"
    if kind == "rate":
        if current is None or previous is None:
            return (f"no visits to compare {period}" if previous is None else f"— {period}", NEUTRAL)
        delta = round((current - previous) * 100, 1)
        was = pct(previous)
        size = f" {abs(delta):.1f} pts"
    else:
        if previous is None or current is None:  # e.g. an average without checkouts
            return (f"— {period}" if current is None else f"nothing to compare {period}"), NEUTRAL
        previous, current = previous or 0, current or 0
        was = money(int(previous)) if kind == "money" else f"{previous:,}"
        if previous == 0 and current == 0:
            return f"= same as previous {days_text(days)}", NEUTRAL
        if _too_small(kind, previous):
            delta = float(current - previous)
            size = " new" if delta > 0 else ""
        else:
            delta = round((current - previous) / abs(previous) * 100, 1)
            size = f" {abs(delta):.1f}%"
    if delta == 0:
        return f"= same as previous {days_text(days)} ({was})", NEUTRAL
    arrow = "▲" if delta > 0 else "▼"
    tone = GOOD if (delta > 0) == higher_is_better else BAD
    return f"{arrow}{size} {period} ({was})", tone


@dataclass(frozen=True)
class Tile:
    """One headline figure: its value, change against the previous period (text, tone), detail and definition."""

    key: str
    label: str
    value: str
    change: str
    tone: str  # good / bad / neutral
    detail: str
    definition: str
    group: str  # visits / clients / money


@dataclass(frozen=True)
class Cell:
    """One cell of a heatmap (a CSS grid): text, colours, and the drill it opens ("" = none)."""

    text: str
    bg: str
    fg: str
    key: str = ""
    arg: str = ""
    title: str = ""


_LOW, _HIGH = (241, 245, 249), (13, 148, 136)  # slate-100 .. teal-600


def shade(share: float | None) -> tuple[str, str]:
    """(background, text colour) for a 0..1 share; None (no value) is a blank cell."""
    if share is None:
        return "transparent", "#64748b"
    t = max(0.0, min(1.0, share))
    rgb = tuple(round(lo + (hi - lo) * t) for lo, hi in zip(_LOW, _HIGH))
    return "#%02x%02x%02x" % rgb, ("#ffffff" if t > 0.55 else "#0f172a")


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _hours_grid(cells: list[tr.HourCell]) -> tuple[list[Cell], int]:
    """Weekday rows x the hours that have visits (at least 9:00-17:00), header row first."""
    if not cells:
        return [], 0
    counts = {(c.weekday, c.hour): c.visits for c in cells}
    lo, hi = min(min(c.hour for c in cells), 9), max(max(c.hour for c in cells), 17)
    top = max(counts.values())
    out = [Cell("", "transparent", "#64748b")]
    out += [Cell(f"{h % 12 or 12}{'a' if h < 12 else 'p'}", "transparent", "#64748b") for h in range(lo, hi + 1)]
    for wd, name in enumerate(WEEKDAYS):
        out.append(Cell(name, "transparent", "#334155"))
        for h in range(lo, hi + 1):
            n = counts.get((wd, h), 0)
            bg, fg = shade(n / top if n else 0.0)
            out.append(Cell(str(n) if n else "", bg, fg, "hour" if n else "", f"{wd}-{h}" if n else "",
                            f"{name} {h:02d}:00-{h:02d}:59: {_visits(n)}"))
    return out, hi - lo + 2


RETENTION_COLUMNS = 5  # cohort, clients, 90, 180, 365 days


def _retention_grid(cohorts: list[co.Cohort]) -> list[Cell]:
    """Newest cohort first; empty months left out; a window not over yet is a blank cell."""
    head = "#64748b"
    out = [Cell(t, "transparent", head) for t in ("Cohort", "Clients", "90 days", "180 days", "365 days")]
    for c in reversed([c for c in cohorts if c.size]):
        out += [Cell(c.month, "transparent", "#334155"), Cell(str(c.size), "transparent", "#334155")]
        for days, returned, rate in ((90, c.returned_90, c.rate_90), (180, c.returned_180, c.rate_180),
                                     (365, c.returned_365, c.rate_365)):
            if returned is None:
                out.append(Cell("", "transparent", head, title=f"{c.month}: the {days}-day window is not over yet"))
            else:
                bg, fg = shade(rate)
                out.append(Cell(pct(rate), bg, fg, "retention", f"{c.month}:{days}",
                                f"{c.month}: {returned} of {c.size} came back within {days} days"))
    return out


STACK_SLOTS = 7  # six categories by net, then "Other"


def _stacked(lines: list[rv.RevenueLine], months: list[str]) -> tuple[list[dict], list[str], list[dict]]:
    """Per month the net dollars of each category slot c0..c6; the slot names; category totals."""
    totals: dict[str, int] = {}
    for x in lines:
        cat = x.key.split("|", 1)[1]
        totals[cat] = totals.get(cat, 0) + x.net_cents
    ranked = sorted(totals, key=lambda c: (-totals[c], c))
    slot = {c: (i if i < STACK_SLOTS - 1 or len(ranked) == STACK_SLOTS else STACK_SLOTS - 1)
            for i, c in enumerate(ranked)}
    names = [""] * STACK_SLOTS
    for c, i in slot.items():
        names[i] = c if names[i] == "" else "Other"
    per_month = {m: [0] * STACK_SLOTS for m in months}
    for x in lines:
        month, cat = x.key.split("|", 1)
        per_month.setdefault(month, [0] * STACK_SLOTS)[slot[cat]] += x.net_cents
    chart = [{"month": m, **{f"c{i}": cents[i] / 100 for i in range(STACK_SLOTS)}} for m, cents in
             sorted(per_month.items())]
    return chart, names, [{"category": c, "net": money(totals[c])} for c in ranked]


def _blank(n: int | None) -> int | str:
    return "" if n is None else n


def _pct_round(ratio: float | None) -> float | None:
    return None if ratio is None else round(ratio * 100, 1)


def _pct_num(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio * 100:.1f}"


def _dollars(cents: int) -> Decimal:
    """Cents as an exact dollar amount for CSV: -5000 -> Decimal("-50.00")."""
    return Decimal(cents).scaleb(-2)


def to_csv(header: list[str], rows: Iterable[Iterable]) -> str:
    """RFC 4180 text (CRLF, quoted where needed); text cells that look like a formula get a
    leading quote (the audit export's guard); numbers (a negative amount) are written as is."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow([csv_cell(h) for h in header])
    for row in rows:
        w.writerow([c if isinstance(c, (int, float, Decimal)) else csv_cell(c) for c in row])
    return buf.getvalue()
