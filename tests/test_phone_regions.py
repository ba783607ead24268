"""Phone numbers are read with the clinic's country (issue 14: "every phone number is read as a
US number: a London clinic's desk and booking page refuse local mobiles"): the online booking,
the desk's new client, the booking page's own check and the form's example number, for US,
GB, AU, DE and FR clinics, in the formats people type."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import ClientInput
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.phones import example_mobile
from medspa.domain.practice.models import Organization
from medspa.domain.scheduling.actions.desk import do_book_for_client
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.features.booking.flow import check_client
from tests.conftest import utc
from tests.factories import build_clinic

NOW = utc(2026, 7, 1, 12)
CASES = [  # country, zone, as typed at the desk, as typed online, their E.164
    ("US", "America/New_York", "(212) 555-0147", "212.555.0148", "+12125550147", "+12125550148"),
    ("GB", "Europe/London", "07911 123456", "07911-223344", "+447911123456", "+447911223344"),
    ("AU", "Australia/Sydney", "0412 345 678", "0412345679", "+61412345678", "+61412345679"),
    ("DE", "Europe/Berlin", "01512 3456789", "0151 23456788", "+4915123456789", "+4915123456788"),
    ("FR", "Europe/Paris", "06 12 34 56 78", "06.12.34.56.79", "+33612345678", "+33612345679"),
]


def _clinic(engine, owner_engine, country: str, zone: str):
    clinic = build_clinic(engine, owner_engine, time_zone=zone)
    with owner_engine.begin() as conn:
        conn.execute(update(Organization).where(Organization.id == clinic.org_id).values(country=country))
    return clinic


def _slot(zone: str, hour: int) -> datetime:
    return datetime.combine(date(2026, 7, 15), time(hour), tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


@pytest.mark.parametrize(("country", "zone", "desk_typed", "online_typed", "desk_e164", "online_e164"), CASES)
def test_local_numbers_are_read_in_the_clinics_country(engine, owner_engine, country, zone, desk_typed,
                                                       online_typed, desk_e164, online_e164):
    clinic = _clinic(engine, owner_engine, country, zone)
    do_book_for_client(clinic.staff_actor("front_desk"), location_id=clinic.location_id,
                       service_id=clinic.services["botox"], provider_id=None, start_at=_slot(zone, 10),
                       client_id=None, new_client=ClientInput("Desk", "Client", "", desk_typed),
                       clock=FixedClock(NOW), engine=engine)
    assert check_client("Online", "Client", "online@example.com", online_typed, country) == {}
    clock = FixedClock(NOW)
    book_online(engine, clinic.public, OnlineBooking(
        location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=_slot(zone, 11),
        client=ClientInput("Online", "Client", "online@example.com", online_typed),
        card=CardDetails("4242424242424242", 12, 2030, "123")), TestPaymentGateway(engine, clock.now), clock)
    with clinic.session() as s:
        phones = {c.first_name: c.phone_e164 for c in s.exec(select(Client))}
    assert phones == {"Desk": desk_e164, "Online": online_e164}


def test_the_booking_page_check_and_placeholder_follow_the_country():
    assert check_client("Ann", "Lee", "ann@example.com", "07911 123456", "US") == {
        "phone": "This phone number is not valid"}  # a London mobile is no US number
    assert check_client("Ann", "Lee", "ann@example.com", "07911 123456", "GB") == {}
    assert [example_mobile(c) for c in ("US", "GB", "FR")] == ["(201) 555-0123", "07400 123456", "06 12 34 56 78"]
    assert example_mobile("") == ""
