"""Revenue reports (integer cents) from the client ledger; definitions in definitions.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlmodel import Session

from medspa.domain.analytics.common import PERMISSION, _params
from medspa.domain.identity.actor import Actor

REVENUE_GROUPS = {"month": "to_char((e.created_at AT TIME ZONE l.time_zone), 'YYYY-MM')",
                  "category": "s.category", "provider": "a.provider_id::text", "location": "a.location_id::text"}

_LEDGER = """
    FROM ledger_entry e JOIN appointment a ON a.id = e.appointment_id
    JOIN location l ON l.id = a.location_id JOIN service s ON s.id = a.service_id
    WHERE (e.created_at AT TIME ZONE l.time_zone)::date BETWEEN :start AND :end
      AND (CAST(:loc AS bigint) IS NULL OR a.location_id = CAST(:loc AS bigint))
"""


@dataclass(frozen=True)
class RevenueLine:
    """One group's money in integer cents: net = deposits - refunds."""

    key: str
    deposits_cents: int
    refunds_cents: int

    @property
    def net_cents(self) -> int:
        return self.deposits_cents - self.refunds_cents


def revenue(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
            now: datetime, by: str = "month") -> list[RevenueLine]:
    """Deposits, refunds and net by month (local), category, provider or location.

    Today only deposits exist, so revenue = deposits kept (deposits - refunds); see the
    module docstring for how sales will net the deposits they absorb."""
    actor.require(PERMISSION)
    if by not in REVENUE_GROUPS:
        raise ValueError(f"revenue by {by!r}: one of {sorted(REVENUE_GROUPS)}")
    key = REVENUE_GROUPS[by]
    rows = session.execute(text(f"""
        SELECT {key} AS k,
               coalesce(sum(e.amount_cents) FILTER (WHERE e.entry_type = 'deposit_paid'), 0),
               coalesce(-sum(e.amount_cents) FILTER (WHERE e.amount_cents < 0), 0)
        {_LEDGER} GROUP BY k ORDER BY k"""), _params(start, end, location_id)).all()
    return [RevenueLine(r[0], int(r[1]), int(r[2])) for r in rows]


def revenue_rows(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                 now: datetime, by: str = "month", key: str | None = None) -> list[tuple[int, str, int]]:
    """(ledger entry id, entry type, amount cents) behind a revenue line (or all lines)."""
    actor.require(PERMISSION)
    if by not in REVENUE_GROUPS:
        raise ValueError(f"revenue by {by!r}: one of {sorted(REVENUE_GROUPS)}")
    extra = f" AND {REVENUE_GROUPS[by]} = :key" if key is not None else ""
    return [(r[0], r[1], int(r[2])) for r in session.execute(text(f"""
        SELECT e.id, e.entry_type, e.amount_cents {_LEDGER}
          AND (e.entry_type = 'deposit_paid' OR e.amount_cents < 0){extra} ORDER BY e.id"""),
        _params(start, end, location_id, key=key)).all()]
