"""Issue 12 part 1, abuse limits on the anonymous booking side: bookings tried per network and
per email, and slots held at once per network and per email. Each found case is a test."""

from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.service import ClientInput
from medspa.domain.identity.actor import Actor
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.ratelimits import RateLimited
from medspa.domain.scheduling.actions.online import do_book_online, do_hold_slot
from medspa.domain.scheduling.booking import ActionRequired, OnlineBooking
from medspa.domain.scheduling.models import Appointment
from tests.conftest import utc
from tests.factories import build_clinic
from tests.test_api import CARD, booking, client  # noqa: F401 - the API client fixture

NY = ZoneInfo("America/New_York")
NOW = utc(2026, 7, 1, 12)
THREE_DS = CardDetails("4000002500003155", 12, 2030, "123")
GOOD = CardDetails("4242424242424242", 12, 2030, "123")


def at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(datetime(2026, 7, 15).date(), time(hour, minute), tzinfo=NY).astimezone(timezone.utc)


def request(clinic, start: datetime, email: str = "mia@example.com", card=GOOD, hold_id=None) -> OnlineBooking:
    return OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=start,
                         client=ClientInput("Mia", "Wong", email, "+1 212 555 0199"), card=card, hold_id=hold_id)


def held(clinic) -> int:
    with clinic.session() as s:
        return len(s.exec(select(Appointment.id).where(Appointment.status == "held")).all())


def test_three_d_secure_cards_from_one_network_hold_at_most_a_few_slots(client, engine, owner_engine, limits):
    """Found: 20 requests with a card needing 3-D Secure held a location's whole day for 10
    minutes. Now one network holds at most max_open_holds_per_ip slots; the next request is
    429 with Retry-After (the first hold's lapse) and a clear message, and holds nothing."""
    limits(max_open_holds_per_ip=3, max_open_holds_per_client=50)
    clinic = build_clinic(engine, owner_engine)
    url = f"/api/v1/{clinic.slug}/bookings"
    answers = []
    for i in range(6):
        start = f"2026-07-15T{9 + i:02d}:00:00-04:00"
        answers.append(client.post(url, json=booking(clinic, start=start, client={
            "first_name": "Mia", "last_name": "Wong", "email": f"mia{i}@example.com", "phone": "+1 212 555 0199"},
            payment={**CARD, "card_number": "4000002500003155"})))
    assert [a.status_code for a in answers] == [402, 402, 402, 429, 429, 429]
    refused = answers[3]
    assert refused.json()["error"] == "rate_limited"
    assert refused.json()["message"].startswith("Your network already holds 3 times while paying.")
    assert refused.headers["Retry-After"] == "600"  # the first hold lapses in 10 minutes (the injected clock)
    assert held(clinic) == 3


def test_one_email_holds_at_most_a_few_slots_whatever_the_network(engine, owner_engine, limits):
    limits(max_open_holds_per_ip=50, max_open_holds_per_client=2)
    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(NOW)
    gateway = TestPaymentGateway(engine, clock.now)
    for i in range(2):
        actor = Actor.public(clinic.org_id, ip=f"203.0.113.{i}")
        with pytest.raises(ActionRequired):
            do_book_online(actor, request(clinic, at(9 + i), card=THREE_DS), clock=clock, engine=engine,
                           gateway=gateway)
    with pytest.raises(RateLimited) as refused:
        do_book_online(Actor.public(clinic.org_id, ip="198.51.100.7"), request(clinic, at(12), card=THREE_DS),
                       clock=clock, engine=engine, gateway=gateway)
    assert str(refused.value).startswith("This email address already holds 2 times while paying.")
    assert held(clinic) == 2
    other = do_book_online(Actor.public(clinic.org_id, ip="198.51.100.7"),
                           request(clinic, at(12), email="ana@example.com"), clock=clock, engine=engine,
                           gateway=gateway)
    assert other.status == "confirmed"  # another client is not held back


def test_a_retry_on_its_own_hold_does_not_count_twice(engine, owner_engine, limits):
    """The booking page holds the slot when the client picks it; paying for that hold (also
    after a 3-D Secure card was not completed) reuses it and is not refused as a second hold."""
    limits(max_open_holds_per_ip=1, max_open_holds_per_client=1)
    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(NOW)
    gateway = TestPaymentGateway(engine, clock.now)
    actor = Actor.public(clinic.org_id, ip="203.0.113.9")
    hold = do_hold_slot(actor, clinic.location_id, clinic.services["botox"], at(10), clock=clock, engine=engine)
    with pytest.raises(ActionRequired):
        do_book_online(actor, request(clinic, at(10), card=THREE_DS, hold_id=hold.hold_id), clock=clock,
                       engine=engine, gateway=gateway)
    visit = do_book_online(actor, request(clinic, at(10), hold_id=hold.hold_id), clock=clock, engine=engine,
                           gateway=gateway)
    assert visit.status == "confirmed" and held(clinic) == 0
    again = do_hold_slot(actor, clinic.location_id, clinic.services["botox"], at(11), clock=clock, engine=engine)
    with pytest.raises(RateLimited):  # a second slot while the first is still held
        do_hold_slot(actor, clinic.location_id, clinic.services["botox"], at(12), clock=clock, engine=engine)
    moved = do_hold_slot(actor, clinic.location_id, clinic.services["botox"], at(12), clock=clock, engine=engine,
                         previous_hold_id=again.hold_id)  # picking another time replaces the hold
    assert moved.hold_id != again.hold_id and held(clinic) == 1


def test_free_bookings_for_made_up_clients_are_limited_per_network_and_per_email(engine, owner_engine, limits):
    """Found: free services were confirmed for made-up clients without limit."""
    limits(limit_booking_per_ip="3/hour", limit_booking_per_email="2/hour")
    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(NOW)
    gateway = TestPaymentGateway(engine, clock.now)
    laser = clinic.services["laser"]  # no deposit: confirmed at once
    actor = Actor.public(clinic.org_id, ip="203.0.113.20")

    def free(start, email, who=actor):
        req = OnlineBooking(location_id=clinic.location_id, service_id=laser, start_at=start,
                            client=ClientInput("Made", "Up", email, "+1 212 555 0142"))
        return do_book_online(who, req, clock=clock, engine=engine, gateway=gateway)

    assert [free(at(9 + i), f"made{i}@example.com").status for i in range(3)] == ["confirmed"] * 3
    with pytest.raises(RateLimited) as refused:
        free(at(13), "made9@example.com")
    assert str(refused.value).startswith("Too many booking attempts from your network. Please try again in ")
    assert 0 < refused.value.retry_after <= 3600
    elsewhere = Actor.public(clinic.org_id, ip="198.51.100.20")
    free(at(14), "same@example.com", elsewhere)
    free(at(15), "same@example.com", Actor.public(clinic.org_id, ip="198.51.100.21"))
    with pytest.raises(RateLimited, match="Too many booking attempts for this email address"):
        free(at(16), "same@example.com", Actor.public(clinic.org_id, ip="198.51.100.22"))
    other_clinic = build_clinic(engine, owner_engine)  # counted per clinic
    req = OnlineBooking(location_id=other_clinic.location_id, service_id=other_clinic.services["laser"],
                        start_at=at(9), client=ClientInput("Made", "Up", "made9@example.com", "+1 212 555 0142"))
    assert do_book_online(Actor.public(other_clinic.org_id, ip="203.0.113.20"), req, clock=clock, engine=engine,
                          gateway=TestPaymentGateway(engine, clock.now)).status == "confirmed"


@pytest.mark.parametrize("hops, expected", [(0, [201, 429]), (1, [201, 201])])
def test_behind_a_trusted_proxy_the_limit_keys_on_the_forwarded_address(client, engine, owner_engine, limits,  # noqa: F811
                                                                        hops, expected):
    """Behind one reverse proxy every request comes from the proxy: with TRUSTED_PROXY_HOPS=1
    the address it appended to X-Forwarded-For is the client's; without it that header is the
    client's own writing and is ignored (a spoofed header buys no new window)."""
    from medspa.web.client_ip import client_ip

    limits(limit_booking_per_ip="1/hour", trusted_proxy_hops=hops)
    clinic = build_clinic(engine, owner_engine)
    answers = []
    for i, forwarded in enumerate(("6.6.6.6, 203.0.113.1", "6.6.6.6, 203.0.113.2")):
        body = booking(clinic, start=f"2026-07-15T{10 + i}:00:00-04:00", client={
            "first_name": "Mia", "last_name": "Wong", "email": f"mia{i}@example.com", "phone": "+1 212 555 0199"})
        answers.append(client.post(f"/api/v1/{clinic.slug}/bookings", json=body,
                                   headers={"x-forwarded-for": forwarded}).status_code)
    assert answers == expected
    assert client_ip("10.0.0.5", {"x-forwarded-for": "6.6.6.6, 203.0.113.1"}, 1) == "203.0.113.1"
    assert client_ip("10.0.0.5", {"x-forwarded-for": "6.6.6.6, 203.0.113.1"}, 2) == "6.6.6.6"
    assert client_ip("10.0.0.5", {"x-forwarded-for": "203.0.113.1"}, 2) == "10.0.0.5"  # fewer hops than trusted
    assert client_ip("10.0.0.5", {}, 1) == "10.0.0.5"


def test_a_burst_from_one_network_cannot_slip_past_the_hold_cap(engine, owner_engine, limits):
    """The cap is checked in the hold's own transaction under an advisory lock per network:
    8 requests at once with 3-D Secure cards leave exactly 3 holds, the rest refused."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    limits(max_open_holds_per_ip=3, max_open_holds_per_client=0)
    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(NOW)
    gateway = TestPaymentGateway(engine, clock.now)
    actor = Actor.public(clinic.org_id, ip="203.0.113.77")
    start = threading.Barrier(8)

    def one(i: int) -> str:
        start.wait()
        try:
            do_book_online(actor, request(clinic, at(9, 0) + (at(9, 30) - at(9, 0)) * i, email=f"b{i}@example.com",
                                          card=THREE_DS), clock=clock, engine=engine, gateway=gateway)
        except ActionRequired:
            return "held"
        except RateLimited:
            return "refused"
        return "booked"

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(one, range(8)))
    assert outcomes == ["held"] * 3 + ["refused"] * 5
    assert held(clinic) == 3


def test_a_proxy_that_adds_its_own_forwarded_header_line_is_read_right(client, engine, owner_engine,  # noqa: F811
                                                                        limits):
    """Found (breaker): a proxy that adds its own X-Forwarded-For line (HAProxy's `option
    forwardfor`) after the client's made client_ip read the FIRST line, the client's own
    writing: each request with a new made-up header got a new window. The lines are read
    as one list, in order (RFC 9110 5.3)."""
    from starlette.datastructures import Headers

    from medspa.web.client_ip import client_ip

    two_lines = Headers(raw=[(b"x-forwarded-for", b"6.6.6.6"), (b"x-forwarded-for", b"203.0.113.1")])
    assert client_ip("10.0.0.5", two_lines, 1) == "203.0.113.1"
    assert client_ip("10.0.0.5", two_lines, 2) == "6.6.6.6"
    limits(limit_booking_per_ip="1/hour", trusted_proxy_hops=1)
    clinic = build_clinic(engine, owner_engine)
    answers = []
    for i in range(2):
        body = booking(clinic, start=f"2026-07-15T{10 + i}:00:00-04:00", client={
            "first_name": "Mia", "last_name": "Wong", "email": f"mia{i}@example.com", "phone": "+1 212 555 0199"})
        answers.append(client.post(f"/api/v1/{clinic.slug}/bookings", json=body, headers=[
            ("x-forwarded-for", f"6.6.6.{i}"), ("x-forwarded-for", "203.0.113.1")]).status_code)
    assert answers == [201, 429]


def test_a_declined_hold_counts_until_it_lapses_and_its_retry_is_not_refused(engine, owner_engine, limits):
    """Issue 15: a declined card keeps its hold. That hold is capacity held while paying, so it
    counts toward the caps (another slot is refused); the retry of the same booking with
    another card (no hold_id: the API) reuses it and is not refused as a second hold."""
    from medspa.domain.scheduling.booking import CardDeclined

    limits(max_open_holds_per_ip=1, max_open_holds_per_client=1)
    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(NOW)
    gateway = TestPaymentGateway(engine, clock.now)
    actor = Actor.public(clinic.org_id, ip="203.0.113.9")
    declined_card = CardDetails("4000000000000002", 12, 2030, "123")
    with pytest.raises(CardDeclined) as declined:
        do_book_online(actor, request(clinic, at(10), card=declined_card), clock=clock, engine=engine,
                       gateway=gateway)
    assert held(clinic) == 1
    with pytest.raises(RateLimited):  # another time while the declined hold still runs
        do_book_online(actor, request(clinic, at(11)), clock=clock, engine=engine, gateway=gateway)
    visit = do_book_online(actor, request(clinic, at(10)), clock=clock, engine=engine, gateway=gateway)
    assert (visit.id, visit.status) == (declined.value.hold_id, "confirmed") and held(clinic) == 0
