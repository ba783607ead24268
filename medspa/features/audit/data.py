"""The audit page's calls into the domain, one transaction each (run in a worker thread).

No Reflex here: the state awaits these with asyncio.to_thread and keeps what they return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Engine

from medspa.db import tenant_session
from medspa.domain.audit.query import AuditFilterOptions, AuditPage, audit_filter_options, export_audit_csv, search_audit
from medspa.domain.clients.service import search_clients
from medspa.domain.identity.actor import Actor


class ExportTooLarge(Exception):
    """More rows match than one download may hold."""


@dataclass(frozen=True)
class ClientHit:
    id: int
    name: str
    hint: str


def options(engine: Engine, actor: Actor) -> AuditFilterOptions:
    with tenant_session(actor.org_id, engine) as s:
        return audit_filter_options(s, actor)


def search(engine: Engine, actor: Actor, *, now: datetime, **filters) -> AuditPage:
    with tenant_session(actor.org_id, engine) as s:
        page = search_audit(s, actor, now=now, **filters)
        s.commit()  # the audit.search row
        return page


def export(engine: Engine, actor: Actor, *, now: datetime, max_rows: int, client_id: int | None,
           actor_user_id: int | None, start: date | None, end: date | None, time_zone: str) -> tuple[str, int]:
    """(CSV text, data rows); raises ExportTooLarge past max_rows (the attempt stays audited)."""
    with tenant_session(actor.org_id, engine) as s:
        lines = export_audit_csv(s, actor, now=now, client_id=client_id, actor_user_id=actor_user_id, start=start,
                                 end=end, time_zone=time_zone)
        parts: list[str] = []
        for line in lines:
            parts.append(line)
            if len(parts) > max_rows + 1:
                break
        lines.close()
        s.commit()  # the audit.export row, also for a refused (too large) export
        if len(parts) > max_rows + 1:
            raise ExportTooLarge(max_rows)
        return "".join(parts), len(parts) - 1


def clients_matching(engine: Engine, actor: Actor, query: str) -> list[ClientHit]:
    with tenant_session(actor.org_id, engine) as s:
        rows = search_clients(s, actor, query, limit=8)
        hits = [ClientHit(c.id, f"{c.first_name} {c.last_name}", c.email or c.phone_e164 or "") for c in rows]
        s.commit()
        return hits
