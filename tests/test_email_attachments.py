"""Email attachments (issue 10): the booking confirmation carries the visit as invite.ics
(RFC 5545, METHOD:PUBLISH), stored with the message in the booking's transaction and sent as a
MIME part of its own, byte for byte the same on a retry. A real SMTP server (aiosmtpd, the
fixtures of tests/test_email_delivery.py) and the real PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import text
from sqlmodel import select

from medspa.domain.clients.service import ClientInput
from medspa.domain.messaging.actions import DeliveryOutcome, do_deliver_message
from medspa.domain.messaging.attachments import (
    INVITE_CONTENT_TYPE,
    Attachment,
    attach,
    attachments_of,
)
from medspa.domain.messaging.models import MessageStatus, OutboxAttachment, OutboxMessage
from medspa.domain.messaging.smtp import WIRE, Email, TemporaryFailure, build_message
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.desk import book_for_client
from medspa.domain.timezones import format_clinic_time
from tests.factories import build_clinic
from tests.test_email_delivery import CLOCK, _jobs_for, _one_email, _row, mail, smtp_server  # noqa: F401 - fixtures

NY = ZoneInfo("America/New_York")
CARD = CardDetails("4242 4242 4242 4242", 12, 2030, "123")
ADDRESS = "12 Spring St, New York, NY 10012"


def _clinic(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    with owner_engine.begin() as conn:
        conn.execute(text("update organization set name = 'Glow Aesthetics' where id = :id"), {"id": clinic.org_id})
    with clinic.session() as s:  # a tenant table: row-level security even for the owner role
        s.execute(text("update location set address = :a where id = :id"), {"a": ADDRESS, "id": clinic.location_id})
        s.commit()
    return clinic


def _book(engine, clinic, email="ana.ics@example.com"):
    start = datetime.combine(date(2026, 7, 15), time(10), tzinfo=NY).astimezone(timezone.utc)
    client = ClientInput("Ana", "Silva", email, "(212) 555-0147")
    return book_online(engine, clinic.public, OnlineBooking(location_id=clinic.location_id,
                       service_id=clinic.services["botox"], start_at=start, client=client, card=CARD),
                       TestPaymentGateway(engine, CLOCK.now), CLOCK)


def _emails_of(clinic, appointment_id) -> dict[str, int]:
    with clinic.session() as s:
        return {m.kind: m.id for m in s.exec(select(OutboxMessage).where(
            OutboxMessage.appointment_id == appointment_id, OutboxMessage.channel == "email"))}


def _attachment_rows(clinic) -> list[tuple[int, str]]:
    """The clinic's attachment rows (a tenant table: read in the clinic's own session)."""
    with clinic.session() as s:
        return [tuple(r) for r in s.execute(text("select message_id, filename from outbox_attachment order by id"))]


def _ics_part(received):
    parts = list(received.iter_attachments())
    assert len(parts) == 1, [p.get_content_type() for p in parts]
    return parts[0]


def test_a_booking_confirmation_arrives_with_text_html_and_its_invite(engine, owner_engine, mail):
    settings, sink = mail
    clinic = _clinic(engine, owner_engine)
    appt = _book(engine, clinic)
    emails = _emails_of(clinic, appt.id)
    confirmation = emails["booking_confirmation"]
    jobs = dict((m, j) for j, m in _jobs_for(owner_engine, [confirmation]))
    assert do_deliver_message(confirmation, clinic.org_id, job_id=jobs[confirmation], settings=settings,
                              clock=CLOCK, engine=engine) == DeliveryOutcome.SENT
    (_, received), = sink.messages

    assert received.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in received.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/calendar"]
    text_part = received.get_body(("plain",)).get_content()
    assert "<p>Hi Ana,</p>" in received.get_body(("html",)).get_content()
    when = format_clinic_time(appt.start_at, clinic.time_zone)
    assert f"confirmed for {when}" in text_part and "(America/New_York)" in when

    part = _ics_part(received)
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("charset") == "utf-8" and part.get_param("method") == "PUBLISH"
    assert part.get_content_disposition() == "attachment" and part.get_filename() == "invite.ics"
    raw = part.get_payload(decode=True)
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and b"\r\nMETHOD:PUBLISH\r\n" in raw

    calendar = Calendar.from_ical(raw)
    assert str(calendar["METHOD"]) == "PUBLISH" and str(calendar["VERSION"]) == "2.0"
    event, = calendar.walk("VEVENT")
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == appt.start_at and end == appt.end_at  # the same instants as the calendar
    assert start.utcoffset() == timedelta(0) and b"DTSTART:20260715T140000Z" in raw  # 10:00 EDT as UTC
    assert str(event["UID"]) == f"appointment-{appt.id}@{clinic.slug}.medspa"
    assert int(event["SEQUENCE"]) == 0 and event.decoded("DTSTAMP").utcoffset() == timedelta(0)
    assert str(event["SUMMARY"]) == "Botox at Glow Aesthetics"
    assert str(event["LOCATION"]) == f"Main, {ADDRESS}"
    code = appt.display_code
    assert f"Booking reference: {code[:4]}-{code[4:]}" in str(event["DESCRIPTION"])

    # the deposit receipt has no attachment: it stays multipart/alternative
    receipt = emails["deposit_receipt"]
    assert do_deliver_message(receipt, clinic.org_id, settings=settings, engine=engine) == DeliveryOutcome.SENT
    assert sink.messages[-1][1].get_content_type() == "multipart/alternative"
    assert _attachment_rows(clinic) == [(confirmation, "invite.ics")]


def test_a_retry_after_a_4xx_sends_the_same_attachment_bytes(engine, owner_engine, mail):
    settings, sink = mail
    clinic = _clinic(engine, owner_engine)
    appt = _book(engine, clinic)
    confirmation = _emails_of(clinic, appt.id)["booking_confirmation"]
    (job_id, _), = _jobs_for(owner_engine, [confirmation])
    sink.answers = ["451 4.3.0 try again later"]
    with pytest.raises(TemporaryFailure, match="451"):
        do_deliver_message(confirmation, clinic.org_id, job_id=job_id, settings=settings, engine=engine)
    assert do_deliver_message(confirmation, clinic.org_id, job_id=job_id, settings=settings,
                              engine=engine) == DeliveryOutcome.SENT
    first, second = sink.received
    assert first["Message-ID"] == second["Message-ID"]
    with clinic.session() as s:
        stored, = attachments_of(s, confirmation)
    assert _ics_part(first).get_payload(decode=True) == _ics_part(second).get_payload(decode=True) == stored.content
    assert _row(clinic, confirmation).status == MessageStatus.SENT


def test_a_message_without_attachments_stays_multipart_alternative(engine, owner_engine, mail):
    settings, sink = mail
    clinic = _clinic(engine, owner_engine)
    message_id = _one_email(clinic)
    with clinic.session() as s:
        assert attachments_of(s, message_id) == ()
    assert do_deliver_message(message_id, clinic.org_id, settings=settings, engine=engine) == DeliveryOutcome.SENT
    (_, received), = sink.messages
    assert received.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in received.walk()] == ["multipart/alternative", "text/plain", "text/html"]
    assert list(received.iter_attachments()) == []


def test_a_rolled_back_booking_leaves_no_attachment(engine, owner_engine, mail):
    settings, _ = mail
    clinic = _clinic(engine, owner_engine)
    start = datetime.combine(date(2026, 7, 16), time(11), tzinfo=NY).astimezone(timezone.utc)
    with clinic.session() as s:
        appt = book_for_client(s, clinic.staff_actor(), location_id=clinic.location_id,
                               service_id=clinic.services["botox"], start_at=start, now=CLOCK.now(),
                               new_client=ClientInput("Bea", "Lund", "bea.ics@example.com", ""))
        s.flush()
        inside = s.exec(select(OutboxAttachment).where(OutboxAttachment.org_id == clinic.org_id)).all()
        assert [a.filename for a in inside] == ["invite.ics"]  # written in the booking's transaction
        message_id = inside[0].message_id
        assert appt.id is not None
        s.rollback()
    assert _attachment_rows(clinic) == []
    with clinic.session() as s:
        assert s.get(OutboxMessage, message_id) is None
        assert s.exec(select(OutboxMessage)).all() == []  # nor the confirmation itself


def test_a_desk_booking_attaches_once_and_a_re_add_attaches_nothing(engine, owner_engine, mail):
    """The confirmation is deduplicated per appointment; its invite is written only with it."""
    from medspa.domain.catalog.models import Service
    from medspa.domain.clients.models import Client
    from medspa.domain.messaging.service import queue_booking_confirmation
    from medspa.domain.practice.models import Location, Organization, StaffMember

    settings, _ = mail
    clinic = _clinic(engine, owner_engine)
    start = datetime.combine(date(2026, 7, 16), time(13), tzinfo=NY).astimezone(timezone.utc)
    with clinic.session() as s:
        appt = book_for_client(s, clinic.staff_actor(), location_id=clinic.location_id,
                               service_id=clinic.services["botox"], start_at=start, now=CLOCK.now(),
                               new_client=ClientInput("Cy", "Moss", "cy.ics@example.com", ""))
        s.commit()
        again = queue_booking_confirmation(
            s, org=s.get(Organization, clinic.org_id), appointment=appt, client=s.get(Client, appt.client_id),
            location=s.get(Location, appt.location_id), service=s.get(Service, appt.service_id),
            provider=s.get(StaffMember, appt.provider_id))
        s.commit()
    assert again == []
    confirmation = _emails_of(clinic, appt.id)["booking_confirmation"]
    assert _attachment_rows(clinic) == [(confirmation, "invite.ics")]


def test_attachments_are_a_tenant_table_and_attach_checks_its_input(engine, owner_engine, mail):
    clinic, other = _clinic(engine, owner_engine), build_clinic(engine, owner_engine)
    message_id = _one_email(clinic)
    with clinic.session() as s:
        message = s.get(OutboxMessage, message_id)
        stored = attach(s, message, "notes.txt", "text/plain", "héllo\r\n".encode())
        s.commit()
        assert attachments_of(s, message_id) == (stored,)
        sms = OutboxMessage(org_id=clinic.org_id, channel="sms", kind="x", to_address="+12125550147", body="b")
        s.add(sms)
        s.flush()
        for args in ((sms, "a.txt", "text/plain"), (message, "../a.txt", "text/plain"), (message, "", "text/plain"),
                     (message, "a.txt", "plain"), (message, "a.txt", "text/plain\r\nX-Evil: 1")):
            with pytest.raises(ValueError):
                attach(s, *args, b"x")
        s.rollback()
    with other.session() as s:  # row-level security: another clinic sees nothing
        assert attachments_of(s, message_id) == ()
        assert s.exec(select(OutboxAttachment)).all() == []


def test_build_message_puts_each_attachment_in_a_part_of_its_own():
    ics = Attachment("invite.ics", INVITE_CONTENT_TYPE, b"BEGIN:VCALENDAR\r\nSUMMARY:Caf\xc3\xa9\r\nEND:VCALENDAR\r\n")
    pdf = Attachment("receipt.pdf", "application/pdf", b"%PDF-1.4\n\x00\xff")
    email = Email("Glow", "hello@glow.example", "ana@example.com", "Hi", "Hi Ana", "<1@glow.example>",
                  attachments=(ics, pdf))
    received = message_from_bytes(build_message(email).as_bytes(policy=WIRE), policy=policy.default)
    assert received.get_content_type() == "multipart/mixed"
    first, second = received.iter_attachments()
    assert (first.get_filename(), first.get_content_type(), first.get_param("method")) == \
        ("invite.ics", "text/calendar", "PUBLISH")
    assert first.get_payload(decode=True) == ics.content and first.get_content() == ics.content.decode()
    assert (second.get_filename(), second.get_content_type()) == ("receipt.pdf", "application/pdf")
    assert second.get_param("charset") is None and second.get_payload(decode=True) == pdf.content
    assert received.get_body(("plain",)).get_content().strip() == "Hi Ana"
