"""The dashboard's calls into the analytics service, one transaction each (run in a worker thread).

No Reflex and no SQL here beyond the service calls: the state awaits these with
asyncio.to_thread and keeps plain values. Every figure comes with the key of its drill-down,
and `drill` returns the rows behind that figure (their count or sum equals it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import select

from medspa.db import tenant_session
from medspa.domain.analytics import service as an
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location, StaffMember


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: str
    detail: str
    definition: str


@dataclass(frozen=True)
class Summary:
    tiles: list[Tile]
    utilization: list[dict] = field(default_factory=list)  # {"name", "booked", "attended"} in percent
    revenue: list[dict] = field(default_factory=list)  # {"month", "deposits", "refunds", "net"} in dollars


@dataclass(frozen=True)
class Drill:
    title: str
    summary: str
    rows: list[tuple[str, str, str]]  # (id label, what, value)


def _pct(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio * 100:.1f}%"


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) / 100:,.2f}"


def locations(engine: Engine, actor: Actor) -> list[tuple[int, str, str]]:
    """(id, name, IANA zone) of the clinic's locations (report.read)."""
    actor.require(an.PERMISSION)
    with tenant_session(actor.org_id, engine) as s:
        return [(r.id, r.name, r.time_zone) for r in
                s.execute(select(Location.id, Location.name, Location.time_zone).order_by(Location.name, Location.id)).all()]


def summary(engine: Engine, actor: Actor, *, start: date, end: date, location_id: int | None, now: datetime) -> Summary:
    kw = {"start": start, "end": end, "location_id": location_id, "now": now}
    d = an.DEFINITIONS
    with tenant_session(actor.org_id, engine) as s:
        ns = an.no_show_rate(s, actor, **kw)
        c = an.cancellations(s, actor, **kw)
        util = an.utilization(s, actor, **kw)
        rb = an.rebooking(s, actor, **kw)
        nc = an.new_clients(s, actor, **kw)
        rev = an.revenue(s, actor, **kw, by="month")
        names = dict(s.execute(select(StaffMember.id, StaffMember.display_name)).all())
    avail = sum(u.available_minutes for u in util)
    booked = sum(u.booked_minutes for u in util)
    attended = sum(u.attended_minutes for u in util)
    net = sum(line.net_cents for line in rev)
    tiles = [
        Tile("no_show", "No-show rate", _pct(ns.rate), f"{ns.no_shows} no-shows of {ns.due} due", d["no_show"]),
        Tile("cancellations", "Cancellations", str(c.count), f"{c.late} late · {c.early} early", d["cancellations"]),
        Tile("booked_util", "Booked utilization", _pct(an._ratio(booked, avail)),
             f"{booked:,} of {avail:,} min", d["booked_util"]),
        Tile("attended_util", "Attended utilization", _pct(an._ratio(attended, avail)),
             f"{attended:,} of {avail:,} min", d["attended_util"]),
        Tile("rebooking", "Rebooking rate", _pct(rb.rate),
             f"{rb.rebooked} of {rb.visits} visits · {rb.rebooked_before_leaving} before leaving", d["rebooking"]),
        Tile("new_clients", "New clients", str(nc.count), "first completed visit", d["new_clients"]),
        Tile("net_revenue", "Net deposits", _money(net),
             f"{_money(sum(x.deposits_cents for x in rev))} in · {_money(sum(x.refunds_cents for x in rev))} back",
             d["net_revenue"]),
    ]
    chart_util = [{"name": names.get(u.provider_id, f"#{u.provider_id}"),
                   "booked": round((u.booked or 0) * 100, 1), "attended": round((u.attended or 0) * 100, 1)}
                  for u in util]
    chart_rev = [{"month": x.key, "deposits": x.deposits_cents / 100, "refunds": x.refunds_cents / 100,
                  "net": x.net_cents / 100} for x in rev]
    return Summary(tiles, chart_util, chart_rev)


TILE_KEYS = ("no_show", "cancellations", "booked_util", "attended_util", "rebooking", "new_clients", "net_revenue")


def drill(engine: Engine, actor: Actor, key: str, *, start: date, end: date, location_id: int | None,
          now: datetime) -> Drill:
    """The rows behind tile `key`; the summary line restates the figure they add up to."""
    kw = {"start": start, "end": end, "location_id": location_id, "now": now}
    with tenant_session(actor.org_id, engine) as s:
        if key == "no_show":
            rows = an.no_show_rows(s, actor, **kw)
            n = sum(1 for _, st in rows if st == "no_show")
            return Drill("Visits that were due", f"{len(rows)} visits due, {n} no-shows",
                         [(f"Appointment #{i}", st.replace("_", " "), "") for i, st in rows])
        if key == "cancellations":
            rows = an.cancellation_rows(s, actor, **kw)
            return Drill("Cancellations", f"{len(rows)} cancellations, {sum(1 for _, lt in rows if lt)} late",
                         [(f"Appointment #{i}", "cancelled", "late" if lt else "early") for i, lt in rows])
        if key in ("booked_util", "attended_util"):
            out, total = [], 0
            for u in an.utilization(s, actor, **kw):
                for i, m in an.utilization_rows(s, actor, **kw, provider_id=u.provider_id,
                                                attended_only=key == "attended_util"):
                    out.append((f"Appointment #{i}", f"provider {u.provider_id}", f"{m} min"))
                    total += m
            what = "Attended" if key == "attended_util" else "Booked"
            return Drill(f"{what} minutes", f"{len(out)} appointments, {total:,} minutes", out)
        if key == "rebooking":
            rows = an.rebooking_rows(s, actor, **kw)
            return Drill("Completed visits and their rebooking",
                         f"{len(rows)} completed visits, {sum(1 for _, r, _ in rows if r)} rebooked",
                         [(f"Appointment #{i}", "rebooked" if r else "not rebooked",
                           "before leaving" if b else "") for i, r, b in rows])
        if key == "new_clients":
            rows = an.new_client_rows(s, actor, **kw)
            return Drill("New clients", f"{len(rows)} new clients",
                         [(f"Client #{c}", "first visit", f"appointment #{a}") for c, a in rows])
        if key == "net_revenue":
            rows = an.revenue_rows(s, actor, **kw, by="month")
            return Drill("Ledger entries", f"{len(rows)} entries, net {_money(sum(a for _, _, a in rows))}",
                         [(f"Ledger entry #{i}", t.replace("_", " "), _money(a)) for i, t, a in rows])
    raise ValueError(f"unknown figure {key!r}")
