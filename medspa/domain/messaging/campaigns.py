"""Campaigns: a one-off marketing send to a segment (messaging.segments), by email, SMS or both.

Life: draft (save_draft: name, segment and parameters, channel, the email's subject and body
and the SMS's text, Jinja2 sources rendered in messaging.templates' sandbox with the client
context incl. links.unsubscribe) -> scheduled (schedule: an instant in the future, typed as a
location's wall-clock time; send_now: now) -> sending -> sent; or cancelled (before it starts, or while sending: what is queued goes).

The periodic tick (campaign_tick, every minute) does the sending in two steps:
- start: a due scheduled campaign (row locked, SKIP LOCKED) becomes `sending` and its
  recipients are snapshotted, one row per client and channel (unique, INSERT ... ON CONFLICT
  DO NOTHING): `skipped` with the marketing gate's reason (no consent, opted out,
  undeliverable, no address; messaging.marketing) or SAME_ADDRESS (a second client record
  with the same email or mobile number on that channel: the first client, by segment
  order, gets the one message), else `pending` with due_at = the start moved out of the
  clinic's quiet hours in the client's time zone (quiet_hours.next_allowed).
- queue: each due pending recipient (row locked, SKIP LOCKED) is checked against the gate
  again (consent may have been withdrawn while it waited) and against quiet hours again (a
  recipient due at 20:59 that a stalled worker reaches at 23:00 waits: due_at moves to the
  window's end, as reminders do), rendered and written to the outbox (kind "campaign",
  campaign_id, dedupe key campaign-<id>-<channel>-<client id>) and becomes `queued`; a
  sending campaign without pending recipients becomes `sent`.
- stop: a sending campaign can be stopped (cancel): its pending recipients become skipped
  STOPPED, the messages already written stay in the outbox.
Two workers or a re-run never write a message twice (row locks, unique recipients, dedupe keys).

Results (figures, status label): messaging.campaign_results. Every function takes a tenant session
and never commits (messaging.campaign_actions does).
campaign.manage guards the staff-facing ones (NotFound when missing or forbidden).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.base import is_row_id
from medspa.domain.clients.details import client_time_zones
from medspa.domain.clients.models import Client
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.campaign_results import Results, campaign_results
from medspa.domain.messaging.engage_models import CAMPAIGN_CHANNELS, Campaign, CampaignRecipient
from medspa.domain.messaging.marketing import CAMPAIGN_KIND, address_of, marketing_refusals
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.messaging.quiet_hours import in_quiet_hours, next_allowed
from medspa.domain.messaging.segments import SEGMENTS, channels_of, clean_params, segment_clients
from medspa.domain.messaging.service import add_new_messages
from medspa.domain.messaging.suppression import normal_address
from medspa.domain.messaging.templates import MAX_SUBJECT, TemplateInvalid, client_context, render_source
from medspa.domain.messaging.unsubscribe import unsubscribe_url
from medspa.domain.practice.models import Location, Organization
from medspa.domain.textrules import refuse_control
from medspa.domain.timezones import wall_to_utc

PERMISSION = "campaign.manage"
KIND = CAMPAIGN_KIND  # outbox_message.kind (marketing: List-Unsubscribe on its emails)
MAX_NAME = 120
BATCH = 500  # recipients queued per clinic per tick
EMAIL_FOOTER = "\n\nTo stop these emails: {url}"
SMS_FOOTER = " Reply STOP to opt out."
_STOP_WORD = re.compile(r"\bstop\b", re.IGNORECASE)
log = logging.getLogger(__name__)
CHANNEL_LABELS = {"email": "Email", "sms": "Text message", "both": "Email and text"}
SAME_ADDRESS = "same address as another recipient"  # skip reason: one message per address and channel
STOPPED = "campaign stopped"  # skip reason of the recipients still pending when it was stopped


def _require(actor: Actor) -> None:
    if not actor.can(PERMISSION):
        raise NotFound("campaign")


@dataclass(frozen=True)
class CampaignInput:
    """A draft as typed: `params` {parameter key: value as typed}; channel "email" / "sms" / "both"."""

    name: str
    segment: str
    params: dict[str, Any]
    channel: str
    subject: str = ""
    body: str = ""
    sms_body: str = ""


def _sample_client() -> Client:
    return Client(id=0, first_name="Alex", last_name="Sample", email="alex@example.com", phone_e164="+14155550100")


def render_campaign(org: Organization, campaign: Campaign | CampaignInput, client: Client,
                    channel: str) -> tuple[str, str]:
    """(subject, text) of the campaign's `channel` ("email" / "sms") message to `client`: the
    sources rendered with the client context (links.unsubscribe: the client's signed link on
    that channel), an opt-out line added when the text has none (email: the unsubscribe link;
    SMS: "Reply STOP to opt out." unless the word STOP is there). Raises TemplateInvalid."""
    url = unsubscribe_url(org.id, client.id or 0, channel)
    context = client_context(org, client, channel=channel, unsubscribe_url=url)
    if channel == "email":
        subject = " ".join(render_source(campaign.subject, context).split())[:MAX_SUBJECT]
        body = render_source(campaign.body, context).strip()
        if url not in body:
            body += EMAIL_FOOTER.format(url=url)
        return subject, body
    sms = render_source(campaign.sms_body, context).strip()
    if not _STOP_WORD.search(sms):
        sms += SMS_FOOTER
    return "", sms


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def validate(org: Organization, data: CampaignInput) -> tuple[CampaignInput, dict[str, int]]:
    """The input trimmed and its segment parameters; raises ValidationFailed keyed by field
    ("name", "segment", "param_<key>", "channel", "subject", "body", "sms_body") with every
    problem at once, the template ones in the sandbox's words."""
    errors: dict[str, str] = {}
    name = _text(data.name)
    if not name:
        errors["name"] = "Name the campaign"
    elif len(name) > MAX_NAME:
        errors["name"] = f"Keep it under {MAX_NAME} characters"
    refuse_control(name, "name", errors)
    params: dict[str, int] = {}
    try:
        params = clean_params(data.segment, data.params)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    channel = data.channel if data.channel in CAMPAIGN_CHANNELS else ""
    if not channel:
        errors["channel"] = "Choose email, text or both"
    clean = CampaignInput(name, data.segment, params, channel, _text(data.subject), _text(data.body),
                          _text(data.sms_body))
    refuse_control(clean.subject, "subject", errors)
    refuse_control(clean.body, "body", errors, multiline=True)
    refuse_control(clean.sms_body, "sms_body", errors, multiline=True)
    sample = _sample_client()
    for ch in channels_of(channel) if channel else ():
        if ch == "email":
            if not clean.subject:
                errors["subject"] = "Write the email's subject"
            if not clean.body:
                errors["body"] = "Write the email"
        elif not clean.sms_body:
            errors["sms_body"] = "Write the text message"
        if ch == "email" and clean.subject and clean.body:
            for key, source in (("subject", clean.subject), ("body", clean.body)):
                if key in errors:
                    continue
                try:
                    render_source(source, client_context(org, sample, channel="email", unsubscribe_url="https://x"))
                except TemplateInvalid as exc:
                    errors[key] = exc.message
            if len(clean.subject) > MAX_SUBJECT:
                errors["subject"] = f"Keep it under {MAX_SUBJECT} characters"
        if ch == "sms" and clean.sms_body and "sms_body" not in errors:
            try:
                render_source(clean.sms_body, client_context(org, sample, channel="sms", unsubscribe_url="https://x"))
            except TemplateInvalid as exc:
                errors["sms_body"] = exc.message
    if errors:
        raise ValidationFailed(errors)
    return clean, params


def _campaign(session: Session, campaign_id: Any, *, lock: bool = False) -> Campaign:
    if not is_row_id(campaign_id):
        raise NotFound("campaign")
    stmt = select(Campaign).where(Campaign.id == campaign_id)
    row = session.exec(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        raise NotFound("campaign")
    return row


def save_draft(session: Session, actor: Actor, campaign_id: int | None, data: CampaignInput, now: datetime) -> int:
    """Add (campaign_id None) or change a draft or scheduled campaign; returns its id. Raises
    NotFound (also forbidden, or a campaign already started), ValidationFailed (validate)."""
    _require(actor)
    org = session.get(Organization, actor.org_id)
    clean, params = validate(org, data)
    if campaign_id is None:
        row = Campaign(org_id=actor.org_id, name=clean.name, segment=clean.segment, segment_params=params,
                       channel=clean.channel, created_at=now, created_by=actor.label[:200])
        session.add(row)
    else:
        row = _campaign(session, campaign_id, lock=True)
        if row.status not in ("draft", "scheduled"):
            raise NotFound("campaign")
        row.name, row.segment, row.segment_params, row.channel = clean.name, clean.segment, params, clean.channel
    row.subject = clean.subject if "email" in channels_of(clean.channel) else ""
    row.body = clean.body if "email" in channels_of(clean.channel) else ""
    row.sms_body = clean.sms_body if "sms" in channels_of(clean.channel) else ""
    session.flush()
    record(session, actor, "campaign.save", "campaign", row.id, at=now, name=row.name, segment=row.segment,
           channel=row.channel)
    return row.id


@dataclass(frozen=True)
class Preview:
    """A campaign as one client would get it: whose (a segment member's first name, or the
    sample "Alex Sample" when the segment is empty), the email's subject and text, the SMS."""

    client_name: str
    subject: str
    body: str
    sms: str


def preview(session: Session, actor: Actor, data: CampaignInput, now: datetime) -> Preview:
    """The campaign as typed rendered for its segment's first client (by id). Raises NotFound
    (forbidden), ValidationFailed (validate)."""
    _require(actor)
    org = session.get(Organization, actor.org_id)
    clean, params = validate(org, data)
    clients = segment_clients(session, clean.segment, params, now)
    client = clients[0] if clients else _sample_client()
    subject = body = sms = ""
    for ch in channels_of(clean.channel):
        if ch == "email":
            subject, body = render_campaign(org, clean, client, "email")
        else:
            sms = render_campaign(org, clean, client, "sms")[1]
    return Preview(f"{client.first_name} {client.last_name}".strip(), subject, body, sms)


def schedule(session: Session, actor: Actor, campaign_id: int, day: str, wall: str, location_id: int | None,
             now: datetime) -> datetime:
    """Schedule a draft (or move a scheduled one) for `day` ("YYYY-MM-DD") at `wall` ("HH:MM")
    in the location's zone (the clinic's first location when None); returns the instant (aware
    UTC). Raises NotFound, ValidationFailed ("when": unreadable or not in the future)."""
    _require(actor)
    row = _campaign(session, campaign_id, lock=True)
    if row.status not in ("draft", "scheduled"):
        raise NotFound("campaign")
    stmt = select(Location).order_by(Location.id)
    if location_id is not None and not is_row_id(location_id):
        raise ValidationFailed({"when": "Choose a location"})
    if location_id is not None:
        stmt = stmt.where(Location.id == location_id)
    location = session.exec(stmt.limit(1)).first()
    if location is None:
        raise ValidationFailed({"when": "Choose a location"})
    try:
        d = date.fromisoformat(day.strip())
        t = time.fromisoformat(wall.strip())
    except (ValueError, AttributeError, TypeError):
        raise ValidationFailed({"when": "Enter a date and a time"}) from None
    instant = wall_to_utc(d, t.replace(second=0, microsecond=0, tzinfo=None), ZoneInfo(location.time_zone))
    if instant <= now:
        raise ValidationFailed({"when": "Choose a time in the future"})
    if instant > now + timedelta(days=366):
        raise ValidationFailed({"when": "Choose a time within a year"})
    row.status, row.scheduled_at = "scheduled", instant
    record(session, actor, "campaign.schedule", "campaign", row.id, at=now, scheduled_at=instant.isoformat())
    return instant


def send_now(session: Session, actor: Actor, campaign_id: int, now: datetime) -> None:
    """Schedule the campaign for `now` and start it at once (start_campaign; the messages are
    written by queue_due for those not in quiet hours). Raises NotFound."""
    _require(actor)
    row = _campaign(session, campaign_id, lock=True)
    if row.status not in ("draft", "scheduled"):
        raise NotFound("campaign")
    row.status, row.scheduled_at = "scheduled", now
    record(session, actor, "campaign.send", "campaign", row.id, at=now)
    start_campaign(session, row, now)


def cancel(session: Session, actor: Actor, campaign_id: int, now: datetime) -> int:
    """Cancel a draft or scheduled campaign, or stop a sending one: its pending recipients
    (those waiting for quiet hours to end or for the next batch) become skipped STOPPED,
    while the messages already written to the outbox stay. Returns how many recipients were
    stopped (0 before it started). The campaign row is locked first, so a tick that holds it
    finishes its batch before (or skips it after). Raises NotFound (also a sent or cancelled
    campaign)."""
    _require(actor)
    row = _campaign(session, campaign_id, lock=True)
    if row.status not in ("draft", "scheduled", "sending"):
        raise NotFound("campaign")
    stopped = 0
    if row.status == "sending":
        pending = session.exec(select(CampaignRecipient).where(CampaignRecipient.campaign_id == row.id,
                                                               CampaignRecipient.status == "pending")
                               .with_for_update()).all()
        for r in pending:
            r.status, r.skip_reason = "skipped", STOPPED
            session.add(r)
        stopped = len(pending)
        row.finished_at = now
    was = row.status
    row.status = "cancelled"
    session.flush()
    record(session, actor, "campaign.cancel", "campaign", row.id, at=now, was=was, stopped=stopped)
    return stopped


# ---------------------------------------------------------------------------------- sending


def start_campaign(session: Session, campaign: Campaign, now: datetime) -> int:
    """Snapshot the recipients of a scheduled campaign (locked by the caller) and mark it
    sending; returns how many rows were added (0 for a row already written: ON CONFLICT)."""
    org = session.get(Organization, campaign.org_id)
    start = campaign.scheduled_at or now
    clients = segment_clients(session, campaign.segment, clean_params(campaign.segment, campaign.segment_params), now)
    zones = client_time_zones(session, clients)
    rows = []
    for ch in channels_of(campaign.channel):
        refusals = marketing_refusals(session, clients, ch)
        taken: set[str] = set()  # normalised addresses a recipient already has on this channel
        for client in clients:
            reason = refusals[client.id]
            if not reason:
                address = normal_address(ch, address_of(client, ch))
                reason = SAME_ADDRESS if address in taken else ""
                taken.add(address)
            due = start if reason else next_allowed(max(start, now), zones[client.id], org.quiet_start, org.quiet_end)
            rows.append({"org_id": campaign.org_id, "campaign_id": campaign.id, "client_id": client.id, "channel": ch,
                         "address": address_of(client, ch)[:254], "due_at": due,
                         "status": "skipped" if reason else "pending", "skip_reason": reason})
    added = 0
    for i in range(0, len(rows), 1000):
        result = session.execute(insert(CampaignRecipient).values(rows[i:i + 1000]).on_conflict_do_nothing(
            constraint="uq_campaign_recipient"))
        added += result.rowcount or 0
    campaign.status, campaign.started_at = "sending", now
    session.flush()
    return added


def start_due(session: Session, now: datetime) -> list[int]:
    """Start every scheduled campaign of the session's clinic due by `now` that no other worker
    holds (FOR UPDATE SKIP LOCKED); returns their ids."""
    due = session.exec(select(Campaign).where(Campaign.status == "scheduled", Campaign.scheduled_at <= now)
                       .order_by(Campaign.id).with_for_update(skip_locked=True)).all()
    for campaign in due:
        start_campaign(session, campaign, now)
    return [c.id for c in due]


def queue_due(session: Session, now: datetime, *, limit: int = BATCH) -> tuple[int, int]:
    """Write the outbox message of up to `limit` due pending recipients of sending campaigns
    (rows locked, SKIP LOCKED), re-checking the marketing gate (a refused one is skipped) and
    quiet hours in the client's zone (one inside them stays pending, due_at moved to their
    end); returns (recipients handled, messages queued)."""
    pending = session.exec(select(CampaignRecipient).join(Campaign, Campaign.id == CampaignRecipient.campaign_id)
                           .where(CampaignRecipient.status == "pending", CampaignRecipient.due_at <= now,
                                  Campaign.status == "sending")
                           .order_by(CampaignRecipient.due_at, CampaignRecipient.id).limit(limit)
                           .with_for_update(of=CampaignRecipient, skip_locked=True)).all()
    if not pending:
        return 0, 0
    org = session.get(Organization, pending[0].org_id)
    clients = {c.id: c for c in session.exec(select(Client).where(Client.id.in_({r.client_id for r in pending})))}
    campaigns = {c.id: c for c in session.exec(select(Campaign).where(Campaign.id.in_({r.campaign_id for r in pending})))}
    refusals = {ch: marketing_refusals(session, list(clients.values()), ch) for ch in ("email", "sms")}
    zones = client_time_zones(session, list(clients.values()))
    queued = 0
    for r in pending:
        client, campaign = clients[r.client_id], campaigns[r.campaign_id]
        reason = refusals[r.channel][client.id]
        if not reason and in_quiet_hours(now, zones[client.id], org.quiet_start, org.quiet_end):
            # due before quiet hours but reached inside them (a stalled worker, long batches): wait
            r.due_at = next_allowed(now, zones[client.id], org.quiet_start, org.quiet_end)
            continue
        text_: tuple[str, str] | None = None
        if not reason:
            try:
                text_ = render_campaign(org, campaign, client, r.channel)
            except TemplateInvalid as exc:  # checked when saved: only a changed context or sandbox could
                reason = f"message did not render: {exc.message}"[:200]
                log.warning("campaign %s: the %s message to client %s did not render: %s", campaign.id, r.channel,
                            client.id, exc.message)
        if reason:
            r.status, r.skip_reason = "skipped", reason
            continue
        key = f"campaign-{campaign.id}-{r.channel}-{client.id}"
        message = OutboxMessage(org_id=r.org_id, channel=r.channel, kind=KIND, to_address=address_of(client, r.channel),
                                subject=text_[0], body=text_[1], client_id=client.id, dedupe_key=key,
                                campaign_id=campaign.id, created_at=now)
        added = add_new_messages(session, [message])
        r.message_id = added[0].id if added else session.exec(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)).first()
        r.status = "queued"
        queued += 1
    session.flush()
    return len(pending), queued


def finish_sent(session: Session, now: datetime) -> list[int]:
    """Mark `sent` every sending campaign with no pending recipient left; returns their ids."""
    rows = session.exec(select(Campaign).where(Campaign.status == "sending", ~select(CampaignRecipient.id).where(
        CampaignRecipient.campaign_id == Campaign.id, CampaignRecipient.status == "pending").exists())
        .with_for_update(skip_locked=True)).all()
    for row in rows:
        row.status, row.finished_at = "sent", now
    return [r.id for r in rows]


@dataclass(frozen=True)
class CampaignInfo:
    """A campaign as the page lists it (sources as stored; instants aware UTC) with Results."""

    id: int
    name: str
    segment: str
    segment_label: str
    params: dict[str, int]
    channel: str
    subject: str
    body: str
    sms_body: str
    status: str
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    results: Results
    currency: str = "USD"  # the clinic's, for the bookings' value


def _info(session: Session, row: Campaign, results: Results) -> CampaignInfo:
    seg = SEGMENTS.get(row.segment)
    org = session.get(Organization, row.org_id)
    return CampaignInfo(row.id, row.name, row.segment, seg.label if seg else row.segment, dict(row.segment_params),
                        row.channel, row.subject, row.body, row.sms_body, row.status, row.scheduled_at,
                        row.started_at, row.finished_at, row.created_at, results, org.currency)


def list_campaigns(session: Session, actor: Actor, *, limit: int = 200) -> list[CampaignInfo]:
    """The clinic's campaigns, newest first, with their results. Raises NotFound (forbidden)."""
    _require(actor)
    rows = session.exec(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc()).limit(limit)).all()
    results = campaign_results(session, [r.id for r in rows])
    return [_info(session, r, results[r.id]) for r in rows]


def get_campaign(session: Session, actor: Actor, campaign_id: int) -> CampaignInfo:
    """One campaign with its results. Raises NotFound."""
    _require(actor)
    row = _campaign(session, campaign_id)
    return _info(session, row, campaign_results(session, [row.id])[row.id])
