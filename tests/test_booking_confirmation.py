"""The booking confirmation (issue 15, part 2): "add to calendar" (.ics by the booking token),
the "manage booking" link (token, never the display code) on the page and in the email, the
balance due at the visit and the cancellation rule the visit was booked under."""

from __future__ import annotations

from datetime import datetime

import pytest
from icalendar import Calendar
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.errors import NotFound
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.money import format_money
from medspa.domain.payments.gateway import TestPaymentGateway
from medspa.domain.scheduling.actions.desk import do_cancel_visit
from medspa.domain.scheduling.actions.online import do_book_online, fetch_booking_calendar
from medspa.domain.scheduling.booking import OnlineBooking
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.references import calendar_url, manage_url
from medspa.domain.clients.service import ClientInput
from medspa.domain.payments.gateway import CardDetails
from medspa.settings import get_settings
from tests.conftest import utc
from tests.factories import build_clinic

from tests.test_api import CARD, START, client  # noqa: E402,F401  (the API test client: one fixture)


def _book(client, clinic) -> dict:
    body = {"location_id": clinic.location_id, "service_id": clinic.services["botox"], "provider_id": None,
            "start": START, "client": {"first_name": "Mia", "last_name": "Wong", "email": "mia@example.com",
                                       "phone": "+1 212 555 0199"}, "payment": dict(CARD)}
    r = client.post(f"/api/v1/{clinic.slug}/bookings", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_manage_and_calendar_urls_use_the_token():
    assert manage_url("lumiere", "tok_123456789012345678901") == "/book/lumiere/manage/tok_123456789012345678901"
    assert manage_url("lumiere", "T" * 32, "https://book.example.com/") == \
        f"https://book.example.com/book/lumiere/manage/{'T' * 32}"
    assert calendar_url("lumiere", "T" * 32) == f"/api/v1/lumiere/bookings/{'T' * 32}/calendar.ics"


def test_calendar_download_parses_and_carries_no_client_data(client, engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    booked = _book(client, clinic)
    r = client.get(calendar_url(clinic.slug, booked["token"]))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/calendar")
    assert 'filename="booking-' in r.headers["content-disposition"]
    cal = Calendar.from_ical(r.content)
    [event] = cal.walk("VEVENT")
    assert event.decoded("dtstart") == datetime.fromisoformat(START)
    assert event.decoded("dtend") == datetime.fromisoformat("2026-07-15T10:30:00-04:00")
    assert str(event["summary"]) == "Botox at Test Clinic"
    assert booked["reference"] in str(event["description"]) and "Provider 1" in str(event["description"])
    text = r.content.decode().lower()
    assert "mia" not in text and "wong" not in text and "555" not in text and "example.com" not in text
    # the same event as the confirmation email's invite.ics (one builder)
    with clinic.session() as s:
        email = s.exec(select(OutboxMessage).where(OutboxMessage.channel == "email", OutboxMessage.kind == "booking_confirmation")).one()
    assert f"{booked['token']}" in email.body
    # token only: the display code, another clinic, a made-up token are 404
    for code in (booked["reference"], booked["reference"].replace("-", "")):
        assert client.get(f"/api/v1/{clinic.slug}/bookings/{code}/calendar.ics").status_code == 404
    other = build_clinic(engine, owner_engine)
    assert client.get(calendar_url(other.slug, booked["token"])).status_code == 404
    assert client.get(calendar_url(clinic.slug, "x" * 32)).status_code == 404


def test_a_cancelled_visit_has_no_calendar_file(client, engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    booked = _book(client, clinic)
    with clinic.session() as s:
        appt = s.exec(select(Appointment)).one()
    do_cancel_visit(clinic.staff_actor(), appt.id, reason="client_request", clock=FixedClock(utc(2026, 7, 2)),
                    engine=engine, gateway=TestPaymentGateway(engine, lambda: utc(2026, 7, 2)))
    with pytest.raises(NotFound):
        fetch_booking_calendar(clinic.public, booked["token"], engine=engine)


def test_the_confirmation_email_links_the_manage_page_by_token(client, engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    booked = _book(client, clinic)
    with clinic.session() as s:
        email = s.exec(select(OutboxMessage).where(OutboxMessage.channel == "email", OutboxMessage.kind == "booking_confirmation")).one()
    link = manage_url(clinic.slug, booked["token"], get_settings().base_url)
    assert f"Manage your booking: {link}\n" in email.body
    assert link.startswith(("http://", "https://")) and booked["reference"] not in link


def test_booked_visit_has_balance_due_and_its_booked_policy(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, window_hours=48)
    clock = FixedClock(utc(2026, 7, 1, 12))
    req = OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"],
                        start_at=datetime.fromisoformat(START),
                        client=ClientInput("Mia", "Wong", "mia@example.com", "+1 212 555 0199"),
                        card=CardDetails("4242424242424242", 12, 2030, "123"))
    visit = do_book_online(clinic.public, req, clock=clock, engine=engine,
                           gateway=TestPaymentGateway(engine, clock.now))
    assert (visit.price_cents, visit.deposit_cents, visit.balance_cents) == (35000, 5000, 30000)
    assert format_money(visit.balance_cents, visit.currency) == "$300.00"
    assert visit.policy == ("Cancellations more than 48 hours ahead are refunded in full. "
                            "Later ones keep the deposit.")


def test_a_visit_booked_without_a_deposit_is_not_told_a_deposit_is_kept(engine, owner_engine):
    """New-user trial: a free-deposit booking's email said "Later ones keep the deposit"."""
    from medspa.domain.scheduling.actions.desk import do_book_for_client
    from medspa.domain.scheduling.policy import NOTHING_PAID_RULE

    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(utc(2026, 7, 1, 12))
    req = OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["laser"],  # no deposit
                        start_at=utc(2026, 7, 15, 14), client=ClientInput("Lea", "Ng", "lea@example.com", "(212) 555-0166"))
    online = do_book_online(clinic.public, req, clock=clock, engine=engine,
                            gateway=TestPaymentGateway(engine, clock.now))
    desk = do_book_for_client(clinic.staff_actor(), location_id=clinic.location_id,
                              service_id=clinic.services["botox"], provider_id=None, start_at=utc(2026, 7, 15, 16),
                              client_id=None, new_client=ClientInput("Mo", "Ray", "mo@example.com", ""),
                              clock=clock, engine=engine)
    with clinic.session() as s:
        for appointment_id in (online.id, desk):
            [email] = s.exec(select(OutboxMessage).where(OutboxMessage.appointment_id == appointment_id,
                                                        OutboxMessage.kind == "booking_confirmation",
                                                        OutboxMessage.channel == "email")).all()
            assert NOTHING_PAID_RULE in email.body and "keep the deposit" not in email.body
