"""Disputes (chargebacks and inquiries) from Stripe's charge.dispute.* events (issue 11 part 3).

Each event carries the Dispute object (https://docs.stripe.com/api/disputes/object): id
dp_..., payment_intent, amount (integer minor units), currency, reason, status and
evidence_details.due_by (Unix seconds). `apply_dispute_event` records it on a `dispute` row
of the payment's clinic, forward-only and idempotent, in the webhook's transaction (the
webhook's WebhookEvent row makes a redelivery a no-op before this runs):

- status moves forward only (STATUS_RANK; Stripe's statuses, https://docs.stripe.com/disputes/
  how-disputes-work and the object reference: warning_needs_response, needs_response ->
  warning_under_review, under_review -> warning_closed, won, lost, prevented): a late
  "updated" never undoes "closed";
- money: charge.dispute.funds_withdrawn writes the ledger line dispute_withdrawn (-amount),
  charge.dispute.funds_reinstated (or a dispute closed `won` whose funds were withdrawn)
  dispute_reinstated (+amount), each once per dispute. A reinstatement arriving before its
  withdrawal writes both (the withdrawal happened: Stripe reinstates only what it took), so
  events in any order end with the same lines. Revenue counts both lines under refunds
  (analytics.revenue: every other line), so net revenue stays right;
- the first event about a dispute flags it to the owner: an email to every active owner of
  the clinic (outbox, dedupe key dispute-<dispute id>-<user id>) with the evidence the
  clinic holds (`dispute_evidence`); owners also see open disputes on the dashboard
  (`open_disputes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlmodel import Session, select

from medspa.domain.audit.models import AuditEvent
from medspa.domain.audit.service import record
from medspa.domain.clinical.models import NoteStatus, TreatmentNote
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.messaging.money_notices import queue_owner_alert
from medspa.domain.money import format_money
from medspa.domain.payments.models import Dispute, LedgerEntry, Payment
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.policy import visit_terms

DISPUTE_EVENTS = ("charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed",
                  "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated")
STATUS_RANK = {"warning_needs_response": 0, "needs_response": 0, "warning_under_review": 1, "under_review": 1,
               "warning_closed": 2, "won": 2, "lost": 2, "prevented": 2}
"""How far a Stripe dispute status is along; rank 2 is final (closed)."""
CLOSED_STATUSES = ("warning_closed", "won", "lost", "prevented")


@dataclass(frozen=True)
class DisputeEvidence:
    """What the clinic holds to answer a dispute (all optional but booked_at): when the visit
    was booked (aware UTC), the client's IP and browser at booking (from the audit trail, ""
    when the booking was made at the desk), the cancellation policy the client was shown (the
    sentence of the booking confirmation email, else the location's current rule), and the
    signed chart of the visit (its id, when and by whom it was signed), when one exists."""

    booked_at: datetime | None
    client_ip: str
    user_agent: str
    policy_text: str
    signed_chart_id: int | None
    signed_at: datetime | None
    signed_by: str

    def lines(self) -> list[str]:
        """The evidence as lines for people (UTC instants in ISO form)."""
        out = [f"Booked at: {self.booked_at.isoformat() if self.booked_at else 'unknown'}",
               f"Client IP at booking: {self.client_ip or 'not recorded (booked at the desk)'}"]
        if self.user_agent:
            out.append(f"Client browser: {self.user_agent}")
        out.append(f"Cancellation policy shown: {self.policy_text or 'none'}")
        out.append(f"Signed chart: #{self.signed_chart_id}, signed {self.signed_at.isoformat()} by {self.signed_by}"
                   if self.signed_chart_id and self.signed_at else "Signed chart: none")
        return out


def dispute_evidence(session: Session, payment: Payment) -> DisputeEvidence:
    """The evidence the clinic holds for a dispute on `payment` (see DisputeEvidence); a
    payment without a visit has only what the payment says (its created time)."""
    appt = session.get(Appointment, payment.appointment_id) if payment.appointment_id else None
    if appt is None:
        return DisputeEvidence(payment.created_at, "", "", "", None, None, "")
    seen = session.exec(select(AuditEvent).where(AuditEvent.object_type == "appointment",
                                                 AuditEvent.object_id == str(appt.id), AuditEvent.ip != "")
                        .order_by(AuditEvent.id)).first()
    confirmation = session.exec(select(OutboxMessage.body).where(
        OutboxMessage.appointment_id == appt.id, OutboxMessage.kind == "booking_confirmation",
        OutboxMessage.channel == "email").order_by(OutboxMessage.id)).first()
    policy = next((line for line in (confirmation or "").splitlines() if line.startswith("Cancellations")), "")
    if not policy:
        location = session.get(Location, appt.location_id)
        policy = visit_terms(appt, location) if location else ""
    chart = session.exec(select(TreatmentNote).where(TreatmentNote.appointment_id == appt.id,
                                                     TreatmentNote.status == NoteStatus.SIGNED.value)
                         .order_by(TreatmentNote.version.desc())).first()
    return DisputeEvidence(appt.created_at, seen.ip if seen else "", (seen.user_agent if seen else "")[:200], policy,
                           chart.id if chart else None, chart.signed_at if chart else None,
                           chart.signed_by_label if chart else "")


def _due_by(obj: dict) -> datetime | None:
    raw = (obj.get("evidence_details") or {}).get("due_by")
    try:
        return datetime.fromtimestamp(int(raw), tz=timezone.utc) if raw else None
    except (TypeError, ValueError, OverflowError):
        return None


def apply_dispute_event(session: Session, actor: Actor, payment: Payment, obj: dict, event_type: str, now: datetime,
                        event_id: str) -> str:
    """Apply one charge.dispute.* event about `payment` (locked by the caller) with Stripe's
    Dispute object `obj`. Returns "disputed" (a new dispute: recorded, owners emailed),
    "withdrawn" / "reinstated" (a ledger line written), "updated" (status, due date or amount
    moved on) or "ignored" (nothing new). Idempotent: replays and out-of-order events change
    nothing twice. The caller commits."""
    dispute = session.exec(select(Dispute).where(Dispute.gateway_dispute_id == str(obj["id"]))
                           .with_for_update()).first()
    status = str(obj.get("status") or "needs_response")
    outcome = "ignored"
    if dispute is None:
        dispute = Dispute(org_id=payment.org_id, payment_id=payment.id, gateway_dispute_id=str(obj["id"]),
                          amount_cents=int(obj.get("amount") or payment.amount_cents),
                          currency=str(obj.get("currency") or payment.currency).upper()[:3],
                          reason=str(obj.get("reason") or "")[:100], status=status, evidence_due_by=_due_by(obj),
                          created_at=now, updated_at=now)
        session.add(dispute)
        session.flush()
        record(session, actor, "dispute.open", "payment", payment.id, client_id=payment.client_id, at=now,
               amount_cents=dispute.amount_cents, reason=dispute.reason, stripe_event=event_id)
        _flag_owners(session, payment, dispute)
        outcome = "disputed"
    elif STATUS_RANK.get(status, 0) > STATUS_RANK.get(dispute.status, 0) or (
            STATUS_RANK.get(status, 0) == STATUS_RANK.get(dispute.status, 0) < 2 and status != dispute.status):
        dispute.status, dispute.updated_at = status, now
        dispute.evidence_due_by = _due_by(obj) or dispute.evidence_due_by
        record(session, actor, "dispute.update", "payment", payment.id, client_id=payment.client_id, at=now,
               status=status, stripe_event=event_id)
        outcome = "updated"
    money = _move_funds(session, payment, dispute, event_type, status, now)
    session.add(dispute)
    return money or outcome


def _move_funds(session: Session, payment: Payment, dispute: Dispute, event_type: str, status: str,
                now: datetime) -> str:
    """The dispute's ledger lines, each once: withdrawn on funds_withdrawn (or implied by a
    reinstatement), reinstated on funds_reinstated or a close `won` after a withdrawal."""
    wrote = ""
    if not dispute.funds_withdrawn and event_type in ("charge.dispute.funds_withdrawn",
                                                      "charge.dispute.funds_reinstated"):
        _line(session, payment, dispute, "dispute_withdrawn", -dispute.amount_cents, now)
        dispute.funds_withdrawn, wrote = True, "withdrawn"
    won = status == "won" or dispute.status == "won"
    if dispute.funds_withdrawn and not dispute.funds_reinstated and (
            event_type == "charge.dispute.funds_reinstated" or won):
        _line(session, payment, dispute, "dispute_reinstated", dispute.amount_cents, now)
        dispute.funds_reinstated, wrote = True, "reinstated"
    return wrote


def _line(session: Session, payment: Payment, dispute: Dispute, entry_type: str, amount_cents: int,
          now: datetime) -> None:
    session.add(LedgerEntry(org_id=payment.org_id, client_id=payment.client_id, appointment_id=payment.appointment_id,
                            payment_id=payment.id, entry_type=entry_type, amount_cents=amount_cents,
                            currency=payment.currency, created_at=now))


def _flag_owners(session: Session, payment: Payment, dispute: Dispute) -> list[OutboxMessage]:
    """An email to every active owner of the clinic about a new dispute, with its evidence."""
    evidence = dispute_evidence(session, payment)
    amount = format_money(dispute.amount_cents, dispute.currency)
    due = dispute.evidence_due_by.isoformat() if dispute.evidence_due_by else "not given"
    body = "\n".join([
        f"A client disputed a payment of {amount} (payment #{payment.id}, Stripe dispute {dispute.gateway_dispute_id}).",
        f"Reason given: {dispute.reason or 'not given'}. Status: {dispute.status}. Evidence due by (UTC): {due}.",
        "", "What the clinic holds:", *evidence.lines(), "",
        "Answer the dispute in the Stripe Dashboard before the due date; the dashboard lists open disputes."])
    return queue_owner_alert(session, payment.org_id, kind="dispute_opened", subject=f"Payment disputed: {amount}",
                             body=body, dedupe_prefix=f"dispute-{dispute.id}", client_id=payment.client_id,
                             appointment_id=payment.appointment_id)


@dataclass(frozen=True)
class DisputeRow:
    """One dispute for the owner's list: amounts in integer cents, instants aware UTC."""

    id: int
    payment_id: int
    gateway_dispute_id: str
    amount_cents: int
    currency: str
    reason: str
    status: str
    evidence_due_by: datetime | None
    created_at: datetime


def open_disputes(session: Session, actor: Actor) -> list[DisputeRow]:
    """The clinic's disputes not closed yet, soonest evidence due first (owners only: raises
    PermissionDenied for other roles; audit not needed: no client data beyond ids)."""
    actor.require("dispute.read")
    rows = session.exec(select(Dispute).where(Dispute.status.not_in(CLOSED_STATUSES))
                        .order_by(Dispute.evidence_due_by.asc().nulls_last(), Dispute.id)).all()
    return [DisputeRow(d.id, d.payment_id, d.gateway_dispute_id, d.amount_cents, d.currency, d.reason, d.status,
                       d.evidence_due_by, d.created_at) for d in rows]
