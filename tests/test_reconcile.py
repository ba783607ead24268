"""Issue 11 part 1, "a charge never outlives its booking": crash points of the booking flow,
reconciliation, hold expiry with money on the hold, the money invariant and `medspa check`.

A crash is simulated by making one step raise (Crash) in the booking request: before the
gateway call, after the gateway charged but before the answer is recorded, and while the
answer and the confirmation are being written. The request's process would be gone; the rows
it committed stay. Reconciliation then runs on a clock past the hold's expiry + grace.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import select
from typer.testing import CliRunner

import medspa.domain.scheduling.booking as booking_module
from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.service import ClientInput
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.actions import do_reconcile_payments, fetch_money_violations
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.payments.invariant import money_violations
from medspa.domain.payments.models import LedgerEntry, Payment, Refund, TestGatewayCharge
from medspa.domain.payments.stripe_gateway import GatewayUnavailable, StripeGateway
from medspa.domain.scheduling.actions.online import do_expire_lapsed_holds, do_release_hold
from medspa.domain.scheduling.booking import ActionRequired, OnlineBooking, book_online
from medspa.domain.scheduling.models import Appointment, Occupancy
from medspa.domain.scheduling.service import SlotTaken, hold_slot
from tests.conftest import utc
from tests.factories import build_clinic
from tests.fake_stripe import FakeStripe
from tests.gateway_faults import Crash, CrashingGateway, Unreachable

NY = ZoneInfo("America/New_York")
SLOT = datetime.combine(date(2026, 7, 15), time(10, 0), tzinfo=NY).astimezone(timezone.utc)
START = utc(2026, 7, 1, 12)
PAST_GRACE = timedelta(minutes=10, seconds=121)  # the 10-minute hold + the 120 s grace


@pytest.fixture
def clock():
    return FixedClock(START)


@pytest.fixture
def fake():
    server = FakeStripe().start()
    yield server
    server.stop()


def card_booking(clinic, start: datetime = SLOT, email: str = "ava@example.com", card: str = "4242424242424242"):
    return OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=start,
                         client=ClientInput("Ava", "Nguyen", email, "(212) 555-0123"),
                         card=CardDetails(card, 12, 30, "123"))


def stripe_booking(clinic, pm: str = "pm_card_visa", start: datetime = SLOT):
    return OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=start,
                         client=ClientInput("Mia", "Wong", "mia@example.com", "+1 212 555 0199"), payment_method_id=pm)


def crash_booking(engine, clinic, gateway, clock, when: str, monkeypatch, req=None) -> None:
    """Run a booking that dies at `when`; the rows it committed stay."""
    req = req or (card_booking(clinic) if gateway.name == "test" else stripe_booking(clinic))
    if when == "before_confirm":
        def die(*args, **kwargs):
            raise Crash("killed while recording the answer and confirming")

        monkeypatch.setattr(booking_module, "finalize_paid_booking", die)
        gw = gateway
    else:
        gw = CrashingGateway(gateway, when)
    with pytest.raises(Crash):
        book_online(engine, clinic.public, req, gw, clock)
    monkeypatch.undo()


@contextmanager
def tenant_sql(clinic):
    """A hand-made change in the clinic's own transaction (row-level security holds even for
    the schema owner), committed at the end."""
    with clinic.session() as s:
        yield s.connection()
        s.commit()


def rows(clinic, model, *where, order=None):
    with clinic.session() as s:
        return list(s.exec(select(model).where(*where).order_by(order if order is not None else model.id)))


def the_appointment(clinic) -> Appointment:
    (appt,) = rows(clinic, Appointment, Appointment.start_at == SLOT)
    return appt


def ledger(clinic, appointment_id):
    return [(e.entry_type, e.amount_cents) for e in rows(clinic, LedgerEntry, LedgerEntry.appointment_id == appointment_id)]


def violations(clinic, now):
    with clinic.session() as s:
        return [(v.kind, v.payment_id) for v in money_violations(s, now)]


def charged_at_test_gateway(clinic) -> list[str]:
    return [r.result["status"] for r in rows(clinic, TestGatewayCharge)
            if r.idempotency_key.startswith("deposit-")]


# ---- the fault, reproduced --------------------------------------------------------------------

def test_a_crash_after_the_charge_leaves_a_pending_payment_with_its_key(engine, owner_engine, clock, monkeypatch):
    """Before issue 11 the Payment row was written after the gateway answered: a crash there
    left a charge at the gateway and no row at all (the money was stranded and invisible)."""
    clinic = build_clinic(engine, owner_engine)
    crash_booking(engine, clinic, TestPaymentGateway(engine, clock.now), clock, "after_gateway", monkeypatch)
    assert charged_at_test_gateway(clinic) == ["succeeded"]  # the card was charged
    appt = the_appointment(clinic)
    (payment,) = rows(clinic, Payment, Payment.appointment_id == appt.id)
    assert (payment.status, payment.idempotency_key, payment.amount_cents, payment.client_id) == (
        "pending", f"deposit-{appt.id}-attempt-1", 5000, appt.client_id)
    assert payment.reconcile_after == appt.hold_expires_at + timedelta(seconds=120)
    # unreconciled, the invariant reports it once it is overdue, and hold expiry leaves it alone
    assert violations(clinic, clock.now()) == []
    clock.advance(minutes=30)
    assert [e for e in do_expire_lapsed_holds(clock=clock, engine=engine) if e.org_id == clinic.org_id] == []
    assert the_appointment(clinic).status == "held"
    assert violations(clinic, clock.now()) == [("unsettled_payment", payment.id)]


# ---- every crash point ends confirmed or refunded, never both, never neither ------------------

@pytest.mark.parametrize("when", ["before_gateway", "after_gateway", "before_confirm"])
def test_test_gateway_crash_points_are_settled_by_reconciliation(engine, owner_engine, clock, monkeypatch, when):
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    crash_booking(engine, clinic, gateway, clock, when, monkeypatch)
    appt = the_appointment(clinic)
    clock.advance(seconds=PAST_GRACE.total_seconds())
    assert the_appointment(clinic).status == "held"
    done = [r for r in do_reconcile_payments(clock=clock, engine=engine, gateway=gateway) if r.org_id == clinic.org_id]
    (payment,) = rows(clinic, Payment, Payment.appointment_id == appt.id)
    if when == "before_gateway":  # never charged: failed, the slot is free again
        assert [r.outcome for r in done] == ["failed"] and charged_at_test_gateway(clinic) == []
        assert (payment.status, the_appointment(clinic).status, ledger(clinic, appt.id)) == ("failed", "expired", [])
    else:
        assert [r.outcome for r in done] == ["confirmed"]
        assert (payment.status, the_appointment(clinic).status) == ("succeeded", "confirmed")
        assert ledger(clinic, appt.id) == [("deposit_paid", 5000), ("processing_fee", -175)]
        kinds = sorted((m.kind, m.channel) for m in rows(clinic, OutboxMessage, OutboxMessage.appointment_id == appt.id))
        assert kinds == [("booking_confirmation", "email"), ("booking_confirmation", "sms"), ("deposit_receipt", "email")]
    assert payment.reconcile_after is None
    assert violations(clinic, clock.now()) == []
    again = [r for r in do_reconcile_payments(clock=clock, engine=engine, gateway=gateway) if r.org_id == clinic.org_id]
    assert again == []  # settled once


@pytest.mark.parametrize("when", ["before_gateway", "after_gateway", "before_confirm"])
def test_stripe_crash_points_are_settled_by_reconciliation(engine, owner_engine, clock, monkeypatch, fake, when):
    clinic = build_clinic(engine, owner_engine)
    gateway = StripeGateway(fake.api_key, fake.url)
    crash_booking(engine, clinic, gateway, clock, when, monkeypatch)
    appt = the_appointment(clinic)
    (payment,) = rows(clinic, Payment, Payment.appointment_id == appt.id)
    assert payment.gateway_payment_id is None  # the intent's id was never recorded
    clock.advance(seconds=PAST_GRACE.total_seconds())
    done = [r.outcome for r in do_reconcile_payments(clock=clock, engine=engine, gateway=gateway)
            if r.org_id == clinic.org_id]
    (payment,) = rows(clinic, Payment, Payment.appointment_id == appt.id)
    if when == "before_gateway":
        assert done == ["failed"] and fake.intents == {}
        assert (payment.status, the_appointment(clinic).status, ledger(clinic, appt.id)) == ("failed", "expired", [])
    else:
        (intent,) = fake.intents.values()  # found by the idempotency key in its metadata
        assert done == ["confirmed"] and payment.gateway_payment_id == intent["id"]
        assert (payment.status, payment.card_last4, the_appointment(clinic).status) == ("succeeded", "4242", "confirmed")
        assert ledger(clinic, appt.id) == [("deposit_paid", 5000)] and fake.posts_to("/v1/refunds") == []
    assert violations(clinic, clock.now()) == []


def test_stripe_3ds_past_the_hold_is_canceled_and_released(engine, owner_engine, clock, fake):
    clinic = build_clinic(engine, owner_engine)
    gateway = StripeGateway(fake.api_key, fake.url)
    with pytest.raises(ActionRequired):
        book_online(engine, clinic.public, stripe_booking(clinic, "pm_card_threeDSecure2Required"), gateway, clock)
    appt = the_appointment(clinic)
    clock.advance(seconds=PAST_GRACE.total_seconds())  # the client never finished 3-D Secure and no webhook came
    done = [r.outcome for r in do_reconcile_payments(clock=clock, engine=engine, gateway=gateway)
            if r.org_id == clinic.org_id]
    (payment,) = rows(clinic, Payment, Payment.appointment_id == appt.id)
    assert done == ["failed"] and payment.status == "failed"
    assert fake.intents[payment.gateway_payment_id]["status"] == "canceled"
    assert the_appointment(clinic).status == "expired" and ledger(clinic, appt.id) == []
    assert violations(clinic, clock.now()) == []


def test_a_success_whose_webhook_never_came_after_the_slot_was_sold_is_refunded(engine, owner_engine, clock, fake):
    clinic = build_clinic(engine, owner_engine)
    gateway = StripeGateway(fake.api_key, fake.url)
    with pytest.raises(ActionRequired):
        book_online(engine, clinic.public, stripe_booking(clinic, "pm_card_threeDSecure2Required"), gateway, clock)
    (appt,) = rows(clinic, Appointment)
    clock.advance(minutes=11)  # the hold lapses (3-D Secure holds are not kept) and the desk sells the slot
    with clinic.session() as s:
        hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                  start_at=SLOT, now=clock.now(), confirm=True)
        s.commit()
    (payment,) = rows(clinic, Payment, Payment.appointment_id == appt.id)
    fake.complete_action(payment.gateway_payment_id)  # the client finished 3-D Secure late; the webhook is lost
    clock.advance(minutes=2)
    done = [r.outcome for r in do_reconcile_payments(clock=clock, engine=engine, gateway=gateway)
            if r.org_id == clinic.org_id]
    (payment,) = rows(clinic, Payment, Payment.appointment_id == appt.id)
    assert done == ["refunded"] and payment.status == "refunded"
    assert ledger(clinic, appt.id) == [("deposit_paid", 5000), ("charge_voided", -5000)]
    assert [r.params["amount"] for r in fake.posts_to("/v1/refunds")] == ["5000"]
    notice = rows(clinic, OutboxMessage, OutboxMessage.appointment_id == appt.id)
    assert sorted((m.kind, m.channel) for m in notice) == [("deposit_refund", "email"), ("deposit_refund", "sms")]
    assert "$50.00 has been refunded" in next(m.body for m in notice if m.channel == "email")
    with clinic.session() as s:
        actions = list(s.exec(select(AuditEvent.action).where(
            AuditEvent.actor_label == "payment reconciliation").order_by(AuditEvent.id)))
    assert actions == ["payment.succeeded", "refund.pending", "refund.issue"]
    assert violations(clinic, clock.now()) == []


def test_a_charge_on_a_released_hold_whose_slot_is_still_free_is_confirmed(engine, owner_engine, clock, monkeypatch):
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    crash_booking(engine, clinic, gateway, clock, "after_gateway", monkeypatch)
    appt = the_appointment(clinic)
    with tenant_sql(clinic) as conn:  # released by an older version that expired holds with money on them
        conn.execute(text("update occupancy set status = 'released' where appointment_id = :a"), {"a": appt.id})
        conn.execute(text("update appointment set status = 'expired' where id = :a"), {"a": appt.id})
    clock.advance(seconds=PAST_GRACE.total_seconds())
    done = [r.outcome for r in do_reconcile_payments(clock=clock, engine=engine, gateway=gateway)
            if r.org_id == clinic.org_id]
    assert done == ["confirmed"] and the_appointment(clinic).status == "confirmed"
    assert {o.status for o in rows(clinic, Occupancy, Occupancy.appointment_id == appt.id)} == {"booked"}
    assert violations(clinic, clock.now()) == []


# ---- hold expiry never silently expires money ---------------------------------------------------

def test_a_lapsed_hold_with_a_succeeded_payment_is_not_expired(engine, owner_engine, clock, monkeypatch):
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    crash_booking(engine, clinic, gateway, clock, "after_gateway", monkeypatch)
    appt = the_appointment(clinic)
    with tenant_sql(clinic) as conn:  # the answer recorded, the confirmation not (a webhook that died)
        conn.execute(text("update payment set status = 'succeeded' where appointment_id = :a"), {"a": appt.id})
    clock.advance(minutes=11)
    expired = [e for e in do_expire_lapsed_holds(clock=clock, engine=engine) if e.org_id == clinic.org_id]
    assert expired == [] and the_appointment(clinic).status == "held"
    do_release_hold(clinic.public, appt.id, clock=clock, engine=engine)  # the client picks another time
    assert the_appointment(clinic).status == "held"
    with clinic.session() as s, pytest.raises(SlotTaken):  # nor by a booking transaction on its resources
        hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                  start_at=SLOT, now=clock.now(), confirm=True)
    assert violations(clinic, clock.now()) == [("stranded_charge", rows(clinic, Payment)[0].id)]
    clock.advance(minutes=2)
    done = [r.outcome for r in do_reconcile_payments(clock=clock, engine=engine, gateway=gateway)
            if r.org_id == clinic.org_id]
    assert done == ["confirmed"] and violations(clinic, clock.now()) == []


# ---- the grace period -------------------------------------------------------------------------

def test_reconciliation_waits_for_the_grace_period(engine, owner_engine, clock, monkeypatch):
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    crash_booking(engine, clinic, gateway, clock, "after_gateway", monkeypatch)
    mine = lambda done: [r for r in done if r.org_id == clinic.org_id]  # noqa: E731
    for offset in (timedelta(0), timedelta(minutes=10), timedelta(minutes=12) - timedelta(seconds=1)):
        at = FixedClock(START + offset)
        assert mine(do_reconcile_payments(clock=at, engine=engine, gateway=gateway)) == [], offset
    assert the_appointment(clinic).status == "held"
    done = mine(do_reconcile_payments(clock=FixedClock(START + timedelta(minutes=12)), engine=engine, gateway=gateway))
    assert [r.outcome for r in done] == ["confirmed"]


def test_a_booking_in_flight_wins_over_nothing(engine, owner_engine, clock):
    """Without a crash the booking settles its own payment: nothing is left for the job."""
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    appt = book_online(engine, clinic.public, card_booking(clinic), gateway, clock)
    (payment,) = rows(clinic, Payment, Payment.appointment_id == appt.id)
    assert (payment.status, payment.reconcile_after) == ("succeeded", None)
    clock.advance(hours=1)
    assert [r for r in do_reconcile_payments(clock=clock, engine=engine, gateway=gateway)
            if r.org_id == clinic.org_id] == []


# ---- two reconcilers at once ------------------------------------------------------------------

def test_two_concurrent_reconcilers_settle_each_payment_once(engine, owner_engine, clock, monkeypatch):
    clinic = build_clinic(engine, owner_engine, providers=2)
    gateway = TestPaymentGateway(engine, clock.now)
    for i in range(6):
        start = SLOT + timedelta(hours=i // 2)
        crash_booking(engine, clinic, gateway, clock, "after_gateway", monkeypatch,
                      req=card_booking(clinic, start=start, email=f"c{i}@example.com"))
    clock.advance(seconds=PAST_GRACE.total_seconds())
    results: list = []
    errors: list = []
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        try:
            results.extend(do_reconcile_payments(clock=clock, engine=engine, gateway=gateway))
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    mine = [r for r in results if r.org_id == clinic.org_id]
    assert errors == [] and len(mine) == 6 and len({r.payment_id for r in mine}) == 6
    assert {r.outcome for r in mine} == {"confirmed"}
    paid = rows(clinic, LedgerEntry, LedgerEntry.entry_type == "deposit_paid")
    assert len(paid) == 6 and len({e.payment_id for e in paid}) == 6
    assert violations(clinic, clock.now()) == []


# ---- the invariant and `medspa check` ---------------------------------------------------------

def test_medspa_check_exits_nonzero_on_a_violation_and_zero_after_repair(engine, owner_engine, clock, monkeypatch,
                                                                        tmp_path):
    from medspa import cli
    from medspa.cli import checks as cli_check
    from medspa.cli import common as cli_common
    from medspa.ops.database import Database

    clinic = build_clinic(engine, owner_engine)
    appt = book_online(engine, clinic.public, card_booking(clinic), TestPaymentGateway(engine, clock.now), clock)
    monkeypatch.setattr(cli_common, "open_database",
                        lambda settings, *, create, say: Database("postgresql://app@/x", "postgresql://o@/x", tmp_path))
    monkeypatch.setattr(cli_check.ops_check, "money_check",
                        lambda settings, db, clinic="": fetch_money_violations(clinic=clinic, engine=engine))

    def check():
        return CliRunner().invoke(cli.app, ["check", "--clinic", clinic.slug, "--var-dir", str(tmp_path)])

    ok = check()
    assert ok.exit_code == 0 and f"ok   {clinic.slug}" in ok.output, ok.output
    with tenant_sql(clinic) as conn:  # hand-made: the visit expires with its deposit kept, a stray line
        conn.execute(text("update appointment set status = 'expired' where id = :a"), {"a": appt.id})
        conn.execute(text("insert into ledger_entry (org_id, appointment_id, entry_type, amount_cents, currency, "
                          "created_at) values (:o, :a, 'deposit_paid', 100, 'USD', now())"),
                     {"o": clinic.org_id, "a": appt.id})
    bad = check()
    assert bad.exit_code == 1, bad.output
    assert f"FAIL {clinic.slug}: 3 violation(s)" in bad.output
    for kind in ("stranded_charge", "ledger_without_payment", "occupancy_without_appointment"):
        assert kind in bad.output
    with tenant_sql(clinic) as conn:  # repaired
        conn.execute(text("update appointment set status = 'confirmed' where id = :a"), {"a": appt.id})
        conn.execute(text("delete from ledger_entry where appointment_id = :a and payment_id is null"), {"a": appt.id})
    assert check().exit_code == 0
    other = build_clinic(engine, owner_engine)  # row-level security: one clinic's check never sees another's
    assert [c.slug for c in fetch_money_violations(clinic=other.slug, engine=engine)] == [other.slug]


# ---- the webhook, a retry, a decline, and the worker's start-up run ----------------------------

def test_the_webhook_finds_a_pending_payment_by_its_key(engine, owner_engine, clock, monkeypatch, fake):
    from medspa.domain.payments.webhooks import handle_stripe_event
    from tests.fake_stripe import sign_header

    clinic = build_clinic(engine, owner_engine)
    gateway = StripeGateway(fake.api_key, fake.url)
    crash_booking(engine, clinic, gateway, clock, "after_gateway", monkeypatch)
    (intent,) = fake.intents.values()
    body = fake.event(intent["id"], "payment_intent.succeeded")
    header = sign_header(body, "whsec_x", int(clock.now().timestamp()))
    assert handle_stripe_event(engine, body, header, "whsec_x", gateway, clock) == "confirmed"
    appt = the_appointment(clinic)
    (payment,) = rows(clinic, Payment, Payment.appointment_id == appt.id)
    assert (payment.status, payment.gateway_payment_id, payment.reconcile_after) == ("succeeded", intent["id"], None)
    assert appt.status == "confirmed" and ledger(clinic, appt.id) == [("deposit_paid", 5000)]
    clock.advance(hours=1)
    assert [r for r in do_reconcile_payments(clock=clock, engine=engine, gateway=gateway)
            if r.org_id == clinic.org_id] == []


def test_a_retry_after_a_lost_answer_reuses_the_key_and_charges_once(engine, owner_engine, clock, fake):
    class LostAnswer(CrashingGateway):
        def charge(self, request):
            self.inner.charge(request)
            raise GatewayUnavailable("The payment service is not answering. Please try again.")

    clinic = build_clinic(engine, owner_engine)
    gateway = StripeGateway(fake.api_key, fake.url)
    with pytest.raises(GatewayUnavailable):
        book_online(engine, clinic.public, stripe_booking(clinic), LostAnswer(gateway, ""), clock)
    appt = the_appointment(clinic)
    retry = stripe_booking(clinic)
    retry.hold_id = appt.id
    done = book_online(engine, clinic.public, retry, gateway, clock)
    assert done.id == appt.id and done.status == "confirmed"
    assert len(fake.intents) == 1  # Stripe replayed the first answer for the same key
    assert [r.headers["idempotency-key"] for r in fake.posts_to("/v1/payment_intents")] == [
        f"deposit-{appt.id}-attempt-1"] * 2
    (payment,) = rows(clinic, Payment, Payment.appointment_id == appt.id)
    assert (payment.status, payment.reconcile_after) == ("succeeded", None)
    assert violations(clinic, clock.now()) == []


def test_a_decline_the_booking_never_recorded_releases_the_hold(engine, owner_engine, clock, monkeypatch):
    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    crash_booking(engine, clinic, gateway, clock, "after_gateway", monkeypatch,
                  req=card_booking(clinic, card="4000000000000002"))
    appt = the_appointment(clinic)
    clock.advance(seconds=PAST_GRACE.total_seconds())
    done = [r.outcome for r in do_reconcile_payments(clock=clock, engine=engine, gateway=gateway)
            if r.org_id == clinic.org_id]
    (payment,) = rows(clinic, Payment, Payment.appointment_id == appt.id)
    assert done == ["failed"] and (payment.status, payment.failure_message) == ("declined", "Your card was declined.")
    assert the_appointment(clinic).status == "expired" and ledger(clinic, appt.id) == []
    assert violations(clinic, clock.now()) == []


def test_a_starting_worker_reconciles_at_once(engine, owner_engine, db_urls, monkeypatch):
    """`medspa worker` defers one reconcile_payments run as it starts: a payment a crash left
    open is settled without waiting for the next minute's tick (the worker's real clock)."""
    from tests.test_job_queue import _wait_for, _worker_processes

    clinic = build_clinic(engine, owner_engine)
    real_now = datetime.now(timezone.utc)
    past = FixedClock(real_now - timedelta(minutes=30))  # the crash happened half an hour ago
    local = (real_now + timedelta(days=3)).astimezone(NY).date()
    start = datetime.combine(local, time(10), tzinfo=NY).astimezone(timezone.utc)
    crash_booking(engine, clinic, TestPaymentGateway(engine, past.now), past, "after_gateway", monkeypatch,
                  req=card_booking(clinic, start=start))
    (appt,) = rows(clinic, Appointment)
    with _worker_processes(db_urls, 1):
        _wait_for(lambda: rows(clinic, Appointment)[0].status == "confirmed", "the start-up reconciliation", 120)
    assert ledger(clinic, appt.id)[0] == ("deposit_paid", 5000)
    with clinic.session() as s:
        assert list(s.exec(select(AuditEvent.action).where(AuditEvent.actor_label == "payment reconciliation")
                           .order_by(AuditEvent.id))) == ["payment.succeeded", "appointment.confirm"]


def test_the_start_up_run_is_queued_once(db_urls, owner_engine):
    """A starting worker queues one reconcile_payments job; while it waits, another start (or
    the minute's tick) adds none (the queueing lock)."""
    from medspa.jobs.app import opened
    from medspa.jobs.payments import defer_startup_reconciliation
    from tests.conftest import run_in_fresh_loop

    todo = "from procrastinate_jobs where task_name = 'reconcile_payments' and status = 'todo'"
    with owner_engine.begin() as conn:
        conn.execute(text(f"delete {todo}"))

    async def start_twice():
        async with opened(db_urls[0]) as app:
            return [await defer_startup_reconciliation(app), await defer_startup_reconciliation(app)]

    try:
        assert run_in_fresh_loop(start_twice()) == [True, False]
        with owner_engine.connect() as conn:
            assert conn.execute(text(f"select count(*) {todo}")).scalar() == 1
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text(f"delete {todo}"))


def test_a_gateway_that_does_not_answer_postpones_the_payment(engine, owner_engine, clock, monkeypatch):
    class Down(CrashingGateway):
        def lookup(self, **kwargs):
            raise GatewayUnavailable("The payment service is not answering.")

    clinic = build_clinic(engine, owner_engine)
    gateway = TestPaymentGateway(engine, clock.now)
    crash_booking(engine, clinic, gateway, clock, "after_gateway", monkeypatch)
    clock.advance(seconds=PAST_GRACE.total_seconds())
    mine = lambda done: [r.outcome for r in done if r.org_id == clinic.org_id]  # noqa: E731
    assert mine(do_reconcile_payments(clock=clock, engine=engine, gateway=Down(gateway, ""))) == [
        "postponed: GatewayUnavailable"]
    (payment,) = rows(clinic, Payment)
    assert (payment.status, payment.reconcile_attempts) == ("pending", 1)
    assert payment.reconcile_after == clock.now() + timedelta(seconds=60)
    assert mine(do_reconcile_payments(clock=clock, engine=engine, gateway=gateway)) == []  # not before the back-off
    clock.advance(seconds=60)
    assert mine(do_reconcile_payments(clock=clock, engine=engine, gateway=gateway)) == ["confirmed"]
    assert violations(clinic, clock.now()) == []


def test_a_lost_slot_refunded_while_stripe_is_down_tells_the_client_it_is_on_its_way(engine, owner_engine, clock,
                                                                                     fake):
    """The refund is pending (the gateway did not answer): the notice never says "refunded"."""
    clinic = build_clinic(engine, owner_engine)
    gateway = StripeGateway(fake.api_key, fake.url)
    with pytest.raises(ActionRequired):
        book_online(engine, clinic.public, stripe_booking(clinic, "pm_card_threeDSecure2Required"), gateway, clock)
    (appt,) = rows(clinic, Appointment)
    clock.advance(minutes=11)
    with clinic.session() as s:
        hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                  start_at=SLOT, now=clock.now(), confirm=True)
        s.commit()
    (payment,) = rows(clinic, Payment, Payment.appointment_id == appt.id)
    fake.complete_action(payment.gateway_payment_id)
    clock.advance(minutes=2)
    do_reconcile_payments(clock=clock, engine=engine, gateway=Unreachable(gateway))
    (refund,) = rows(clinic, Refund)
    assert refund.status == "pending" and fake.posts_to("/v1/refunds") == []
    notice = rows(clinic, OutboxMessage, OutboxMessage.appointment_id == appt.id)
    email = next(m.body for m in notice if m.channel == "email")
    text_message = next(m.body for m in notice if m.channel == "sms")
    assert "$50.00 is being refunded to your card in full" in email and "has been refunded" not in email
    assert text_message.endswith("Your $50.00 deposit is being refunded.")
