"""Reading the audit trail: the owner's search and CSV export (permission `audit.read`).

Both the search and the export are themselves audited ("audit.search", "audit.export"), in
the caller's transaction. Dates are local days of the clinic's zone: a range [start, end]
covers start's local midnight up to the local midnight after `end` (DST-safe, see
medspa.domain.timezones). Rows come newest first (occurred_at desc, id desc), served by the
index ix_audit_event_org_occurred (org_id, occurred_at, id) from migration 0006.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, select
from sqlmodel import Session

from medspa.domain.audit.models import AuditEvent
from medspa.domain.audit.service import record
from medspa.domain.clients.models import Client
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.models import UserAccount
from medspa.domain.practice.models import Location
from medspa.domain.timezones import local_midnight

MAX_LIMIT = 500
EXPORT_BATCH = 1000
CSV_HEADER = ("id", "time", "time_zone", "actor", "role", "action", "object_type", "object_id", "client_id",
              "client", "ip", "user_agent")
# a spreadsheet treats a cell starting with one of these as a formula (OWASP: CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditRow:
    """One audit event as the owner sees it; times in the clinic's zone."""

    id: int
    occurred_at: datetime  # UTC instant
    time: str  # local ISO 8601 with offset, e.g. 2026-07-01T12:00:00-04:00
    time_label: str  # e.g. "Jul 1, 2026 12:00:00 PM EDT"
    actor_user_id: int | None
    actor_label: str
    actor_role: str
    action: str
    object_type: str
    object_id: str
    client_id: int | None
    client_name: str
    ip: str
    user_agent: str

    @property
    def object(self) -> str:
        return f"{self.object_type} {self.object_id}".strip()


@dataclass(frozen=True)
class AuditPage:
    """One page of a search. `before_id` pins later pages of the same search to the rows
    that existed at the first page (pass it back; newer rows, e.g. the search's own audit
    row, do not shift the pages)."""

    rows: list[AuditRow]
    has_more: bool
    before_id: int


@dataclass(frozen=True)
class AuditFilterOptions:
    """What the filter bar offers: the clinic's staff logins and its locations' zones."""

    staff: list[tuple[int, str, str]]  # (user id, label, role), by label
    locations: list[tuple[int, str, str]]  # (location id, name, IANA zone), by name


def _zone(time_zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValidationFailed({"time_zone": "Unknown time zone"}) from exc


def _bounds(start: date | None, end: date | None, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    if start and end and start > end:
        raise ValidationFailed({"end": "The end date is before the start date"})
    try:
        lo = local_midnight(start, tz) if start else None
        hi = local_midnight(end + timedelta(days=1), tz) if end else None
    except OverflowError as exc:
        raise ValidationFailed({"end": "Pick a date between the years 1 and 9998"}) from exc
    return lo, hi


def _statement(actor: Actor, *, client_id: int | None, actor_user_id: int | None, lo: datetime | None,
               hi: datetime | None, before_id: int | None):
    conds = [AuditEvent.org_id == actor.org_id]  # RLS guards too; this lets the planner use the index
    if lo is not None:
        conds.append(AuditEvent.occurred_at >= lo)
    if hi is not None:
        conds.append(AuditEvent.occurred_at < hi)
    if client_id is not None:
        conds.append(AuditEvent.client_id == client_id)
    if actor_user_id is not None:
        conds.append(AuditEvent.actor_user_id == actor_user_id)
    if before_id is not None:
        conds.append(AuditEvent.id < before_id)
    return (
        select(AuditEvent.id, AuditEvent.occurred_at, AuditEvent.actor_user_id, AuditEvent.actor_label,
               AuditEvent.actor_role, AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id,
               AuditEvent.client_id, Client.first_name, Client.last_name, AuditEvent.ip, AuditEvent.user_agent)
        .select_from(AuditEvent)
        .outerjoin(Client, and_(Client.id == AuditEvent.client_id, Client.org_id == AuditEvent.org_id))
        .where(*conds)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    )


def _row(r: Any, tz: ZoneInfo) -> AuditRow:
    local = r.occurred_at.astimezone(tz)
    hour = local.hour % 12 or 12
    label = f"{local:%b} {local.day}, {local.year} {hour}:{local:%M:%S} {'AM' if local.hour < 12 else 'PM'} " \
            f"{local.tzname() or ''}".strip()
    name = f"{r.first_name or ''} {r.last_name or ''}".strip()
    return AuditRow(id=r.id, occurred_at=r.occurred_at, time=local.isoformat(timespec="seconds"), time_label=label,
                    actor_user_id=r.actor_user_id, actor_label=r.actor_label or "", actor_role=r.actor_role or "",
                    action=r.action, object_type=r.object_type or "", object_id=r.object_id or "",
                    client_id=r.client_id, client_name=name, ip=r.ip or "", user_agent=r.user_agent or "")


def _filters(client_id, actor_user_id, start, end, time_zone) -> dict[str, Any]:
    # under "filter" (not the event's own client_id: the trail of a client lists reads of
    # the client's record, not searches of the trail)
    return {"filter": {"client_id": client_id, "actor_user_id": actor_user_id,
            "start": start.isoformat() if start else None, "end": end.isoformat() if end else None,
            "time_zone": time_zone}}


def search_audit(session: Session, actor: Actor, *, client_id: int | None = None, actor_user_id: int | None = None,
                 start: date | None = None, end: date | None = None, time_zone: str, limit: int = 200,
                 offset: int = 0, before_id: int | None = None, now: datetime | None = None) -> AuditPage:
    """Audit events of the actor's clinic matching the filter, newest first (audit.read).

    start/end are local days in `time_zone` (inclusive); limit is capped at 500. Writes an
    "audit.search" row (at `now`, the caller's clock). Raises PermissionDenied, ValidationFailed.
    """
    actor.require("audit.read")
    tz = _zone(time_zone)
    lo, hi = _bounds(start, end, tz)
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    stmt = _statement(actor, client_id=client_id, actor_user_id=actor_user_id, lo=lo, hi=hi, before_id=before_id)
    fetched = session.execute(stmt.offset(offset).limit(limit + 1)).all()
    rows = [_row(r, tz) for r in fetched[:limit]]
    event = record(session, actor, "audit.search", "audit_event", "", at=now, offset=offset, results=len(rows),
                   **_filters(client_id, actor_user_id, start, end, time_zone))
    session.flush()
    return AuditPage(rows=rows, has_more=len(fetched) > limit, before_id=before_id or event.id)


def csv_cell(value: Any) -> str:
    """A cell's text, with a leading quote when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _csv_line(cells: tuple | list) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerow([csv_cell(c) for c in cells])
    return buf.getvalue()


def export_audit_csv(session: Session, actor: Actor, *, client_id: int | None = None,
                     actor_user_id: int | None = None, start: date | None = None, end: date | None = None,
                     time_zone: str, now: datetime | None = None) -> Iterator[str]:
    """The same filter as search_audit, all matching rows, as CSV lines (RFC 4180: CRLF,
    quoted where needed, a header row first); formula-like cells get a leading quote.

    Checks audit.read and records "audit.export" right away (not on first iteration); the
    rows are then read in batches through a server-side cursor while the caller iterates,
    so consume the iterator before committing or closing the session.
    """
    actor.require("audit.read")
    tz = _zone(time_zone)
    lo, hi = _bounds(start, end, tz)
    record(session, actor, "audit.export", "audit_event", "", at=now,
           **_filters(client_id, actor_user_id, start, end, time_zone))
    session.flush()
    stmt = _statement(actor, client_id=client_id, actor_user_id=actor_user_id, lo=lo, hi=hi, before_id=None)

    def lines() -> Iterator[str]:
        yield _csv_line(CSV_HEADER)
        result = session.execute(stmt.execution_options(yield_per=EXPORT_BATCH))
        try:
            for r in result:
                row = _row(r, tz)
                yield _csv_line((row.id, row.time, time_zone, row.actor_label, row.actor_role, row.action,
                                 row.object_type, row.object_id,
                                 row.client_id if row.client_id is not None else "",
                                 row.client_name, row.ip, row.user_agent))
        finally:  # also when the caller stops early (generator closed)
            result.close()

    return lines()


def audit_filter_options(session: Session, actor: Actor) -> AuditFilterOptions:
    """Staff logins (deactivated ones too: they are in the history) and locations (audit.read)."""
    actor.require("audit.read")
    users = session.execute(select(UserAccount.id, UserAccount.display_name, UserAccount.email, UserAccount.role)
                            .order_by(UserAccount.display_name, UserAccount.email)).all()
    locs = session.execute(select(Location.id, Location.name, Location.time_zone).order_by(Location.name, Location.id)).all()
    return AuditFilterOptions(staff=[(u.id, u.display_name or u.email, u.role) for u in users],
                              locations=[(loc.id, loc.name, loc.time_zone) for loc in locs])
