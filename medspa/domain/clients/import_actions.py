"""Use cases of the client import (issue 14 part 4; permission client.import: owner, manager).

The page sends the file's bytes at each step (nothing half-imported is kept between steps):
`fetch_import_preview` reads it (encoding, separator, columns, the first rows, a guessed
mapping); `do_review_import` plans every row against the clinic's clients (duplicates and
errors listed for review; audited, as it reads client records); `do_import_clients` plans
again inside ONE transaction, under the clinic's import lock, and creates or merges every
row or nothing (audited per client and once for the import). `engine` is for tests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.audit.service import record
from medspa.domain.clients.import_file import MAX_BYTES, SEPARATOR_NAMES, read_import_file
from medspa.domain.clients.import_service import PERMISSION, ImportSummary, import_clients, review_import
from medspa.domain.clients.importing import IMPORT_FIELDS, RowPlan, guess_mapping, template_csv
from medspa.domain.identity.actor import Actor
from medspa.domain.work import atomic, now_of

PREVIEW_ROWS = 5
ENCODING_NAMES = {"utf-8-sig": "UTF-8 (with byte-order mark)", "utf-8": "UTF-8", "cp1252": "Windows-1252",
                  "xlsx": "Excel workbook"}


@dataclass(frozen=True)
class ImportPreview:
    """A file as read: `encoding` and `separator` for people, the column `headers`, the first
    rows as they will be read, the number of data rows, and the guessed {field: column}."""

    encoding: str
    separator: str
    headers: list[str]
    first_rows: list[list[str]]
    row_count: int
    mapping: dict[str, int]


@dataclass(frozen=True)
class ImportLine:
    """One row in the review or the summary: its file line, the action ("create", "merge",
    "skip"), the client's name as typed, the reason, the client it merges into (or did),
    and the actions the user may choose instead (empty: none)."""

    line: int
    action: str
    name: str
    reason: str
    client_id: int | None
    choosable: tuple[str, ...]


@dataclass(frozen=True)
class ImportReview:
    """Every row's plan, and the counts per action."""

    lines: list[ImportLine]
    counts: dict[str, int]


def fetch_import_preview(actor: Actor, data: bytes, filename: str) -> ImportPreview:
    """Read an uploaded file (bytes, its name) without touching the database. Raises
    PermissionDenied, ValidationFailed({"file": reason})."""
    actor.require(PERMISSION)
    table = read_import_file(data, filename)
    return ImportPreview(ENCODING_NAMES[table.encoding], SEPARATOR_NAMES[table.separator], table.headers,
                         table.rows[:PREVIEW_ROWS], len(table.rows), guess_mapping(table.headers))


def _line(plan: RowPlan) -> ImportLine:
    return ImportLine(plan.line, plan.action, plan.name, plan.reason, plan.target_id, plan.choosable)


def do_review_import(actor: Actor, data: bytes, filename: str, mapping: dict[str, int], order: str,
                     decisions: dict[int, str] | None = None, *, clock: Clock | None = None,
                     engine: Engine | None = None) -> ImportReview:
    """Plan every row (importing.plan_import) for review; writes nothing but its audit row
    (client.import.review: it compared the file with the clinic's client records). Raises
    PermissionDenied, ValidationFailed (file, mapping, date_order), DateOrderConflict."""
    actor.require(PERMISSION)
    table = read_import_file(data, filename)
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        plans = review_import(work.session, actor, table, mapping, order, decisions, now)
        counts = dict(Counter(p.action for p in plans))
        record(work.session, actor, "client.import.review", "client", "", at=now, rows=len(plans), **counts)
        return ImportReview([_line(p) for p in plans], counts)


def do_import_clients(actor: Actor, data: bytes, filename: str, mapping: dict[str, int], order: str,
                      decisions: dict[int, str] | None = None, *, clock: Clock | None = None,
                      engine: Engine | None = None,
                      progress: Callable[[int, int], None] | None = None) -> ImportSummary:
    """Import the file: all rows or none, in one transaction holding the clinic's import lock
    (two imports of one clinic run one after the other, and the second sees the first's
    clients as duplicates). Creates the "create" rows, fills the empty fields of the clients
    "merge" rows name (nothing overwritten), skips the rest; audit client.create /
    client.update per client (source import) and client.import with the counts. progress:
    called with (rows done, rows) every PROGRESS_EVERY rows, from inside the transaction (for a
    page's progress bar; nothing is visible to others until the commit). Raises
    PermissionDenied, ValidationFailed, DateOrderConflict (nothing written)."""
    actor.require(PERMISSION)
    table = read_import_file(data, filename)
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        return import_clients(work.session, actor, table, filename, mapping, order, decisions, now, progress)


__all__ = ["IMPORT_FIELDS", "MAX_BYTES", "template_csv", "ImportLine", "ImportPreview", "ImportReview", "ImportSummary", "do_import_clients",
           "do_review_import", "fetch_import_preview"]
