"""Use cases of late-cancel and no-show fees (issue 16): the location's fee settings (the
Locations tab's fee block, settings.write) and a manager waiving a visit's fee (fee.waive).

Each action opens one tenant transaction, checks the permission, works through the services
(payments/fees.py, practice models), writes the audit row there, commits, then sends what
must go to the gateway after the commit (refunds). Returns frozen dataclasses, never rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy.engine import Engine

from medspa.clock import Clock, app_clock
from medspa.domain.audit.service import record
from medspa.domain.changes import row_for_edit
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.payments.factory import gateway_of
from medspa.domain.payments.fees import fee_line, fees_of_visit, waive_fee
from medspa.domain.payments.gateway import PaymentGateway
from medspa.domain.payments.refunds import send_refunds_now
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.policy import (FEE_KINDS, FEE_TERMS, MAX_FLAT_FEE_CENTS, MAX_PERCENT_BP, FeeTerms,
                                             fee_terms, fee_terms_text)
from medspa.domain.work import atomic, engine_of

SETTINGS_PERMISSION = "settings.write"
ROUNDING_RULE = ("Percent fees are rounded half up to whole cents (12.5¢ becomes 13¢). A deposit paid is "
                 "applied to the fee first: the rest of the deposit is refunded, the rest of the fee is "
                 "charged to the card on file.")
"""The rule as the settings page states it (scheduling.policy.fee_cents, money.ROUNDING)."""


@dataclass(frozen=True)
class FeeSettings:
    """A location's two fees: (term, amount) per kind, amount in cents (flat) or basis points
    (percent), and each in words ("$25.00", "50% of the service price", "No fee")."""

    location_id: int
    currency: str
    late_cancel: FeeTerms
    no_show: FeeTerms
    late_cancel_text: str
    no_show_text: str


@dataclass(frozen=True)
class FeeView:
    """A visit's fee as the panel shows it: id, kind, status, the line in words, and whether
    this actor may waive it now."""

    id: int
    kind: str
    status: str
    line: str
    waivable: bool


def _settings(loc: Location, currency: str) -> FeeSettings:
    late, no_show = fee_terms(loc, "late_cancel"), fee_terms(loc, "no_show")
    return FeeSettings(loc.id, currency, late, no_show, fee_terms_text(late, currency),
                       fee_terms_text(no_show, currency))


def _currency(session, org_id: int) -> str:
    from medspa.domain.practice.models import Organization

    org = session.get(Organization, org_id)
    return getattr(org, "currency", None) or "USD"


def parse_fee(kind: str, term: object, amount: object) -> FeeTerms:
    """A fee as the form sends it: term none | flat | percent and the amount as typed ("25",
    "25.00" dollars for flat; "12.5" percent for percent). Raises ValidationFailed keyed
    "<kind>_fee" with ONE message per case: not a number, negative, zero (choose "No fee"
    instead), more than two decimals, too large (a flat fee above the highest service price,
    scheduling.policy.MAX_FLAT_FEE_CENTS = catalog.editing.MAX_PRICE_CENTS; a percent above
    100%)."""
    key = f"{kind}_fee"
    if term not in FEE_TERMS:
        raise ValidationFailed({key: "Choose no fee, a flat amount or a percent"})
    if term == "none":
        return FeeTerms()
    flat = term == "flat"
    text = amount.strip() if isinstance(amount, str) else str(amount or "")
    if not text:
        raise ValidationFailed({key: "Enter the amount" if flat else "Enter the percent"})
    number = text.rstrip("%").lstrip("$").strip().replace(",", "")
    try:
        value = Decimal(number)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise ValidationFailed({key: "Enter an amount like 19.99" if flat else "Enter a percent like 50 or 12.5"})
    if value < 0:
        raise ValidationFailed({key: "A fee cannot be negative"})
    if value == 0:
        raise ValidationFailed({key: "Enter an amount above zero, or choose No fee" if flat
                                else "Enter a percent above zero, or choose No fee"})
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationFailed({key: "Use at most two decimals"})
    hundredths = int(value * 100)  # "12.5" -> 1250 (exact: at most two decimals)
    if flat and hundredths > MAX_FLAT_FEE_CENTS:
        raise ValidationFailed({key: f"At most {MAX_FLAT_FEE_CENTS // 100:,}, the highest price a "
                                     "service may have"})
    if not flat and hundredths > MAX_PERCENT_BP:
        raise ValidationFailed({key: "At most 100% of the service price"})
    return FeeTerms(term, hundredths)


def fetch_fee_settings(actor: Actor, location_id: int, *, engine: Engine | None = None) -> FeeSettings:
    """A location's fee settings (settings.write). Raises PermissionDenied, NotFound."""
    actor.require(SETTINGS_PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        loc = row_for_edit(work.session, Location, location_id, "location")
        return _settings(loc, _currency(work.session, actor.org_id))


def fetch_all_fee_settings(actor: Actor, *, engine: Engine | None = None) -> list[FeeSettings]:
    """Every location's fee settings, by location id (settings.write). Raises PermissionDenied."""
    actor.require(SETTINGS_PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        from sqlmodel import select

        currency = _currency(work.session, actor.org_id)
        return [_settings(loc, currency) for loc in work.session.exec(select(Location).order_by(Location.id))]


def do_set_fees(actor: Actor, location_id: int, late_cancel: FeeTerms, no_show: FeeTerms, *,
                engine: Engine | None = None) -> FeeSettings:
    """Set a location's late-cancel and no-show fees (settings.write), audited
    "location.fees.set" with old and new terms; visits already booked keep the fee of their
    booking when it was lower (scheduling.policy.fee_due). Raises PermissionDenied, NotFound,
    ValidationFailed."""
    actor.require(SETTINGS_PERMISSION)
    for kind, terms in (("late_cancel", late_cancel), ("no_show", no_show)):
        if not isinstance(terms, FeeTerms):
            raise ValidationFailed({f"{kind}_fee": "Choose the fee"})
        parse_fee(kind, terms.term, f"{terms.amount / 100:.2f}" if terms.term != "none" else "")
    with atomic(actor.org_id, engine=engine) as work:
        loc = row_for_edit(work.session, Location, location_id, "location")
        changes = {}
        for kind, terms in zip(FEE_KINDS, (late_cancel, no_show)):
            old = fee_terms(loc, kind)
            if old != terms:
                changes[f"{kind}_fee"] = [[old.term, old.amount], [terms.term, terms.amount]]
                setattr(loc, f"{kind}_fee_kind", terms.term)
                setattr(loc, f"{kind}_fee_amount", terms.amount)
        if changes:
            work.session.add(loc)
            record(work.session, actor, "location.fees.set", "location", loc.id, name=loc.name, changes=changes)
        result = _settings(loc, _currency(work.session, actor.org_id))
        work.commit()
        return result


def fetch_visit_fees(actor: Actor, appointment_id: int, *, engine: Engine | None = None) -> list[FeeView]:
    """The visit's fees in words (calendar.read), with waivable for fee.waive on a fee that is
    neither waived, nothing due, nor still charging."""
    actor.require("calendar.read")
    may = actor.can("fee.waive")
    with atomic(actor.org_id, engine=engine) as work:
        return [FeeView(f.id, f.kind, f.status, fee_line(f),
                        may and f.status in ("paid", "unpaid_needs_action"))
                for f in fees_of_visit(work.session, appointment_id)]


def do_waive_fee(actor: Actor, fee_id: int, reason: str, *, clock: Clock | None = None,
                 engine: Engine | None = None, gateway: PaymentGateway | None = None) -> FeeView:
    """Waive a fee with a reason (fee.waive: owner, manager): committed with its refunds written
    pending (payments.fees.waive_fee), which are then sent. Returns the fee as it stands.
    Raises PermissionDenied, NotFound, ValidationFailed ({"reason"} or {"fee"})."""
    clock = clock or app_clock()
    now = clock.now()
    with atomic(actor.org_id, engine=engine) as work:
        refund_ids = waive_fee(work.session, actor, fee_id, reason, now=now)
        work.commit()
    engine = engine_of(engine)
    if refund_ids:
        send_refunds_now(engine, actor, refund_ids, gateway_of(gateway, engine, clock), now)
    with atomic(actor.org_id, engine=engine) as work:
        from medspa.domain.payments.models import PolicyFee

        row = work.session.get(PolicyFee, fee_id)
        return FeeView(row.id, row.kind, row.status, fee_line(row), False)


def do_retry_fee_charge(actor: Actor, fee_id: int, *, clock: Clock | None = None, engine: Engine | None = None,
                        gateway: PaymentGateway | None = None) -> FeeView:
    """"Charge card on file again" (payment.take): a new attempt at an unpaid fee's remainder on
    the client's card (payments.fees.retry_fee_charge, a new idempotency key per attempt),
    committed, then sent (send_fee_charges_now); the answer settles the fee (paid, or unpaid
    with the card's reason) and tells the client (payments.fees.tell_fee_outcome). Returns the
    fee as it stands. Raises PermissionDenied, NotFound, ValidationFailed ({"fee": ...})."""
    from medspa.domain.payments.fee_collect import retry_fee_charge
    from medspa.domain.payments.fees import send_fee_charges_now
    from medspa.domain.payments.models import PolicyFee
    from medspa.settings import get_settings

    clock = clock or app_clock()
    now = clock.now()
    with atomic(actor.org_id, engine=engine) as work:
        retry_fee_charge(work.session, actor, fee_id, now=now, grace_seconds=get_settings().reconcile_grace_seconds)
        appointment_id = work.session.get(PolicyFee, fee_id).appointment_id
        work.commit()
    engine = engine_of(engine)
    send_fee_charges_now(engine, actor, appointment_id, gateway_of(gateway, engine, clock), now)
    with atomic(actor.org_id, engine=engine) as work:
        row = work.session.get(PolicyFee, fee_id)
        return FeeView(row.id, row.kind, row.status, fee_line(row),
                       actor.can("fee.waive") and row.status in ("paid", "unpaid_needs_action"))
