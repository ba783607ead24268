"""Merging two records of one client, and undoing it (issue 14 part 3).

`CLIENT_ROWS` is THE registry of what belongs to a client: every table.column that names a
client and follows it into a merge. A table added later that names a client must be listed
here or in `KEPT_ON_MERGE` (tests/test_client_merge.py reads the live catalog and fails
otherwise), so no kind of row is ever left behind on a hidden record.

A merge (owner or manager, permission client.merge) moves every registered row of the
absorbed client to the survivor, fills the survivor's empty contact fields from the absorbed
one (email, phone, date of birth; a marketing consent only ever turned on), hides the absorbed
client (merged_into_id; nothing is deleted) and records exactly what it moved and filled on a
client_merge row. Undo, until `undo_until` (MERGE_UNDO_DAYS), moves those rows back, and with
each visit that goes back every row of a table with an appointment_id that belongs to it (also
one written on the visit while the merge stood); other rows added to the survivor since stay
with it. It restores the fields. Both are audited on both
clients. The portal login (client_account, one per client) moves only when the survivor has
none; the absorbed client's portal sessions and codes are ended (they would sign in to a
hidden record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, text
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.clients.consent import CHANNELS, copy_consent
from medspa.domain.clients.models import Client, ClientMerge
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor

PERMISSION = "client.merge"
MERGE_UNDO_DAYS = 30
"""How long a merge can be undone: a month covers a desk that notices at the next visit."""


@dataclass(frozen=True)
class ClientRows:
    """A column naming a client. one_per_client: at most one row per client (moved only when
    the survivor has none)."""

    table: str
    column: str = "client_id"
    one_per_client: bool = False

    @property
    def key(self) -> str:
        """"table.column", the form merges record what moved under."""
        return f"{self.table}.{self.column}"


CLIENT_ROWS: tuple[ClientRows, ...] = (
    ClientRows("appointment"),
    ClientRows("payment"),
    ClientRows("ledger_entry"),
    ClientRows("outbox_message"),
    ClientRows("treatment_note"),
    ClientRows("clinical_photo"),
    ClientRows("waitlist_entry"),  # issue 16: the wishes follow the client (their place in line kept)
    ClientRows("client_account", one_per_client=True),
    ClientRows("saved_card"),  # cards on file follow the client (issue 16)
    ClientRows("card_setup"),
    ClientRows("appointment_series"),  # a recurring series follows its client with its visits (issue 16)
    ClientRows("medical_history_version"),  # issue 17: the history follows the client (newest per section wins)
    ClientRows("health_override"),  # issue 17: overrides of flagged visits follow their visits
    ClientRows("policy_fee"),  # late-cancel / no-show fees follow the client with their visits (issue 16)
    ClientRows("form_response"),  # intake form answers follow the client with their visits (issue 17)
    ClientRows("consent_signature"),  # signed consents follow the client (issue 17; the row is otherwise append-only)
    ClientRows("client_document"),  # documents the client uploaded (issue 17)
    ClientRows("lab_order"),  # ordered tests and their results (issue 17)
    ClientRows("lot_usage"),  # what the client received from a lot (issue 18): recall finds the survivor
    ClientRows("inbound_message"),  # texts the client sent (issue 19): on the survivor's profile
    ClientRows("prescriber_order"),  # a prescriber's exam/order for the client (issue 18): still valid after a merge
)
"""What follows a client into a merge (see the module docstring)."""

KEPT_ON_MERGE: dict[str, str] = {
    "audit_event.client_id": "the audit trail stays as it happened (it names the hidden record)",
    "client_first_visit.client_id": "recomputed by its triggers when appointments move (migration 0012)",
    "visit_rebooking.client_id": "recomputed by its triggers for the old and new client of every moved visit (0054)",
    "portal_code.client_id": "ended: a sign-in code of the hidden record",
    "portal_session.client_id": "ended: a portal session of the hidden record",
    "client_merge.survivor_id": "the merge's own record",
    "client_merge.absorbed_id": "the merge's own record",
    "client.merged_into_id": "the merge's own mark",
    "campaign_recipient.client_id": "a campaign's send list stays as it was sent (one row per client and channel)",
    "client_search.client_id": "the search row of each record: dropped for a merged one by its trigger (0032)",
}
"""Columns naming a client that a merge leaves where they are, and why."""

FILLED_FIELDS = ("email", "phone_e164", "date_of_birth", "address", "time_zone", "emergency_name",
                 "emergency_phone_e164", "preferred_provider_id", "insurance_carrier", "insurance_member_id",
                 "alerts", "notes")
"""The survivor's fields a merge fills from the absorbed record when the survivor has none."""
CONSENTS = ("email_marketing_consent", "sms_marketing_consent")


def _client(session: Session, client_id: int, what: str) -> Client:
    found = session.exec(select(Client).where(Client.id == client_id).with_for_update()).first()
    if found is None:
        raise NotFound("client")
    if found.merged_into_id is not None:
        raise ValidationFailed({what: f"{found.first_name} {found.last_name} was already merged into another record"})
    return found


def _move(session: Session, rows: ClientRows, source: int, target: int, ids: list[int] | None = None) -> list[int]:
    """UPDATE rows.table SET column = target WHERE column = source [AND id IN ids]; the ids moved."""
    sql = f"update {rows.table} set {rows.column} = :target where {rows.column} = :source"
    params: dict = {"target": target, "source": source}
    if ids is not None:
        sql += " and id in :ids"
        params["ids"] = ids
    statement = text(sql + " returning id")
    if ids is not None:
        statement = statement.bindparams(bindparam("ids", expanding=True))
    return sorted(r[0] for r in session.connection().execute(statement, params))


def _has_rows(session: Session, rows: ClientRows, client_id: int) -> bool:
    return session.connection().execute(
        text(f"select exists (select 1 from {rows.table} where {rows.column} = :c)"), {"c": client_id}).scalar()


VISITS = next(rows for rows in CLIENT_ROWS if rows.table == "appointment")
"""The appointments: the rows of every table with an appointment_id go where their visit goes."""


def visit_tables(session: Session) -> list[ClientRows]:
    """The CLIENT_ROWS entries whose table has an appointment_id column (read from the
    database's catalog, so a table added later is covered without being named here)."""
    names = session.connection().execute(
        text("select table_name from information_schema.columns where table_schema = current_schema() "
             "and column_name = 'appointment_id' and table_name in :tables")
        .bindparams(bindparam("tables", expanding=True)),
        {"tables": sorted({rows.table for rows in CLIENT_ROWS})}).scalars().all()
    return [rows for rows in CLIENT_ROWS if rows.table in set(names) and not rows.one_per_client]


def _follow_visits(session: Session, survivor_id: int, absorbed_id: int, visit_ids: list[int]) -> dict[str, int]:
    """After an undo moved the visits `visit_ids` back to `absorbed_id`: every row on the
    survivor that belongs to one of them goes back too, also rows written on those visits
    while the merge stood (a photo, a chart, its lot usage, a form, a fee), which the merge
    could not have recorded. Returns {"table.column": rows moved} for the audit row."""
    if not visit_ids:
        return {}
    followed: dict[str, int] = {}
    for rows in visit_tables(session):
        statement = text(f"update {rows.table} set {rows.column} = :target where {rows.column} = :source "
                         "and appointment_id in :visits returning id").bindparams(bindparam("visits", expanding=True))
        count = len(session.connection().execute(
            statement, {"target": absorbed_id, "source": survivor_id, "visits": visit_ids}).all())
        if count:
            followed[rows.key] = count
    return followed


def merge_clients(session: Session, actor: Actor, survivor_id: int, absorbed_id: int, now: datetime) -> ClientMerge:
    """Merge client `absorbed_id` into `survivor_id` (both of the session's clinic; locked in id
    order). Returns the flushed ClientMerge. now: aware UTC. Raises PermissionDenied, NotFound,
    ValidationFailed (the same client twice, or one already merged)."""
    actor.require(PERMISSION)
    if survivor_id == absorbed_id:
        raise ValidationFailed({"absorbed_id": "Pick two different clients"})
    first, second = sorted((survivor_id, absorbed_id))
    locked = {first: _client(session, first, "survivor_id" if first == survivor_id else "absorbed_id"),
              second: _client(session, second, "survivor_id" if second == survivor_id else "absorbed_id")}
    survivor, absorbed = locked[survivor_id], locked[absorbed_id]
    moved: dict[str, list[int]] = {}
    for rows in CLIENT_ROWS:
        if rows.one_per_client and _has_rows(session, rows, survivor_id):
            continue
        ids = _move(session, rows, absorbed_id, survivor_id)
        if ids:
            moved[rows.key] = ids
    session.connection().execute(text("update portal_session set revoked_at = coalesce(revoked_at, :now) "
                                      "where client_id = :c"), {"now": now, "c": absorbed_id})
    session.connection().execute(text("update portal_code set used_at = coalesce(used_at, :now) "
                                      "where client_id = :c"), {"now": now, "c": absorbed_id})
    filled = _fill(session, survivor, absorbed)
    absorbed.merged_into_id, absorbed.merged_at = survivor_id, now
    session.add(absorbed)
    merge = ClientMerge(org_id=actor.org_id, survivor_id=survivor_id, absorbed_id=absorbed_id, merged_at=now,
                        merged_by=(actor.label or actor.role)[:200], undo_until=now + timedelta(days=MERGE_UNDO_DAYS),
                        moved=moved, filled=filled)
    session.add(merge)
    session.flush()
    counts = {key: len(ids) for key, ids in moved.items()}
    for client_id in (survivor_id, absorbed_id):
        record(session, actor, "client.merge", "client", client_id, client_id=client_id, at=now, merge_id=merge.id,
               survivor_id=survivor_id, absorbed_id=absorbed_id, moved=counts, filled=sorted(filled))
    return merge


def _fill(session: Session, survivor: Client, absorbed: Client) -> dict[str, list]:
    """Copy the absorbed client's contact fields the survivor lacks ({field: [old, new]}, JSON
    values). The email is unique per clinic: the absorbed record gives it up first."""
    filled: dict[str, list] = {}
    for field in FILLED_FIELDS:
        value, before = getattr(absorbed, field), getattr(survivor, field)
        if value and not before:
            filled[field] = [before, str(value)]  # before: None or "" as the column holds it
            if field == "email":
                absorbed.email = None
                session.add(absorbed)
                session.flush()
            setattr(survivor, field, value)
    for channel, field in CHANNELS.items():
        if getattr(absorbed, field) and not getattr(survivor, field):
            filled[field] = [False, True]
            copy_consent(survivor, absorbed, channel)
    session.add(survivor)
    return filled


def undo_merge(session: Session, actor: Actor, merge_id: int, now: datetime) -> ClientMerge:
    """Undo merge `merge_id` before its undo_until: the rows it moved go back to the absorbed
    client (those still on the survivor), the fields it filled are restored (unless changed
    since), the absorbed client shows again. Raises PermissionDenied, NotFound,
    ValidationFailed (already undone, past the window, or the survivor was merged on since)."""
    actor.require(PERMISSION)
    merge = session.exec(select(ClientMerge).where(ClientMerge.id == merge_id).with_for_update()).first()
    if merge is None:
        raise NotFound("merge")
    if merge.undone_at is not None:
        raise ValidationFailed({"merge_id": "This merge was already undone"})
    if now > merge.undo_until:
        raise ValidationFailed({"merge_id": f"A merge can be undone within {MERGE_UNDO_DAYS} days"})
    survivor = session.exec(select(Client).where(Client.id == merge.survivor_id).with_for_update()).one()
    absorbed = session.exec(select(Client).where(Client.id == merge.absorbed_id).with_for_update()).one()
    if survivor.merged_into_id is not None:  # its rows went on to another record: undo that first
        raise ValidationFailed({"merge_id": f"{survivor.first_name} {survivor.last_name} was merged into another "
                                            "record since: undo that merge first"})
    by_key = {rows.key: rows for rows in CLIENT_ROWS}
    visits_back: list[int] = []
    for key, ids in merge.moved.items():
        back = _move(session, by_key[key], merge.survivor_id, merge.absorbed_id, ids)
        if key == VISITS.key:
            visits_back = back
    followed = _follow_visits(session, merge.survivor_id, merge.absorbed_id, visits_back)
    for field, (old, new) in merge.filled.items():
        if field in CONSENTS:
            continue  # a consent the client gave stays given; it is theirs, not the record's
        if str(getattr(survivor, field) or "") == new:
            setattr(survivor, field, old)  # None or "" as it was (JSON keeps both)
            if field == "email":
                session.add(survivor)
                session.flush()
                absorbed.email = new
    absorbed.merged_into_id, absorbed.merged_at = None, None
    merge.undone_at = now
    session.add_all([survivor, absorbed, merge])
    session.flush()
    for client_id in (merge.survivor_id, merge.absorbed_id):
        record(session, actor, "client.merge.undo", "client", client_id, client_id=client_id, at=now,
               merge_id=merge.id, followed_visits=followed)
    return merge


def live_client_id(session: Session, client_id: int) -> int:
    """The record to use for `client_id`: itself, or the client it was merged into (following
    a chain of merges). Raises NotFound for an id the clinic does not have."""
    seen: set[int] = set()
    while True:
        row = session.exec(select(Client.id, Client.merged_into_id).where(Client.id == client_id)).first()
        if row is None:
            raise NotFound("client")
        if row.merged_into_id is None or client_id in seen:
            return client_id
        seen.add(client_id)
        client_id = row.merged_into_id


@dataclass(frozen=True)
class MergeNote:
    """A merge as a client's profile names it: its id, the other client (id and "First
    Last"), when it can be undone until (aware UTC) and whether it still can be at `now`."""

    merge_id: int
    other_id: int
    other_name: str
    undo_until: datetime
    undoable: bool


def merge_notes(session: Session, client: Client, now: datetime) -> tuple[MergeNote | None, list[MergeNote]]:
    """(the merge that hid `client`, or None; the merges into `client` not undone, newest
    first). now: aware UTC."""
    def note(m: ClientMerge, other_id: int) -> MergeNote:
        other = session.get(Client, other_id)
        return MergeNote(m.id, other_id, f"{other.first_name} {other.last_name}" if other else "",
                         m.undo_until, m.undone_at is None and now <= m.undo_until)

    hid = None
    if client.merged_into_id is not None:
        last = session.exec(select(ClientMerge).where(ClientMerge.absorbed_id == client.id,
                                                      ClientMerge.undone_at.is_(None))
                            .order_by(ClientMerge.id.desc())).first()
        hid = note(last, last.survivor_id) if last else None
    into = session.exec(select(ClientMerge).where(ClientMerge.survivor_id == client.id, ClientMerge.undone_at.is_(None))
                        .order_by(ClientMerge.id.desc()).limit(20)).all()
    return hid, [note(m, m.absorbed_id) for m in into]
