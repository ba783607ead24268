"""Use cases of the audit page (audit.read: owner only): one transaction each.

Reads of the trail are themselves audited (audit.search, audit.export) in the same
transaction; the client box's search is a client search (audited by the clients service).
Every action checks audit.read first and raises PermissionDenied without it. `engine` is for
tests (None: the app's engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Engine

from medspa.domain.audit.query import (
    AuditFilterOptions, AuditPage, audit_filter_options, export_audit_csv, search_audit)
from medspa.domain.clients.service import search_clients
from medspa.domain.identity.actor import Actor
from medspa.domain.work import atomic

PERMISSION = "audit.read"
CLIENT_HITS = 8  # suggestions under the client box


class ExportTooLarge(Exception):
    """More rows match than one download may hold (the attempt stays audited)."""


@dataclass(frozen=True)
class ClientHit:
    """A client the audit filter can be narrowed to: id, "First Last", email or phone."""

    id: int
    name: str
    hint: str


def fetch_audit_options(actor: Actor, *, engine: Engine | None = None) -> AuditFilterOptions:
    """What the filter bar offers: the clinic's staff logins and its locations with their zones."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return audit_filter_options(work.session, actor)


def fetch_audit_page(actor: Actor, *, now: datetime, engine: Engine | None = None, **filters) -> AuditPage:
    """One page of the trail (domain.audit.query.search_audit: client_id, actor_user_id,
    start, end, time_zone, limit, offset, before_id); writes the audit.search row. Raises
    ValidationFailed for a filter it cannot use."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return search_audit(work.session, actor, now=now, **filters)


def fetch_audit_csv(actor: Actor, *, now: datetime, max_rows: int, client_id: int | None,
                    actor_user_id: int | None, start: date | None, end: date | None, time_zone: str,
                    engine: Engine | None = None) -> tuple[str, int]:
    """(CSV text, data rows) of the whole filtered trail, with its audit.export row.

    Raises ExportTooLarge past `max_rows` rows; the refused attempt is committed (audited) first."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        lines = export_audit_csv(work.session, actor, now=now, client_id=client_id, actor_user_id=actor_user_id,
                                 start=start, end=end, time_zone=time_zone)
        parts: list[str] = []
        for line in lines:
            parts.append(line)
            if len(parts) > max_rows + 1:
                break
        lines.close()
    if len(parts) > max_rows + 1:
        raise ExportTooLarge(max_rows)
    return "".join(parts), len(parts) - 1


def fetch_client_hits(actor: Actor, query: str, *, engine: Engine | None = None) -> list[ClientHit]:
    """Clients matching `query` (name, email or phone) for the audit filter, at most CLIENT_HITS."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return [ClientHit(c.id, f"{c.first_name} {c.last_name}", c.email or c.phone_e164 or "")
                for c in search_clients(work.session, actor, query, limit=CLIENT_HITS)]
