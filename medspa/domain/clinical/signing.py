"""Who may treat and who may sign a chart (issue 18): THE rules, in one place.

Licences: a staff member's `licence` is "" (not recorded) or one of LICENCES; the prescribers
are PRESCRIBER_LICENCES (MD, DO, NP, PA). A licence that is not recorded counts as NOT a
prescriber: the safe side (the owner records it on the staff page).

The order rule: a service with `requires_prescriber_order` (on by default for neuromodulators,
fillers and biostimulators: prescription devices/drugs that a nurse or aesthetician may give
only under a prescriber's good-faith exam) is charted by a non-prescriber provider only when the
client has a prescriber_order valid at the visit's start whose scope is the service's category
or "all". The rule also applies when any chart line is a prescription product (a catalog
product in inventory_chart.LOT_CATEGORIES or a free-text brand chart_rules.is_injectable
knows), whatever the visit's service: see product_scopes. The visit's provider (appointment.provider_id) is the one who treats, so their licence
decides, whoever types the chart. The note records the order it rests on when it is signed.

Who signs: the visit's provider (the actor's staff record is appointment.provider_id). When the
clinic turns on `covering_may_sign` (owner, organization setting) any staff member with
chart.write may sign instead. Everyone else gets a message naming the visit's provider; after
signing anyone with chart.write may add an addendum (clinical/chart_review.py).

This module holds the rules only (no audit, no commit): clinical/service.py calls them from
sign_chart and raises ChartLocked with the message. A draft is saved even while its order is
missing (the chart shows the rule's message from the start), so what a nurse typed is never lost
(issue 18 user trial); it is signed only once the order is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlmodel import Session, select

from medspa.domain.catalog.models import Service
from medspa.domain.clinical.chart_rules import is_injectable
from medspa.domain.clinical.inventory_chart import LOT_CATEGORIES
from medspa.domain.clinical.models import NoteStatus, TreatmentLine, TreatmentNote
from medspa.domain.clinical.product_models import Product
from medspa.domain.clinical.signing_models import ChartAddendum, ChartCosign, PrescriberOrder
from medspa.domain.timezones import format_clinic_clock, zone_abbreviation
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Organization, StaffMember
from medspa.domain.scheduling.models import Appointment

LICENCES = ("MD", "DO", "NP", "PA", "RN", "LPN", "aesthetician", "other")
"""The licences a staff member may have ("" = not recorded)."""
PRESCRIBER_LICENCES = frozenset({"MD", "DO", "NP", "PA"})
"""Licences that may examine and order (the only place this list lives)."""
ORDER_CATEGORIES = ("neuromodulators", "dermal fillers", "fillers", "biostimulators")
"""Service categories that require a prescriber's order by default (a new service in one of
these starts with requires_prescriber_order on; the owner may change it per service)."""
ALL_SCOPE = "all"


def is_prescriber(staff: StaffMember | None) -> bool:
    """True when `staff` has a prescriber licence (MD, DO, NP, PA)."""
    return staff is not None and staff.licence in PRESCRIBER_LICENCES


def order_default(category: str) -> bool:
    """The default of a new service's requires_prescriber_order for its category."""
    return (category or "").strip().lower() in ORDER_CATEGORIES


def staff_label(staff: StaffMember) -> str:
    """ "Dr. Lee (NP)" style: display name with the licence in brackets when recorded."""
    return f"{staff.display_name} ({staff.licence})" if staff.licence else staff.display_name


def scope_matches(scope: str, category: str) -> bool:
    """An order's scope covers a service category ("all" covers every one; case-insensitive)."""
    scope = (scope or "").strip().lower()
    return scope == ALL_SCOPE or scope == (category or "").strip().lower()


def valid_order(session: Session, client_id: int, category: str, at: datetime,
                scopes: tuple[str, ...] | None = None) -> PrescriberOrder | None:
    """The client's order covering `category` (or any of `scopes`, lower case, when given; "all"
    covers every one) valid at `at` (examined at or before, valid after), the one valid longest
    first; None when there is none."""
    wanted = [ALL_SCOPE, *(scopes if scopes is not None else ((category or "").strip().lower(),))]
    rows = session.exec(select(PrescriberOrder).where(
        PrescriberOrder.client_id == client_id, PrescriberOrder.examined_at <= at, PrescriberOrder.valid_until > at,
        PrescriberOrder.scope.in_(wanted))
        .order_by(PrescriberOrder.valid_until.desc(), PrescriberOrder.id.desc())).all()
    return rows[0] if rows else None


def product_scopes(session: Session, line, service: Service) -> tuple[str, ...] | None:
    """The order scopes (besides "all") that cover a chart line's prescription product, or None
    when the line is not one. `line` has .product_id and .product (ChartLine, TreatmentLine).

    A catalog product in a category that needs a lot (inventory_chart.LOT_CATEGORIES:
    neuromodulator, filler, biostimulator) is covered by the order categories naming it
    ("neuromodulators"; "dermal fillers", "fillers"; "biostimulators"). A free-text product that
    chart_rules.is_injectable recognises (a known brand) has no known category: only an order
    for "all", or for the visit's service category when that service itself requires an order."""
    if line.product_id is not None:
        product = session.get(Product, line.product_id)
        if product is None or product.category not in LOT_CATEGORIES:
            return None
        return tuple(c for c in ORDER_CATEGORIES if c.rstrip("s").endswith(product.category))
    if is_injectable(line.product or "", ""):
        return ((service.category or "").strip().lower(),) if service.requires_prescriber_order else ()
    return None


@dataclass(frozen=True)
class OrderCheck:
    """What the order rule says of a visit: `needed` (non-prescriber provider of a service that
    requires an order), the order it rests on (or None) and the words the chart shows."""

    needed: bool
    order: PrescriberOrder | None
    label: str  # "Under the order of Dr. Lee (NP), exam Dec 1, 2026, valid until Dec 1, 2027" or ""
    problem: str  # the refusal message when needed and missing, else ""


def _day(at: datetime, tz: ZoneInfo) -> str:
    return format_date(at.astimezone(tz).date(), "MMM d, y", locale="en_US")


def order_label(order: PrescriberOrder, prescriber: StaffMember | None, time_zone: str) -> str:
    """ "Under the order of Dr. Lee (NP), exam Dec 1, 2026, valid until Dec 1, 2027"."""
    tz = ZoneInfo(time_zone)
    who = staff_label(prescriber) if prescriber is not None else "a prescriber"
    return f"Under the order of {who}, exam {_day(order.examined_at, tz)}, valid until {_day(order.valid_until, tz)}"


def check_order(session: Session, appt: Appointment, service: Service, provider: StaffMember,
                time_zone: str, lines: Sequence = ()) -> OrderCheck:
    """The order rule for this visit (see the module docstring): needed when the provider is not
    a prescriber and the service requires an order or any of `lines` (ChartLine/TreatmentLine)
    is a prescription product (product_scopes). The order recorded is the service's, else the
    first product line's; the problem names the service or the product without one."""
    if is_prescriber(provider):
        return OrderCheck(False, None, "", "")
    licence = provider.licence or "licence not recorded"
    needs: list[tuple[str, str, tuple[str, ...]]] = []  # (what, what it is, scopes)
    if service.requires_prescriber_order:
        needs.append((service.name, (service.category or "").strip().lower(), ((service.category or "").strip().lower(),)))
    for line in lines:
        scopes = product_scopes(session, line, service)
        if scopes is not None:
            needs.append((f"{line.product} (a prescription product)", " or ".join(scopes) or "all treatments", scopes))
    if not needs:
        return OrderCheck(False, None, "", "")
    first: PrescriberOrder | None = None
    for what, covering, scopes in needs:
        order = valid_order(session, appt.client_id, "", appt.start_at, scopes)
        if order is None:
            return OrderCheck(True, None, "", (
                f"{what} needs a prescriber's exam or order before {provider.display_name} ({licence}) "
                f"charts it: this client has no valid order for {covering}. An MD, DO, NP or PA records "
                "the exam on the chart or the client's profile."))
        first = first or order
    return OrderCheck(True, first, order_label(first, session.get(StaffMember, first.prescriber_id), time_zone), "")


def signer_problem(session: Session, actor: Actor, appt: Appointment, provider: StaffMember) -> str:
    """"" when `actor` may sign this visit's chart, else the message (see the module docstring)."""
    if actor.staff_id is not None and actor.staff_id == appt.provider_id:
        return ""
    org = session.get(Organization, actor.org_id)
    if org is not None and org.covering_may_sign:
        return ""
    return (f"Only {provider.display_name}, who performed this visit, can sign this chart. "
            "You can add an addendum once it is signed; the owner can let covering providers sign (Settings).")


@dataclass(frozen=True)
class Addendum:
    """An addendum under a signed chart: who, when (clinic clock), the text."""

    author: str
    at_label: str  # "Dec 6, 2026 10:42 AM EST"
    text: str


def moment_label(at: datetime, time_zone: str) -> str:
    """ "Dec 6, 2026 10:42 AM EST" in the clinic's zone."""
    tz = ZoneInfo(time_zone)
    return f"{_day(at, tz)} {format_clinic_clock(at, time_zone)} {zone_abbreviation(at, tz)}"


def note_extras(session: Session, appt: Appointment, service: Service, provider: StaffMember,
                note: TreatmentNote | None, time_zone: str) -> dict:
    """The issue 18 fields of service.Chart for the current version `note` (None: nothing saved):
    order_label / order_problem (a signed note: the order it recorded; else the rule today),
    addenda (oldest first), cosign_label and needs_cosign (signed under an order, not co-signed)."""
    signed = note is not None and note.status == NoteStatus.SIGNED
    if signed:
        order = session.get(PrescriberOrder, note.prescriber_order_id) if note.prescriber_order_id else None
        label = order_label(order, session.get(StaffMember, order.prescriber_id), time_zone) if order else ""
        problem = ""
    else:
        lines = session.exec(select(TreatmentLine).where(TreatmentLine.note_id == note.id)).all() if note else []
        check = check_order(session, appt, service, provider, time_zone, lines)
        label, problem = check.label, check.problem
    addenda: list[Addendum] = []
    cosign_label, needs_cosign = "", False
    if signed:
        addenda = [Addendum(a.author_label or "staff", moment_label(a.created_at, time_zone), a.text)
                   for a in session.exec(select(ChartAddendum).where(ChartAddendum.note_id == note.id)
                                         .order_by(ChartAddendum.created_at, ChartAddendum.id))]
        cosign = session.exec(select(ChartCosign).where(ChartCosign.note_id == note.id)).first()
        if cosign is not None:
            cosign_label = (f"Co-signed by {cosign.cosigned_by_label or 'the medical director'}, "
                            f"{moment_label(cosign.created_at, time_zone)}"
                            + (f": {cosign.comment}" if cosign.comment else ""))
        needs_cosign = cosign is None and note.prescriber_order_id is not None
    return {"order_label": label, "order_problem": problem, "addenda": addenda, "cosign_label": cosign_label,
            "needs_cosign": needs_cosign}


__all__ = ["Addendum", "moment_label", "note_extras", "ALL_SCOPE", "LICENCES", "ORDER_CATEGORIES", "OrderCheck", "PRESCRIBER_LICENCES", "check_order",
           "is_prescriber", "order_default", "order_label", "product_scopes", "scope_matches", "signer_problem", "staff_label",
           "valid_order"]
