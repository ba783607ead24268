"""Use cases of who may treat and sign (issue 18), one transaction each (see clinical/actions.py
for the conventions): addenda, co-sign and the review queue (clinical/chart_review.py), a
prescriber's exam/order (clinical/prescriber_orders.py), the owner's licence and signing
settings (clinical/signing_admin.py). Keyword-only extras: `clock`, `engine`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.clinical.chart_review import ReviewItem, add_addendum, cosign_chart, review_queue
from medspa.domain.clinical.prescriber_orders import client_orders, order_scopes, record_order
from medspa.domain.clinical.service import Chart, _visit, get_chart
from medspa.domain.clinical.signing import is_prescriber
from medspa.domain.clinical.signing_admin import (
    SigningSettings,
    StaffLicence,
    set_licence,
    set_signing_settings,
    signing_settings,
    staff_licences,
)
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import StaffMember
from medspa.domain.work import atomic, now_of

__all__ = ["do_add_addendum", "do_cosign_chart", "do_record_order", "do_set_licence", "do_set_signing_settings",
           "fetch_client_orders", "fetch_licences", "fetch_order_scopes", "fetch_reviews", "fetch_signing_settings"]


def do_add_addendum(actor: Actor, appointment_id: int, text: str, *, clock: Clock | None = None,
                    engine: Engine | None = None) -> Chart:
    """Add an addendum under the signed chart. Raises NotFound, ValidationFailed {"addendum"}, ChartLocked."""
    with atomic(actor.org_id, engine=engine) as work:
        return add_addendum(work.session, actor, appointment_id, text, now_of(clock))


def do_cosign_chart(actor: Actor, appointment_id: int, comment: str = "", *, clock: Clock | None = None,
                    engine: Engine | None = None) -> Chart:
    """Co-sign the signed chart (the medical director). Raises NotFound, ChartLocked, ValidationFailed."""
    with atomic(actor.org_id, engine=engine) as work:
        return cosign_chart(work.session, actor, appointment_id, comment, now_of(clock))


def fetch_reviews(actor: Actor, *, clock: Clock | None = None, engine: Engine | None = None) -> list[ReviewItem]:
    """The medical director's queue (audited per client). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return review_queue(work.session, actor, now_of(clock))


def fetch_order_scopes(actor: Actor, *, clock: Clock | None = None, engine: Engine | None = None) -> list[str]:
    """What an order the actor records may cover: "all" and the clinic's service categories (no
    health data); [] when the actor is no prescriber (the chart then offers no exam form)."""
    with atomic(actor.org_id, engine=engine) as work:
        staff = work.session.get(StaffMember, actor.staff_id) if actor.staff_id else None
        return order_scopes(work.session) if is_prescriber(staff) else []


def do_record_order(actor: Actor, appointment_id: int, scope: str, examined_on: date, note: str, *,
                    clock: Clock | None = None, engine: Engine | None = None) -> Chart:
    """From the chart: the acting prescriber records the visit's client's exam (valid 12 months)
    and gets the chart back (now resting on it). Raises NotFound, ValidationFailed."""
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        row = _visit(work.session, actor, appointment_id, "chart.write")
        record_order(work.session, actor, row[2].id, scope=scope, examined_on=examined_on, valid_until=None,
                     note=note, time_zone=row[4].time_zone, now=now)
        return get_chart(work.session, actor, appointment_id, now)


def fetch_client_orders(actor: Actor, client_id: int, time_zone: str, *, clock: Clock | None = None,
                        engine: Engine | None = None):
    """The client's orders (chart.read; audited). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return client_orders(work.session, actor, client_id, time_zone, now_of(clock))


def fetch_signing_settings(actor: Actor, *, engine: Engine | None = None) -> SigningSettings:
    """The owner's signing settings. Raises NotFound (not clinic.manage)."""
    with atomic(actor.org_id, engine=engine) as work:
        return signing_settings(work.session, actor)


def do_set_signing_settings(actor: Actor, covering_may_sign: bool, medical_director_id: int | None, *,
                            clock: Clock | None = None, engine: Engine | None = None) -> SigningSettings:
    """Change them (audited). Raises NotFound, ValidationFailed."""
    with atomic(actor.org_id, engine=engine) as work:
        return set_signing_settings(work.session, actor, covering_may_sign=covering_may_sign,
                                    medical_director_id=medical_director_id, now=now_of(clock))


def do_set_licence(actor: Actor, staff_id: int, licence: str, *, clock: Clock | None = None,
                   engine: Engine | None = None) -> str:
    """Record a staff member's licence (the owner); returns it. Raises NotFound, ValidationFailed."""
    with atomic(actor.org_id, engine=engine) as work:
        return set_licence(work.session, actor, staff_id, licence, now_of(clock)).licence


def fetch_licences(actor: Actor, *, engine: Engine | None = None) -> list[StaffLicence]:
    """The clinical staff with their licences (staff.manage). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return staff_licences(work.session, actor)
