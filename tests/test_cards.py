"""Cards on file (issue 16 section 1): the test gateway's SetupIntent and off-session charges
with Stripe's test cards, the saved_card table (RLS, no card number), payments.cards helpers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.models import Client
from medspa.domain.errors import ValidationFailed
from medspa.domain.payments.cards import (
    apply_setup_outcome,
    card_for_visit,
    card_label,
    default_card,
    expires_before,
    record_pending_setup,
)
from medspa.domain.payments.gateway import CardDetails, ChargeRequest, SetupRequest, TestPaymentGateway
from medspa.domain.payments.models import CardSetup, SavedCard
from tests.conftest import utc
from tests.factories import build_clinic

NOW = utc(2026, 7, 1, 12)


def card(number: str, month: int = 12, year: int = 2030) -> CardDetails:
    return CardDetails(number, month, year, "123")


@pytest.fixture
def gateway(engine):
    return TestPaymentGateway(engine, FixedClock(NOW).now)


def setup(gateway, org_id: int, number: str, key: str = "setup-1-attempt-1", customer: str = ""):
    return gateway.setup_card(SetupRequest(org_id=org_id, idempotency_key=key, card=card(number), customer_id=customer))


def off_session(gateway, org_id: int, result, key: str, amount: int = 5000):
    return gateway.charge(ChargeRequest(org_id=org_id, amount_cents=amount, currency="USD", idempotency_key=key,
                                        payment_method_id=result.payment_method_id, customer_id=result.customer_id,
                                        off_session=True))


def new_client(clinic, n: int = 1) -> int:
    with clinic.session() as s:
        c = Client(org_id=clinic.org_id, first_name=f"Ana{n}", last_name="Silva", email=f"ana{n}@example.com")
        s.add(c)
        s.commit()
        return c.id


def test_setup_4242_succeeds_and_later_off_session_charge_succeeds(engine, owner_engine, gateway):
    clinic = build_clinic(engine, owner_engine)
    result = setup(gateway, clinic.org_id, "4242 4242 4242 4242")
    assert (result.status, result.brand, result.last4, result.exp_month, result.exp_year) == (
        "succeeded", "visa", "4242", 12, 2030)
    assert result.payment_method_id.startswith("pm_test_") and result.customer_id.startswith("cus_test_")
    assert result.setup_intent_id.startswith("seti_test_") and result.client_secret == ""
    # the same key replays the first answer (no second payment method)
    assert setup(gateway, clinic.org_id, "4242 4242 4242 4242") == result
    charged = off_session(gateway, clinic.org_id, result, "fee-1")
    assert (charged.status, charged.card_last4, charged.fee_cents) == ("succeeded", "4242", 175)
    assert off_session(gateway, clinic.org_id, result, "fee-1") == charged  # replayed, charged once


def test_setup_mastercard_brand(engine, owner_engine, gateway):
    clinic = build_clinic(engine, owner_engine)
    result = setup(gateway, clinic.org_id, "5555555555554444")
    assert (result.status, result.brand, result.last4) == ("succeeded", "mastercard", "4444")


def test_setup_declined_card_is_declined_with_stripes_message(engine, owner_engine, gateway):
    clinic = build_clinic(engine, owner_engine)
    result = setup(gateway, clinic.org_id, "4000000000000002")
    assert (result.status, result.decline_code, result.message, result.payment_method_id) == (
        "declined", "generic_decline", "Your card was declined.", "")


def test_setup_bad_input_raises_field_messages(engine, owner_engine, gateway):
    clinic = build_clinic(engine, owner_engine)
    with pytest.raises(ValidationFailed) as exc:
        setup(gateway, clinic.org_id, "4242 4242 4242 4241")
    assert exc.value.fields == {"card_number": "Your card number is invalid."}
    with pytest.raises(ValidationFailed):
        gateway.setup_card(SetupRequest(org_id=clinic.org_id, idempotency_key="k"))


def test_setup_3184_requires_action_then_every_off_session_charge_needs_authentication(engine, owner_engine, gateway):
    clinic = build_clinic(engine, owner_engine)
    result = setup(gateway, clinic.org_id, "4000002760003184")
    assert result.status == "requires_action" and result.client_secret.startswith(result.setup_intent_id)
    done = gateway.authenticate_setup(org_id=clinic.org_id, idempotency_key="setup-1-attempt-1")
    assert (done.status, done.payment_method_id, done.client_secret) == ("succeeded", result.payment_method_id, "")
    assert gateway.lookup_setup(org_id=clinic.org_id, idempotency_key="setup-1-attempt-1") == done
    charged = off_session(gateway, clinic.org_id, done, "fee-1")
    assert (charged.status, charged.decline_code, charged.fee_cents) == ("requires_action", "authentication_required", 0)
    assert "authenticate" in charged.message


def test_setup_3155_authenticated_once_then_charges_off_session(engine, owner_engine, gateway):
    clinic = build_clinic(engine, owner_engine)
    result = setup(gateway, clinic.org_id, "4000002500003155")
    assert result.status == "requires_action"
    done = gateway.authenticate_setup(org_id=clinic.org_id, idempotency_key="setup-1-attempt-1")
    assert off_session(gateway, clinic.org_id, done, "fee-1").status == "succeeded"


def test_setup_authentication_refused_fails(engine, owner_engine, gateway):
    clinic = build_clinic(engine, owner_engine)
    setup(gateway, clinic.org_id, "4000002760003184")
    done = gateway.authenticate_setup(org_id=clinic.org_id, idempotency_key="setup-1-attempt-1", approve=False)
    assert (done.status, done.decline_code) == ("failed", "authentication_failed")


def test_setup_0341_saves_but_off_session_charge_declines(engine, owner_engine, gateway):
    clinic = build_clinic(engine, owner_engine)
    result = setup(gateway, clinic.org_id, "4000000000000341")
    assert result.status == "succeeded" and result.last4 == "0341"
    charged = off_session(gateway, clinic.org_id, result, "fee-1")
    assert (charged.status, charged.decline_code, charged.message) == (
        "declined", "card_declined", "Your card was declined.")


def test_charge_of_unknown_or_other_customers_payment_method_is_refused(engine, owner_engine, gateway):
    clinic = build_clinic(engine, owner_engine)
    result = setup(gateway, clinic.org_id, "4242424242424242")
    with pytest.raises(ValidationFailed):
        gateway.charge(ChargeRequest(org_id=clinic.org_id, amount_cents=100, currency="USD", idempotency_key="x",
                                     payment_method_id="pm_test_nope", off_session=True))
    with pytest.raises(ValidationFailed):
        gateway.charge(ChargeRequest(org_id=clinic.org_id, amount_cents=100, currency="USD", idempotency_key="y",
                                     payment_method_id=result.payment_method_id, customer_id="cus_other",
                                     off_session=True))
    # another clinic cannot charge this clinic's saved card (the gateway's memory is per clinic)
    other = build_clinic(engine, owner_engine)
    with pytest.raises(ValidationFailed):
        off_session(gateway, other.org_id, result, "z")


def test_apply_setup_outcome_saves_the_card_once_without_its_number(engine, owner_engine, gateway):
    clinic = build_clinic(engine, owner_engine)
    client_id = new_client(clinic)
    result = setup(gateway, clinic.org_id, "4242 4242 4242 4242")
    with clinic.session() as s:
        row = record_pending_setup(s, clinic.system, client_id=client_id, appointment_id=None, gateway="test",
                                   idempotency_key="setup-1-attempt-1", now=NOW, reconcile_after=NOW)
        assert apply_setup_outcome(s, clinic.system, row, result, NOW) is True
        assert apply_setup_outcome(s, clinic.system, row, result, NOW) is False  # settled: nothing twice
        s.commit()
        cards = s.exec(select(SavedCard)).all()
        assert len(cards) == 1 and card_label(cards[0]) == "Visa ••4242"
        assert (row.status, row.saved_card_id, row.reconcile_after, row.settled_at) == (
            "succeeded", cards[0].id, None, NOW)
        assert default_card(s, client_id).id == cards[0].id
    # no card number anywhere in the clinic's rows (app tables and the test gateway's memory)
    with owner_engine.connect() as conn:
        for table in ("saved_card", "card_setup", "test_gateway_charge", "audit_event"):
            dump = conn.execute(text(f"select coalesce(string_agg(t::text, ' '), '') from {table} t "
                                     "where org_id = :o"), {"o": clinic.org_id}).scalar()
            assert "4242424242424242" not in dump and "4242 4242 4242 4242" not in dump, table


def test_declined_setup_saves_nothing(engine, owner_engine, gateway):
    clinic = build_clinic(engine, owner_engine)
    client_id = new_client(clinic)
    result = setup(gateway, clinic.org_id, "4000000000009995")
    with clinic.session() as s:
        row = record_pending_setup(s, clinic.system, client_id=client_id, appointment_id=None, gateway="test",
                                   idempotency_key="setup-1-attempt-1", now=NOW, reconcile_after=NOW)
        apply_setup_outcome(s, clinic.system, row, result, NOW)
        s.commit()
        assert (row.status, row.decline_code, row.saved_card_id) == ("declined", "insufficient_funds", None)
        assert s.exec(select(SavedCard)).all() == []
        assert default_card(s, client_id) is None


def test_saved_card_is_invisible_to_another_clinic(engine, owner_engine, gateway):
    clinic = build_clinic(engine, owner_engine)
    client_id = new_client(clinic)
    with clinic.session() as s:
        s.add(SavedCard(org_id=clinic.org_id, client_id=client_id, gateway="test", payment_method_id="pm_test_a",
                        brand="visa", last4="4242", exp_month=1, exp_year=2030))
        s.commit()
    other = build_clinic(engine, owner_engine)
    with other.session() as s:
        assert s.exec(select(SavedCard)).all() == []
        assert s.exec(select(CardSetup)).all() == []
        assert default_card(s, client_id) is None
        # writing a row for the first clinic from the second is refused by the policy
        s.add(SavedCard(org_id=clinic.org_id, client_id=client_id, gateway="test", payment_method_id="pm_test_b",
                        brand="visa", last4="4242", exp_month=1, exp_year=2030))
        with pytest.raises(Exception, match="row-level security"):
            s.commit()


def test_card_for_visit_prefers_the_visits_own_card_then_the_default(engine, owner_engine, gateway):
    from medspa.domain.scheduling.service import hold_slot

    clinic = build_clinic(engine, owner_engine)
    client_id = new_client(clinic)
    with clinic.session() as s:
        appt = hold_slot(s, clinic.system, location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=utc(2026, 7, 15, 14), now=NOW, client_id=client_id)
        assert card_for_visit(s, appt) is None
        older = SavedCard(org_id=clinic.org_id, client_id=client_id, gateway="test", payment_method_id="pm_test_1",
                          brand="visa", last4="1111", exp_month=1, exp_year=2030, created_at=utc(2026, 1, 1))
        newer = SavedCard(org_id=clinic.org_id, client_id=client_id, gateway="test", payment_method_id="pm_test_2",
                          brand="mastercard", last4="4444", exp_month=1, exp_year=2030, created_at=utc(2026, 2, 1))
        s.add_all([older, newer])
        s.flush()
        assert card_for_visit(s, appt).id == newer.id
        s.add(CardSetup(org_id=clinic.org_id, client_id=client_id, appointment_id=appt.id, gateway="test",
                        idempotency_key="setup-x", status="succeeded", saved_card_id=older.id))
        s.flush()
        assert card_for_visit(s, appt).id == older.id
        older.removed_at = NOW
        s.flush()
        assert card_for_visit(s, appt).id == newer.id
        s.rollback()


def test_card_label_and_expiry():
    visa = SavedCard(org_id=1, client_id=1, gateway="test", payment_method_id="pm", brand="visa", last4="4242",
                     exp_month=4, exp_year=2027)
    assert card_label(visa) == "Visa ••4242"
    assert card_label(SavedCard(org_id=1, client_id=1, gateway="test", payment_method_id="p", brand="amex",
                                last4="0005", exp_month=1, exp_year=2030)) == "American Express ••0005"
    assert card_label(SavedCard(org_id=1, client_id=1, gateway="test", payment_method_id="p", brand="weird",
                                last4="1234", exp_month=1, exp_year=2030)) == "Card ••1234"
    assert card_label(None) == ""
    # valid through the last day of its month (UTC)
    assert not expires_before(visa, datetime(2027, 4, 30, 23, 59, tzinfo=timezone.utc))
    assert expires_before(visa, datetime(2027, 5, 1, 0, 0, tzinfo=timezone.utc))
    december = SavedCard(org_id=1, client_id=1, gateway="test", payment_method_id="pm", brand="visa", last4="4242",
                         exp_month=12, exp_year=2026)
    assert not expires_before(december, utc(2026, 12, 31, 12))
    assert expires_before(december, utc(2027, 1, 1))
    with pytest.raises(ValueError):
        expires_before(visa, datetime(2027, 1, 1))


def test_a_setup_never_points_at_another_clients_card(engine, owner_engine, gateway):
    """Breaker note: save_card looked a payment method up across the clinic, so a second
    client's setup answered with the first client's payment method pointed at the first
    client's card. Now the card is looked up per client; a payment method on file for another
    client fails the setup (the unique payment method per clinic stays) and links nothing."""
    clinic = build_clinic(engine, owner_engine)
    first, second = new_client(clinic, 1), new_client(clinic, 2)
    result = setup(gateway, clinic.org_id, "4242 4242 4242 4242")
    with clinic.session() as s:
        mine = record_pending_setup(s, clinic.system, client_id=first, appointment_id=None, gateway="test",
                                    idempotency_key="setup-1-attempt-1", now=NOW, reconcile_after=NOW)
        assert apply_setup_outcome(s, clinic.system, mine, result, NOW) is True
        again = record_pending_setup(s, clinic.system, client_id=first, appointment_id=None, gateway="test",
                                     idempotency_key="setup-1-attempt-2", now=NOW, reconcile_after=NOW)
        assert apply_setup_outcome(s, clinic.system, again, result, NOW) is True
        assert again.saved_card_id == mine.saved_card_id  # the same client's card: reused
        theirs = record_pending_setup(s, clinic.system, client_id=second, appointment_id=None, gateway="test",
                                      idempotency_key="setup-2-attempt-1", now=NOW, reconcile_after=NOW)
        assert apply_setup_outcome(s, clinic.system, theirs, result, NOW) is True
        s.commit()
        assert (theirs.status, theirs.saved_card_id) == ("failed", None)
        assert theirs.failure_message == "This card is on file for another client."
        assert [(c.client_id, c.id) for c in s.exec(select(SavedCard))] == [(first, mine.saved_card_id)]
        assert default_card(s, second) is None
