"""Issue 10 §2: the desk's cancellation, the client's own cancellation (a refund or a kept
deposit) and a checkout each write their message in the transaction of their cause
(medspa/domain/messaging/notices.py): clinic time with the zone, money formatted from cents,
deduplicated per appointment, nothing for a declined checkout or a rolled-back cancellation."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.service import ClientInput
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.messaging.notices import queue_cancellation_notice, queue_checkout_receipt
from medspa.domain.payments.checkout import checkout_visit
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.portal import cancellation as own_cancellation
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.desk import book_for_client, cancel_visit
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import change_status
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
GOOD = CardDetails("4242 4242 4242 4242", 12, 2030, "123")
DECLINE = CardDetails("4000 0000 0000 0002", 12, 2030, "123")
NOW = datetime(2026, 7, 1, 12, tzinfo=timezone.utc)


def at(h: int, day: date = date(2026, 7, 15)) -> datetime:
    return datetime.combine(day, time(h), tzinfo=NY).astimezone(timezone.utc)


def paid_booking(clinic, start: datetime, n: int = 1, booked_at: datetime = NOW) -> Appointment:
    clock = FixedClock(booked_at)
    req = OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=start,
                        client=ClientInput("Ana", "Silva", f"ana{n}@example.com", f"+1212555{n:04d}"), card=GOOD)
    return book_online(clinic.engine, clinic.public, req, TestPaymentGateway(clinic.engine, clock.now), clock)


def notices(s, appt_id: int, kind: str = "cancellation_notice") -> dict[str, OutboxMessage]:
    rows = s.exec(select(OutboxMessage).where(OutboxMessage.appointment_id == appt_id, OutboxMessage.kind == kind)
                  .order_by(OutboxMessage.id)).all()
    assert len({m.channel for m in rows}) == len(rows), "one message per channel"
    return {m.channel: m for m in rows}


def test_desk_cancellation_outside_and_inside_the_window_notifies_with_the_deposit_outcome(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    early = paid_booking(clinic, at(10), 1)
    late = paid_booking(clinic, at(11), 2)
    with clinic.session() as s:
        cancel_visit(s, clinic.staff_actor(), early.id, now=NOW)
        cancel_visit(s, clinic.staff_actor(), late.id, now=at(9))
        s.commit()
        refunded, kept = notices(s, early.id), notices(s, late.id)
    assert set(refunded) == set(kept) == {"email", "sms"}
    when = "Wed, Jul 15, 2026, 10:00 AM EDT (America/New_York)"
    email = refunded["email"]
    assert (email.to_address, email.subject) == ("ana1@example.com", f"Cancelled: Botox on {when}")
    assert f"Your Botox on {when} at Main is cancelled." in email.body
    assert "$50.00 is being refunded to your card" in email.body and "kept" not in email.body
    assert "$50.00 is being refunded to your card" in refunded["sms"].body and when in refunded["sms"].body
    assert refunded["sms"].to_address == "+12125550001"
    assert "11:00 AM EDT (America/New_York)" in kept["email"].body
    assert "$50.00 kept (cancelled inside the 24-hour window)" in kept["email"].body
    assert "$50.00 kept (cancelled inside the 24-hour window)" in kept["sms"].body
    assert "refunded" not in kept["email"].body


def test_no_deposit_says_nothing_about_one_and_no_contact_gets_no_message(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        desk = clinic.staff_actor()
        mia = book_for_client(s, desk, location_id=clinic.location_id, service_id=clinic.services["botox"],
                              start_at=at(10), now=NOW, new_client=ClientInput("Mia", "Wong", "mia@example.com", ""))
        ghost = book_for_client(s, desk, location_id=clinic.location_id, service_id=clinic.services["botox"],
                                start_at=at(12), now=NOW, new_client=ClientInput("No", "Contact", "", ""))
        s.commit()
        cancel_visit(s, desk, mia.id, now=NOW)
        cancel_visit(s, desk, ghost.id, now=NOW)
        s.commit()
        sent = notices(s, mia.id)
        assert set(sent) == {"email"}  # no phone: no SMS
        assert "deposit" not in sent["email"].body.lower()
        assert s.exec(select(OutboxMessage).where(OutboxMessage.appointment_id == ghost.id)).all() == []


def test_a_duplicate_step_adds_nothing_and_a_rolled_back_cancellation_leaves_no_message(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt = paid_booking(clinic, at(10))
    with clinic.session() as s:
        cancel_visit(s, clinic.staff_actor(), appt.id, now=NOW)
        assert set(notices(s, appt.id)) == {"email", "sms"}  # flushed in the transaction
        s.rollback()
        assert notices(s, appt.id) == {}
        assert s.get(Appointment, appt.id).status == "confirmed"
    with clinic.session() as s:
        cancel_visit(s, clinic.staff_actor(), appt.id, now=NOW)
        s.commit()
        again = queue_cancellation_notice(s, s.get(Appointment, appt.id), paid_cents=5000, refunding_cents=5000,
                                          kept=False)
        s.commit()
        assert again == []
        assert set(notices(s, appt.id)) == {"email", "sms"}


def test_the_clients_own_cancellation_writes_the_same_notice(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    early = paid_booking(clinic, at(10), 1)
    late = paid_booking(clinic, at(15, date(2026, 7, 1)), 2)  # today, inside 24 h
    with clinic.session() as s:
        own_cancellation.cancel_own_appointment(s, Actor.client(clinic.org_id, early.client_id), early.id, now=NOW)
        own_cancellation.cancel_own_appointment(s, Actor.client(clinic.org_id, late.client_id), late.id, now=NOW)
        s.commit()
        refunded, kept = notices(s, early.id), notices(s, late.id)
    assert set(refunded) == set(kept) == {"email", "sms"}
    assert "$50.00 is being refunded to your card" in refunded["email"].body
    assert "Wed, Jul 1, 2026, 3:00 PM EDT (America/New_York)" in kept["email"].body
    assert "$50.00 kept (cancelled inside the 24-hour window)" in kept["email"].body


def checked_in(clinic, start: datetime, n: int = 1) -> int:
    appt = paid_booking(clinic, start, n, booked_at=start - timedelta(days=14))
    with clinic.session() as s:
        change_status(s, clinic.staff_actor(), appt.id, "check_in", now=start - timedelta(minutes=5))
        s.commit()
    return appt.id


def test_checkout_writes_one_receipt_with_the_figures(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt_id = checked_in(clinic, at(10))
    now = at(10) + timedelta(minutes=40)
    out = checkout_visit(engine, clinic.staff_actor("front_desk"), appt_id,
                         gateway=TestPaymentGateway(engine, lambda: now), now=now, card=GOOD)
    with clinic.session() as s:
        assert out.status == "succeeded"
        receipts = notices(s, appt_id, "checkout_receipt")
        assert set(receipts) == {"email"}
        body = receipts["email"].body
        assert receipts["email"].to_address == "ana1@example.com"
        assert "Botox on Wed, Jul 15, 2026, 10:00 AM EDT (America/New_York) at Main" in body
        assert "Price: $350.00\nDeposit applied: $50.00\nCharged now: $300.00 (card ending 4242)\n" \
               "Total paid: $350.00\n" in body
        assert queue_checkout_receipt(s, s.get(Appointment, appt_id), applied_cents=5000, payment=None) is None
        s.commit()
        assert len(notices(s, appt_id, "checkout_receipt")) == 1


def test_a_declined_checkout_writes_no_receipt_and_the_next_attempt_one(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt_id = checked_in(clinic, at(10))
    now = at(10) + timedelta(minutes=40)
    gateway = TestPaymentGateway(engine, lambda: now)
    out = checkout_visit(engine, clinic.staff_actor(), appt_id, gateway=gateway, now=now, card=DECLINE)
    with clinic.session() as s:
        assert out.status == "declined"
        assert notices(s, appt_id, "checkout_receipt") == {}
    out = checkout_visit(engine, clinic.staff_actor(), appt_id, gateway=gateway, now=now, card=GOOD)
    with clinic.session() as s:
        assert out.status == "succeeded"
        assert list(notices(s, appt_id, "checkout_receipt")) == ["email"]


def test_a_hold_that_expires_writes_no_message(engine, owner_engine):
    from medspa.domain.clients.service import find_or_create_client
    from medspa.domain.scheduling.actions.online import do_expire_lapsed_holds
    from medspa.domain.scheduling.service import hold_slot

    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        ana = find_or_create_client(s, clinic.system, ClientInput("Ana", "Silva", "ana@example.com", "+12125550001"))
        held = hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=at(10), now=NOW, client_id=ana.id)
        s.commit()
        held_id = held.id
    released = do_expire_lapsed_holds(clock=FixedClock(NOW + timedelta(hours=2)), engine=engine)
    assert (clinic.org_id, held_id) in [(e.org_id, e.appointment_id) for e in released]
    with clinic.session() as s:
        assert s.get(Appointment, held_id).status == "expired"
        assert s.exec(select(OutboxMessage).where(OutboxMessage.appointment_id == held_id)).all() == []
