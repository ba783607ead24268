"""Use cases of the product catalog, lots, vials, the chart's product choices and lot recall:
one transaction each.

Callers: the Products tab of /settings and /products (features/inventory), the chart page's line
rows (features/charting) and the recall screen /recall (features/recall). The services check
the permission (missing and forbidden look alike: NotFound) and write the audit rows in the
transaction; the recall reads commit too (each client listed is an audited read).

Keyword-only extras: `clock` (default: the app clock), `engine` (tests pass theirs).
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.clinical import inventory, inventory_chart, recall
from medspa.domain.clinical.inventory import ProductInfo, ProductInput, VialInfo
from medspa.domain.clinical.inventory_chart import ProductChoice
from medspa.domain.clinical.recall import LotRef, Recall
from medspa.domain.clinical.service import NOT_CHARTABLE
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.models import Appointment
from medspa.domain.work import atomic, now_of

__all__ = ["do_open_vial", "do_receive_lot", "do_save_product", "do_set_product_active", "fetch_chart_products",
           "fetch_lot_recall", "fetch_products", "fetch_recall_csv", "find_recall_lots"]


def fetch_products(actor: Actor, *, clock: Clock | None = None, engine: Engine | None = None) -> list[ProductInfo]:
    """The catalog with lots, stock and recent vials (product.read). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return inventory.list_products(work.session, actor, now_of(clock))


def do_save_product(actor: Actor, product_id: int | None, data: ProductInput, *, clock: Clock | None = None,
                    engine: Engine | None = None) -> int:
    """Add (product_id None) or change a product; returns its id (product.manage, audited).
    Raises NotFound, ValidationFailed keyed by ProductInput's fields ("low_stock", ...)."""
    with atomic(actor.org_id, engine=engine) as work:
        return inventory.save_product(work.session, actor, product_id, data, now_of(clock))


def do_set_product_active(actor: Actor, product_id: int, active: bool, *, clock: Clock | None = None,
                          engine: Engine | None = None) -> None:
    """Archive or bring back a product (product.manage, audited). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        inventory.set_product_active(work.session, actor, product_id, active, now_of(clock))


def do_receive_lot(actor: Actor, product_id: int, lot_number: str, expires_on: str, quantity: str, *,
                   clock: Clock | None = None, engine: Engine | None = None) -> int:
    """Receive a lot ("YYYY-MM-DD" expiry, quantity as text in the product's unit); returns its id.
    product.manage, audited. Raises NotFound, ValidationFailed ("lot_number", "expires_on", "quantity")."""
    with atomic(actor.org_id, engine=engine) as work:
        return inventory.receive_lot(work.session, actor, product_id, lot_number, expires_on, quantity,
                                     now_of(clock))


def do_open_vial(actor: Actor, lot_id: int, diluent_ml: str, *, clock: Clock | None = None,
                 engine: Engine | None = None) -> VialInfo:
    """Open a vial of a lot now with `diluent_ml` ("2.5") mL: units per mL and beyond-use time
    (vial.open, audited). Raises NotFound, ValidationFailed ("diluent", "lot")."""
    with atomic(actor.org_id, engine=engine) as work:
        return inventory.open_vial(work.session, actor, lot_id, diluent_ml, now_of(clock))


def fetch_chart_products(actor: Actor, appointment_id: int, *, engine: Engine | None = None) -> list[ProductChoice]:
    """What the visit's chart lines may pick (inventory.chartable_products at the visit's start
    and end in its location's zone). chart.write. Raises NotFound (also a hold, or forbidden)."""
    if not actor.can("chart.write") or isinstance(appointment_id, bool) or not isinstance(appointment_id, int):
        raise NotFound("chart")
    with atomic(actor.org_id, engine=engine) as work:
        appt = work.session.get(Appointment, appointment_id)
        if appt is None or appt.org_id != actor.org_id or appt.status in NOT_CHARTABLE or appt.client_id is None:
            raise NotFound("chart")
        location = work.session.get(Location, appt.location_id)
        return inventory_chart.chartable_products(work.session, appt.start_at, location.time_zone, appt.end_at)


def find_recall_lots(actor: Actor, *, product_id: int | None = None, number: str = "",
                     engine: Engine | None = None) -> list[LotRef]:
    """Lots by number (contains, any case) and/or product, for the recall screen (recall.read).
    Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return recall.find_lots(work.session, actor, product_id=product_id, number=number)


def fetch_lot_recall(actor: Actor, lot_id: int, *, clock: Clock | None = None,
                     engine: Engine | None = None) -> Recall:
    """The clients who received the lot (recall.read; one audit row per client). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return recall.lot_recall(work.session, actor, lot_id, now_of(clock))


def fetch_recall_csv(actor: Actor, lot_id: int, *, clock: Clock | None = None,
                     engine: Engine | None = None) -> tuple[str, bytes]:
    """(file name, CSV bytes) of the lot's recall list for rx.download; the "recall.export"
    audit rows are committed before a byte leaves. Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return recall.recall_csv(work.session, actor, lot_id, now_of(clock))
