"""The drill-down definitions of the owners' dashboard: which rows stand behind each figure.

Services (a session, no commit). Each figure key of the dashboard (a tile, a chart's bar, a
month, a heatmap cell) maps to a function that lists the ids of its visits or ledger lines, a
note per row and a one-line summary that restates the figure and the total of ALL rows (the
count or sum equals the figure on the dashboard). `drill` then loads the display rows
(analytics.details, audited once: report.drill on screen, report.export for a download).
Arguments come from the browser: an unknown key or argument raises UnknownFigure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable

from sqlmodel import Session

from medspa.domain.analytics import cohorts as co
from medspa.domain.analytics import details as dt
from medspa.domain.analytics import revenue as rv
from medspa.domain.analytics import service as an
from medspa.domain.analytics import trends as tr
from medspa.domain.analytics.dashboard import clinic_currency, retention_window, trend_window
from medspa.domain.identity.actor import Actor
from medspa.domain.money import format_money
from medspa.domain.scheduling.models import AppointmentStatus

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class UnknownFigure(ValueError):
    """The key (or its argument) names no figure of the dashboard."""


@dataclass(frozen=True)
class _Fmt:
    """How a drill's summary writes amounts (the clinic's currency) and ratios."""

    currency: str

    def money(self, cents: int) -> str:
        return format_money(cents, self.currency)

    @staticmethod
    def pct(ratio: float | None) -> str:
        return "—" if ratio is None else f"{ratio * 100:.1f}%"


def _int(arg: str) -> int | None:
    """A browser-sent id: ASCII digits only, at most 11 of them (else None)."""
    if not isinstance(arg, str) or not arg.isascii() or not arg.isdigit() or len(arg) > 11:
        return None
    return int(arg)


@dataclass(frozen=True)
class Spec:
    """What a figure's drill needs: its rows (ids + notes), how to say the total, the title.

    notes: row id -> (what the row counts as, its value: minutes or an amount as text)."""

    title: str
    kind: str  # appointment / ledger
    ids: list[int]
    notes: dict[int, tuple[str, str]]
    summary: str


def _status(st: str) -> str:
    return st.replace("_", " ")


def _spec_no_show(s, actor, kw, arg, fmt) -> Spec:
    rows = an.no_show_rows(s, actor, **kw)
    n = sum(1 for _, st in rows if st == AppointmentStatus.NO_SHOW)
    return Spec("Visits that were due", "appointment", [i for i, _ in rows],
                 {i: (_status(st), "") for i, st in rows},
                 f"{len(rows):,} visits due, {n:,} no-shows = {fmt.pct(an._ratio(n, len(rows)))}")


def _spec_cancellations(s, actor, kw, arg, fmt) -> Spec:
    rows = an.cancellation_rows(s, actor, **kw)
    late = sum(1 for _, lt in rows if lt)
    return Spec("Cancellations", "appointment", [i for i, _ in rows],
                 {i: (AppointmentStatus.CANCELLED.value, "late" if lt else "early") for i, lt in rows},
                 f"{len(rows):,} cancellations, {late:,} late")


def _util_spec(s, actor, kw, fmt, attended: bool, provider: int | None) -> Spec:
    util = an.utilization(s, actor, **kw)
    ids, notes, total, avail = [], {}, 0, 0
    for u in util:
        if provider is not None and u.provider_id != provider:
            continue
        avail += u.available_minutes
        for i, m in an.utilization_rows(s, actor, **kw, provider_id=u.provider_id, attended_only=attended):
            ids.append(i)
            notes[i] = ("attended" if attended else "booked", f"{m} min")
            total += m
    what = "Attended" if attended else "Booked"
    return Spec(f"{what} minutes", "appointment", ids, notes,
                 f"{len(ids):,} visits, {total:,} {what.lower()} minutes of {avail:,} available "
                 f"= {fmt.pct(an._ratio(total, avail))}")


def _spec_rebooking(s, actor, kw, arg, fmt) -> Spec:
    rows = an.rebooking_rows(s, actor, **kw)
    n = sum(1 for _, r, _ in rows if r)
    return Spec("Completed visits and their rebooking", "appointment", [i for i, _, _ in rows],
                 {i: ("rebooked" if r else "not rebooked", "before leaving" if b else "") for i, r, b in rows},
                 f"{len(rows):,} completed visits, {n:,} rebooked = {fmt.pct(an._ratio(n, len(rows)))}")


def _spec_new_clients(s, actor, kw, arg, fmt) -> Spec:
    rows = an.new_client_rows(s, actor, **kw)
    return Spec("New clients (their first completed visit)", "appointment", [a for _, a in rows],
                 {a: ("first visit", "") for _, a in rows}, f"{len(rows):,} new clients")


def _spec_revenue(s, actor, kw, arg, fmt) -> Spec:
    rows = an.revenue_rows(s, actor, **kw, by="month")
    return Spec("Ledger lines", "ledger", [i for i, _, _ in rows], {i: (_status(t), fmt.money(a)) for i, t, a in rows},
                 f"{len(rows):,} ledger lines, net {fmt.money(sum(a for _, _, a in rows))}")


def _spec_average_ticket(s, actor, kw, arg, fmt) -> Spec:
    rows = [(i, ty, a) for i, ty, a in rv.revenue_rows(s, actor, **kw, by="month") if ty == "sale"]
    total = sum(a for _, _, a in rows)
    avg = fmt.money(rv._div_half_up(total, len(rows))) if rows else "—"
    return Spec("Checkouts (sales)", "ledger", [i for i, _, _ in rows], {i: ("sale", fmt.money(a)) for i, _, a in rows},
                 f"{len(rows):,} checkouts, sales {fmt.money(total)} = {avg} average ticket")


def _spec_revenue_per_client(s, actor, kw, arg, fmt) -> Spec:
    t = rv.ticket_summary(s, actor, **kw)
    rows = rv.revenue_rows(s, actor, **kw, by="month")
    total = sum(a for _, _, a in rows)
    per = fmt.money(rv._div_half_up(total, t.clients)) if t.clients else "—"
    return Spec("Ledger lines and their clients", "ledger", [i for i, _, _ in rows],
                 {i: (_status(ty), fmt.money(a)) for i, ty, a in rows},
                 f"{len(rows):,} ledger lines of {t.clients:,} clients, net {fmt.money(total)} = {per} per client")


def _spec_category(s, actor, kw, arg, fmt) -> Spec | None:
    w_start, w_end = trend_window(kw["end"])
    inner = {**kw, "start": w_start, "end": w_end}
    if not isinstance(arg, str) or arg not in {x.key for x in rv.revenue(s, actor, **inner, by="category")}:
        return None
    rows = rv.revenue_rows(s, actor, **inner, by="category", key=arg)
    return Spec(f"{arg}: ledger lines, {w_start:%b %Y} – {w_end:%b %Y}", "ledger", [i for i, _, _ in rows],
                 {i: (_status(ty), fmt.money(a)) for i, ty, a in rows},
                 f"{len(rows):,} ledger lines, net {fmt.money(sum(a for _, _, a in rows))}")


def _spec_top_service(s, actor, kw, arg, fmt) -> Spec | None:
    sid = _int(arg)
    match = [t for t in rv.top_services(s, actor, **kw, limit=100) if t.service_id == sid]
    if not match:
        return None
    rows = rv.top_service_rows(s, actor, **kw, service_id=sid)
    return Spec(f"{match[0].name}: checkouts", "ledger", [i for i, _, _ in rows],
                 {i: ("sale", fmt.money(a)) for i, _, a in rows},
                 f"{len(rows):,} checkouts, sales {fmt.money(sum(a for _, _, a in rows))}")


def _spec_resource(s, actor, kw, arg, fmt) -> Spec | None:
    rid = _int(arg)
    match = [u for kind in an.RESOURCE_KINDS for u in an.resource_utilization(s, actor, **kw, kind=kind)
             if u.resource_id == rid]
    if not match:
        return None
    u = match[0]
    rows = an.resource_utilization_rows(s, actor, **kw, resource_id=u.resource_id)
    total = sum(m for _, m in rows)
    return Spec(f"{u.name}: booked minutes", "appointment", [i for i, _ in rows],
                 {i: ("booked", f"{m} min") for i, m in rows},
                 f"{len(rows):,} visits, {total:,} booked minutes of {u.available_minutes:,} open "
                 f"= {fmt.pct(an._ratio(total, u.available_minutes))}")


def _month_point(s, actor, kw, month: str) -> tr.TrendPoint | None:
    w_start, w_end = trend_window(kw["end"])
    return next((p for p in tr.monthly_trend(s, actor, **{**kw, "start": w_start, "end": w_end})
                 if p.month == month), None)


def _spec_month(kind: str):
    def spec(s, actor, kw, arg, fmt) -> Spec | None:
        p = _month_point(s, actor, kw, arg) if isinstance(arg, str) and len(arg) == 7 else None
        if p is None:
            return None
        inner = {**kw, "start": p.start, "end": p.end}
        base = {"no_show": _spec_no_show, "cancellations": _spec_cancellations, "rebooking": _spec_rebooking}[kind]
        out = base(s, actor, inner, "", fmt)
        return Spec(f"{out.title}, {p.start:%B %Y}", out.kind, out.ids, out.notes, out.summary)
    return spec


def _spec_retention(s, actor, kw, arg, fmt) -> Spec | None:
    parts = arg.split(":") if isinstance(arg, str) else []
    if len(parts) != 2 or _int(parts[1]) not in co.WINDOWS:
        return None
    month, days = parts[0], int(parts[1])
    r_start, r_end = retention_window(kw["end"])
    try:
        rows = co.retention_rows(s, actor, **{**kw, "start": r_start, "end": r_end}, month=month, within_days=days)
    except ValueError:
        return None
    back = sum(1 for _, _, r in rows if r)
    return Spec(f"Clients of the {month} cohort (their first visit)", "appointment", [a for _, a, _ in rows],
                 {a: ("first visit", f"back within {days} days" if r else "not back") for _, a, r in rows},
                 f"{len(rows):,} clients, {back:,} came back within {days} days = {fmt.pct(an._ratio(back, len(rows)))}")


def _spec_hour(s, actor, kw, arg, fmt) -> Spec | None:
    parts = arg.split("-") if isinstance(arg, str) else []
    if len(parts) != 2 or not all(_int(x) is not None for x in parts):
        return None
    wd, hour = int(parts[0]), int(parts[1])
    if not (0 <= wd <= 6 and 0 <= hour <= 23):
        return None
    ids = tr.busiest_hours_rows(s, actor, **kw, weekday=wd, hour=hour)
    return Spec(f"Visits starting {WEEKDAYS[wd]} {hour:02d}:00-{hour:02d}:59", "appointment", ids,
                 {i: ("booked", "") for i in ids}, f"{len(ids):,} visits")


DRILLS: dict[str, Callable[[Session, Actor, dict, str, _Fmt], Spec | None]] = {
    "no_show": _spec_no_show,
    "cancellations": _spec_cancellations,
    "booked_util": lambda s, a, kw, arg, fmt: _util_spec(s, a, kw, fmt, False, None),
    "attended_util": lambda s, a, kw, arg, fmt: _util_spec(s, a, kw, fmt, True, None),
    "provider_util": lambda s, a, kw, arg, fmt: _util_spec(s, a, kw, fmt, False, _int(arg)) if _int(arg) else None,
    "rebooking": _spec_rebooking,
    "new_clients": _spec_new_clients,
    "net_revenue": _spec_revenue,
    "average_ticket": _spec_average_ticket,
    "revenue_per_client": _spec_revenue_per_client,
    "revenue_category": _spec_category,
    "top_service": _spec_top_service,
    "resource_util": _spec_resource,
    "month_no_show": _spec_month("no_show"),
    "month_cancellations": _spec_month("cancellations"),
    "month_rebooking": _spec_month("rebooking"),
    "hour": _spec_hour,
    "retention": _spec_retention,
}


@dataclass(frozen=True)
class Drill:
    """The rows behind one figure; `summary` restates the figure their count or sum equals.

    rows: display rows in the figure's order (client names: protected health information);
    notes: row id -> (what it counts as, value)."""

    key: str
    arg: str
    title: str
    summary: str
    rows: list[dt.DetailRow]
    notes: dict[int, tuple[str, str]]


def drill(s: Session, actor: Actor, key: str, arg: str, *, start: date, end: date, location_id: int | None,
          now: datetime, export: bool) -> Drill:
    """The rows behind figure `key` (+ `arg`, e.g. a provider id, "2026-05", "0-10"), audited
    once in this session (report.drill, or report.export when `export`). Raises UnknownFigure
    for an unknown key or argument, PermissionDenied without report.read."""
    kw = {"start": start, "end": end, "location_id": location_id, "now": now}
    fn = DRILLS.get(key) if isinstance(key, str) else None
    spec = fn(s, actor, kw, arg, _Fmt(clinic_currency(s, actor.org_id))) if fn else None
    if spec is None:
        raise UnknownFigure(key)
    figure = f"{key}:{arg}" if arg else key
    load = dt.ledger_details if spec.kind == "ledger" else dt.appointment_details
    rows = load(s, actor, spec.ids, figure=figure, now=now, export=export,
                filters={"start": start, "end": end, "location_id": location_id})
    return Drill(key, arg, spec.title, spec.summary, rows, spec.notes)
