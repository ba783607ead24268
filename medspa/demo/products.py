"""Demo product catalog (issue 18): the injectables a med spa stocks, with lots (one expired,
one low on stock) and one Botox vial opened this morning, so /settings > Products, the chart's
product / lot / vial selects and /recall show something on first run.

Made through the real services (domain/clinical/inventory.py) as the demo owner and nurse, so
every step is audited like one made in the app."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from medspa.domain.clinical.inventory import ProductInput, open_vial, receive_lot, save_product
from medspa.domain.clinical.product_models import Product
from medspa.domain.identity.actor import Actor

# (name, manufacturer, category, unit, units per vial, beyond-use hours, low stock at,
#  lots: (number, days to expiry (negative: expired), quantity))
CATALOG = (
    ("Botox", "Allergan", "neuromodulator", "units", "100", "24", "100",
     (("C3709C3", 210, "400"), ("C2954C2", -12, "100"))),
    ("Dysport", "Galderma", "neuromodulator", "units", "300", "24", "300", (("DY1742", 300, "900"),)),
    ("Xeomin", "Merz", "neuromodulator", "units", "100", "24", "200", (("XM8821", 400, "200"),)),  # low
    ("Juvéderm Voluma", "Allergan", "filler", "mL", "", "", "2", (("VB21A4", 500, "10"),)),
    ("Restylane Lyft", "Galderma", "filler", "mL", "", "", "2", (("RL0931", 450, "8"),)),
    ("Sculptra", "Galderma", "biostimulator", "vials", "", "", "2", (("SC5530", 600, "6"),)),
)


def seed_products(session: Session, now: datetime, owner: Actor, provider: Actor) -> int:
    """The CATALOG with its lots (an expired lot is received back when it was still good) and a
    Botox vial opened two hours before `now` with 2.5 mL; returns the products added (0 when
    the clinic already has a catalog)."""
    if session.exec(select(Product.id).limit(1)).first() is not None:
        return 0
    first_lot = None
    for name, maker, category, unit, per_vial, hours, low, lots in CATALOG:
        pid = save_product(session, owner, None, ProductInput(name, maker, category, unit, per_vial, hours, low),
                           now - timedelta(days=200))
        for number, days, quantity in lots:
            expires = (now + timedelta(days=days)).date()
            received = now + timedelta(days=min(days, 0) - 30)
            lot_id = receive_lot(session, owner, pid, number, expires, quantity, received)
            if first_lot is None:
                first_lot = lot_id
    open_vial(session, provider, first_lot, "2.5", now - timedelta(hours=2))
    return len(CATALOG)
