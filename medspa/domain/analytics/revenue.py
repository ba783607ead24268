"""Revenue reports (integer cents) from the client ledger; one-line definitions in definitions.py.

Net revenue = the sum of the ledger lines in the range
            = deposits + sales - deposits applied - refunds - processing fees, where
- deposits = deposit_paid lines (money taken at online booking);
- sales = sale lines (the visit's price at checkout, payments/checkout.py);
- applied = minus the deposit_applied lines: the deposit a sale absorbed. A deposit that
  became part of a sale therefore counts once: +D when it was paid, then +P - D at checkout
  (a $50 deposit in June and a $300 checkout in July: June 50, July 250, both 300);
- refunds = minus every other line: deposit_refunded, charge_voided, sale_refunded (all
  negative; deposit_forfeited lines are 0 and change nothing; a balance_paid line, a second
  balance charge of a visit, is + and always comes with its full sale_refunded, so the pair
  nets to 0);
- fees = minus the processing_fee lines (the gateway's fee per payment, kept on refunds).

Each ledger line belongs to the local day of its created_at at its visit's location (the
convention of analytics/service.py); lines without an appointment have no location and are
not in these figures. `start`/`end` are local dates, both inclusive. Every report needs
report.read, aggregates in PostgreSQL (GROUP BY) and has a *_rows function whose amounts sum
to the figure. A coarse UTC window (the local range widened by a day each side, wider than
any UTC offset) keeps the filter on ledger_entry.created_at sargable; the exact local-day test
follows it.

The figures (revenue by every group but provider, ticket_summary's checkouts, sales and net,
top_services) read revenue_daily (migration 0015): the same lines summed per location, local
day, service and entry type, kept exact by triggers on ledger_entry, so a year is a few
thousand rows instead of ~1M lines. What is not a sum over those keys reads the ledger: the
drill-downs (*_rows list lines), revenue by provider (the line's visit) and ticket_summary's
distinct clients (an index-only scan of ix_ledger_entry_org_created_cover). A location's local
day uses its time zone, which the app never changes (see migration 0015 for a manual change).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import text
from sqlmodel import Session

from medspa.domain.analytics.common import PERMISSION, _params
from medspa.domain.identity.actor import Actor
from medspa.domain.money import ROUNDING

_MONTH = "to_char((e.created_at AT TIME ZONE l.time_zone), 'YYYY-MM')"
# a column of the line's visit, looked up by primary key only where a report needs one that the
# line does not carry (its provider; its client when the line has none)
_VISIT_OF_LINE = "(SELECT a.{} FROM appointment a WHERE a.id = e.appointment_id)"
REVENUE_GROUPS = {"month": _MONTH,
                  "category": "s.category", "provider": f"({_VISIT_OF_LINE.format('provider_id')})::text",
                  "location": "e.location_id::text", "service": "e.service_id::text",
                  "month_category": f"{_MONTH} || '|' || s.category"}
"""by -> the SQL of the group key: month "YYYY-MM" (local), category, provider id, location
id, service id, and month_category "YYYY-MM|<category>" (the stacked chart)."""

# the same keys over revenue_daily d (joined to service s); provider is not there (raw ledger)
_DAILY_MONTH = "to_char(d.local_day, 'YYYY-MM')"
_DAILY_GROUPS = {"month": _DAILY_MONTH, "category": "s.category", "location": "d.location_id::text",
                 "service": "d.service_id::text", "month_category": f"{_DAILY_MONTH} || '|' || s.category"}
_DAILY = """
    FROM revenue_daily d JOIN service s ON s.id = d.service_id
    WHERE d.local_day BETWEEN :start AND :end
      AND (CAST(:loc AS bigint) IS NULL OR d.location_id = CAST(:loc AS bigint))
"""

# ledger_entry.location_id / service_id are its visit's (migration 0014, kept by triggers; NULL
# without a visit): a report reads the ledger's range and the small location and service tables,
# never the whole appointment table
_LEDGER = """
    FROM ledger_entry e
    JOIN location l ON l.id = e.location_id JOIN service s ON s.id = e.service_id
    WHERE e.created_at >= :lo AND e.created_at < :hi
      AND (e.created_at AT TIME ZONE l.time_zone)::date BETWEEN :start AND :end
      AND (CAST(:loc AS bigint) IS NULL OR e.location_id = CAST(:loc AS bigint))
"""

_SUMS = """
    coalesce(sum(e.amount_cents) FILTER (WHERE e.entry_type = 'deposit_paid'), 0),
    coalesce(sum(e.amount_cents) FILTER (WHERE e.entry_type = 'sale'), 0),
    coalesce(-sum(e.amount_cents) FILTER (WHERE e.entry_type = 'deposit_applied'), 0),
    coalesce(-sum(e.amount_cents) FILTER (WHERE e.entry_type NOT IN
             ('deposit_paid', 'sale', 'deposit_applied', 'processing_fee')), 0),
    coalesce(-sum(e.amount_cents) FILTER (WHERE e.entry_type = 'processing_fee'), 0)
"""
_DAILY_SUMS = _SUMS.replace("e.entry_type", "d.entry_type").replace("e.amount_cents", "d.amount_cents")


def _ledger_params(start: date, end: date, location_id: int | None, **extra) -> dict:
    """The report parameters plus the coarse UTC window [lo, hi) around the local range."""
    params = _params(start, end, location_id, **extra)
    params["lo"] = datetime.combine(start - timedelta(days=1), time.min, tzinfo=timezone.utc)
    params["hi"] = datetime.combine(end + timedelta(days=2), time.min, tzinfo=timezone.utc)
    return params


def _group(by: str) -> str:
    if by not in REVENUE_GROUPS:
        raise ValueError(f"revenue by {by!r}: one of {sorted(REVENUE_GROUPS)}")
    return REVENUE_GROUPS[by]


def _div_half_up(num: int, den: int) -> int | None:
    """num / den rounded half up to a whole cent (the project's money rule); None if den is 0."""
    if den == 0:
        return None
    return int((Decimal(num) / Decimal(den)).to_integral_value(rounding=ROUNDING))


@dataclass(frozen=True)
class RevenueLine:
    """One group's money in integer cents (all >= 0; applied, refunds and fees are magnitudes).

    key: the group (see REVENUE_GROUPS). net_cents = deposits + sales - applied - refunds - fees.
    """

    key: str
    deposits_cents: int
    sales_cents: int
    applied_cents: int
    refunds_cents: int
    fees_cents: int

    @property
    def net_cents(self) -> int:
        """Net revenue of the line in cents: deposits + sales - deposits applied - refunds - fees."""
        return self.deposits_cents + self.sales_cents - self.applied_cents - self.refunds_cents - self.fees_cents


def revenue(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
            now: datetime, by: str = "month") -> list[RevenueLine]:
    """Deposits, sales, deposits applied, refunds, fees and net per group, ordered by key.

    by: one of REVENUE_GROUPS (month = local "YYYY-MM"; month_category = "YYYY-MM|<category>").
    Groups without a ledger line are absent. Raises PermissionDenied (report.read), ValueError
    (unknown `by`, end before start). Definitions: module docstring."""
    actor.require(PERMISSION)
    key = _group(by)
    if by in _DAILY_GROUPS:
        sql = f"SELECT {_DAILY_GROUPS[by]} AS k, {_DAILY_SUMS} {_DAILY} GROUP BY k ORDER BY k"
    else:
        sql = f"SELECT {key} AS k, {_SUMS} {_LEDGER} GROUP BY k ORDER BY k"
    rows = session.execute(text(sql), _ledger_params(start, end, location_id)).all()
    return [RevenueLine(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows]


def revenue_rows(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                 now: datetime, by: str = "month", key: str | None = None) -> list[tuple[int, str, int]]:
    """(ledger entry id, entry type, amount cents) of every line behind a revenue line (key
    given) or all lines (key None), ordered by id: the amounts sum to its net_cents (0-cent
    deposit_forfeited lines included). Raises as revenue()."""
    actor.require(PERMISSION)
    extra = f" AND {_group(by)} = :key" if key is not None else ""
    return [(r[0], r[1], int(r[2])) for r in session.execute(text(f"""
        SELECT e.id, e.entry_type, e.amount_cents {_LEDGER}{extra} ORDER BY e.id"""),
        _ledger_params(start, end, location_id, key=key)).all()]


@dataclass(frozen=True)
class TicketSummary:
    """Checkouts (sale lines) and their sales, net revenue and clients of a range (cents)."""

    checkouts: int
    sales_cents: int
    net_cents: int
    clients: int

    @property
    def average_ticket_cents(self) -> int | None:
        """sales / checkouts rounded half up to a cent; None without checkouts."""
        return _div_half_up(self.sales_cents, self.checkouts)

    @property
    def revenue_per_client_cents(self) -> int | None:
        """net / clients rounded half up to a cent; None without clients."""
        return _div_half_up(self.net_cents, self.clients)


def ticket_summary(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                   now: datetime) -> TicketSummary:
    """Average ticket and revenue per client of the range: checkouts = sale lines, sales =
    their sum, net = every ledger line (as revenue()), clients = distinct clients with a
    ledger line in the range. Raises PermissionDenied, ValueError (end before start)."""
    actor.require(PERMISSION)
    params = _ledger_params(start, end, location_id)
    row = session.execute(text(f"""
        SELECT coalesce(sum(d.lines) FILTER (WHERE d.entry_type = 'sale'), 0),
               coalesce(sum(d.amount_cents) FILTER (WHERE d.entry_type = 'sale'), 0),
               coalesce(sum(d.amount_cents), 0)
        {_DAILY}"""), params).one()
    # distinct clients are no sum: the ledger's lines of the range (every column the query
    # reads is in ix_ledger_entry_org_created_cover: an index-only scan; a line with a location
    # has a service, as its visit has, so the service join of _LEDGER is the NOT NULL test).
    # The local-day test is only computed near the range's ends: a line inside [start + 1 day,
    # end) in UTC is inside the local range at any UTC offset under a day (the assumption of the
    # coarse window [lo, hi) too), and converting ~1M timestamps costs more than the scan.
    params["ilo"] = params["lo"] + timedelta(days=2)
    params["ihi"] = params["hi"] - timedelta(days=2)
    clients = session.execute(text(f"""
        SELECT count(c.k) FROM (
            SELECT DISTINCT coalesce(e.client_id, {_VISIT_OF_LINE.format('client_id')}) AS k
            FROM ledger_entry e JOIN location l ON l.id = e.location_id
            WHERE e.created_at >= :lo AND e.created_at < :hi AND e.service_id IS NOT NULL
              AND CASE WHEN e.created_at >= :ilo AND e.created_at < :ihi THEN true
                       ELSE (e.created_at AT TIME ZONE l.time_zone)::date BETWEEN :start AND :end END
              AND (CAST(:loc AS bigint) IS NULL OR e.location_id = CAST(:loc AS bigint))) AS c"""),
        params).scalar()
    return TicketSummary(int(row[0]), int(row[1]), int(row[2]), int(clients))


@dataclass(frozen=True)
class ServiceSales:
    """One service's checkouts in the range and their sales (integer cents)."""

    service_id: int
    name: str
    category: str
    checkouts: int
    sales_cents: int


def top_services(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                 now: datetime, limit: int = 10) -> list[ServiceSales]:
    """Services by sales at checkout (sale lines) in the range, highest first, then by name;
    at most `limit` (1..100). Raises PermissionDenied, ValueError."""
    actor.require(PERMISSION)
    if not 1 <= limit <= 100:
        raise ValueError("limit is 1..100")
    rows = session.execute(text(f"""
        SELECT s.id, s.name, s.category, sum(d.lines), sum(d.amount_cents) AS sales {_DAILY}
          AND d.entry_type = 'sale'
        GROUP BY s.id, s.name, s.category ORDER BY sales DESC, s.name, s.id LIMIT :limit"""),
        _ledger_params(start, end, location_id, limit=limit)).all()
    return [ServiceSales(int(r[0]), r[1], r[2], int(r[3]), int(r[4])) for r in rows]


def top_service_rows(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                     now: datetime, service_id: int) -> list[tuple[int, str, int]]:
    """(ledger entry id, "sale", amount cents) of the service's checkouts in the range, by id:
    they sum to its ServiceSales.sales_cents. Raises PermissionDenied, ValueError."""
    actor.require(PERMISSION)
    return [(r[0], r[1], int(r[2])) for r in session.execute(text(f"""
        SELECT e.id, e.entry_type, e.amount_cents {_LEDGER}
          AND e.entry_type = 'sale' AND e.service_id = :sid ORDER BY e.id"""),
        _ledger_params(start, end, location_id, sid=service_id)).all()]
