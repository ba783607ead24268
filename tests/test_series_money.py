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
    """Save a test card for the client as the booking's card step does (a SetupIntent; the
    client's 3-D Secure approved when the card asks for it)."""
    from medspa.domain.payments.cards import apply_setup_outcome, record_pending_setup
    from medspa.domain.payments.gateway import SetupRequest

    gateway = _gw(clinic, at)
    key = f"setup-client-{client_id}-{number[-4:]}"
    result = gateway.setup_card(SetupRequest(org_id=clinic.org_id, idempotency_key=key,
                                             card=CardDetails(number, 12, 2030, "123")))
    if result.status == "requires_action":
        result = gateway.authenticate_setup(org_id=clinic.org_id, idempotency_key=key)
    with clinic.session() as s:
        row = record_pending_setup(s, clinic.system, client_id=client_id, appointment_id=None, gateway="test",
                                   idempotency_key=key, now=at, reconcile_after=at)
        assert apply_setup_outcome(s, clinic.system, row, result, at)
        s.commit()


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
