"""What clients still owe for visits checked in or completed but never checked out: the
day lists' "owes" figure (scheduling.daylist), by checkout's own balance rule
(payments.checkout). Read only: takes a session, never commits."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from medspa.domain.payments.checkout import CHECKOUT_STATUSES, deposit_available_cents
from medspa.domain.payments.models import LedgerEntry
from medspa.domain.scheduling.models import Appointment


def unpaid_balances(session: Session, client_ids: list[int], *, before: datetime) -> dict[int, int]:
    """What each client owes for visits that were checked in or completed but never checked
    out, starting before `before` (aware UTC; the day lists pass today's local midnight, so
    today's own visit is not counted): per visit the balance checkout would charge (price minus
    the deposit still held, as `checkout_quote`), integer cents summed per client id. Clients
    owing nothing are left out. No permission check: the caller decides who sees money."""
    if not client_ids:
        return {}
    rows = session.exec(select(Appointment).where(
        Appointment.client_id.in_(sorted(set(client_ids))), Appointment.status.in_(CHECKOUT_STATUSES),
        Appointment.start_at < before,
        ~select(LedgerEntry.id).where(LedgerEntry.appointment_id == Appointment.id,
                                      LedgerEntry.entry_type == "sale").exists())).all()
    owed: dict[int, int] = {}
    for appt in rows:
        due = appt.price_cents - min(deposit_available_cents(session, appt.id), appt.price_cents)
        if due > 0:
            owed[appt.client_id] = owed.get(appt.client_id, 0) + due
    return owed
