"""The dashboard's calls into the analytics services, one transaction each (run in a worker thread).

No Reflex here: the state awaits these with asyncio.to_thread and keeps plain values.

- `summary`: the headline tiles (each with its change against the previous period of the
  same number of days) and the data of every chart;
- `drill`: the rows behind one figure (a tile, a bar, a month, a heatmap cell), as dated rows
  with client, service, provider and location (analytics.details, audited once); the summary
  line restates the figure and the total of ALL rows (count or sum equal to the figure);
- `drill_csv` / `report_csv`: the same rows, or a chart's figures, as CSV (RFC 4180, the
  audit page's formula guard).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Callable, Iterable

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from medspa.db import tenant_session
from medspa.domain.analytics import details as dt
from medspa.domain.analytics import service as an
from medspa.domain.analytics.definitions import DEFINITIONS
from medspa.domain.audit.query import csv_cell
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location, StaffMember

GOOD, BAD, NEUTRAL = "good", "bad", "neutral"


# --------------------------------------------------------------------------- formatting


def pct(ratio: float | None) -> str:
    """0.0862 -> "8.6%"; None (nothing to divide by) -> "—"."""
    return "—" if ratio is None else f"{ratio * 100:.1f}%"


def money(cents: int) -> str:
    """Integer cents as dollars with two decimals: -1234 -> "-$12.34"."""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) / 100:,.2f}"


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def change(kind: str, current: float | int | None, previous: float | int | None, *, higher_is_better: bool,
           days: int) -> tuple[str, str]:
    """(text, tone) of a figure's change against the previous `days` days.

    kind "rate": the difference in percentage points ("▲ 1.2 pts"); "count"/"money": the
    change in percent ("▼ 12.5%"). tone is good/bad by `higher_is_better`, neutral when
    unchanged or not comparable. The previous value follows in brackets."""
    period = f"vs previous {_days(days)}"
    if kind == "rate":
        if current is None or previous is None:
            return (f"no visits to compare {period}" if previous is None else f"— {period}", NEUTRAL)
        delta = round((current - previous) * 100, 1)
        was = pct(previous)
        size = f"{abs(delta):.1f} pts"
    else:
        previous, current = previous or 0, current or 0
        was = money(int(previous)) if kind == "money" else f"{previous:,}"
        if previous == 0:
            if current == 0:
                return f"= same as previous {_days(days)}", NEUTRAL
            delta, size = float(current), "new"
        else:
            delta = round((current - previous) / abs(previous) * 100, 1)
            size = f"{abs(delta):.1f}%"
    if delta == 0:
        return f"= same as previous {_days(days)} ({was})", NEUTRAL
    arrow = "▲" if delta > 0 else "▼"
    tone = GOOD if (delta > 0) == higher_is_better else BAD
    return f"{arrow} {size} {period} ({was})", tone


def previous_range(start: date, end: date) -> tuple[date, date]:
    """The same number of days immediately before start..end (both inclusive)."""
    n = (end - start).days + 1
    return start - timedelta(days=n), start - timedelta(days=1)


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: str
    change: str
    tone: str  # good / bad / neutral
    detail: str
    definition: str
    group: str  # visits / clients / money


@dataclass(frozen=True)
class Summary:
    tiles: list[Tile]
    previous: tuple[date, date]
    utilization: list[dict] = field(default_factory=list)  # {"id", "name", "booked", "attended"} percent
    revenue: list[dict] = field(default_factory=list)  # {"month", "deposits", "refunds", "net"} dollars
    reports: dict[str, tuple[list[str], list[list]]] = field(default_factory=dict)  # name -> (header, rows)


@dataclass(frozen=True)
class _Figures:
    """The raw numbers of the headline tiles for one period."""

    no_show: an.NoShowRate
    cancellations: an.Cancellations
    available: int
    booked: int
    attended: int
    rebooking: an.Rebooking
    new_clients: int
    deposits_cents: int
    refunds_cents: int
    net_cents: int


def _figures(s: Session, actor: Actor, kw: dict) -> tuple[_Figures, list, list]:
    util = an.utilization(s, actor, **kw)
    rev = an.revenue(s, actor, **kw, by="month")
    return _Figures(
        no_show=an.no_show_rate(s, actor, **kw),
        cancellations=an.cancellations(s, actor, **kw),
        available=sum(u.available_minutes for u in util),
        booked=sum(u.booked_minutes for u in util),
        attended=sum(u.attended_minutes for u in util),
        rebooking=an.rebooking(s, actor, **kw),
        new_clients=an.new_clients(s, actor, **kw).count,
        deposits_cents=sum(x.deposits_cents for x in rev),
        refunds_cents=sum(x.refunds_cents for x in rev),
        net_cents=sum(x.net_cents for x in rev),
    ), util, rev


def _tiles(cur: _Figures, prev: _Figures, days: int) -> list[Tile]:
    d = DEFINITIONS

    def tile(key, label, group, value, kind, now_v, prev_v, better_up, detail) -> Tile:
        text, tone = change(kind, now_v, prev_v, higher_is_better=better_up, days=days)
        return Tile(key, label, value, text, tone, detail, d[key], group)

    booked, attended = an._ratio(cur.booked, cur.available), an._ratio(cur.attended, cur.available)
    return [
        tile("no_show", "No-show rate", "visits", pct(cur.no_show.rate), "rate", cur.no_show.rate,
             prev.no_show.rate, False, f"{cur.no_show.no_shows} no-shows of {cur.no_show.due} due"),
        tile("cancellations", "Cancellations", "visits", f"{cur.cancellations.count:,}", "count",
             cur.cancellations.count, prev.cancellations.count, False,
             f"{cur.cancellations.late} late · {cur.cancellations.early} early"),
        tile("booked_util", "Booked utilization", "visits", pct(booked), "rate", booked,
             an._ratio(prev.booked, prev.available), True, f"{cur.booked:,} of {cur.available:,} min"),
        tile("attended_util", "Attended utilization", "visits", pct(attended), "rate", attended,
             an._ratio(prev.attended, prev.available), True, f"{cur.attended:,} of {cur.available:,} min"),
        tile("rebooking", "Rebooking rate", "clients", pct(cur.rebooking.rate), "rate", cur.rebooking.rate,
             prev.rebooking.rate, True,
             f"{cur.rebooking.rebooked} of {cur.rebooking.visits} visits · "
             f"{cur.rebooking.rebooked_before_leaving} before leaving"),
        tile("new_clients", "New clients", "clients", f"{cur.new_clients:,}", "count", cur.new_clients,
             prev.new_clients, True, "first completed visit"),
        tile("net_revenue", "Net revenue", "money", money(cur.net_cents), "money", cur.net_cents, prev.net_cents,
             True, f"{money(cur.deposits_cents)} in · {money(cur.refunds_cents)} back"),
    ]


def _kw(start: date, end: date, location_id: int | None, now: datetime) -> dict:
    return {"start": start, "end": end, "location_id": location_id, "now": now}


def locations(engine: Engine, actor: Actor) -> list[tuple[int, str, str]]:
    """(id, name, IANA zone) of the clinic's locations (report.read)."""
    actor.require(an.PERMISSION)
    with tenant_session(actor.org_id, engine) as s:
        return [(r.id, r.name, r.time_zone) for r in
                s.execute(select(Location.id, Location.name, Location.time_zone).order_by(Location.name, Location.id)).all()]


def _compute(s: Session, actor: Actor, kw: dict) -> Summary:
    start, end = kw["start"], kw["end"]
    p_start, p_end = previous_range(start, end)
    cur, util, rev = _figures(s, actor, kw)
    prev, _, _ = _figures(s, actor, {**kw, "start": p_start, "end": p_end})
    names = dict(s.execute(select(StaffMember.id, StaffMember.display_name)).all())
    tiles = _tiles(cur, prev, (end - start).days + 1)
    chart_util = [{"id": str(u.provider_id), "name": names.get(u.provider_id, f"#{u.provider_id}"),
                   "booked": round((u.booked or 0) * 100, 1), "attended": round((u.attended or 0) * 100, 1)}
                  for u in util if u.available_minutes or u.booked_minutes]
    chart_rev = [{"month": x.key, "deposits": x.deposits_cents / 100, "refunds": x.refunds_cents / 100,
                  "net": x.net_cents / 100} for x in rev]
    reports = {
        "tiles": (["figure", "value", "change", "detail", "definition"],
                  [[t.label, t.value, t.change, t.detail, t.definition] for t in tiles]),
        "utilization": (["provider", "available_minutes", "booked_minutes", "attended_minutes", "booked_pct",
                         "attended_pct"],
                        [[names.get(u.provider_id, f"#{u.provider_id}"), u.available_minutes, u.booked_minutes,
                          u.attended_minutes, _pct_num(u.booked), _pct_num(u.attended)] for u in util]),
        "revenue": (["month", "deposits", "refunds", "net"],
                    [[x.key, _dollars(x.deposits_cents), _dollars(x.refunds_cents), _dollars(x.net_cents)]
                     for x in rev]),
    }
    return Summary(tiles, (p_start, p_end), chart_util, chart_rev, reports)


def _pct_num(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio * 100:.1f}"


def _dollars(cents: int) -> Decimal:
    """Cents as an exact dollar amount for CSV: -5000 -> Decimal("-50.00")."""
    return Decimal(cents).scaleb(-2)


def summary(engine: Engine, actor: Actor, *, start: date, end: date, location_id: int | None, now: datetime) -> Summary:
    """The tiles (with the previous period) and every chart's data for the filter."""
    with tenant_session(actor.org_id, engine) as s:
        return _compute(s, actor, _kw(start, end, location_id, now))


REPORTS = ("tiles", "utilization", "revenue")


def report_csv(engine: Engine, actor: Actor, name: str, *, start: date, end: date, location_id: int | None,
               now: datetime) -> str:
    """One chart's figures (no client names) as CSV text."""
    if name not in REPORTS:
        raise ValueError(f"unknown report {name!r}")
    header, rows = summary(engine, actor, start=start, end=end, location_id=location_id, now=now).reports[name]
    return to_csv(header, rows)


def to_csv(header: list[str], rows: Iterable[Iterable]) -> str:
    """RFC 4180 text (CRLF, quoted where needed); text cells that look like a formula get a
    leading quote (the audit export's guard); numbers (a negative amount) are written as is."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow([csv_cell(h) for h in header])
    for row in rows:
        w.writerow([c if isinstance(c, (int, float, Decimal)) else csv_cell(c) for c in row])
    return buf.getvalue()


# --------------------------------------------------------------------------- drill-down


@dataclass(frozen=True)
class DrillLine:
    """One row of a drill-down as shown: the visit (or ledger line) and what it counts for."""

    when: str
    client: str
    service: str
    provider: str
    location: str
    what: str
    value: str


@dataclass(frozen=True)
class Drill:
    key: str
    arg: str
    title: str
    summary: str  # restates the figure and the total of all rows
    lines: list[DrillLine]
    rows: list[dt.DetailRow]
    notes: dict[int, tuple[str, str]]  # row id -> (what, value)


@dataclass(frozen=True)
class _Spec:
    """What a figure's drill needs: its rows (ids + notes), how to say the total, the title."""

    title: str
    kind: str  # appointment / ledger
    ids: list[int]
    notes: dict[int, tuple[str, str]]
    summary: str


def _status(st: str) -> str:
    return st.replace("_", " ")


def _spec_no_show(s, actor, kw, arg) -> _Spec:
    rows = an.no_show_rows(s, actor, **kw)
    n = sum(1 for _, st in rows if st == "no_show")
    return _Spec("Visits that were due", "appointment", [i for i, _ in rows],
                 {i: (_status(st), "") for i, st in rows},
                 f"{len(rows):,} visits due, {n:,} no-shows = {pct(an._ratio(n, len(rows)))}")


def _spec_cancellations(s, actor, kw, arg) -> _Spec:
    rows = an.cancellation_rows(s, actor, **kw)
    late = sum(1 for _, lt in rows if lt)
    return _Spec("Cancellations", "appointment", [i for i, _ in rows],
                 {i: ("cancelled", "late" if lt else "early") for i, lt in rows},
                 f"{len(rows):,} cancellations, {late:,} late")


def _util_spec(s, actor, kw, attended: bool, provider: int | None) -> _Spec:
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
    return _Spec(f"{what} minutes", "appointment", ids, notes,
                 f"{len(ids):,} visits, {total:,} {what.lower()} minutes of {avail:,} available "
                 f"= {pct(an._ratio(total, avail))}")


def _spec_rebooking(s, actor, kw, arg) -> _Spec:
    rows = an.rebooking_rows(s, actor, **kw)
    n = sum(1 for _, r, _ in rows if r)
    return _Spec("Completed visits and their rebooking", "appointment", [i for i, _, _ in rows],
                 {i: ("rebooked" if r else "not rebooked", "before leaving" if b else "") for i, r, b in rows},
                 f"{len(rows):,} completed visits, {n:,} rebooked = {pct(an._ratio(n, len(rows)))}")


def _spec_new_clients(s, actor, kw, arg) -> _Spec:
    rows = an.new_client_rows(s, actor, **kw)
    return _Spec("New clients (their first completed visit)", "appointment", [a for _, a in rows],
                 {a: ("first visit", "") for _, a in rows}, f"{len(rows):,} new clients")


def _spec_revenue(s, actor, kw, arg) -> _Spec:
    rows = an.revenue_rows(s, actor, **kw, by="month")
    return _Spec("Ledger lines", "ledger", [i for i, _, _ in rows], {i: (_status(t), money(a)) for i, t, a in rows},
                 f"{len(rows):,} ledger lines, net {money(sum(a for _, _, a in rows))}")


def _int(arg: str) -> int | None:
    return int(arg) if isinstance(arg, str) and arg.isdigit() and len(arg) < 12 else None


DRILLS: dict[str, Callable[[Session, Actor, dict, str], _Spec | None]] = {
    "no_show": _spec_no_show,
    "cancellations": _spec_cancellations,
    "booked_util": lambda s, a, kw, arg: _util_spec(s, a, kw, False, None),
    "attended_util": lambda s, a, kw, arg: _util_spec(s, a, kw, True, None),
    "provider_util": lambda s, a, kw, arg: _util_spec(s, a, kw, False, _int(arg)) if _int(arg) else None,
    "rebooking": _spec_rebooking,
    "new_clients": _spec_new_clients,
    "net_revenue": _spec_revenue,
}
TILE_KEYS = ("no_show", "cancellations", "booked_util", "attended_util", "rebooking", "new_clients", "net_revenue")


class UnknownFigure(ValueError):
    """The key (or its argument) names no figure of the dashboard."""


def _line(r: dt.DetailRow, note: tuple[str, str]) -> DrillLine:
    return DrillLine(r.local_time, r.client or "—", r.service, r.provider, r.location, note[0], note[1])


def _drill(s: Session, actor: Actor, key: str, arg: str, kw: dict, *, export: bool) -> Drill:
    fn = DRILLS.get(key)
    spec = fn(s, actor, kw, arg) if fn else None
    if spec is None:
        raise UnknownFigure(key)
    figure = f"{key}:{arg}" if arg else key
    filters = {"start": kw["start"], "end": kw["end"], "location_id": kw["location_id"]}
    load = dt.ledger_details if spec.kind == "ledger" else dt.appointment_details
    rows = load(s, actor, spec.ids, figure=figure, now=kw["now"], export=export, filters=filters)
    lines = [_line(r, spec.notes.get(r.id, ("", ""))) for r in rows]
    return Drill(key, arg, spec.title, spec.summary, lines, rows, spec.notes)


def drill(engine: Engine, actor: Actor, key: str, arg: str = "", *, start: date, end: date, location_id: int | None,
          now: datetime) -> Drill:
    """The rows behind figure `key` (+ `arg`, e.g. a provider id); one report.drill audit row."""
    with tenant_session(actor.org_id, engine) as s:
        d = _drill(s, actor, key, arg, _kw(start, end, location_id, now), export=False)
        s.commit()
        return d


DRILL_HEADER = ["local_time", "client", "service", "category", "provider", "location", "status", "counts_as",
                "detail", "minutes", "amount", "appointment_id", "row_id"]


def drill_csv(engine: Engine, actor: Actor, key: str, arg: str = "", *, start: date, end: date,
              location_id: int | None, now: datetime) -> tuple[str, int]:
    """(CSV text of ALL rows behind the figure, row count); one report.export audit row."""
    with tenant_session(actor.org_id, engine) as s:
        d = _drill(s, actor, key, arg, _kw(start, end, location_id, now), export=True)
        s.commit()
    body = to_csv(DRILL_HEADER, ([r.local_time, r.client, r.service, r.category, r.provider, r.location,
                                  _status(r.status), *d.notes.get(r.id, ("", "")), r.minutes,
                                  _dollars(r.amount_cents) if r.kind == "ledger" else "", r.appointment_id or "",
                                  f"{r.kind}-{r.id}"] for r in d.rows))
    return body, len(d.rows)
