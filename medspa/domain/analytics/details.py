"""The rows behind a dashboard figure, as an owner reads them (date, client, service, ...).

The analytics reports return ids (appointment ids, ledger entry ids) for each figure; these
functions turn a list of ids into display rows in one query (`= ANY(:ids)`), in the order the
ids were given. Times are local at the visit's location (a ledger entry without a visit: UTC).

The rows carry client names (protected health information), so every call needs
`report.read` and writes ONE audit row in the caller's transaction: action "report.drill"
(opened on screen) or "report.export" (downloaded), with the figure's key, the filter and the
row count, and the ids of the clients listed (detail.client_ids) so the trail can answer
"who saw this client's visits".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import text
from sqlmodel import Session

from medspa.domain.analytics.common import PERMISSION
from medspa.domain.audit.service import record
from medspa.domain.identity.actor import Actor

MAX_IDS = 200_000  # one drill or export; a larger list is refused, not truncated


@dataclass(frozen=True)
class DetailRow:
    """One visit or one ledger line behind a figure."""

    kind: str  # "appointment" or "ledger"
    id: int  # appointment id or ledger entry id
    local_time: str  # "YYYY-MM-DD HH:MM" in the location's zone (ledger: when the entry was written)
    client_id: int | None
    client: str  # "First Last", "" for a visit without a client
    service: str
    category: str
    provider: str
    location: str
    status: str  # appointment status, or the ledger entry type
    minutes: int  # the visit's service minutes (start..end, buffers excluded)
    amount_cents: int  # ledger: the entry's amount; appointment: 0
    appointment_id: int | None


_APPOINTMENTS = """
    SELECT a.id, to_char(a.start_at AT TIME ZONE l.time_zone, 'YYYY-MM-DD HH24:MI'), a.client_id,
           coalesce(c.first_name || ' ' || c.last_name, ''), s.name, s.category, coalesce(sm.display_name, ''),
           l.name, a.status, (EXTRACT(EPOCH FROM a.end_at - a.start_at) / 60)::bigint
    FROM appointment a
    JOIN location l ON l.id = a.location_id
    JOIN service s ON s.id = a.service_id
    LEFT JOIN staff_member sm ON sm.id = a.provider_id
    LEFT JOIN client c ON c.id = a.client_id
    WHERE a.id = ANY(CAST(:ids AS bigint[]))"""

_LEDGER = """
    SELECT e.id, to_char(e.created_at AT TIME ZONE coalesce(l.time_zone, 'UTC'), 'YYYY-MM-DD HH24:MI'),
           coalesce(e.client_id, a.client_id), coalesce(c.first_name || ' ' || c.last_name, ''),
           coalesce(s.name, ''), coalesce(s.category, ''), coalesce(sm.display_name, ''), coalesce(l.name, ''),
           e.entry_type, coalesce((EXTRACT(EPOCH FROM a.end_at - a.start_at) / 60)::bigint, 0), e.amount_cents,
           e.appointment_id
    FROM ledger_entry e
    LEFT JOIN appointment a ON a.id = e.appointment_id
    LEFT JOIN location l ON l.id = a.location_id
    LEFT JOIN service s ON s.id = a.service_id
    LEFT JOIN staff_member sm ON sm.id = a.provider_id
    LEFT JOIN client c ON c.id = coalesce(e.client_id, a.client_id)
    WHERE e.id = ANY(CAST(:ids AS bigint[]))"""


def _ids(ids: Iterable[int]) -> list[int]:
    out = [int(i) for i in ids]
    if len(out) > MAX_IDS:
        raise ValueError(f"at most {MAX_IDS:,} rows in one drill-down")
    return out


def _audit(session: Session, actor: Actor, rows: Sequence[DetailRow], *, figure: str, now: datetime,
           export: bool, filters: dict | None) -> None:
    clients = sorted({r.client_id for r in rows if r.client_id is not None})
    record(session, actor, "report.export" if export else "report.drill", "report", figure, at=now,
           rows=len(rows), client_ids=clients, **{k: str(v) if v is not None else None
                                                 for k, v in (filters or {}).items()})


def appointment_details(session: Session, actor: Actor, ids: Iterable[int], *, figure: str, now: datetime,
                        export: bool = False, filters: dict | None = None) -> list[DetailRow]:
    """Display rows for appointment `ids` (in that order; unknown ids are skipped), audited once.

    `figure` is the dashboard figure's key (e.g. "no_show"); `filters` (start, end, location)
    go into the audit row as text; `export` marks a download instead of an on-screen drill."""
    actor.require(PERMISSION)
    wanted = _ids(ids)
    found = {r[0]: r for r in session.execute(text(_APPOINTMENTS), {"ids": wanted}).all()} if wanted else {}
    rows = [DetailRow("appointment", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], int(r[9]), 0, r[0])
            for r in (found[i] for i in wanted if i in found)]
    _audit(session, actor, rows, figure=figure, now=now, export=export, filters=filters)
    return rows


def ledger_details(session: Session, actor: Actor, ids: Iterable[int], *, figure: str, now: datetime,
                   export: bool = False, filters: dict | None = None) -> list[DetailRow]:
    """Display rows for ledger entry `ids` (in that order; unknown ids are skipped), audited once."""
    actor.require(PERMISSION)
    wanted = _ids(ids)
    found = {r[0]: r for r in session.execute(text(_LEDGER), {"ids": wanted}).all()} if wanted else {}
    rows = [DetailRow("ledger", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], int(r[9]), int(r[10]), r[11])
            for r in (found[i] for i in wanted if i in found)]
    _audit(session, actor, rows, figure=figure, now=now, export=export, filters=filters)
    return rows
