"""The money invariant (issue 11, "a charge never outlives its booking"), as ONE SQL query.

    every succeeded charge is on the ledger of a live or completed visit, or refunded in full;
    no ledger line without its payment; no live occupancy without its appointment.

`money_violations(session, now)` runs it in the session's clinic (row-level security scopes
every table to the transaction's org_id, so it never sees another clinic); the tests, the
chaos run and `medspa check` (payments.actions.fetch_money_violations, clinic by clinic) use
this function and nothing else. Each row names one violation:

- stranded_charge: a payment holding money (succeeded or partially refunded) without a
  positive ledger line of its own, or whose visit is not one that keeps money: live
  (confirmed, checked in) or done (completed, no-show), or cancelled with the deposit kept
  (a deposit_forfeited line) or kept for a late-cancel fee (fee_from_deposit), or a fee's own
  card charge (fee_charged; payments.fees). A held visit with money on it counts: it was never confirmed.
  A payment whose refunds, one of them still pending, reach the amount paid is being
  refunded, not stranded: the money is still held until the gateway answers, and the
  pending refund is watched by unsettled_refund.
- unsettled_refund: a refund still pending (asked while the gateway did not answer) after
  its reconcile_after instant, or with none: reconciliation is not retrying it in time.
  row_id is the refund.
- unsettled_payment: a payment still pending (or a deposit still waiting for 3-D Secure)
  after its reconcile_after instant, or open with no reconcile_after at all: nothing settled
  it in time (the reconciliation job is not running or keeps failing).
- ledger_without_payment: a ledger line of a kind that moves a payment's money
  (PAYMENT_LINE_TYPES) with no payment, or whose payment never captured money.
- voided_but_booked: a charge_voided line (the slot was lost, the money went back) on a visit
  that is confirmed, checked in or completed: confirmed AND refunded, never both.
- occupancy_without_appointment: a held or booked appointment occupancy whose appointment is
  missing, cancelled or expired (the calendar shows a busy slot nobody has).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlmodel import Session

PAYMENT_LINE_TYPES = ("deposit_paid", "deposit_refunded", "deposit_forfeited", "deposit_applied", "charge_voided",
                      "processing_fee", "sale_refunded", "balance_paid", "dispute_withdrawn", "dispute_reinstated",
                      "refund_reversed", "fee_from_deposit", "fee_charged", "fee_refunded")
"""Ledger lines that always belong to a payment (a `sale` line may have none: a zero balance)."""

MONEY_INVARIANT_SQL = text("""
select 'stranded_charge' as kind, p.id as payment_id, p.appointment_id, null::bigint as row_id,
       format('%s %s payment of %s cents; visit %s', p.status, p.purpose, p.amount_cents,
              coalesce(a.status, 'none')) as detail
  from payment p left join appointment a on a.id = p.appointment_id
 where p.status in ('succeeded', 'partially_refunded')
   and not (exists (select 1 from refund r where r.payment_id = p.id and r.status = 'pending')
            and (select coalesce(sum(r.amount_cents), 0) from refund r
                  where r.payment_id = p.id and r.status <> 'failed') >= p.amount_cents)
   and (not exists (select 1 from ledger_entry l where l.payment_id = p.id and l.amount_cents > 0)
        or (p.appointment_id is not null
            and a.status not in ('confirmed', 'checked_in', 'completed', 'no_show')
            and not (a.status = 'cancelled' and exists (
                select 1 from ledger_entry f where f.payment_id = p.id
                   and f.entry_type in ('deposit_forfeited', 'fee_from_deposit', 'fee_charged')))))
union all
select 'unsettled_payment', p.id, p.appointment_id, null,
       format('%s %s payment of %s cents, due for reconciliation since %s', p.status, p.purpose, p.amount_cents,
              coalesce(p.reconcile_after::text, 'never'))
  from payment p
 where (p.status = 'pending' or (p.status = 'requires_action' and p.purpose = 'deposit'))
   and (p.reconcile_after is null or p.reconcile_after <= :now)
union all
select 'unsettled_refund', r.payment_id, p.appointment_id, r.id,
       format('pending refund of %s cents, due for reconciliation since %s', r.amount_cents,
              coalesce(r.reconcile_after::text, 'never'))
  from refund r join payment p on p.id = r.payment_id
 where r.status = 'pending' and (r.reconcile_after is null or r.reconcile_after <= :now)
union all
select 'ledger_without_payment', l.payment_id, l.appointment_id, l.id,
       format('%s line of %s cents; payment %s', l.entry_type, l.amount_cents, coalesce(p.status, 'none'))
  from ledger_entry l left join payment p on p.id = l.payment_id
 where l.entry_type in :payment_lines
   and (p.id is null or p.status not in ('succeeded', 'partially_refunded', 'refunded'))
union all
select 'voided_but_booked', l.payment_id, l.appointment_id, l.id,
       format('charge_voided on a %s visit', a.status)
  from ledger_entry l join appointment a on a.id = l.appointment_id
 where l.entry_type = 'charge_voided' and a.status in ('confirmed', 'checked_in', 'completed')
union all
select 'occupancy_without_appointment', null, o.appointment_id, o.id,
       format('%s occupancy of resource %s; visit %s', o.status, o.resource_id, coalesce(a.status, 'none'))
  from occupancy o left join appointment a on a.id = o.appointment_id
 where o.kind = 'appointment' and o.status in ('held', 'booked')
   and (a.id is null or a.status in ('cancelled', 'expired'))
 order by 1, 2, 3, 4
""").bindparams(bindparam("payment_lines", expanding=True))


@dataclass(frozen=True)
class MoneyViolation:
    """One broken rule: `kind` (see the module docstring), the payment and appointment ids
    involved (None when not applicable), row_id (the ledger line or occupancy, else None) and a
    one-line `detail` for people (statuses and integer cents, no client data)."""

    kind: str
    payment_id: int | None
    appointment_id: int | None
    row_id: int | None
    detail: str


def money_violations(session: Session, now: datetime) -> list[MoneyViolation]:
    """Every violation of the money invariant in the session's clinic (the session must be a
    tenant session: row-level security is the scope). now: aware UTC, the instant a pending
    payment's reconcile_after is compared with. Empty list: the invariant holds."""
    rows = session.connection().execute(MONEY_INVARIANT_SQL, {"now": now, "payment_lines": list(PAYMENT_LINE_TYPES)})
    return [MoneyViolation(r.kind, r.payment_id, r.appointment_id, r.row_id, r.detail) for r in rows]
