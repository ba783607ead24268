"""Money of a recurring series (issue 16, sections 1 and 2): a late cancel of series visits
sends their late-cancel fee charges right after the action (as the desk's single cancel does),
and the series' deposits: charged off-session on the client's card on file after the booking
commits (the first visit only, or each visit when the location says so), a declined or
needs-authentication card leaving the visit booked with its deposit due, no card: due and
collected at checkout, each occurrence checked out on its own with only its own deposit
applied. Real PostgreSQL; the clock and the test gateway are injected."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.service import ClientInput, create_client
from medspa.domain.payments.fee_actions import do_set_fees
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.payments.models import LedgerEntry, Payment, PolicyFee
from medspa.domain.scheduling.actions.series import do_book_series, do_cancel_in_series, do_plan_series
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.policy import FeeTerms
from medspa.domain.scheduling.series import Recurrence
from tests.card_support import save_test_card

NY = ZoneInfo("America/New_York")
BOOKED_AT = datetime(2026, 3, 1, 8, tzinfo=NY)
FIRST = datetime(2026, 3, 3, 10, tzinfo=NY)  # a Tuesday; weekly: Mar 3, 10, 17, 24


def _gw(clinic, at: datetime) -> TestPaymentGateway:
    return TestPaymentGateway(clinic.engine, lambda: at)


def _client(clinic, first: str = "Mia") -> int:
    with clinic.session() as s:
        c = create_client(s, clinic.staff_actor(), ClientInput(first, "Reyes", f"{first.lower()}@example.com", ""))
        s.commit()
        return c.id


def _save_card(clinic, client_id: int, number: str, at: datetime = BOOKED_AT) -> None:
    """Save a test card for the client as the booking's card step does (tests.card_support)."""
    save_test_card(clinic.engine, clinic, client_id, number, at=at, key=f"setup-client-{client_id}-{number[-4:]}")


def _book(clinic, client_id: int, count: int = 4, at: datetime = BOOKED_AT):
    """Plan and book every date of a weekly series from FIRST; returns (plan, booked, ids)."""
    clock = FixedClock(at)
    kw = dict(location_id=clinic.location_id, service_id=clinic.services["botox"],
              provider_id=clinic.provider_ids[0], client_id=client_id,
              recurrence=Recurrence("weekly", 1, count=count), first_start=FIRST)
    plan = do_plan_series(clinic.staff_actor(), clock=clock, engine=clinic.engine, **kw)
    booked = do_book_series(clinic.staff_actor(), picks={c.index: c.start_at for c in plan.checks if c.free},
                            clock=clock, engine=clinic.engine, gateway=_gw(clinic, at), **kw)
    return plan, booked, [a for _, a in booked.booked]


# ---- 1. a late cancel of series visits sends the fee charge right after the action -----------

@pytest.mark.parametrize("scope, visit", [("one", 1), ("following", 1), ("following", 3)])
def test_a_late_series_cancel_charges_the_fee_to_the_saved_card_right_away(clinic, scope, visit):
    do_set_fees(clinic.staff_actor("owner"), clinic.location_id, FeeTerms("flat", 9000), FeeTerms(),
                engine=clinic.engine)
    client = _client(clinic)
    _, _, ids = _book(clinic, client)
    _save_card(clinic, client, "4242424242424242")
    start = FIRST.replace(day=3 + 7 * visit)
    moment = start.replace(hour=8)  # 2 hours before: inside the 24-hour window
    done = do_cancel_in_series(clinic.staff_actor(), ids[visit], scope, "client_request", clock=FixedClock(moment),
                               engine=clinic.engine, gateway=_gw(clinic, moment))
    assert done.cancelled == len(ids) - visit if scope == "following" else 1
    with clinic.session() as s:
        [fee] = s.exec(select(PolicyFee).where(PolicyFee.appointment_id == ids[visit])).all()
        [payment] = s.exec(select(Payment).where(Payment.appointment_id == ids[visit],
                                                 Payment.purpose == "fee")).all()
        charged = s.exec(select(LedgerEntry.amount_cents).where(LedgerEntry.appointment_id == ids[visit],
                                                                LedgerEntry.entry_type == "fee_charged")).all()
        others = s.exec(select(PolicyFee).where(PolicyFee.appointment_id.in_(ids[visit + 1:]))).all()
    assert (fee.kind, fee.status, fee.fee_cents, fee.charge_cents) == ("late_cancel", "paid", 9000,
                                                                       9000 - fee.deposit_cents)
    assert fee.charged_cents == fee.charge_cents and fee.card_label == "Visa ••4242"
    assert (payment.status, payment.idempotency_key) == ("succeeded", f"fee-{ids[visit]}-late_cancel-attempt-1")
    assert charged == [fee.charge_cents]
    assert others == []  # the later visits were cancelled more than 24 hours ahead: no fee


# ---- 2. the series' deposits: charged on the card on file after the booking -----------------

def _each_visit(clinic) -> None:
    from medspa.domain.practice.models import Location

    with clinic.session() as s:
        loc = s.get(Location, clinic.location_id)
        loc.series_deposit_each_visit = True
        s.add(loc)
        s.commit()


def _deposits(clinic, ids) -> list[tuple[str, int, str]]:
    """(status, amount, key) of each visit's deposit payments, by visit then payment."""
    with clinic.session() as s:
        return [(p.status, p.amount_cents, p.idempotency_key) for i in ids for p in s.exec(
            select(Payment).where(Payment.appointment_id == i, Payment.purpose == "deposit").order_by(Payment.id))]


def _panel(clinic, appointment_id: int, at: datetime = BOOKED_AT):
    from medspa.domain.scheduling.actions.calendar import fetch_appointment_detail

    return fetch_appointment_detail(clinic.staff_actor(), appointment_id, clock=FixedClock(at), engine=clinic.engine)


def _invariant_holds(clinic, at: datetime) -> None:
    from medspa.domain.payments.invariant import money_violations

    with clinic.session() as s:
        assert money_violations(s, at) == []


@pytest.mark.parametrize("each", [False, True])
def test_the_deposit_is_charged_to_the_card_on_file_first_visit_only_or_each_visit(clinic, each):
    from medspa.domain.messaging.models import OutboxMessage

    if each:
        _each_visit(clinic)
    client = _client(clinic)
    _save_card(clinic, client, "4242424242424242")
    plan, booked, ids = _book(clinic, client, count=3)
    assert plan.card_label == "Visa ••4242" and plan.deposits == ((5000,) * 3 if each else (5000, 0, 0))
    charged = ids if each else ids[:1]
    assert _deposits(clinic, ids) == [("succeeded", 5000, f"deposit-{i}-attempt-1") for i in charged]
    assert [(d.index, d.appointment_id, d.state, d.text) for d in booked.deposits] == [
        (n, i, "paid", "$50.00 paid with Visa ••4242") for n, i in enumerate(charged)]
    with clinic.session() as s:
        rows = [s.get(Appointment, i) for i in ids]
        lines = sorted(s.exec(select(LedgerEntry.appointment_id, LedgerEntry.entry_type, LedgerEntry.amount_cents)
                              .where(LedgerEntry.appointment_id.in_(ids))).all())
        kinds = [m.kind for m in s.exec(select(OutboxMessage).where(OutboxMessage.client_id == client)
                                        .order_by(OutboxMessage.id))]
        mail = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "series_confirmation",
                                                  OutboxMessage.channel == "email",
                                                  OutboxMessage.client_id == client)).one()
    assert [(r.status, r.deposit_cents) for r in rows] == [("confirmed", 5000 if each or n == 0 else 0)
                                                           for n, r in enumerate(rows)]
    assert lines == sorted([(i, "deposit_paid", 5000) for i in charged] + [(i, "processing_fee", -175) for i in charged])
    # ONE series confirmation (no per-visit one from the deposit), a receipt per deposit
    assert kinds == ["series_confirmation"] + ["deposit_receipt"] * len(charged)
    total = "$150.00" if each else "$50.00"
    assert f"Deposit: {total}, charged to your card on file (Visa ••4242); the receipt follows." in mail.body
    assert [_panel(clinic, i).deposit_paid for i in ids] == ["$50.00" if i in charged else "None" for i in ids]
    _invariant_holds(clinic, BOOKED_AT)


@pytest.mark.parametrize("number, state, words", [
    ("4000000000000341", "declined",
     "$50.00 due · Visa ••0341 declined (Your card was declined.): collect it at checkout"),
    ("4000002760003184", "needs_action",
     "$50.00 due · Visa ••3184 needs the client's authentication: collect it at checkout"),
])
def test_a_declined_or_authentication_card_leaves_the_visit_booked_with_its_deposit_due(clinic, number, state,
                                                                                       words):
    from medspa.domain.payments.reconcile import settle_payment

    client = _client(clinic)
    _save_card(clinic, client, number)
    _, booked, ids = _book(clinic, client, count=2)
    assert len(booked.booked) == 2 and booked.lost == ()
    assert [(d.appointment_id, d.state, d.text) for d in booked.deposits] == [(ids[0], state, words)]
    with clinic.session() as s:
        assert [s.get(Appointment, i).status for i in ids] == ["confirmed", "confirmed"]
    detail = _panel(clinic, ids[0])
    assert (detail.status, detail.deposit_paid, detail.deposit_paid_cents) == ("confirmed", words, 0)
    # reconciliation later settles an intent left waiting for the client's bank: still booked, still due
    later = BOOKED_AT.replace(hour=9)
    with clinic.session() as s:
        payment = s.exec(select(Payment).where(Payment.appointment_id == ids[0]).with_for_update()).one()
        if payment.reconcile_after is not None:
            settle_payment(s, clinic.system, payment, _gw(clinic, later), later)
            s.commit()
        assert (payment.status, payment.reconcile_after) in (("declined", None), ("failed", None))
        assert s.get(Appointment, ids[0]).status == "confirmed"
    assert _panel(clinic, ids[0], later).deposit_paid.startswith("$50.00 due · Visa ••")
    _invariant_holds(clinic, later)


def test_without_a_card_the_deposit_stays_due_and_checkout_collects_it(clinic):
    client = _client(clinic)
    plan, booked, ids = _book(clinic, client, count=2)
    assert plan.card_label == ""
    assert [(d.appointment_id, d.state, d.text) for d in booked.deposits] == [
        (ids[0], "no_card", "$50.00 due · no card on file: collect it at checkout")]
    assert _deposits(clinic, ids) == []
    assert _panel(clinic, ids[0]).deposit_paid == "$50.00 due · no card on file: collect it at checkout"
    assert _panel(clinic, ids[1]).deposit_paid == "None"  # first visit only
    visit_day = FIRST.replace(minute=40)
    _check_in(clinic, ids[0])
    out = _checkout(clinic, ids[0], visit_day)
    assert (out.status, out.applied_cents, out.balance_cents) == ("succeeded", 0, 35000)  # the deposit included
    assert _panel(clinic, ids[0], visit_day).deposit_paid == "None"  # checked out: nothing due any more
    _invariant_holds(clinic, visit_day)


def _check_in(clinic, appointment_id: int) -> None:
    from medspa.domain.scheduling.actions.desk import do_change_status

    with clinic.session() as s:
        start = s.get(Appointment, appointment_id).start_at
    do_change_status(clinic.staff_actor(), appointment_id, "check_in", clock=FixedClock(start),
                     engine=clinic.engine)


def _checkout(clinic, appointment_id: int, at: datetime):
    from medspa.domain.payments.checkout import checkout_visit

    return checkout_visit(clinic.engine, clinic.staff_actor(), appointment_id, gateway=_gw(clinic, at), now=at,
                          card=CardDetails("4242 4242 4242 4242", 12, 2030, "123"))


def test_each_occurrence_checks_out_on_its_own_with_only_its_own_deposit_applied(clinic):
    client = _client(clinic)
    _save_card(clinic, client, "4242424242424242")
    _, _, ids = _book(clinic, client, count=3)
    first_day, second_day = FIRST.replace(minute=40), FIRST.replace(day=10, minute=40)
    _check_in(clinic, ids[0])
    out = _checkout(clinic, ids[0], first_day)
    assert (out.status, out.price_cents, out.applied_cents, out.balance_cents) == ("succeeded", 35000, 5000, 30000)
    _check_in(clinic, ids[1])
    out = _checkout(clinic, ids[1], second_day)
    assert (out.status, out.price_cents, out.applied_cents, out.balance_cents) == ("succeeded", 35000, 0, 35000)
    with clinic.session() as s:
        assert [s.get(Appointment, i).status for i in ids] == ["completed", "completed", "confirmed"]
        applied = s.exec(select(LedgerEntry.appointment_id, LedgerEntry.amount_cents)
                         .where(LedgerEntry.entry_type == "deposit_applied",
                                LedgerEntry.appointment_id.in_(ids))).all()
    assert applied == [(ids[0], -5000)]  # the first visit's deposit, on the first visit only
    _invariant_holds(clinic, second_day)


def test_the_booking_message_says_what_became_of_each_deposit():
    from medspa.domain.scheduling.series import SeriesBooked, SeriesDeposit
    from medspa.features.calendar.series_dialog import _deposit_note

    labels = {"0": "Tue, Mar 3, 2026", "1": "Tue, Mar 10, 2026"}
    paid = SeriesDeposit(0, 7, 5000, "USD", "paid", "$50.00 paid with Visa ••4242")
    owed = SeriesDeposit(1, 8, 5000, "USD", "declined",
                         "$50.00 due · Visa ••0341 declined (Your card was declined.): collect it at checkout")
    assert _deposit_note(SeriesBooked(1, ((0, 7),), (), (paid,)), labels) == " · deposit $50.00 paid with Visa ••4242"
    assert _deposit_note(SeriesBooked(1, ((0, 7), (1, 8)), (), (paid, owed)), labels) == (
        " · deposit $50.00 paid with Visa ••4242 · Tue, Mar 10, 2026: $50.00 due · Visa ••0341 declined "
        "(Your card was declined.): collect it at checkout")
    assert _deposit_note(SeriesBooked(1, ((0, 7),)), labels) == ""


def test_checkout_waits_while_the_deposit_charge_is_still_open(clinic):
    """A deposit left waiting for the client's bank (an off-session charge cannot ask for 3-D
    Secure) is settled first: checkout refuses meanwhile, so it never charges the full price
    while the deposit could still be taken; once reconciliation failed it, checkout collects it."""
    from medspa.domain.errors import ValidationFailed
    from medspa.domain.payments.checkout import DEPOSIT_WAITING
    from medspa.domain.payments.reconcile import settle_payment

    client = _client(clinic)
    _save_card(clinic, client, "4000002760003184")
    _, _, ids = _book(clinic, client, count=2)
    _check_in(clinic, ids[0])
    visit_day = FIRST.replace(minute=40)
    with pytest.raises(ValidationFailed) as exc:
        _checkout(clinic, ids[0], visit_day)
    assert exc.value.fields == {"appointment": DEPOSIT_WAITING}
    with clinic.session() as s:
        payment = s.exec(select(Payment).where(Payment.appointment_id == ids[0]).with_for_update()).one()
        settle_payment(s, clinic.system, payment, _gw(clinic, visit_day), visit_day)
        s.commit()
    out = _checkout(clinic, ids[0], visit_day)
    assert (out.status, out.applied_cents, out.balance_cents) == ("succeeded", 0, 35000)
    _invariant_holds(clinic, visit_day)
