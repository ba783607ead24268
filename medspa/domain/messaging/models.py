"""The outbox: messages written in the transaction that caused them, sent later."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp


NOT_SENT_NO_MAIL_SERVER = "not sent: no mail server set up"
NOT_SENT_NO_SMS_PROVIDER = "not sent: no SMS provider set up"
NOT_SENT = "not sent:"  # a failure decided before any provider was contacted (e.g. a suppressed contact)


class MessageStatus(StrEnum):
    """Delivery state (the `outbox_message.status` column holds these values):
    queued -> sending (claimed, handed to the server) -> sent -> delivered (the carrier's
    receipt, SMS only), or failed (permanently, with the provider's reason); a temporary
    failure goes back to queued for the retry."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


class OutboxMessage(SQLModel, table=True):
    """An email or SMS to send. dedupe_key makes a message idempotent (e.g. one receipt per payment).

    Delivery: attempts (claims so far), message_id (the RFC 5322 Message-ID of an email, made
    once at the first claim and reused by every retry), job_id (the queue job that holds the
    claim), provider_id (an email: the SMTP server's answer to DATA; an SMS: Twilio's Message
    SID, which its status callbacks name), failure_reason (the last failure), delivered_at
    (an SMS: when Twilio's callback said delivered)."""

    __tablename__ = "outbox_message"
    __table_args__ = (UniqueConstraint("org_id", "dedupe_key", name="uq_outbox_dedupe"),)
    id: int | None = pk()
    org_id: int = org_fk()
    channel: str
    kind: str
    to_address: str
    subject: str = ""
    body: str
    client_id: int | None = fk("client.id", nullable=True)
    appointment_id: int | None = fk("appointment.id", nullable=True)
    dedupe_key: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    status: str = MessageStatus.QUEUED.value
    created_at: datetime = tstamp(default_now=True)
    sent_at: datetime | None = tstamp()
    attempts: int = 0
    message_id: str | None = Field(default=None, sa_column=Column(String(250), nullable=True))
    job_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    provider_id: str | None = Field(default=None, sa_column=Column(String(250), nullable=True))
    failure_reason: str | None = Field(default=None, sa_column=Column(String(1000), nullable=True))
    delivered_at: datetime | None = tstamp()
    # the email written because this SMS failed for good (migration 0018: one per SMS)
    fallback_for_id: int | None = Field(default=None, sa_column=Column(
        BigInteger, ForeignKey("outbox_message.id"), nullable=True))
    # the campaign that wrote it (issue 19, migration 0053), for the campaign's results
    campaign_id: int | None = Field(default=None, sa_column=Column(BigInteger, ForeignKey("campaign.id"),
                                                                   nullable=True))

    def delivery_label(self, mail_enabled: bool, sms_enabled: bool = False) -> str:
        """The status as owners read it: a message still queued without its channel's provider
        says so ("not sent: no mail server set up", "not sent: no SMS provider set up"); a
        failure reads "failed: <reason>", or the reason alone when no provider was contacted
        ("not sent: +1 415-555-0123 marked undeliverable on ..."); one waiting for its retry
        after a temporary failure reads "retrying: <reason>"."""
        if self.status == MessageStatus.QUEUED:
            if self.channel == "email" and not mail_enabled:
                return NOT_SENT_NO_MAIL_SERVER
            if self.channel == "sms" and not sms_enabled:
                return NOT_SENT_NO_SMS_PROVIDER
            if self.attempts > 0 and self.failure_reason:
                return f"retrying: {self.failure_reason}"
        if self.status == MessageStatus.FAILED and self.failure_reason:
            if self.failure_reason.startswith(NOT_SENT):
                return self.failure_reason
            return f"failed: {self.failure_reason}"
        return self.status


class ContactSuppression(SQLModel, table=True):
    """An email address or E.164 number that failed for good (hard bounce, invalid number,
    STOP), per clinic and channel ("email" / "sms"), with the provider's reason and the
    message that learnt it. Nothing is sent to it until an owner's resend lifts it."""

    __tablename__ = "contact_suppression"
    __table_args__ = (UniqueConstraint("org_id", "channel", "address", name="uq_contact_suppression"),)
    id: int | None = pk()
    org_id: int = org_fk()
    channel: str = Field(sa_column=Column(String(10), nullable=False))
    address: str = Field(sa_column=Column(String(254), nullable=False))
    reason: str = Field(sa_column=Column(String(1000), nullable=False))
    message_id: int | None = fk("outbox_message.id", nullable=True, index=False)
    created_at: datetime = tstamp(default_now=True)
    # SUPPRESSION_KINDS: "undeliverable" (an owner's resend may lift it) or "opted_out" (STOP: only START lifts it)
    kind: str = Field(default="undeliverable", sa_column=Column(String(20), nullable=False,
                                                                server_default="undeliverable"))


SUPPRESSION_KINDS = ("undeliverable", "opted_out")


class OutboxAttachment(SQLModel, table=True):
    """A file sent with an outbox email (e.g. the confirmation's .ics), written with the
    message in its transaction so every retry sends the same bytes."""

    __tablename__ = "outbox_attachment"
    id: int | None = pk()
    org_id: int = org_fk()
    message_id: int = fk("outbox_message.id", ondelete="CASCADE")
    filename: str = Field(sa_column=Column(String(200), nullable=False))
    content_type: str = Field(sa_column=Column(String(100), nullable=False))
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
