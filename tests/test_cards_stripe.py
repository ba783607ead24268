"""Cards on file with StripeGateway against tests/fake_stripe.py: a SetupIntent with a
Customer (usage off_session), off-session PaymentIntents mapped to requires_action /
declined, and a booking waiting for its card confirmed by the setup_intent.succeeded webhook."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.service import ClientInput
from medspa.domain.payments.gateway import ChargeRequest, SetupRequest
from medspa.domain.payments.models import CardSetup, Payment, SavedCard
from medspa.domain.payments.stripe_gateway import StripeGateway
from medspa.domain.payments.webhooks import handle_stripe_event
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.booking import ActionRequired, OnlineBooking, book_online
from medspa.domain.scheduling.models import Appointment
from tests.conftest import utc
from tests.factories import build_clinic
from tests.fake_stripe import FakeStripe, sign_header

SECRET = "whsec_test_cards_stripe"
NY = ZoneInfo("America/New_York")
SLOT = datetime.combine(date(2026, 7, 15), time(10), tzinfo=NY).astimezone(timezone.utc)


@pytest.fixture
def fake():
    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture
def gateway(fake):
    return StripeGateway(fake.api_key, fake.url, max_network_retries=0)


@pytest.fixture
def clock():
    return FixedClock(utc(2026, 7, 1, 12))


def test_setup_card_creates_a_customer_and_an_off_session_setup_intent(fake, gateway):
    result = gateway.setup_card(SetupRequest(org_id=7, idempotency_key="setup-1-attempt-1",
                                             payment_method_id="pm_card_visa", email="mia@example.com", name="Mia"))
    assert (result.status, result.brand, result.last4, result.exp_month, result.exp_year) == (
        "succeeded", "visa", "4242", 12, 2034)
    assert result.customer_id.startswith("cus_") and result.setup_intent_id.startswith("seti_")
    [post] = fake.posts_to("/v1/setup_intents")
    assert (post.params["usage"], post.params["confirm"], post.params["customer"]) == (
        "off_session", "true", result.customer_id)
    assert post.params["metadata"] == {"org_id": "7", "idempotency_key": "setup-1-attempt-1"}
    assert post.headers["idempotency-key"] == "setup-1-attempt-1"
    # an existing customer is reused, no new one
    again = gateway.setup_card(SetupRequest(org_id=7, idempotency_key="setup-2-attempt-1",
                                            payment_method_id="pm_card_mastercard", customer_id=result.customer_id))
    assert again.customer_id == result.customer_id and len(fake.posts_to("/v1/customers")) == 1


def test_setup_declined_and_requires_action(fake, gateway):
    declined = gateway.setup_card(SetupRequest(org_id=7, idempotency_key="k1", payment_method_id="pm_card_chargeDeclined"))
    assert (declined.status, declined.decline_code, declined.message) == (
        "declined", "generic_decline", "Your card was declined.")
    pending = gateway.setup_card(SetupRequest(org_id=7, idempotency_key="k2",
                                              payment_method_id="pm_card_authenticationRequired"))
    assert pending.status == "requires_action" and pending.client_secret.startswith(pending.setup_intent_id)
    fake.complete_setup_action(pending.setup_intent_id)
    done = gateway.lookup_setup(org_id=7, idempotency_key="k2", setup_intent_id=pending.setup_intent_id)
    assert (done.status, done.last4, done.payment_method_id) == ("succeeded", "3184", "pm_card_authenticationRequired")
    assert gateway.lookup_setup(org_id=8, idempotency_key="k2", setup_intent_id=pending.setup_intent_id) is None


def test_off_session_charges_map_authentication_and_declines(fake, gateway):
    def charge(pm: str, key: str):
        return gateway.charge(ChargeRequest(org_id=7, amount_cents=2500, currency="USD", idempotency_key=key,
                                            payment_method_id=pm, customer_id="cus_x", off_session=True))

    ok = charge("pm_card_visa", "fee-1")
    assert ok.status == "succeeded"
    post = fake.posts_to("/v1/payment_intents")[0]
    assert (post.params["off_session"], post.params["customer"], post.params["payment_method_types"]) == (
        "true", "cus_x", ["card"])
    needs = charge("pm_card_authenticationRequired", "fee-2")
    assert (needs.status, needs.decline_code) == ("requires_action", "authentication_required")
    assert needs.gateway_payment_id.startswith("pi_")
    declined = charge("pm_card_chargeCustomerFail", "fee-3")
    assert (declined.status, declined.decline_code) == ("declined", "generic_decline")


def test_booking_waiting_for_its_card_is_confirmed_by_the_setup_webhook(engine, owner_engine, fake, gateway, clock):
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        s.get(Location, clinic.location_id).card_required = True
        s.commit()
    req = OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=SLOT,
                        client=ClientInput("Mia", "Wong", "mia@example.com", "+1 212 555 0199"),
                        payment_method_id="pm_card_threeDSecure2Required")
    with pytest.raises(ActionRequired) as exc:
        book_online(engine, clinic.public, req, gateway, clock)
    assert exc.value.card_setup and exc.value.gateway == "stripe" and exc.value.client_secret.startswith("seti_")
    with clinic.session() as s:
        setup = s.exec(select(CardSetup)).one()
    seti = fake.complete_setup_action(setup.setup_intent_id)  # the page ran stripe.handleNextAction
    body = json.dumps({"id": f"evt_{clinic.org_id}_seti", "object": "event", "type": "setup_intent.succeeded",
                       "data": {"object": seti}}).encode()
    header = sign_header(body, SECRET, int(clock.now().timestamp()))
    assert handle_stripe_event(engine, body, header, SECRET, gateway, clock) == "confirmed"
    assert handle_stripe_event(engine, body, header, SECRET, gateway, clock) == "duplicate"
    with clinic.session() as s:
        assert s.get(Appointment, exc.value.appointment_id).status == "confirmed"
        card = s.exec(select(SavedCard)).one()
        assert (card.gateway, card.payment_method_id, card.last4) == ("stripe", "pm_card_threeDSecure2Required", "3155")
        pay = s.exec(select(Payment)).one()
        assert (pay.status, pay.amount_cents) == ("succeeded", 5000)
    deposit = fake.posts_to("/v1/payment_intents")[0]
    assert (deposit.params["customer"], deposit.params["off_session"]) == (card.gateway_customer_id, "true")


def test_stripe_errors_that_are_not_a_cards_answer_map_to_the_field_or_unavailable():
    """One mapping for charge and setup_card (stripe_gateway._not_a_card_answer): an unknown or
    refused payment method is the card field's message; another bad request says what could not
    be done; anything else (network, Stripe down) is "not answering"."""
    import stripe

    from medspa.domain.errors import ValidationFailed
    from medspa.domain.payments.stripe_gateway import GatewayUnavailable, _not_a_card_answer

    unknown = _not_a_card_answer(stripe.InvalidRequestError("No such PaymentMethod: 'pm_x'", "payment_method",
                                                            code="resource_missing"), "The card could not be saved.")
    assert isinstance(unknown, ValidationFailed) and unknown.fields == {"card_number": "No such PaymentMethod: 'pm_x'"}
    bad = _not_a_card_answer(stripe.InvalidRequestError("Invalid currency", "currency"), "The card could not be saved.")
    assert isinstance(bad, GatewayUnavailable) and str(bad) == "The card could not be saved."
    down = _not_a_card_answer(stripe.APIConnectionError("connection refused"), "The card could not be saved.")
    assert isinstance(down, GatewayUnavailable) and str(down) == "The payment service is not answering. Please try again."
