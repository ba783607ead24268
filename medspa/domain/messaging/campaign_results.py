"""A campaign's results (messaging.campaigns): what its recipients' messages became (sent,
delivered, failed, in the outbox, waiting for quiet hours, skipped by reason) and the bookings
its clients made within BOOKING_WINDOW of their message, in one grouped query. Takes a tenant
session, never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

BOOKING_WINDOW = timedelta(days=14)  # a booking this long after a message counts for the campaign


@dataclass(frozen=True)
class Results:
    """A campaign's figures: recipients' messages `sent` (sent or delivered), `delivered`
    (the carrier's receipt, SMS), `failed`, `queued` (in the outbox, not yet handed to the
    provider), `waiting` (recipients whose quiet hours have not ended yet),
    `skipped` by reason ((reason, count), most first), and the `bookings` its clients made
    within BOOKING_WINDOW of a message sent to them, with their value (integer cents)."""

    sent: int = 0
    delivered: int = 0
    failed: int = 0
    queued: int = 0
    waiting: int = 0
    skipped: tuple[tuple[str, int], ...] = ()
    bookings: int = 0
    booked_cents: int = 0

    @property
    def skipped_total(self) -> int:
        """All skipped recipients."""
        return sum(n for _, n in self.skipped)


_RESULTS_SQL = text("""
with r as (
    select r.campaign_id, r.client_id, r.status, r.skip_reason, m.status as message_status, m.sent_at
    from campaign_recipient r left join outbox_message m on m.id = r.message_id
    where r.campaign_id = any(:ids)
), booked as (
    select distinct r.campaign_id, a.id, a.price_cents
    from r join appointment a on a.client_id = r.client_id
    where r.sent_at is not null and r.message_status in ('sent', 'delivered')
      and a.created_at >= r.sent_at and a.created_at < r.sent_at + make_interval(days => :days)
      and a.status <> 'expired'
)
select campaign_id, 'recipients' as part, status, skip_reason, coalesce(message_status, ''), count(*), 0
from r group by campaign_id, status, skip_reason, message_status
union all
select campaign_id, 'bookings', '', '', '', count(*), coalesce(sum(price_cents), 0)
from booked group by campaign_id
""")


def campaign_results(session: Session, campaign_ids: list[int]) -> dict[int, Results]:
    """Results of each campaign in `campaign_ids` (one grouped query); {id: Results}, every id
    present. Bookings: appointments (not lapsed holds) the recipient created in
    [the message's sent_at, + 14 days), each counted once per campaign."""
    out = {cid: Results() for cid in campaign_ids}
    if not campaign_ids:
        return out
    acc: dict[int, dict[str, Any]] = {cid: {"skipped": {}} for cid in campaign_ids}
    for cid, part, status, reason, message_status, n, cents in session.execute(
            _RESULTS_SQL, {"ids": list(campaign_ids), "days": BOOKING_WINDOW.days}):
        a = acc[cid]
        if part == "bookings":
            a["bookings"], a["booked_cents"] = int(n), int(cents)
        elif status == "skipped":
            a["skipped"][reason] = a["skipped"].get(reason, 0) + int(n)
        elif message_status in ("sent", "delivered"):
            a["sent"] = a.get("sent", 0) + int(n)
            if message_status == "delivered":
                a["delivered"] = a.get("delivered", 0) + int(n)
        elif message_status == "failed":
            a["failed"] = a.get("failed", 0) + int(n)
        elif status == "pending":
            a["waiting"] = a.get("waiting", 0) + int(n)
        else:
            a["queued"] = a.get("queued", 0) + int(n)
    for cid, a in acc.items():
        skipped = tuple(sorted(a.pop("skipped").items(), key=lambda kv: (-kv[1], kv[0])))
        out[cid] = Results(skipped=skipped, **a)
    return out


__all__ = ["BOOKING_WINDOW", "Results", "campaign_results"]
