"""Issue 11 part 3, disputes: charge.dispute.* events from the (fake) Stripe are recorded on a
`dispute` row, forward-only and once; funds withdrawn / reinstated are ledger lines; the
clinic's owners get an email with the evidence the clinic holds and see open disputes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.service import ClientInput
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.domain.identity.models import UserAccount
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.disputes import dispute_evidence, open_disputes
from medspa.domain.payments.invariant import money_violations
from medspa.domain.payments.models import Dispute, LedgerEntry, Payment
from medspa.domain.payments.stripe_gateway import StripeGateway
from medspa.domain.payments.webhooks import handle_stripe_event
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from tests.conftest import utc
from tests.factories import build_clinic
from tests.fake_stripe import FakeStripe, sign_header

NY = ZoneInfo("America/New_York")
START = utc(2026, 7, 1, 12)
SLOT = datetime.combine(date(2026, 7, 15), time(10), tzinfo=NY).astimezone(timezone.utc)


@pytest.fixture
def fake():
    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture
def setup(engine, owner_engine, fake):
    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(START)
    stripe = StripeGateway(fake.api_key, fake.url)
    with clinic.session() as s:
        for role, email in (("owner", "owner@clinic.example"), ("manager", "manager@clinic.example")):
            s.add(UserAccount(org_id=clinic.org_id, email=f"{clinic.slug}-{email}", password_hash="x", role=role))
        s.commit()
    visitor = Actor.public(clinic.org_id, ip="203.0.113.9", user_agent="Mozilla/5.0 (test)")
    appt = book_online(clinic.engine, visitor, OnlineBooking(
        location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=SLOT,
        client=ClientInput("Mia", "Wong", "mia@example.com", "+1 212 555 0199"), payment_method_id="pm_card_visa"),
        stripe, clock)
    with clinic.session() as s:
        payment = s.exec(select(Payment).where(Payment.appointment_id == appt.id)).one()
    return clinic, clock, stripe, payment


def deliver(clinic, stripe, clock, body: bytes) -> str:
    return handle_stripe_event(clinic.engine, body, sign_header(body, "whsec_x", int(clock.now().timestamp())),
                               "whsec_x", stripe, clock)


def dispute_lines(clinic, payment_id):
    with clinic.session() as s:
        return [(e.entry_type, e.amount_cents) for e in s.exec(select(LedgerEntry).where(
            LedgerEntry.payment_id == payment_id, LedgerEntry.entry_type.like("dispute%")).order_by(LedgerEntry.id))]


def the_dispute(clinic) -> Dispute:
    with clinic.session() as s:
        (d,) = s.exec(select(Dispute)).all()
        return d


def owner_mail(clinic):
    with clinic.session() as s:
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.kind == "dispute_opened")))


def check(clinic, clock):
    with clinic.session() as s:
        assert money_violations(s, clock.now()) == []


def test_a_dispute_is_recorded_flagged_to_the_owner_with_evidence_and_its_money_moves(setup, fake):
    clinic, clock, stripe, payment = setup
    pi = payment.gateway_payment_id
    due = int(START.timestamp()) + 9 * 86400
    body = fake.dispute_event(pi, "charge.dispute.created", status="needs_response", due_by=due, event_id="evt_d1")
    assert deliver(clinic, stripe, clock, body) == "disputed"
    d = the_dispute(clinic)
    assert (d.payment_id, d.gateway_dispute_id, d.amount_cents, d.reason, d.status) == (
        payment.id, "dp_test_1", 5000, "fraudulent", "needs_response")
    assert d.evidence_due_by == datetime.fromtimestamp(due, tz=timezone.utc)
    (mail,) = owner_mail(clinic)  # the owner, not the manager
    assert mail.to_address.endswith("owner@clinic.example") and mail.channel == "email"
    assert "$50.00" in mail.subject and "Client IP at booking: 203.0.113.9" in mail.body
    assert "Cancellations more than 24 hours ahead are refunded in full." in mail.body
    with clinic.session() as s:
        evidence = dispute_evidence(s, s.get(Payment, payment.id))
        assert (evidence.client_ip, evidence.user_agent, evidence.signed_chart_id) == (
            "203.0.113.9", "Mozilla/5.0 (test)", None)
        assert evidence.booked_at is not None
        owner = Actor(org_id=clinic.org_id, role="owner", label="owner")
        assert [r.gateway_dispute_id for r in open_disputes(s, owner)] == ["dp_test_1"]
        with pytest.raises(PermissionDenied):
            open_disputes(s, clinic.staff_actor("manager"))
    assert deliver(clinic, stripe, clock, body) == "duplicate"
    assert dispute_lines(clinic, payment.id) == []
    assert deliver(clinic, stripe, clock, fake.dispute_event(
        pi, "charge.dispute.funds_withdrawn", status="needs_response", event_id="evt_d2")) == "withdrawn"
    assert dispute_lines(clinic, payment.id) == [("dispute_withdrawn", -5000)]
    check(clinic, clock)
    assert deliver(clinic, stripe, clock, fake.dispute_event(
        pi, "charge.dispute.updated", status="under_review", event_id="evt_d3")) == "updated"
    assert deliver(clinic, stripe, clock, fake.dispute_event(
        pi, "charge.dispute.closed", status="won", event_id="evt_d4")) == "reinstated"
    assert dispute_lines(clinic, payment.id) == [("dispute_withdrawn", -5000), ("dispute_reinstated", 5000)]
    assert deliver(clinic, stripe, clock, fake.dispute_event(
        pi, "charge.dispute.funds_reinstated", status="won", event_id="evt_d5")) == "ignored"  # once
    assert deliver(clinic, stripe, clock, fake.dispute_event(  # late: never undoes the close
        pi, "charge.dispute.updated", status="under_review", event_id="evt_d6")) == "ignored"
    d = the_dispute(clinic)
    assert d.status == "won" and len(owner_mail(clinic)) == 1
    with clinic.session() as s:
        assert open_disputes(s, Actor(org_id=clinic.org_id, role="owner", label="owner")) == []
    check(clinic, clock)


def test_dispute_events_out_of_order_end_the_same(setup, fake):
    clinic, clock, stripe, payment = setup
    pi = payment.gateway_payment_id
    events = [fake.dispute_event(pi, "charge.dispute.funds_reinstated", status="won", event_id="evt_o1"),
              fake.dispute_event(pi, "charge.dispute.closed", status="won", event_id="evt_o2"),
              fake.dispute_event(pi, "charge.dispute.funds_withdrawn", status="needs_response", event_id="evt_o3"),
              fake.dispute_event(pi, "charge.dispute.created", status="needs_response", event_id="evt_o4")]
    assert [deliver(clinic, stripe, clock, e) for e in events] == ["reinstated", "ignored", "ignored", "ignored"]
    d = the_dispute(clinic)
    assert (d.status, d.funds_withdrawn, d.funds_reinstated) == ("won", True, True)
    assert dispute_lines(clinic, payment.id) == [("dispute_withdrawn", -5000), ("dispute_reinstated", 5000)]
    assert len(owner_mail(clinic)) == 1  # flagged once, by the first event that named the dispute
    check(clinic, clock)


def test_a_lost_dispute_keeps_the_withdrawal(setup, fake):
    clinic, clock, stripe, payment = setup
    pi = payment.gateway_payment_id
    for i, (kind, status) in enumerate([("created", "needs_response"), ("funds_withdrawn", "needs_response"),
                                        ("closed", "lost"), ("closed", "lost")]):
        deliver(clinic, stripe, clock, fake.dispute_event(pi, f"charge.dispute.{kind}", status=status,
                                                          event_id=f"evt_l{i}"))
    assert the_dispute(clinic).status == "lost"
    assert dispute_lines(clinic, payment.id) == [("dispute_withdrawn", -5000)]
    check(clinic, clock)
