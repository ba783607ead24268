"""Notices written in the transaction of their cause: a cancelled visit (desk or portal) and a
checkout receipt. Deduplicated per appointment (dedupe keys cancel-email-<id>,
cancel-sms-<id>, checkout-receipt-<id>) through messaging.service.add_new_messages, so re-running a
step adds nothing twice; a rolled-back cause leaves no message (nor its delivery job).

Times are in clinic time with the zone named (TZ-3); money is integer cents formatted in the
visit's currency.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from medspa.domain.messaging.attachments import attach_booking_invite
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.messaging.service import add_new_messages, templated_messages, visit_facts
from medspa.domain.money import format_money
from medspa.domain.payments.models import Payment
from medspa.domain.practice.models import Location, StaffMember
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.policy import cancel_rule, visit_terms
from medspa.domain.scheduling.references import format_display_code
from medspa.domain.timezones import format_clinic_time


def _deposit_sentence(appointment: Appointment, location: Location, *, paid_cents: int, refunding_cents: int,
                      kept: bool) -> str:
    """What happened to the deposit, in one sentence ("" when none was paid)."""
    if paid_cents <= 0:
        return ""
    if refunding_cents > 0:
        return f"Your deposit: {format_money(refunding_cents, appointment.currency)} is being refunded to your card."
    amount = format_money(paid_cents, appointment.currency)
    if kept:
        return (f"Your deposit: {amount} kept (cancelled inside the "
                f"{cancel_rule(appointment, location)[0]}-hour window).")
    return (f"Your deposit of {amount} is due back to you; the refund could not be started yet "
            "and the clinic will contact you.")


def queue_cancellation_notice(session: Session, appointment: Appointment, *, paid_cents: int, refunding_cents: int,
                              kept: bool, fee_sentence: str = "") -> list[OutboxMessage]:
    """An email and (with a phone) an SMS saying the visit (service, clinic time with zone,
    location) is cancelled and what happens to its deposit: "$50.00 is being refunded to your
    card" (refunding_cents: the refund written with the cancellation, sent to the gateway
    after it commits; card refunds take days to show, so the notice never says it arrived),
    "$50.00 kept (cancelled inside the 24-hour window)" (kept: the location's policy kept it,
    scheduling.service.CancelOutcome.keeps_deposit), or nothing without a deposit.
    fee_sentence: a late-cancel fee's words (payments.fees.client_fee_sentence), said instead.

    Call it in the cancellation's transaction (desk and portal; never for an expired hold).
    Nothing for a client with neither email nor phone; returns the messages added (none when
    already queued for this appointment)."""
    facts = visit_facts(session, appointment)
    if facts is None:
        return []
    deposit = fee_sentence or _deposit_sentence(appointment, facts.location, paid_cents=paid_cents,
                                                refunding_cents=refunding_cents, kept=kept)
    short = deposit.removeprefix("Your deposit: ") if deposit.startswith("Your deposit: ") else ""
    return add_new_messages(session, templated_messages(
        session, appointment, facts.client, kind="cancellation_notice", key="cancel",
        extra={"cancellation": {"deposit": deposit, "deposit_short": short}}))


def queue_move_notice(session: Session, appointment: Appointment, *, old_start: datetime,
                      now: datetime) -> list[OutboxMessage]:
    """An email and (with a phone) an SMS saying the visit moved: its new clinic time (zone
    named), provider and location, and the time it had. One per move (dedupe key
    moved<now as epoch seconds>-email-<id>); the email carries the updated `invite.ics` (same
    UID, higher SEQUENCE: calendar apps replace the first one). Call it in the move's transaction
    (scheduling.reschedule.move_visit). Nothing for a client who cannot be reached."""
    facts = visit_facts(session, appointment)
    if facts is None:
        return []
    client, org, location, service = facts.client, facts.org, facts.location, facts.service
    provider = session.get(StaffMember, appointment.provider_id)
    added = add_new_messages(session, templated_messages(
        session, appointment, client, kind="move_notice", key=f"moved{int(now.timestamp())}",
        extra={"visit": {"old_when": format_clinic_time(old_start, location.time_zone)}}))
    session.refresh(appointment, attribute_names=["ical_sequence"])  # raised by the move's trigger
    for email in (m for m in added if m.channel == "email"):
        attach_booking_invite(session, email, org=org, appointment=appointment, location=location, service=service,
                              provider=provider)
    return added


def queue_checkout_receipt(session: Session, appointment: Appointment, *, applied_cents: int,
                           payment: Payment | None, refunding_cents: int = 0) -> OutboxMessage | None:
    """A receipt email for a succeeded checkout: service, date, price, deposit applied, the
    amount charged now with the card's last 4 digits, total paid (and a deposit excess
    refunded). payment: the succeeded balance payment (None for a zero balance). Call it in
    the checkout's transaction, never for a declined or 3-D Secure attempt. None without an
    email or when already queued for this appointment."""
    facts = visit_facts(session, appointment, needs="email")
    if facts is None:
        return None
    cur = appointment.currency
    charged = payment.amount_cents if payment is not None else 0
    receipt = {"price": format_money(appointment.price_cents, cur), "deposit_applied": format_money(applied_cents, cur),
               "charged": format_money(charged, cur),
               "card_last4": (payment.card_last4 or "----") if payment is not None else "",
               "total": format_money(applied_cents + charged, cur),
               "refunding": format_money(refunding_cents, cur) if refunding_cents else ""}
    added = add_new_messages(session, templated_messages(
        session, appointment, facts.client, kind="checkout_receipt", key="checkout-receipt",
        dedupe=f"checkout-receipt-{appointment.id}", extra={"receipt": receipt}))
    return added[0] if added else None


# --- recurring series (issue 16, section 2) ---------------------------------------------------

def _series_terms(visits: list[Appointment], location: Location) -> str:
    """The series' cancellation / no-show terms (visit_terms): one line when every visit has the
    same ones, else the first visit's (its deposit, series.deposit_due_cents) and the others'."""
    terms = [visit_terms(v, location) for v in visits]
    if len(set(terms)) == 1:
        return f"Each visit: {terms[0]}"
    return f"First visit: {terms[0]}\nOther visits: {terms[1]}"


def queue_series_confirmation(session: Session, visits: list[Appointment], *, description: str,
                              deposit_cents: int = 0, card: str = "") -> list[OutboxMessage]:
    """ONE email and (with a phone) ONE SMS confirming a recurring series booked at the desk
    (scheduling.series.book_series), instead of one confirmation per visit: the rule in words
    (`description`), every booked date in clinic time with its booking reference, the deposit
    due (integer cents; 0: none; `card`: the card on file it is charged to, "Visa ••4242", its
    receipt follows; "": the clinic tells how to pay), each visit's cancellation / no-show terms
    (scheduling.policy.visit_terms, fees included) and the first visit's manage link; the email carries the first
    visit as `invite.ics`. Dedupe keys series-email-<first visit id> / series-sms-<...>.
    Nothing for a client with neither email nor phone; returns the messages added."""
    if not visits:
        return []
    first = visits[0]
    facts = visit_facts(session, first)
    if facts is None:
        return []
    client, org, location, service = facts.client, facts.org, facts.location, facts.service
    lines = "\n".join(f"- {format_clinic_time(v.start_at, location.time_zone)} · "
                      f"ref {format_display_code(v.display_code)}" for v in visits)
    deposit = (f"Deposit due: {format_money(deposit_cents, first.currency)} (the clinic will tell you how to pay).\n"
               if deposit_cents else "")
    if deposit_cents and card:
        deposit = (f"Deposit: {format_money(deposit_cents, first.currency)}, charged to your card on file ({card}); "
                   "the receipt follows.\n")
    provider = session.get(StaffMember, first.provider_id)
    count = f"{len(visits)} visit{'s' if len(visits) != 1 else ''}"  # "4 visits" (one left if others were lost)
    series = {"count": count, "description": description, "visits": lines, "deposit": deposit.rstrip("\n"),
              "terms": _series_terms(visits, location)}
    added = add_new_messages(session, templated_messages(session, first, client, kind="series_confirmation",
                                                         key="series", extra={"series": series}))
    for email in (m for m in added if m.channel == "email"):
        attach_booking_invite(session, email, org=org, appointment=first, location=location, service=service,
                              provider=provider)
    return added


# --- late-cancel / no-show fees (issue 16) ------------------------------------------------------

def queue_fee_notice(session: Session, appointment: Appointment, *, key: str, subject: str,
                     sentence: str) -> list[OutboxMessage]:
    """An email and (with a phone) an SMS telling the client what a no-show fee did or that a fee
    was waived: `sentence` is the fee's words (payments.fees.client_fee_sentence /
    waived_fee_sentence: amounts in the visit's currency, what came from the deposit, what was
    charged to the card on file, what is unpaid or refunded), named with the visit (service,
    clinic time with zone, location) and its booking reference. `key`: the dedupe key's stem
    (e.g. "fee-no_show-paid-1": one message per fee outcome and attempt; a re-run adds
    nothing). Call it in the transaction that settles the fee. Nothing for a client who cannot
    be reached; returns the messages added."""
    facts = visit_facts(session, appointment)
    if facts is None or not sentence:
        return []
    return add_new_messages(session, templated_messages(
        session, appointment, facts.client, kind="fee_notice", key=key,
        extra={"fee": {"title": subject, "sentence": sentence}}))
