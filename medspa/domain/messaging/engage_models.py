"""Tables of issue 19 (migration 0053): a clinic's message templates, the texts clients send
back, and campaigns with their recipients."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp


class MessageTemplate(SQLModel, table=True):
    """A clinic's wording of one message `kind` (a key of messaging.templates.KINDS) on one
    `channel` ("email" / "sms"): clinic-wide (service_id None) or for one service, which wins
    over the clinic-wide one. `subject` is the email's (a template too; "" for an SMS), `body`
    the Jinja2 source rendered in the sandbox. No row: the built-in default is used."""

    __tablename__ = "message_template"
    id: int | None = pk()
    org_id: int = org_fk()
    kind: str = Field(sa_column=Column(String(40), nullable=False))
    channel: str = Field(sa_column=Column(String(10), nullable=False))
    service_id: int | None = Field(default=None, sa_column=Column(
        BigInteger, ForeignKey("service.id", ondelete="CASCADE"), nullable=True))
    subject: str = Field(default="", sa_column=Column(String(300), nullable=False, server_default=""))
    body: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = tstamp(nullable=False)
    updated_by: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))


INBOUND_KEYWORDS = ("", "stop", "start", "help")


class InboundMessage(SQLModel, table=True):
    """A text a client sent to one of the clinic's numbers (Twilio's inbound webhook). `keyword`:
    "stop" / "start" / "help" when it was one of those commands (not flagged, except a
    "Cancel": a stop the client may have meant for the visit), else "" and `flagged` for the
    desk until someone marks it handled (handled_at, handled_by).
    provider_id: Twilio's MessageSid (a replayed webhook adds nothing)."""

    __tablename__ = "inbound_message"
    id: int | None = pk()
    org_id: int = org_fk()
    client_id: int | None = fk("client.id", nullable=True, index=False)
    channel: str = Field(default="sms", sa_column=Column(String(10), nullable=False, server_default="sms"))
    from_address: str = Field(sa_column=Column(String(254), nullable=False))
    to_address: str = Field(sa_column=Column(String(254), nullable=False))
    body: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    provider_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    received_at: datetime = tstamp(nullable=False)
    keyword: str = Field(default="", sa_column=Column(String(10), nullable=False, server_default=""))
    flagged: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    handled_at: datetime | None = tstamp()
    handled_by: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))


CAMPAIGN_CHANNELS = ("email", "sms", "both")
CAMPAIGN_STATUSES = ("draft", "scheduled", "sending", "sent", "cancelled")
RECIPIENT_STATUSES = ("pending", "queued", "skipped")


class Campaign(SQLModel, table=True):
    """A one-off marketing send to a segment (a key of messaging.segments, with its
    `segment_params`) on `channel` ("email", "sms", "both"): the email's `subject` and `body`
    and the SMS's `sms_body` (Jinja2 sources, sandboxed). status: draft -> scheduled (at
    scheduled_at, an aware UTC instant) -> sending (recipients chosen, started_at) -> sent
    (every recipient queued or skipped, finished_at); or cancelled before it starts."""

    __tablename__ = "campaign"
    id: int | None = pk()
    org_id: int = org_fk()
    name: str = Field(sa_column=Column(String(120), nullable=False))
    segment: str = Field(sa_column=Column(String(40), nullable=False))
    segment_params: dict = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}"))
    channel: str = Field(sa_column=Column(String(10), nullable=False))
    subject: str = Field(default="", sa_column=Column(String(300), nullable=False, server_default=""))
    body: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    sms_body: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    status: str = Field(default="draft", sa_column=Column(String(12), nullable=False, server_default="draft"))
    scheduled_at: datetime | None = tstamp()
    started_at: datetime | None = tstamp()
    finished_at: datetime | None = tstamp()
    created_at: datetime = tstamp(nullable=False)
    created_by: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))


class CampaignRecipient(SQLModel, table=True):
    """One client and channel a campaign reaches: `due_at` (aware UTC) is the send time moved
    out of the client's quiet hours; status pending -> queued (its outbox message written,
    `message_id`) or skipped (`skip_reason`: no consent, opted out, undeliverable, ...)."""

    __tablename__ = "campaign_recipient"
    __table_args__ = (UniqueConstraint("campaign_id", "client_id", "channel", name="uq_campaign_recipient"),)
    id: int | None = pk()
    org_id: int = org_fk()
    campaign_id: int = fk("campaign.id", index=False, ondelete="CASCADE")
    client_id: int = fk("client.id")
    channel: str = Field(sa_column=Column(String(10), nullable=False))
    address: str = Field(sa_column=Column(String(254), nullable=False))
    due_at: datetime = tstamp(nullable=False)
    status: str = Field(default="pending", sa_column=Column(String(10), nullable=False, server_default="pending"))
    skip_reason: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))
    message_id: int | None = fk("outbox_message.id", nullable=True, index=False)
