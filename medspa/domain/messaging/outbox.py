"""The owners' outbox (permission `outbox.manage`: owner and manager): find messages, open
one, send a failed one again. Services: they take a session, check the permission, write
the audit row in the caller's transaction and never commit.

Protected health information: a message names its recipient and often a visit's service
("Confirmed: Botox on ..."), so every list is audited ("outbox.search", with the filter and
the number of rows) and every opened message too ("outbox.message.read", naming its client),
like any read of a client record. Sign-in codes and password reset links (SECRET_KINDS) are
secrets of their recipient: the page never shows their subject nor their body (list rows and
the opened message alike; the client-text search never looks at either), and they are never
sent again (they expire: the person asks for a new one).

Resend: a failed message, or a `queued` one that no delivery job will ever pick up (written
before its channel's provider was set up: no procrastinate job todo / doing for it) once that
provider is set up ("Send now"). Old messages are never sent on their own when a provider
appears (a week-old confirmation would go out late): an owner decides, one message at a time.

Dates are local days of the zone the page reads in (a location's IANA zone): [start, end]
covers start's local midnight up to the local midnight after `end` (DST-safe). Rows come
newest first (created_at desc, id desc).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from medspa.domain.audit.service import record
from medspa.domain.clients.models import Client
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.engage_models import Campaign
from medspa.domain.messaging.delivery import has_pending_delivery_job, requeue_for_delivery
from medspa.domain.messaging.models import MessageStatus, OutboxMessage
from medspa.domain.messaging.suppression import lift_suppression, opt_out_refusal
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.references import hide_manage_tokens
from medspa.domain.textrules import UNSTORABLE
from medspa.domain.timezones import local_midnight, zone_abbreviation
from medspa.domain.phones import display_address
from medspa.settings import Settings

PERMISSION = "outbox.manage"
MAX_LIMIT = 200
MAX_OFFSET = 10**9  # paging further is a crafted request: clamped (bigint-safe)
CLIENT_TEXT_MAX = 100
CHANNELS = ("email", "sms")
# what the status filter offers -> the statuses it covers (None: every status)
STATUS_CHOICES: dict[str, tuple[str, ...] | None] = {
    "all": None,
    "waiting": (MessageStatus.QUEUED.value, MessageStatus.SENDING.value),
    "sent": (MessageStatus.SENT.value, MessageStatus.DELIVERED.value),
    "failed": (MessageStatus.FAILED.value,),
}
KIND_LABELS = {
    "booking_confirmation": "Booking confirmation",
    "deposit_receipt": "Deposit receipt",
    "cancellation_notice": "Cancellation notice",
    "checkout_receipt": "Checkout receipt",
    "portal_code": "Portal sign-in code",
    "password_reset": "Password reset",
    "staff_invitation": "Staff invitation",
    "campaign": "Campaign",
    "reminder": "Reminder",
}
# an invitation link makes an account with its role: a manager reading the outbox must not take it
SECRET_KINDS = frozenset({"portal_code", "password_reset", "staff_invitation"})
HIDDEN_BODY = ("Hidden: this message carries a one-time sign-in code, password reset or invitation link meant "
               "only for its recipient.")
_KIND = re.compile(r"[a-z][a-z0-9_]{0,39}")
_PHONE_LIKE = re.compile(r"[\d\s()+\-.]+")
PENDING_JOB = "It is in line for delivery: its job will send it."
NO_MAIL_SERVER = "Waiting for the mail server: set SMTP_HOST, then send it."
NO_SMS_PROVIDER = "Waiting for the SMS provider: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, then send it."


class NotResendable(Exception):
    """The message cannot be sent again; `reason` says why, in words for the page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class OutboxFilter:
    """What the owner is looking for. status: a key of STATUS_CHOICES ("waiting" = queued or
    sending); channel: "all", "email" or "sms"; client: text matched (case-insensitive) against
    the client's name, email and phone and the message's to-address (phone digits match however
    they are typed); start/end: local days (inclusive) in `time_zone` (an IANA name); kind:
    "all" or one outbox kind ("reminder", "campaign", ...: OutboxPage.kinds lists those present)."""

    status: str = "all"
    channel: str = "all"
    client: str = ""
    start: date | None = None
    end: date | None = None
    time_zone: str = "UTC"
    kind: str = "all"


@dataclass(frozen=True)
class OutboxRow:
    """One message as the list shows it (no body). created_label is clinic time with the zone's
    abbreviation; status_label is OutboxMessage.delivery_label (e.g. "failed: 550 mailbox
    unavailable", "not sent: no mail server set up")."""

    id: int
    created_at: datetime  # UTC instant
    created_label: str
    channel: str
    kind: str
    kind_label: str
    to_address: str
    client_id: int | None
    client_name: str
    subject: str
    status: str
    status_label: str
    attempts: int
    campaign_name: str = ""  # a campaign's message: its campaign's name


@dataclass(frozen=True)
class OutboxPage:
    """One page of the list: `rows` (at most `limit`), `total` matching the filter, `counts` per
    status choice for the other filters ({"all": n, "waiting": n, "sent": n, "failed": n});
    `kinds`: the clinic's kinds present in its outbox as (kind, label), by label."""

    rows: list[OutboxRow]
    total: int
    counts: dict[str, int] = field(default_factory=dict)
    offset: int = 0
    limit: int = 50
    kinds: list[tuple[str, str]] = field(default_factory=list)

    @property
    def has_more(self) -> bool:
        """True when rows exist past this page."""
        return self.offset + len(self.rows) < self.total


@dataclass(frozen=True)
class MessageDetail:
    """Everything about one message. body is HIDDEN_BODY for a secret (body_hidden). current_address
    is the client's address for the channel now ("" without a client or address): a resend goes
    there. resend_note says what a resend would do, or why it cannot."""

    id: int
    channel: str
    kind: str
    kind_label: str
    to_address: str
    client_id: int | None
    client_name: str
    current_address: str
    subject: str
    body: str
    body_hidden: bool
    status: str
    status_label: str
    attempts: int
    failure_reason: str
    message_id: str
    provider_id: str
    created_label: str
    sent_label: str
    delivered_label: str
    appointment_id: int | None
    resendable: bool
    resend_note: str
    resend_label: str = "Resend"
    campaign_name: str = ""  # a campaign's message: its campaign's name


@dataclass(frozen=True)
class Resent:
    """A message put back in line: where it goes now, whether that is a new address (the
    client's record changed since), whether a suppression of that address was lifted, its
    status label and the delivery jobs deferred (none without a mail server)."""

    id: int
    to_address: str
    previous_address: str
    address_changed: bool
    suppression_lifted: bool
    status: str
    status_label: str
    job_ids: list[int]
    previous_status: str = MessageStatus.FAILED.value


def shown_subject(message: OutboxMessage) -> str:
    """The subject the page may show: "" for a secret kind (SECRET_KINDS), else the subject."""
    return "" if message.kind in SECRET_KINDS else (message.subject or "")


def kind_label(kind: str) -> str:
    """A message kind in words ("booking_confirmation" -> "Booking confirmation")."""
    return KIND_LABELS.get(kind) or kind.replace("_", " ").capitalize()


def clinic_time_label(instant: datetime | None, tz: ZoneInfo) -> str:
    """"Jul 1, 2026, 12:00 PM EDT" for an aware instant in zone `tz` ("" for None)."""
    if instant is None:
        return ""
    text = format_datetime(instant.astimezone(tz), "MMM d, y, h:mm a", tzinfo=tz, locale="en_US")
    return f"{text} {zone_abbreviation(instant, tz)}"


def zone_of(time_zone: str) -> ZoneInfo:
    """The ZoneInfo of an IANA name; ValidationFailed {"time_zone": ...} for an unknown one."""
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValidationFailed({"time_zone": "Unknown time zone"}) from exc


def outbox_locations(session: Session, actor: Actor) -> list[tuple[int, str, str]]:
    """The clinic's locations (id, name, IANA zone) by name: the zones the page can read in."""
    actor.require(PERMISSION)
    rows = session.execute(select(Location.id, Location.name, Location.time_zone).order_by(Location.name, Location.id))
    return [(r.id, r.name, r.time_zone) for r in rows]


# ------------------------------------------------------------------ the list


def _checked(filt: OutboxFilter) -> tuple[OutboxFilter, ZoneInfo, datetime | None, datetime | None]:
    """The filter validated (client text trimmed), its zone and its [lo, hi) instants."""
    errors: dict[str, str] = {}
    if filt.status not in STATUS_CHOICES:
        errors["status"] = "Pick a status from the list"
    if filt.channel != "all" and filt.channel not in CHANNELS:
        errors["channel"] = "Pick email or SMS"
    if filt.kind != "all" and not (isinstance(filt.kind, str) and _KIND.fullmatch(filt.kind)):
        errors["kind"] = "Pick a kind from the list"
    if filt.start and filt.end and filt.start > filt.end:
        errors["end"] = "The end date is before the start date"
    if errors:
        raise ValidationFailed(errors)
    tz = zone_of(filt.time_zone)
    try:
        lo = local_midnight(filt.start, tz) if filt.start else None
        hi = local_midnight(filt.end + timedelta(days=1), tz) if filt.end else None
    except OverflowError as exc:
        raise ValidationFailed({"end": "Pick a date between the years 1 and 9998"}) from exc
    if UNSTORABLE.search(str(filt.client or "")):
        raise ValidationFailed({"client": "Remove the control or broken characters from the search text"})
    text = " ".join(str(filt.client or "").split())[:CLIENT_TEXT_MAX]
    return OutboxFilter(filt.status, filt.channel, text, filt.start, filt.end, filt.time_zone, filt.kind), tz, lo, hi


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _client_condition(text: str):
    pattern = _like(text)
    name = func.concat_ws(" ", Client.first_name, Client.last_name)
    options = [name.ilike(pattern, escape="\\"), Client.email.ilike(pattern, escape="\\"),
               Client.phone_e164.ilike(pattern, escape="\\"), OutboxMessage.to_address.ilike(pattern, escape="\\")]
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 4 and _PHONE_LIKE.fullmatch(text):
        options += [Client.phone_e164.like(f"%{digits}%"), OutboxMessage.to_address.like(f"%{digits}%")]
    return or_(*options)


def _conditions(actor: Actor, filt: OutboxFilter, lo: datetime | None, hi: datetime | None, *,
                with_status: bool) -> list[Any]:
    conds: list[Any] = [OutboxMessage.org_id == actor.org_id]  # RLS guards too; this helps the planner
    statuses = STATUS_CHOICES[filt.status]
    if with_status and statuses is not None:
        conds.append(OutboxMessage.status.in_(statuses))
    if filt.channel != "all":
        conds.append(OutboxMessage.channel == filt.channel)
    if filt.kind != "all":
        conds.append(OutboxMessage.kind == filt.kind)
    if lo is not None:
        conds.append(OutboxMessage.created_at >= lo)
    if hi is not None:
        conds.append(OutboxMessage.created_at < hi)
    if filt.client:
        conds.append(_client_condition(filt.client))
    return conds


def _with_client(stmt):
    return stmt.outerjoin(Client, and_(Client.id == OutboxMessage.client_id, Client.org_id == OutboxMessage.org_id))


def _counts(session: Session, conds: list[Any]) -> dict[str, int]:
    per_status = dict(session.execute(_with_client(
        select(OutboxMessage.status, func.count()).select_from(OutboxMessage)).where(*conds)
        .group_by(OutboxMessage.status)).all())
    return {choice: sum(n for s, n in per_status.items() if statuses is None or s in statuses)
            for choice, statuses in STATUS_CHOICES.items()}


def _name(first: str | None, last: str | None) -> str:
    return f"{first or ''} {last or ''}".strip()


def list_messages(session: Session, actor: Actor, filt: OutboxFilter, *, now: datetime, mail_enabled: bool,
                  sms_enabled: bool = False,
                  limit: int = 50, offset: int = 0) -> OutboxPage:
    """One page of the clinic's outbox matching `filt`, newest first (outbox.manage), with the
    number matching and the counts per status choice; writes the "outbox.search" audit row (at
    `now`, aware UTC). `limit` is clamped to 1-200 and `offset` to 0-MAX_OFFSET; a secret's subject
    is "" (SECRET_KINDS); `mail_enabled` / `sms_enabled` pick the status labels. Raises
    PermissionDenied, ValidationFailed (field -> message)."""
    actor.require(PERMISSION)
    filt, tz, lo, hi = _checked(filt)
    limit, offset = max(1, min(int(limit), MAX_LIMIT)), max(0, min(int(offset), MAX_OFFSET))
    conds = _conditions(actor, filt, lo, hi, with_status=True)
    found = session.execute(_with_client(select(OutboxMessage, Client.first_name, Client.last_name, Campaign.name)
                                         .select_from(OutboxMessage))
                            .outerjoin(Campaign, Campaign.id == OutboxMessage.campaign_id).where(*conds)
                            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
                            .offset(offset).limit(limit)).all()
    counts = _counts(session, _conditions(actor, filt, lo, hi, with_status=False))
    rows = [OutboxRow(m.id, m.created_at, clinic_time_label(m.created_at, tz), m.channel, m.kind, kind_label(m.kind),
                      m.to_address, m.client_id, _name(first, last), shown_subject(m), m.status,
                      m.delivery_label(mail_enabled, sms_enabled), m.attempts, campaign or "")
            for m, first, last, campaign in found]
    present = session.execute(select(OutboxMessage.kind).where(OutboxMessage.org_id == actor.org_id)
                              .group_by(OutboxMessage.kind)).scalars().all()
    kinds = sorted(((k, kind_label(k)) for k in present), key=lambda kv: kv[1])
    record(session, actor, "outbox.search", "outbox_message", "", at=now, results=len(rows), offset=offset,
           filter={"status": filt.status, "channel": filt.channel, "kind": filt.kind, "client": filt.client,
                   "start": filt.start.isoformat() if filt.start else None,
                   "end": filt.end.isoformat() if filt.end else None, "time_zone": filt.time_zone})
    return OutboxPage(rows, counts[filt.status], counts, offset, limit, kinds)


# ------------------------------------------------------------------ one message


def _client_of(session: Session, message: OutboxMessage) -> Client | None:
    return session.get(Client, message.client_id) if message.client_id else None


def _current_address(client: Client | None, channel: str) -> str:
    if client is None:
        return ""
    return (client.email if channel == "email" else client.phone_e164) or ""


def _provider_refusal(message: OutboxMessage, *, mail_enabled: bool, sms_enabled: bool) -> str:
    """Why a queued message cannot be sent now: its channel's provider is not set up ("" when it is)."""
    if message.channel == "email":
        return "" if mail_enabled else NO_MAIL_SERVER
    return "" if sms_enabled else NO_SMS_PROVIDER


def resend_refusal(message: OutboxMessage, client: Client | None, *, mail_enabled: bool,
                   sms_enabled: bool = False, pending_job: bool = False) -> str:
    """Why `message` cannot be sent again ("" when it can): a failed message, or a `queued` one
    with no pending delivery job (`pending_job`: a procrastinate job todo / doing for it) whose
    channel's provider is set up now ("Send now"); never a secret (it expired), never to a
    client who has no address for the channel any more."""
    if message.status == MessageStatus.QUEUED:
        waiting = PENDING_JOB if pending_job else _provider_refusal(message, mail_enabled=mail_enabled,
                                                                   sms_enabled=sms_enabled)
        if waiting:
            return waiting
    elif message.status != MessageStatus.FAILED:
        return f"Only a failed message can be sent again; this one is {message.delivery_label(mail_enabled, sms_enabled)}."
    if message.kind in SECRET_KINDS:
        return "Sign-in codes and reset links expire: ask the person to request a new one."
    if client is not None and not _current_address(client, message.channel):
        what = "email address" if message.channel == "email" else "mobile number"
        return f"{_name(client.first_name, client.last_name)} has no {what} on file any more: add one first."
    return ""


def resend_label(message: OutboxMessage) -> str:
    """The button's words: "Send now" for a queued message nothing will send, else "Resend"."""
    return "Send now" if message.status == MessageStatus.QUEUED else "Resend"


def _resend_note(message: OutboxMessage, client: Client | None, refusal: str) -> str:
    if refusal:
        return refusal
    current = _current_address(client, message.channel)
    if current and current != message.to_address:
        return (f"Goes to {display_address(message.channel, current)}, the client's current address (it went to "
                f"{display_address(message.channel, message.to_address)}).")
    return f"Goes to {display_address(message.channel, message.to_address)} again."


def _message(session: Session, message_id: int, *, lock: bool) -> OutboxMessage:
    stmt = select(OutboxMessage).where(OutboxMessage.id == message_id)
    row = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if row is None:
        raise NotFound("outbox_message")
    return row


def read_message(session: Session, actor: Actor, message_id: int, *, now: datetime, time_zone: str,
                 mail_enabled: bool, sms_enabled: bool = False) -> MessageDetail:
    """All of message `message_id` (outbox.manage), times in `time_zone`; writes the
    "outbox.message.read" audit row naming its client (at `now`). Raises PermissionDenied,
    NotFound (another clinic's or no such message), ValidationFailed (unknown zone)."""
    actor.require(PERMISSION)
    tz = zone_of(time_zone)
    m = _message(session, message_id, lock=False)
    client = _client_of(session, m)
    refusal = resend_refusal(m, client, mail_enabled=mail_enabled, sms_enabled=sms_enabled,
                             pending_job=m.status == MessageStatus.QUEUED and has_pending_delivery_job(session, m.id)) \
        or opt_out_refusal(session, m.channel, _current_address(client, m.channel) or m.to_address)
    hidden = m.kind in SECRET_KINDS
    record(session, actor, "outbox.message.read", "outbox_message", m.id, client_id=m.client_id, at=now,
           kind=m.kind, channel=m.channel)
    return MessageDetail(
        id=m.id, channel=m.channel, kind=m.kind, kind_label=kind_label(m.kind), to_address=m.to_address,
        client_id=m.client_id, client_name=_name(client.first_name, client.last_name) if client else "",
        current_address=_current_address(client, m.channel), subject=shown_subject(m),
        body=HIDDEN_BODY if hidden else hide_manage_tokens(m.body), body_hidden=hidden, status=m.status,
        status_label=m.delivery_label(mail_enabled, sms_enabled), attempts=m.attempts, failure_reason=m.failure_reason or "",
        message_id=m.message_id or "", provider_id=m.provider_id or "",
        created_label=clinic_time_label(m.created_at, tz), sent_label=clinic_time_label(m.sent_at, tz), delivered_label=clinic_time_label(m.delivered_at, tz),
        appointment_id=m.appointment_id, resendable=not refusal, resend_note=_resend_note(m, client, refusal),
        resend_label=resend_label(m),
        campaign_name=_campaign_name(session, m.campaign_id))


def _campaign_name(session: Session, campaign_id: int | None) -> str:
    campaign = session.get(Campaign, campaign_id) if campaign_id else None
    return campaign.name if campaign is not None else ""


def resend_message(session: Session, actor: Actor, message_id: int, *, now: datetime,
                   settings: Settings) -> Resent:
    """Send message `message_id` again (outbox.manage): a failed one, or a queued one no job will
    pick up once its channel's provider is set up (resend_refusal). To the client's current
    address for the channel when it changed since (the desk fixed a typo), lifting a suppression
    of that address; back to `queued` with attempts kept and a new delivery job in this
    transaction (messaging.delivery.requeue_for_delivery, which clears the previous attempt's
    provider id and times). The row is locked first, so two resends at once requeue it once
    (the second finds a pending job and is refused). Writes "outbox.message.resend" (the previous
    status, and the previous attempt's provider id when it had one). Raises PermissionDenied,
    NotFound, NotResendable (with the reason)."""
    actor.require(PERMISSION)
    m = _message(session, message_id, lock=True)
    client = _client_of(session, m)
    pending = m.status == MessageStatus.QUEUED and has_pending_delivery_job(session, m.id)
    refusal = resend_refusal(m, client, mail_enabled=settings.mail_enabled, sms_enabled=settings.sms_enabled,
                             pending_job=pending) \
        or opt_out_refusal(session, m.channel, _current_address(client, m.channel) or m.to_address)
    if refusal:
        raise NotResendable(refusal)
    previous, was, old_provider_id = m.to_address, m.status, m.provider_id
    m.to_address = _current_address(client, m.channel) or previous
    lifted = lift_suppression(session, actor, m.channel, m.to_address, now=now)
    job_ids = requeue_for_delivery(session, m, settings=settings)
    changed = m.to_address != previous
    record(session, actor, "outbox.message.resend", "outbox_message", m.id, client_id=m.client_id, at=now,
           kind=m.kind, channel=m.channel, address_changed=changed, suppression_lifted=lifted, jobs=len(job_ids),
           previous_status=was, **({"previous_address": previous} if changed else {}),
           **({"previous_provider_id": old_provider_id} if old_provider_id else {}))
    return Resent(m.id, m.to_address, previous, changed, lifted, m.status,
                  m.delivery_label(settings.mail_enabled, settings.sms_enabled), job_ids, was)
