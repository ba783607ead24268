"""Issue 11 part 2, refunds: any number of partial refunds up to the amount paid, each with its
own idempotency key (refund-<payment>-<n>), statuses succeeded -> partially_refunded ->
refunded; and a property test (hypothesis) that no sequence of charges, refunds, replays and
webhook deliveries (charge and refund events, redelivered; refunds the bank sends back) in any order makes refunded exceed paid or the ledger disagree with the
payments or with the gateway's own record (the fake Stripe server, which keeps idempotent
answers like Stripe: https://docs.stripe.com/api/idempotent_requests).
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.models import UserAccount
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.invariant import money_violations
from medspa.domain.payments.models import LedgerEntry, Payment, Refund
from medspa.domain.payments.service import begin_refund, issue_refund
from medspa.domain.payments.stripe_gateway import StripeGateway
from medspa.domain.payments.webhooks import handle_stripe_event
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from tests.conftest import utc
from tests.factories import build_clinic
from tests.fake_stripe import FakeStripe, sign_header

NY = ZoneInfo("America/New_York")
START = utc(2026, 7, 1, 12)
SLOTS = itertools.count()  # every charge books its own slot (10:00-15:00 New York, from July 15)


@pytest.fixture
def fake():
    server = FakeStripe().start()
    yield server
    server.stop()


def charge(clinic, gateway, clock) -> int:
    """A $50 deposit paid with Stripe's test card; returns the payment id."""
    k = next(SLOTS)
    start = datetime.combine(date(2026, 7, 15) + timedelta(days=k // 6), time(10 + k % 6),
                             tzinfo=NY).astimezone(timezone.utc)
    appt = book_online(clinic.engine, clinic.public, OnlineBooking(
        location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=start,
        client=ClientInput("Mia", "Wong", f"mia{k}@example.com", "+1 212 555 0199"),
        payment_method_id="pm_card_visa"), gateway, clock)
    with clinic.session() as s:
        return s.exec(select(Payment.id).where(Payment.appointment_id == appt.id)).one()


def refund(clinic, gateway, clock, payment_id: int, amount: int | None) -> None:
    with clinic.session() as s:
        issue_refund(s, clinic.staff_actor("manager"), payment_id, gateway, now=clock.now(), reason="goodwill",
                     amount_cents=amount)
        s.commit()


def payment(clinic, payment_id: int) -> Payment:
    with clinic.session() as s:
        return s.get(Payment, payment_id)


def app_refunded(clinic, payment_id: int) -> int:
    with clinic.session() as s:
        return int(s.exec(select(func.coalesce(func.sum(Refund.amount_cents), 0))
                          .where(Refund.payment_id == payment_id, Refund.status != "failed")).one())


def test_partial_refunds_up_to_the_amount_paid_each_with_its_own_key(engine, owner_engine, fake):
    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(START)
    gateway = StripeGateway(fake.api_key, fake.url)
    pid = charge(clinic, gateway, clock)
    refund(clinic, gateway, clock, pid, 1000)
    assert payment(clinic, pid).status == "partially_refunded"
    refund(clinic, gateway, clock, pid, 1500)  # a second partial refund (refused before issue 11)
    assert payment(clinic, pid).status == "partially_refunded"
    with pytest.raises(ValidationFailed) as exc:  # more than what is left
        refund(clinic, gateway, clock, pid, 2501)
    assert exc.value.fields == {"amount_cents": "Refund between 1 cent and $25.00, what is not refunded yet"}
    refund(clinic, gateway, clock, pid, None)  # the rest
    p = payment(clinic, pid)
    assert (p.status, p.reconcile_after, app_refunded(clinic, pid)) == ("refunded", None, 5000)
    with pytest.raises(ValidationFailed):
        refund(clinic, gateway, clock, pid, 1)
    assert [r.headers["idempotency-key"] for r in fake.posts_to("/v1/refunds")] == [
        f"refund-{pid}-1", f"refund-{pid}-2", f"refund-{pid}-3"]
    assert [int(r["amount"]) for r in fake.refunds.values()] == [1000, 1500, 2500]
    with clinic.session() as s:
        lines = [(e.entry_type, e.amount_cents) for e in s.exec(
            select(LedgerEntry).where(LedgerEntry.payment_id == pid).order_by(LedgerEntry.id))]
        assert lines == [("deposit_paid", 5000), ("deposit_refunded", -1000), ("deposit_refunded", -1500),
                         ("deposit_refunded", -2500)]
        assert money_violations(s, clock.now()) == []


def test_a_refund_whose_answer_was_lost_is_replayed_not_repeated(engine, owner_engine, fake):
    """The gateway refunded but the app never recorded it (the answer was lost): the retry
    sends the same key refund-<payment>-<n> and Stripe replays the first refund."""
    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(START)
    gateway = StripeGateway(fake.api_key, fake.url)
    pid = charge(clinic, gateway, clock)
    p = payment(clinic, pid)
    gateway.refund(org_id=clinic.org_id, gateway_payment_id=p.gateway_payment_id, amount_cents=2000,
                   idempotency_key=f"refund-{pid}-1")  # the lost first try
    refund(clinic, gateway, clock, pid, 2000)
    assert len(fake.refunds) == 1 and app_refunded(clinic, pid) == 2000


def deliver(clinic, gateway, clock, body: bytes) -> str:
    return handle_stripe_event(clinic.engine, body, sign_header(body, "whsec_x", int(clock.now().timestamp())),
                               "whsec_x", gateway, clock)


def test_an_event_reporting_a_refund_changes_nothing_twice(engine, owner_engine, fake):
    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(START)
    gateway = StripeGateway(fake.api_key, fake.url)
    pid = charge(clinic, gateway, clock)
    refund(clinic, gateway, clock, pid, 1000)
    (mine,) = fake.refunds
    body = fake.refund_event(mine)
    assert deliver(clinic, gateway, clock, body) == "ignored"  # the app made it
    assert deliver(clinic, gateway, clock, body) == "duplicate"
    assert deliver(clinic, gateway, clock, fake.refund_event(mine, "refund.updated")) == "ignored"
    assert app_refunded(clinic, pid) == 1000
    # a refund whose answer the app lost (it crashed): the event records it, once
    p = payment(clinic, pid)
    lost = gateway.refund(org_id=clinic.org_id, gateway_payment_id=p.gateway_payment_id, amount_cents=1500,
                          idempotency_key=f"refund-{pid}-2")
    assert deliver(clinic, gateway, clock, fake.refund_event(lost.gateway_refund_id)) == "refunded"
    assert deliver(clinic, gateway, clock, fake.refund_event(lost.gateway_refund_id, "refund.updated")) == "ignored"
    p = payment(clinic, pid)
    assert (p.status, app_refunded(clinic, pid)) == ("partially_refunded", 2500)
    with clinic.session() as s:
        assert [e.amount_cents for e in s.exec(select(LedgerEntry).where(
            LedgerEntry.payment_id == pid, LedgerEntry.entry_type == "deposit_refunded").order_by(LedgerEntry.id))] == [
            -1000, -1500]
        assert money_violations(s, clock.now()) == []
    refund(clinic, gateway, clock, pid, None)  # the rest, with the next key
    assert fake.posts_to("/v1/refunds")[-1].headers["idempotency-key"] == f"refund-{pid}-3"
    assert (payment(clinic, pid).status, app_refunded(clinic, pid)) == ("refunded", 5000)


def test_a_refund_the_bank_sends_back_is_reversed_once_and_the_owners_are_told(engine, owner_engine, fake):
    """Stripe's refund.failed about a refund that had succeeded (card closed): the refund is
    failed with the reason, a refund_reversed line gives its money back to the ledger, the
    payment is succeeded again, owners are emailed once; redeliveries change nothing, and a new
    refund (to a new card) can then return the whole amount."""
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:  # two owners and a manager: the owners hear of it, the manager does not
        for role, email in (("owner", "a@clinic.example"), ("owner", "b@clinic.example"),
                            ("manager", "m@clinic.example")):
            s.add(UserAccount(org_id=clinic.org_id, email=f"{clinic.slug}-{email}", password_hash="x", role=role))
        s.commit()
    clock = FixedClock(START)
    gateway = StripeGateway(fake.api_key, fake.url)
    pid = charge(clinic, gateway, clock)
    refund(clinic, gateway, clock, pid, 2000)
    (sent,) = fake.refunds
    fake.fail_refund(sent, "expired_or_canceled_card")
    body = fake.refund_event(sent, "refund.failed")
    assert deliver(clinic, gateway, clock, body) == "refund_reversed"
    assert deliver(clinic, gateway, clock, body) == "duplicate"
    assert deliver(clinic, gateway, clock, fake.refund_event(sent, "refund.updated")) == "ignored"
    with clinic.session() as s:
        r = s.exec(select(Refund).where(Refund.payment_id == pid)).one()
        assert (r.status, r.failure_message) == (
            "failed", "Refund failed after it was sent: the card has expired or was closed.")
        assert [(e.entry_type, e.amount_cents) for e in s.exec(select(LedgerEntry).where(
            LedgerEntry.payment_id == pid).order_by(LedgerEntry.id))] == [
            ("deposit_paid", 5000), ("deposit_refunded", -2000), ("refund_reversed", 2000)]
        alerts = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "refund_failed")).all()
        assert sorted(m.to_address for m in alerts) == [f"{clinic.slug}-a@clinic.example",
                                                         f"{clinic.slug}-b@clinic.example"]
        assert "did not reach the client: the card has expired or was closed" in alerts[0].body
        assert s.exec(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "refund.reversed", AuditEvent.object_id == str(pid))).one() == 1
        assert money_violations(s, clock.now()) == []  # the visit is confirmed: the money is its deposit
    assert payment(clinic, pid).status == "succeeded"
    refund(clinic, gateway, clock, pid, None)  # the client gave a new card: all of it goes back now
    assert fake.posts_to("/v1/refunds")[-1].headers["idempotency-key"] == f"refund-{pid}-2"
    assert [(r["amount"], r["status"]) for r in fake.refunds.values()] == [(2000, "failed"), (5000, "succeeded")]
    assert payment(clinic, pid).status == "refunded"
    with clinic.session() as s:
        assert sum(e.amount_cents for e in s.exec(select(LedgerEntry).where(LedgerEntry.payment_id == pid))) == 0


def test_a_pending_refund_reported_failed_fails_without_a_ledger_line(engine, owner_engine, fake):
    """The app's refund whose answer was lost (still pending) and that the bank then sent back:
    refund.failed fails the pending row (nothing was on the ledger, nothing is added)."""
    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(START)
    gateway = StripeGateway(fake.api_key, fake.url)
    pid = charge(clinic, gateway, clock)
    with clinic.session() as s:
        p = s.get(Payment, pid)
        pending = begin_refund(s, clinic.staff_actor("manager"), p, now=clock.now(), reason="goodwill",
                               amount_cents=1500)
        key = pending.idempotency_key
        s.commit()
    lost = gateway.refund(org_id=clinic.org_id, gateway_payment_id=payment(clinic, pid).gateway_payment_id,
                          amount_cents=1500, idempotency_key=key)  # sent; the answer never recorded
    fake.fail_refund(lost.gateway_refund_id, "lost_or_stolen_card")
    assert deliver(clinic, gateway, clock, fake.refund_event(lost.gateway_refund_id, "refund.failed")) == "refund_failed"
    with clinic.session() as s:
        r = s.exec(select(Refund).where(Refund.payment_id == pid)).one()
        assert (r.status, r.reconcile_after) == ("failed", None)
        assert "reported lost or stolen" in r.failure_message
        assert [e.entry_type for e in s.exec(select(LedgerEntry).where(LedgerEntry.payment_id == pid))] == [
            "deposit_paid"]
        assert money_violations(s, clock.now()) == []
    assert payment(clinic, pid).status == "succeeded"


# ---- the property ------------------------------------------------------------------------------

OPS = st.lists(st.one_of(
    st.tuples(st.just("charge")),
    st.tuples(st.just("refund"), st.integers(0, 5), st.one_of(st.none(), st.integers(-100, 6000))),
    st.tuples(st.just("lost_refund"), st.integers(0, 5), st.integers(1, 5000), st.booleans()),
    st.tuples(st.just("refund_event"), st.integers(0, 5), st.integers(0, 20)),
    st.tuples(st.just("bounce"), st.integers(0, 5), st.integers(0, 20)),
    st.tuples(st.just("event"), st.integers(0, 5),
              st.sampled_from(["payment_intent.succeeded", "payment_intent.payment_failed",
                               "payment_intent.canceled"]), st.booleans()),
), min_size=1, max_size=12)
EXAMPLES = 60


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_no_sequence_makes_refunds_exceed_payments_or_the_ledger_disagree(engine, owner_engine, fake, ops):
    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(START)
    gateway = StripeGateway(fake.api_key, fake.url)
    payments = [charge(clinic, gateway, clock)]
    delivered: list[tuple[str, bytes]] = []
    for op in ops:
        target = payments[op[1] % len(payments)] if len(op) > 1 else None
        if op[0] == "charge":
            payments.append(charge(clinic, gateway, clock))
        elif op[0] == "refund":
            try:
                refund(clinic, gateway, clock, target, op[2])
            except ValidationFailed:
                pass  # more than what is left, nothing left, or not a positive amount
        elif op[0] == "lost_refund":  # the gateway refunds, the app crashes, the desk retries the same
            p = payment(clinic, target)
            if not 0 < op[2] <= p.amount_cents - app_refunded(clinic, target):
                continue  # the app sends only refunds it validated (issue_refund)
            with clinic.session() as s:
                n = s.exec(select(func.count()).select_from(Refund).where(Refund.payment_id == target)).one()
            lost = gateway.refund(org_id=clinic.org_id, gateway_payment_id=p.gateway_payment_id,
                                  amount_cents=op[2], idempotency_key=f"refund-{target}-{n + 1}")
            if lost.status == "succeeded" and op[3]:
                refund(clinic, gateway, clock, target, op[2])  # the desk retries: same key, same amount, replayed
            elif lost.status == "succeeded":  # nobody retries: Stripe's refund.created event records it
                deliver(clinic, gateway, clock, fake.refund_event(lost.gateway_refund_id))
        elif op[0] == "refund_event":  # any refund of the charge reported (again), in any order
            mine = [r for r in fake.refunds.values() if r["payment_intent"] == payment(clinic, target).gateway_payment_id]
            if mine:
                deliver(clinic, gateway, clock, fake.refund_event(mine[op[2] % len(mine)]["id"],
                                                                  "refund.updated" if op[2] % 2 else "refund.created"))
        elif op[0] == "bounce":  # the card's bank sends a succeeded refund back: refund.failed
            sent = [r for r in fake.refunds.values() if r["status"] == "succeeded"
                    and r["payment_intent"] == payment(clinic, target).gateway_payment_id]
            if sent:
                bounced = sent[op[2] % len(sent)]["id"]
                fake.fail_refund(bounced)
                deliver(clinic, gateway, clock, fake.refund_event(bounced, "refund.failed"))
        else:  # a webhook event about the charge, new or a redelivery of an earlier one, in any order
            if op[3] and delivered:
                _, body = delivered[op[1] % len(delivered)]
            else:
                body = fake.event(payment(clinic, target).gateway_payment_id, op[2])
                delivered.append((op[2], body))
            deliver(clinic, gateway, clock, body)
        check(clinic, fake, payments, clock)


def check(clinic, fake, payments: list[int], clock) -> None:
    with clinic.session() as s:
        for pid in payments:
            p = s.get(Payment, pid)
            refunded = app_refunded(clinic, pid)
            at_gateway = sum(int(r["amount"]) for r in fake.refunds.values()
                             if r["payment_intent"] == p.gateway_payment_id and r["status"] != "failed")
            lines = dict(s.exec(select(LedgerEntry.entry_type, func.sum(LedgerEntry.amount_cents))
                                .where(LedgerEntry.payment_id == pid).group_by(LedgerEntry.entry_type)).all())
            assert 0 <= refunded <= p.amount_cents
            assert refunded == at_gateway, (pid, refunded, at_gateway)  # the gateway and the app agree
            assert lines.get("deposit_paid") == p.amount_cents
            assert -lines.get("deposit_refunded", 0) - lines.get("refund_reversed", 0) == refunded
            expected = ("succeeded" if refunded == 0 else "refunded" if refunded == p.amount_cents
                        else "partially_refunded")
            assert p.status == expected, (pid, p.status, refunded)  # never back to failed
        assert money_violations(s, clock.now()) == []
