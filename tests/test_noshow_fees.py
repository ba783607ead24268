"""No-show fees at the desk (trial findings 3, 4, 5, 7, 14): the confirmation's preview of what a
no-show will cost, the client told of the fee and of its waiver (outbox rows), "Charge card on
file again" for an unpaid fee (a new attempt key, once per press even when two race), the desk
cancel form's words by the reason, and the ledger's words. Real PostgreSQL; the clock is
injected."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.models import Client
from medspa.domain.clients.profile import client_profile
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.fee_actions import do_retry_fee_charge, do_waive_fee
from medspa.domain.payments.ledger_words import ledger_label
from medspa.domain.payments.models import Payment, PolicyFee
from medspa.domain.scheduling.actions.desk import do_change_status
from medspa.domain.scheduling.detail import appointment_detail
from medspa.domain.scheduling.policy import FeeTerms
from tests.card_support import save_test_card
from tests.test_policy_fees import (AFTER, BOUNDARY, _book, _clinic, _fees, _gw, _invariant_holds, _no_show_clinic,
                                    _save_card)


def _messages(clinic, appt_id, kind="fee_notice") -> dict[str, str]:
    """dedupe key -> body of the visit's outbox rows of `kind`."""
    with clinic.session() as s:
        return dict(s.exec(select(OutboxMessage.dedupe_key, OutboxMessage.body).where(
            OutboxMessage.appointment_id == appt_id, OutboxMessage.kind == kind)).all())


def _detail(clinic, appt_id, at, role="front_desk"):
    with clinic.session() as s:
        return appointment_detail(s, clinic.staff_actor(role), appt_id, now=at)


# --- finding 3: the no-show confirmation says what it will cost --------------------------------

def test_the_no_show_confirmation_previews_the_fee_from_the_deposit_and_the_card(engine, owner_engine):
    clinic, appt = _no_show_clinic(engine, owner_engine, fee=7500)  # deposit $50
    assert _detail(clinic, appt.id, AFTER).no_show_preview == (
        "A no-show fee of $75.00 applies: $50.00 from the deposit, $25.00 unpaid: no card on file, collect it "
        "from the client.")
    _save_card(engine, clinic, appt.client_id, "4242424242424242")
    assert _detail(clinic, appt.id, AFTER).no_show_preview == (
        "A no-show fee of $75.00 applies: $50.00 from the deposit, $25.00 charged to Visa ••4242.")


def test_the_no_show_preview_below_the_deposit_and_with_no_fee(engine, owner_engine):
    clinic, appt = _no_show_clinic(engine, owner_engine, fee=2000)
    assert _detail(clinic, appt.id, AFTER).no_show_preview == (
        "A no-show fee of $20.00 applies: $20.00 from the deposit, the other $30.00 of the deposit refunded.")
    plain = _clinic(engine, owner_engine)
    other = _book(engine, plain, "bo@example.com")
    assert _detail(plain, other.id, AFTER).no_show_preview == "No fee applies."
    assert _detail(plain, other.id, AFTER - timedelta(days=2)).no_show_preview == ""  # no-show not allowed yet


# --- finding 4: the client is told ------------------------------------------------------------

@pytest.mark.parametrize("number, status, words", [
    ("4242424242424242", "paid", "A no-show fee of $75.00 applies: $50.00 of your deposit was kept for it and "
                                 "$25.00 was charged to your card on file."),
    ("4000000000000341", "unpaid_needs_action", "A no-show fee of $75.00 applies: $50.00 of your deposit was kept "
                                                "for it and the clinic will contact you about the remaining "
                                                "$25.00."),
])
def test_the_client_is_told_the_no_show_fee_once_it_settles(engine, owner_engine, number, status, words):
    clinic, appt = _no_show_clinic(engine, owner_engine, fee=7500)
    _save_card(engine, clinic, appt.client_id, number)
    do_change_status(clinic.staff_actor(), appt.id, "no_show", clock=FixedClock(AFTER), engine=engine,
                     gateway=_gw(engine, AFTER))
    sent = _messages(clinic, appt.id)
    assert set(sent) == {f"fee-no_show-{status}-1-email-{appt.id}", f"fee-no_show-{status}-1-sms-{appt.id}"}
    body = sent[f"fee-no_show-{status}-1-email-{appt.id}"]
    assert words in body and body.startswith("Hi Ana,") and "Booking reference:" in body
    assert words in sent[f"fee-no_show-{status}-1-sms-{appt.id}"]


def test_a_no_show_fee_from_the_deposit_alone_is_told_and_its_waiver_says_what_goes_back(engine, owner_engine):
    clinic, appt = _no_show_clinic(engine, owner_engine, fee=2000)
    do_change_status(clinic.staff_actor(), appt.id, "no_show", clock=FixedClock(AFTER), engine=engine,
                     gateway=_gw(engine, AFTER))
    assert ("A no-show fee of $20.00 applies: $20.00 of your deposit was kept for it and $30.00 of your deposit "
            "is being refunded.") in _messages(clinic, appt.id)[f"fee-no_show-paid-0-email-{appt.id}"]
    [fee] = _fees(clinic, appt.id)
    later = AFTER + timedelta(hours=1)
    do_waive_fee(clinic.staff_actor("manager"), fee.id, "Family emergency", clock=FixedClock(later), engine=engine,
                 gateway=_gw(engine, later))
    sent = _messages(clinic, appt.id)
    assert ("Your no-show fee of $20.00 was waived: $20.00 is being refunded to your card ($20.00 of your "
            "deposit).") in sent[f"fee-no_show-waived-email-{appt.id}"]
    assert len(sent) == 4  # fee email + sms, waiver email + sms


def test_waiving_a_fee_charged_to_the_card_tells_both_parts_going_back(engine, owner_engine):
    clinic, appt = _no_show_clinic(engine, owner_engine, fee=7500)
    _save_card(engine, clinic, appt.client_id, "4242424242424242")
    do_change_status(clinic.staff_actor(), appt.id, "no_show", clock=FixedClock(AFTER), engine=engine,
                     gateway=_gw(engine, AFTER))
    [fee] = _fees(clinic, appt.id)
    do_waive_fee(clinic.staff_actor("manager"), fee.id, "Sick", clock=FixedClock(AFTER), engine=engine,
                 gateway=_gw(engine, AFTER))
    assert ("Your no-show fee of $75.00 was waived: $75.00 is being refunded to your card ($50.00 of your deposit, "
            "$25.00 charged to your card on file).") in _messages(clinic, appt.id)[f"fee-no_show-waived-email-{appt.id}"]
    _invariant_holds(clinic, AFTER + timedelta(minutes=5))


# --- finding 5: collecting an unpaid fee ------------------------------------------------------

def _save_another_card(engine, clinic, client_id: int, number: str) -> None:
    """Save a second test card for the client (tests.card_support, attempt 2)."""
    save_test_card(engine, clinic, client_id, number, at=AFTER, key=f"setup-{client_id}-attempt-2")


def _unpaid_with_card(engine, owner_engine):
    """A $75 no-show fee: $50 from the deposit, the $25 rest declined on the card (unpaid); then the
    client saves a good card."""
    clinic, appt = _no_show_clinic(engine, owner_engine, fee=7500)
    _save_card(engine, clinic, appt.client_id, "4000000000000341")
    do_change_status(clinic.staff_actor(), appt.id, "no_show", clock=FixedClock(AFTER), engine=engine,
                     gateway=_gw(engine, AFTER))
    _save_another_card(engine, clinic, appt.client_id, "4242424242424242")
    [fee] = _fees(clinic, appt.id)
    assert fee.status == "unpaid_needs_action"
    return clinic, appt, fee


def test_charge_card_on_file_again_uses_a_new_attempt_key_and_tells_the_client(engine, owner_engine):
    clinic, appt, fee = _unpaid_with_card(engine, owner_engine)
    panel = _detail(clinic, appt.id, AFTER)
    assert (panel.fee_retry_card, panel.fee_collect_hint) == ("Visa ••4242", "")
    with pytest.raises(PermissionDenied):  # the lab reads no visit panel at all (issue 17: /lab only)
        _detail(clinic, appt.id, AFTER, role="lab")
    with pytest.raises(PermissionDenied):
        do_retry_fee_charge(clinic.staff_actor("lab"), fee.id, clock=FixedClock(AFTER), engine=engine,
                            gateway=_gw(engine, AFTER))
    later = AFTER + timedelta(hours=2)
    view = do_retry_fee_charge(clinic.staff_actor(), fee.id, clock=FixedClock(later), engine=engine,
                               gateway=_gw(engine, later))
    assert view.status == "paid" and view.line == ("No-show fee $75.00: paid ($50.00 from the deposit, $25.00 "
                                                   "charged to Visa ••4242)")
    with clinic.session() as s:
        keys = s.exec(select(Payment.idempotency_key, Payment.status).where(
            Payment.appointment_id == appt.id, Payment.purpose == "fee").order_by(Payment.id)).all()
    assert keys == [(f"fee-{appt.id}-no_show-attempt-1", "declined"), (f"fee-{appt.id}-no_show-attempt-2", "succeeded")]
    assert "$25.00 was charged to your card on file." in _messages(clinic, appt.id)[
        f"fee-no_show-paid-2-email-{appt.id}"]
    with pytest.raises(ValidationFailed) as err:  # paid now: nothing to collect
        do_retry_fee_charge(clinic.staff_actor(), fee.id, clock=FixedClock(later), engine=engine,
                            gateway=_gw(engine, later))
    assert err.value.fields == {"fee": "This fee is not waiting to be collected"}
    _invariant_holds(clinic, later + timedelta(minutes=5))


def test_two_presses_of_charge_again_racing_charge_once(engine, owner_engine):
    clinic, appt, fee = _unpaid_with_card(engine, owner_engine)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    later = AFTER + timedelta(hours=2)

    def press():
        barrier.wait()
        try:
            do_retry_fee_charge(clinic.staff_actor(), fee.id, clock=FixedClock(later), engine=engine,
                                gateway=_gw(engine, later))
            outcomes.append("ok")
        except ValidationFailed:
            outcomes.append("refused")

    threads = [threading.Thread(target=press) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    with clinic.session() as s:
        succeeded = s.exec(select(Payment).where(Payment.appointment_id == appt.id, Payment.purpose == "fee",
                                                 Payment.status == "succeeded")).all()
        row = s.get(PolicyFee, fee.id)
    assert [p.amount_cents for p in succeeded] == [2500] and (row.status, row.attempts) == ("paid", 2)


def test_an_unpaid_fee_without_a_card_says_checkout_does_not_include_it(engine, owner_engine):
    clinic, appt = _no_show_clinic(engine, owner_engine, fee=7500)
    do_change_status(clinic.staff_actor(), appt.id, "no_show", clock=FixedClock(AFTER), engine=engine,
                     gateway=_gw(engine, AFTER))
    panel = _detail(clinic, appt.id, AFTER)
    assert panel.fee_retry_card == "" and panel.fee_collect_hint.startswith("Checkout does not include this fee")
    [fee] = _fees(clinic, appt.id)
    with pytest.raises(ValidationFailed) as err:
        do_retry_fee_charge(clinic.staff_actor(), fee.id, clock=FixedClock(AFTER), engine=engine,
                            gateway=_gw(engine, AFTER))
    assert err.value.fields["fee"].startswith("No card on file")


# --- finding 14: the ledger in words ---------------------------------------------------------

def test_the_ledger_says_how_much_of_the_deposit_the_fee_kept(engine, owner_engine):
    clinic, appt = _no_show_clinic(engine, owner_engine, fee=7500)
    do_change_status(clinic.staff_actor(), appt.id, "no_show", clock=FixedClock(AFTER), engine=engine,
                     gateway=_gw(engine, AFTER))
    with clinic.session() as s:
        profile = client_profile(s, clinic.staff_actor("owner"), s.get(Client, appt.client_id), now=AFTER)
    lines = [(line.kind, line.amount) for line in profile.ledger]
    assert ("Deposit kept for the fee $50.00", "$0.00") in lines and ("Deposit paid", "$50.00") in lines
    assert ledger_label("fee_charged") == "Fee charged to the card" and ledger_label("new_kind") == "New kind"


# --- finding 7: the desk cancel form follows the reason --------------------------------------

def test_the_desk_cancel_words_follow_the_reason(engine, owner_engine):
    clinic = _clinic(engine, owner_engine, late=FeeTerms("flat", 4000))
    appt = _book(engine, clinic)
    panel = _detail(clinic, appt.id, BOUNDARY + timedelta(hours=1))
    assert panel.cancel_policy == ("Inside the 24-hour window: A late-cancellation fee of $40.00 applies: $40.00 of "
                                   "the deposit goes toward it, the other $10.00 is refunded.")
    assert panel.cancel_policy_clinic == ("Inside the 24-hour window: No fee: cancelled for the clinic's reason. "
                                          "The $50.00 deposit is refunded.")


def test_with_no_fee_the_clinic_reason_words_say_the_kept_deposit_is_refunded(engine, owner_engine):
    from medspa.domain.practice.models import Location

    clinic = _clinic(engine, owner_engine)
    with clinic.session() as s:
        s.get(Location, clinic.location_id).late_cancel_keeps_deposit = True
        s.commit()
    appt = _book(engine, clinic)
    panel = _detail(clinic, appt.id, BOUNDARY + timedelta(hours=1))
    assert panel.cancel_policy == "Inside the 24-hour window: the $50.00 deposit will be kept."
    assert panel.cancel_policy_clinic == ("Inside the 24-hour window: cancelled for the clinic's reason, the $50.00 "
                                          "deposit will be refunded.")
