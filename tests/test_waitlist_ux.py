"""The waitlist as a new user met it (trial findings 8 and 9), on the real PostgreSQL: an
offer link opened again after booking names the booking; the desk adds an existing client
found with the client search; the desk's day keeps the entries booked or closed with what
happened to them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import ClientInput, create_client
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.payments.gateway import TestPaymentGateway
from medspa.domain.scheduling.actions.desk import do_cancel_visit
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.references import format_display_code
from medspa.domain.waitlist.actions import do_add_to_waitlist, do_close_entry, fetch_offer, fetch_waitlist_page
from medspa.domain.waitlist.models import WaitlistEntry
from tests.factories import build_clinic
from tests.test_waitlist import CARD, DAY, NOW, _busy_day, _cancel_and_match, _join, _offer_rows, _wish, ny


@pytest.fixture
def waiting(engine, owner_engine):
    """A clinic whose provider 1 is busy all day but Vera's 10:00 visit, and Ann waiting for
    9:00-12:00 on DAY."""
    clinic = build_clinic(engine, owner_engine, providers=2)
    visit = _busy_day(clinic, engine)
    return clinic, visit, _join(clinic, engine, "Ann", 1)


def _book_link(clinic, engine, token: str, clock: FixedClock) -> Appointment:
    link = fetch_offer(clinic.public, token, clock=clock, engine=engine)
    req = OnlineBooking(location_id=link.location_id, service_id=link.service_id, start_at=link.start_at,
                        client=ClientInput(link.first_name, link.last_name, link.email, link.phone),
                        provider_id=link.provider_id, card=CARD, hold_id=link.hold_id)
    return book_online(engine, clinic.public, req, TestPaymentGateway(engine, clock.now), clock)


def test_an_offer_link_opened_again_after_booking_names_the_booking(engine, waiting):
    clinic, visit, _ = waiting
    clock = FixedClock(NOW + timedelta(hours=1))
    _cancel_and_match(clinic, engine, visit, clock)
    token = _offer_rows(clinic)[0].token
    fresh = fetch_offer(clinic.public, token, clock=clock, engine=engine)
    assert (fresh.usable, fresh.booked_reference) == (True, "")
    appt = _book_link(clinic, engine, token, clock)
    again = fetch_offer(clinic.public, token, clock=clock, engine=engine)
    assert again.usable is False
    assert again.booked_reference == format_display_code(appt.display_code)
    assert again.booked_when == "Wed, Jul 15, 2026, 10:00 AM EDT (America/New_York)"
    assert again.booked_manage == f"/book/{clinic.slug}/manage/{appt.booking_token}"
    # once the visit is cancelled the link no longer claims it is booked
    do_cancel_visit(clinic.staff_actor(), appt.id, clock=clock, engine=engine,
                    gateway=TestPaymentGateway(engine, clock.now))
    gone = fetch_offer(clinic.public, token, clock=clock, engine=engine)
    assert (gone.usable, gone.booked_reference, gone.booked_manage) == (False, "", "")


def test_the_desk_adds_an_existing_client_without_retyping_them(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        known = create_client(s, clinic.staff_actor(), ClientInput("Kim", "Known", f"kim-{clinic.slug}@example.com", ""))
        silent = create_client(s, clinic.staff_actor(), ClientInput("Sid", "Silent", "", ""))
        s.commit()
        known_id, silent_id = known.id, silent.id
    joined = do_add_to_waitlist(clinic.staff_actor(), None, _wish(clinic), client_id=known_id,
                                clock=FixedClock(NOW), engine=engine)
    with clinic.session() as s:
        entry = s.get(WaitlistEntry, joined.entry_id)
        assert (entry.client_id, entry.source, entry.status) == (known_id, "desk", "waiting")
        assert len(s.exec(select(Client)).all()) == 2  # nobody new was written
    with pytest.raises(ValidationFailed) as exc:
        do_add_to_waitlist(clinic.staff_actor(), None, _wish(clinic), client_id=silent_id, clock=FixedClock(NOW),
                           engine=engine)
    assert exc.value.fields == {"client": "This client has no email or mobile number to send the offer to: "
                                          "add one on their profile first"}
    with pytest.raises(NotFound):
        do_add_to_waitlist(clinic.staff_actor(), None, _wish(clinic), client_id=10**12, clock=FixedClock(NOW),
                           engine=engine)
    with pytest.raises(ValidationFailed) as exc:
        do_add_to_waitlist(clinic.staff_actor(), None, _wish(clinic), clock=FixedClock(NOW), engine=engine)
    assert exc.value.fields == {"client": "Find the client, or add a new one"}
    with pytest.raises(PermissionDenied):
        do_add_to_waitlist(clinic.public, None, _wish(clinic), client_id=known_id, clock=FixedClock(NOW),
                           engine=engine)


def test_the_desks_day_keeps_booked_and_closed_entries_with_what_happened(engine, waiting):
    clinic, visit, ann = waiting
    bea = _join(clinic, engine, "Bea", 2, provider=clinic.provider_ids[1])
    clock = FixedClock(NOW + timedelta(hours=1))
    _cancel_and_match(clinic, engine, visit, clock)
    appt = _book_link(clinic, engine, _offer_rows(clinic)[0].token, clock)
    do_close_entry(clinic.staff_actor(), bea, clock=clock, engine=engine)
    page = fetch_waitlist_page(clinic.staff_actor(), clinic.location_id, DAY, clock=clock, engine=engine)
    by_id = {r.id: r for r in page.rows}
    assert (by_id[ann].status, by_id[bea].status) == ("booked", "closed")
    assert by_id[ann].outcome == (f"Booked Wed, Jul 15, 2026, 10:00 AM EDT (America/New_York) with Provider 1 · "
                                  f"ref {format_display_code(appt.display_code)} · through the offer")
    assert by_id[bea].outcome == "Taken off the list Wed, Jul 1, 2026, 1:00 PM EDT (America/New_York)"
    # a day the entries did not cover lists neither
    later = fetch_waitlist_page(clinic.staff_actor(), clinic.location_id, DAY + timedelta(days=1), clock=clock,
                                engine=engine)
    assert later.rows == ()
    # an entry left past its last day says so
    after = FixedClock(ny(9) + timedelta(days=2))
    cai = _join(clinic, engine, "Cai", 3, start=13, end=17)
    page = fetch_waitlist_page(clinic.staff_actor(), clinic.location_id, DAY, clock=after, engine=engine)
    assert {r.id: r.outcome for r in page.rows}[cai] == "Ended after its last day"
