"""Cards on file for tests: one way to save a test card for a client, as the booking's card step
does (a SetupIntent through the offline test gateway; the client's 3-D Secure approved when the
card asks for it), shared by the fee, no-show and series money tests."""

from __future__ import annotations

from datetime import datetime

from medspa.domain.payments.cards import apply_setup_outcome, record_pending_setup
from medspa.domain.payments.gateway import CardDetails, SetupRequest, TestPaymentGateway


def save_test_card(engine, clinic, client_id: int, number: str, *, at: datetime, key: str) -> None:
    """Save Stripe test card `number` (exp 12/2030) for `client_id` under idempotency `key` at the
    aware instant `at`; asserts the setup succeeded."""
    gateway = TestPaymentGateway(engine, lambda: at)
    result = gateway.setup_card(SetupRequest(org_id=clinic.org_id, idempotency_key=key,
                                             card=CardDetails(number, 12, 2030, "123")))
    if result.status == "requires_action":
        result = gateway.authenticate_setup(org_id=clinic.org_id, idempotency_key=key)
    with clinic.session() as s:
        row = record_pending_setup(s, clinic.system, client_id=client_id, appointment_id=None, gateway="test",
                                   idempotency_key=key, now=at, reconcile_after=at)
        assert apply_setup_outcome(s, clinic.system, row, result, at)
        s.commit()
