"""The client import's work inside one transaction (issue 14 part 4): plan every row against
the clinic's clients (importing.plan_import) and apply the plan. Permission client.import
(owner, manager) is checked here; import_actions owns the transactions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from medspa.domain.audit.service import record
from medspa.domain.clients.consent import CHANNELS, set_consent, stamp_new_consents
from medspa.domain.clients.duplicates import clinic_duplicate_index
from medspa.domain.clients.import_file import ImportTable
from medspa.domain.clients.importing import RowPlan, plan_import
from medspa.domain.clients.merge import live_client_id
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import clinic_region
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location

PERMISSION = "client.import"
PROGRESS_EVERY = 250  # rows between two calls of an import's progress callback


@dataclass(frozen=True)
class ImportSummary:
    """What the import did, accounting for every row: created (line, new client id), merged
    (line, existing client id), skipped (line, reason)."""

    created: list[tuple[int, int]]
    merged: list[tuple[int, int]]
    skipped: list[tuple[int, str]]


def _context(session: Session, org_id: int, now: datetime) -> tuple[str, date]:
    """The clinic's phone region (clients.service.clinic_region) and local date (its first
    location's zone)."""
    zone = session.exec(select(Location.time_zone).order_by(Location.id)).first() or "UTC"
    return clinic_region(session, org_id), now.astimezone(ZoneInfo(zone)).date()


def review_import(session: Session, actor: Actor, table: ImportTable, mapping: dict[str, int], order: str,
           decisions: dict[int, str] | None, now: datetime) -> list[RowPlan]:
    """Every row's plan against the clinic's clients (a read of client records: the caller
    audits it). now: aware UTC. Raises PermissionDenied, ValidationFailed, DateOrderConflict."""
    actor.require(PERMISSION)
    region, today = _context(session, actor.org_id, now)
    return plan_import(table, mapping, clinic_duplicate_index(session), order=order, region=region, today=today,
                       decisions=decisions)


def import_clients(session: Session, actor: Actor, table: ImportTable, filename: str, mapping: dict[str, int],
                   order: str, decisions: dict[int, str] | None, now: datetime,
                   progress: Callable[[int, int], None] | None = None) -> ImportSummary:
    """Apply the file's plan under the clinic's import lock (two imports of one clinic run one
    after the other, the second seeing the first's clients as duplicates): create the "create"
    rows, fill the empty fields of the clients "merge" rows name (nothing overwritten), skip
    the rest; audit client.create / client.update per client (source import) and
    client.import with the counts. The caller commits (all rows) or rolls back (none).
    Raises PermissionDenied, ValidationFailed, DateOrderConflict."""
    actor.require(PERMISSION)
    session.exec(text("select pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                 params={"key": f"client-import-{actor.org_id}"})
    plans = review_import(session, actor, table, mapping, order, decisions, now)
    created, merged, skipped = [], [], []
    for done, plan in enumerate(plans):
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, len(plans))
        if plan.action == "create":
            client_id = _create(session, actor, plan, now)
            if client_id is not None:
                created.append((plan.line, client_id))
            else:  # someone took that email since the plan (an online booking): merged into them
                merged.append((plan.line, _merge(session, actor, plan, now)))
        elif plan.action == "merge" and plan.target_id is not None:
            merged.append((plan.line, _merge(session, actor, plan, now)))
        else:
            skipped.append((plan.line, plan.reason or "Skipped"))
    record(session, actor, "client.import", "client", "", at=now, filename=filename[:200], rows=len(plans),
           created=len(created), merged=len(merged), skipped=len(skipped))
    return ImportSummary(created, merged, skipped)


def _create(session: Session, actor: Actor, plan: RowPlan, now: datetime) -> int | None:
    """The new client's id; None when its email was taken since the plan (the unique index
    uq_client_email: a booking with that email committed meanwhile): plan.target_id is then
    that client, for the caller to merge into."""
    c = plan.client
    client = Client(org_id=actor.org_id, first_name=c.first_name, last_name=c.last_name, email=c.email or None,
                    phone_e164=c.phone or None, date_of_birth=c.date_of_birth,
                    email_marketing_consent=c.email_marketing_consent, sms_marketing_consent=c.sms_marketing_consent)
    stamp_new_consents(client, at=now, source="import")
    try:
        with session.begin_nested():
            session.add(client)
            session.flush()
    except IntegrityError:
        taken = session.exec(select(Client.id).where(func.lower(Client.email) == (c.email or "").lower())).first()
        if not c.email or taken is None:
            raise
        plan.target_id = live_client_id(session, taken)
        return None
    record(session, actor, "client.create", "client", client.id, client_id=client.id, at=now, source="import",
           line=plan.line)
    return client.id


def _merge(session: Session, actor: Actor, plan: RowPlan, now: datetime) -> int:
    """Fill the existing client's empty fields from the row (consent only ever turned on)."""
    client = session.exec(select(Client).where(Client.id == plan.target_id).with_for_update()).one()
    c = plan.client
    changes: dict[str, list] = {}
    for field, value in (("email", c.email or None), ("phone_e164", c.phone or None),
                         ("date_of_birth", c.date_of_birth)):
        if value and not getattr(client, field):
            changes[field] = [None, str(value)]
            setattr(client, field, value)
    for channel, field in CHANNELS.items():
        if getattr(c, field) and not getattr(client, field):
            changes[field] = set_consent(client, channel, True, at=now, source="import")
    session.add(client)
    record(session, actor, "client.update", "client", client.id, client_id=client.id, at=now, source="import",
           line=plan.line, changes=changes)
    return client.id
