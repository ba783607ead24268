"""Texts clients send to a clinic's number (Twilio's inbound webhook, messaging.inbound_actions):
kept as inbound_message rows, with the keywords carriers require handled.

- STOP and its usual variants (STOP_WORDS: the whole message, case, spaces and punctuation
  ignored, so "Stop.", " stop all", "Opt-out" count): the number is marked 'opted_out' for SMS
  (messaging.suppression; email untouched) and the SMS marketing consent of every client with
  that number turned off (source "sms keyword"), audited "contact.opt_out".
- START / UNSTOP / YES: the 'opted_out' mark is lifted (an 'undeliverable' one stays), audited
  "contact.opt_in". Marketing consent is NOT given back: it needs express consent with its
  wording (clients.consent), which a keyword is not.
- HELP / INFO: kept with keyword "help" (Twilio's opt-out management answers it).
- anything else: kept `flagged` for the desk until someone marks it handled.
- CANCEL (DESK_STOP_WORDS): a STOP word for Twilio and the carriers, so the number is opted
  out as for STOP, but a client may well have meant the visit: it is ALSO flagged for the
  desk, with a note saying so (InboundRow.note). STOP, START and HELP are never flagged.

Keywords are read after NFKC normalisation, so full-width "ＳＴＯＰ" is STOP too.

The sender is matched to a client by number (client.phone_e164, E.164): when several live
(not merged) clients share the number, the newest record (highest id) is named, since it is
the one most likely entered last with that number; the opt-out still covers them all.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.clients.consent import set_consent
from medspa.domain.clients.details import clinic_time_zone
from medspa.domain.clients.models import Client
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.engage_models import InboundMessage
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.messaging.suppression import OPTED_OUT, lift_opt_out, suppress_contact
from medspa.domain.phones import display_address
from medspa.domain.timezones import format_clinic_time

STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke"})
START_WORDS = frozenset({"start", "unstop", "yes"})
HELP_WORDS = frozenset({"help", "info"})
# STOP words a client may have written about their visit: opted out AND flagged for the desk
DESK_STOP_WORDS = frozenset({"cancel"})
DESK_STOP_NOTE = ("Texts to this number are now off (CANCEL works like STOP). They may have meant their visit: "
                  "check with them; they can text START to get texts again.")
_NOT_LETTERS = re.compile(r"[\W_]+", re.UNICODE)
BODY_LIMIT = 2000  # an SMS is at most 1600 characters (10 segments); kept whole below this


def _word_of(body: str) -> str:
    """The message as one keyword candidate: NFKC-normalised (full-width letters are plain
    ones), casefolded, without spaces, punctuation or underscores."""
    return _NOT_LETTERS.sub("", unicodedata.normalize("NFKC", body or "").casefold())


def keyword_of(body: str) -> str:
    """"stop", "start" or "help" when the whole message is one of those keywords (case, spaces
    and punctuation ignored: "Stop!", "STOP ALL", "opt-out"; NFKC, so "ＳＴＯＰ" too), else ""."""
    word = _word_of(body)
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in HELP_WORDS:
        return "help"
    return ""


def for_the_desk(body: str) -> bool:
    """Whether a text waits for the desk: any text that is not a keyword, and a keyword a
    client may have meant otherwise (DESK_STOP_WORDS: "Cancel")."""
    keyword = keyword_of(body)
    return not keyword or _word_of(body) in DESK_STOP_WORDS


def desk_note(keyword: str, body: str) -> str:
    """What the desk should know about a kept text beside its words: DESK_STOP_NOTE for a
    CANCEL that opted the number out, else ""."""
    return DESK_STOP_NOTE if keyword == "stop" and _word_of(body) in DESK_STOP_WORDS else ""


def clients_with_number(session: Session, number: str) -> list[Client]:
    """The live (not merged) clients of the session's clinic whose mobile number is `number`
    (E.164), newest record first."""
    if not number:
        return []
    return list(session.exec(select(Client).where(Client.phone_e164 == number, Client.merged_into_id.is_(None))
                             .order_by(Client.id.desc())).all())


def knows_number(session: Session, number: str) -> bool:
    """Whether the session's clinic has a client with this number or has ever texted it."""
    if clients_with_number(session, number):
        return True
    return session.exec(select(OutboxMessage.id).where(OutboxMessage.channel == "sms",
                                                       OutboxMessage.to_address == number).limit(1)).first() is not None


def orgs_for_number(session: Session, number: str, *, is_default: bool) -> list[int]:
    """The clinics that send SMS from `number` (SQL function medspa_orgs_for_sms_number,
    readable before any clinic is chosen): their own or a location's number, and with
    `is_default` (the number is TWILIO_FROM_NUMBER) every clinic without a number of its own."""
    rows = session.execute(text("select * from medspa_orgs_for_sms_number(:n, :d)"),
                           {"n": number, "d": bool(is_default)}).all()
    return sorted(int(r[0]) for r in rows)


@dataclass(frozen=True)
class InboundText:
    """One text as Twilio's webhook gives it: E.164 numbers, the body, the MessageSid."""

    from_number: str
    to_number: str
    body: str
    sid: str


def _store(session: Session, org_id: int, sms: InboundText, client: Client | None, keyword: str,
           now: datetime) -> int | None:
    """Insert the inbound_message row; None when this MessageSid is already kept (a replay)."""
    values = dict(org_id=org_id, client_id=client.id if client else None, channel="sms",
                  from_address=sms.from_number[:254], to_address=sms.to_number[:254], body=sms.body[:BODY_LIMIT],
                  provider_id=sms.sid[:64] or None, received_at=now, keyword=keyword, flagged=for_the_desk(sms.body))
    statement = insert(InboundMessage).values(**values).returning(InboundMessage.id)
    if sms.sid:
        statement = statement.on_conflict_do_nothing(index_elements=["org_id", "provider_id"],
                                                     index_where=InboundMessage.provider_id.isnot(None))
    return session.execute(statement).scalar_one_or_none()


def receive_text(session: Session, org_id: int, sms: InboundText, *, now: datetime) -> str:
    """Keep one verified inbound text in clinic `org_id`'s transaction and act on its keyword
    (see the module); `now`: aware UTC. Returns "duplicate" (its MessageSid was kept before:
    nothing changes), "stop", "start", "help" or "flagged" (a "Cancel" is "stop", and flagged too)."""
    actor = Actor.system(org_id, "Twilio inbound text")
    clients = clients_with_number(session, sms.from_number)
    client = clients[0] if clients else None
    keyword = keyword_of(sms.body)
    inbound_id = _store(session, org_id, sms, client, keyword, now)
    if inbound_id is None:
        return "duplicate"
    if keyword == "stop":
        suppress_contact(session, org_id=org_id, channel="sms", address=sms.from_number,
                         reason=f"replied {sms.body.strip()[:40]!r}", message_id=None, now=now, kind=OPTED_OUT)
        withdrawn = [c.id for c in clients if set_consent(c, "sms", False, at=now, source="sms keyword")]
        for c in clients:
            session.add(c)
        record(session, actor, "contact.opt_out", "inbound_message", inbound_id,
               client_id=client.id if client else None, at=now, channel="sms", address=sms.from_number,
               consent_withdrawn=withdrawn)
    elif keyword == "start":
        lifted = lift_opt_out(session, "sms", sms.from_number)
        record(session, actor, "contact.opt_in", "inbound_message", inbound_id,
               client_id=client.id if client else None, at=now, channel="sms", address=sms.from_number,
               lifted=lifted is not None)
    return keyword or "flagged"


@dataclass(frozen=True)
class InboundRow:
    """One kept text as the desk reads it (received_at aware UTC)."""

    id: int
    client_id: int | None
    client_name: str
    from_address: str
    body: str
    received_at: datetime
    keyword: str
    flagged: bool
    handled_at: datetime | None
    handled_by: str
    received_label: str = ""  # "Wed, Jul 1, 2026, 8:00 AM EDT (America/New_York)": the clinic's zone
    from_label: str = ""  # the sender's number for reading: "+1 646-555-0123"
    note: str = ""  # what the desk should know beside the words (desk_note), else ""


def _rows(session: Session, stmt) -> list[InboundRow]:
    zone = clinic_time_zone(session)
    out = []
    for m, first, last in session.exec(stmt).all():
        name = " ".join(p for p in (first, last) if p) if first or last else ""
        out.append(InboundRow(m.id, m.client_id, name, m.from_address, m.body, m.received_at, m.keyword, m.flagged,
                              m.handled_at, m.handled_by, format_clinic_time(m.received_at, zone),
                              display_address("sms", m.from_address), desk_note(m.keyword, m.body)))
    return out


def _with_client():
    return (select(InboundMessage, Client.first_name, Client.last_name)
            .join(Client, Client.id == InboundMessage.client_id, isouter=True))


def client_texts(session: Session, client_id: int, *, limit: int = 50) -> list[InboundRow]:
    """The texts client `client_id` sent (the session's clinic), flagged ones first, then newest first."""
    return _rows(session, _with_client().where(InboundMessage.client_id == client_id)
                 .order_by(InboundMessage.flagged.desc(), InboundMessage.received_at.desc(), InboundMessage.id.desc())
                 .limit(limit))


def flagged_texts(session: Session, *, limit: int = 100) -> list[InboundRow]:
    """The clinic's texts waiting for the desk, oldest first."""
    return _rows(session, _with_client().where(InboundMessage.flagged.is_(True))
                 .order_by(InboundMessage.received_at, InboundMessage.id).limit(limit))


def read_client_texts(session: Session, actor: Actor, client_id: int, *, now: datetime) -> list[InboundRow]:
    """client_texts as `actor` reads them (inbound.read), with the "inbound.read" audit row naming
    the client (a read of their record), at `now`. Raises PermissionDenied."""
    actor.require("inbound.read")
    rows = client_texts(session, client_id)
    record(session, actor, "inbound.read", "client", client_id, client_id=client_id, at=now, rows=len(rows))
    return rows


def read_flagged_texts(session: Session, actor: Actor, *, now: datetime) -> list[InboundRow]:
    """flagged_texts as `actor` reads them (inbound.read), with one "inbound.read" audit row naming
    the clients shown, at `now`. Raises PermissionDenied."""
    actor.require("inbound.read")
    rows = flagged_texts(session)
    record(session, actor, "inbound.read", "inbound_message", "flagged", at=now, rows=len(rows),
           client_ids=sorted({r.client_id for r in rows if r.client_id is not None}))
    return rows


def flagged_count(session: Session) -> int:
    """How many texts wait for the desk in the session's clinic."""
    return int(session.exec(select(func.count()).select_from(InboundMessage)
                            .where(InboundMessage.flagged.is_(True))).one())


def mark_handled(session: Session, actor: Actor, inbound_id: int, *, now: datetime) -> bool:
    """Mark text `inbound_id` handled by `actor` (inbound.read), audited "inbound.handle". Returns
    False when it was not flagged (already handled, or a keyword: nothing written). Raises
    PermissionDenied, NotFound (no such text in this clinic)."""
    actor.require("inbound.read")
    row = session.exec(select(InboundMessage).where(InboundMessage.id == inbound_id).with_for_update()).first()
    if row is None:
        raise NotFound("inbound_message")
    if not row.flagged:
        return False
    row.flagged, row.handled_at, row.handled_by = False, now, (actor.label or actor.role)[:200]
    session.add(row)
    record(session, actor, "inbound.handle", "inbound_message", row.id, client_id=row.client_id, at=now)
    return True
