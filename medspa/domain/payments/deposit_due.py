"""A visit's deposit that is still owed (issue 16, section 2), in figures and words.

A visit asks for a deposit when appointment.deposit_cents > 0: an online booking pays it
before it is confirmed; a recurring series booked at the desk asks it of its first visit (or
of each: scheduling.series.deposit_due_cents) and charges it on the client's card on file
after the booking commits (scheduling.series.charge_series_deposits). Until a deposit payment
is captured the deposit is "due": being charged, refused by the card (declined, or the card
needs the client's authentication, which an off-session charge cannot ask for), or waiting
with no card on file. Checkout collects it: its balance is the price minus the deposit
actually paid (payments.checkout), so a due deposit is simply part of what checkout charges.

Read-only helpers: they take a session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from medspa.domain.money import format_money
from medspa.domain.payments.cards import card_for_visit, card_label
from medspa.domain.payments.checkout import is_checked_out
from medspa.domain.payments.models import CAPTURED_PAYMENT_STATUSES, Payment, PaymentStatus
from medspa.domain.scheduling.models import Appointment, AppointmentStatus

DUE_STATUSES = (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)
"""The visits whose unpaid deposit is owed (a cancelled or missed visit settles by the policy)."""
AT_CHECKOUT = "collect it at checkout"


@dataclass(frozen=True)
class DepositDue:
    """A deposit still owed: amount (integer cents of `currency`), state ("charging": sent to
    the card, no answer yet; "declined"; "needs_action": the card needs the client's
    authentication; "no_card": nothing to charge; "due": a card is on file but no charge was
    made) and the words the calendar panel and the series result show, e.g.
    "$50.00 due · Visa ••0341 declined (Your card was declined.): collect it at checkout"."""

    amount_cents: int
    currency: str
    state: str
    text: str


def deposit_due(session: Session, appointment: Appointment) -> DepositDue | None:
    """The deposit `appointment` still owes, or None: no deposit asked, one captured (paid,
    also when refunded since), a visit not confirmed / checked in / completed, or checked out
    (checkout charged the price without it)."""
    if appointment.deposit_cents <= 0 or appointment.status not in DUE_STATUSES:
        return None
    payments = list(session.exec(select(Payment).where(Payment.appointment_id == appointment.id,
                                                       Payment.purpose == "deposit").order_by(Payment.id.desc())))
    if any(p.status in CAPTURED_PAYMENT_STATUSES for p in payments) or is_checked_out(session, appointment.id):
        return None
    amount = format_money(appointment.deposit_cents, appointment.currency)
    card = card_for_visit(session, appointment)
    label = card_label(card) if card is not None else ""
    latest = payments[0] if payments else None
    if latest is not None and latest.status == PaymentStatus.PENDING:
        state, words = "charging", f"charging {label or 'the card on file'}"
    elif latest is not None and latest.status == PaymentStatus.REQUIRES_ACTION:
        state, words = "needs_action", f"{label or 'the card'} needs the client's authentication: {AT_CHECKOUT}"
    elif latest is not None:  # declined or failed
        why = f" ({latest.failure_message})" if latest.failure_message else ""
        state, words = "declined", f"{label or 'the card'} declined{why}: {AT_CHECKOUT}"
    elif card is None:
        state, words = "no_card", f"no card on file: {AT_CHECKOUT}"
    else:
        state, words = "due", f"not charged yet: {AT_CHECKOUT}"
    return DepositDue(appointment.deposit_cents, appointment.currency, state, f"{amount} due · {words}")
