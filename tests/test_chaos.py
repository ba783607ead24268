"""Chaos (issue 11 part 1): a booking storm against the real server, the whole process tree
killed with SIGKILL at a random moment, N >= 5 times; after each kill the server restarts,
reconciliation runs and the money invariant holds, checked against the gateway's own record
too (every deposit the test gateway charged has its Payment row, settled: on the ledger of a
live visit, or refunded in full). Prints the counts.

Marked `chaos` (deselect with -m "not chaos"); `make test` and .ci/run run it. The server is
tests/chaos_server.py (the API app under granian + the in-process job worker) on the test
database; the storm is threads posting /api/v1 bookings with Stripe's test cards (mostly
4242, some declines, some 3-D Secure) for a handful of contended slots. Reconciliation runs in
the test on a clock an hour ahead, so every payment is past its grace period (the server's own
start-up run, on the real clock, finds them not yet due).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, time as dtime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.payments.actions import do_reconcile_payments
from medspa.domain.payments.gateway import TestPaymentGateway
from medspa.domain.payments.invariant import money_violations
from medspa.domain.payments.models import LedgerEntry, Payment, TestGatewayCharge
from medspa.domain.scheduling.models import Appointment
from medspa.settings import PROJECT_ROOT
from tests.conftest import NO_ABUSE_LIMITS
from tests.factories import build_clinic

pytestmark = pytest.mark.chaos

KILLS = int(os.environ.get("CHAOS_KILLS", "6"))  # N >= 5
THREADS = 8
SLOTS = 16  # 9:00 to 16:30 every 30 minutes, two providers: the storm keeps booking through the kill
CARDS = ["4242424242424242"] * 7 + ["4000000000000002"] * 2 + ["4000002500003155"]
SEED = int(os.environ.get("CHAOS_SEED", str(int(time.time()))))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """tests/chaos_server.py as its own process group on the test database."""

    def __init__(self, app_url: str, log_path):
        self.port = _free_port()
        self.log_path = log_path
        self.env = {**os.environ, "DATABASE_URL": app_url, "DATABASE_OWNER_URL": "", "PYTHONPATH": str(PROJECT_ROOT),
                    "STRIPE_SECRET_KEY": "", "SMTP_HOST": "", "FROZEN_NOW": "",
                    **NO_ABUSE_LIMITS}
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> None:
        self.log = open(self.log_path, "a")  # noqa: SIM115 - closed by kill()
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.chaos_server", str(self.port)], cwd=PROJECT_ROOT,
                                     env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            assert self.proc.poll() is None, f"the chaos server exited: {self.log_path.read_text()[-3000:]}"
            time.sleep(0.2)
        raise AssertionError(f"the chaos server did not answer: {self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL to the whole process group (the parent with its job worker thread and
        granian's worker process), then reap it."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)
        self.log.close()


def _storm(server: Server, clinic, day, stop: threading.Event, tally: Counter, rng: random.Random) -> None:
    tz = ZoneInfo(clinic.time_zone)
    slots = [datetime.combine(day, dtime(9 + i // 2, 30 * (i % 2)), tzinfo=tz) for i in range(SLOTS)]
    lock = threading.Lock()

    def client(n: int) -> None:
        session = requests.Session()
        i = 0
        while not stop.is_set():
            i += 1
            with lock:
                start, card = rng.choice(slots), rng.choice(CARDS)
            body = {"location_id": clinic.location_id, "service_id": clinic.services["botox"],
                    "start": start.isoformat(),
                    "client": {"first_name": "Storm", "last_name": f"C{n}", "phone": "(212) 555-0123",
                               "email": f"storm-{day}-{n}-{i}-{rng.random():.6f}@example.com"},
                    "payment": {"card_number": card, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
            try:
                r = session.post(f"{server.url}/api/v1/{clinic.slug}/bookings", json=body, timeout=10)
                key = {201: "booked", 409: "slot_taken", 402: r.json().get("error", "402")}.get(r.status_code,
                                                                                              str(r.status_code))
                if r.status_code not in (201, 402, 409) and not tally[key]:
                    print(f"unexpected answer {r.status_code}: {r.text[:300]}")
            except (requests.RequestException, ValueError):
                key = "connection_lost"
                stop.wait(0.05)
            with lock:
                tally[key] += 1

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(THREADS)]
    [t.start() for t in threads]
    return threads


def _gateway_check(clinic) -> Counter:
    """Every deposit the test gateway charged has its Payment row, and that row is settled."""
    with clinic.session() as s:
        charges = {c.idempotency_key: c.result["status"] for c in s.exec(select(TestGatewayCharge))
                   if c.idempotency_key.startswith("deposit-")}
        payments = {p.idempotency_key: p for p in s.exec(select(Payment))}
        statuses = {a.id: a.status for a in s.exec(select(Appointment))}
    seen = Counter()
    for key, status in charges.items():
        assert key in payments, f"a charge without its payment row: {key}"
        payment = payments[key]
        if status == "succeeded":
            assert payment.status in ("succeeded", "refunded"), (key, payment.status)
            if payment.status == "succeeded":
                assert statuses[payment.appointment_id] == "confirmed", (key, statuses[payment.appointment_id])
        seen[f"gateway {status} -> {payment.status}"] += 1
    assert not [p for p in payments.values() if p.status == "pending"]
    return seen


def test_booking_storm_with_kill_9_keeps_the_money_invariant(engine, owner_engine, db_urls, tmp_path):
    assert KILLS >= 5
    rng = random.Random(SEED)
    clinic = build_clinic(engine, owner_engine, providers=2)
    server = Server(db_urls[0], tmp_path / "server.log")
    server.start()
    totals: Counter = Counter()
    try:
        for cycle in range(KILLS):
            day = (datetime.now(timezone.utc) + timedelta(days=3 + cycle)).astimezone(ZoneInfo(clinic.time_zone)).date()
            stop, tally = threading.Event(), Counter()
            threads = _storm(server, clinic, day, stop, tally, rng)
            time.sleep(rng.uniform(0.5, 3.0))  # a random moment of the storm
            server.kill()
            stop.set()
            [t.join(30) for t in threads]
            server.start()  # restart
            future = FixedClock(datetime.now(timezone.utc) + timedelta(hours=1))
            settled = Counter(r.outcome for r in do_reconcile_payments(clock=future, engine=engine,
                                                                        gateway=TestPaymentGateway(engine, future.now))
                              if r.org_id == clinic.org_id)
            with clinic.session() as s:
                broken = money_violations(s, future.now())
            gateway = _gateway_check(clinic)
            print(f"\nchaos cycle {cycle + 1}/{KILLS} (seed {SEED}): requests {dict(tally)}; "
                  f"reconciled {dict(settled)}; gateway {dict(gateway)}; violations {len(broken)}")
            assert broken == [], broken
            totals.update(tally)
            totals.update({f"reconciled {k}": v for k, v in settled.items()})
    finally:
        server.kill()
    with clinic.session() as s:
        confirmed = len(s.exec(select(Appointment).where(Appointment.status == "confirmed")).all())
        lines = Counter(e.entry_type for e in s.exec(select(LedgerEntry)))
        payments = Counter(p.status for p in s.exec(select(Payment)))
    print(f"chaos totals after {KILLS} kills: {dict(totals)}; confirmed visits {confirmed}; "
          f"payments {dict(payments)}; ledger lines {dict(lines)}")
    assert lines["deposit_paid"] == payments["succeeded"] + payments["refunded"]
