"""Files sent with an outbox email, and the booking confirmation's calendar entry.

An attachment is an `outbox_attachment` row written in the transaction that writes its message
(migration 0018; a tenant table under row-level security, deleted with its message). Delivery
reads the stored bytes at every attempt, so a retry sends exactly what the first attempt sent.

- `attach(session, message, filename, content_type, content)` writes one (any file);
- `attachments_of(session, message_id)` reads a message's files as frozen `Attachment`s,
  `load_attachments(message_id, org_id)` the same in a transaction of its own (delivery);
- `booking_invite(...)` builds the confirmation's `invite.ics` (RFC 5545, METHOD:PUBLISH) and
  `attach_booking_invite(...)` writes it for a confirmation email.

PUBLISH, not REQUEST (RFC 5546 §3.2.1 / §3.2.2): the client adds the visit to their calendar;
a REQUEST would make mail clients show the clinic as an organizer inviting them and offer
accept / decline replies nobody reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from icalendar import Calendar, Event, vCalAddress
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from medspa.domain.catalog.models import Service
from medspa.domain.messaging.models import OutboxAttachment, OutboxMessage
from medspa.domain.practice.models import Location, Organization, StaffMember
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.references import format_display_code
from medspa.domain.work import atomic

INVITE_FILENAME = "invite.ics"
# the MIME type of the part as well: text/calendar with its iTIP method (RFC 5545 §8.1, RFC 5546)
INVITE_CONTENT_TYPE = "text/calendar; charset=utf-8; method=PUBLISH"
PRODID = "-//medspa//booking confirmation//EN"
MAX_FILENAME = 200  # outbox_attachment.filename
MAX_CONTENT_TYPE = 100  # outbox_attachment.content_type


@dataclass(frozen=True)
class Attachment:
    """One file of an email: `filename` as the recipient sees it, `content_type` a MIME type
    with its parameters ("text/calendar; charset=utf-8; method=PUBLISH"), `content` the exact
    bytes sent."""

    filename: str
    content_type: str
    content: bytes


def attach(session: Session, message: OutboxMessage, filename: str, content_type: str,
           content: bytes) -> Attachment:
    """Write a file for email `message` (flushed: it has an id) in the session's transaction,
    under the message's clinic. Returns what was stored.

    filename: 1-200 characters, no path separators; content_type: "type/subtype" with optional
    "; name=value" parameters, at most 100 characters; content: the bytes, sent as they are.
    Raises ValueError for an SMS, an unflushed message or a bad filename / content type."""
    if message.id is None:
        raise ValueError("flush the message before attaching files to it")
    if message.channel != "email":
        raise ValueError("only an email carries attachments")
    if not filename or len(filename) > MAX_FILENAME or any(c in filename for c in "/\\\r\n\0"):
        raise ValueError(f"bad attachment filename {filename!r}")
    if "/" not in content_type.split(";", 1)[0] or len(content_type) > MAX_CONTENT_TYPE or "\n" in content_type:
        raise ValueError(f"bad attachment content type {content_type!r}")
    session.add(OutboxAttachment(org_id=message.org_id, message_id=message.id, filename=filename,
                                 content_type=content_type, content=bytes(content)))
    return Attachment(filename, content_type, bytes(content))


def attachments_of(session: Session, message_id: int) -> tuple[Attachment, ...]:
    """The files of outbox message `message_id` of the session's clinic, in the order they
    were attached; () when it has none (or it belongs to another clinic: row-level security)."""
    rows = session.exec(select(OutboxAttachment).where(OutboxAttachment.message_id == message_id)
                        .order_by(OutboxAttachment.id))
    return tuple(Attachment(r.filename, r.content_type, bytes(r.content)) for r in rows)


def load_attachments(message_id: int, org_id: int, *, engine: Engine | None = None) -> tuple[Attachment, ...]:
    """attachments_of in a read transaction of its own, scoped to clinic `org_id` (delivery
    reads them after the claim; the rows never change once their message is committed)."""
    with atomic(org_id, engine=engine) as work:
        return attachments_of(work.session, message_id)


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: instants are aware UTC")
    return instant.astimezone(timezone.utc).replace(microsecond=0)


def booking_invite(*, org: Organization, appointment: Appointment, location: Location, service: Service,
                   provider: StaffMember | None, stamp: datetime) -> bytes:
    """The visit as an iCalendar object (RFC 5545), UTF-8 with CRLF line ends: METHOD:PUBLISH
    and one VEVENT with

    - UID `appointment-<id>@<clinic slug>.medspa` (stable: a later update of the same visit
      can replace this entry), SEQUENCE the visit's ical_sequence (0 when booked; raised by each
      move, so a moved visit's invite replaces the first), DTSTAMP `stamp` (when the message was
      written);
    - DTSTART / DTEND the appointment's start_at / end_at as UTC instants ("...Z", the same
      instants as the calendar and the email's clinic-time text);
    - SUMMARY "<service> at <clinic>", LOCATION "<location name>, <address>", DESCRIPTION
      with the provider and the booking reference;
    - ORGANIZER (the clinic, CN its name) when the clinic has a reply-to address.

    Instants must be aware (ValueError otherwise)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"appointment-{appointment.id}@{org.slug}.medspa")
    event.add("sequence", appointment.ical_sequence or 0)
    event.add("dtstamp", _utc(stamp))
    event.add("dtstart", _utc(appointment.start_at))
    event.add("dtend", _utc(appointment.end_at))
    event.add("summary", f"{service.name} at {org.name}")
    event.add("location", ", ".join(p for p in (location.name, location.address) if p))
    with_whom = f"{service.name} with {provider.display_name}" if provider is not None else service.name
    reference = format_display_code(appointment.display_code)
    event.add("description", f"{with_whom} at {location.name}.\nBooking reference: {reference}")
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    if org.reply_to_email:
        organizer = vCalAddress(f"mailto:{org.reply_to_email}")
        organizer.params["cn"] = org.name
        event.add("organizer", organizer)
    cal.add_component(event)
    return cal.to_ical()


def attach_booking_invite(session: Session, message: OutboxMessage, *, org: Organization, appointment: Appointment,
                          location: Location, service: Service, provider: StaffMember | None) -> Attachment:
    """Write `invite.ics` (booking_invite, DTSTAMP = the message's created_at) for the booking
    confirmation email `message`, in the session's transaction."""
    content = booking_invite(org=org, appointment=appointment, location=location, service=service,
                             provider=provider, stamp=message.created_at)
    return attach(session, message, INVITE_FILENAME, INVITE_CONTENT_TYPE, content)
