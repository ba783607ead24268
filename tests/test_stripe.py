"""Stripe: the gateway against a local fake of Stripe's API, and webhooks, incl. acceptance case MN-2."""

from __future__ import annotations

import itertools
import threading
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import select

from medspa.api import webhooks as webhook_api
from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import ValidationFailed
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.factory import gateway_for
from medspa.domain.payments.gateway import ChargeRequest, TestPaymentGateway
from medspa.domain.payments.models import LedgerEntry, Payment, Refund, WebhookEvent
from medspa.domain.payments.stripe_gateway import StripeGateway
from medspa.domain.payments.webhooks import InvalidWebhook, WebhookNotReady, handle_stripe_event
from medspa.domain.scheduling.actions.online import fetch_hold_outcome
from medspa.domain.scheduling.booking import ActionRequired, CardDeclined, OnlineBooking, book_online
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import cancel_appointment, hold_slot
from medspa.settings import Settings
from tests.conftest import utc
from tests.factories import build_clinic
from tests.fake_stripe import FakeStripe, sign_header

SECRET = "whsec_test_5b1c0f0e2d"
NY = ZoneInfo("America/New_York")
SLOT = datetime.combine(date(2026, 7, 15), time(10, 0), tzinfo=NY).astimezone(timezone.utc)  # 14:00Z


@pytest.fixture
def fake():
    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture
def clock():
    return FixedClock(utc(2026, 7, 1, 12))


@pytest.fixture
def gateway(fake):
    return StripeGateway(fake.api_key, fake.url)


def booking(clinic, pm: str, start: datetime = SLOT, email: str = "mia@example.com") -> OnlineBooking:
    return OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=start,
                         client=ClientInput(first_name="Mia", last_name="Wong", email=email, phone="+1 212 555 0199"),
                         payment_method_id=pm)


def deliver(engine, fake, pi_id, event_type, gateway, clock, *, event_id=None, body=None, secret=SECRET):
    body = body or fake.event(pi_id, event_type, event_id=event_id)
    header = sign_header(body, secret, int(clock.now().timestamp()))
    return handle_stripe_event(engine, body, header, SECRET, gateway, clock)


def count(clinic, model, *where) -> int:
    with clinic.session() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def deposit_entries(clinic, appointment_id):
    with clinic.session() as s:
        return [(e.entry_type, e.amount_cents) for e in s.exec(
            select(LedgerEntry).where(LedgerEntry.appointment_id == appointment_id).order_by(LedgerEntry.id))]


def outbox(clinic, appointment_id):
    with clinic.session() as s:
        return sorted((m.kind, m.channel) for m in s.exec(
            select(OutboxMessage).where(OutboxMessage.appointment_id == appointment_id)))


def appointment(clinic, appointment_id) -> Appointment:
    with clinic.session() as s:
        return s.get(Appointment, appointment_id)


def payments(clinic, appointment_id) -> list[Payment]:
    with clinic.session() as s:
        return list(s.exec(select(Payment).where(Payment.appointment_id == appointment_id).order_by(Payment.id)))


def start_3ds(engine, clinic, gateway, clock, fake) -> tuple[int, str]:
    """Book with the 3-D Secure card: (appointment id, PaymentIntent id), hold kept."""
    with pytest.raises(ActionRequired) as action:
        book_online(engine, clinic.public, booking(clinic, "pm_card_threeDSecure2Required"), gateway, clock)
    appt_id = action.value.appointment_id
    (payment,) = payments(clinic, appt_id)
    assert action.value.client_secret == fake.intents[payment.gateway_payment_id]["client_secret"]
    assert action.value.client_secret.startswith(payment.gateway_payment_id + "_secret_")
    return appt_id, payment.gateway_payment_id


CONFIRMED_OUTBOX = [("booking_confirmation", "email"), ("booking_confirmation", "sms"), ("deposit_receipt", "email")]


# ---- the gateway ---------------------------------------------------------------------------

def test_book_online_with_stripe_confirms_and_records_deposit(engine, owner_engine, fake, gateway, clock):
    clinic = build_clinic(engine, owner_engine)
    appt = book_online(engine, clinic.public, booking(clinic, "pm_card_visa"), gateway, clock)
    assert appointment(clinic, appt.id).status == "confirmed"
    (payment,) = payments(clinic, appt.id)
    assert (payment.status, payment.gateway, payment.amount_cents, payment.currency, payment.card_last4) == (
        "succeeded", "stripe", 5000, "USD", "4242")
    assert payment.gateway_payment_id.startswith("pi_") and payment.gateway_payment_id in fake.intents
    assert payment.idempotency_key == f"deposit-{appt.id}-attempt-1"
    assert deposit_entries(clinic, appt.id) == [("deposit_paid", 5000)]
    assert outbox(clinic, appt.id) == CONFIRMED_OUTBOX
    (sent,) = fake.posts_to("/v1/payment_intents")
    assert sent.headers["idempotency-key"] == f"deposit-{appt.id}-attempt-1"
    assert sent.params["amount"] == "5000" and sent.params["currency"] == "usd"
    assert sent.params["payment_method"] == "pm_card_visa" and sent.params["confirm"] == "true"
    assert sent.params["metadata"] == {"org_id": str(clinic.org_id), "appointment_id": str(appt.id),
                                       "idempotency_key": f"deposit-{appt.id}-attempt-1"}
    assert sent.params["automatic_payment_methods"] == {"enabled": "true", "allow_redirects": "never"}
    assert fake.intents[payment.gateway_payment_id]["amount_received"] == 5000


def test_decline_shows_stripes_message_and_keeps_the_hold_for_another_card(engine, owner_engine, fake, gateway,
                                                                            clock):
    clinic = build_clinic(engine, owner_engine)
    with pytest.raises(CardDeclined) as declined:
        book_online(engine, clinic.public, booking(clinic, "pm_card_chargeDeclined"), gateway, clock)
    assert (declined.value.message, declined.value.decline_code) == ("Your card was declined.", "generic_decline")
    with clinic.session() as s:
        (held,) = s.exec(select(Appointment).where(Appointment.start_at == SLOT)).all()
    assert (held.status, held.id) == ("held", declined.value.hold_id)  # issue 15: kept for another card
    (payment,) = payments(clinic, held.id)
    assert (payment.status, payment.failure_message) == ("declined", "Your card was declined.")
    assert payment.gateway_payment_id in fake.intents  # the declined intent's id is kept
    assert deposit_entries(clinic, held.id) == [] and outbox(clinic, held.id) == []
    # Stripe's payment_failed event of that intent does not take the time away either
    assert deliver(engine, fake, payment.gateway_payment_id, "payment_intent.payment_failed", gateway,
                   clock) == "declined"
    assert appointment(clinic, held.id).status == "held"
    # another card confirms that same hold, with a new attempt key
    again = book_online(engine, clinic.public, booking(clinic, "pm_card_visa"), gateway, clock)
    assert again.id == held.id and again.start_at == SLOT and appointment(clinic, again.id).status == "confirmed"
    assert [r.headers["idempotency-key"] for r in fake.posts_to("/v1/payment_intents")] == [
        f"deposit-{held.id}-attempt-1", f"deposit-{held.id}-attempt-2"]


def test_a_refused_card_keeps_the_hold_and_its_failed_payment_lets_it_lapse_at_expiry(engine, owner_engine, fake,
                                                                                         gateway, clock):
    """A card Stripe refuses before charging (no such PaymentMethod): the payment is FAILED,
    the time stays held for another card, and with no money on it the hold lapses at its
    expiry like any (the sweep; reconciliation has nothing to settle)."""
    from medspa.domain.payments.reconcile import claim_next
    from medspa.domain.scheduling.actions.online import do_expire_lapsed_holds

    clinic = build_clinic(engine, owner_engine)
    with pytest.raises(ValidationFailed) as refused:
        book_online(engine, clinic.public, booking(clinic, "pm_bogus"), gateway, clock)
    assert refused.value.fields == {"card_number": "No such PaymentMethod: 'pm_bogus'"}
    with clinic.session() as s:
        (held,) = s.exec(select(Appointment)).all()
        assert held.status == "held"
        assert [p.status for p in payments(clinic, held.id)] == ["failed"]
        assert claim_next(s, clock.now() + timedelta(hours=1)) is None  # nothing for reconciliation
    clock.advance(minutes=10)
    swept = [e.appointment_id for e in do_expire_lapsed_holds(clock=clock, engine=engine) if e.org_id == clinic.org_id]
    assert swept == [held.id] and appointment(clinic, held.id).status == "expired"


def test_same_idempotency_key_replays_stripes_answer(engine, owner_engine, fake, gateway):
    clinic = build_clinic(engine, owner_engine)
    ok = ChargeRequest(org_id=clinic.org_id, amount_cents=5000, currency="USD", idempotency_key="deposit-1-attempt-1",
                       payment_method_id="pm_card_visa", metadata={"appointment_id": "1"})
    first, second = gateway.charge(ok), gateway.charge(ok)
    assert first == second and first.status == "succeeded"
    bad = ChargeRequest(org_id=clinic.org_id, amount_cents=5000, currency="USD", idempotency_key="deposit-2-attempt-1",
                        payment_method_id="pm_card_chargeDeclined")
    d1, d2 = gateway.charge(bad), gateway.charge(bad)
    assert d1 == d2 and (d1.status, d1.message) == ("declined", "Your card was declined.")
    assert len(fake.intents) == 2  # each key reached Stripe's logic once
    with pytest.raises(ValidationFailed) as invalid:
        gateway.charge(ChargeRequest(org_id=clinic.org_id, amount_cents=5000, currency="USD",
                                     idempotency_key="deposit-3-attempt-1", payment_method_id="pm_bogus"))
    assert invalid.value.fields == {"card_number": "No such PaymentMethod: 'pm_bogus'"}
    refund1 = gateway.refund(org_id=clinic.org_id, gateway_payment_id=first.gateway_payment_id, amount_cents=5000,
                             idempotency_key="refund-1")
    refund2 = gateway.refund(org_id=clinic.org_id, gateway_payment_id=first.gateway_payment_id, amount_cents=5000,
                             idempotency_key="refund-1")
    assert refund1 == refund2 and refund1.status == "succeeded" and len(fake.refunds) == 1


def test_gateway_for_picks_stripe_only_with_a_secret_key(engine, fake, clock):
    stripe_gw = gateway_for(Settings(stripe_secret_key=fake.api_key, stripe_api_base=fake.url), engine, clock)
    assert isinstance(stripe_gw, StripeGateway) and stripe_gw.name == "stripe"
    offline = gateway_for(Settings(stripe_secret_key=""), engine, clock)
    assert isinstance(offline, TestPaymentGateway) and offline.name == "test"


# ---- webhooks ------------------------------------------------------------------------------

def test_3ds_then_signed_succeeded_webhook_confirms(engine, owner_engine, fake, gateway, clock):
    clinic = build_clinic(engine, owner_engine)
    appt_id, pi = start_3ds(engine, clinic, gateway, clock, fake)
    assert appointment(clinic, appt_id).status == "held"
    assert payments(clinic, appt_id)[0].status == "requires_action"
    fake.complete_action(pi)
    clock.advance(minutes=2)
    assert deliver(engine, fake, pi, "payment_intent.succeeded", gateway, clock) == "confirmed"
    appt = appointment(clinic, appt_id)
    assert (appt.status, appt.confirmed_at) == ("confirmed", utc(2026, 7, 1, 12, 2))
    assert [(p.status, p.gateway_payment_id) for p in payments(clinic, appt_id)] == [("succeeded", pi)]
    assert deposit_entries(clinic, appt_id) == [("deposit_paid", 5000)]
    assert outbox(clinic, appt_id) == CONFIRMED_OUTBOX
    with clinic.session() as s:
        audit = s.exec(select(AuditEvent.action, AuditEvent.actor_role, AuditEvent.actor_label)
                       .where(AuditEvent.actor_label == "stripe webhook").order_by(AuditEvent.id)).all()
    assert [tuple(a) for a in audit] == [("payment.succeeded", "system", "stripe webhook"),
                                         ("appointment.confirm", "system", "stripe webhook")]


def test_mn2_duplicate_deliveries_change_nothing_twice(engine, owner_engine, fake, gateway, clock):
    clinic = build_clinic(engine, owner_engine)
    appt_id, pi = start_3ds(engine, clinic, gateway, clock, fake)
    fake.complete_action(pi)
    body = fake.event(pi, "payment_intent.succeeded", event_id="evt_mn2_same")

    def once():
        return handle_stripe_event(engine, body, sign_header(body, SECRET, int(clock.now().timestamp())), SECRET,
                                   gateway, clock)

    assert [once(), once()] == ["confirmed", "duplicate"]  # twice in a row
    results, errors = [], []
    barrier = threading.Barrier(3)

    def worker():
        barrier.wait()
        try:
            results.append(once())
        except Exception as exc:  # noqa: BLE001 - the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert errors == [] and results == ["duplicate"] * 3  # three at once
    assert count(clinic, Payment, Payment.appointment_id == appt_id) == 1
    assert deposit_entries(clinic, appt_id) == [("deposit_paid", 5000)]
    assert count(clinic, OutboxMessage, OutboxMessage.kind == "deposit_receipt") == 1
    assert count(clinic, WebhookEvent, WebhookEvent.event_id == "evt_mn2_same") == 1
    assert appointment(clinic, appt_id).status == "confirmed"


def test_mn2_first_delivery_arriving_three_times_at_once(engine, owner_engine, fake, gateway, clock):
    clinic = build_clinic(engine, owner_engine)
    appt_id, pi = start_3ds(engine, clinic, gateway, clock, fake)
    fake.complete_action(pi)
    body = fake.event(pi, "payment_intent.succeeded")
    header = sign_header(body, SECRET, int(clock.now().timestamp()))
    results, errors = [], []
    barrier = threading.Barrier(3)

    def worker():
        barrier.wait()
        try:
            results.append(handle_stripe_event(engine, body, header, SECRET, gateway, clock))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert errors == [] and sorted(results) == ["confirmed", "duplicate", "duplicate"]
    assert count(clinic, Payment, Payment.appointment_id == appt_id) == 1
    assert deposit_entries(clinic, appt_id) == [("deposit_paid", 5000)]
    assert outbox(clinic, appt_id) == CONFIRMED_OUTBOX


@pytest.fixture
def http(engine, fake, clock):
    app = FastAPI()
    app.include_router(webhook_api.router)
    settings = Settings(stripe_secret_key=fake.api_key, stripe_api_base=fake.url, stripe_webhook_secret=SECRET)
    app.dependency_overrides[webhook_api.webhook_settings] = lambda: settings
    app.dependency_overrides[webhook_api.webhook_engine] = lambda: engine
    app.dependency_overrides[webhook_api.webhook_clock] = lambda: clock
    return TestClient(app)


def post_event(http, body: bytes, header: str):
    return http.post("/api/stripe/webhook", content=body,
                     headers={"Stripe-Signature": header, "Content-Type": "application/json"})


def test_mn2_through_the_http_route_every_delivery_is_2xx(engine, owner_engine, fake, gateway, clock, http):
    clinic = build_clinic(engine, owner_engine)
    appt_id, pi = start_3ds(engine, clinic, gateway, clock, fake)
    fake.complete_action(pi)
    body = fake.event(pi, "payment_intent.succeeded", event_id="evt_mn2_http")
    header = sign_header(body, SECRET, int(clock.now().timestamp()))
    first, second = post_event(http, body, header), post_event(http, body, header)
    assert (first.status_code, first.json()) == (200, {"received": True, "result": "confirmed"})
    assert (second.status_code, second.json()) == (200, {"received": True, "result": "duplicate"})
    answers = []
    barrier = threading.Barrier(3)

    def worker():
        barrier.wait()
        r = post_event(http, body, header)
        answers.append((r.status_code, r.json()))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert answers == [(200, {"received": True, "result": "duplicate"})] * 3
    assert count(clinic, Payment, Payment.appointment_id == appt_id) == 1
    assert deposit_entries(clinic, appt_id) == [("deposit_paid", 5000)]
    assert count(clinic, OutboxMessage, OutboxMessage.kind == "deposit_receipt") == 1


def test_bad_signature_is_400_and_writes_nothing(engine, owner_engine, fake, gateway, clock, http):
    clinic = build_clinic(engine, owner_engine)
    appt_id, pi = start_3ds(engine, clinic, gateway, clock, fake)
    fake.complete_action(pi)
    body = fake.event(pi, "payment_intent.succeeded")
    ts = int(clock.now().timestamp())
    wrong_secret = post_event(http, body, sign_header(body, "whsec_someone_else", ts))
    assert wrong_secret.status_code == 400
    assert wrong_secret.json()["received"] is False and "bad signature" in wrong_secret.json()["error"]
    # construct_event checks the body itself: a tampered amount under a genuine header fails
    tampered = body.replace(b'"amount":5000', b'"amount":1')
    assert tampered != body
    forged = post_event(http, tampered, sign_header(body, SECRET, ts))
    assert forged.status_code == 400 and "bad signature" in forged.json()["error"]
    assert post_event(http, body, "").status_code == 400
    garbage = b"not json"
    assert post_event(http, garbage, sign_header(garbage, SECRET, ts)).json()["error"].startswith("unreadable payload")
    stale = post_event(http, body, sign_header(body, SECRET, ts - 301))  # replayed old delivery
    assert stale.status_code == 400 and "older than 300 s" in stale.json()["error"]
    assert count(clinic, WebhookEvent) == 0
    assert appointment(clinic, appt_id).status == "held"
    assert payments(clinic, appt_id)[0].status == "requires_action"
    assert deposit_entries(clinic, appt_id) == [] and outbox(clinic, appt_id) == []
    with pytest.raises(InvalidWebhook):
        handle_stripe_event(engine, tampered, sign_header(body, SECRET, ts), SECRET, gateway, clock)
    ok = post_event(http, body, sign_header(body, SECRET, ts))
    assert (ok.status_code, ok.json()["result"]) == (200, "confirmed")


def test_failed_3ds_webhook_declines_and_keeps_the_hold_for_another_card(engine, owner_engine, fake, gateway,
                                                                          clock):
    clinic = build_clinic(engine, owner_engine)
    appt_id, pi = start_3ds(engine, clinic, gateway, clock, fake)
    fake.complete_action(pi, succeed=False)
    assert deliver(engine, fake, pi, "payment_intent.payment_failed", gateway, clock) == "declined"
    (payment,) = payments(clinic, appt_id)
    assert payment.status == "declined"
    assert payment.failure_message.startswith("We are unable to authenticate your payment method.")
    assert appointment(clinic, appt_id).status == "held"  # issue 15: the time stays theirs until it lapses
    assert fetch_hold_outcome(clinic.public, appt_id, engine=engine).status == "declined"  # the page stops waiting
    again = book_online(engine, clinic.public, booking(clinic, "pm_card_visa"), gateway, clock)
    assert (again.id, again.start_at, again.status) == (appt_id, SLOT, "confirmed")


def test_a_failed_3ds_after_the_hold_ran_out_releases_it(engine, owner_engine, fake, gateway, clock):
    clinic = build_clinic(engine, owner_engine)
    appt_id, pi = start_3ds(engine, clinic, gateway, clock, fake)
    fake.complete_action(pi, succeed=False)
    clock.advance(minutes=11)
    assert deliver(engine, fake, pi, "payment_intent.payment_failed", gateway, clock) == "declined"
    assert appointment(clinic, appt_id).status == "expired"


def test_failure_after_success_does_not_undo_it(engine, owner_engine, fake, gateway, clock):
    clinic = build_clinic(engine, owner_engine)
    appt_id, pi = start_3ds(engine, clinic, gateway, clock, fake)
    fake.complete_action(pi)
    failed_body = fake.event(pi, "payment_intent.payment_failed")  # an older event, delivered late
    assert deliver(engine, fake, pi, "payment_intent.succeeded", gateway, clock) == "confirmed"
    assert deliver(engine, fake, pi, "payment_intent.payment_failed", gateway, clock, body=failed_body) == "ignored"
    assert [p.status for p in payments(clinic, appt_id)] == ["succeeded"]
    assert appointment(clinic, appt_id).status == "confirmed"
    assert deposit_entries(clinic, appt_id) == [("deposit_paid", 5000)]


def test_success_after_the_slot_was_lost_is_refunded(engine, owner_engine, fake, gateway, clock):
    clinic = build_clinic(engine, owner_engine)
    appt_id, pi = start_3ds(engine, clinic, gateway, clock, fake)
    clock.advance(minutes=11)  # the 10-minute hold lapses and the front desk books the slot
    with clinic.session() as s:
        hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                  start_at=SLOT, now=clock.now(), confirm=True)
        s.commit()
    fake.complete_action(pi)
    assert deliver(engine, fake, pi, "payment_intent.succeeded", gateway, clock) == "voided"
    (payment,) = payments(clinic, appt_id)
    assert payment.status == "refunded"
    assert appointment(clinic, appt_id).status == "expired"
    assert deposit_entries(clinic, appt_id) == [("deposit_paid", 5000), ("charge_voided", -5000)]
    (refund_req,) = fake.posts_to("/v1/refunds")
    assert refund_req.headers["idempotency-key"] == f"refund-{payment.id}-1"
    assert refund_req.params["payment_intent"] == pi and refund_req.params["amount"] == "5000"
    with clinic.session() as s:
        (refund,) = s.exec(select(Refund).where(Refund.payment_id == payment.id)).all()
    assert (refund.amount_cents, refund.gateway_refund_id) == (5000, next(iter(fake.refunds)))
    assert outbox(clinic, appt_id) == [("deposit_refund", "email"), ("deposit_refund", "sms")]  # told, as reconciliation tells


def test_a_failure_then_a_success_of_the_same_intent_confirms_while_the_slot_is_free(engine, owner_engine, fake,
                                                                                      gateway, clock):
    """Issue 11: a PaymentIntent that first fails (the hold kept, issue 15) and later succeeds
    ends paid with its booking confirmed when the slot is still free, never "expired and
    refunded" while the slot sits free."""
    clinic = build_clinic(engine, owner_engine)
    appt_id, pi = start_3ds(engine, clinic, gateway, clock, fake)
    failed_body = fake.event(pi, "payment_intent.payment_failed")
    assert deliver(engine, fake, pi, "payment_intent.payment_failed", gateway, clock, body=failed_body) == "declined"
    assert appointment(clinic, appt_id).status == "held"  # kept for another try (issue 15)
    fake.complete_action(pi)  # the client retried on the same intent and it went through
    clock.advance(minutes=3)
    assert deliver(engine, fake, pi, "payment_intent.succeeded", gateway, clock) == "confirmed"
    assert [p.status for p in payments(clinic, appt_id)] == ["succeeded"]
    assert appointment(clinic, appt_id).status == "confirmed"
    assert deposit_entries(clinic, appt_id) == [("deposit_paid", 5000)]
    assert fake.posts_to("/v1/refunds") == [] and outbox(clinic, appt_id) == CONFIRMED_OUTBOX


@pytest.mark.parametrize("order", sorted(set(itertools.permutations("FFSS"))))
def test_any_order_and_replay_of_a_failure_and_a_success_ends_confirmed_once(engine, owner_engine, fake, gateway,
                                                                              clock, order):
    """Shuffle and replay: the failure and the success of one intent, each delivered twice
    (same event id: a redelivery), in every order: one payment succeeded, one booking
    confirmed, one deposit line, no refund, each event applied once."""
    clinic = build_clinic(engine, owner_engine)
    appt_id, pi = start_3ds(engine, clinic, gateway, clock, fake)
    bodies = {"F": fake.event(pi, "payment_intent.payment_failed")}
    fake.complete_action(pi)
    bodies["S"] = fake.event(pi, "payment_intent.succeeded")
    kinds = {"F": "payment_intent.payment_failed", "S": "payment_intent.succeeded"}
    outcomes = [deliver(engine, fake, pi, kinds[k], gateway, clock, body=bodies[k]) for k in order]
    assert sorted(outcomes).count("duplicate") == 2 and "confirmed" in outcomes
    assert [p.status for p in payments(clinic, appt_id)] == ["succeeded"]
    assert appointment(clinic, appt_id).status == "confirmed"
    assert deposit_entries(clinic, appt_id) == [("deposit_paid", 5000)]
    assert fake.posts_to("/v1/refunds") == [] and outbox(clinic, appt_id) == CONFIRMED_OUTBOX
    assert count(clinic, WebhookEvent) == 2


def test_webhook_for_a_synchronous_success_is_harmless(engine, owner_engine, fake, gateway, clock):
    # Stripe sends payment_intent.succeeded for charges that succeeded in the booking request too
    clinic = build_clinic(engine, owner_engine)
    appt = book_online(engine, clinic.public, booking(clinic, "pm_card_visa"), gateway, clock)
    (payment,) = payments(clinic, appt.id)
    assert deliver(engine, fake, payment.gateway_payment_id, "payment_intent.succeeded", gateway, clock) == "confirmed"
    assert [p.status for p in payments(clinic, appt.id)] == ["succeeded"]
    assert deposit_entries(clinic, appt.id) == [("deposit_paid", 5000)]
    assert outbox(clinic, appt.id) == CONFIRMED_OUTBOX


def test_late_success_event_never_refunds_a_settled_cancellation(engine, owner_engine, fake, gateway, clock):
    # the webhook of a synchronous success is delayed; meanwhile the client cancels late (deposit kept)
    clinic = build_clinic(engine, owner_engine)
    appt = book_online(engine, clinic.public, booking(clinic, "pm_card_visa"), gateway, clock)
    clock.instant = utc(2026, 7, 15, 4)  # 10 h before the visit, inside the 24 h window
    with clinic.session() as s:
        assert cancel_appointment(s, clinic.staff_actor(), appt.id, now=clock.now()).late is True
        s.commit()
    (payment,) = payments(clinic, appt.id)
    assert deliver(engine, fake, payment.gateway_payment_id, "payment_intent.succeeded", gateway, clock) == "ignored"
    assert [p.status for p in payments(clinic, appt.id)] == ["succeeded"]
    assert fake.posts_to("/v1/refunds") == [] and deposit_entries(clinic, appt.id) == [("deposit_paid", 5000)]
    assert appointment(clinic, appt.id).status == "cancelled"


def test_success_after_the_held_booking_was_cancelled_is_refunded(engine, owner_engine, fake, gateway, clock):
    clinic = build_clinic(engine, owner_engine)
    appt_id, pi = start_3ds(engine, clinic, gateway, clock, fake)
    with clinic.session() as s:  # the front desk cancels the pending booking on the phone
        cancel_appointment(s, clinic.staff_actor(), appt_id, now=clock.now())
        s.commit()
    fake.complete_action(pi)
    assert deliver(engine, fake, pi, "payment_intent.succeeded", gateway, clock) == "voided"
    assert [p.status for p in payments(clinic, appt_id)] == ["refunded"]
    assert deposit_entries(clinic, appt_id) == [("deposit_paid", 5000), ("charge_voided", -5000)]
    assert [r.params["amount"] for r in fake.posts_to("/v1/refunds")] == ["5000"]
    assert appointment(clinic, appt_id).status == "cancelled" and outbox(clinic, appt_id) == []


def test_event_for_an_unrecorded_payment_is_retried_later(engine, owner_engine, fake, gateway, clock, http):
    clinic = build_clinic(engine, owner_engine)
    result = gateway.charge(ChargeRequest(org_id=clinic.org_id, amount_cents=5000, currency="USD",
                                          idempotency_key="deposit-x-attempt-1", payment_method_id="pm_card_visa"))
    body = fake.event(result.gateway_payment_id, "payment_intent.succeeded")
    header = sign_header(body, SECRET, int(clock.now().timestamp()))
    with pytest.raises(WebhookNotReady):
        handle_stripe_event(engine, body, header, SECRET, gateway, clock)
    assert post_event(http, body, header).status_code == 409
    assert count(clinic, WebhookEvent) == 0


def test_events_without_a_clinic_or_of_other_types_are_ignored(engine, owner_engine, fake, gateway, clock, http):
    clinic = build_clinic(engine, owner_engine)
    appt_id, pi = start_3ds(engine, clinic, gateway, clock, fake)
    body = fake.event(pi, "payment_intent.created")
    ts = int(clock.now().timestamp())
    assert post_event(http, body, sign_header(body, SECRET, ts)).json() == {"received": True, "result": "ignored"}
    fake.intents[pi]["metadata"] = {}
    body = fake.event(pi, "payment_intent.succeeded")
    assert post_event(http, body, sign_header(body, SECRET, ts)).json() == {"received": True, "result": "ignored"}
    assert appointment(clinic, appt_id).status == "held" and count(clinic, WebhookEvent) == 0
